"""Checks for chapter 03: activations, their derivatives, softmax, losses, numerical gradients.

Every case is built from the ``rng`` it is given (the grader adds hidden seeds) and includes
the inputs where naive code breaks: exactly 0 (the kink of ReLU), ±1000 (overflow in exp),
probabilities exactly 0 and 1 (log(0)), and float32 (no silent upcast to float64).
"""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

import numpy as np

from .compare import compare_array, compare_outputs, plain_symptom
from .core import Case, changed_inputs, define, grader_side
from ..losses import log_softmax as _library_log_softmax  # given code: judges may use it, the reference may not
from ..losses import softmax as _library_softmax
from .helpers import probe_run, same_values, stable_sigmoid
from .questions import number

EXTREMES = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0])


# --------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------

def _watch(fn: Callable, args: tuple) -> dict:
    """Call fn(*args) and record NumPy's RuntimeWarnings (overflow, divide by zero, …).

    Runs in the student's process; returns plain data: {"out": ..., "warnings": [...]}, or
    {"problem": ...} when the function changed one of its array arguments in place.
    """
    before = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        out = fn(*args)
    changed = changed_inputs(fn, before, args)
    if changed:
        return {"problem": changed}
    msgs = sorted({str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)})
    return {"out": out, "warnings": msgs}


def _as_float(value: Any) -> np.ndarray | None:
    """``value`` as a float64 array, or None when it is not numbers."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr


def _pair(value: Any) -> tuple[float | None, np.ndarray | None]:
    """(loss, grad) of a (loss, grad) return value as numbers; None for what is not numbers."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return None, None
    loss, grad = _as_float(value[0]), _as_float(value[1])
    return (float(loss) if loss is not None and loss.size == 1 else None), grad


_ADVICE = (
    ("overflow", "exp() of a large positive number overflowed to inf: only ever exponentiate numbers ≤ 0 "
                 "(subtract the row maximum, or use exp(-|x|)); np.where evaluates both of its branches, "
                 "so it does not prevent this"),
    ("divide by zero", "a log(0) or a division by zero: take the log of the scores with log-sum-exp "
                       "(log p = shifted − log Σ exp(shifted)) instead of the log of probabilities — "
                       "adding ε or clipping p changes the loss"),
    ("invalid value", "a NaN was produced (inf/inf, 0/0 or inf − inf): use the numerically stable form"),
)


_BCE_DIVIDE = ("divide by zero", "a log(0) or a division by zero: clip p to [eps, 1 − eps] with the eps "
                                  "argument before the log and the division, as the docstring says")


def _warning_problem(got: Any, advice_for: tuple = _ADVICE) -> tuple[Any, str | None]:
    """(the function's output, a sentence about its NumPy warnings or None)."""
    if not isinstance(got, dict) or "out" not in got:
        return got, None
    for key, advice in advice_for:
        for w in got.get("warnings", []):
            if key in w:
                return got["out"], f"NumPy warned “{w}” — {advice}"
    if got.get("warnings"):
        return got["out"], f"NumPy warned “{got['warnings'][0]}” — use the numerically stable form"
    return got["out"], None


_same = functools.partial(same_values, rtol=1e-5, atol=1e-8)


def _activation_cases(rng: np.random.Generator) -> list[Case]:
    x = rng.standard_normal((4, 5)) * 3
    x[0, :2] = 0.0  # the kink: the derivative's convention at 0 matters
    x32 = np.concatenate([rng.standard_normal(5) * 2, EXTREMES]).astype(np.float32)
    return [
        Case(args=(x,), label="a (4, 5) float64 array with some exact zeros"),
        Case(args=(x32,), label="a float32 vector including ±1000 and 0"),
    ]


def _leaky_cases(rng: np.random.Generator) -> list[Case]:
    cases = _activation_cases(rng)
    cases[0].args = (cases[0].args[0], 0.01)
    cases[1].args = (cases[1].args[0], float(np.float32(rng.uniform(0.05, 0.3))))
    cases[1].label += ", with another alpha"
    return cases


def _elementwise_judge(extra: Callable[[Case, Any], str | None] | None = None,
                      properties: Callable[[np.ndarray, np.ndarray], str | None] | None = None) -> Callable:
    """Judge for an elementwise function: warnings, then dtype/shape/values, then ``extra``, the
    branch of x that is wrong, and the function's ``properties`` (checked on the output)."""

    def judge(case: Case, got: Any) -> str | None:
        out, problem = _warning_problem(got)
        if problem:
            return problem
        problem = compare_array("output", out, case.expected, rtol=1e-6, atol=1e-9, check_dtype=True)
        if problem and extra is not None and "dtype" not in problem:
            problem = extra(case, out) or problem
        if problem and problem.startswith("output differs"):  # a branch of x is sharper than a slice
            problem = _branch_hint(case, out) or problem
        if plain_symptom(problem) and properties is not None:
            arr = _as_float(out)
            x = np.asarray(case.args[0], dtype=np.float64)
            if arr is not None and arr.shape == x.shape:
                return properties(x, arr) or problem
        return problem

    return judge


def _at(x: np.ndarray, i: tuple) -> str:
    return f"x = {x[i]:.4g}"


def _value_at_zero(fn: str, value: float) -> Callable:
    def prop(x: np.ndarray, out: np.ndarray) -> str | None:
        bad = (x == 0) & ~np.isclose(out, value, rtol=1e-5, atol=1e-7)
        if bad.any():
            return f"{fn}(0) must be {value:g}; yours gives {out[bad][0]:.4g}"
        return None
    return prop


