"""Checks for chapter 05 (the training loop).

Exercises: the three learning-rate schedules, ``accuracy`` and ``confusion_matrix``,
``train_epoch`` (one shuffled pass of minibatch SGD) and ``train`` (epochs, schedule and the
per-epoch history). The training checks build a small ``mlcourse`` network from a seed in the
student's process, hand it to the student's function and send back only the weights and the
history (plain data); the grader compares them with a reference run and, when they differ,
with the classic wrong loops (no shuffling, the same order every epoch, the last partial
batch dropped, …) so the message names the mistake. ``iris_80`` trains the student's loop on
Iris and judges predictions for held-out flowers whose labels never leave the grader.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..data import StandardScaler, load_iris, train_test_split
from ..layers import Dense, ReLU
from ..losses import CrossEntropyLoss
from ..model import Sequential
from .compare import as_array, compare_array
from .core import Case, define, describe_exception, grader_side
from .helpers import bias_gradient_slip, dense_output_slip, held_out_accuracy, same_values
from .questions import number

_RTOL, _ATOL = 1e-6, 1e-9


_close = functools.partial(same_values, rtol=_RTOL, atol=_ATOL, equal_nan=True)


# --------------------------------------------------------------------------------------
# Learning-rate schedules
# --------------------------------------------------------------------------------------

def _run_schedule(fn: Callable, args: tuple) -> dict:
    """lr for epochs 0 … E-1 as {"lr": (E,)}; args = (lr0, E, parameter)."""
    lr0, n_epochs, param = args
    values = []
    for epoch in range(n_epochs):
        out = fn(lr0, epoch, param)
        if out is None:
            return {"problem": f"returned None for epoch {epoch} — did you forget `return`?"}
        try:
            value = np.asarray(out, dtype=float)
        except (TypeError, ValueError):
            return {"problem": f"returned a {type(out).__name__} for epoch {epoch}, expected a number"}
        if value.shape != ():
            return {"problem": f"returned an array of shape {value.shape} for epoch {epoch}, "
                               "expected a single number (the learning rate of that epoch)"}
        values.append(float(value))
    return {"lr": np.array(values)}


def _schedule_judge(variants: list[tuple[str, Callable]]) -> Callable:
    def judge(case: Case, output: Any) -> str | None:
        got, expected = output["lr"], case.expected["lr"]
        if _close(got, expected):
            return None
        lr0, n_epochs, param = case.args
        for message, fn in variants:
            try:
                with np.errstate(all="ignore"):
                    values = [fn(np.float64(lr0), e, param) for e in range(n_epochs)]
            except (ArithmeticError, ValueError):
                continue
            if _close(got, values):
                return message
        if _close(got[:-1], expected[1:]):
            return ("is one epoch ahead: the value you give for epoch t is the reference's for "
                    "epoch t + 1 — epochs count from 0 and epoch 0 must give lr0")
        if _close(got[1:], expected[:-1]):
            return ("is one epoch late: the value you give for epoch t is the reference's for "
                    "epoch t − 1 — epoch 0 must give lr0, the decay starts after it")
        if not np.isclose(got[0], lr0):
            return f"gives {got[0]:.4g} at epoch 0, expected lr0 = {lr0:.4g} (no decay yet)"
        if _close(got, np.full_like(got, lr0)):
            return f"gives lr0 = {lr0:.4g} at every epoch: the rate never decays"
        return compare_array("lr (epochs 0, 1, 2, …)", got, expected, _RTOL, _ATOL)
    return judge


@grader_side
def _step_cases(rng: np.random.Generator) -> list[Case]:
    lr0 = float(rng.choice([0.1, 0.2, 0.05]))
    specs = [(lr0, 12, (0.5, 3)), (float(rng.uniform(0.01, 1)), 14, (0.1, 4))]
    return [Case(args=(lr0_, n, p), expected={"lr": np.array([_step(lr0_, e, *p) for e in range(n)])},
                 label=f"lr0={lr0_:.3g}, drop={p[0]}, every={p[1]}") for lr0_, n, p in specs]


@grader_side
def _step(lr0: float, epoch: int, drop: float, every: int) -> float:
    return lr0 * drop ** (epoch // every)


define(name="step_decay", description="lr0 · drop^⌊epoch / every⌋ for epochs 0, 1, 2, …",
       cases=_step_cases,
       run=lambda fn, args: _run_schedule(lambda lr0, e, p: fn(lr0, e, *p), args),
       judge=_schedule_judge([
           ("changes every epoch, smoothly: use integer division epoch // every so the rate stays "
            "constant for `every` epochs, then drops", lambda lr0, e, p: lr0 * p[0] ** (e / p[1])),
           ("drops one epoch early (at epochs every−1, 2·every−1, …): use epoch // every with epochs counted "
            "from 0", lambda lr0, e, p: lr0 * p[0] ** ((e + 1) // p[1])),
           ("subtracts instead of multiplying: step decay multiplies by `drop` every `every` epochs",
            lambda lr0, e, p: lr0 - p[0] * (e // p[1])),
       ]))


@grader_side
def _exp_cases(rng: np.random.Generator) -> list[Case]:
    specs = [(float(rng.choice([0.1, 0.3, 0.05])), 10, 0.9), (float(rng.uniform(0.01, 1)), 8, 0.5)]
    return [Case(args=s, expected={"lr": np.array([s[0] * s[2] ** e for e in range(s[1])])},
                 label=f"lr0={s[0]:.3g}, rate={s[2]}") for s in specs]


define(name="exponential_decay", description="lr0 · rate^epoch for epochs 0, 1, 2, …",
       cases=_exp_cases, run=_run_schedule,
       judge=_schedule_judge([
           ("shrinks by (1 − rate) per epoch: `rate` is the factor *kept* each epoch, lr0 · rate**epoch",
            lambda lr0, e, r: lr0 * (1 - r) ** e),
           ("uses e^(−rate·epoch): this schedule is lr0 · rate**epoch (rate is the per-epoch factor)",
            lambda lr0, e, r: lr0 * np.exp(-r * e)),
           ("multiplies by rate·epoch instead of raising rate to the power epoch: lr0 * rate ** epoch",
            lambda lr0, e, r: lr0 * r * e),
       ]))


@grader_side
def _inv_cases(rng: np.random.Generator) -> list[Case]:
    specs = [(float(rng.choice([0.1, 0.5, 0.2])), 10, 0.5), (float(rng.uniform(0.01, 1)), 12, 0.05)]
    return [Case(args=s, expected={"lr": np.array([s[0] / (1 + s[2] * e) for e in range(s[1])])},
                 label=f"lr0={s[0]:.3g}, decay={s[2]}") for s in specs]


define(name="inverse_time_decay", description="lr0 / (1 + decay · epoch) for epochs 0, 1, 2, …",
       cases=_inv_cases, run=_run_schedule,
       judge=_schedule_judge([
           ("divides by (1 + decay)^epoch: that is exponential decay; inverse-time decay is "
            "lr0 / (1 + decay·epoch)", lambda lr0, e, d: lr0 / (1 + d) ** e),
           ("gives lr0 / (decay·epoch), infinite at epoch 0: add the 1, lr0 / (1 + decay·epoch)",
            lambda lr0, e, d: lr0 / (d * e)),
           ("computes lr0 / 1 + decay·epoch: put brackets around the denominator, lr0 / (1 + decay * epoch)",
            lambda lr0, e, d: lr0 / 1 + d * e),
           ("ignores decay: lr0 / (1 + epoch) is the schedule for decay = 1; use lr0 / (1 + decay * epoch)",
            lambda lr0, e, d: lr0 / (1 + e)),
           ("multiplies by (1 + decay·epoch) instead of dividing: the rate must shrink",
            lambda lr0, e, d: lr0 * (1 + d * e)),
       ]))


# --------------------------------------------------------------------------------------
# accuracy and confusion_matrix
# --------------------------------------------------------------------------------------

def _labels_with_errors(rng: np.random.Generator, n: int, k: int, error_rate: float) -> tuple[np.ndarray, np.ndarray]:
    y_true = rng.integers(0, k, n)
    wrong = rng.random(n) < error_rate
    y_pred = np.where(wrong, (y_true + rng.integers(1, k, n)) % k, y_true)
    return y_true, y_pred


def _accuracy_cases(rng: np.random.Generator) -> list[Case]:
    a = _labels_with_errors(rng, 20, 4, 0.3)
    b = _labels_with_errors(rng, 7, 3, 0.4)
    return [Case(args=a, batch=20, label="20 samples, 4 classes"),
            Case(args=b, batch=7, label="7 samples, 3 classes")]


def _accuracy_judge(case: Case, output: Any) -> str | None:
    if output is None:
        return "returned None — did you forget `return`?"
    try:
        got = np.asarray(output, dtype=float)
    except (TypeError, ValueError):
        return f"returned a {type(output).__name__}, expected a single number (a fraction in [0, 1])"
    expected = float(case.expected)
    if got.shape != ():
        if got.shape == np.shape(case.args[0]):
            return ("returned one value per sample (y_true == y_pred): average it to a single number, "
                    "the fraction of correct predictions")
        return f"returned an array of shape {got.shape}, expected a single number (a fraction in [0, 1])"
    if np.isclose(got, 100 * expected) and expected != 0:
        return f"returned {float(got):.4g}, a percentage: return the fraction in [0, 1] ({expected:.4g})"
    if np.isclose(got, 1 - expected) and not np.isclose(expected, 0.5):
        return f"returned {float(got):.4g} = 1 − accuracy: that is the error rate; count the *matching* labels"
    return compare_array("accuracy", got, np.float64(expected), _RTOL, _ATOL, case.batch)


@grader_side
def _accuracy_ref(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true == y_pred))


define(name="accuracy", description="the fraction of labels predicted correctly",
       cases=_accuracy_cases, reference=_accuracy_ref, judge=_accuracy_judge)


@grader_side
def _confusion_ref(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def _confusion_cases(rng: np.random.Generator) -> list[Case]:
    t1, p1 = _labels_with_errors(rng, 30, 3, 0.35)
    t2, p2 = _labels_with_errors(rng, 15, 3, 0.3)  # classes 0-2 only: class 3 never appears
    return [Case(args=(t1, p1, 3), label="30 samples, 3 classes"),
            Case(args=(t2, p2, 4), label="15 samples, num_classes=4 but class 3 never occurs")]


def _confusion_judge(case: Case, output: Any) -> str | None:
    expected = case.expected
    got, problem = as_array("the confusion matrix", output, expected)
    if problem:
        return problem
    if got.shape != expected.shape:
        k = case.args[2]
        if got.ndim == 2 and got.shape[0] == got.shape[1] and got.shape[0] < k:
            return (f"has shape {got.shape}, expected {expected.shape}: use num_classes={k} for the size, "
                    "not the largest label seen — a class can be missing from a batch")
        return compare_array("confusion matrix", got, expected)
    if _close(got, expected):
        if np.issubdtype(got.dtype, np.floating) and not np.all(got == np.round(got)):
            return "holds non-integer values: each entry is a count"
        return None
    if _close(got, expected.T):
        return ("rows and columns are swapped (the transpose): row i must be the *true* class, "
                "column j the *predicted* class, C[i, j] += 1 for each pair")
    rows = expected.sum(axis=1, keepdims=True)
    if _close(got, expected / np.where(rows == 0, 1, rows)):
        return "is normalised per row: return the raw counts (integers); divide later when you plot rates"
    if _close(got, expected / expected.sum()):
        return "is normalised to fractions: return the raw counts (integers)"
    if _close(got, (expected > 0).astype(int)):
        return "records only *whether* a pair occurs (0/1): count every sample, C[i, j] += 1"
    n = len(case.args[0])
    if np.isclose(got.sum(), 2 * n) and _close(got, 2 * expected):
        return f"counts every sample twice (its entries sum to {2 * n} for {n} samples): add 1 per sample"
    if not np.isclose(got.sum(), n):
        return (f"its entries sum to {got.sum():g}, but there are {n} samples: each sample adds exactly 1 to "
                "one entry, C[true, predicted] += 1")
    return compare_array("confusion matrix", got, expected)


define(name="confusion_matrix", description="(C, C) counts, rows = true class, columns = predicted class",
       cases=_confusion_cases, reference=_confusion_ref, judge=_confusion_judge)


# --------------------------------------------------------------------------------------
# The training loop: shared machinery
# --------------------------------------------------------------------------------------

def _make_model(sizes: tuple[int, ...], seed: int) -> Any:
    """Dense → ReLU → … → Dense (logits), He-initialised from ``seed`` (float64)."""
    rng = np.random.default_rng(seed)
    layers: list = []
    for i in range(len(sizes) - 1):
        layers += [Dense(sizes[i], sizes[i + 1], rng=rng), ReLU()]
    return Sequential(layers[:-1])


def _make_schedule(spec: tuple | None) -> Callable[[int], float] | None:
    """Plain data → a schedule callable: ("step", lr0, drop, every) or ("exp", lr0, rate)."""
    if spec is None:
        return None
    if spec[0] == "step":
        _, lr0, drop, every = spec
        return lambda epoch: lr0 * drop ** (epoch // every)
    _, lr0, rate = spec
    return lambda epoch: lr0 * rate ** epoch


def _params_of(model: Any) -> dict[str, np.ndarray]:
    return {k: np.array(v, dtype=float) for k, v in model.params.items()}


def _to_float_list(values: Any) -> list[float] | None:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr.reshape(-1).tolist() if arr.ndim <= 1 else None


def _blobs(rng: np.random.Generator, n: int, d: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k Gaussian blobs in d dimensions: easy to learn, so the loss visibly moves."""
    y = np.arange(n) % k
    rng.shuffle(y)
    centres = 2.0 * rng.standard_normal((k, d))
    return centres[y] + rng.standard_normal((n, d)), y.astype(np.int64)


