"""Chapter 03 checks: realistic mistakes fail with a message naming them."""
from __future__ import annotations

import numpy as np

from mlcourse.checks import get_check
from tests.support import fails_with, load_solution_functions, passes

SOL = load_solution_functions("03")


# --- activations ---------------------------------------------------------------------------

def test_relu_mistakes():
    assert "dtype float64, expected float32" in fails_with("relu", lambda x: np.maximum(x, 0).astype(np.float64))
    assert "differs" in fails_with("relu", np.abs)


def test_relu_derivative_mistakes():
    m = fails_with("relu_derivative", lambda x: (x >= 0).astype(x.dtype))
    assert "only wrong where x == 0" in m and "x > 0" in m
    assert "dtype bool" in fails_with("relu_derivative", lambda x: x > 0)
    assert "dtype float64, expected float32" in fails_with("relu_derivative", lambda x: (x > 0) * 1.0)


def test_leaky_relu_mistakes():
    assert "the constant alpha" in fails_with("leaky_relu", lambda x, alpha=0.01: np.where(x > 0, x, alpha))
    assert "that is ReLU" in fails_with("leaky_relu", lambda x, alpha=0.01: np.maximum(x, 0))
    # ignores its alpha argument: only the second case (another alpha) catches it
    m = fails_with("leaky_relu", lambda x, alpha=0.01: np.where(x > 0, x, x * x.dtype.type(0.01)))
    assert "use the alpha argument" in m and "another alpha" in m


def test_leaky_relu_derivative_mistakes():
    m = fails_with("leaky_relu_derivative", lambda x, alpha=0.01: np.where(x >= 0, 1, alpha).astype(x.dtype))
    assert "only wrong where x == 0" in m
    assert "dtype float64, expected float32" in fails_with(
        "leaky_relu_derivative", lambda x, alpha=0.01: np.where(x > 0, 1.0, alpha))


def test_sigmoid_mistakes():
    assert "overflow" in fails_with("sigmoid", lambda x: 1 / (1 + np.exp(-x)))
    both_branches = lambda x: np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))  # noqa: E731
    m = fails_with("sigmoid", both_branches)
    assert "overflow" in m and "np.where evaluates both of its branches" in m
    assert "σ increases with x" in fails_with("sigmoid", lambda x: SOL["sigmoid"](-x))


def test_sigmoid_derivative_mistakes():
    assert "x·(1 − x)" in fails_with("sigmoid_derivative", lambda x: x * (1 - x))
    assert "returned σ(x) itself" in fails_with("sigmoid_derivative", SOL["sigmoid"])
    naive = lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2  # noqa: E731
    assert "overflow" in fails_with("sigmoid_derivative", naive)


def test_tanh_mistakes():
    naive = lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))  # noqa: E731
    assert "overflow" in fails_with("tanh", naive)
    assert "differs" in fails_with("tanh", lambda x: 2 * SOL["sigmoid"](x) - 1)


def test_tanh_derivative_mistakes():
    assert "1 − x²" in fails_with("tanh_derivative", lambda x: 1 - x ** 2)
    assert "must be squared" in fails_with("tanh_derivative", lambda x: 1 - np.tanh(x))


# --- softmax ---------------------------------------------------------------------------------