def _within(fn: str, lo: float, hi: float) -> Callable:
    def prop(x: np.ndarray, out: np.ndarray) -> str | None:
        bad = (out < lo - 1e-6) | (out > hi + 1e-6) | np.isnan(out)
        if bad.any():
            i = tuple(np.argwhere(bad)[0])
            return f"{fn}(x) lies in [{lo:g}, {hi:g}] for every x; yours gives {out[i]:.4g} at {_at(x, i)}"
        return None
    return prop


def _increasing(fn: str) -> Callable:
    def prop(x: np.ndarray, out: np.ndarray) -> str | None:
        order = np.argsort(x, axis=None, kind="stable")
        xs, ys = x.ravel()[order], out.ravel()[order]
        drop = (np.diff(ys) < -1e-6) & (np.diff(xs) > 0)
        if drop.any():
            k = int(np.flatnonzero(drop)[0])
            return (f"{fn} increases with x; yours gives {fn}({xs[k]:.4g}) = {ys[k]:.4g} but "
                    f"{fn}({xs[k + 1]:.4g}) = {ys[k + 1]:.4g}")
        return None
    return prop


def _identity_for_positive(fn: str) -> Callable:
    def prop(x: np.ndarray, out: np.ndarray) -> str | None:
        bad = (x > 0) & ~np.isclose(out, x, rtol=1e-5, atol=1e-7)
        if bad.any():
            i = tuple(np.argwhere(bad)[0])
            return f"{fn}(x) = x for x > 0; yours gives {out[i]:.4g} at {_at(x, i)}"
        return None
    return prop


def _constant_for_positive(fn: str, value: float) -> Callable:
    def prop(x: np.ndarray, out: np.ndarray) -> str | None:
        bad = (x > 0) & ~np.isclose(out, value)
        if bad.any():
            i = tuple(np.argwhere(bad)[0])
            return f"{fn}(x) = {value:g} for x > 0; yours gives {out[i]:.4g} at {_at(x, i)}"
        return None
    return prop


def _all_of(*props: Callable) -> Callable:
    """The first property the output violates (each a verified fact about the function)."""
    def check(x: np.ndarray, out: np.ndarray) -> str | None:
        for prop in props:
            said = prop(x, out)
            if said:
                return said
        return None
    return check


def _branch_hint(case: Case, out: Any) -> str | None:
    """Where an elementwise output is wrong exactly on one sign of x: name that branch."""
    x = np.asarray(case.args[0], dtype=np.float64)
    try:
        arr = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    exp = np.asarray(case.expected, dtype=np.float64)
    if arr.shape != x.shape:
        return None
    with np.errstate(all="ignore"):
        wrong = ~np.isclose(arr, exp, rtol=1e-5, atol=1e-8, equal_nan=True)
    for side, where in (("x < 0", x < 0), ("x > 0", x > 0)):
        if wrong.any() and np.array_equal(wrong, where & wrong) and wrong[where].mean() > 0.5 and (~wrong[~where]).all():
            return (f"output differs only where {side} ({int(wrong.sum())} of {wrong.size} values, right "
                    f"everywhere else): the formula for {side} (that branch of np.where, or that side of the "
                    "stable form) is the mistake")
    return None


def _kink_hint(case: Case, out: Any) -> str | None:
    """The derivative is right except at x == 0: name the convention."""
    x = np.asarray(case.args[0])
    arr = np.asarray(out, dtype=np.float64) if np.shape(out) == x.shape else None
    if arr is None:
        return None
    exp = np.asarray(case.expected, dtype=np.float64)
    wrong = ~np.isclose(arr, exp)
    if wrong.any() and np.all(x[wrong] == 0):
        return (f"only wrong where x == 0 (got {arr[wrong][0]:g}, expected {exp[wrong][0]:g}): "
                "the derivative at the kink is a convention — use the left side's value "
                "(`x > 0`, not `x >= 0`)")
    return None


# --------------------------------------------------------------------------------------
# Activations and their derivatives
# --------------------------------------------------------------------------------------