@grader_side
def _reference_loop(model: Any, X: np.ndarray, y: np.ndarray, epochs: int, batch_size: int,
                    lr: float, rng: np.random.Generator, schedule: Callable | None = None,
                    X_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
                    variant: str = "") -> dict[str, list[float]]:
    """The reference loop (and, with ``variant``, a classic wrong one). Trains ``model`` in
    place and returns every flavour of the per-epoch history the judges compare against."""
    loss_fn = CrossEntropyLoss()
    n = len(X)
    fixed = rng.permutation(n) if variant == "once" else None
    h: dict[str, list[float]] = {k: [] for k in (
        "loss", "accuracy", "lr", "loss_unweighted", "loss_last", "loss_sum", "loss_end",
        "accuracy_end", "val_loss", "val_accuracy", "val_loss_before", "val_accuracy_before",
        "batch_losses", "batch_sizes", "batch_accuracies", "correct")}

    def evaluate(Xe: np.ndarray, ye: np.ndarray) -> tuple[float, float]:
        out = model.forward(Xe, training=False)
        return loss_fn.forward(out, ye), float(np.mean(out.argmax(axis=1) == ye))

    for epoch in range(epochs):
        lr_e = lr
        if schedule is not None and variant != "no_schedule":
            lr_e = schedule(epoch + (1 if variant == "schedule_late" else 0))
        if X_val is not None:
            vl, va = evaluate(X_val, y_val)
            h["val_loss_before"].append(vl)
            h["val_accuracy_before"].append(va)
        if variant == "no_shuffle":
            order = np.arange(n)
        elif variant == "once":
            order = fixed
        else:
            order = rng.permutation(n)
        if variant == "x_y_apart":
            order_y = rng.permutation(n)
        losses, sizes, correct = [], [], 0
        stop = n - n % batch_size if variant == "drop_last" and n % batch_size else n
        for start in range(1 if variant == "start_one" else 0, stop, batch_size):
            idx = order[start + (1 if variant == "skip_first" else 0):
                        start + batch_size - (1 if variant == "short_batches" else 0)]
            yb = y[order_y[start:start + batch_size]] if variant == "x_y_apart" else y[idx]
            out = model.forward(X[idx], training=True)
            losses.append(loss_fn.forward(out, yb))
            sizes.append(len(idx))
            correct += int(np.sum(out.argmax(axis=1) == yb))
            h["batch_accuracies"].append(float(np.mean(out.argmax(axis=1) == yb)))
            model.backward(loss_fn.backward())
            if variant != "no_update":
                step = -lr_e if variant == "ascent" else lr_e
                for k, p in model.params.items():
                    if variant == "lr_only":
                        p -= step
                    else:
                        p -= (1.0 if variant == "no_lr" else step) * model.grads[k]
        seen = sum(sizes)
        h["batch_losses"].append([float(v) for v in losses])
        h["batch_sizes"].append(list(sizes))
        h["correct"].append(correct)
        h["loss"].append(float(np.dot(losses, sizes) / seen))
        h["accuracy"].append(correct / seen)
        h["lr"].append(float(lr_e))
        h["loss_unweighted"].append(float(np.mean(losses)))
        h["loss_last"].append(float(losses[-1]))
        h["loss_sum"].append(float(np.sum(losses)))
        le, ae = evaluate(X, y)
        h["loss_end"].append(le)
        h["accuracy_end"].append(ae)
        if X_val is not None:
            vl, va = evaluate(X_val, y_val)
            h["val_loss"].append(vl)
            h["val_accuracy"].append(va)
    return h


