"""Checks for chapter 02 (data): scaling fitted on the training split, a stratified split,
shuffled minibatches and one-hot labels.

``standardize_fit``, ``standardize_apply``, ``min_max_scale`` and ``one_hot`` are compared
with the reference, then with the classic wrong versions (statistics recomputed from the
split being transformed — the leak this chapter is about —, a NaN for a constant column,
``ddof=1``, …). ``stratified_split`` and ``iterate_minibatches`` are random, so they are
judged by properties instead of one exact answer: every sample exactly once, each class's
share of the test set, the last partial batch kept, rows of X and y kept together, the same
seed giving the same result and another seed another one.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from .compare import compare_array, compare_outputs, plain_symptom
from .core import Case, define, grader_side
from .helpers import probe_run, reproducibility_runs, same_values
from .questions import choice

_RTOL, _ATOL = 1e-6, 1e-9


_close = functools.partial(same_values, rtol=_RTOL, atol=_ATOL, equal_nan=True)


# --------------------------------------------------------------------------------------
# Standardisation
# --------------------------------------------------------------------------------------

@grader_side
def _fit_ref(X):
    mean, std = X.mean(axis=0), X.std(axis=0)
    return mean, np.where(X.max(axis=0) == X.min(axis=0), 1.0, std)


@grader_side
def _apply_ref(X, mean, std):
    return (X - mean) / std


def _train_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """Features on very different scales, like real data; column 2 is constant."""
    return np.column_stack([rng.normal(50, 10, n),        # e.g. an age
                            rng.normal(2000, 500, n),     # e.g. square feet
                            np.full(n, 3.7),              # a constant column
                            rng.normal(0.0, 0.01, n)])    # a tiny-scale feature


def _fit_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(args=(_train_like(rng, 12),), label="12 samples, 4 features, column 2 constant"),
            Case(args=(rng.normal(5, 2, (9, 2)),), label="9 samples, 2 features")]


def _fit_judge(case: Case, out: Any) -> str | None:
    problem = compare_outputs(("mean", "std"), out, case.expected, _RTOL, _ATOL)
    if problem is None:
        return None
    (X,) = case.args
    n, d = X.shape
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        return problem
    mean, std = out
    for name, v in (("mean", mean), ("std", std)):
        if np.shape(v) == (n,):
            return (f"{name} has shape ({n},), one value per sample: the statistics are per feature, "
                    "computed over the samples — use axis=0")
    if problem.startswith("mean") or np.shape(std) != (d,):
        return problem
    std = np.asarray(std, dtype=float)
    const = X.max(axis=0) == X.min(axis=0)
    exp_std = case.expected[1]
    with np.errstate(all="ignore"):
        if _close(std[~const], X.std(axis=0, ddof=1)[~const]):
            return ("std is the sample standard deviation (ddof=1): use np.std's default, "
                    "the population standard deviation (ddof=0)")
        if _close(std[~const], X.var(axis=0)[~const]):
            return "std is the variance: take its square root (or use X.std(axis=0))"
        if (~const).sum() > 1 and _close(std[~const], np.full((~const).sum(), X.std())):
            return (f"std is {X.std():.4g} for every column that varies — the std of the whole array: compute it "
                    "per feature, over the samples (axis=0)")
    if const.any() and _close(std, case.hypotheses.get("constant test inverted")):
        return ("std is 1 for every column that varies and the raw std for the constant one: the test for a "
                "constant column is the wrong way round")
    if const.any() and _close(std[~const], exp_std[~const]):
        j = int(np.flatnonzero(const)[0])
        v = float(std[j])
        if not np.isfinite(v) or v == 0:
            return (f"std of column {j} (a constant column) is {v:g}: set it to 1, so that "
                    "standardize_apply divides by 1 and the column becomes 0 instead of NaN")
        if abs(v) < 1e-6:
            return (f"std of column {j} is {v:.1e} but the column is constant: set its std to 1 (rounding in "
                    "the mean leaves a tiny non-zero std for a constant column, so test the column itself, "
                    "X.max(axis=0) == X.min(axis=0), rather than std == 0)")
        return f"std of column {j} (a constant column) is {v:g}, expected 1"
    return problem


@grader_side
def _fit_hypotheses(X: np.ndarray) -> dict:
    return {"constant test inverted": np.where(X.max(axis=0) != X.min(axis=0), 1.0, X.std(axis=0))}


define(name="standardize_fit", description="per-feature mean and std (ddof=0) of the training data, std 1 for a constant column",
       cases=_fit_cases, reference=_fit_ref, hypotheses=_fit_hypotheses, outputs=("mean", "std"), judge=_fit_judge)


@grader_side
def _apply_cases(rng: np.random.Generator) -> list[Case]:
    mean, std = _fit_ref(_train_like(rng, 20))
    X_test = _train_like(rng, 7) + np.array([8.0, -300.0, 0.0, 0.02])  # a shifted split
    mean2, std2 = rng.normal(5, 2, 2), rng.uniform(0.5, 3, 2)
    return [Case(args=(X_test, mean, std), label="7 test samples, statistics of 20 training samples"),
            Case(args=(rng.normal(0, 4, (5, 2)), mean2, std2), label="5 samples, 2 features")]


def _apply_probes(X: np.ndarray, mean: np.ndarray, std: np.ndarray) -> dict:
    """The mean itself (must become 0) and the mean plus one std (must become 1)."""
    return {"mean": (mean[None, :].copy(), mean.copy(), std.copy()),
            "mean + std": ((mean + std)[None, :], mean.copy(), std.copy())}


def _apply_properties(probes: dict) -> str | None:
    for name, want in (("mean", 0.0), ("mean + std", 1.0)):
        try:
            got = np.asarray(probes.get(name), dtype=float).ravel()
        except (TypeError, ValueError):
            continue
        if got.size and not np.allclose(got, want, rtol=1e-6, atol=1e-9):
            j = int(np.flatnonzero(~np.isclose(got, want, rtol=1e-6, atol=1e-9))[0])
            return (f"a sample equal to the {name} must become {want:g} in every column; yours gives "
                    f"{got[j]:.4g} in column {j}")
    return None


def _apply_judge(case: Case, got: Any) -> str | None:
    out = got["out"]
    problem = compare_array("X_scaled", out, case.expected, _RTOL, _ATOL)
    if problem is None:
        return None
    X, mean, std = case.args
    if _close(out, case.hypotheses["own statistics"]):
        return ("X_scaled uses X's own mean and std: use the mean and std passed in (the training "
                "split's) — recomputing them from the test split is the leak this chapter warns about")
    if _close(out, (X - mean) * std):
        return "X_scaled multiplies by std: divide, z = (x − mean) / std"
    if _close(out, X / std - mean):
        return "X_scaled divides before subtracting: z = (x − mean) / std, the parentheses matter"
    if _close(out, (X - mean) / std ** 2):
        return "X_scaled divides by the variance std²: divide by std"
    if _close(out, X / std):
        return "X_scaled is X / std: subtract the mean first, z = (x − mean) / std"
    if _close(out, (X + mean) / std):
        return "X_scaled adds the mean: subtract it, z = (x − mean) / std"
    if plain_symptom(problem):
        return _apply_properties(got["probes"]) or problem
    return problem


@grader_side
def _apply_hypotheses(X, mean, std) -> dict:
    return {"own statistics": _apply_ref(X, *_fit_ref(X))}


define(name="standardize_apply", description="(X − mean) / std with the statistics given (the training split's)",
       cases=_apply_cases, reference=_apply_ref, hypotheses=_apply_hypotheses, judge=_apply_judge,
       run=probe_run(_apply_probes))


# --------------------------------------------------------------------------------------
# Min-max scaling
# --------------------------------------------------------------------------------------

@grader_side
def _minmax_ref(X, x_min, x_max):
    span = x_max - x_min
    return (X - x_min) / np.where(span == 0, 1.0, span)


def _minmax_cases(rng: np.random.Generator) -> list[Case]:
    train = _train_like(rng, 20)
    x_min, x_max = train.min(axis=0), train.max(axis=0)
    X_test = _train_like(rng, 8)
    X_test[0] = x_max + np.array([5.0, 200.0, 0.0, 0.01])  # beyond the training range: > 1 after scaling
    X_test[1] = x_min - np.array([5.0, 200.0, 0.0, 0.01])  # below it: < 0
    lo2 = rng.uniform(-3, 0, 2)
    return [Case(args=(X_test, x_min, x_max), label="8 test samples with the training min and max"),
            Case(args=(rng.uniform(-3, 3, (5, 2)), lo2, lo2 + rng.uniform(1, 4, 2)), label="5 samples, 2 features")]


def _minmax_probes(X: np.ndarray, x_min: np.ndarray, x_max: np.ndarray) -> dict:
    return {"range": (np.vstack([x_min, x_max]), x_min.copy(), x_max.copy())}


def _minmax_properties(case: Case, probes: dict) -> str | None:
    """x_min becomes 0 and x_max becomes 1 in every column that varies (0 and 0 if constant)."""
    _, x_min, x_max = case.args
    try:
        got = np.asarray(probes.get("range"), dtype=float)
    except (TypeError, ValueError):
        return None
    if got.shape != (2, len(x_min)):
        return None
    varies = x_max != x_min
    for row, name, want in ((0, "x_min", 0.0), (1, "x_max", 1.0)):
        bad = varies & ~np.isclose(got[row], want, atol=1e-9)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            return f"{name} itself must become {want:g}; yours gives {got[row, j]:.4g} in column {j}"
    return None


def _minmax_judge(case: Case, got: Any) -> str | None:
    out = got["out"]
    X, x_min, x_max = case.args
    const = x_max == x_min
    arr = None
    try:
        arr = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        pass
    if arr is not None and arr.shape == X.shape and const.any():
        j = int(np.flatnonzero(const)[0])
        with np.errstate(all="ignore"):
            rest_ok = _close(arr[:, ~const], case.expected[:, ~const])
        if rest_ok and not _close(arr[:, j], case.expected[:, j]):
            return (f"column {j} is constant in the training data (x_max == x_min) and should become 0, "
                    f"got {arr[0, j]:g}: divide by 1 where x_max − x_min is 0")
    problem = compare_array("X_scaled", out, case.expected, _RTOL, _ATOL)
    if problem is None:
        return None
    with np.errstate(all="ignore"):
        if _close(out, case.hypotheses["own range"]):
            return ("X_scaled uses X's own min and max: use x_min and x_max passed in (the training "
                    "split's) — recomputing them from the test split is the leak this chapter warns about")
        if _close(out, np.clip(case.expected, 0, 1)):
            return ("X_scaled is clipped to [0, 1]: don't clip — a test sample beyond the training range "
                    "is allowed to land outside [0, 1]")
        if _close(out, X / x_max):
            return "X_scaled is X / x_max: subtract x_min first and divide by the range x_max − x_min"
        if _close(out, (X - x_min) / x_max):
            return "X_scaled divides by x_max: divide by the range x_max − x_min"
    if plain_symptom(problem):
        return _minmax_properties(case, got["probes"]) or problem
    return problem


@grader_side
def _minmax_hypotheses(X, x_min, x_max) -> dict:
    with np.errstate(all="ignore"):
        return {"own range": _minmax_ref(X, X.min(axis=0), X.max(axis=0))}


define(name="min_max_scale", description="(X − x_min) / (x_max − x_min) with the training range, 0 for a constant column",
       cases=_minmax_cases, reference=_minmax_ref, hypotheses=_minmax_hypotheses, judge=_minmax_judge,
       run=probe_run(_minmax_probes))


# --------------------------------------------------------------------------------------
# Stratified split (judged by properties: many splits are right)
# --------------------------------------------------------------------------------------

def _index_array(v: Any, name: str) -> tuple[np.ndarray | None, str | None]:
    if v is None:
        return None, f"{name} is None — did you forget to `return` it?"
    try:
        arr = np.asarray(v)
    except Exception:
        return None, f"{name} is a {type(v).__name__}, expected an array of indices"
    if arr.dtype == bool:
        return None, f"{name} is a boolean mask: return the indices themselves (np.flatnonzero(mask))"
    if arr.ndim != 1:
        return None, f"{name} has shape {arr.shape}, expected a 1-D array of indices"
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        return None, (f"{name} has dtype {arr.dtype}: indices must be integers "
                      "(np.concatenate of empty lists gives floats — use .astype(int))")
    return arr.astype(np.int64), None


def _run_split(fn: Callable, args: tuple) -> dict:
    y, test_size, seed = args

    def one(s: int) -> dict:
        res = fn(y.copy(), test_size, s)
        if not isinstance(res, (tuple, list)) or len(res) != 2:
            what = "None" if res is None else (f"{len(res)} values" if isinstance(res, (tuple, list))
                                               else f"one {type(res).__name__}")
            return {"problem": f"returned {what}, expected a tuple of 2 index arrays (train_idx, test_idx)"}
        out = {}
        for name, v in zip(("train_idx", "test_idx"), res):
            arr, problem = _index_array(v, name)
            if problem:
                return {"problem": problem}
            out[name] = arr
        return out

    runs = reproducibility_runs(one, seed, stop_at_problem=True)
    if "problem" in runs:
        return runs
    return {f"{key}_{name}": arr for key, run in runs.items() for name, arr in run.items()}


def _split_problem(y: np.ndarray, test_size: float, train: np.ndarray, test: np.ndarray) -> str | None:
    n = len(y)
    both = np.concatenate([train, test])
    if both.size and (both.min() < 0 or both.max() >= n):
        bad = both[(both < 0) | (both >= n)][0]
        return f"index {bad} is out of range for {n} samples (valid: 0 … {n - 1})"
    for name, arr in (("train_idx", train), ("test_idx", test)):
        values, counts = np.unique(arr, return_counts=True)
        if (counts > 1).any():
            return f"{name} holds index {values[counts > 1][0]} more than once: each sample appears exactly once"
    overlap = np.intersect1d(train, test)
    if overlap.size:
        return (f"{overlap.size} indices are in both train_idx and test_idx (e.g. {overlap[0]}): "
                "a sample used for testing must never be trained on")
    missing = np.setdiff1d(np.arange(n), both)
    if missing.size:
        return (f"{missing.size} samples are in neither train_idx nor test_idx (e.g. index {missing[0]}): "
                "every sample goes to exactly one of them")
    classes, sizes = np.unique(y, return_counts=True)
    in_test = np.array([(y[test] == c).sum() for c in classes])
    target = test_size * sizes
    if np.all(np.abs(in_test - target) < 1):
        return None
    if np.all(np.abs((sizes - in_test) - target) < 1):
        return ("train_idx and test_idx are swapped: test_idx should hold the test_size share "
                f"({test_size:g}) of each class, train_idx the rest")
    k = int(np.argmax(np.abs(in_test - target)))
    return (f"class {classes[k]} has {in_test[k]} of its {sizes[k]} samples in the test set; a stratified "
            f"split with test_size={test_size:g} puts {target[k]:g} there (rounded up or down) — split each "
            "class separately and put test_size of it into the test set")


def _split_judge(case: Case, out: dict) -> str | None:
    y, test_size, seed = case.args
    for key in ("first", "other"):
        problem = _split_problem(y, test_size, out[f"{key}_train_idx"], out[f"{key}_test_idx"])
        if problem:
            return problem
    same = (np.array_equal(np.sort(out["first_test_idx"]), np.sort(out["again_test_idx"]))
            and np.array_equal(np.sort(out["first_train_idx"]), np.sort(out["again_train_idx"])))
    if not same:
        return (f"calling it twice with rng_seed={seed} gave two different splits: draw every random "
                "number from rng = np.random.default_rng(rng_seed), not from np.random.* directly")
    if np.array_equal(np.sort(out["first_test_idx"]), np.sort(out["other_test_idx"])):
        return (f"rng_seed={seed} and rng_seed={seed + 1} give the same test set: the split is not random — "
                "shuffle each class's indices with the generator before taking the test part")
    return None


def _split_cases(rng: np.random.Generator) -> list[Case]:
    y1 = rng.permutation(np.repeat([0, 1, 2], [30, 12, 8]))
    y2 = np.repeat([0, 1, 2, 3], [40, 20, 10, 10])  # sorted by class, like iris.csv
    return [Case(args=(y1, 0.25, int(rng.integers(1000))), label="50 shuffled labels, 3 classes of 30/12/8"),
            Case(args=(y2, 0.2, int(rng.integers(1000))), label="80 labels sorted by class, 40/20/10/10")]


define(name="stratified_split", description="disjoint train/test indices covering every sample, test_size of each class in the test "
                   "set, reproducible for a seed and different for another",
       cases=_split_cases, run=_run_split, judge=_split_judge)


# --------------------------------------------------------------------------------------
# Shuffled minibatches (judged by properties)
# --------------------------------------------------------------------------------------

def _run_batches(fn: Callable, args: tuple) -> dict:
    X, y, batch_size, seed = args

    def one(s: int) -> dict:
        gen = fn(X.copy(), y.copy(), batch_size, s)
        if gen is None:
            return {"problem": "returned None: inside the loop over batches, `yield X_batch, y_batch` "
                               "(a function with yield is a generator)"}
        try:
            it = iter(gen)
        except TypeError:
            return {"problem": f"returned a {type(gen).__name__}, expected a generator of (X_batch, y_batch) pairs"}
        xs, ys = [], []
        for k, item in enumerate(it):
            if k > 2 * len(X):
                return {"problem": f"yielded more than {2 * len(X)} batches for {len(X)} samples: "
                                   "does the loop ever stop?"}
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                return {"problem": f"yielded a {type(item).__name__}, expected a pair (X_batch, y_batch)"}
            try:
                xs.append(np.asarray(item[0], dtype=float))
                ys.append(np.asarray(item[1], dtype=float))
            except (TypeError, ValueError):
                return {"problem": "could not read a batch as numbers: yield NumPy arrays X[idx], y[idx]"}
        return {"X": xs, "y": ys}

    return reproducibility_runs(one, seed, stop_at_problem=True)


def _batches_problem(X: np.ndarray, y: np.ndarray, batch_size: int, got: dict) -> tuple[str | None, np.ndarray]:
    n = len(X)
    xs, ys = got["X"], got["y"]
    if not xs:
        return "yielded nothing: loop over the batches and `yield X[idx], y[idx]`", np.zeros(0)
    for xb, yb in zip(xs, ys):
        if xb.ndim != X.ndim or xb.shape[1:] != X.shape[1:]:
            return (f"an X_batch has shape {xb.shape}, expected (B, {X.shape[1]}): whole rows of X "
                    "(index the rows, X[idx])"), np.zeros(0)
        if yb.shape != (len(xb),):
            return f"an X_batch has {len(xb)} rows but its y_batch has shape {yb.shape}", np.zeros(0)
    sizes = [len(yb) for yb in ys]
    want = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    if sizes != want:
        if sizes == [batch_size] * (n // batch_size):
            return (f"the last, smaller batch is missing: {n} samples in batches of {batch_size} leave "
                    f"{n % batch_size} at the end — yield them too"), np.zeros(0)
        shown = sizes if len(sizes) <= 8 else sizes[:8] + ["…"]
        return f"the batch sizes are {shown}, expected {want}", np.zeros(0)
    ids = np.concatenate([xb[:, 0] for xb in xs]).astype(np.int64)  # X[:, 0] holds each row's index
    if not np.array_equal(np.sort(ids), np.arange(n)):
        return ("within one epoch some samples come twice and others never: take consecutive slices "
                "of one permutation, order[start:start + batch_size]"), ids
    if not _close(np.concatenate(ys), y[ids]):
        return ("the rows of X_batch and y_batch don't belong together: index X and y with the same "
                "idx, X[idx] and y[idx]"), ids
    if np.array_equal(ids, np.arange(n)):
        return "the samples come in their original order: shuffle them with rng.permutation(N) first", ids
    return None, ids


def _batches_judge(case: Case, out: dict) -> str | None:
    X, y, batch_size, seed = case.args
    orders = {}
    for key in ("first", "again", "other"):
        problem, orders[key] = _batches_problem(X, y, batch_size, out[key])
        if problem:
            return problem
    if not np.array_equal(orders["first"], orders["again"]):
        return (f"calling it twice with seed={seed} gave two different orders: draw the permutation from "
                "rng = np.random.default_rng(seed), not from np.random.* directly")
    if np.array_equal(orders["first"], orders["other"]):
        return f"seed={seed} and seed={seed + 1} give the same order: use the seed to create the generator"
    return None


def _batch_cases(rng: np.random.Generator) -> list[Case]:
    def data(n: int) -> tuple[np.ndarray, np.ndarray]:
        X = np.column_stack([np.arange(n, dtype=float), rng.standard_normal((n, 2))])  # column 0 = row id
        return X, rng.standard_normal(n)
    X1, y1 = data(23)
    X2, y2 = data(12)
    X3, y3 = data(13)
    return [Case(args=(X1, y1, 5, int(rng.integers(1000))), label="23 samples in batches of 5"),
            Case(args=(X2, y2, 4, int(rng.integers(1000))), label="12 samples in batches of 4"),
            Case(args=(X3, y3, 4, int(rng.integers(1000))), label="13 samples in batches of 4 (the last batch "
                                                                 "is a single sample)")]


define(name="iterate_minibatches", description="one shuffled epoch: every sample once, X and y rows together, the last smaller batch "
                   "kept, reproducible for a seed",
       cases=_batch_cases, run=_run_batches, judge=_batches_judge)


# --------------------------------------------------------------------------------------
# One-hot encoding
# --------------------------------------------------------------------------------------

@grader_side
def _one_hot_ref(y, num_classes):
    out = np.zeros((len(y), num_classes))
    out[np.arange(len(y)), y] = 1.0
    return out


def _one_hot_cases(rng: np.random.Generator) -> list[Case]:
    y1 = rng.integers(0, 4, 10)
    y1[0] = 3  # classes 0–3 seen; num_classes=5 has one class that never occurs
    y2 = rng.permutation(np.array([0, 1, 2, 2, 1, 0]))
    return [Case(args=(y1, 5), label="10 labels, num_classes=5 (class 4 absent)"),
            Case(args=(y2, 3), label="6 labels, 3 classes")]


def _one_hot_judge(case: Case, out: Any) -> str | None:
    y, c = case.args
    shape = np.shape(out) if out is not None else None
    if shape == (len(y), int(y.max()) + 1) and int(y.max()) + 1 != c:
        return (f"one-hot has shape {shape}, expected ({len(y)}, {c}): use num_classes for the number of "
                "columns — a class absent from this batch still needs its column")
    problem = compare_array("one-hot", out, case.expected, _RTOL, _ATOL)
    if problem is None:
        return None
    if shape == (len(y), c):
        arr = np.asarray(out, dtype=float)
        if _close(arr, 1 - case.expected):
            return "one-hot is inverted: 1 in the column of the label, 0 elsewhere"
        if not _close(arr.sum(axis=1), np.ones(len(y))):
            return "each row of one-hot must hold exactly one 1 (in the label's column) and zeros elsewhere"
    return problem


define(name="one_hot", description="labels (N,) → one-hot (N, num_classes) floats",
       cases=_one_hot_cases, reference=_one_hot_ref, judge=_one_hot_judge)


# --------------------------------------------------------------------------------------
# Questions: predictions made before the experiment (mlcourse.checks.questions)
# --------------------------------------------------------------------------------------

choice("answer_outlier_standardise", answer="b",
       explain="the mean and the standard deviation are not robust: one value of 1,354,000 among 17,291 "
               "houses moves the mean by ~80 and raises σ from ~920 to ~10,000, so every ordinary house "
               "is squeezed into a narrow band (std ≈ 0.09) — the same squeeze as min-max.",
       wrong={"a": "standardisation makes the whole column std 1 — the outlier included. Almost all of that "
                   "variance is the outlier's, so little is left for the others.",
              "c": "the outlier inflates σ, and a larger divisor brings every ordinary house closer "
                   "together, not further apart.",
              "d": "the ordinary houses keep their order and their differences, only scaled down by the "
                   "same factor: the band is narrow, but not a single point."})

choice("answer_leak_accuracy", answer="b",
       explain="selected on the training rows, the 20 features only correlate with the training labels by "
               "chance, and that chance does not carry over: ~50 %. Selected on all rows, the 30 test samples "
               "helped pick features that happen to match *their* labels: the test score is inflated (~85 %).",
       wrong={"a": "when the test rows take part in choosing the features, the chosen noise columns agree "
                   "with the test labels by construction — the leak shows up as accuracy.",
              "c": "features chosen on the training rows correlate with the training labels by chance only; "
                   "on new rows that chance correlation is gone, so the honest version stays at 50 %.",
              "d": "the leak inflates the accuracy but cannot make it perfect: a least-squares fit on 70 "
                   "training rows does not reproduce 30 random test labels exactly."})