def test_softmax_mistakes():
    naive = lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)  # noqa: E731
    assert "overflow" in fails_with("softmax", naive)

    def wrong_axis(z):
        e = np.exp(z - z.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    assert "each column sums to 1" in fails_with("softmax", wrong_axis)

    def no_keepdims(z):
        e = np.exp(z - z.max(axis=1))
        return e / e.sum(axis=1)

    m = fails_with("softmax", no_keepdims)
    assert "raised ValueError" in m and "z.max(axis=1)" in m

    def whole_array(z):
        e = np.exp(z - z.max())
        return e / e.sum()

    assert "whole array sums to 1" in fails_with("softmax", whole_array)


# --- losses ----------------------------------------------------------------------------------

def test_mse_mistakes():
    def summed(pred, target):
        d = pred - target
        return float(np.sum(d ** 2)), 2 * d

    assert "sum where a mean is expected" in fails_with("mse_with_grad", summed)

    def no_two(pred, target):
        d = pred - target
        return float(np.mean(d ** 2)), d / d.size

    assert "factor 2" in fails_with("mse_with_grad", no_two)

    def flipped(pred, target):
        d = pred - target
        return float(np.mean(d ** 2)), 2 * (target - pred) / d.size

    assert "sign flipped" in fails_with("mse_with_grad", flipped)


def test_bce_mistakes():
    def unclipped(p, y, eps=1e-7):
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        return float(loss), (p - y) / (p * (1 - p)) / p.size

    m = fails_with("bce_with_grad", unclipped)
    assert "divide by zero" in m and "probabilities exactly 0 and 1" in m

    def flipped(p, y, eps=1e-7):
        loss, grad = SOL["bce_with_grad"](p, y, eps)
        return loss, -grad

    assert "sign flipped" in fails_with("bce_with_grad", flipped)

    def summed(p, y, eps=1e-7):
        loss, grad = SOL["bce_with_grad"](p, y, eps)
        return loss * p.size, grad * p.size

    assert "sum where a mean is expected" in fails_with("bce_with_grad", summed)


def test_cross_entropy_mistakes():
    def naive(scores, y):
        n = len(y)
        p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        grad = p.copy()
        grad[np.arange(n), y] -= 1
        return float(-np.log(p[np.arange(n), y]).mean()), grad / n

    assert "overflow" in fails_with("softmax_cross_entropy", naive)

    def no_mean(scores, y):
        loss, grad = SOL["softmax_cross_entropy"](scores, y)
        return loss, grad * len(y)

    assert "sum where a mean is expected" in fails_with("softmax_cross_entropy", no_mean)

    def no_onehot(scores, y):
        loss, _ = SOL["softmax_cross_entropy"](scores, y)
        return loss, SOL["softmax"](scores) / len(y)

    assert "subtract the one-hot targets" in fails_with("softmax_cross_entropy", no_onehot)

    def log_of_clipped_softmax(scores, y):  # stable softmax, but log(p) of an underflowed p
        n = len(y)
        p = SOL["softmax"](scores)
        grad = p.copy()
        grad[np.arange(n), y] -= 1
        return float(-np.log(p[np.arange(n), y]).mean()), grad / n

    m = fails_with("softmax_cross_entropy", log_of_clipped_softmax)
    assert "divide by zero" in m or "inf" in m


# --- numerical gradient ------------------------------------------------------------------------

def test_numerical_gradient_mistakes():
    def forward(f, x, h=1e-5):
        grad = np.zeros_like(x)
        fx = f(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            grad[i] = (f(x) - fx) / h
            x[i] = old
        return grad

    assert "one-sided difference" in fails_with("numerical_gradient", forward)

    def by_h(f, x, h=1e-5):
        return SOL["numerical_gradient"](f, x, h) * 2

    assert "divides by 2h, not h" in fails_with("numerical_gradient", by_h)

    def no_restore(f, x, h=1e-5):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            plus = f(x)
            x[i] = old - h
            grad[i] = (plus - f(x)) / (2 * h)
        return grad

    assert "not restored" in fails_with("numerical_gradient", no_restore)

    def all_at_once(f, x, h=1e-5):  # a directional derivative, not a gradient
        return np.full_like(x, (f(x + h) - f(x - h)) / (2 * h))

    assert "grad differs" in fails_with("numerical_gradient", all_at_once)


# --- the softmax Jacobian, derived by the student ------------------------------------------

def _p(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def test_softmax_jacobian_reference_is_the_numerical_jacobian():
    chk = get_check("softmax_jacobian")
    for case in chk.make_cases(0):
        (z,) = case.args
        h = 1e-6
        numeric = np.stack([(_p(z + h * np.eye(len(z))[k]) - _p(z - h * np.eye(len(z))[k])) / (2 * h)
                            for k in range(len(z))], axis=1)  # column k: d p / d z_k
        assert np.allclose(case.expected, numeric, atol=1e-8)


def test_softmax_jacobian_mistakes():
    assert "off-diagonal entries are missing" in fails_with("softmax_jacobian", lambda z: np.diag(_p(z)))
    assert "zeros elsewhere" in fails_with("softmax_jacobian", lambda z: np.diag(_p(z) * (1 - _p(z))))
    assert "the δ_jk term" in fails_with("softmax_jacobian", lambda z: -np.outer(_p(z), _p(z)))
    assert "outer product with (1 − p)" in fails_with("softmax_jacobian", lambda z: np.outer(_p(z), 1 - _p(z)))
    assert "sign flipped" in fails_with("softmax_jacobian", lambda z: np.outer(_p(z), _p(z)) - np.diag(_p(z)))

    def unstable(z):
        p = np.exp(z) / np.exp(z).sum()
        return np.diag(p) - np.outer(p, p)

    assert "overflow" in fails_with("softmax_jacobian", unstable)
    assert "raised" in fails_with("softmax_jacobian", lambda z: np.diag(_p(z)) - _p(z) @ _p(z).T @ np.eye(2))


# --- verified properties and localisations (issue 14): each names a fact about the output ---------

def _stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def test_activation_properties_are_stated_at_the_input_that_breaks_them():
    fails_with("relu", lambda x: np.minimum(x, 0), "ReLU(x) lies in [0, inf]", "at x =")
    fails_with("relu", lambda x: np.where(x > 0, x ** 2, 0.1).astype(x.dtype), "ReLU(x) = x for x > 0")
    fails_with("relu_derivative", lambda x: np.where(x > 0, 0.5 + 0.01 * x, 0.2).astype(x.dtype),
               "ReLU′(x) = 1 for x > 0")
    fails_with("leaky_relu", lambda x, alpha=0.01: np.where(x > 0, np.sqrt(np.abs(x)), 0.5 * alpha * x).astype(x.dtype),
               "LeakyReLU(x) = x for x > 0")
    fails_with("sigmoid", lambda x: np.exp(-np.abs(x)).astype(x.dtype), "σ(0) must be 0.5; yours gives 1")
    fails_with("sigmoid", lambda x: _stable_sigmoid(-x), "σ increases with x")
    fails_with("sigmoid_derivative", lambda x: (_stable_sigmoid(x) * (1 + _stable_sigmoid(x))).astype(x.dtype),
               "σ′(0) must be 0.25; yours gives 0.75")
    fails_with("tanh", lambda x: x.copy(), "tanh(x) lies in [-1, 1]")
    fails_with("tanh_derivative", lambda x: (1 + np.tanh(x) ** 2).astype(x.dtype), "tanh′(x) lies in [0, 1]")


def test_softmax_properties():
    def no_division(z):
        return np.exp(z - z.max(axis=1, keepdims=True))
    fails_with("softmax", no_division, "row 0 of your probabilities sums to", "not 1")

    def reversed_scores(z):  # exp(max − z): the order of the scores is turned around
        e = np.exp(z.min(axis=1, keepdims=True) - z)
        return e / e.sum(axis=1, keepdims=True)
    fails_with("softmax", reversed_scores, "keeps the order of the scores")


def test_mse_properties_on_probe_inputs():
    fails_with("mse_with_grad", lambda p, t: (float(np.mean(p ** 2)), 2 * (p - t) / p.size),
               "with pred equal to target the loss must be 0")
    fails_with("mse_with_grad", lambda p, t: (float(np.mean((p - t) ** 3)), 2 * (p - t) / p.size),
               "swapping pred and target changes your loss")
    fails_with("mse_with_grad", lambda p, t: (float(np.mean((p - t) ** 2)), 2 * p / p.size),
               "with pred equal to target the gradient must be 0")


def _bce(loss_of, grad_of):
    def bce_with_grad(p, y, eps=1e-7):
        pc = np.clip(p, eps, 1 - eps)
        return float(loss_of(pc, y)), grad_of(pc, y) / p.size
    return bce_with_grad


_BCE_LOSS = lambda pc, y: -np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))  # noqa: E731
_BCE_GRAD = lambda pc, y: (pc - y) / (pc * (1 - pc))  # noqa: E731


def test_bce_properties_on_probe_inputs():
    fails_with("bce_with_grad", _bce(lambda pc, y: -np.mean(y * np.log(pc) + np.log(1 - pc)), _BCE_GRAD),
               "with p = 0.5 everywhere the loss must be log 2")
    fails_with("bce_with_grad", _bce(lambda pc, y: -np.mean(y * np.log(pc) - (1 - y) * np.log(1 - pc)), _BCE_GRAD),
               "loss is negative")
    fails_with("bce_with_grad", _bce(_BCE_LOSS, lambda pc, y: (pc - y) / (1 - pc)),
               "with p = 0.5 everywhere the gradient must be", "±2/N")
    fails_with("bce_with_grad", _bce(_BCE_LOSS, lambda pc, y: pc / (pc * (1 - pc))),
               "grad is right where y = 0 and wrong at every sample with y = 1")
    fails_with("bce_with_grad", _bce(_BCE_LOSS, lambda pc, y: (pc - y) / (pc * (1 - pc)) - (1 - y) * 2),
               "grad is right where y = 1 and wrong at every sample with y = 0")


def _ce(loss_of, grad_of):
    def softmax_cross_entropy(scores, y):
        n = len(y)
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(loss_of(log_p, shifted, y)), grad_of(np.exp(log_p), y) / n
    return softmax_cross_entropy


def _ce_loss(log_p, shifted, y):
    return -log_p[np.arange(len(y)), y].mean()


def _ce_grad(p, y, k=-1.0):
    g = p.copy()
    g[np.arange(len(y)), y] += k
    return g


def test_cross_entropy_properties_on_probe_inputs():
    fails_with("softmax_cross_entropy", _ce(_ce_loss, lambda p, y: _ce_grad(p, y, +1.0)),
               "grad is right except at each sample's own class (i, y_i)")
    fails_with("softmax_cross_entropy", _ce(_ce_loss, lambda p, y: np.log(p) - (p == p.max(axis=1, keepdims=True))),
               "row 0 of grad sums to")
    fails_with("softmax_cross_entropy", _ce(lambda lp, sh, y: -sh[np.arange(len(y)), y].mean(), _ce_grad),
               "with all scores equal", "log 4")
    fails_with("softmax_cross_entropy",
               _ce(lambda lp, sh, y: -(sh - np.log(np.exp(sh).sum(axis=0, keepdims=True)))[np.arange(len(y)), y].mean(),
                   _ce_grad),
               "with all scores equal")

    def row_max_from_column(scores, y):  # subtracts each column's max: no longer a per-row constant
        n = len(y)
        shifted = scores - scores.max(axis=0, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = float(-np.mean(shifted[np.arange(n), y] - np.log(np.exp(shifted[:1]).sum())))
        return loss, _ce_grad(np.exp(log_p), y) / n
    fails_with("softmax_cross_entropy", row_max_from_column, "adding a constant to every score of a row changed your loss")

    def reversed_scores(scores, y):
        n = len(y)
        shifted = scores.max(axis=1, keepdims=True) - scores
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(n), y].mean()), _ce_grad(np.exp(log_p), y) / n
    fails_with("softmax_cross_entropy", reversed_scores, "raising the score of the right class")


