"""Chapter 06 checks: realistic wrong update rules fail with a named symptom."""
from __future__ import annotations

import functools
import numpy as np
import pytest

from mlcourse.checks import evaluate, get_check
from mlcourse.optim import SGD, Adam, RMSProp
from tests.support import fails_with, load_solution_functions

SOL = load_solution_functions("06")


fails = functools.partial(fails_with, status="fail")  # a wrong answer, not a crash


def test_solutions_match_the_library_optimizers():
    """The notebook's pure functions and mlcourse.optim agree step for step (float64)."""
    rng = np.random.default_rng(0)
    w0, grads = rng.standard_normal((3, 4)), rng.standard_normal((8, 3, 4))
    cases = [(SGD(lr=0.1), lambda w, g, s, t: (SOL["sgd_step"](w, g, 0.1), s)),
             (SGD(lr=0.05, momentum=0.9), lambda w, g, s, t: SOL["momentum_step"](w, g, s, 0.05, 0.9)),
             (RMSProp(lr=0.01), lambda w, g, s, t: SOL["rmsprop_step"](w, g, s, 0.01)),
             (Adam(lr=0.01), None)]
    for opt, step in cases:
        p = {"W": w0.copy()}
        w, s, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), np.zeros_like(w0)
        for t, g in enumerate(grads, start=1):
            opt.update(p, {"W": g})
            if step is None:
                w, m, v = SOL["adam_step"](w, g, m, v, t, 0.01)
            else:
                w, s = step(w, g, s, t)
        np.testing.assert_allclose(w, p["W"], rtol=1e-10, atol=1e-12)


# --- SGD ----------------------------------------------------------------------------------------

def test_sgd_wrong_versions():
    assert "up* the gradient" in fails("sgd_step", lambda w, g, lr: w + lr * g)
    assert "ignores the learning rate" in fails("sgd_step", lambda w, g, lr: w - g)
    assert "returned the step" in fails("sgd_step", lambda w, g, lr: -lr * g)
    assert "did not move" in fails("sgd_step", lambda w, g, lr: w.copy())
    assert "expected only w_new" in fails("sgd_step", lambda w, g, lr: (w - lr * g, None))


# --- momentum -------------------------------------------------------------------------------

def test_momentum_wrong_versions():
    def ema(w, g, v, lr, beta=0.9):
        v = beta * v + (1 - beta) * g
        return w - lr * v, v

    def old_velocity(w, g, v, lr, beta=0.9):
        return w - lr * v, beta * v + g

    def cs231n(w, g, v, lr, beta=0.9):
        v = beta * v - lr * g
        return w + v, v

    def no_decay(w, g, v, lr, beta=0.9):
        v = v + g
        return w - lr * v, v

    assert "v ← β·v + g" in fails("momentum_step", ema)
    assert "old velocity" in fails("momentum_step", old_velocity)
    assert "−lr × the expected velocity" in fails("momentum_step", cs231n)
    assert "never decays" in fails("momentum_step", no_decay)
    def w_only(w, g, v, lr, beta=0.9):
        return w - lr * (beta * v + g)

    assert "expected a tuple of 2 values" in fails("momentum_step", w_only)


# --- RMSProp --------------------------------------------------------------------------------

def test_rmsprop_wrong_versions():
    def no_square(w, g, s, lr, rho=0.9, eps=1e-8):
        s = rho * s + (1 - rho) * g
        return w - lr * g / (np.sqrt(s) + eps), s

    def no_sqrt(w, g, s, lr, rho=0.9, eps=1e-8):
        s = rho * s + (1 - rho) * g ** 2
        return w - lr * g / (s + eps), s

    def swapped(w, g, s, lr, rho=0.9, eps=1e-8):
        s = (1 - rho) * s + rho * g ** 2
        return w - lr * g / (np.sqrt(s) + eps), s

    def old_s(w, g, s, lr, rho=0.9, eps=1e-8):
        return w - lr * g / (np.sqrt(s) + eps), rho * s + (1 - rho) * g ** 2

    def transposed_state(w, g, s, lr, rho=0.9, eps=1e-8):
        s = rho * s + (1 - rho) * g ** 2
        return w - lr * g / (np.sqrt(s) + eps), s.T

    assert "instead of its square g²" in fails("rmsprop_step", no_square)
    assert "square root" in fails("rmsprop_step", no_sqrt)
    assert "swapped" in fails("rmsprop_step", swapped)
    assert "old s" in fails("rmsprop_step", old_s)
    assert "shape" in fails("rmsprop_step", transposed_state)


def test_rmsprop_eps_inside_the_root_is_named_once_eps_matters():
    """With ε = 1e-8 only, √(s + ε) and √s + ε agree to 1e-8 and this passed; a case with a large
    ε now tells them apart, and the message names the placement the docstring asks for."""
    def eps_inside(w, g, s, lr, rho=0.9, eps=1e-8):
        s = rho * s + (1 - rho) * g ** 2
        return w - lr * g / np.sqrt(s + eps), s
    assert "inside the square root" in fails("rmsprop_step", eps_inside)


