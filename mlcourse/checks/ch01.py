"""Checks for chapter 01 (linear regression).

Exercises: ``predict``, ``mse_loss``, ``mse_gradient``, ``gradient_descent``,
``minibatch_gd`` and ``least_squares``. Each judge first compares with the reference; when
that fails it compares with the wrong versions students actually write (a forgotten bias, a
½ in front of the MSE, the loss recorded before the update, the same shuffle every epoch, a
fit through the origin, …) so the message names the mistake instead of only a number.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from .compare import compare_array, compare_outputs, plain_symptom
from .core import Case, define, grader_side
from .helpers import probe_run, same_values
from .questions import number

_RTOL, _ATOL = 1e-6, 1e-9


_close = functools.partial(same_values, rtol=_RTOL, atol=_ATOL, equal_nan=True)


def _ones(X: np.ndarray) -> np.ndarray:
    """[X | 1]: (N, D) → (N, D+1), the bias as one more weight."""
    return np.hstack([X, np.ones((len(X), 1))])


# --------------------------------------------------------------------------------------
# predict
# --------------------------------------------------------------------------------------

@grader_side
def _predict_ref(X, w, b):
    return X @ w + b


def _predict_cases(rng: np.random.Generator) -> list[Case]:
    X, w, b = rng.standard_normal((6, 3)), rng.standard_normal(3), float(rng.uniform(0.5, 2.0))
    X1, w1, b1 = rng.uniform(0, 3, (5, 1)), rng.uniform(0.5, 2.0, 1), float(rng.uniform(-2.0, -0.5))
    return [Case(args=(X, w, b), label="6 samples with 3 features"),
            Case(args=(X1, w1, b1), label="5 samples with 1 feature")]


def _predict_judge(case: Case, out: Any) -> str | None:
    problem = compare_array("y_pred", out, case.expected, _RTOL, _ATOL)
    if problem is None:
        return None
    X, w, b = case.args
    n, d = X.shape
    shape = np.shape(out) if out is not None else None
    if shape == (n, d) and d > 1:
        return (f"y_pred has shape {shape}, expected ({n},): `X * w` multiplies element by element — "
                "use the matrix product `X @ w`, which sums over the features")
    if shape == (n, 1):
        return (f"y_pred has shape {shape}, expected ({n},): return one number per sample, a 1-D array "
                "(keep w 1-D with shape (D,) and don't reshape the result)")
    if _close(out, X @ w):
        return "y_pred ignores the bias: the model is ŷ = X @ w + b"
    if _close(out, X @ w - b):
        return "y_pred subtracts the bias: the model is ŷ = X @ w + b"
    return problem


define(name="predict", description="ŷ = X @ w + b, shape (N,), for one and for several features",
       cases=_predict_cases, reference=_predict_ref, judge=_predict_judge)


# --------------------------------------------------------------------------------------
# mse_loss
# --------------------------------------------------------------------------------------

@grader_side
def _mse_ref(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def _mse_cases(rng: np.random.Generator) -> list[Case]:
    y = rng.standard_normal(8)
    y_pred = y + 0.4 + 0.8 * rng.standard_normal(8)  # a mean error ≠ 0 tells (mean e)² apart
    y2 = rng.uniform(1, 3, 5)
    return [Case(args=(y_pred, y), batch=8, label="8 predictions"),
            Case(args=(y2 - 1.5 * rng.uniform(0.2, 1, 5), y2), batch=5, label="5 predictions")]


def _mse_probes(y_pred: np.ndarray, y: np.ndarray) -> dict:
    return {"equal": (y.copy(), y.copy()), "swapped": (y.copy(), y_pred.copy())}


def _mse_properties(loss: float, probes: dict) -> str | None:
    """Facts every MSE satisfies: ≥ 0, 0 when y_pred equals y, the same with the two swapped."""
    if loss < 0:
        return f"loss is negative ({loss:.4g}) although a mean of squares is ≥ 0"
    equal, swapped = (_number(probes.get(k)) for k in ("equal", "swapped"))
    if equal is not None and not np.isclose(equal, 0, atol=1e-12):
        return f"with y_pred equal to y the loss must be 0; yours gives {equal:.4g}"
    if swapped is not None and not np.isclose(swapped, loss, rtol=1e-9, atol=1e-12):
        return (f"swapping y_pred and y changes your loss from {loss:.4g} to {swapped:.4g}, but "
                "(ŷ − y)² does not change")
    return None


def _number(v: Any) -> float | None:
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        return None
    return float(arr) if arr.size == 1 else None


def _mse_judge(case: Case, got: Any) -> str | None:
    y_pred, y = case.args
    expected = case.expected
    out = got["out"]
    if out is not None and np.ndim(out) == 1 and np.shape(out) == y.shape:
        return (f"loss has shape {np.shape(out)}: one value per sample — average the squared errors "
                "(np.mean) to get one number")
    problem = compare_array("loss", out, expected, _RTOL, _ATOL, case.batch)
    if problem is None:
        return None
    e = y_pred - y
    if _close(out, np.sqrt(expected)):
        return "loss is the square root of the MSE (the RMSE): drop the np.sqrt"
    if _close(out, 0.5 * expected):
        return "loss is half the MSE: this course's MSE is mean((ŷ − y)²), without a ½ in front"
    if _close(out, np.mean(np.abs(e))):
        return "loss is the mean absolute error: square the differences instead of taking abs"
    if _close(out, np.mean(e) ** 2):
        return "loss squares the mean error: average the squared errors, mean((ŷ − y)**2), not mean(ŷ − y)**2"
    if _close(out, np.mean(e)) or _close(out, -np.mean(e)):
        return "loss is the mean error, not squared: square the differences before averaging"
    loss = _number(out)
    if plain_symptom(problem) and loss is not None:
        return _mse_properties(loss, got["probes"]) or problem
    return problem


define(name="mse_loss", description="the mean squared error, one number",
       cases=_mse_cases, reference=_mse_ref, run=probe_run(_mse_probes), judge=_mse_judge)


# --------------------------------------------------------------------------------------
# mse_gradient
# --------------------------------------------------------------------------------------

@grader_side
def _grad_ref(X, y, w, b):
    err = X @ w + b - y
    return 2.0 / len(y) * (X.T @ err), float(2.0 * err.mean())


def _grad_cases(rng: np.random.Generator) -> list[Case]:
    X, w = rng.standard_normal((8, 3)), rng.standard_normal(3)
    y, b = rng.standard_normal(8), float(rng.uniform(0.5, 1.5))
    X1, w1 = rng.uniform(0, 3, (6, 1)), rng.uniform(-1, 1, 1)
    y1, b1 = 2 * X1[:, 0] + 1 + rng.standard_normal(6), float(rng.uniform(-1, -0.3))
    return [Case(args=(X, y, w, b), batch=8, label="8 samples with 3 features"),
            Case(args=(X1, y1, w1, b1), batch=6, label="6 samples with 1 feature")]


def _grad_probes(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> dict:
    """A perfect fit: w = 0 and every y equal to b, so ŷ = y and both gradients are 0."""
    return {"perfect fit": (X.copy(), np.full(len(y), b), np.zeros_like(w), b)}


def _grad_properties(case: Case, perfect: Any) -> str | None:
    b = case.args[3]
    if not (isinstance(perfect, (tuple, list)) and len(perfect) == 2):
        return None
    for name, v in zip(("grad_w", "grad_b"), perfect):
        try:
            arr = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            continue
        if not np.allclose(arr, 0, atol=1e-12):
            return (f"at a perfect fit (w = 0, b = {b:.3g} and every y = {b:.3g}, so ŷ = y) both gradients must "
                    f"be 0; your {name} is {float(arr.ravel()[np.argmax(np.abs(arr.ravel()))]):.4g}")
    return None


def _grad_judge(case: Case, got: Any) -> str | None:
    X, y, w, b = case.args
    n, d = X.shape
    out = got["out"]
    problem = compare_outputs(("grad_w", "grad_b"), out, case.expected, _RTOL, _ATOL, case.batch)
    if problem is None:
        return None
    if isinstance(out, (tuple, list)) and len(out) == 2:
        gw, gb = out
        if np.shape(gb) == (n,):
            return (f"grad_b has shape {np.shape(gb)}, one value per sample: average over the batch, "
                    "∂L/∂b = 2·mean(ŷ − y)")
        if np.shape(gw) == (n,):
            return (f"grad_w has shape {np.shape(gw)}, expected ({d},): the gradient has the shape of w — "
                    "X.T @ err sums over the samples")
        e0 = X @ w - y  # the error without the bias
        if _close(gw, 2.0 / n * (X.T @ e0)) and not _close(gw, case.expected[0]):
            return "your error ignores b: compute ŷ = X @ w + b inside the gradient, then ŷ − y"
    if plain_symptom(problem):
        return _grad_properties(case, got["probes"]["perfect fit"]) or problem
    return problem


define(name="mse_gradient", description="grad_w = (2/N)·Xᵀ(ŷ − y) of shape (D,) and grad_b = 2·mean(ŷ − y)",
       cases=_grad_cases, reference=_grad_ref, outputs=("grad_w", "grad_b"), run=probe_run(_grad_probes),
       judge=_grad_judge)


# --------------------------------------------------------------------------------------
# Gradient descent, full batch and minibatch (reference with the classic variants)
# --------------------------------------------------------------------------------------

@grader_side
def _descend(X, y, lr, epochs, batch_size=None, seed=0, variant=""):
    """Reference gradient descent from w = 0, b = 0.

    Returns {"w", "b", "losses" (after each epoch), "before" (before each epoch)}.
    variant: "" or one wrong version: "ascent", "frozen_b", "no_shuffle", "reseed"
    (the same order every epoch), "drop_last", "misaligned" (X shuffled, y not), "b_ascent"
    (only b moves up), "w_no_lr"/"b_no_lr" (a step without lr), "b_starts_at_1",
    "one_epoch_short".
    """
    n, d = X.shape
    w, b = np.zeros(d), (1.0 if variant == "b_starts_at_1" else 0.0)
    rng = np.random.default_rng(seed)
    losses, before = [], []
    sign = -1.0 if variant == "ascent" else 1.0
    sign_b = -1.0 if variant in ("ascent", "b_ascent") else 1.0
    lr_w, lr_b = (1.0 if variant == "w_no_lr" else lr), (1.0 if variant == "b_no_lr" else lr)
    with np.errstate(all="ignore"):
        for _ in range(epochs - 1 if variant == "one_epoch_short" else epochs):
            before.append(float(np.mean((X @ w + b - y) ** 2)))
            if batch_size is None:
                batches = [(X, y)]
            else:
                if variant == "reseed":
                    rng = np.random.default_rng(seed)
                order = np.arange(n) if variant == "no_shuffle" else rng.permutation(n)
                batches = []
                for start in range(0, n, batch_size):
                    idx = order[start:start + batch_size]
                    if variant == "drop_last" and len(idx) < batch_size:
                        break
                    yb = y[start:start + batch_size] if variant == "misaligned" else y[idx]
                    batches.append((X[idx], yb))
            for Xb, yb in batches:
                err = Xb @ w + b - yb
                w = w - sign * lr_w * 2.0 / len(yb) * (Xb.T @ err)
                if variant != "frozen_b":
                    b = b - sign_b * lr_b * 2.0 * float(err.mean())
            losses.append(float(np.mean((X @ w + b - y) ** 2)))
    return {"w": w, "b": float(b), "losses": np.array(losses), "before": np.array(before)}


def _run_descent(fn: Callable, args: tuple) -> dict:
    """Call the student's loop; plain data back: {"w", "b", "losses"} or {"problem"}."""
    with np.errstate(all="ignore"):  # a diverging version overflows; the verdict says so
        out = fn(*args)
    if out is None:
        return {"problem": "returned None — expected (w, b, losses); did you forget `return`?"}
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        what = f"{len(out)} values" if isinstance(out, (tuple, list)) else f"one {type(out).__name__}"
        return {"problem": f"returned {what}, expected a tuple of 3 values (w, b, losses)"}
    w, b, losses = out
    try:
        w, b = np.array(w, dtype=float), np.array(b, dtype=float)
        losses = np.array([np.asarray(v, dtype=float) for v in losses]) if len(losses) else np.zeros(0)
    except (TypeError, ValueError):
        return {"problem": "could not read (w, b, losses) as numbers: return w as an array (D,), "
                           "b as a number and losses as a list of numbers"}
    return {"w": w, "b": b, "losses": losses}


