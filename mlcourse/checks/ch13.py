"""Checks for chapter 13: sanity checks, diagnosing broken runs, the LR range test and random search.

The formats the chapter fixes:

* ``loss_vs_chance(scores, y) -> (loss, chance)``: mean softmax cross-entropy of scores (N, C)
  with labels (N,), and ln C, the loss of a network that gives every class the same probability.
* ``overfit_batch(X, y, sizes, epochs, lr, seed) -> losses``: a fresh ReLU MLP of ``sizes`` trained
  by full-batch SGD on the tiny batch; the training loss of every epoch.
* ``update_ratios(params, grads, lr) -> {"W1": r1, ...}``: for every weight matrix (keys starting
  with "W"), r = ‖lr · grad‖ / ‖W‖ with Frobenius norms.
* ``layer_stats(hs) -> (L, 3)`` array: per hidden activation h (N, D) of the list, its mean, its
  std (over all entries) and the fraction of its D units that are 0 for every sample.
* ``diagnose(run) -> str``: one of :data:`mlcourse.faults.FAULTS` for a run recorded by
  :func:`mlcourse.faults.record_run`.
* ``suggest_lr(lrs, losses) -> float``: a tenth of the learning rate with the lowest finite loss.
* ``sample_config(rng) -> {"lr", "weight_decay", "dropout", "width"}``: one random-search draw.
"""
from __future__ import annotations

import copy
import functools
from typing import Any, Callable

import numpy as np

from ..data import load_mnist
from ..faults import FAULTS, broken_runs, record_run
from .compare import compare_array, tuple_problem
from .core import Case, define, grader_side
from .helpers import reproducibility_runs, same_values
from .questions import choice, number



# --------------------------------------------------------------------------------------
# loss_vs_chance
# --------------------------------------------------------------------------------------

@grader_side
def _ce(scores: np.ndarray, y: np.ndarray) -> float:
    z = scores - scores.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


def _loss_cases(rng: np.random.Generator) -> list[Case]:
    out = []
    for n, c, scale, what in ((8, 10, 0.01, "small scores, as at initialisation"), (6, 4, 3.0, "larger scores"),
                              (5, 3, 1000.0, "scores of size 1000: the stable log-sum-exp")):
        scores = rng.standard_normal((n, c)) * scale
        y = rng.integers(0, c, n)
        out.append(Case(args=(scores, y), batch=n, label=f"{n} samples, {c} classes, {what}"))
    return out


def _loss_judge(case: Case, got: Any) -> str | None:
    scores, y = case.args
    n, c = scores.shape
    problem = tuple_problem(("loss", "chance"), got)
    if problem:
        return problem
    loss, chance = got
    p = compare_array("chance", chance, np.float64(np.log(c)), rtol=1e-6, atol=1e-9)
    if p:
        for value, hint in ((np.log10(c), "log10(C): the cross-entropy uses the natural log, ln C = np.log(C)"),
                            (np.log(n), f"ln N with N = {n} samples: chance depends on the number of classes C = {c}"),
                            (np.log(c - 1), "ln(C − 1): with C classes a uniform guess gives each class 1/C, so −ln(1/C) = ln C"),
                            (1.0 / c, "1/C is the chance *accuracy*; the chance *loss* is −ln(1/C) = ln C"),
                            (float(c), f"C = {c}, the number of classes: the chance loss is its logarithm, ln C")):
            if same_values(chance, value):
                return f"chance is {hint}"
        return p
    p = compare_array("loss", loss, np.float64(case.expected), rtol=1e-6, atol=1e-9, batch=n)
    if not p or "differs" not in p:
        return p
    for hint, variant in case.hypotheses.items():
        if same_values(loss, variant):
            return f"loss {hint}"
    value = float(np.asarray(loss, dtype=np.float64))
    if value < 0:
        return f"loss is negative ({value:.4g}) although a cross-entropy is ≥ 0: −log p with p ≤ 1 cannot be below 0"
    return p