# --------------------------------------------------------------------------------------
# train_epoch
# --------------------------------------------------------------------------------------

@grader_side
def _train_epoch_cases(rng: np.random.Generator) -> list[Case]:
    X1, y1 = _blobs(rng, 23, 4, 3)
    X2, y2 = _blobs(rng, 16, 3, 2)
    seed1, seed2 = (int(s) for s in rng.integers(0, 2**31, 2))
    cases = [Case(args=((4, 6, 3), seed1, X1, y1, 5, 0.3, seed2),
                  label="23 samples in batches of 5 (the last batch has 3)"),
             Case(args=((3, 2), seed2, X2, y2, 16, 0.5, seed1),
                  label="one full batch of 16, a linear model"),
             Case(args=((4, 5, 3), seed2, X1[:21], y1[:21], 5, 0.2, seed1),
                  label="21 samples in batches of 5 (the last batch is a single sample)")]
    for c in cases:
        c.expected = _train_epoch_expected(c.args)
    return cases


@grader_side
def _train_epoch_expected(args: tuple, variant: str = "") -> dict:
    sizes, mseed, X, y, batch_size, lr, seed = args
    model = _make_model(sizes, mseed)
    h = _reference_loop(model, X, y, 1, batch_size, lr, np.random.default_rng(seed), variant=variant)
    return {"params": _params_of(model), "history": h}