def _judge_descent(variants: list[tuple[str, dict]], plausible_hint: str) -> Callable:
    def judge(case: Case, out: dict) -> str | None:
        exp = case.expected
        X, y = case.args[0], case.args[1]
        epochs = case.args[3]
        w, b, losses = out["w"], out["b"], out["losses"]
        problem = compare_array("w", w, exp["w"], _RTOL, _ATOL)
        if problem and np.shape(w) != np.shape(exp["w"]):
            return problem
        if np.shape(b) != ():
            return f"b has shape {np.shape(b)}, expected a single number"
        if problem or not _close(b, exp["b"]):
            for message, _ in variants:
                alt = case.hypotheses[message]
                if _close(w, alt["w"]) and _close(b, alt["b"]):
                    return message
            lr = case.args[2]
            n = len(y)
            for factor, size in _step_factors(n):
                alt = case.hypotheses[size]
                if _close(w, alt["w"]) and _close(b, alt["b"]):
                    return (f"your steps are {size} the expected size: the step is lr · gradient, with the "
                            "gradient (2/N)·Xᵀ(ŷ − y) — check the factor 2 and the 1/N (and that "
                            "`mse_gradient` passes its check)")
            with np.errstate(all="ignore"):
                got_loss = float(np.mean((X @ w + b - y) ** 2))
            start_loss = float(np.mean(y ** 2))  # the loss at w = 0, b = 0
            if not np.isfinite(got_loss) or got_loss > 10 * start_loss:
                return (f"the run diverged: the training MSE went from {start_loss:.3g} at w = 0, b = 0 to "
                        f"{got_loss:.3g}, although the reference converges with lr = {lr:g} — check the sign "
                        "and the size of your step (and that `mse_gradient` passes its check)")
            if got_loss <= 1.1 * exp["losses"][-1] + 1e-9 and plausible_hint:
                return plausible_hint
            return (problem or compare_array("b", b, exp["b"], _RTOL, _ATOL)) + \
                " (if `mse_gradient` does not pass its check yet, fix that first)"
        if losses.ndim != 1:
            return (f"losses has shape {losses.shape}: expected one number per epoch — the loss is the "
                    "mean over the whole training set")
        if len(losses) != epochs:
            extra = (" — record the loss once per epoch, after the update, not also before the first"
                     if len(losses) == epochs + 1 else "")
            return f"losses has {len(losses)} entries, expected one per epoch ({epochs}){extra}"
        if _close(losses, exp["before"]):
            return ("losses is one epoch behind: you record the loss before each epoch's update; record "
                    "it after, so losses[-1] is the loss of the w, b you return")
        return compare_array("losses", losses, exp["losses"], _RTOL, _ATOL)
    return judge


