"""Chapter 04 checks: realistic mistakes fail with a message naming them."""
from __future__ import annotations

import numpy as np

from mlcourse.checks import evaluate, get_check
from tests.support import fails_with, load_solution_functions, passes

SOL = load_solution_functions("04")


def test_xor_settings_solve_xor_for_many_seeds():
    """The grader draws hidden seeds: a correct network must pass for every one of them."""
    chk = get_check("train_xor")
    for seed in range(3, 23):
        result = evaluate(chk, SOL["train_network"], seed=seed)
        assert result.passed, result.message


# --- Dense layer ---------------------------------------------------------------------------

def test_dense_forward_mistakes():
    assert "the bias b is missing" in fails_with("dense_forward", lambda x, W, b: x @ W)
    assert "added, not subtracted" in fails_with("dense_forward", lambda x, W, b: x @ W - b)

    def wrong_order(x, W, b):
        return W @ x + b

    m = fails_with("dense_forward", wrong_order)
    assert "raised ValueError" in m and "W @ x" in m


def test_dense_backward_mistakes():
    m = fails_with("dense_backward", lambda d, x, W: (d @ W.T, d.T @ x, d.sum(0)))
    assert "dW has shape (4, 3), expected (3, 4)" in m and "transpose" in m
    assert "mean where a sum is expected" in fails_with("dense_backward", lambda d, x, W: (d @ W.T, x.T @ d, d.mean(0)))
    assert "sum over the batch axis" in fails_with("dense_backward", lambda d, x, W: (d @ W.T, x.T @ d, d))
    m = fails_with("dense_backward", lambda d, x, W: (d @ W.T, x.T @ d / len(x), d.sum(0)))
    assert "dW is off by a factor of 1/5" in m and "mean where a sum is expected" in m
    assert "returned 2 values, expected 3" in fails_with("dense_backward", lambda d, x, W: (x.T @ d, d.sum(0)))


# --- activation backward -------------------------------------------------------------------

def _act_backward(derivative):
    def backward(dout, z, name):
        return derivative(dout, z, name)
    return backward


def test_activation_backward_mistakes():
    correct = SOL["activation_backward"]

    def no_dout(dout, z, name):
        return correct(np.ones_like(dout), z, name)

    assert "multiply by the upstream gradient" in fails_with("activation_backward", no_dout)

    def tanh_of_z(dout, z, name):
        return dout * (1 - z ** 2) if name == "tanh" else correct(dout, z, name)

    assert "1 − tanh(z)²" in fails_with("activation_backward", tanh_of_z)

    def sigmoid_of_z(dout, z, name):
        return dout * z * (1 - z) if name == "sigmoid" else correct(dout, z, name)

    assert "σ(z)·(1 − σ(z))" in fails_with("activation_backward", sigmoid_of_z)

    def relu_ge(dout, z, name):
        return dout * (z >= 0) if name == "relu" else correct(dout, z, name)

    assert "wrong only where z == 0" in fails_with("activation_backward", relu_ge)

    def forward_instead(dout, z, name):
        return dout * SOL["activation_forward"](z, name)

    assert "use the derivative f'(z)" in fails_with("activation_backward", forward_instead)


# --- init_network ----------------------------------------------------------------------------

def _init(draw, bias=np.zeros, keys=lambda l: (f"W{l}", f"b{l}"), rng_of=np.random.default_rng):
    def init_network(sizes, seed=0):
        rng = rng_of(seed)
        params = {}
        for l, (i, o) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            kw, kb = keys(l)
            params[kw] = draw(rng, i, o)
            params[kb] = bias(o)
        return params
    return init_network


def test_init_network_mistakes():
    he = lambda rng, i, o: rng.standard_normal((i, o)) * np.sqrt(2 / i)  # noqa: E731
    m = fails_with("init_network", _init(lambda rng, i, o: rng.standard_normal((i, o))))
    assert "standard deviation" in m and "sqrt(2 / fan_in)" in m
    m = fails_with("init_network", _init(lambda rng, i, o: rng.standard_normal((i, o)) * np.sqrt(2 / (i + o))))
    assert "W1 has standard deviation" in m and "He initialisation" in m
    assert "centred at 0" in fails_with("init_network", _init(lambda rng, i, o: rng.random((i, o))))
    assert "all entries of W1 are equal" in fails_with("init_network", _init(lambda rng, i, o: np.zeros((i, o))))
    assert "not reproducible" in fails_with("init_network", _init(he, rng_of=lambda seed: np.random.default_rng()))
    assert "seed is ignored" in fails_with("init_network", _init(he, rng_of=lambda seed: np.random.default_rng(0)))
    m = fails_with("init_network", _init(lambda rng, i, o: rng.standard_normal((o, i)) * np.sqrt(2 / i)))
    assert "did you transpose" in m
    m = fails_with("init_network", _init(he, keys=lambda l: (f"W{l - 1}", f"b{l - 1}")))
    assert "numbered from 1" in m
    assert "start the biases at 0" in fails_with("init_network", _init(he, bias=np.ones))
    assert "b1 has shape (1," in fails_with("init_network", _init(he, bias=lambda o: np.zeros((1, o))))
    assert "expected a dict" in fails_with("init_network", lambda sizes, seed=0: [np.zeros((a, b)) for a, b in
                                                                               zip(sizes[:-1], sizes[1:])])