@grader_side
def _relu_ref(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


@grader_side
def _relu_derivative_ref(x: np.ndarray) -> np.ndarray:
    return (x > 0).astype(x.dtype)


@grader_side
def _sigmoid_derivative_ref(x: np.ndarray) -> np.ndarray:
    return stable_sigmoid(x) * (1 - stable_sigmoid(x))


@grader_side
def _tanh_derivative_ref(x: np.ndarray) -> np.ndarray:
    return 1 - np.tanh(x) ** 2


define(name="relu", description="max(0, x) elementwise, same shape and dtype as x",
       cases=_activation_cases, reference=_relu_ref, run=_watch,
       judge=_elementwise_judge(properties=_all_of(_within("ReLU", 0, np.inf), _identity_for_positive("ReLU"))))

define(name="relu_derivative", description="1 where x > 0, else 0 (also at x = 0), same shape and dtype as x",
       cases=_activation_cases, reference=_relu_derivative_ref, run=_watch,
       judge=_elementwise_judge(_kink_hint, _all_of(_within("ReLU′", 0, 1), _constant_for_positive("ReLU′", 1))))


@grader_side
def _leaky(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, x, x * x.dtype.type(alpha))


@grader_side
def _leaky_derivative(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, 1, alpha).astype(x.dtype)


def _leaky_hint(case: Case, out: Any) -> str | None:
    x, alpha = case.args
    x64 = x.astype(np.float64)
    if _same(out, np.maximum(x64, 0)):
        return "negative inputs give 0 — that is ReLU; LeakyReLU gives alpha·x there"
    if _same(out, np.where(x64 > 0, x64, alpha)):
        return "negative inputs give the constant alpha; LeakyReLU gives alpha·x there"
    if alpha != 0.01 and _same(out, np.where(x64 > 0, x64, 0.01 * x64)):
        return f"uses alpha = 0.01 although alpha = {alpha:g} was passed: use the alpha argument"
    return None


define(name="leaky_relu", description="x where x > 0, else alpha·x, for two values of alpha",
       cases=_leaky_cases, reference=_leaky, run=_watch,
       judge=_elementwise_judge(_leaky_hint, _identity_for_positive("LeakyReLU")))

define(name="leaky_relu_derivative", description="1 where x > 0, else alpha (also at x = 0), for two values of alpha",
       cases=_leaky_cases, reference=_leaky_derivative, run=_watch,
       judge=_elementwise_judge(_kink_hint, _constant_for_positive("LeakyReLU′", 1)))

define(name="sigmoid", description="1 / (1 + exp(-x)) without overflow at ±1000, dtype kept",
       cases=_activation_cases, reference=stable_sigmoid, run=_watch,
       judge=_elementwise_judge(properties=_all_of(_value_at_zero("σ", 0.5), _within("σ", 0, 1), _increasing("σ"))))


def _sigmoid_derivative_hint(case: Case, out: Any) -> str | None:
    x = np.asarray(case.args[0], dtype=np.float64)
    if _same(out, x * (1 - x)):
        return "looks like x·(1 − x): the formula is σ(x)·(1 − σ(x)) — apply the sigmoid first"
    if _same(out, stable_sigmoid(x)):
        return "returned σ(x) itself, not its derivative σ(x)·(1 − σ(x))"
    return None


define(name="sigmoid_derivative", description="σ(x)(1 − σ(x)) without overflow at ±1000, dtype kept",
       cases=_activation_cases, reference=_sigmoid_derivative_ref, run=_watch,
       judge=_elementwise_judge(_sigmoid_derivative_hint, _all_of(_value_at_zero("σ′", 0.25), _within("σ′", 0, 0.25))))

define(name="tanh", description="tanh(x) without overflow at ±1000, dtype kept",
       cases=_activation_cases, reference=np.tanh, run=_watch,
       judge=_elementwise_judge(properties=_all_of(_value_at_zero("tanh", 0), _within("tanh", -1, 1), _increasing("tanh"))))


def _tanh_derivative_hint(case: Case, out: Any) -> str | None:
    x = np.asarray(case.args[0], dtype=np.float64)
    if _same(out, 1 - x ** 2):
        return "looks like 1 − x²: the formula is 1 − tanh(x)² — apply tanh first"
    if _same(out, 1 - np.tanh(x)):
        return "looks like 1 − tanh(x): the tanh must be squared, 1 − tanh(x)²"
    return None


define(name="tanh_derivative", description="1 − tanh(x)², dtype kept",
       cases=_activation_cases, reference=_tanh_derivative_ref, run=_watch,
       judge=_elementwise_judge(_tanh_derivative_hint, _all_of(_value_at_zero("tanh′", 1), _within("tanh′", 0, 1))))


# --------------------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------------------

@grader_side
def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _softmax_cases(rng: np.random.Generator) -> list[Case]:
    z = rng.standard_normal((5, 3)) * 2
    big = rng.standard_normal((3, 4)) * 1000  # exp(1000) overflows without the max-subtraction
    big[0] = [1000.0, 1000.0, -1000.0, 999.0]
    return [
        Case(args=(z,), label="scores of 5 samples × 3 classes"),
        Case(args=(big,), label="scores around ±1000 (overflow test)"),
        Case(args=(z.astype(np.float32)[:4],), label="float32 scores"),
        Case(args=(np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -999.0], [0.0, 0.0, 0.0],
                             [2.0, 2.0, -1.0]]) + rng.uniform(-0.5, 0.5, (4, 1)),),
             label="rows far apart in scale (one near +1000, one near −1000), a row of ties, a batch of 4"),
        Case(args=(z[:1],), label="a batch of one sample"),
    ]


def _softmax_judge(case: Case, got: Any) -> str | None:
    out, problem = _warning_problem(got)
    if problem:
        return problem
    problem = compare_array("probabilities", out, case.expected, rtol=1e-6, atol=1e-12, check_dtype=True)
    if problem is None or "dtype" in problem or "NaN" in problem or "shape" in problem:
        return problem
    arr = np.asarray(out, dtype=np.float64)
    if np.allclose(arr.sum(axis=0), 1) and not np.allclose(arr.sum(axis=1), 1):
        return ("each column sums to 1, not each row: normalise over the classes of one sample "
                "(axis=1, keepdims=True), not over the batch")
    if np.isclose(arr.sum(), 1) and arr.shape[0] > 1:
        return "the whole array sums to 1: normalise each row separately (sum over axis=1, keepdims=True)"
    sums = arr.sum(axis=1)
    if not np.allclose(sums, 1):
        i = int(np.flatnonzero(~np.isclose(sums, 1))[0])
        return f"row {i} of your probabilities sums to {sums[i]:.4g}, not 1: divide each row by its sum"
    return _softmax_properties(case.args[0], arr) or problem