def _run_train_epoch(fn: Callable, args: tuple) -> dict:
    sizes, mseed, X, y, batch_size, lr, seed = args
    model = _make_model(sizes, mseed)
    out = fn(model, CrossEntropyLoss(), X, y, batch_size, lr, np.random.default_rng(seed))
    if out is None:
        return {"problem": "returned None — return (mean_loss, accuracy) of the epoch; did you forget `return`?"}
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        what = f"{len(out)} values" if isinstance(out, (tuple, list)) else f"one {type(out).__name__}"
        return {"problem": f"returned {what}, expected 2: (mean_loss, accuracy) of the epoch"}
    values = [_to_float_list(v) for v in out]
    if any(v is None or len(v) != 1 for v in values):
        return {"problem": "returned (mean_loss, accuracy) that are not single numbers — return two floats"}
    return {"params": _params_of(model), "loss": values[0][0], "accuracy": values[1][0]}


_PARAM_VARIANTS = [
    ("no_update", "the weights did not change: update the model's own arrays in place, "
                  "p -= lr * grads[k] (model.params[k] = … only rebinds a dict entry)"),
    ("ascent", "the weights moved *up* the gradient (the loss grows): subtract lr · grad"),
    ("no_shuffle", "the weights match training *without shuffling*: visit the samples in the order "
                   "order = rng.permutation(N)"),
    ("x_y_apart", "X and y were shuffled with two different orders, so inputs lost their labels: "
                  "index both with the same permutation"),
    ("drop_last", "the last, smaller batch was skipped: range(0, N, batch_size) with "
                  "order[start:start + batch_size] keeps it"),
    ("once", "the samples are visited in the same order every epoch: draw a new "
             "rng.permutation(N) at the start of every epoch (create the rng once, before the loop)"),
    ("no_schedule", "the learning rate never changed: use lr = schedule(epoch) at the start of every "
                    "epoch when a schedule is given"),
    ("schedule_late", "the schedule is one epoch ahead: epoch 0 must use schedule(0), epoch 1 schedule(1), …"),
    ("no_lr", "the weights moved by the whole gradient: the update ignores lr — p -= lr * grads[k]"),
    ("lr_only", "every weight moved by lr alone, without its gradient: p -= lr * grads[k]"),
    ("short_batches", "the weights match batches of batch_size − 1 samples: a slice's end is exclusive, "
                      "so order[start:start + batch_size] already holds batch_size samples"),
    ("skip_first", "the weights match batches that leave out their first sample (order[start + 1:…]): "
                   "slice order[start:start + batch_size]"),
    ("start_one", "the weights match batches that start at 1, so the first shuffled sample is never used: "
                  "for start in range(0, N, batch_size)"),
]

_SLICE_VARIANTS = ["no_lr", "lr_only", "short_batches", "skip_first", "start_one"]


def _judge_params(got: dict, expected: dict, variant_params: Callable[[str], dict],
                  variants: list[str], initial: dict) -> str | None:
    if set(got) != set(expected):
        return f"the model's parameters changed names: got {sorted(got)}, expected {sorted(expected)}"
    if all(_close(got[k], expected[k]) for k in expected):
        return None
    if all(_close(got[k], initial[k]) for k in expected):
        return dict(_PARAM_VARIANTS)["no_update"]
    for v in variants:
        ref = variant_params(v)  # None: that mistake cannot even run on this case
        if ref is not None and all(_close(got[k], ref[k]) for k in expected):
            return dict(_PARAM_VARIANTS)[v]
    for k in expected:
        problem = compare_array(f"the weight array {k!r} after training", got[k], expected[k], _RTOL, _ATOL)
        if problem:
            return problem + " — check the order: shuffle, slice a batch, forward, loss, backward, update"
    return None


_LOSS_VARIANTS = [
    ("loss_unweighted", "is the plain mean of the batch losses: weight each batch's loss by its size "
                        "(the last batch is smaller), i.e. Σ loss_b·len_b / N"),
    ("loss_last", "is the loss of the last batch only: average over all batches of the epoch, "
                  "weighted by batch size"),
    ("loss_sum", "is the sum of the batch losses: divide by N after weighting each by its size"),
    ("loss_end", "is the loss of the whole training set *after* the epoch: record the running mean "
                 "of the batch losses computed during the epoch (no extra pass)"),
]