def test_softmax_jacobian_properties():
    def plus_outer(z):
        e = np.exp(z - z.max())
        p = e / e.sum()
        return np.diag(p) + np.outer(p, p)
    fails_with("softmax_jacobian", plus_outer, "column 0 of J sums to", "must sum to 0")

    def centred_extra(z):  # adds I − 1/C: columns still sum to 0 and J stays symmetric
        e = np.exp(z - z.max())
        p = e / e.sum()
        return np.diag(p) - np.outer(p, p) + np.eye(len(z)) - 1 / len(z)
    fails_with("softmax_jacobian", centred_extra, "the diagonal of J is p_k(1 − p_k)", "[0, ¼]")


def test_numerical_gradient_probes_with_known_gradients():
    def no_plus_step(f, x, h=1e-5):  # f(x) − f(x − h) over 2h
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            plus = f(x)
            x[i] = old - h
            minus = f(x)
            x[i] = old
            grad[i] = (plus - minus) / (2 * h)
        return grad
    fails_with("numerical_gradient", no_plus_step, "on the linear f(x) = Σ A·x (gradient A everywhere)")

    def sum_of_values(f, x, h=1e-5):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            plus = f(x)
            x[i] = old - h
            minus = f(x)
            x[i] = old
            grad[i] = (plus + minus) / (2 * h)
        return grad
    fails_with("numerical_gradient", sum_of_values, "on a constant f (gradient 0 everywhere)")


def test_initial_loss_question_tells_ln_11_from_ln_10():
    fails_with("answer_initial_loss", lambda: np.log(11))
    fails_with("answer_initial_loss", lambda: np.log(9))
    passes("answer_initial_loss", lambda: 2.3)
