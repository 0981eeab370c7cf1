"""Train an MNIST MLP with mlcourse and report throughput against the matmul ceiling.

    python benchmarks/mnist_mlp.py [--sizes 784-1000-10] [--epochs 5] [--batch-size 100]
                                   [--lr 0.1] [--dtype float32] [--threads N] [--compare torch]

The default is the source assignment's seed comparison: 784-1000-10 ReLU, softmax
cross-entropy, plain SGD with learning rate 0.1, batch 100, 5 epochs, full MNIST
(``--sizes 784-1000-1000-10`` for the deeper variant).

Prints training samples/s, the achieved GFLOP/s of the whole training step (forward,
backward, optimizer, batching, Python overhead), the GFLOP/s of bare float32 sgemm calls
of the same sizes (the ceiling: no NumPy/BLAS code can beat it), and the test accuracy.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from _common import add_threads_arg, apply_threads, load_avg, sgemm_seconds

from mlcourse import data, nn
from mlcourse.optim import SGD
from mlcourse.train import fit


def flops_per_sample(sizes: list[int]) -> int:
    """Training FLOPs per sample: forward x@W (2·in·out) + backward dW and dx (2 × 2·in·out),
    less the first layer's dx, which fit() does not compute (nothing uses it)."""
    return sum(6 * a * b for a, b in zip(sizes[:-1], sizes[1:])) - 2 * sizes[0] * sizes[1]


def run_torch(args, X, y, X_te, y_te) -> float | None:
    """The same MLP and loop in PyTorch (CPU), for comparison."""
    try:
        import torch
    except ImportError:
        print("\n--compare torch: PyTorch is not installed here; skipping the comparison "
              "(the course does not need it).")
        return None
    torch.manual_seed(0)
    dt = torch.float32 if args.dtype == "float32" else torch.float64
    layers = []
    for a, b in zip(args.sizes[:-1], args.sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).to(dt)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X).to(dt), torch.from_numpy(y)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        order = torch.from_numpy(rng.permutation(len(X)))
        for i in range(0, len(X), args.batch_size):
            idx = order[i:i + args.batch_size]
            opt.zero_grad()
            loss_fn(model(Xt[idx]), yt[idx]).backward()
            opt.step()
    secs = time.perf_counter() - t0
    with torch.no_grad():
        acc = (model(torch.from_numpy(X_te).to(dt)).argmax(1).numpy() == y_te).mean()
    print(f"\nPyTorch {torch.__version__} (threads {torch.get_num_threads()}): "
          f"{len(X) * args.epochs / secs:,.0f} samples/s, test accuracy {acc:.4f}")
    return secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=lambda t: [int(v) for v in t.split("-")], default=[784, 1000, 10],
                    help="layer sizes, e.g. 784-1000-1000-10 (default 784-1000-10)")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.1, help="SGD learning rate")
    ap.add_argument("--n", type=int, default=None, help="training images (default: all 60,000)")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--compare", choices=["torch"], default=None)
    add_threads_arg(ap)
    args = ap.parse_args()
    print(apply_threads(args.threads), "|", load_avg())

    dtype = np.dtype(args.dtype)
    X, y = data.load_mnist("train", n=args.n, dtype=dtype)
    X_te, y_te = data.load_mnist("test", dtype=dtype)
    sizes = args.sizes
    layers: list = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [nn.Dense(a, b, rng=i, dtype=dtype), nn.ReLU()]
    model = nn.Sequential(layers[:-1])
    t0 = time.perf_counter()
    fit(model, nn.CrossEntropyLoss(), SGD(args.lr), X, y, epochs=args.epochs,
        batch_size=args.batch_size, progress=False)
    secs = time.perf_counter() - t0
    acc = float(np.mean(model.predict(X_te).argmax(1) == y_te))

    samples = len(X) * args.epochs
    achieved = flops_per_sample(sizes) * samples / secs / 1e9
    # Ceiling: the same matmuls as one training step (forward x@W, backward x.T@g and g@W.T),
    # timed alone in this dtype — everything else (bias, ReLU, softmax, SGD, Python) is overhead.
    b = args.batch_size
    step = sum(sgemm_seconds(b, i, o, dtype) + sgemm_seconds(i, b, o, dtype)
               + (sgemm_seconds(b, o, i, dtype) if layer else 0.0)  # no dx for the first layer
               for layer, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])))
    ceiling = flops_per_sample(sizes) * b / step / 1e9
    big = sgemm_seconds(4096, 784, sizes[1], dtype)
    print(f"MLP {'-'.join(map(str, sizes))}, {args.dtype}, batch {b}, SGD lr {args.lr}, "
          f"{args.epochs} epochs × {len(X):,} images")
    print(f"  training time        {secs:8.2f} s   ({secs / args.epochs:.2f} s/epoch)")
    print(f"  throughput           {samples / secs:10,.0f} samples/s")
    print(f"  achieved             {achieved:8.1f} GFLOP/s (whole training step)")
    print(f"  sgemm ceiling        {ceiling:8.1f} GFLOP/s (bare matmuls of the same sizes, batch {b})")
    print(f"  → {100 * achieved / ceiling:.0f} % of the ceiling "
          f"(large (4096×784)@(784×{sizes[1]}) sgemm: {2 * 4096 * 784 * sizes[1] / big / 1e9:.1f} GFLOP/s)")
    print(f"  test accuracy        {acc:.4f}")
    if args.compare == "torch":
        torch_secs = run_torch(args, X, y, X_te, y_te)
        if torch_secs:
            print(f"  mlcourse time / PyTorch time = {secs / torch_secs:.2f} (target ≤ 0.9)")


if __name__ == "__main__":
    main()