def _sum_slips(name: str, h: dict) -> list[tuple[list[float], str]]:
    """What the running sum of an epoch's loss or accuracy gives with the classic slips, per epoch.

    The weights were right (they are judged first), so every batch's loss, size and accuracy is
    the reference's: each slip is a formula in those numbers, tested on the value returned."""
    if name == "loss":
        slips = [(lambda L, S, A, c: L @ S, "is Σ loss_b·len_b without dividing by N"),
                 (lambda L, S, A, c: L.sum() / S.sum(),
                  "is Σ loss_b / N: each batch's mean loss must be weighted by its size, Σ loss_b·len_b / N"),
                 (lambda L, S, A, c: (1 + L @ S) / S.sum(),
                  "is (1 + Σ loss_b·len_b) / N: the running total starts at 1 instead of 0"),
                 (lambda L, S, A, c: S.sum() / (L @ S), "is N / Σ loss_b·len_b: the division is upside down"),
                 (lambda L, S, A, c: S.sum() / S.sum(),
                  "is exactly 1 = Σ len_b / N: the running total adds the batch sizes, not loss_b·len_b")]
    else:
        slips = [(lambda L, S, A, c: float(c), "is the number of right predictions, not the fraction: divide by N"),
                 (lambda L, S, A, c: A.sum() / S.sum(),
                  "is Σ accuracy_b / N: weight each batch's accuracy by its size before dividing by N"),
                 (lambda L, S, A, c: (1 + c) / S.sum(), "is (1 + correct) / N: the count starts at 1 instead of 0"),
                 (lambda L, S, A, c: S.sum() / c if c else float("nan"), "is N / correct: the division is upside down"),
                 (lambda L, S, A, c: S.sum() / S.sum(),
                  "is exactly 1 = Σ len_b / N: the running count adds the batch sizes, not the right predictions")]
    with np.errstate(all="ignore"):
        return [([float(fn(np.array(L), np.array(S), np.array(A), c)) for L, S, A, c in _per_epoch(h)], message)
                for fn, message in slips]


def _per_epoch(h: dict) -> list[tuple[list, list, list, int]]:
    """(batch losses, batch sizes, batch accuracies, correct) of every epoch of a reference run."""
    out, start = [], 0
    for L, S, c in zip(h["batch_losses"], h["batch_sizes"], h["correct"]):
        out.append((L, S, h["batch_accuracies"][start:start + len(L)], c))
        start += len(L)
    return out


def _judge_epoch_metric(name: str, got: list[float], h: dict) -> str | None:
    """Compare history[name] (loss or accuracy) with the reference, naming known mistakes."""
    expected = h[name]
    if _close(got, expected):
        return None
    for values, message in _sum_slips(name, h):
        if _close(got, values):
            return f"the epoch {name} {message}"
    if name == "loss" and all(v == 0 for v in got):
        return ("the epoch loss is 0, but every batch's cross-entropy is positive: add each batch's "
                "loss × its size to the running total")
    if name == "accuracy" and all(v == 0 for v in got) and any(c > 0 for c in h["correct"]):
        return (f"the epoch accuracy is 0, but {h['correct'][0]} of the predictions made during the (first) "
                "epoch were right: count them, correct / N")
    if name == "loss":
        for key, message in _LOSS_VARIANTS:
            if _close(got, h[key]):
                return f"the epoch loss {message}"
    else:
        if _close(got, [100 * a for a in expected]):
            return "the accuracy is a percentage: record the fraction in [0, 1]"
        if _close(got, h["accuracy_end"]):
            return ("the accuracy is measured on the whole training set after the epoch: count the correct "
                    "predictions of each batch's forward pass during the epoch, divided by N")
    return compare_array(f"the epoch {name}", np.asarray(got), np.asarray(expected), _RTOL, _ATOL)


def _train_epoch_judge(case: Case, output: Any) -> str | None:
    if not isinstance(output, dict):
        return "the check could not run your function"
    expected = case.expected
    sizes, mseed = case.args[:2]
    initial = _params_of(_make_model(sizes, mseed))
    problem = _judge_params(output["params"], expected["params"], case.hypotheses.__getitem__,
                            _EPOCH_VARIANTS, initial)
    if problem:
        return problem
    for name in ("loss", "accuracy"):
        problem = _judge_epoch_metric(name, [output[name]], expected["history"])
        if problem:
            return problem.replace("the epoch ", "the returned ", 1)
    return None


@grader_side
def _variant_params(expected: Callable, args: tuple, variant: str) -> dict | None:
    """The weights the wrong loop ``variant`` ends with, None when it cannot run here (an empty batch)."""
    try:
        with np.errstate(all="ignore"):
            return expected(args, variant)["params"]
    except ValueError:
        return None


_EPOCH_VARIANTS = ["ascent", "no_shuffle", "x_y_apart", "drop_last", *_SLICE_VARIANTS]


@grader_side
def _train_epoch_hypotheses(*args: Any) -> dict:
    """The weights after one epoch of each wrong loop in _EPOCH_VARIANTS."""
    return {v: _variant_params(_train_epoch_expected, args, v) for v in _EPOCH_VARIANTS}


define(name="train_epoch", description="one shuffled pass of minibatch SGD: weights after the epoch, its mean loss and accuracy",
       cases=_train_epoch_cases, hypotheses=_train_epoch_hypotheses, run=_run_train_epoch, judge=_train_epoch_judge)


# --------------------------------------------------------------------------------------
# train (epochs, schedule, history) and learning_curve (validation history)
# --------------------------------------------------------------------------------------

_TRAIN_KEYS = ("loss", "accuracy", "lr")
_VAL_KEYS = ("val_loss", "val_accuracy")


def _train_args(rng: np.random.Generator, validation: bool) -> list[Case]:
    X1, y1 = _blobs(rng, 30, 4, 3)
    X2, y2 = _blobs(rng, 22, 3, 3)
    s = [int(v) for v in rng.integers(0, 2**31, 4)]
    if validation:
        Xv1, yv1 = _blobs(np.random.default_rng(s[2]), 12, 4, 3)
        Xv2, yv2 = _blobs(np.random.default_rng(s[3]), 9, 3, 3)
        Xv1, Xv2 = Xv1 + X1.mean(axis=0), Xv2 + X2.mean(axis=0)
    else:
        Xv1 = yv1 = Xv2 = yv2 = None
    return [
        Case(args=((4, 8, 3), s[0], X1, y1, 4, 7, 0.2, s[1], Xv1, yv1, ("step", 0.4, 0.5, 2)),
             label="30 samples, batches of 7, 4 epochs, step-decay schedule"),
        Case(args=((3, 3), s[1], X2, y2, 3, 22, 0.5, s[0], Xv2, yv2, None),
             label="22 samples in one batch, 3 epochs, constant lr"),
    ]


