"""Chapter 09 checks: realistic mistakes fail with a message naming them."""
from __future__ import annotations

import numpy as np

from tests.support import fails_with, load_solution_functions, solution_variant

SOL = load_solution_functions("09")


def test_solution_matches_the_library():
    """The notebook's functions and mlcourse.conv agree (same im2col layout, same tie rule)."""
    from mlcourse.conv import Conv2D, MaxPool2D, im2col

    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 7, 6))
    np.testing.assert_allclose(SOL["im2col"](x, 3, 2, 2, 1), im2col(x, 3, 2, 2, 1))
    conv = Conv2D(3, 4, 3, stride=2, padding=1, rng=0)
    conv.params["b"][:] = rng.standard_normal(4)
    W, b = conv.params["W"], conv.params["b"]
    np.testing.assert_allclose(SOL["conv2d_im2col"](x, W, b, 2, 1), conv(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(SOL["conv2d_naive"](x, W, b, 2, 1), conv(x), rtol=1e-10, atol=1e-12)
    G = rng.standard_normal(conv(x).shape)
    dx, dW, db = SOL["conv2d_backward"](G, x, W, 2, 1)
    np.testing.assert_allclose(dx, conv.backward(G), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dW, conv.grads["W"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db, conv.grads["b"], rtol=1e-10, atol=1e-12)
    xt = rng.integers(0, 3, (2, 2, 6, 6)).astype(float)  # ties: both send the gradient to the first max
    for size, stride in [(2, 2), (3, 1)]:
        pool = MaxPool2D(size, stride)
        out = pool(xt)
        np.testing.assert_array_equal(SOL["maxpool_forward"](xt, size, stride), out)
        G = rng.standard_normal(out.shape)
        np.testing.assert_allclose(SOL["maxpool_backward"](G, xt, size, stride), pool.backward(G))


def test_conv_float32_stays_float32():
    x = np.ones((1, 1, 5, 5), np.float32)
    W, b = np.ones((2, 1, 3, 3), np.float32), np.zeros(2, np.float32)
    assert SOL["conv2d_naive"](x, W, b, 1, 1).dtype == np.float32
    assert SOL["conv2d_im2col"](x, W, b, 1, 1).dtype == np.float32


# --- wrong convolutions --------------------------------------------------------------------

def _naive(flip=False, bias=True, pad=True, window_step=None, use_stride_in_size=True):
    def conv2d_naive(x, W, b, stride=1, padding=0):
        p = padding if pad else 0
        s_out = stride if use_stride_in_size else 1
        n, c, h, w = x.shape
        f, _, kh, kw = W.shape
        oh, ow = (h + 2 * p - kh) // s_out + 1, (w + 2 * p - kw) // s_out + 1
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        K = W[:, :, ::-1, ::-1] if flip else W
        step = stride if window_step is None else window_step
        out = np.zeros((n, f, oh, ow))
        for m in range(n):
            for k in range(f):
                for i in range(oh):
                    for j in range(ow):
                        win = xp[m, :, i * step:i * step + kh, j * step:j * step + kw]
                        out[m, k, i, j] = np.sum(win * K[k]) + (b[k] if bias else 0)
        return out
    return conv2d_naive


def test_conv2d_naive_mistakes():
    assert "kernel flipped" in fails_with("conv2d_naive", _naive(flip=True))
    assert "no bias" in fails_with("conv2d_naive", _naive(bias=False))
    m = fails_with("conv2d_naive", _naive(pad=False))
    assert "padding was ignored" in m and "np.pad" in m
    assert "starts at (i·stride, j·stride)" in fails_with("conv2d_naive", _naive(window_step=1))
    assert "stride was ignored" in fails_with("conv2d_naive", _naive(use_stride_in_size=False, window_step=1))


def test_conv2d_naive_crash_is_reported_on_one_line():
    def bad(x, W, b, stride=1, padding=0):
        return x @ W  # shapes do not fit

    m = fails_with("conv2d_naive", bad)
    assert "raised ValueError" in m and "x @ W" in m


def _im2col(channel_last=False, position_first=False, pad=True, transpose=False, four_d=False):
    def im2col(x, kh, kw, stride=1, padding=0):
        p = padding if pad else 0
        n, c, h, w = x.shape
        oh, ow = (h + 2 * p - kh) // stride + 1, (w + 2 * p - kw) // stride + 1
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        cols = np.empty((n, oh, ow, c * kh * kw))
        for i in range(oh):
            for j in range(ow):
                win = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                cols[:, i, j] = (win.transpose(0, 2, 3, 1) if channel_last else win).reshape(n, -1)
        if four_d:
            return cols
        if position_first:
            cols = cols.transpose(1, 2, 0, 3)
        out = cols.reshape(-1, c * kh * kw)
        return out.T if transpose else out
    return im2col


def test_im2col_mistakes():
    m = fails_with("im2col", _im2col(channel_last=True))
    assert "wrong order" in m and "(c, p, q)" in m
    assert "image first, then position" in fails_with("im2col", _im2col(position_first=True))
    assert "padding was ignored" in fails_with("im2col", _im2col(pad=False))
    assert "did you transpose?" in fails_with("im2col", _im2col(transpose=True))
    assert "expected the 2-D" in fails_with("im2col", _im2col(four_d=True))


def _conv_im2col(finish):
    im2col = SOL["im2col"]

    def conv2d_im2col(x, W, b, stride=1, padding=0):
        n, _, h, w = x.shape
        f, _, kh, kw = W.shape
        oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
        return finish(im2col(x, kh, kw, stride, padding), W, b, (n, f, oh, ow))
    return conv2d_im2col


def test_conv2d_im2col_mistakes():
    def reshape_only(cols, W, b, shape):
        return (cols @ W.reshape(shape[1], -1).T + b).reshape(shape)

    m = fails_with("conv2d_im2col", _conv_im2col(reshape_only))
    assert "scrambled values" in m and "transpose(0, 3, 1, 2)" in m

    def flat(cols, W, b, shape):
        return cols @ W.reshape(shape[1], -1).T + b

    assert "the shape of the matrix product" in fails_with("conv2d_im2col", _conv_im2col(flat))

    def nhwc(cols, W, b, shape):
        n, f, oh, ow = shape
        return (cols @ W.reshape(f, -1).T + b).reshape(n, oh, ow, f)

    assert "move the filter axis forward" in fails_with("conv2d_im2col", _conv_im2col(nhwc))

    def wrong_w_reshape(cols, W, b, shape):
        n, f, oh, ow = shape
        return (cols @ W.reshape(-1, f) + b).reshape(n, oh, ow, f).transpose(0, 3, 1, 2)

    assert "mixes the filters up" in fails_with("conv2d_im2col", _conv_im2col(wrong_w_reshape))

    def no_bias(cols, W, b, shape):
        n, f, oh, ow = shape
        return (cols @ W.reshape(f, -1).T).reshape(n, oh, ow, f).transpose(0, 3, 1, 2)

    assert "no bias" in fails_with("conv2d_im2col", _conv_im2col(no_bias))


# --- wrong backward passes -----------------------------------------------------------------

def _backward(crop=True, accumulate=True, db_mode="sum", dW_scale=1.0):
    im2col = SOL["im2col"]

    def conv2d_backward(dout, x, W, stride=1, padding=0):
        n, c, h, w = x.shape
        f, _, kh, kw = W.shape
        _, _, oh, ow = dout.shape
        cols = im2col(x, kh, kw, stride, padding)
        g = dout.transpose(0, 2, 3, 1).reshape(-1, f)
        dW = (g.T @ cols).reshape(W.shape) * dW_scale
        db = {"sum": lambda: dout.sum(axis=(0, 2, 3)), "mean": lambda: dout.mean(axis=(0, 2, 3)),
              "batch": lambda: dout.sum(axis=0)}[db_mode]()
        dcols = (g @ W.reshape(f, -1)).reshape(n, oh, ow, c, kh, kw)
        dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
        for i in range(oh):
            for j in range(ow):
                window = (slice(None), slice(None), slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw))
                if accumulate:
                    dxp[window] += dcols[:, i, j]
                else:
                    dxp[window] = dcols[:, i, j]
        dx = dxp[:, :, padding:padding + h, padding:padding + w] if crop else dxp
        return dx, dW, db
    return conv2d_backward


def test_conv2d_backward_mistakes():
    m = fails_with("conv2d_backward", _backward(crop=False))
    assert "still includes the padding" in m and "crop" in m
    m = fails_with("conv2d_backward", _backward(accumulate=False))
    assert "overlap" in m and "+=" in m
    assert "db is a mean" in fails_with("conv2d_backward", _backward(db_mode="mean"))
    assert "sum dout over axes (0, 2, 3)" in fails_with("conv2d_backward", _backward(db_mode="batch"))
    m = fails_with("conv2d_backward", _backward(dW_scale=0.5))  # dW / N with N = 2 in the first case
    assert "dW is off by a factor of 1/2" in m and "mean where a sum is expected" in m
    m = fails_with("conv2d_backward", lambda dout, x, W, stride=1, padding=0: _backward()(dout, x, W, stride, padding)[1:])
    assert "returned 2 values, expected 3" in m


# --- wrong max pooling ---------------------------------------------------------------------

def _pool_forward(mode="max", step=None, size_as_stride=False):
    def maxpool_forward(x, size=2, stride=2):
        s = size if size_as_stride else stride
        n, c, h, w = x.shape
        oh, ow = (h - size) // s + 1, (w - size) // s + 1
        st = s if step is None else step
        out = np.empty((n, c, oh, ow))
        for i in range(oh):
            for j in range(ow):
                win = x[:, :, i * st:i * st + size, j * st:j * st + size]
                out[:, :, i, j] = win.max(axis=(2, 3)) if mode == "max" else win.mean(axis=(2, 3))
        return out
    return maxpool_forward


def test_maxpool_forward_mistakes():
    assert "averages each window" in fails_with("maxpool_forward", _pool_forward(mode="mean"))
    assert "starts at (i·stride, j·stride)" in fails_with("maxpool_forward", _pool_forward(step=1))
    assert "moved by `size` instead of `stride`" in fails_with("maxpool_forward", _pool_forward(size_as_stride=True))
    assert "clipped at 0" in fails_with("maxpool_forward",
                                     lambda x, size=2, stride=2: np.maximum(SOL["maxpool_forward"](x, size, stride), 0))


def _pool_backward(route="first", accumulate=True):
    def maxpool_backward(dout, x, size=2, stride=2):
        n, c, _, _ = x.shape
        _, _, oh, ow = dout.shape
        dx = np.zeros_like(x)
        for i in range(oh):
            for j in range(ow):
                rows, cols = slice(i * stride, i * stride + size), slice(j * stride, j * stride + size)
                win = x[:, :, rows, cols]
                if route == "all":  # the classic: mask = (window == max)
                    mask = win == win.max(axis=(2, 3), keepdims=True)
                elif route == "spread":
                    mask = np.ones_like(win)
                elif route == "last":
                    flat = win.reshape(n, c, -1)
                    last = size * size - 1 - flat[..., ::-1].argmax(axis=2)
                    mask = (np.arange(size * size) == last[..., None]).reshape(win.shape)
                else:
                    flat = win.reshape(n, c, -1)
                    mask = (np.arange(size * size) == flat.argmax(axis=2)[..., None]).reshape(win.shape)
                g = mask * dout[:, :, i, j, None, None]
                if accumulate:
                    dx[:, :, rows, cols] += g
                else:
                    dx[:, :, rows, cols] = g
        return dx
    return maxpool_backward


def test_maxpool_backward_mistakes():
    m = fails_with("maxpool_backward", _pool_backward(route="all"))
    assert "tie" in m and "np.argmax" in m and "windows with ties" in m
    assert "the last maximum" in fails_with("maxpool_backward", _pool_backward(route="last"))
    m = fails_with("maxpool_backward", _pool_backward(accumulate=False))
    assert "overlap" in m and "+=" in m
    assert "every position of its window" in fails_with("maxpool_backward", _pool_backward(route="spread"))
    assert "the shape of dout" in fails_with("maxpool_backward", lambda dout, x, size=2, stride=2: dout * 1.0)


# --- verified diagnoses added for issue 14 (each wrong version is a planted student bug) -----

def _wrong(name: str, *replacements: tuple[str, str]):
    """The solution's ``name`` with some text changed: one planted student bug."""
    return solution_variant("09", *replacements)[name]


def test_conv2d_naive_size_rule_and_value_hypotheses():
    oh = "oh = (h + 2 * padding - kh) // stride + 1"
    m = fails_with("conv2d_naive", _wrong("conv2d_naive", (oh, "oh = (h + 2 * padding - kh) // stride")))
    assert "OH = 2, expected (H + 2·padding − kh) // stride + 1 = (5 + 2·0 − 3) // 1 + 1 = 3" in m
    assert "2 is what the rule without its + 1" in m
    m = fails_with("conv2d_naive", _wrong("conv2d_naive", (oh, "oh = (h - kh) // stride + 1")))
    assert "OH = 4" in m and "4 is what the rule without the padding gives" in m
    m = fails_with("conv2d_naive", _wrong("conv2d_naive", (oh, "oh = 1")))  # no classic variant gives 1 here
    assert "OH = 1, expected (H + 2·padding − kh) // stride + 1 = (5 + 2·0 − 3) // 1 + 1 = 3 (case" in m
    body = "out[m, k, i, j] = np.sum(window * W[k]) + b[k]"
    cases = {"np.mean(window * W[k]) + b[k]": "averages the window · kernel products",
             "np.sum(window * W[k]) - b[k]": "subtracts the bias",
             "b[k]": "the bias alone",
             "np.sum(window) + b[k]": "does not use the kernel",
             "np.sum(W[k]) + b[k]": "does not use x"}
    for wrong, words in cases.items():
        assert words in fails_with("conv2d_naive", _wrong("conv2d_naive", (body, f"out[m, k, i, j] = {wrong}")))
    m = fails_with("conv2d_naive", _wrong("conv2d_naive", ("((0, 0), (0, 0), (padding", "((1, 0), (0, 0), (padding")))
    assert "out[m] holds the output of image m − 1" in m
    for loop, what in (("range(f)", "last filter"), ("range(oh)", "last output row"), ("range(ow)", "last output column"),
                       ("range(n)", "last image")):
        m = fails_with("conv2d_naive", _wrong("conv2d_naive", (f"in {loop}:", f"in {loop[:-1]} - 1):")))
        assert f"only the {what}" in m and "all 0" in m
    assert "out is all 0" in fails_with("conv2d_naive", _wrong("conv2d_naive", (body, "pass")))


def test_conv2d_im2col_subtracted_bias_is_named():
    m = fails_with("conv2d_im2col", _wrong("conv2d_im2col", ("W.reshape(f, -1).T + b", "W.reshape(f, -1).T - b")))
    assert "subtracts the bias" in m


def test_im2col_row_count_and_last_window_row():
    m = fails_with("im2col", _wrong("im2col", ("oh = (h + 2 * padding - kh) // stride + 1",
                                               "oh = (h + 2 * padding - kh) // stride")))
    assert "cols has 6 rows, expected N·OH·OW = 2·2·3 = 12" in m and "OH = 1, what the rule without its + 1" in m
    m = fails_with("im2col", _wrong("im2col", ("for i in range(oh):", "for i in range(oh - 1):")))
    assert "only the last output row" in m


def test_conv2d_backward_crops_axes_and_loops():
    crop = "dx = dxp[:, :, padding:padding + h, padding:padding + w]"
    m = fails_with("conv2d_backward", _wrong("conv2d_backward", (crop, "dx = dxp[:, :, padding + 1:padding + h, "
                                                                       "padding:padding + w]")))
    assert "dx is rows 1:5, columns 0:5 of the padded input's gradient" in m and "p:p + H = 0:5" in m
    m = fails_with("conv2d_backward", _wrong("conv2d_backward", (crop, "dx = dxp[:, :, padding:h, padding:w]")))
    assert "dx is rows 1:5, columns 1:6" in m and "p:p + H = 1:6" in m  # the case with padding 1
    m = fails_with("conv2d_backward", _wrong("conv2d_backward", (crop, "dx = dxp[:, :, padding:padding, "
                                                                       "padding:padding + w]")))
    assert "it has 0 rows" in m and "pad:-pad" not in m
    m = fails_with("conv2d_backward", _wrong("conv2d_backward", ("dout.sum(axis=(0, 2, 3))", "dout.sum(axis=(0, 3))")))
    assert "it is dout summed over axes (0, 3)" in m
    m = fails_with("conv2d_backward", _wrong("conv2d_backward", ("for i in range(oh):", "for i in range(oh - 1):")))
    assert "last row of output positions" in m and "dout[:, :, 2] = 0" in m
    m = fails_with("conv2d_backward", _wrong("conv2d_backward", ("dout.transpose(0, 2, 3, 1).reshape", "dout.reshape")))
    assert "scrambled dout" in m
    m = fails_with("conv2d_backward", _wrong("conv2d_backward", ("+= dcols[:, i, j]", "+= 0 * dcols[:, i, j]")))
    assert "dx is all 0" in m


def test_conv2d_backward_cases_vary_every_argument():
    from mlcourse.checks.ch09 import _conv_backward_cases

    cases = _conv_backward_cases(np.random.default_rng(0))
    shapes = [(c.args[1].shape, c.args[2].shape, c.args[3], c.args[4]) for c in cases]
    assert {s for _, _, s, _ in shapes} == {1, 2} and {p for *_, p in shapes} == {0, 1}
    assert any(x[0] == 1 for x, *_ in shapes)  # batch of 1
    assert any(W[2] != W[3] for _, W, *_ in shapes)  # a non-square kernel
    assert any((x[2] + 2 * p - W[2]) % s for x, W, s, p in shapes)  # sizes that do not divide evenly


def _expect(name: str, planted: list[tuple[tuple, str]]) -> None:
    """Each (replacements, words): the solution's ``name`` with that bug fails, naming ``words``."""
    for replacements, words in planted:
        assert words in fails_with(name, _wrong(name, *replacements)), replacements


def test_maxpool_forward_window_bounds_and_sizes():
    oh = "oh, ow = (h - size) // stride + 1, (w - size) // stride + 1"
    win = "x[:, :, i * stride:i * stride + size, j * stride:j * stride + size]"
    pool = "out[:, :, i, j] = window.max(axis=(2, 3))"
    _expect("maxpool_forward", [
        (((oh, "oh, ow = (h - size) // stride, (w - size) // stride + 1"),),
         "OH = 1, expected (H − size) // stride + 1 = (4 − 2) // 2 + 1 = 2 — 1 is what the rule without its + 1"),
        (((win, win.replace("i * stride + size", "i * stride + size - 1")),), "rows end one short, i·stride + size − 1"),
        (((win, win.replace("j * stride:", "j:")),), "columns start at j instead of j·stride"),
        (((pool, pool.replace(".max(", ".min(")),), "minimum of each window"),
        (((pool, pool.replace("axis=(2, 3)", "")),), "maximum over all images and channels"),
        ((("for i in range(oh):", "for i in range(oh - 1):"),), "only the last output row"),
        ((("out = np.empty(", "out = 7 + np.zeros("), (pool, "pass")),
         "out[0, 0, 0, 0] = 7 is not a value of its window x[0, 0, 0:2, 0:2] at all"),
    ])


def test_maxpool_backward_masks_and_loops():
    mask = "mask = np.arange(size * size) == first[:, :, None]"
    grad = "(mask * dout[:, :, i, j, None])"
    _expect("maxpool_backward", [
        (((mask, mask.replace("==", "!=")),), "except the maximum — the mask is inverted"),
        ((("window.argmax(axis=2)", "window.argmin(axis=2)"),), "each window's minimum"),
        (((grad, "(mask * 1.0)"),), "holds 1 at each window's maximum instead of that window's dout"),
        ((("for j in range(ow):", "for j in range(ow - 1):"),), "last output column (j = 1) sent no gradient"),
        (((grad, "(0 * mask)"),), "dx is all 0"),
    ])
