"""Convolution speed: a loop over output pixels vs im2col + one matrix product (and MaxPool).

    python benchmarks/conv.py [--batch 64] [--threads N] [--compare torch]

Two layer shapes from the course's MNIST CNNs: 1→8 channels on 28×28 and 8→16 on 14×14,
3×3 kernels, padding 1. Forward and backward are both timed; outputs and gradients of the
two implementations are checked to agree first. ``--compare torch`` (if PyTorch happens to
be installed) times torch.nn.functional.conv2d on the same tensors and prints the ratio.
"""
from __future__ import annotations

import argparse

import numpy as np

from _common import add_threads_arg, apply_threads, best_time, load_avg

from mlcourse.conv import Conv2D, MaxPool2D


def naive_forward(x, W, b, pad):
    """Loop over output pixels; each step is one (N, C·k·k) @ (C·k·k, F) product."""
    n, c, h, w = x.shape
    f, _, k, _ = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    Wm = W.reshape(f, -1).T
    out = np.empty((n, f, oh, ow), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = xp[:, :, i:i + k, j:j + k].reshape(n, -1) @ Wm + b
    return out


def naive_backward(x, W, g, pad):
    """The same loops backwards: accumulate dW, db and scatter dx per output pixel."""
    n, c, h, w = x.shape
    f, _, k, _ = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dW = np.zeros((c * k * k, f), dtype=x.dtype)
    Wm = W.reshape(f, -1)
    for i in range(g.shape[2]):
        for j in range(g.shape[3]):
            gij = g[:, :, i, j]  # (N, F)
            dW += xp[:, :, i:i + k, j:j + k].reshape(n, -1).T @ gij
            dxp[:, :, i:i + k, j:j + k] += (gij @ Wm).reshape(n, c, k, k)
    return dxp[:, :, pad:pad + h, pad:pad + w], dW.T.reshape(W.shape), g.sum(axis=(0, 2, 3))


def torch_times(x, W, b, g) -> tuple[float, float] | None:
    """Best forward and backward seconds of PyTorch's conv2d on the same arrays (None: no torch)."""
    try:
        import torch
    except ImportError:
        return None
    xt = torch.from_numpy(x).requires_grad_()
    Wt, bt = torch.from_numpy(W.copy()).requires_grad_(), torch.from_numpy(b.copy()).requires_grad_()
    gt = torch.from_numpy(g)
    out = torch.nn.functional.conv2d(xt, Wt, bt, padding=1)
    grads = torch.autograd.grad(out, (xt, Wt, bt), gt, retain_graph=True)
    assert np.allclose(grads[0].numpy(), naive_backward(x, W, g, 1)[0], atol=1e-3)

    def forward():
        with torch.no_grad():
            torch.nn.functional.conv2d(xt, Wt, bt, padding=1)

    # Backward alone: replay the gradient through the graph recorded once above.
    backward = lambda: torch.autograd.grad(out, (xt, Wt, bt), gt, retain_graph=True)  # noqa: E731
    return best_time(forward), best_time(backward)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--compare", choices=["torch"], default=None)
    add_threads_arg(ap)
    args = ap.parse_args()
    print(apply_threads(args.threads), "|", load_avg())
    if args.compare == "torch":
        try:
            import torch
            if args.threads:
                torch.set_num_threads(args.threads)
            print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
        except ImportError:
            print("--compare torch: PyTorch is not installed here; skipping the comparison "
                  "(the course does not need it).")
    rng = np.random.default_rng(0)
    for cin, cout, hw in ((1, 8, 28), (8, 16, 14)):
        x = rng.standard_normal((args.batch, cin, hw, hw)).astype(np.float32)
        conv = Conv2D(cin, cout, 3, padding=1, rng=0, dtype=np.float32)
        W, b = conv.params["W"], conv.params["b"]
        out = conv(x)
        g = rng.standard_normal(out.shape).astype(np.float32)
        dx = conv.backward(g)
        ndx, ndW, ndb = naive_backward(x, W, g, 1)
        assert np.allclose(naive_forward(x, W, b, 1), out, atol=1e-4)
        assert np.allclose(ndx, dx, atol=1e-3) and np.allclose(ndW, conv.grads["W"], rtol=1e-3, atol=1e-2)

        t_nf = best_time(lambda: naive_forward(x, W, b, 1), repeat=3)
        t_nb = best_time(lambda: naive_backward(x, W, g, 1), repeat=3)
        t_f = best_time(lambda: conv.forward(x))
        t_b = best_time(lambda: conv.backward(g))
        flops = 2 * out.size * cin * 9
        print(f"Conv2D {cin}→{cout}, 3×3, pad 1, input ({args.batch}, {cin}, {hw}, {hw}), float32")
        print(f"  forward   pixel loop {1e3 * t_nf:8.2f} ms | im2col {1e3 * t_f:7.2f} ms "
              f"({flops / t_f / 1e9:5.1f} GFLOP/s) → speed-up {t_nf / t_f:5.1f}×")
        print(f"  backward  pixel loop {1e3 * t_nb:8.2f} ms | col2im {1e3 * t_b:7.2f} ms "
              f"→ speed-up {t_nb / t_b:5.1f}×")
        print(f"  forward+backward: {args.batch / (t_f + t_b):,.0f} images/s")
        torch_t = torch_times(x, W, b, g) if args.compare == "torch" else None
        if torch_t:
            t_tf, t_tb = torch_t
            print(f"  PyTorch conv2d: forward {1e3 * t_tf:.2f} ms, backward {1e3 * t_tb:.2f} ms → "
                  f"mlcourse time / PyTorch time = {(t_f + t_b) / (t_tf + t_tb):.2f} "
                  f"(forward {t_f / t_tf:.2f}, backward {t_b / t_tb:.2f}; target ≤ 1.0)")
        pool = MaxPool2D(2)
        a = np.maximum(out, 0)
        t_pf = best_time(lambda: pool.forward(a))
        p = pool.forward(a)
        t_pb = best_time(lambda: pool.backward(p))
        print(f"  MaxPool2D(2) on its output: forward {1e3 * t_pf:.2f} ms, backward {1e3 * t_pb:.2f} ms")


if __name__ == "__main__":
    main()