@grader_side
def _train_expected(args: tuple, variant: str = "") -> dict:
    sizes, mseed, X, y, epochs, batch_size, lr, seed, X_val, y_val, spec = args
    model = _make_model(sizes, mseed)
    h = _reference_loop(model, X, y, epochs, batch_size, lr, np.random.default_rng(seed),
                        _make_schedule(spec), X_val, y_val, variant)
    return {"params": _params_of(model), "history": h}


@grader_side
def _train_ref(*args: Any) -> dict:
    return _train_expected(args)


_TRAIN_VARIANTS = ["ascent", "no_shuffle", "x_y_apart", "drop_last", "once", *_SLICE_VARIANTS]
_SCHEDULE_VARIANTS = ["no_schedule", "schedule_late"]


@grader_side
def _train_hypotheses(*args: Any) -> dict:
    """The weights after training with each wrong loop the judge names (schedule ones if a schedule is given)."""
    variants = _TRAIN_VARIANTS + (_SCHEDULE_VARIANTS if args[10] is not None else [])
    return {v: _variant_params(_train_expected, args, v) for v in variants}


def _train_cases(rng: np.random.Generator) -> list[Case]:
    return _train_args(rng, validation=False)


def _learning_curve_cases(rng: np.random.Generator) -> list[Case]:
    return _train_args(rng, validation=True)


def _run_train(fn: Callable, args: tuple) -> dict:
    sizes, mseed, X, y, epochs, batch_size, lr, seed, X_val, y_val, spec = args
    model = _make_model(sizes, mseed)
    kwargs: dict[str, Any] = dict(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    kwargs.update({} if X_val is None else {"X_val": X_val, "y_val": y_val})
    if spec is not None:
        kwargs["schedule"] = _make_schedule(spec)
    out = fn(model, X, y, **kwargs)
    if out is None:
        return {"problem": "returned None — return (model, history); did you forget `return`?"}
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        what = f"{len(out)} values" if isinstance(out, (tuple, list)) else f"one {type(out).__name__}"
        return {"problem": f"returned {what}, expected 2: (model, history)"}
    trained, history = out
    if not hasattr(trained, "params"):
        return {"problem": f"returned a {type(trained).__name__} as the model, expected the trained model "
                           "(the one passed in): return model, history"}
    if not isinstance(history, dict):
        return {"problem": f"history is a {type(history).__name__}, expected a dict of lists "
                           "{'loss': [...], 'accuracy': [...], ...}"}
    hist: dict[str, Any] = {}
    for k, v in history.items():
        values = _to_float_list(v)
        hist[str(k)] = values if values is not None else f"a {type(v).__name__} that is not a list of numbers"
    return {"params": _params_of(trained), "history": hist}


def _check_keys(hist: dict, keys: tuple[str, ...], epochs: int) -> str | None:
    for k in keys:
        if k not in hist:
            have = ", ".join(repr(h) for h in hist) or "nothing"
            return f"history has no {k!r} (it has {have}): append one value per epoch"
        if isinstance(hist[k], str):
            return f"history[{k!r}] is {hist[k]}"
        if len(hist[k]) != epochs:
            hint = (" — append once per *epoch*, not per batch" if len(hist[k]) > epochs
                    else " — append once at the end of every epoch")
            return f"history[{k!r}] has {len(hist[k])} values, expected one per epoch ({epochs}){hint}"
    return None


def _train_judge(case: Case, output: Any) -> str | None:
    if not isinstance(output, dict):
        return "the check could not run your function"
    epochs, hist, expected = case.args[4], output["history"], case.expected
    problem = _check_keys(hist, _TRAIN_KEYS, epochs)
    if problem:
        return problem
    sizes, mseed = case.args[:2]
    initial = _params_of(_make_model(sizes, mseed))
    variants = _TRAIN_VARIANTS + (_SCHEDULE_VARIANTS if case.args[10] is not None else [])
    problem = _judge_params(output["params"], expected["params"], case.hypotheses.__getitem__, variants, initial)
    if problem:
        return problem
    ref = expected["history"]
    if not _close(hist["lr"], ref["lr"]):
        return compare_array("history['lr'] (the learning rate used in each epoch)",
                             np.asarray(hist["lr"]), np.asarray(ref["lr"]), _RTOL, _ATOL)
    for name in ("loss", "accuracy"):
        problem = _judge_epoch_metric(name, hist[name], ref)
        if problem:
            return problem.replace("the epoch ", "history: the epoch ", 1)
    return None


define(name="train", description="epochs of shuffled minibatch SGD with a schedule: final weights and the per-epoch "
                   "loss, accuracy and lr",
       cases=_train_cases, reference=_train_ref, hypotheses=_train_hypotheses, run=_run_train, judge=_train_judge)


def _learning_curve_judge(case: Case, output: Any) -> str | None:
    if not isinstance(output, dict):
        return "the check could not run your function"
    epochs, hist, expected = case.args[4], output["history"], case.expected
    problem = _check_keys(hist, _VAL_KEYS, epochs)
    if problem:
        return problem.replace("append one value per epoch",
                               "evaluate on (X_val, y_val) after every epoch and append the result")
    got_p, ref_p = output["params"], expected["params"]
    if set(got_p) != set(ref_p) or not all(_close(got_p[k], ref_p[k]) for k in ref_p):
        return ("the weights after training differ from the reference — pass the `train` check first; "
                "the validation data must only be evaluated (forward, loss), never trained on")
    ref = expected["history"]
    got_loss, got_acc = hist["val_loss"], hist["val_accuracy"]
    if _close(got_loss, ref["val_loss_before"]) and not _close(got_loss, ref["val_loss"]):
        return ("the validation loss is measured *before* each epoch's updates: evaluate after the "
                "epoch, so val_loss[e] describes the model at the end of epoch e")
    if _close(got_loss, ref["loss_end"]) and not _close(got_loss, ref["val_loss"]):
        return "val_loss is the loss on the *training* data: evaluate on X_val, y_val"
    if not _close(got_loss, ref["val_loss"]):
        return compare_array("history['val_loss']", np.asarray(got_loss), np.asarray(ref["val_loss"]),
                             _RTOL, _ATOL)
    if _close(got_acc, [100 * a for a in ref["val_accuracy"]]):
        return "val_accuracy is a percentage: record the fraction in [0, 1]"
    if _close(got_acc, ref["accuracy_end"]) and not _close(got_acc, ref["val_accuracy"]):
        return "val_accuracy is measured on the *training* data: use X_val, y_val"
    if not _close(got_acc, ref["val_accuracy"]):
        return compare_array("history['val_accuracy']", np.asarray(got_acc),
                             np.asarray(ref["val_accuracy"]), _RTOL, _ATOL)
    return None


define(name="learning_curve", function="train",
       description="with validation data, history also records val_loss and val_accuracy after every epoch",
       cases=_learning_curve_cases, reference=_train_ref, run=_run_train, judge=_learning_curve_judge)


# --------------------------------------------------------------------------------------
# iris_80: the student's loop trains a small MLP on Iris; held-out labels stay in the grader
# --------------------------------------------------------------------------------------

IRIS_SIZES = (4, 8, 3)
IRIS_SETTINGS = dict(epochs=100, batch_size=16, lr=0.05)


def _iris_cases(rng: np.random.Generator) -> list[Case]:
    X, y = load_iris()
    split_seed, model_seed, loop_seed = (int(s) for s in rng.integers(0, 2**31, 3))
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=split_seed, stratify=True)
    scaler = StandardScaler().fit(X_tr)
    return [Case(args=(scaler.transform(X_tr), y_tr, scaler.transform(X_te), model_seed, loop_seed),
                 secret={"y_test": y_te}, label="Iris: 120 training flowers, 30 held out")]


