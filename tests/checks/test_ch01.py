"""Chapter 01 checks: realistic wrong versions fail naming the symptom."""
from __future__ import annotations

import numpy as np
import pytest

from mlcourse.checks import evaluate, get_check
from tests.support import fails_with, load_solution_functions


@pytest.fixture(scope="module")
def sol() -> dict:
    return load_solution_functions("01")


# --- predict ---------------------------------------------------------------------------

def test_predict_wrong_versions():
    fails_with("predict", lambda X, w, b: X @ w, "ignores the bias")
    fails_with("predict", lambda X, w, b: X * w + b, "element by element", "X @ w")
    fails_with("predict", lambda X, w, b: X @ w.reshape(-1, 1) + b, "one number per sample")
    fails_with("predict", lambda X, w, b: X @ w - b, "subtracts the bias")


# --- mse_loss --------------------------------------------------------------------------

def test_mse_loss_wrong_versions():
    fails_with("mse_loss", lambda p, y: float(np.sum((p - y) ** 2)), "sum where a mean")
    fails_with("mse_loss", lambda p, y: 0.5 * float(np.mean((p - y) ** 2)), "half the MSE")
    fails_with("mse_loss", lambda p, y: float(np.sqrt(np.mean((p - y) ** 2))), "RMSE")
    fails_with("mse_loss", lambda p, y: (p - y) ** 2, "one value per sample")
    fails_with("mse_loss", lambda p, y: float(np.mean(np.abs(p - y))), "mean absolute error")
    fails_with("mse_loss", lambda p, y: float(np.mean(p - y) ** 2), "squares the mean error")


# --- mse_gradient ----------------------------------------------------------------------

def _grad(X, y, w, b, *, factor=2.0, sign=1.0, reduce=np.mean, use_b=True):
    err = sign * (X @ w + (b if use_b else 0.0) - y)
    n = len(y) if reduce is np.mean else 1
    return factor / n * (X.T @ err), factor * float(reduce(err))


def test_mse_gradient_wrong_versions():
    fails_with("mse_gradient", lambda X, y, w, b: _grad(X, y, w, b, factor=1.0), "factor 2")
    fails_with("mse_gradient", lambda X, y, w, b: _grad(X, y, w, b, sign=-1.0), "sign flipped")
    fails_with("mse_gradient", lambda X, y, w, b: _grad(X, y, w, b, reduce=np.sum), "sum where a mean")
    fails_with("mse_gradient", lambda X, y, w, b: _grad(X, y, w, b, use_b=False), "ignores b")
    fails_with("mse_gradient", lambda X, y, w, b: (_grad(X, y, w, b)[0], 2 * (X @ w + b - y)),
               "grad_b", "one value per sample")
    fails_with("mse_gradient", lambda X, y, w, b: (2 / len(y) * (X.T @ (X @ w + b - y)).reshape(1, -1),
                                                   _grad(X, y, w, b)[1]), "grad_w has shape")


# --- gradient_descent ------------------------------------------------------------------

def _gd(X, y, lr, epochs, *, ascent=False, freeze_b=False, before=False, extra=False):
    w, b = np.zeros(X.shape[1]), 0.0
    s = -1.0 if ascent else 1.0
    losses = [float(np.mean((X @ w + b - y) ** 2))] if extra else []
    for _ in range(epochs):
        if before:
            losses.append(float(np.mean((X @ w + b - y) ** 2)))
        err = X @ w + b - y
        w = w - s * lr * 2 / len(y) * (X.T @ err)
        if not freeze_b:
            b = b - s * lr * 2 * float(err.mean())
        if not before:
            losses.append(float(np.mean((X @ w + b - y) ** 2)))
    return w, b, losses


def test_gradient_descent_reference_is_right(sol):
    X = np.random.default_rng(0).standard_normal((10, 2))
    y = X @ np.array([1.0, -2.0]) + 0.5
    assert evaluate(get_check("gradient_descent"), _gd).passed
    w, b, _ = sol["gradient_descent"](X, y, 0.1, 500)
    assert np.allclose(w, [1.0, -2.0], atol=1e-6) and abs(b - 0.5) < 1e-6


def test_gradient_descent_wrong_versions():
    fails_with("gradient_descent", lambda *a: _gd(*a, ascent=True), "up* the gradient")
    fails_with("gradient_descent", lambda *a: _gd(*a, freeze_b=True), "b never changes")
    fails_with("gradient_descent", lambda *a: _gd(*a, before=True), "one epoch behind")
    fails_with("gradient_descent", lambda *a: _gd(*a, extra=True), "entries", "not also before the first")
    fails_with("gradient_descent", lambda *a: _gd(*a)[:2], "expected a tuple of 3 values")
    fails_with("gradient_descent", lambda X, y, lr, e: _gd(X, y, lr / 2, e), "half the expected size", "factor 2")
    fails_with("gradient_descent", lambda X, y, lr, e: _gd(X, y, lr * len(y), e), "N ×", "1/N")
    fails_with("gradient_descent", lambda X, y, lr, e: _gd(X, y, lr * 0.7, e), "differs", "mse_gradient")


# --- minibatch_gd ----------------------------------------------------------------------

