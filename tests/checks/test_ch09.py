"""Chapter 09 checks: realistic mistakes fail with a message naming them."""
from __future__ import annotations

import numpy as np

from tests.support import fails_with, load_solution_functions, passes, solution_variant

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


# --- layer_shapes: shapes and parameter counts ------------------------------------------------

def _layer_shapes(conv_bias=True, dense_bias=True, pad=True, division="floor", pool_params=False,
                  channels_last=False, conv_channels=True, per_position=False):
    def layer_shapes(spec, input_shape):
        rows, (c, h, w) = [], input_shape
        flat = None
        for layer in spec:
            n_params = 0
            if layer[0] in ("conv", "pool"):
                k, s = layer[2:4] if layer[0] == "conv" else layer[1:3]
                p = layer[4] if layer[0] == "conv" and pad else 0
                if division == "floor":
                    h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
                elif division == "ceil":
                    h, w = -(-(h + 2 * p - k) // s) + 1, -(-(w + 2 * p - k) // s) + 1
                else:
                    h, w = (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1
                if layer[0] == "conv":
                    f = layer[1]
                    n_params = f * (c if conv_channels else 1) * k * k + (f if conv_bias else 0)
                    n_params *= (h * w) if per_position else 1
                    c = f
                elif pool_params:
                    n_params = c * k * k
            elif layer[0] == "flatten":
                flat = c * h * w
            elif layer[0] == "dense":
                n_params = flat * layer[1] + (layer[1] if dense_bias else 0)
                flat = layer[1]
            shape = (flat,) if flat is not None else ((h, w, c) if channels_last else (c, h, w))
            rows.append((shape, n_params))
        return rows
    return layer_shapes


def test_layer_shapes_right_version_passes_and_the_catalogue_fails_with_its_cause():
    passes("layer_shapes", _layer_shapes())
    fails_with("layer_shapes", _layer_shapes(conv_bias=False), "layer 0 ('conv'", "the biases are missing")
    fails_with("layer_shapes", _layer_shapes(dense_bias=False), "('dense', 10 units)", "the biases are missing")
    fails_with("layer_shapes", _layer_shapes(pad=False), "output shape", "the padding was ignored")
    fails_with("layer_shapes", _layer_shapes(division="true"), "not whole numbers", "rounded down")
    fails_with("layer_shapes", _layer_shapes(division="ceil"), "rounded up")
    fails_with("layer_shapes", _layer_shapes(pool_params=True), "layer 2 ('pool'", "a pool layer has no parameters")
    fails_with("layer_shapes", _layer_shapes(channels_last=True), "channels-last (H, W, C)")
    fails_with("layer_shapes", _layer_shapes(conv_channels=False), "each filter spans all C input channels")
    fails_with("layer_shapes", _layer_shapes(per_position=True), "weight sharing")
    fails_with("layer_shapes", lambda spec, shape: [((8, 28, 28), 80)], "got 1 (shape, parameters) pairs for a spec of 5")


# --- cnn_loss: the student's own CNN ------------------------------------------------------------

def _cnn_loss(loss_sum=False, d_scores_sum=False, relu_mask="z1", pool_input="a1", flat_p1=False, dW2_transposed=False,
              pool_spread=False):
    conv, conv_back = SOL["conv2d_im2col"], SOL["conv2d_backward"]
    pool, pool_back = SOL["maxpool_forward"], SOL["maxpool_backward"]

    def cnn_loss(params, X, y=None):
        n = len(X)
        z1 = conv(X, params["W1"], params["b1"], 1, 1)
        a1 = np.maximum(z1, 0)
        p1 = pool(a1, 2, 2)
        flat = p1.reshape(n, -1)
        scores = flat @ params["W2"] + params["b2"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -logp[np.arange(n), y].sum() if loss_sum else -logp[np.arange(n), y].mean()
        d = np.exp(logp)
        d[np.arange(n), y] -= 1
        d = d if d_scores_sum else d / n
        g = {"scores": d, "W2": d.T @ flat if dW2_transposed else flat.T @ d, "b2": d.sum(axis=0)}
        d_flat = d @ params["W2"].T
        g["p1"] = d_flat if flat_p1 else d_flat.reshape(p1.shape)
        if pool_spread:  # average pooling's backward pass
            g["a1"] = np.repeat(np.repeat(d_flat.reshape(p1.shape), 2, axis=2), 2, axis=3) / 4
        else:
            g["a1"] = pool_back(d_flat.reshape(p1.shape), a1 if pool_input == "a1" else z1, 2, 2)
        g["z1"] = {"z1": g["a1"] * (z1 > 0), "none": g["a1"], "grad": np.maximum(g["a1"], 0)}[relu_mask]
        _, g["W1"], g["b1"] = conv_back(g["z1"], X, params["W1"], 1, 1)
        return float(loss), g
    return cnn_loss


def test_cnn_loss_right_versions_pass():
    passes("cnn_loss", _cnn_loss())
    # Routing the pooling gradient by z1 instead of a1 differs only in windows the ReLU zeroed:
    # the same gradients once the ReLU's mask is applied, so it must not be called wrong.
    passes("cnn_loss", _cnn_loss(pool_input="z1"))


def test_cnn_loss_mistakes_name_the_first_wrong_layer():
    fails_with("cnn_loss", _cnn_loss(loss_sum=True), "the sum over the", "the loss is their mean")
    fails_with("cnn_loss", _cnn_loss(d_scores_sum=True), "grads['scores']", "N times too large",
               "the softmax cross-entropy")
    fails_with("cnn_loss", _cnn_loss(dW2_transposed=True), "grads['W2']", "the dense layer")
    fails_with("cnn_loss", _cnn_loss(flat_p1=True), "grads['p1']", "still flat", "the dense layer and the flatten")
    fails_with("cnn_loss", _cnn_loss(pool_spread=True), "grads['a1']", "The first wrong layer is the max-pooling",
               "d_p1 and everything above it are right")
    fails_with("cnn_loss", _cnn_loss(relu_mask="none"), "grads['z1']", "it equals d_a1", "the ReLU")
    fails_with("cnn_loss", _cnn_loss(relu_mask="grad"), "grads['z1']", "max(0, d_a1)", "the ReLU")


def test_cnn_loss_shape_and_contract_mistakes():
    right = _cnn_loss()
    fails_with("cnn_loss", lambda params, X, y=None: right(params, X, y if y is not None else np.zeros(len(X), int)),
               "without labels returned tuple")

    def no_intermediates(params, X, y=None):
        out = right(params, X, y)
        return out if y is None else (out[0], {k: v for k, v in out[1].items() if k in ("W1", "b1", "W2", "b2")})
    fails_with("cnn_loss", no_intermediates, "grads has no 'scores', 'p1', 'a1', 'z1'")

    def updates_params(params, X, y=None):
        out = right(params, X, y)
        if y is not None:
            params["W1"] -= 0.1 * out[1]["W1"]
        return out
    fails_with("cnn_loss", updates_params, "changed the params it was given")


def test_cnn_loss_reference_gradients_match_numerical_gradients():
    """The check's expected parameter gradients are the loss's numerical gradients (not just a second
    implementation agreeing with the first)."""
    from mlcourse.checks import get_check
    from mlcourse.gradcheck import numerical_gradient, rel_error

    for case in get_check("cnn_loss").make_cases(0):
        params, X, y = case.args
        for name in ("W1", "b1", "W2", "b2"):
            p = {k: v.copy() for k, v in params.items()}
            numeric = numerical_gradient(lambda _: _cnn_loss()(p, X, y)[0], p[name])
            assert rel_error(case.expected["grads"][name], numeric) < 1e-6, name


def test_own_cnn_equals_the_library_cnn_on_the_same_weights():
    from mlcourse import nn

    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((5, 1, 8, 8)), rng.integers(0, 10, 5)
    model = nn.Sequential([nn.Conv2D(1, 4, kernel_size=3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2D(2),
                           nn.Flatten(), nn.Dense(4 * 4 * 4, 10, rng=1)])
    model[0].params["b"][:] = rng.standard_normal(4)
    params = {"W1": model[0].params["W"], "b1": model[0].params["b"], "W2": model[4].params["W"],
              "b2": model[4].params["b"]}
    loss, grads = SOL["cnn_loss"](params, X, y)
    ce = nn.CrossEntropyLoss()
    scores = model.forward(X, training=True)
    np.testing.assert_allclose(SOL["cnn_loss"](params, X), scores, rtol=1e-10)
    assert np.isclose(loss, ce.forward(scores, y))
    model.backward(ce.backward())
    for mine, i, name in (("W1", 0, "W"), ("b1", 0, "b"), ("W2", 4, "W"), ("b2", 4, "b")):
        np.testing.assert_allclose(grads[mine], model[i].grads[name], rtol=1e-8, atol=1e-12)


# --- train_my_cnn ------------------------------------------------------------------------------

def test_train_my_cnn_mistakes():
    def untrained(X, y, seed=0):
        rng = np.random.default_rng(seed)
        return {"W1": rng.standard_normal((8, 1, 3, 3)) * 0.3, "b1": np.zeros(8),
                "W2": rng.standard_normal((8 * 14 * 14, 10)) * 0.03, "b2": np.zeros(10)}
    fails_with("train_my_cnn", untrained, "below 87%", "is the training loss going down?")

    def diverges(X, y, seed=0):
        params = untrained(X, y, seed)
        params["W2"][:] = np.inf
        return params
    fails_with("train_my_cnn", diverges, "NaN/inf", "diverged")
    fails_with("train_my_cnn", lambda X, y, seed=0: (untrained(X, y, seed), []), "returned tuple", "a dict")
    fails_with("train_my_cnn", lambda X, y, seed=0: {k: v.T for k, v in untrained(X, y, seed).items()},
               "params['W1'] has shape (3, 3, 1, 8)")


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
    m = fails_with("im2col", _wrong("im2col", ("for i in range(oh):", "for i in range(oh - 1):"),
                                    ("cols = np.empty(", "cols = np.zeros(")))  # no allocator-dependent rows
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
        # np.zeros: a row np.empty never wrote holds whatever memory was freed last, which can equal
        # a hypothesis's row by chance and make the message depend on the allocator
        ((("for i in range(oh):", "for i in range(oh - 1):"), ("out = np.empty(", "out = np.zeros(")),
         "only the last output row"),
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