def _run_iris(fn: Callable, args: tuple) -> dict:
    X_tr, y_tr, X_te, model_seed, loop_seed = args
    model = _make_model(IRIS_SIZES, model_seed)
    out = fn(model, X_tr, y_tr, seed=loop_seed, **IRIS_SETTINGS)
    trained = out[0] if isinstance(out, (tuple, list)) and out and hasattr(out[0], "forward") else model
    scores = np.asarray(trained.forward(X_te, training=False), dtype=float)
    if scores.shape != (len(X_te), 3) or not np.all(np.isfinite(scores)):
        return {"problem": f"after training, the model outputs {scores.shape} scores with NaN/inf "
                           "— the training diverged" if scores.shape == (len(X_te), 3) else
                           f"after training, the model outputs shape {scores.shape}, expected ({len(X_te)}, 3)"}
    return {"pred": scores.argmax(axis=1)}


def _iris_judge(case: Case, output: Any) -> str | None:
    acc, problem = held_out_accuracy(output, case.secret["y_test"], "flowers")
    if problem:
        return problem
    if acc < 0.8:
        return (f"held-out accuracy {acc:.1%} is below the required 80 % (train(model, X, y, epochs=100, "
                "batch_size=16, lr=0.05) on standardised Iris) — is the loss going down in your history?")
    return None


define(name="iris_80", function="train",
       description="your train() on standardised Iris (a 4-8-3 MLP, 100 epochs, batch 16, lr 0.05) classifies "
                   "held-out flowers with ≥ 80 % accuracy",
       cases=_iris_cases, run=_run_iris, judge=_iris_judge)


# --------------------------------------------------------------------------------------
# Questions: predictions made before the experiment (mlcourse.checks.questions)
# --------------------------------------------------------------------------------------

number("answer_batch_doubling", answer=float(np.sqrt(0.5)), rtol=0.05,
       explain="the variance of a batch mean is σ²/b (for b ≪ N), so the standard deviation is σ/√b: "
               "doubling b divides it by √2 — a factor 1/√2 ≈ 0.71, not ½. (Drawn without replacement "
               "from only 150 flowers it is a little less, ≈ 0.69: the factor (N − b)/(N − 1).)",
       wrong={0.5: "½ is what doubling b does to the variance; the standard deviation only shrinks by √2.",
              1.0: "a mean over more independent samples is less noisy: their errors partly cancel.",
              0.25: "the mean's 1/b scales each term, but the b independent errors add up in variance "
                    "(b·σ²), so Var = σ²/b, not σ²/b².",
              float(np.sqrt(2)): "the noise of a *sum* of 2b terms grows like √(2b); the batch gradient "
                                 "is a mean, so it shrinks."})

number("answer_updates_per_epoch", answer=5, rtol=1e-9,
       explain="one update per batch; the batches start at 0, 32, 64, 96, 128, and the last one holds the "
               "remaining 22 flowers: ⌈150/32⌉ = 5.",
       wrong={4: "4 = ⌊150/32⌋ drops the last, smaller batch — 22 flowers would never be trained on.",
              4.6875: "an update is a whole step; the last batch is simply smaller, so round up.",
              150: "one update per batch, not per flower: each step averages the batch's gradients.",
              1: "one update per epoch is full-batch gradient descent (batch_size = N)."})


# --------------------------------------------------------------------------------------
# Your own layers: MyDense and MySequential (graded in the "extensions" item)
# --------------------------------------------------------------------------------------

def _layer_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d, h, c in [(5, 4, 6, 3), (3, 2, 5, 2)]:
        W1, b1 = rng.standard_normal((d, h)), rng.standard_normal(h) * 0.1
        W2, b2 = rng.standard_normal((h, c)), rng.standard_normal(c) * 0.1
        x, dout = rng.standard_normal((n, d)), rng.standard_normal((n, c))
        cases.append(Case(args=(W1, b1, W2, b2, x, dout), batch=n, label=f"{n} inputs, sizes ({d}, {h}, {c})"))
    return cases