def _softmax_properties(z: np.ndarray, p: np.ndarray) -> str | None:
    """Probabilities lie in [0, 1] and keep the order of the scores within a row."""
    bad = (p < -1e-9) | (p > 1 + 1e-9)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        return f"probabilities lie in [0, 1]; yours has {p[i, j]:.4g} at ({i}, {j})"
    z = np.asarray(z, dtype=np.float64)
    for i in range(len(z)):
        order = np.argsort(z[i], kind="stable")
        zs, ps = z[i][order], p[i][order]
        wrong = (np.diff(zs) > 0) & (np.diff(ps) < -1e-9)
        if wrong.any():
            k = int(np.flatnonzero(wrong)[0])
            return (f"softmax keeps the order of the scores within a row; in row {i} the score {zs[k + 1]:.4g} > "
                    f"{zs[k]:.4g} gets the probability {ps[k + 1]:.4g} < {ps[k]:.4g}")
    return None


define(name="softmax", description="row-wise softmax (N, C) → (N, C), stable at ±1000, dtype kept",
       cases=_softmax_cases, reference=_softmax, run=_watch, judge=_softmax_judge)


# --------------------------------------------------------------------------------------
# Losses: (loss, gradient) pairs
# --------------------------------------------------------------------------------------

@grader_side
def _mse_ref(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    diff = pred - target
    return float(np.mean(diff ** 2)), 2 * diff / diff.size


def _mse_cases(rng: np.random.Generator) -> list[Case]:
    p, t = rng.standard_normal(6), rng.standard_normal(6)
    P, T = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    return [Case(args=(p, t), batch=6, label="6 predictions"),
            Case(args=(P, T), batch=12, label="4 samples × 3 outputs")]


def _loss_judge(case: Case, got: Any, advice_for: tuple = _ADVICE) -> str | None:
    out, problem = _warning_problem(got, advice_for)
    if problem:
        return problem
    return compare_outputs(("loss", "grad"), out, case.expected, rtol=1e-6, atol=1e-10, batch=case.batch)


def _mse_probes(pred: np.ndarray, target: np.ndarray) -> dict:
    return {"equal": (target.copy(), target.copy()), "swapped": (target.copy(), pred.copy())}


def _mse_judge(case: Case, got: Any) -> str | None:
    problem = _loss_judge(case, got)
    if not plain_symptom(problem) or not isinstance(got, dict) or "probes" not in got:
        return problem
    loss, grad = _pair(got["out"])
    loss0, grad0 = _pair(got["probes"]["equal"])
    loss_t, grad_t = _pair(got["probes"]["swapped"])
    if loss is not None and loss < 0:
        return f"loss is negative ({loss:.4g}) although a mean of squares is ≥ 0"
    if loss0 is not None and not np.isclose(loss0, 0, atol=1e-12):
        return f"with pred equal to target the loss must be 0; yours gives {loss0:.4g}"
    if grad0 is not None and not np.allclose(grad0, 0, atol=1e-12):
        return (f"with pred equal to target the gradient must be 0 everywhere; yours gives "
                f"{float(np.ravel(grad0)[np.argmax(np.abs(np.ravel(grad0)))]):.4g}")
    if loss is not None and loss_t is not None and not np.isclose(loss, loss_t, rtol=1e-9, atol=1e-12):
        return (f"swapping pred and target changes your loss from {loss:.4g} to {loss_t:.4g}, but "
                "(pred − target)² does not change")
    if grad is not None and grad_t is not None and grad.shape == grad_t.shape \
            and not np.allclose(grad_t, -grad, rtol=1e-9, atol=1e-12):
        return "swapping pred and target must flip the sign of the gradient (it is linear in pred − target); yours does not"
    return problem


define(name="mse_with_grad", description="mean of (pred − target)² and its gradient 2(pred − target)/size",
       cases=_mse_cases, reference=_mse_ref, outputs=("loss", "grad"), run=probe_run(_mse_probes, _watch), judge=_mse_judge)

BCE_EPS = 1e-7


@grader_side
def _bce_ref(p: np.ndarray, y: np.ndarray, eps: float = BCE_EPS) -> tuple[float, np.ndarray]:
    pc = np.clip(p, eps, 1 - eps)
    loss = -np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    return float(loss), (pc - y) / (pc * (1 - pc)) / p.size


def _bce_cases(rng: np.random.Generator) -> list[Case]:
    p = rng.uniform(0.05, 0.95, 8)
    y = (rng.uniform(size=8) < 0.5).astype(np.float64)
    edge_p = np.array([0.0, 1.0, 0.0, 1.0, rng.uniform(0.2, 0.8)])
    edge_y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])  # right at 0/1 and confidently wrong
    return [Case(args=(p, y), batch=8, label="8 probabilities"),
            Case(args=(edge_p, edge_y), batch=5, label="probabilities exactly 0 and 1")]


def _bce_probes(p: np.ndarray, y: np.ndarray, eps: float = BCE_EPS) -> dict:
    return {"half": (np.full_like(p, 0.5), y.copy()), "perfect": (y.astype(p.dtype), y.copy())}