# --- MLP forward / backward ------------------------------------------------------------------

def _forward(output_activation=False, hidden_activation=True, cache_a=False):
    f = SOL["activation_forward"]

    def mlp_forward(params, x, activation="relu"):
        n = len(params) // 2
        h, cache = x, []
        for l in range(1, n + 1):
            z = h @ params[f"W{l}"] + params[f"b{l}"]
            a = f(z, activation) if (l < n and hidden_activation) or (l == n and output_activation) else z
            cache.append((h, a if cache_a else z))
            h = a
        return h, cache
    return mlp_forward


def test_mlp_forward_mistakes():
    assert "no activation on the output layer" in fails_with("mlp_forward", _forward(output_activation=True))
    assert "never applied" in fails_with("mlp_forward", _forward(hidden_activation=False))
    assert "holds f(z)" in fails_with("mlp_forward", _forward(cache_a=True))
    assert "expected a pair (scores, cache)" in fails_with(
        "mlp_forward", lambda params, x, activation="relu": _forward()(params, x, activation)[0])


def _backward(skip_activation=False, with_bias=True, last_activation=False, mean_dw=False):
    dense_backward, act_backward = SOL["dense_backward"], SOL["activation_backward"]

    def mlp_backward(dscores, params, cache, activation="relu"):
        n = len(cache)
        grads, d = {}, dscores
        for l in range(n, 0, -1):
            h, z = cache[l - 1]
            if (l < n and not skip_activation) or last_activation:
                d = act_backward(d, z, activation)
            d, dW, db = dense_backward(d, h, params[f"W{l}"])
            grads[f"W{l}"] = dW / len(h) if mean_dw else dW
            if with_bias:
                grads[f"b{l}"] = db
        return grads
    return mlp_backward


def test_mlp_backward_mistakes():
    assert "ignore the activation" in fails_with("mlp_backward", _backward(skip_activation=True))
    assert "bias gradients are missing" in fails_with("mlp_backward", _backward(with_bias=False))
    assert "applied at the output layer too" in fails_with("mlp_backward", _backward(last_activation=True))
    assert "mean where a sum is expected" in fails_with("mlp_backward", _backward(mean_dw=True))
    assert "expected a dict" in fails_with("mlp_backward", lambda d, p, c, a="relu": list(_backward()(d, p, c, a).values()))


# --- train_network on XOR --------------------------------------------------------------------

def _train(update=lambda p, g, lr: p - lr * g, record="each", fixed_lr=None, in_place=True):
    init, fwd, bwd, ce = SOL["init_network"], SOL["mlp_forward"], SOL["mlp_backward"], SOL["softmax_cross_entropy"]

    def train_network(X, y, sizes, activation="tanh", lr=0.5, epochs=500, seed=0):
        params = init(sizes, seed)
        step = lr if fixed_lr is None else fixed_lr
        losses = []
        for _ in range(epochs):
            scores, cache = fwd(params, X, activation)
            loss, dscores = ce(scores, y)
            grads = bwd(dscores, params, cache, activation)
            for k in params:
                new = update(params[k], grads[k], step)
                if in_place:
                    params[k] = new
            losses.append(loss)
        return params, (losses if record == "each" else [losses[-1]])
    return train_network


def test_train_xor_mistakes():
    assert "loss went up" in fails_with("train_xor", _train(update=lambda p, g, lr: p + lr * g))
    assert "loss never changed" in fails_with("train_xor", _train(in_place=False))
    assert "losses has 1 entry, expected one per epoch" in fails_with("train_xor", _train(record="last"))
    # a constant step size instead of the lr argument: named as such (it used to get only
    # "2 of 4 XOR points right", and with a constant that also solves XOR it passed)
    assert "ignores its lr argument" in fails_with("train_xor", _train(fixed_lr=0.01))
    assert "ignores its lr argument" in fails_with("train_xor", _train(fixed_lr=1.0))
    assert "expected (params, losses)" in fails_with("train_xor", lambda *args: _train()(*args)[0])


# --- manual_backward: every intermediate by hand -------------------------------------------