def _dense_run(cls: Callable, args: tuple) -> dict:
    W1, b1, _, _, x, _ = args
    layer = cls(W1.copy(), b1.copy())
    out = layer.forward(x, training=True)
    dout = np.ones_like(np.asarray(out)) * np.linspace(-1, 1, np.size(out)).reshape(np.shape(out))
    dx = layer.backward(dout)
    grads = {k: np.array(v) for k, v in dict(layer.grads).items()}
    params = layer.params
    if "W" in params:
        params["W"] -= 1.0  # the optimizer's in-place update: must reach the layer's own weights
    after = layer.forward(x, training=False)
    return {"out": np.asarray(out), "dout": dout, "dx": None if dx is None else np.asarray(dx), "grads": grads,
            "param_keys": sorted(params), "after": np.asarray(after)}


def _dense_judge(case: Case, got: dict) -> str | None:
    W, b, _, _, x, _ = case.args
    if sorted(got["param_keys"]) != ["W", "b"]:
        return f"params has keys {got['param_keys']}, expected ['W', 'b'] (the layer's own arrays)"
    problem = compare_array("forward(x)", got["out"], x @ W + b, rtol=1e-9, atol=1e-12)
    if problem:
        return dense_output_slip("forward(x)", got["out"], x, W, b) or problem
    dout = got["dout"]
    if got["dx"] is None:
        return "backward returned None: return dx, the gradient for the layer below"
    for name, value, expected in (("backward's dx", got["dx"], dout @ W.T),
                                  ("grads['W']", got["grads"].get("W"), x.T @ dout),
                                  ("grads['b']", got["grads"].get("b"), dout.sum(axis=0))):
        if value is None:
            return f"{name} is missing: backward must store the parameter gradients in self.grads"
        problem = compare_array(name, value, expected, rtol=1e-9, atol=1e-12, batch=case.batch)
        if problem:
            return (bias_gradient_slip(name, value, dout) if name == "grads['b']" else None) or problem
    if np.allclose(got["after"], got["out"]):
        return ("changing layer.params['W'] in place did not change the layer's output: params must hold "
                "the layer's own arrays (not copies), so that an optimizer's in-place update reaches them")
    return None


define(name="my_dense", function="MyDense",
       description="your Dense layer: forward, backward (dx, grads['W'], grads['b']) and params that are its own arrays",
       cases=_layer_cases, run=_dense_run, judge=_dense_judge)


def _sequential_run(cls: Callable, args: tuple) -> dict:
    W1, b1, W2, b2, x, dout = args
    layers = [Dense(W1.shape[0], W1.shape[1]), ReLU(), Dense(W2.shape[0], W2.shape[1])]
    for layer, (W, b) in ((layers[0], (W1, b1)), (layers[2], (W2, b2))):
        layer.params["W"][...], layer.params["b"][...] = W, b
    model = cls(layers)
    out = model.forward(x, training=True)
    try:  # a wrong forward pass can make the backward pass raise: judge the forward pass first
        dx = model.backward(dout)
    except Exception as exc:  # noqa: BLE001 — the student's error, reported after the forward check
        return {"out": np.asarray(out), "backward_error": describe_exception(exc)}
    params, grads = model.params, model.grads
    return {"out": np.asarray(out), "dx": None if dx is None else np.asarray(dx),
            "params": {k: np.array(v) for k, v in params.items()}, "grads": {k: np.array(v) for k, v in grads.items()},
            "shares": all(any(v is p for p in (layers[0].params["W"], layers[0].params["b"], layers[2].params["W"],
                                                layers[2].params["b"])) for v in params.values())}


def _sequential_judge(case: Case, got: dict) -> str | None:
    W1, b1, W2, b2, x, dout = case.args
    z1 = x @ W1 + b1
    h = np.maximum(z1, 0)
    problem = compare_array("forward(x)", got["out"], h @ W2 + b2, rtol=1e-9, atol=1e-12)
    if problem:
        if same_values(got["out"], z1) or np.shape(got["out"]) == z1.shape:
            return "forward(x) stops after the first layer: feed each layer's output into the next one"
        return problem
    if "backward_error" in got:
        return f"backward raised {got['backward_error']}"
    expected_keys = ["0.W", "0.b", "2.W", "2.b"]
    if sorted(got["params"]) != expected_keys:
        hint = (" — keys without the layer's index collide: the second Dense layer's 'W' overwrites the first's"
                if sorted(got["params"]) == ["W", "b"] else "")
        return f"params has keys {sorted(got['params'])}, expected {expected_keys} (f\"{{i}}.{{name}}\"){hint}"
    if not got["shares"]:
        return "params holds copies: return the layers' own arrays, so that an optimizer's in-place update reaches them"
    if got["dx"] is None:
        return "backward returned None: return the gradient with respect to the input x"
    dz1 = (dout @ W2.T) * (z1 > 0)
    expected = {"0.W": x.T @ dz1, "0.b": dz1.sum(axis=0), "2.W": h.T @ dout, "2.b": dout.sum(axis=0)}
    if sorted(got["grads"]) != expected_keys:
        return f"grads has keys {sorted(got['grads'])}, expected {expected_keys}, like params"
    for key in ("2.W", "2.b", "0.W", "0.b"):
        problem = compare_array(f"grads[{key!r}]", got["grads"][key], expected[key], rtol=1e-9, atol=1e-12,
                                batch=case.batch)
        if problem:
            return problem
    return compare_array("backward's dx", got["dx"], dz1 @ W1.T, rtol=1e-9, atol=1e-12)


define(name="my_sequential", function="MySequential",
       description="your Sequential: forward through the layers, backward in reverse, params/grads keyed '0.W', …",
       cases=_layer_cases, run=_sequential_run, judge=_sequential_judge)