def _extra_kwargs(case: Case) -> dict:
    args = case.args
    return {} if len(args) == 4 else {"batch_size": args[4], "seed": args[5]}


def _step_factors(n: int) -> tuple:
    """(factor, name) of the step sizes a wrong gradient scale gives: half, twice, N×, 1/N×."""
    return ((0.5, "half"), (2.0, "twice"), (float(n), f"{n} times (N ×)"), (1.0 / n, f"1/{n} of (1/N ×)"))


@grader_side
def _descent_hypotheses(variants: list, X, y, lr, epochs, batch_size=None, seed=0) -> dict:
    """What each wrong version of the loop gives: every named variant, every wrong step size."""
    extra = {} if batch_size is None else {"batch_size": batch_size, "seed": seed}
    out = {message: _descend(X, y, lr, epochs, **extra, **kwargs) for message, kwargs in variants}
    out.update({size: _descend(X, y, lr * factor, epochs, **extra) for factor, size in _step_factors(len(y))})
    return out


def _descent_data(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.standard_normal((n, d))
    y = X @ rng.uniform(-2, 2, d) + rng.uniform(-1, 1) + 0.3 * rng.standard_normal(n)
    return X, y


def _gd_cases(rng: np.random.Generator) -> list[Case]:
    X, y = _descent_data(rng, 20, 3)
    X1 = rng.uniform(0, 3, (15, 1))
    y1 = 2 * X1[:, 0] + 1 + 0.5 * rng.standard_normal(15)
    return [Case(args=(X, y, 0.1, 25), label="20 samples, 3 features, lr=0.1, 25 epochs"),
            Case(args=(X1, y1, 0.05, 40), label="15 samples, 1 feature, lr=0.05, 40 epochs")]


_COMMON_VARIANTS = [
    ("w and b move *up* the gradient (the loss grows): subtract lr·grad to go downhill", {"variant": "ascent"}),
    ("b never changes: update the bias too, b = b − lr·grad_b", {"variant": "frozen_b"}),
    ("b moves *up* its gradient (w is updated right): b = b − lr·grad_b", {"variant": "b_ascent"}),
    ("w is updated without the learning rate: w = w − lr·grad_w", {"variant": "w_no_lr"}),
    ("b is updated without the learning rate: b = b − lr·grad_b", {"variant": "b_no_lr"}),
    ("b starts at 1: start from w = 0 and b = 0", {"variant": "b_starts_at_1"}),
    ("your w and b are what one epoch fewer gives: the loop must run `epochs` times (range(epochs))",
     {"variant": "one_epoch_short"}),
]

_GD_VARIANTS = _COMMON_VARIANTS


@grader_side
def _gd_ref(X, y, lr, epochs):
    return _descend(X, y, lr, epochs)


@grader_side
def _gd_hypotheses(X, y, lr, epochs):
    return _descent_hypotheses(_GD_VARIANTS, X, y, lr, epochs)


define(name="gradient_descent", description="full-batch gradient descent from w = 0, b = 0: final w, b and the loss after every epoch",
       cases=_gd_cases, reference=_gd_ref, hypotheses=_gd_hypotheses,
       run=_run_descent, judge=_judge_descent(_GD_VARIANTS, ""))


def _mb_cases(rng: np.random.Generator) -> list[Case]:
    X, y = _descent_data(rng, 23, 2)
    X2, y2 = _descent_data(rng, 17, 3)
    return [Case(args=(X, y, 0.05, 4, 5, int(rng.integers(1000))),
                 label="23 samples in batches of 5 (the last one has 3), 4 epochs"),
            Case(args=(X2, y2, 0.05, 3, 4, int(rng.integers(1000))),
                 label="17 samples in batches of 4 (the last batch is a single sample), 3 epochs")]


_MB_VARIANTS = [
    ("the samples are never shuffled: draw a new order = rng.permutation(N) at the start of every epoch",
     {"variant": "no_shuffle"}),
    ("every epoch visits the samples in the same order: create the generator once, before the loop, "
     "and draw a new order = rng.permutation(N) in every epoch", {"variant": "reseed"}),
    ("the last, smaller batch is skipped: keep it (order[start:start + batch_size] may be shorter "
     "than batch_size at the end)", {"variant": "drop_last"}),
    ("X and y are not shuffled together: index both with the same idx, X[idx] and y[idx]",
     {"variant": "misaligned"}),
    *_COMMON_VARIANTS,
]

@grader_side
def _mb_ref(X, y, lr, epochs, batch_size, seed):
    return _descend(X, y, lr, epochs, batch_size, seed)


@grader_side
def _mb_hypotheses(X, y, lr, epochs, batch_size, seed):
    return _descent_hypotheses(_MB_VARIANTS, X, y, lr, epochs, batch_size, seed)


_MB_PLAUSIBLE = ("your minibatch steps reach a loss as low as the reference, but w and b differ from it, so the "
                 "steps are not the same ones: the check expects rng = np.random.default_rng(seed) once before "
                 "the loop, order = rng.permutation(N) at the start of each epoch, and the batches "
                 "order[start:start + batch_size] for start = 0, batch_size, 2·batch_size, … in turn")

define(name="minibatch_gd", description="minibatch gradient descent with a seeded shuffle every epoch: final w, b and the "
                   "loss after every epoch",
       cases=_mb_cases, reference=_mb_ref, hypotheses=_mb_hypotheses,
       run=_run_descent, judge=_judge_descent(_MB_VARIANTS, _MB_PLAUSIBLE))


# --------------------------------------------------------------------------------------
# least_squares
# --------------------------------------------------------------------------------------

@grader_side
def _lstsq_ref(X, y):
    theta = np.linalg.lstsq(_ones(X), y, rcond=None)[0]
    return theta[:-1], float(theta[-1])


def _lstsq_cases(rng: np.random.Generator) -> list[Case]:
    X, y = _descent_data(rng, 30, 3)
    y = y + 2.5  # a clearly non-zero bias, so a fit through the origin shows
    X1 = rng.uniform(0, 3, (10, 1))
    y1 = 1.5 * X1[:, 0] + 3 + 0.3 * rng.standard_normal(10)
    return [Case(args=(X, y), label="30 samples with 3 features"),
            Case(args=(X1, y1), label="10 samples with 1 feature")]


def _lstsq_judge(case: Case, out: Any) -> str | None:
    problem = compare_outputs(("w", "b"), out, case.expected, _RTOL, _ATOL)
    if problem is None:
        return None
    X, y = case.args
    if isinstance(out, (tuple, list)) and len(out) == 2:
        w, b = out
        w0 = np.linalg.lstsq(X, y, rcond=None)[0]
        if _close(w, w0):
            return ("w is the fit through the origin (no bias): append a column of ones to X, "
                    "A = [X | 1], so that the last entry of the solution is b")
        try:
            got = np.sort(np.append(np.asarray(w, dtype=float).ravel(), float(np.asarray(b, dtype=float))))
            want = np.sort(np.append(case.expected[0], case.expected[1]))
        except (TypeError, ValueError):
            return problem
        if _close(got, want):
            return ("the right numbers in the wrong places: if the column of ones comes first, b is "
                    "theta[0] and w is theta[1:]; if it comes last, w = theta[:-1], b = theta[-1]")
    return problem


define(name="least_squares", description="the closed-form least-squares w (D,) and b, as np.linalg.lstsq finds them",
       cases=_lstsq_cases, reference=_lstsq_ref, outputs=("w", "b"), judge=_lstsq_judge)


# --------------------------------------------------------------------------------------
# Questions: predictions made before the experiment (mlcourse.checks.questions)
# --------------------------------------------------------------------------------------

number("answer_divergence_lr", answer=0.2303, rtol=0.03,
       explain="one step multiplies the error along an eigenvector by (1 − η·λ); it grows once "
               "|1 − η·λ_max| > 1, i.e. for η > 2/λ_max = 2/8.684 ≈ 0.230 — the steepest direction sets the limit.",
       wrong={0.1152: "1/λ_max ≈ 0.115 is where the steps start to zig-zag across the valley (1 − ηλ < 0); "
                      "they still shrink until |1 − ηλ| reaches 1.",
              5.251: "2/λ_min ≈ 5.25 is the limit of the flattest direction; the steepest direction "
                     "diverges long before.",
              8.684: "λ_max itself is a curvature, not a learning rate; the limit is 2/λ_max.",
              0.4606: "4/λ_max doubles the limit: with η = 4/λ_max the factor is 1 − 4 = −3, already far past −1."})

number("answer_batch_noise", answer=0.5, rtol=0.05,
       explain="a batch mean of B independent per-sample gradients has variance σ²/B, so its standard "
               "deviation is σ/√B: four times the batch, √4 = 2 times less noise.",
       wrong={0.25: "1/4 is what happens to the variance; the standard deviation is its square root, 1/√4 = 1/2.",
              1.0: "averaging more samples does reduce the noise: their independent errors partly cancel.",
              0.0: "a bigger batch is still a random sample of the data, so its gradient is still noisy — "
                   "only the full data set gives the exact gradient.",
              2.0: "the noise shrinks, it does not grow: the batch gradient is a mean, not a sum."})