@grader_side
def _ce_variants(scores: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """What went wrong → the mean loss it gives, for the classic slips in the stable cross-entropy."""
    rows = np.arange(len(y))
    z = scores - scores.max(axis=1, keepdims=True)
    out = []
    with np.errstate(all="ignore"):
        lse = np.log(np.exp(z).sum(axis=1, keepdims=True))
        for zz, lse_v, hint in (
            (z, 0.0, "is −mean(z_y) alone: the log-sum-exp term is missing, log p = z − log Σ exp(z)"),
            (z, -lse, "adds the log-sum-exp: log p = z − log Σ exp(z), with a minus"),
            (z, np.exp(z).sum(axis=1, keepdims=True), "subtracts Σ exp(z) without its log: log p = z − log Σ exp(z)"),
            (z, np.log(np.exp(z).mean(axis=1, keepdims=True)),
             "is ln C too small: it takes the log of the mean of exp(z), not of the sum"),
            (z, np.log(np.exp(z).sum()), "sums exp(z) over the whole batch: the log-sum-exp is per row (axis=1)"),
            (z, np.log(np.exp(z).sum(axis=0, keepdims=True)), "sums exp(z) over axis=0: the log-sum-exp is per row (axis=1)"),
            (-z, np.log(np.exp(-z).sum(axis=1, keepdims=True)),
             "is the cross-entropy of −scores: shift by subtracting the row max, z = scores − max, not max − scores"),
        ):
            out.append((float(-(zz - lse_v)[rows, y].mean()), hint))
        z0 = scores - scores.max(axis=0, keepdims=True)
        out.append((float(-(z0 - np.log(np.exp(z0).sum(axis=1, keepdims=True)))[rows, y].mean()),
                    "subtracts each column's max (axis=0): the stabilising shift must be one number per row, "
                    "scores.max(axis=1, keepdims=True)"))
    return {h: v for v, h in out if np.isfinite(v)}


define(name="loss_vs_chance",
       description="the mean softmax cross-entropy (stable) and the chance level ln C",
       cases=_loss_cases, reference=_ce, hypotheses=_ce_variants, judge=_loss_judge)


# --------------------------------------------------------------------------------------
# overfit_batch
# --------------------------------------------------------------------------------------

def _overfit_cases(rng: np.random.Generator) -> list[Case]:
    X, y = load_mnist("train", n=2000, dtype=np.float64)
    idx = rng.choice(len(X), size=20, replace=False)
    seed = int(rng.integers(0, 1000))
    # Two of every digit, two hidden layers (the last narrower than the 10 classes) and the
    # default seed 0: the "..." of sizes, every class present, and a seed that must stay valid.
    both = np.concatenate([rng.choice(np.flatnonzero(y == c), size=2, replace=False) for c in range(10)])
    return [Case(args=(X[idx], y[idx], (784, 32, 10), 200, 0.2, seed), secret={"target": 0.02},
                 label=f"20 digits, sizes (784, 32, 10), 200 epochs, lr 0.2, seed {seed}"),
            Case(args=(X[both], y[both], (784, 32, 8, 10), 300, 0.2, 0), secret={"target": 0.1},
                 label="two of every digit, sizes (784, 32, 8, 10), 300 epochs, lr 0.2, seed 0")]


def _losses(out: Any) -> dict:
    if out is None:
        return {"problem": "returned None — did you forget `return` the list of losses?"}
    try:
        return {"losses": [float(v) for v in np.asarray(out, dtype=np.float64).reshape(-1)]}
    except (TypeError, ValueError):
        return {"problem": f"returned a {type(out).__name__}; expected the list of losses, one per epoch"}


def _overfit_run(fn: Callable, args: tuple) -> Any:
    X, y, sizes, epochs, lr, seed = args
    if len(sizes) > 3:
        return _losses(fn(*args))
    # The one-hidden-layer case also runs again with the same seed and with seed + 1.
    runs = reproducibility_runs(lambda s: _losses(fn(X.copy(), y.copy(), sizes, epochs, lr, s)), seed,
                                stop_at_problem=True)
    return runs if "problem" in runs else {"losses": runs["first"]["losses"], "again": runs["again"]["losses"],
                                           "other": runs["other"]["losses"]}


def _overfit_judge(case: Case, got: dict) -> str | None:
    epochs, seed, target = case.args[3], case.args[5], case.secret["target"]
    losses = np.asarray(got["losses"])
    if len(losses) != epochs:
        return (f"returned {len(losses)} loss{'es' if len(losses) != 1 else ''}, expected one per epoch ({epochs}): "
                "return the whole curve, so a stalled run can be seen")
    if not np.all(np.isfinite(losses)):
        return "the loss became inf/NaN: the updates blew up"
    if np.allclose(losses, losses[0], rtol=1e-6):
        return (f"the loss never changed ({losses[0]:.3f}): the model is not being updated — does every epoch "
                "call the optimizer's step on the model you evaluate?")
    if losses[-1] > target:
        return (f"the loss only fell from {losses[0]:.3f} to {losses[-1]:.3f}: a correct network memorises these digits "
                f"to below {target:g} in these {epochs} full-batch steps — use the lr given, one batch of all the digits "
                "per epoch, and a ReLU between the layers")
    if "again" in got:
        again, other = np.asarray(got["again"]), np.asarray(got["other"])
        if again.shape != losses.shape or not np.array_equal(again, losses):
            return f"not reproducible: two calls with seed {seed} gave different loss curves — draw the weights from seed"
        if other.shape == losses.shape and np.allclose(other, losses, rtol=1e-9, atol=0):
            return (f"the seed is ignored: seeds {seed} and {seed + 1} give the same loss curve — the fresh network's "
                    "weights must be drawn from seed")
    return None


define(name="overfit_batch",
       description="a fresh network trained on 20 digits drives the training loss below 0.02",
       cases=_overfit_cases, run=_overfit_run, judge=_overfit_judge)


# --------------------------------------------------------------------------------------
# update_ratios
# --------------------------------------------------------------------------------------

def _ratio_cases(rng: np.random.Generator) -> list[Case]:
    out = []
    for sizes, lr, zero_bias in (((20, 12, 5), 0.1, True), ((8, 16, 16, 3), 0.01, False)):
        params, grads = {}, {}
        for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
            params[f"W{l}"] = rng.standard_normal((a, b)) * np.sqrt(2 / a)
            params[f"b{l}"] = np.zeros(b) if zero_bias else rng.standard_normal(b) * 0.1
            grads[f"W{l}"] = rng.standard_normal((a, b)) * 10.0 ** rng.uniform(-3, -1)
            grads[f"b{l}"] = rng.standard_normal(b) * 0.01
        out.append(Case(args=(params, grads, lr),
                        label=f"sizes {sizes}, lr {lr}{', biases still 0' if zero_bias else ''}"))
    return out


def _ratio_run(fn: Callable, args: tuple) -> Any:
    params, grads, lr = args
    got = fn({k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in grads.items()}, lr)
    if not isinstance(got, dict):
        return {"problem": f"returned a {type(got).__name__}; expected a dict {{'W1': ratio, 'W2': ratio, ...}}"}
    out = {}
    for k, v in got.items():
        try:
            out[str(k)] = float(v)
        except (TypeError, ValueError):
            return {"problem": f"ratios[{k!r}] is a {type(v).__name__}; expected one number per weight matrix"}
    return {"ratios": out}


def _ratio_judge(case: Case, got: dict) -> str | None:
    params, grads, lr = case.args
    ratios = got["ratios"]
    keys = sorted(k for k in params if k.startswith("W"))
    extra = sorted(set(ratios) - set(keys))
    if any(k.startswith("b") for k in extra):
        return (f"ratios has entries for the biases ({', '.join(extra)}): report the weight matrices only — "
                "biases often start at 0, and ‖update‖ / 0 means nothing")
    if extra or set(ratios) != set(keys):
        return f"ratios has keys {sorted(ratios)}; expected one per weight matrix: {keys}"
    for k in keys:
        W, g = params[k], grads[k]
        exp = lr * np.linalg.norm(g) / np.linalg.norm(W)
        r = ratios[k]
        if np.isclose(r, exp, rtol=1e-6, atol=0):
            continue
        if np.isclose(r, exp / lr, rtol=1e-6):
            return f"ratios[{k!r}] is ‖grad‖ / ‖W‖: the update is lr · grad — multiply by lr = {lr}"
        if np.isclose(r, 1 / exp, rtol=1e-6):
            return f"ratios[{k!r}] is upside down: the ratio is ‖update‖ / ‖W‖ (≈ 1e-3 is healthy), not ‖W‖ / ‖update‖"
        if np.isclose(r, exp ** 2, rtol=1e-6):
            return f"ratios[{k!r}] is the squared ratio: take the square roots of the sums of squares (np.linalg.norm)"
        if np.isclose(r, np.mean(np.abs(lr * g / W)), rtol=1e-6):
            return (f"ratios[{k!r}] averages elementwise ratios |lr·g / W|, which tiny weights blow up: "
                    "use the ratio of the norms, ‖lr · grad‖ / ‖W‖")
        return f"ratios[{k!r}] is {r:.4g}, expected {exp:.4g} = ‖lr · grad‖ / ‖W‖"
    return None


define(name="update_ratios",
       description="‖lr · grad‖ / ‖W‖ for every weight matrix",
       cases=_ratio_cases, run=_ratio_run, judge=_ratio_judge)


# --------------------------------------------------------------------------------------
# layer_stats
# --------------------------------------------------------------------------------------

@grader_side
def _stats_ref(hs: list) -> np.ndarray:
    return np.array([[h.mean(), h.std(), np.mean(np.all(h == 0, axis=0))] for h in hs])


def _stats_cases(rng: np.random.Generator) -> list[Case]:
    out = []
    for widths, n in (((12, 8, 6), 10), ((5, 20), 7)):
        hs = []
        for d in widths:
            h = np.maximum(rng.standard_normal((n, d)) * rng.uniform(0.5, 3), 0)
            dead = rng.choice(d, size=max(1, d // 4), replace=False)
            h[:, dead] = 0.0
            h[0, :] = 0.0  # one sample with no active unit at all (it is not a dead *unit*)
            hs.append(h)
        out.append(Case(args=(hs,), label=f"{len(widths)} hidden layers of widths {widths}, {n} samples"))
    return out


def _stats_run(fn: Callable, args: tuple) -> Any:
    return fn([h.copy() for h in args[0]])


def _stats_judge(case: Case, got: Any) -> str | None:
    (hs,) = case.args
    exp = case.expected
    p = compare_array("stats", got, exp, rtol=1e-6, atol=1e-9)
    if not p:
        return None
    if "differs" not in p:
        return p + " — one row per layer: (mean, std, dead fraction)"
    arr = np.asarray(got, dtype=np.float64)
    if same_values(arr.T, exp):
        return "stats is transposed: one row per layer, the columns (mean, std, dead fraction)"
    if not same_values(arr[:, :2], exp[:, :2]):
        return "the mean or std column is off: take both over all entries of the layer's activations (h.mean(), h.std())"
    dead = arr[:, 2]
    for value, hint in (
        ([np.mean(h == 0) for h in hs], "the fraction of zero *entries*: a unit is dead when it is 0 for every "
                                        "sample — np.all(h == 0, axis=0), then the mean over units"),
        ([np.mean(np.all(h == 0, axis=1)) for h in hs], "the fraction of *samples* with no active unit: a dead unit is a "
                                                        "column that is 0 for every sample (axis=0)"),
        ([np.sum(np.all(h == 0, axis=0)) for h in hs], "a count of dead units: divide by the layer's width for a fraction"),
    ):
        if same_values(dead, value):
            return f"the dead column is {hint}"
    for i, (h, got_dead) in enumerate(zip(hs, dead)):
        n_dead = int(np.sum(np.all(h == 0, axis=0)))
        if n_dead and got_dead == 0:
            return (f"the dead fraction of layer {i + 1} is 0, but {n_dead} of its {h.shape[1]} units are 0 for every "
                    "sample: a dead unit is a column of h that is all zeros, np.all(h == 0, axis=0)")
    return p


define(name="layer_stats",
       description="mean, std and dead-unit fraction of every hidden layer",
       cases=_stats_cases, reference=_stats_ref, run=_stats_run, judge=_stats_judge)


# --------------------------------------------------------------------------------------
# diagnose: the recorded broken runs
# --------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _runs(seed: int) -> list:
    return broken_runs(seed)


# Four more recorded runs, the same for every seed: in each, a statistic the fault shows sits where a
# looser reading of it goes wrong — the growth of the smallest layer's gradient (no_zero_grad, 403),
# the dead fraction of the less dead layer (dead_units, 405), a healthy run with a few dead units (ok,
# 400), a learning rate too high whose second epoch already looks calm (lr_too_high, 301).
EXTRA_RUNS = (("no_zero_grad", 403), ("dead_units", 405), ("ok", 400), ("lr_too_high", 301))


@functools.lru_cache(maxsize=8)
def _extra_run(fault: str, seed: int) -> dict:
    return record_run(fault, seed=seed)


def _diagnose_cases(rng: np.random.Generator) -> list[Case]:
    seed = int(rng.integers(0, 1000))
    cases = [Case(args=(copy.deepcopy(run),), secret={"fault": fault}, label=f"run {i + 1} of {len(FAULTS)}")
             for i, (fault, run) in enumerate(_runs(seed))]
    return cases + [Case(args=(copy.deepcopy(_extra_run(fault, s)),), secret={"fault": fault},
                         label=f"extra run {i + 1} of {len(EXTRA_RUNS)}") for i, (fault, s) in enumerate(EXTRA_RUNS)]


def _growth(run: dict) -> float:
    g = run["grad_norm"]
    return float(np.max(g[-1] / np.maximum(g[0], 1e-12)))


def symptom(fault: str, run: dict) -> str:
    """What the statistics of a ``fault`` run show, in one sentence (without naming the fault)."""
    ln_c = np.log(run["n_classes"])
    if fault == "bad_init":
        return f"its initial loss is {run['initial_loss']:.3g}, far above chance ln {run['n_classes']} = {ln_c:.3f}"
    if fault == "leak":
        return (f"its validation accuracy reaches {run['val_acc'].max():.1%} on 1 000 training digits — more than "
                "any honest model of that size gets")
    if fault == "no_zero_grad":
        return f"its gradient norm grows epoch after epoch (×{_growth(run):.1f} from the first to the last)"
    if fault == "lr_too_high":
        return (f"its updates in the first epoch are {run['update_ratio'][0].max():.2g} of the weights (healthy ≈ 1e-3 "
                "to 1e-2) and its loss does not settle")
    if fault == "dead_units":
        return (f"{run['dead_fraction'][0].max():.0%} of a hidden layer's units are dead from the first epoch on "
                f"and the loss stays at chance ({run['train_loss'][-1]:.3f})")
    if fault == "lr_too_low":
        return (f"its update ratios are about {run['update_ratio'][0].max():.1g} (healthy ≈ 1e-3 to 1e-2) and the "
                f"loss barely moves ({run['train_loss'][0]:.3f} → {run['train_loss'][-1]:.3f})")
    return (f"its loss falls from {run['initial_loss']:.2f} (≈ ln {run['n_classes']}) to {run['train_loss'][-1]:.2f}, "
            f"its update ratios are ≈ 1e-2 and its validation accuracy ends at {run['val_acc'][-1]:.1%}")


def _diagnose_run(fn: Callable, args: tuple) -> Any:
    out = fn(copy.deepcopy(args[0]))
    return out if isinstance(out, str) else {"type": type(out).__name__}


def _diagnose_judge(case: Case, got: Any) -> str | None:
    if not isinstance(got, str):
        return f"diagnose returned a {got['type']}; expected one of the strings {', '.join(map(repr, FAULTS))}"
    if got not in FAULTS:
        return f"diagnose returned {got!r}; expected one of {', '.join(map(repr, FAULTS))}"
    fault = case.secret["fault"]
    if got == fault:
        return None
    run = case.args[0]
    against = _contradiction(got, run)
    return f"you said {got!r}, but {against + '; and ' if against else ''}{symptom(fault, run)}"


def _contradiction(claim: str, run: dict) -> str:
    """Why the run's statistics speak against ``claim`` ('' when they do not, or for "ok")."""
    ln_c = np.log(run["n_classes"])
    ratio = run["update_ratio"][0].max()
    if claim == "bad_init" and run["initial_loss"] < ln_c + 1:
        return f"its initial loss {run['initial_loss']:.3f} is ≈ ln {run['n_classes']} = {ln_c:.3f}, as it should be"
    if claim == "leak" and run["val_acc"].max() < 0.95:
        return f"its best validation accuracy, {run['val_acc'].max():.1%}, is nothing suspicious"
    if claim == "no_zero_grad" and _growth(run) < 2:
        return f"its gradient norm does not grow (×{_growth(run):.2f} from the first epoch to the last)"
    if claim == "lr_too_high" and ratio < 0.02:
        return f"its update ratios in the first epoch are at most {ratio:.2g}, not large"
    if claim == "lr_too_low" and ratio > 1e-3:
        return f"its update ratios in the first epoch reach {ratio:.2g}, not small"
    if claim == "dead_units" and run["dead_fraction"][0].max() < 0.3:
        return f"at most {run['dead_fraction'][0].max():.0%} of a layer's units are dead after the first epoch"
    return ""


define(name="diagnose",
       description="every recorded run named: a healthy one and six planted faults, and four more recorded runs",
       cases=_diagnose_cases, run=_diagnose_run, judge=_diagnose_judge)


# --------------------------------------------------------------------------------------
# suggest_lr: the LR range test
# --------------------------------------------------------------------------------------

def _lr_cases(rng: np.random.Generator) -> list[Case]:
    out = []
    for n, diverge in ((30, "inf"), (25, "nan")):
        lrs = np.logspace(-5, 1, n)
        best = rng.uniform(-2.5, -0.5)
        t = np.log10(lrs)
        losses = 2.3 - 1.5 / (1 + np.exp(-(t - best + 1.5) * 3)) + np.where(t > best, (t - best) ** 2 * 4, 0)
        losses = losses + rng.normal(0, 0.005, n)
        losses[-3:] = np.inf if diverge == "inf" else np.nan
        out.append(Case(args=(lrs, losses), label=f"{n} learning rates, the last losses {diverge}"))
    return out


@grader_side
def _lr_ref(lrs: np.ndarray, losses: np.ndarray) -> float:
    finite = np.isfinite(losses)
    return float(lrs[finite][np.argmin(losses[finite])] / 10)


def _lr_judge(case: Case, got: Any) -> str | None:
    lrs, losses = case.args
    exp = case.expected
    p = compare_array("lr", got, np.float64(exp), rtol=1e-9, atol=0)
    if not p:
        return None
    try:
        g = float(got)
    except (TypeError, ValueError):
        return p
    if np.isclose(g, exp * 10):
        return ("lr is the learning rate at the minimum itself: step back by a factor of 10, to where the loss "
                "still falls steadily")
    finite = np.isfinite(losses)
    if not np.isfinite(g) or any(np.isclose(g, lr / f) for lr in lrs[~finite] for f in (1, 10)):
        return ("lr comes from a point where the loss is inf/NaN: ignore non-finite losses (np.isfinite) "
                "before the argmin")
    if np.isclose(g, lrs[finite][int(np.argmax(losses[finite]))] / 10):
        return "lr belongs to the highest loss: take a tenth of the lowest finite loss's learning rate (argmin)"
    best = exp * 10
    if g != 0 and np.isclose(g, 10 / best, rtol=1e-9):
        return f"lr is 10 / {best:.4g}, upside down: the suggestion is a tenth of the best learning rate, {best:.4g} / 10"
    if g != 0 and np.isclose(best / g, round(best / g), rtol=1e-9) and round(best / g) > 1:
        return (f"lr is the best learning rate {best:.4g} divided by {round(best / g)}: the rule takes a tenth of it "
                "(÷ 10)")
    return p


define(name="suggest_lr",
       description="a tenth of the learning rate with the lowest finite loss of the range test",
       cases=_lr_cases, reference=_lr_ref, judge=_lr_judge)


# --------------------------------------------------------------------------------------
# sample_config: random search on a log scale
# --------------------------------------------------------------------------------------

LR_RANGE, WD_RANGE, DROPOUT_RANGE, WIDTHS = (1e-3, 1.0), (1e-6, 1e-2), (0.0, 0.5), (32, 64, 128, 256)
KEYS = ("lr", "weight_decay", "dropout", "width")


def _config_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(args=(int(rng.integers(0, 10_000)),), label="400 draws from one generator")]


def _config_run(fn: Callable, args: tuple) -> Any:
    (seed,) = args
    gen = np.random.default_rng(seed)
    draws = []
    for _ in range(400):
        c = fn(gen)
        if not isinstance(c, dict):
            return {"problem": f"sample_config returned a {type(c).__name__}; expected a dict with keys {KEYS}"}
        try:
            draws.append({k: float(c[k]) for k in KEYS})
        except KeyError as exc:
            return {"problem": f"the config has no {exc.args[0]!r}; expected the keys {KEYS}"}
        except (TypeError, ValueError):
            return {"problem": f"the config's values must be numbers, got {c!r}"}
    again = np.random.default_rng(seed)
    replay = [fn(again) for _ in range(3)]
    same = all(all(float(r[k]) == d[k] for k in KEYS) for r, d in zip(replay, draws[:3]))
    return {"draws": {k: [d[k] for d in draws] for k in KEYS}, "reproducible": same}


def _config_judge(case: Case, got: dict) -> str | None:
    d = {k: np.asarray(v) for k, v in got["draws"].items()}
    for k, (lo, hi) in (("lr", LR_RANGE), ("weight_decay", WD_RANGE), ("dropout", DROPOUT_RANGE)):
        if d[k].min() < lo or d[k].max() > hi:
            return f"{k} left its range [{lo:g}, {hi:g}]: got values from {d[k].min():.3g} to {d[k].max():.3g}"
    for k, (lo, hi) in (("lr", LR_RANGE), ("weight_decay", WD_RANGE)):
        mid = np.sqrt(lo * hi)  # the middle of the range on a log scale
        below = float(np.mean(d[k] < mid))
        if below < 0.15:  # a linear-scale draw puts only ~ sqrt(lo / hi) of its draws there
            return (f"{k}: only {below:.0%} of 400 draws fall below {mid:.2g}, the middle of [{lo:g}, {hi:g}] on a "
                    "log scale — sampled uniformly on the linear scale? Draw the exponent: 10 ** rng.uniform(log10 lo, "
                    "log10 hi)")
        # 400 log-uniform draws come within a factor 1.25 of both ends (a miss has odds below 1e-4)
        if d[k].min() > 1.25 * lo or d[k].max() < hi / 1.25:
            return (f"{k} ranges only from {d[k].min():.3g} to {d[k].max():.3g} in 400 draws: draw the exponent "
                    f"over the whole range, log10 {lo:g} to log10 {hi:g}")
        if not 0.35 <= below <= 0.65:
            return f"{k}: {below:.0%} of 400 draws fall below {mid:.2g}; a log-uniform draw puts half of them there"
    if abs(d["dropout"].mean() - 0.25) > 0.05:
        return f"dropout averages {d['dropout'].mean():.3f} over 400 draws; uniform on [0, 0.5] averages 0.25"
    widths = set(d["width"].tolist())
    if not widths <= set(WIDTHS):
        return f"width took the values {sorted(widths)}; expected only choices from {WIDTHS}"
    if widths != set(WIDTHS):
        return f"width only ever took {sorted(widths)} in 400 draws; pick each of {WIDTHS} with equal chance"
    if not got["reproducible"]:
        return ("not reproducible: the same seeded generator gave different configs — draw everything from the "
                "rng you are given (rng.uniform, rng.choice), not from np.random or a new generator")
    return None


define(name="sample_config",
       description="lr and weight decay log-uniform, dropout uniform, width a random choice, all from the given rng",
       cases=_config_cases, run=_config_run, judge=_config_judge)


# --------------------------------------------------------------------------------------
# Questions with checked answers (predictions before the experiment)
# --------------------------------------------------------------------------------------

choice("answer_dead_units_signal", answer="b",
       explain="a bias of −1 pushes most pre-activations below 0, so those ReLUs output 0 for every digit: the "
               "dead fraction per layer shows it at once (the next cell measures 27 % and 100 %).",
       wrong={"a": "the dead units make the scores *smaller*, not larger: the initial loss stays near ln 10.",
              "c": "a dead unit gets zero gradient, so the update ratios shrink; they do not grow.",
              "d": "nothing here makes the digits easier to tell apart; a validation score too good to be true "
                   "points to a leak."})

choice("answer_winner_test", answer="b",
       explain="the winner's validation accuracy is the best of twelve noisy scores, so it is biased upward; "
               "on digits that played no part in the choice it is expected to be about the same or a little "
               "lower — the test set, used once, gives the unbiased number.",
       wrong={"a": "nothing makes the test digits easier: selecting the maximum biases the validation score "
                   "upward, so the test score tends to be lower, not higher.",
              "c": "with twelve configurations and 2 000 validation digits the selection bias is small — "
                   "fractions of a percent, not a collapse.",
              "d": "two different sets of digits give different scores even for one fixed model."})