def test_optimizers_that_ignore_eps_or_beta_are_named():
    """ε (and β) used to be the same in every case, so a hard-coded constant passed."""
    def rmsprop_fixed_eps(w, g, s, lr, rho=0.9, eps=1e-8):
        s = rho * s + (1 - rho) * g * g
        return w - lr * g / (np.sqrt(s) + 1e-7), s

    def adam_fixed_eps(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        return w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + 1e-8), m, v

    def momentum_fixed_beta(w, g, v, lr, beta=0.9):
        v = 0.9 * v + g
        return w - lr * v, v

    assert "ignores the eps argument" in fails("rmsprop_step", rmsprop_fixed_eps)
    assert "ignores the eps argument" in fails("adam_step", adam_fixed_eps)
    assert "ignores the beta argument" in fails("momentum_step", momentum_fixed_beta)


def test_in_place_updates_are_rejected():
    """The contract says "new arrays"; the check used to hand the function copies, so `w -= …` passed."""
    def sgd_in_place(w, g, lr):
        w -= lr * g
        return w

    def adam_in_place(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        w -= lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
        return w, m, v

    assert "updated your input `w` in place" in fails("sgd_step", sgd_in_place)
    assert "updated your input `w` in place" in fails("adam_step", adam_in_place)


# --- Adam -----------------------------------------------------------------------------------

def adam_variant(kind):
    def adam_step(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * (g if kind == "g_not_squared" else g ** 2)
        tt = t - 1 if kind == "t_from_zero" else t
        if kind == "no_correction":
            m_hat, v_hat = m, v
        else:
            m_hat, v_hat = m / (1 - beta1 ** tt), v / (1 - beta2 ** tt)
        w_new = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        if kind == "stores_corrected":
            return w_new, m_hat, v_hat
        if kind == "wrong_order":
            return w_new, v, m
        return w_new, m, v
    return adam_step


@pytest.mark.parametrize("kind, words", [
    ("no_correction", "no bias correction"),
    ("stores_corrected", "bias-corrected m̂, v̂"),
    ("t_from_zero", "t − 1"),
    ("g_not_squared", "instead of its square g²"),
])
def test_adam_wrong_versions(kind, words):
    assert words in fails("adam_step", adam_variant(kind))


def test_adam_swapped_return_values_are_named():
    message = fails("adam_step", adam_variant("wrong_order"))
    assert "m_new" in message and "differs" in message


def test_adam_exception_shows_the_students_line():
    def broken(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        m_hat = m.reshape(3, -1) / (1 - beta1 ** t)  # a 5-element w cannot be reshaped to 3 rows
        return w - lr * m_hat, m, v
    result = evaluate(get_check("adam_step"), broken)
    assert result.status == "error" and "m.reshape(3, -1)" in result.message and "Traceback" not in result.message


# --- a wrong update named by the exact formula it computes ----------------------------------

def test_a_wrong_factor_in_a_moving_average_is_named_by_its_exact_formula():
    """These used to get only "w_new after step 1 differs at index (0,)": the weights are reported,
    although the state update is where the mistake is. The check now fits the returned state as
    an exact linear formula of the old state and g and names the factor that differs."""
    def adam_beta1_typo(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta1) * g ** 2          # 1 − β1 where 1 − β2 belongs
        return w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v

    def momentum_lr_in_velocity(w, g, v, lr, beta=0.9):
        v = beta * v + lr * g
        return w - v, v

    def rmsprop_forgets_the_gradient(w, g, s, lr, rho=0.9, eps=1e-8):
        s = rho * s + (1 - rho) * g ** 2
        return w - lr / (np.sqrt(s) + eps), s

    message = fails("adam_step", adam_beta1_typo)
    assert "v_new = 0.999·v + 0.1·g² exactly" in message and "the factor of g² is 0.1, expected 1 − β2 = 0.001" in message
    message = fails("momentum_step", momentum_lr_in_velocity)
    assert "v_new = 0.9·v + 0.1·g exactly" in message and "the factor of g is 0.1, expected 1" in message
    message = fails("rmsprop_step", rmsprop_forgets_the_gradient)
    assert "w_new = w − 0.01·1/(√s_new + ε) exactly" in message
    assert "the factor of g/(√s_new + ε) is 0, expected −lr = -0.01" in message


def test_a_state_that_never_leaves_zero_is_named():
    def adam_no_gradient_in_m(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m
        v = beta2 * v + (1 - beta2) * g ** 2
        return w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v
    assert "m_new = 0 exactly" in fails("adam_step", adam_no_gradient_in_m, "the factor of g is 0")


def test_rmsprop_eps_subtracted_is_named():
    def minus_eps(w, g, s, lr, rho=0.9, eps=1e-8):
        s = rho * s + (1 - rho) * g ** 2
        return w - lr * g / (np.sqrt(s) - eps), s
    assert "√s − ε" in fails("rmsprop_step", minus_eps)