def _bce_grad_by_label(y: np.ndarray, grad: np.ndarray, expected: np.ndarray) -> str | None:
    """Where the gradient is wrong only for one label (y = 0 or y = 1), say so."""
    wrong = ~np.isclose(grad, expected, rtol=1e-6, atol=1e-10)
    for label in (0, 1):
        mask = y == label
        if wrong.any() and mask.any() and (~mask).any() and np.array_equal(wrong, mask):
            i = int(np.flatnonzero(wrong)[0])
            return (f"grad is right where y = {1 - label} and wrong at every sample with y = {label} (e.g. got "
                    f"{grad[i]:.4g} at index {i}, expected {expected[i]:.4g}): your formula is wrong when y = {label}")
    return None


def _bce_properties(case: Case, got: dict) -> str | None:
    """Facts every binary cross-entropy and its gradient satisfy, on the student's outputs."""
    p, y = case.args[:2]
    n = p.size
    loss, grad = _pair(got["out"])
    probes = {k: _pair(v) for k, v in got.get("probes", {}).items()}
    if loss is not None and loss < 0:
        return f"loss is negative ({loss:.4g}) although binary cross-entropy −log p is ≥ 0"
    half_loss, half_grad = probes.get("half", (None, None))
    if half_loss is not None and not np.isclose(half_loss, np.log(2), rtol=1e-6):
        return (f"with p = 0.5 everywhere the loss must be log 2 = {np.log(2):.4g} whatever y is "
                f"(−log 0.5 for each sample); yours gives {half_loss:.4g}")
    perfect = probes.get("perfect", (None, None))[0]
    if perfect is not None and not 0 <= perfect <= 2 * -np.log1p(-BCE_EPS) + 1e-12:
        return (f"with p equal to y (perfect predictions) the loss must be about 0 (at most −log(1 − eps) ≈ "
                f"{-np.log1p(-BCE_EPS):.2g} after clipping); yours gives {perfect:.4g}")
    if grad is not None and grad.shape == y.shape:
        said = _bce_grad_by_label(y, grad, np.asarray(case.expected[1], dtype=np.float64))
        if said:
            return said
        wrong_sign = ((y == 1) & (grad > 0)) | ((y == 0) & (grad < 0))
        if wrong_sign.any():
            i = int(np.flatnonzero(wrong_sign)[0])
            return (f"grad has the wrong sign at index {i} (y = {y[i]:g}, p = {p[i]:.3g}, grad = {grad[i]:.4g}): "
                    "the loss falls as p moves towards y, so the gradient is < 0 where y = 1 and > 0 where y = 0")
    if half_grad is not None and half_grad.shape == y.shape:
        want = (2 - 4 * y) / n
        if not np.allclose(half_grad, want, rtol=1e-6, atol=1e-12):
            i = int(np.flatnonzero(~np.isclose(half_grad, want, rtol=1e-6, atol=1e-12))[0])
            return (f"with p = 0.5 everywhere the gradient must be (0.5 − y)/(0.5 · 0.5)/N = ±2/N = ±{2 / n:.4g}; "
                    f"yours gives {half_grad[i]:.4g} at index {i} (y = {y[i]:g})")
    return None


def _bce_judge(case: Case, got: Any) -> str | None:
    problem = _loss_judge(case, got, advice_for=(_BCE_DIVIDE, _ADVICE[0], _ADVICE[2]))
    if problem and problem.startswith("grad differs") and isinstance(got, dict):
        grad = _pair(got["out"])[1]
        said = _bce_grad_by_label(case.args[1], grad, np.asarray(case.expected[1], dtype=np.float64)) \
            if grad is not None and grad.shape == case.args[1].shape else None
        if said:
            return said
    if plain_symptom(problem) and isinstance(got, dict) and "probes" in got:
        return _bce_properties(case, got) or problem
    return problem


define(name="bce_with_grad", description="binary cross-entropy (mean) and its gradient, with p clipped to [eps, 1 − eps]",
       cases=_bce_cases, reference=_bce_ref, outputs=("loss", "grad"), run=probe_run(_bce_probes, _watch), judge=_bce_judge)