def _with(**changes):
    """The solution's manual_backward with some gradients recomputed wrongly (changes: key → fn(g, c, p, y))."""
    def wrong(params, cache, y):
        g = SOL["manual_backward"](params, cache, y)
        for key, fn in changes.items():
            g[key] = fn(g, cache, params, y)
        return g
    return wrong


def test_manual_backward_names_the_first_wrong_intermediate():
    m = fails_with("manual_backward", _with(logp=lambda g, c, p, y: np.full_like(c["logp"], -1 / len(y))))
    assert "grads['logp']" in m and "only the label's entry" in m
    m = fails_with("manual_backward", _with(logp=lambda g, c, p, y: g["logp"] * len(y)))
    assert "grads['logp']" in m and "sum where a mean is expected" in m
    m = fails_with("manual_backward", _with(s=lambda g, c, p, y: -g["logp"] / c["s"]))
    assert "grads['s'] has shape" in m and "keepdims" in m and "d_logp and everything before it are right" in m
    m = fails_with("manual_backward", _with(shifted=lambda g, c, p, y: g["e"] * c["e"]))
    assert "grads['shifted']" in m and "feeds logp directly" in m
    m = fails_with("manual_backward", _with(b2=lambda g, c, p, y: g["z2"].mean(axis=0)))
    assert "grads['b2']" in m and "mean where a sum is expected" in m
    m = fails_with("manual_backward", _with(z1=lambda g, c, p, y: g["h1"] * (1 - c["z1"] ** 2)))
    assert "grads['z1']" in m and "1 − h1²" in m and "d_h1 and everything before it are right" in m


def test_manual_backward_a_wrong_step_is_named_even_when_everything_after_it_is_consistent():
    def dh_without_transpose(params, cache, y):
        g = SOL["manual_backward"](params, cache, y)
        g["h1"] = g["z2"] @ params["W2"].T * 2  # wrong by a factor: every later gradient inherits it
        g["z1"] = g["h1"] * (1 - cache["h1"] ** 2)
        g["W1"], g["b1"] = cache["x"].T @ g["z1"], g["z1"].sum(axis=0)
        return g

    m = fails_with("manual_backward", dh_without_transpose)
    assert "grads['h1']" in m and "factor of 2" in m and "z2 = h1 @ W2 + b2" in m


def test_manual_backward_reports_missing_keys():
    assert "grads has no 'W1', 'b1'" in fails_with(
        "manual_backward", lambda p, c, y: {k: v for k, v in SOL["manual_backward"](p, c, y).items()
                                              if k not in ("W1", "b1")})


# --- train_linear_softmax: the linear baseline ----------------------------------------------

def _linear(step_sign=1.0, update_bias=True, record_after=False, extra_mean=False):
    """A linear softmax trainer with one of the classic mistakes switched on."""
    ce = SOL["softmax_cross_entropy"]

    def train(X, y, num_classes, lr=1.0, epochs=300):
        W, b, losses = np.zeros((X.shape[1], num_classes)), np.zeros(num_classes), []
        for _ in range(epochs):
            loss, d = ce(X @ W + b, y)
            dW = X.T @ d / (len(y) if extra_mean else 1)
            W = W - step_sign * lr * dW
            if update_bias:
                b = b - step_sign * lr * d.sum(axis=0)
            losses.append(ce(X @ W + b, y)[0] if record_after else loss)
        return W, b, losses
    return train


def test_train_linear_softmax_mistakes():
    assert passes("train_linear_softmax", _linear())
    assert "the loss goes up" in fails_with("train_linear_softmax", _linear(step_sign=-1.0))
    assert "b never changes" in fails_with("train_linear_softmax", _linear(update_bias=False))
    assert "recorded after each update" in fails_with("train_linear_softmax", _linear(record_after=True))
    m = fails_with("train_linear_softmax", _linear(extra_mean=True))
    assert m.startswith("❌ `train_linear_softmax`: W ")

    def random_start(X, y, num_classes, lr=1.0, epochs=300):
        W, b, losses = _linear()(X, y, num_classes, lr, epochs)
        return W, b, [losses[0] + 0.3] + list(losses[1:])

    assert "start from W = 0 and b = 0" in fails_with("train_linear_softmax", random_start)
    assert "expected the triple" in fails_with("train_linear_softmax", lambda X, y, c, lr=1.0, epochs=300: None)


def test_dense_backward_bias_summed_over_the_units_is_named():
    """db = dout.sum(axis=1) used to get only "db has shape (5,), expected (4,)"."""
    assert "sums dout over the units (axis=1)" in fails_with(
        "dense_backward", lambda d, x, W: (d @ W.T, x.T @ d, d.sum(axis=1)))