def _mb(X, y, lr, epochs, batch_size, seed=0, *, kind=""):
    n = len(X)
    rng = np.random.default_rng(seed)
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        if kind == "reseed":
            rng = np.random.default_rng(seed)
        if kind == "no_shuffle":
            order = np.arange(n)
        elif kind == "choice":
            order = rng.choice(n, size=n, replace=False)  # a different (valid) random stream
        else:
            order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            if kind == "drop_last" and len(idx) < batch_size:
                continue
            yb = y[start:start + batch_size] if kind == "misaligned" else y[idx]
            err = X[idx] @ w + b - yb
            w = w - lr * 2 / len(idx) * (X[idx].T @ err)
            b = b - lr * 2 * float(err.mean())
        losses.append(float(np.mean((X @ w + b - y) ** 2)))
    return w, b, losses


def test_minibatch_reference_is_right():
    assert evaluate(get_check("minibatch_gd"), _mb).passed


@pytest.mark.parametrize("kind, words", [
    ("no_shuffle", ["never shuffled"]),
    ("reseed", ["same order", "create the generator once"]),
    ("drop_last", ["last, smaller batch"]),
    ("misaligned", ["not shuffled together"]),
    ("choice", ["as low as the reference", "rng.permutation(N)"]),
])
def test_minibatch_wrong_versions(kind, words):
    fails_with("minibatch_gd", lambda *a: _mb(*a, kind=kind), *words)


# --- least_squares ---------------------------------------------------------------------

def test_least_squares_wrong_versions():
    def no_intercept(X, y):
        return np.linalg.lstsq(X, y, rcond=None)[0], 0.0

    def ones_first_wrong_split(X, y):
        theta = np.linalg.lstsq(np.hstack([np.ones((len(X), 1)), X]), y, rcond=None)[0]
        return theta[:-1], float(theta[-1])

    def whole_theta(X, y):
        return np.linalg.lstsq(np.hstack([X, np.ones((len(X), 1))]), y, rcond=None)[0]

    def normal_equations(X, y):  # right, by the other method
        A = np.hstack([X, np.ones((len(X), 1))])
        theta = np.linalg.solve(A.T @ A, A.T @ y)
        return theta[:-1], float(theta[-1])

    fails_with("least_squares", no_intercept, "through the origin")
    fails_with("least_squares", ones_first_wrong_split, "wrong places")
    fails_with("least_squares", whole_theta, "expected a tuple of 2 values")
    assert evaluate(get_check("least_squares"), normal_equations).passed


def test_a_diverging_student_gets_a_sentence_not_warnings():
    def exploding(X, y, lr, epochs):
        return _gd(X, y, lr * 50, epochs)

    with np.errstate(all="raise"):  # the check itself must not trip over the overflow
        message = fails_with("gradient_descent", exploding)
    assert "diverged" in message


# --- verified properties and variants (issue 14) ---------------------------------------------

def test_mse_loss_properties_on_probe_inputs():
    fails_with("mse_loss", lambda p, y: float(np.mean(p ** 2)), "with y_pred equal to y the loss must be 0")
    fails_with("mse_loss", lambda p, y: float(np.mean((p + y) ** 2)), "with y_pred equal to y the loss must be 0")
    fails_with("mse_loss", lambda p, y: float(np.mean((p - y) ** 3)), "loss is negative")


def test_mse_gradient_at_a_perfect_fit():
    def no_y(X, y, w, b):  # err = ŷ, not ŷ − y
        err = X @ w + b
        return 2 / len(y) * X.T @ err, 2 * float(err.mean())
    fails_with("mse_gradient", no_y, "at a perfect fit", "both gradients must be 0")


def _gd_variant(X, y, lr, epochs, *, short=False, b0=0.0, b_up=False, w_lr=None, b_lr=None):
    w, b = np.zeros(X.shape[1]), b0
    losses = []
    for _ in range(epochs - 1 if short else epochs):
        err = X @ w + b - y
        w = w - (lr if w_lr is None else w_lr) * 2 / len(y) * (X.T @ err)
        b = b + (-1 if not b_up else 1) * (lr if b_lr is None else b_lr) * 2 * float(err.mean())
        losses.append(float(np.mean((X @ w + b - y) ** 2)))
    return w, b, losses


@pytest.mark.parametrize("kwargs, words", [
    ({"short": True}, ["one epoch fewer", "range(epochs)"]),
    ({"b0": 1.0}, ["b starts at 1"]),
    ({"b_up": True}, ["b moves *up* its gradient"]),
    ({"w_lr": 1.0}, ["w is updated without the learning rate"]),
    ({"b_lr": 1.0}, ["b is updated without the learning rate"]),
])
def test_gradient_descent_loop_variants(kwargs, words):
    fails_with("gradient_descent", lambda *a: _gd_variant(*a, **kwargs), *words)


def test_least_squares_slice_off_by_one_is_named_as_the_values_it_holds():
    def one_short(X, y):
        A = np.hstack([X, np.ones((len(X), 1))])
        theta = np.linalg.lstsq(A, y, rcond=None)[0]
        return theta[:-2], float(theta[-1])
    fails_with("least_squares", one_short, "its first 2 values are the expected ones", "missing")