@grader_side
def _ce_ref(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    n = len(y)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    grad = np.exp(log_p)
    grad[np.arange(n), y] -= 1
    return float(-log_p[np.arange(n), y].mean()), grad / n


def _ce_cases(rng: np.random.Generator) -> list[Case]:
    s = rng.standard_normal((6, 4)) * 2
    y = rng.integers(0, 4, 6)
    big = rng.standard_normal((4, 3)) * 1000
    ybig = np.argmin(big, axis=1)  # confidently wrong: log(softmax) underflows to log(0)
    ybig[0] = np.argmax(big[0])
    return [Case(args=(s, y), batch=6, label="6 samples × 4 classes"),
            Case(args=(big, ybig), batch=4, label="scores around ±1000, mostly confidently wrong")]


_SATURATION_EPS = (1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15, 1e-6, 1e-5, 1e-4, 1e-16)


def _saturation(scores: np.ndarray, y: np.ndarray, loss: Any) -> str | None:
    """Name the ε when ``loss`` is the mean of −log(p + ε) or −log(clip(p, ε, 1 − ε)) (else None)."""
    try:
        loss = float(loss)
    except (TypeError, ValueError):
        return None
    n = len(y)
    log_p = _library_log_softmax(scores)[np.arange(n), y]
    p_y = np.exp(log_p)
    with np.errstate(all="ignore"):
        for eps in _SATURATION_EPS:
            added = np.isclose(loss, -np.mean(np.log(p_y + eps)), rtol=1e-6)
            clipped = np.isclose(loss, -np.mean(np.log(np.clip(p_y, eps, 1 - eps))), rtol=1e-6)
            if not (added or clipped):
                continue
            how = (f"adds ε = {eps:g} inside the log (or clips p to [ε, 1 − ε]: here the two agree)"
                   if added and clipped else f"adds ε = {eps:g} inside the log" if added
                   else f"clips the probabilities to [{eps:g}, 1 − {eps:g}]")
            return (f"loss saturates: it {how}, so a confidently wrong sample costs at most −log(ε) ≈ "
                    f"{-np.log(eps):.3g} instead of its true loss (here up to {float((-log_p).max()):.4g}) — "
                    "compute log-probabilities with log-sum-exp, log p = shifted − log Σ exp(shifted)")
    return None


def _ce_probes(scores: np.ndarray, y: np.ndarray) -> dict:
    n = len(y)
    raised = scores.copy()
    raised[np.arange(n), y] += 1.0
    return {"equal": (np.zeros_like(scores), y.copy()),
            "shifted": (scores + np.arange(1.0, n + 1.0)[:, None] * 3.0, y.copy()),
            "raised": (raised, y.copy())}


def _ce_properties(case: Case, got: dict) -> str | None:
    """Facts every softmax cross-entropy satisfies, checked on the student's outputs."""
    scores, y = case.args
    n, c = scores.shape
    loss, grad = _pair(got["out"])
    probes = {k: _pair(v) for k, v in got.get("probes", {}).items()}
    if loss is not None and loss < 0:
        return f"loss is negative ({loss:.4g}) although cross-entropy −log p is ≥ 0"
    if grad is not None and grad.shape == (n, c):
        sums = grad.sum(axis=1)
        if not np.allclose(sums, 0, atol=1e-9):
            i = int(np.flatnonzero(~np.isclose(sums, 0, atol=1e-9))[0])
            return (f"row {i} of grad sums to {sums[i]:.4g}; each row of (p − y)/N sums to 0, since the "
                    "probabilities sum to 1 and the one-hot row to 1")
    equal = probes.get("equal", (None, None))[0]
    if equal is not None and not np.isclose(equal, np.log(c), rtol=1e-6):
        return (f"with all scores equal (every class gets 1/{c}) the loss must be log {c} = {np.log(c):.4g}; "
                f"yours gives {equal:.4g}")
    shifted = probes.get("shifted", (None, None))[0]
    if loss is not None and shifted is not None and not np.isclose(shifted, loss, rtol=1e-6, atol=1e-9):
        return (f"adding a constant to every score of a row changed your loss from {loss:.4g} to {shifted:.4g}; "
                "softmax, and so the loss, does not change (only differences between scores matter)")
    raised = probes.get("raised", (None, None))[0]
    if loss is not None and raised is not None and raised > loss + 1e-9 * max(1.0, abs(loss)):
        return (f"raising the score of the right class (by 1 in every row) raised your loss from {loss:.4g} "
                f"to {raised:.4g}; cross-entropy must fall when the right class's score rises")
    return None


def _ce_judge(case: Case, got: Any) -> str | None:
    out, problem = _warning_problem(got)
    if problem:
        return problem
    problem = compare_outputs(("loss", "grad"), out, case.expected, rtol=1e-6, atol=1e-10, batch=case.batch)
    if problem and problem.startswith("loss") and isinstance(out, (tuple, list)) and len(out) == 2:
        saturated = _saturation(*case.args, out[0])
        if saturated:
            return saturated
    if problem and problem.startswith("grad differs") and isinstance(out, (tuple, list)) and len(out) == 2:
        scores, y = case.args
        n = len(y)
        p = _library_softmax(scores)
        onehot = np.zeros_like(p)
        onehot[np.arange(n), y] = 1
        if _same(out[1], p / n):
            return "grad is softmax(scores)/N: subtract the one-hot targets, (p − y)/N"
        if _same(out[1], (p - onehot)):
            return "grad is off by a factor of N (the batch size): the loss is a mean, so divide by N"
        g = _as_float(out[1])
        if g is not None and g.shape == p.shape:
            wrong = ~np.isclose(g, case.expected[1], rtol=1e-6, atol=1e-10)
            if np.array_equal(wrong, onehot == 1):
                return (f"grad is right except at each sample's own class (i, y_i) (e.g. got {g[0, y[0]]:.4g} at "
                        f"(0, {y[0]}), expected {case.expected[1][0, y[0]]:.4g}): there the gradient is (p − 1)/N")
    if plain_symptom(problem) and isinstance(got, dict):
        return _ce_properties(case, got) or problem
    return problem


define(name="softmax_cross_entropy", description="softmax cross-entropy from raw scores (mean, stable at ±1000) and its gradient (p − y)/N",
       cases=_ce_cases, reference=_ce_ref, outputs=("loss", "grad"), run=probe_run(_ce_probes, _watch), judge=_ce_judge)


# --------------------------------------------------------------------------------------
# Numerical gradient
# --------------------------------------------------------------------------------------

def _test_function(kind: str, A: np.ndarray) -> Callable[[np.ndarray], float]:
    """The scalar functions the numerical gradient is checked on (built from plain data)."""
    if kind == "sin_square":
        return lambda v: float(np.sum(A * np.sin(v)) + 0.5 * np.sum(v) ** 2)
    if kind == "logsumexp":
        return lambda v: float(np.log(np.sum(np.exp(A * v))))
    if kind == "linear":  # gradient A everywhere, and central differences are exact for it
        return lambda v: float(np.sum(A * v))
    if kind == "constant":  # gradient 0
        return lambda v: float(np.sum(A))
    raise ValueError(f"unknown test function {kind!r}")


@grader_side
def _central(kind: str, A: np.ndarray, x: np.ndarray, h: float, one_sided: bool = False,
             restore: bool = True) -> np.ndarray:
    f = _test_function(kind, A)
    x = x.copy()
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old if one_sided else old - h
        minus = f(x)
        if restore:
            x[i] = old
        grad[i] = (plus - minus) / (h if one_sided else 2 * h)
    return grad


def _numgrad_cases(rng: np.random.Generator) -> list[Case]:
    # h = 1e-3 is large on purpose: a forward difference is then visibly worse (error ~h)
    # than a central one (error ~h²), so the check can tell them apart.
    A = rng.standard_normal((3, 4))
    x = rng.standard_normal((3, 4))
    a = rng.standard_normal(5)
    v = rng.standard_normal(5)
    # The first case's h = 1e-2 is larger still: a gradient computed with another h (one
    # hard-coded instead of the argument) then differs by far more than the tolerance.
    return [Case(args=("sin_square", A, x, 1e-2), label="f(x) = Σ A·sin(x) + ½(Σx)² on a (3, 4) matrix, h = 0.01"),
            Case(args=("logsumexp", a, v, 1e-3), label="f(x) = log Σ exp(a·x) on a vector of 5")]


def _numgrad_run(fn: Callable, args: tuple) -> dict:
    """The gradient on the case, and on two probes whose gradient is known exactly: a linear
    f(x) = Σ A·x (gradient A) and a constant f (gradient 0), at the same x and h."""
    kind, A, x, h = args
    grad = fn(_test_function(kind, A), x, h)
    probes = {}
    for probe in ("linear", "constant"):
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                probes[probe] = fn(_test_function(probe, A), x.copy(), h)
        except Exception:  # the case itself worked; a probe that raises only tells us less
            probes[probe] = None
    return {"grad": grad, "x_after": x, "probes": probes}


def _numgrad_properties(case: Case, got: dict) -> str | None:
    kind, A, x, h = case.args
    for probe, expected, what in (("constant", np.zeros_like(A), "a constant f (gradient 0 everywhere)"),
                                  ("linear", A, "the linear f(x) = Σ A·x (gradient A everywhere)")):
        g = _as_float(got.get("probes", {}).get(probe))
        if g is None or g.shape != np.shape(A) or np.allclose(g, expected, rtol=1e-5, atol=1e-7):
            continue
        i = tuple(int(k) for k in np.argwhere(~np.isclose(g, expected, rtol=1e-5, atol=1e-7))[0])
        return (f"on {what} your grad is {g[i]:.4g} at index {i}, expected {expected[i]:.4g}: "
                "check the two points x ± h you evaluate and the division by 2h")
    return None


def _numgrad_judge(case: Case, got: dict) -> str | None:
    kind, A, x, h = case.args
    grad = got["grad"]
    if grad is not None and _same(grad, case.expected, rtol=1e-6, atol=1e-9):
        if not np.array_equal(np.asarray(got["x_after"]), x):
            return ("x was left changed after the call: put every x[i] back to its old value "
                    "after evaluating f(x + h) and f(x − h)")
        return None
    if grad is not None and np.shape(grad) == np.shape(x):
        if _same(grad, case.hypotheses["one-sided"], rtol=1e-6, atol=1e-9):
            return ("looks like a one-sided difference (f(x + h) − f(x)) / h: use the central difference "
                    "(f(x + h) − f(x − h)) / (2h), whose error shrinks like h² instead of h")
        if _same(grad, 2 * case.expected, rtol=1e-6, atol=1e-9):
            return "grad is twice the expected gradient: the central difference divides by 2h, not h"
        if _same(grad, case.expected / 2, rtol=1e-6, atol=1e-9):
            return "grad is half the expected gradient: divide by 2h (not 4h, and not h twice)"
        for other in _OTHER_H:
            if other != h and _same(grad, case.hypotheses[f"h = {other:g}"], rtol=1e-7, atol=1e-10) \
                    and not _same(case.expected, case.hypotheses[f"h = {other:g}"], rtol=1e-7, atol=1e-10):
                return (f"grad is the central difference with h = {other:g}, not with the h = {h:g} that was "
                        "passed: use the h argument instead of a constant")
        if _same(grad, case.hypotheses["not restored"], rtol=1e-6, atol=1e-9):
            return ("x[i] is not restored before moving on to the next entry, so later entries are "
                    "evaluated at the wrong point: set x[i] back to its old value")
    problem = compare_array("grad", grad, case.expected, rtol=1e-6, atol=1e-9)
    return (_numgrad_properties(case, got) if plain_symptom(problem) else None) or problem


_OTHER_H = (1e-4, 1e-5, 1e-6, 1e-3, 1e-7, 1e-8)  # a constant h instead of the argument


@grader_side
def _numgrad_ref(kind: str, A: np.ndarray, x: np.ndarray, h: float) -> np.ndarray:
    return _central(kind, A, x, h)


@grader_side
def _numgrad_hypotheses(kind: str, A: np.ndarray, x: np.ndarray, h: float) -> dict:
    return {"one-sided": _central(kind, A, x, h, one_sided=True),
            "not restored": _central(kind, A, x, h, restore=False),
            **{f"h = {other:g}": _central(kind, A, x, other) for other in _OTHER_H if other != h}}


define(name="numerical_gradient", description="central differences (f(x+h) − f(x−h)) / 2h for every entry of x, x restored",
       cases=_numgrad_cases, reference=_numgrad_ref, hypotheses=_numgrad_hypotheses,
       run=_numgrad_run, judge=_numgrad_judge)


# --------------------------------------------------------------------------------------
# Questions: predictions made before the experiment (mlcourse.checks.questions)
# --------------------------------------------------------------------------------------

number("answer_initial_loss", answer=float(np.log(10)), rtol=0.01,  # ln 9, ln 11 are 4–5 % away
       explain="equal scores give each of the 10 classes probability 1/10, so every sample's loss is "
               "−ln(1/10) = ln 10 ≈ 2.303 — the loss to expect from an untrained 10-class network.",
       wrong={0.1: "0.1 = 1/C is the probability each class gets; the loss is the negative log of the "
                   "right class's probability.",
              float(np.log2(10)): "log₂ 10 ≈ 3.32 counts bits; the cross-entropy here uses the natural "
                                  "logarithm (np.log).",
              0.0: "a loss of 0 needs probability 1 on the right class; equal scores spread it evenly.",
              10.0: "−log(1/C) is log C, not C."})

number("answer_sigmoid_slope", answer=0.25,
       explain="σ′(x) = σ(x)(1 − σ(x)) is largest where σ(x) = ½, at x = 0: ½ · ½ = ¼.",
       wrong={0.5: "0.5 is σ(0), the value of the sigmoid at 0, not its slope.",
              1.0: "1 is the largest slope of tanh (tanh′(0) = 1); the sigmoid is tanh at half the height "
                   "and twice the width, σ(x) = (1 + tanh(x/2))/2.",
              0.0: "σ′ only tends to 0 far from the origin (saturation); near x = 0 it is largest."})


# --------------------------------------------------------------------------------------
# The softmax Jacobian, derived by the student (graded in the "derivations" item)
# --------------------------------------------------------------------------------------

@grader_side
def _jacobian_ref(z: np.ndarray) -> np.ndarray:
    p = _softmax(z[None, :])[0]
    return np.diag(p) - np.outer(p, p)


def _jacobian_cases(rng: np.random.Generator) -> list[Case]:
    z3, z5 = rng.standard_normal(3) * 2, rng.standard_normal(5)
    big = np.array([1000.0, 999.0, -1000.0, 998.0])  # exp(1000) overflows without the max-subtraction
    return [Case(args=(z3,), label="3 classes"), Case(args=(z5,), label="5 classes"),
            Case(args=(big,), label="scores around ±1000 (overflow test)")]


def _jacobian_judge(case: Case, got: Any) -> str | None:
    out, problem = _warning_problem(got)
    if problem:
        return problem
    problem = compare_array("J", out, case.expected, rtol=1e-6, atol=1e-12)
    if not problem or "differs" not in problem:
        return problem
    (z,) = case.args
    p = _library_softmax(z)
    if _same(out, np.diag(p)):
        return ("J is diag(p): the off-diagonal entries are missing — p_j depends on every z_k through "
                "the denominator Σ exp(z_i), so ∂p_j/∂z_k is not 0 for j ≠ k")
    if _same(out, np.diag(p * (1 - p))):
        return ("J has p_j(1 − p_j) on the diagonal and zeros elsewhere — right for j = k, but for j ≠ k "
                "the quotient rule leaves a term from the denominator")
    if _same(out, -np.outer(p, p)):
        return "J is −p pᵀ: right off the diagonal, but for j = k the numerator's own derivative adds p_j (the δ_jk term)"
    if _same(out, np.outer(p, 1 - p)) or _same(out, np.outer(1 - p, p)):
        return ("J is an outer product with (1 − p): that is p_j(1 − p_k) for every pair — only the "
                "diagonal (j = k) has that form; for j ≠ k the derivative is −p_j p_k")
    if plain_symptom(problem):
        return _jacobian_properties(np.asarray(out, dtype=np.float64)) or problem
    return problem


def _jacobian_properties(J: np.ndarray) -> str | None:
    """J is symmetric, its columns sum to 0 (Σ_j p_j = 1 for every z) and its diagonal
    p_k(1 − p_k) lies in [0, ¼]."""
    sums = J.sum(axis=0)
    if not np.allclose(sums, 0, atol=1e-9):
        k = int(np.flatnonzero(~np.isclose(sums, 0, atol=1e-9))[0])
        return (f"column {k} of J sums to {sums[k]:.4g}; every column must sum to 0, because the "
                "probabilities always sum to 1, so their total cannot change with z_k")
    if not np.allclose(J, J.T, atol=1e-12):
        return "J is not symmetric; ∂p_j/∂z_k = ∂p_k/∂z_j for softmax"
    d = np.diag(J)
    if np.any(d < -1e-12) or np.any(d > 0.25 + 1e-12):
        return f"the diagonal of J is p_k(1 − p_k), which lies in [0, ¼]; yours has {d[(d < 0) | (d > 0.25)][0]:.4g}"
    return None


define(name="softmax_jacobian",
       description="J = ∂softmax(z)/∂z (C, C) for one row of scores, matching a numerical Jacobian",
       cases=_jacobian_cases, reference=_jacobian_ref, run=_watch, judge=_jacobian_judge)