# --- issue 14: diagnoses for mistakes that used to get only "differs" or a bare shape -----------

def test_activation_backward_impossible_derivative_is_named():
    """dz / dout is the derivative the student used: outside f′'s range it is wrong, whatever the cause."""
    def with_derivative(name, deriv):
        correct = SOL["activation_backward"]

        def activation_backward(dout, z, activation):
            return dout * deriv(z) if activation == name else correct(dout, z, activation)
        return activation_backward

    m = fails_with("activation_backward", with_derivative("tanh", lambda z: 1 + np.tanh(z) ** 2))
    assert "but tanh′(z) = 1 − tanh(z)² lies in (0, 1] for every z" in m
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    m = fails_with("activation_backward", with_derivative("sigmoid", lambda z: s(z) * (1 + s(z))))
    assert "σ′(z) = σ(z)(1 − σ(z)) lies in (0, 0.25]" in m
    m = fails_with("activation_backward", with_derivative("relu", lambda z: (z > 1).astype(float)))
    assert "ReLU's derivative is 1 for every z > 0" in m


def test_mlp_forward_that_stops_early_is_named_by_the_width_it_returns():
    def stops_early(params, x, activation="relu"):
        n_layers = len(params) // 2
        h, cache = x, []
        for l in range(1, n_layers):  # one layer short
            z = h @ params[f"W{l}"] + params[f"b{l}"]
            cache.append((h, z))
            h = np.maximum(z, 0) if activation == "relu" else np.tanh(z)
        return h, cache

    assert "the width of layer 1's output" in fails_with("mlp_forward", stops_early)


def test_init_network_scalar_or_repeated_size_is_named():
    m = fails_with("init_network", _init(lambda rng, i, o: np.float64(np.sqrt(2 / i))))
    assert "is a single number" in m
    m = fails_with("init_network", _init(lambda rng, i, o: rng.standard_normal((i, i)) * np.sqrt(2 / i)))
    assert "one size of the pair (sizes[l − 1], sizes[l]) is repeated" in m


def test_manual_backward_step_slips_are_named_without_the_symptom():
    m = fails_with("manual_backward", _with(logp=lambda g, c, p, y: np.zeros_like(c["logp"])))
    assert "grads['logp'] is 0 everywhere" in m and "differs" not in m
    m = fails_with("manual_backward", _with(s=lambda g, c, p, y: -g["logp"].sum(axis=1, keepdims=True)))
    assert "without dividing by s" in m
    m = fails_with("manual_backward", _with(shifted=lambda g, c, p, y: g["logp"] - g["e"] * c["e"]))
    assert "the gradients of the two paths add" in m
    m = fails_with("manual_backward", _with(z1=lambda g, c, p, y: g["h1"] * (1 + c["h1"] ** 2)))
    assert "grads['z1'] / grads['h1'] is" in m and "lies in (0, 1]" in m


def test_train_linear_softmax_one_update_slipped_is_named():
    ce = SOL["softmax_cross_entropy"]

    def no_lr_on_b(X, y, num_classes, lr=1.0, epochs=300):
        W, b, losses = np.zeros((X.shape[1], num_classes)), np.zeros(num_classes), []
        for _ in range(epochs):
            loss, d = ce(X @ W + b, y)
            W, b = W - lr * (X.T @ d), b - d.sum(axis=0)
            losses.append(loss)
        return W, b, losses

    def bias_unused(X, y, num_classes, lr=1.0, epochs=300):
        W, b, losses = np.zeros((X.shape[1], num_classes)), np.zeros(num_classes), []
        for _ in range(epochs):
            loss, d = ce(X @ W, y)
            W, b = W - lr * (X.T @ d), b - lr * d.sum(axis=0)
            losses.append(loss)
        return W, b, losses

    assert "b steps by the whole gradient db" in fails_with("train_linear_softmax", no_lr_on_b)
    assert "the scores leave out b" in fails_with("train_linear_softmax", bias_unused)


def test_dense_forward_bias_alone_is_named():
    assert "equals b alone: the x @ W term is missing" in fails_with("dense_forward", lambda x, W, b: b)


def test_a_batch_of_one_input_is_checked():
    """Every case had several inputs, so squeezing the batch axis away passed."""
    m = fails_with("dense_backward", lambda d, x, W: ((d @ W.T).squeeze(), x.T @ d, d.sum(axis=0)))
    assert "dx has shape (6,), expected (1, 6)" in m and "batch of 1" in m

    def mlp_forward_squeezed(params, x, activation="relu"):
        scores, cache = SOL["mlp_forward"](params, x, activation)
        return scores.squeeze(), cache

    assert "scores has shape (3,), expected (1, 3)" in fails_with("mlp_forward", mlp_forward_squeezed)
