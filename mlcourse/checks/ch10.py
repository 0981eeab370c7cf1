"""Checks for chapter 10 (the house-price project): Tukey fences, R², k-fold cross-validation,
permutation feature importance.

The functions the chapter fixes (so the grader can call them with plain data):

* ``tukey_mask(x, k=1.5) -> keep``: boolean (N,), True where Q1 − k·IQR ≤ x ≤ Q3 + k·IQR.
* ``r2(y, y_pred) -> float``: 1 − SS_res / SS_tot; y_pred may be (N,) or (N, 1).
* ``kfold_indices(n, k, seed) -> [(train_idx, val_idx), ...]``: k pairs of int arrays; the
  validation sets partition range(n) after a seeded shuffle, sizes differ by at most 1.
* ``cross_validate(fit_predict, X, y, k, seed) -> (scores (k,), oof_pred (N,))`` where
  ``fit_predict(X_train, y_train, X_val) -> y_pred_val``.
* ``permutation_importance(predict_fn, X, y, seed) -> (D,)``: drop in R² when column j is
  shuffled, with ``rng = np.random.default_rng(seed)`` and one ``rng.permutation(N)`` per
  column, in column order.

``cross_validate`` and ``permutation_importance`` take functions: the check's ``run`` makes
them in the student's process (a recording least-squares ``fit_predict``, a linear
``predict_fn``) and sends back plain data for the judge.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..data import load_house_prices
from ..linear import least_squares
from .compare import as_array, compare_array
from .core import Case, define, describe_exception, grader_side
from .helpers import reproducibility_runs, same_values
from .questions import number


_same = functools.partial(same_values, rtol=1e-7, atol=1e-10)


def _r2(y: np.ndarray, p: np.ndarray) -> float:
    y, p = np.asarray(y, dtype=np.float64).reshape(-1), np.asarray(p, dtype=np.float64).reshape(-1)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - p) ** 2)) / ss_tot


# --------------------------------------------------------------------------------------
# tukey_mask
# --------------------------------------------------------------------------------------

@grader_side
def _tukey(x: np.ndarray, k: float, lo_q: float = 25, hi_q: float = 75, strict: bool = False,
           centre: str = "quartiles") -> np.ndarray:
    q1, q3 = np.percentile(x, [lo_q, hi_q])
    iqr = q3 - q1
    if centre == "median":
        med = np.median(x)
        lo, hi = med - k * iqr, med + k * iqr
    elif centre == "std":
        lo, hi = x.mean() - k * x.std(), x.mean() + k * x.std()
    else:
        lo, hi = q1 - k * iqr, q3 + k * iqr
    return (x > lo) & (x < hi) if strict else (x >= lo) & (x <= hi)


def _tukey_cases(rng: np.random.Generator) -> list[Case]:
    # Case 1: integers arranged so that Q1 = 10 and Q3 = 14 exactly (n = 21: the quartiles are
    # the 6th and 16th values), IQR = 4, fences 4 and 20 — with points exactly on both fences.
    # The median is 12, so fences centred on it (6 and 18) differ from Tukey's at 5 and 19.
    # Every neighbour of a quartile differs from it (low < 10 < mid_low, mid_high < 14 < high):
    # then the 24th/26th (74th/76th) percentiles are not the quartiles, and with points exactly
    # on the fences (and 3.6 just below the lower one) a percentile off by one moves a fence
    # across a point.
    low = rng.integers(6, 10, size=2)
    mid_low, mid_high = rng.integers(11, 13, size=4), rng.integers(12, 14, size=4)
    high = rng.integers(15, 19, size=1)
    x = np.concatenate([[3.6, 4, 5], low, [10], mid_low, [12], mid_high, [14], high,
                        [19, 20, 21, 35]]).astype(np.float64)
    x = rng.permutation(x)
    # Case 2: a normal sample with far outliers, k = 3 ("far out").
    y = rng.standard_normal(200) * 2 + 5
    y[rng.choice(200, 6, replace=False)] = [25.0, -18.0, 14.5, 13.0, -4.5, 16.0]
    # Case 3: a skewed sample (log-normal, like prices), k = 1.5.
    z = np.exp(rng.standard_normal(300) * 0.8 + 12)
    return [Case(args=(x, 1.5), label="21 values with Q1 = 10, Q3 = 14 and points exactly on the fences 4 and 20"),
            Case(args=(y, 3.0), label="200 normal values with outliers, k = 3"),
            Case(args=(z, 1.5), label="300 log-normal values (like prices), k = 1.5")]


def _tukey_judge(case: Case, got: Any) -> str | None:
    x, k = case.args
    expected, h = case.expected, case.hypotheses
    arr, problem = as_array("the mask", got, expected)
    if problem:
        return problem
    if arr.shape != x.shape:
        if arr.ndim == 1 and len(arr) == int(expected.sum()) and _same(arr, x[expected]):
            return ("returned the kept values x[mask]; return the boolean mask itself (shape "
                    f"{x.shape}), so it can select the same rows of every column")
        return f"the mask has shape {arr.shape}, expected {x.shape} (one True/False per value)"
    if arr.dtype != bool:
        if np.issubdtype(arr.dtype, np.number) and np.isin(arr, [0, 1]).all() and np.array_equal(arr, expected):
            return (f"the mask has dtype {arr.dtype} with 0/1 values: return booleans (dtype bool) — "
                    "x[int_mask] would pick rows 0 and 1 instead of filtering")
        return f"the mask has dtype {arr.dtype}, expected bool"
    if np.array_equal(arr, expected):
        return None
    if np.array_equal(arr, ~expected):
        return "the mask is inverted: True must mean *keep* (inside the fences), False an outlier"
    if np.array_equal(arr, h["strict"]):
        return ("only the points exactly on a fence are wrong: they are not outliers — keep "
                "Q1 − k·IQR ≤ x ≤ Q3 + k·IQR (use <= and >=)")
    if k != 1.5 and np.array_equal(arr, h["k = 1.5"]):
        return f"the mask matches k = 1.5 although k = {k} was passed: use the argument k"
    if np.array_equal(arr, h["mean ± k·std"]):
        return ("the mask uses mean ± k·std; Tukey's fences use the quartiles, "
                "Q1 − k·IQR and Q3 + k·IQR (robust: outliers barely move them)")
    if np.array_equal(arr, h["median-centred"]):
        return "the fences are centred on the median; they are Q1 − k·IQR and Q3 + k·IQR"
    q1, q3 = h["quartiles"]
    if np.array_equal(arr, x <= q3 + k * (q3 - q1)):
        return "only the upper fence is applied: also drop values below Q1 − k·IQR"
    if np.array_equal(arr, x >= q1 - k * (q3 - q1)):
        return "only the lower fence is applied: also drop values above Q3 + k·IQR"
    wrong = np.flatnonzero(arr != expected)
    i = int(wrong[0])
    return (f"{len(wrong)} of {len(x)} values are classified wrongly, e.g. x[{i}] = {x[i]:.4g} "
            f"(fences {q1 - k * (q3 - q1):.4g} and {q3 + k * (q3 - q1):.4g}): expected "
            f"{bool(expected[i])}, got {bool(arr[i])} — quartiles with np.percentile(x, [25, 75])")


@grader_side
def _tukey_ref(x: np.ndarray, k: float) -> np.ndarray:
    return _tukey(x, k)


@grader_side
def _tukey_hypotheses(x: np.ndarray, k: float) -> dict:
    return {"strict": _tukey(x, k, strict=True), "k = 1.5": _tukey(x, 1.5),
            "mean ± k·std": _tukey(x, k, centre="std"), "median-centred": _tukey(x, k, centre="median"),
            "quartiles": tuple(float(q) for q in np.percentile(x, [25, 75]))}


define(name="tukey_mask", description="boolean keep-mask Q1 − k·IQR ≤ x ≤ Q3 + k·IQR",
       cases=_tukey_cases, reference=_tukey_ref, hypotheses=_tukey_hypotheses, judge=_tukey_judge)


# --------------------------------------------------------------------------------------
# r2
# --------------------------------------------------------------------------------------

def _r2_cases(rng: np.random.Generator) -> list[Case]:
    y = rng.standard_normal(30) * 3 + 12
    good = y + rng.standard_normal(30) * 1.0
    biased = y * 0.5 + 8 + rng.standard_normal(30) * 0.5  # correlated, but off: r² ≠ R²
    y2 = rng.standard_normal(25) + 4
    col = (y2 + rng.standard_normal(25) * 0.3).reshape(-1, 1)
    bad = rng.standard_normal(20) * 4
    y3 = rng.standard_normal(20)
    return [Case(args=(y, good), label="30 predictions with small errors"),
            Case(args=(y, biased), label="30 correlated but biased predictions"),
            Case(args=(y2, col), label="y (25,), y_pred (25, 1) as a network outputs it"),
            Case(args=(y3, bad), label="predictions worse than the mean (R² < 0)")]


def _r2_judge(case: Case, got: Any) -> str | None:
    y, p = case.args
    expected = _r2(y, p)
    arr, problem = as_array("R²", got, np.float64(expected))
    if problem:
        return problem
    if arr.size != 1:
        if arr.shape == (len(y), len(y)) or arr.size == len(y) ** 2:
            return ("returned an (N, N) array: y − y_pred broadcast (N,) against (N, 1) — flatten "
                    "y_pred first (y_pred.reshape(-1))")
        return f"returned an array of shape {arr.shape}, expected a single number"
    value = float(arr.reshape(-1)[0])
    if not np.isfinite(value):
        return f"returned {value} — a division by zero? SS_tot is Σ(y − ȳ)²"
    if np.isclose(value, expected, rtol=1e-7, atol=1e-10):
        return None
    yf, pf = y.reshape(-1), p.reshape(-1)
    ss_res, ss_tot = np.sum((yf - pf) ** 2), np.sum((yf - yf.mean()) ** 2)
    with np.errstate(all="ignore"):
        broadcast = 1 - np.sum((yf - p) ** 2) / ss_tot if p.ndim == 2 else None
        candidates = [
            (ss_res / ss_tot, "returned SS_res / SS_tot: R² is 1 − SS_res / SS_tot"),
            (np.mean((yf - pf) ** 2), "returned the mean squared error; R² = 1 − SS_res / SS_tot"),
            (1 - np.mean((yf - pf) ** 2), "used the mean squared error where SS_res / SS_tot belongs"),
            (1 - ss_res / np.sum((pf - pf.mean()) ** 2),
             "SS_tot is computed from y_pred: it is Σ(y − ȳ)², the spread of the *true* values"),
            (1 - ss_res / np.sum(yf ** 2), "SS_tot = Σy²: subtract the mean, SS_tot = Σ(y − ȳ)²"),
            (np.corrcoef(yf, pf)[0, 1] ** 2,
             "returned the squared correlation r²; R² = 1 − SS_res / SS_tot also punishes bias and scale errors"),
            (1 - np.sum(np.abs(yf - pf)) / np.sum(np.abs(yf - yf.mean())),
             "used absolute errors; R² uses squared ones"),
        ]
        if broadcast is not None:
            candidates.insert(0, (broadcast, "y − y_pred broadcast (N,) against (N, 1) to an (N, N) array: "
                                             "flatten y_pred first (y_pred.reshape(-1))"))
    for v, msg in candidates:
        if np.isfinite(v) and np.isclose(value, v, rtol=1e-7, atol=1e-10):
            return msg
    return f"R² is {value:.6g}, expected {expected:.6g}"


define(name="r2", description="R² = 1 − SS_res / SS_tot for (N,) and (N, 1) predictions",
       cases=_r2_cases, judge=_r2_judge)


# --------------------------------------------------------------------------------------
# kfold_indices
# --------------------------------------------------------------------------------------

def _kfold_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(args=(23, 5, int(rng.integers(0, 10_000))), label="n = 23, k = 5 (folds of 4 and 5 rows)"),
            Case(args=(int(rng.integers(40, 60)), 4, int(rng.integers(0, 10_000))), label="k = 4"),
            Case(args=(7, 7, int(rng.integers(0, 10_000))), label="n = k = 7 (leave-one-out)")]


def _plain_folds(out: Any) -> Any:
    """[[train, val], ...] as int arrays, or {"problem": ...} (runs in the student's process)."""
    if out is None:
        return {"problem": "returned None — did you forget to `return` the list of folds?"}
    if isinstance(out, np.ndarray) or not isinstance(out, (list, tuple)):
        return {"problem": f"returned a {type(out).__name__}; expected a list of k pairs (train_idx, val_idx)"}
    folds = []
    for i, pair in enumerate(out):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            return {"problem": f"fold {i} is a {type(pair).__name__}, expected a pair (train_idx, val_idx)"}
        arrs = []
        for name, a in zip(("train_idx", "val_idx"), pair):
            a = np.asarray(a)
            if a.dtype == bool:
                return {"problem": f"fold {i}: {name} is a boolean mask; return integer row indices "
                                   "(np.flatnonzero(mask) converts)"}
            if a.ndim != 1 or not (np.issubdtype(a.dtype, np.integer)
                                   or (np.issubdtype(a.dtype, np.floating) and np.all(a == np.round(a)))):
                return {"problem": f"fold {i}: {name} must be a 1-D array of integer row indices, got "
                                   f"shape {a.shape}, dtype {a.dtype}"}
            arrs.append(a.astype(np.int64))
        folds.append(arrs)
    return folds


def _kfold_run(fn: Callable, args: tuple) -> dict:
    n, k, seed = args
    return reproducibility_runs(lambda s: _plain_folds(fn(n, k, s)), seed)


def _folds_equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict) or isinstance(b, dict) or len(a) != len(b):
        return False
    return all(np.array_equal(np.sort(x), np.sort(y)) for fa, fb in zip(a, b) for x, y in zip(fa, fb))


def _kfold_judge(case: Case, got: dict) -> str | None:
    n, k, seed = case.args
    folds = got["first"]
    if isinstance(folds, dict):
        return folds["problem"]
    if len(folds) != k:
        return f"returned {len(folds)} folds, expected k = {k}"
    seen = np.zeros(n, dtype=np.int64)
    for i, (train, val) in enumerate(folds):
        for name, idx in (("train_idx", train), ("val_idx", val)):
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                return f"fold {i}: {name} holds row {int(idx.max() if idx.max() >= n else idx.min())}, outside 0 … {n - 1}"
            if len(np.unique(idx)) != len(idx):
                return f"fold {i}: {name} lists a row twice"
        seen[val] += 1
    twice = np.flatnonzero(seen > 1)
    if twice.size:
        r = int(twice[0])
        where = [i for i, (_, v) in enumerate(folds) if r in v]
        return (f"row {r} is in the validation sets of folds {where}: the validation sets must not "
                "overlap (each row is validated exactly once)")
    never = np.flatnonzero(seen == 0)
    if never.size:
        return (f"rows {never[:5].tolist()} are in no validation fold: the k validation sets must cover "
                f"all n = {n} rows — with n = {n}, k = {k} the folds can't all have n // k = {n // k} rows "
                "(np.array_split spreads the remainder)")
    sizes = [len(v) for _, v in folds]
    if max(sizes) - min(sizes) > 1:
        return f"validation fold sizes {sizes} differ by more than 1: split as evenly as possible"
    for i, (train, val) in enumerate(folds):
        leak = np.intersect1d(train, val)
        if leak.size:
            return (f"fold {i}: train_idx contains validation rows {leak[:5].tolist()} — the model would be "
                    "scored on rows it was trained on (leakage)")
        missing = np.setdiff1d(np.arange(n), np.union1d(train, val))
        if missing.size:
            return (f"fold {i}: rows {missing[:5].tolist()} are neither in train_idx nor in val_idx; train "
                    "on every row outside the validation fold")
    if not _folds_equal(folds, got["again"]):
        return ("not reproducible: two calls with the same seed gave different folds — make the "
                "generator inside: rng = np.random.default_rng(seed)")
    if k < n:
        contiguous = all(np.array_equal(np.sort(v), np.arange(v.min(), v.max() + 1)) for _, v in folds)
        if contiguous:
            return ("every validation fold is a contiguous block of rows: shuffle first "
                    "(rng.permutation(n)) — a file sorted by date or price would give biased folds")
        if _folds_equal(folds, got["other"]):
            return "seed is ignored: seed and seed + 1 gave the same folds — use np.random.default_rng(seed)"
    return None


define(name="kfold_indices", description="k (train_idx, val_idx) pairs: shuffled, validation sets partition the rows, "
                   "sizes differ by ≤ 1, reproducible from the seed",
       cases=_kfold_cases, run=_kfold_run, judge=_kfold_judge)


# --------------------------------------------------------------------------------------
# cross_validate
# --------------------------------------------------------------------------------------

def _lstsq_fit_predict(X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray) -> np.ndarray:
    A = np.column_stack([X_train, np.ones(len(X_train))])
    theta, *_ = np.linalg.lstsq(A, y_train, rcond=None)
    return X_val @ theta[:-1] + theta[-1]


def _cv_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d, k in ((40, 3, 5), (33, 2, 4)):
        X = rng.standard_normal((n, d))
        y = X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) + 3.0
        cases.append(Case(args=(X, y, k, int(rng.integers(0, 10_000))),
                          label=f"{n} rows, {d} features, k = {k}"))
    return cases


def _cv_run(fn: Callable, args: tuple) -> dict:
    X, y, k, seed = args
    n = len(X)
    # Column 0 carries the row number, so fit_predict sees which rows it is given.
    Xid = np.column_stack([np.arange(n, dtype=np.float64), X])
    calls: list = []

    def fit_predict(X_train, y_train, X_val):
        X_train, X_val = np.asarray(X_train, dtype=np.float64), np.asarray(X_val, dtype=np.float64)
        if X_train.ndim != 2 or X_val.ndim != 2 or X_train.shape[1] != X.shape[1] + 1:
            raise ValueError(f"fit_predict expects rows of X (2-D, {X.shape[1] + 1} columns), got "
                             f"X_train {X_train.shape}, X_val {X_val.shape}")
        y_train = np.asarray(y_train, dtype=np.float64).reshape(-1)
        pred = _lstsq_fit_predict(X_train[:, 1:], y_train, X_val[:, 1:])
        calls.append([X_train[:, 0].astype(np.int64), X_val[:, 0].astype(np.int64), y_train.copy(), pred.copy()])
        return pred

    out = fn(fit_predict, Xid, y.copy(), k, seed)
    if not isinstance(out, tuple) or len(out) != 2:
        if isinstance(out, (float, int, np.floating)) or (isinstance(out, np.ndarray) and out.size == 1):
            return {"problem": "returned one number; return the k per-fold scores and the out-of-fold "
                               "predictions: (scores, oof_pred)"}
        if isinstance(out, (list, np.ndarray)) and len(out) == k:
            return {"problem": f"returned only the {k} scores; return (scores, oof_pred)"}
        return {"problem": f"returned a {type(out).__name__}; expected a pair (scores (k,), oof_pred (N,))"}
    try:
        scores = np.asarray(out[0], dtype=np.float64)
        oof = np.asarray(out[1], dtype=np.float64)
    except (TypeError, ValueError):
        return {"problem": "scores and oof_pred must be arrays of numbers"}
    return {"scores": scores, "oof": oof, "calls": calls}


def _not_among(got: np.ndarray, allowed: np.ndarray) -> int | None:
    """The first index whose value is none of ``allowed`` (NaN included), or None."""
    with np.errstate(all="ignore"):
        close = np.isclose(got[:, None], allowed[None, :], rtol=1e-6, atol=1e-9).any(axis=1)
    bad = np.flatnonzero(~close)
    return int(bad[0]) if len(bad) else None


def _cv_judge(case: Case, got: dict) -> str | None:
    X, y, k, seed = case.args
    n = len(X)
    calls = got["calls"]
    if len(calls) != k:
        return f"fit_predict was called {len(calls)} times, expected k = {k} (once per fold)"
    seen = np.zeros(n, dtype=np.int64)
    for i, (train, val, y_train, _) in enumerate(calls):
        overlap = np.intersect1d(train, val)
        if len(train) == n or (overlap.size and overlap.size == len(np.unique(val))):
            return (f"fold {i}: fit_predict was trained on the validation rows too — the scores would be "
                    "optimistic (leakage); train on X[train_idx] only")
        if overlap.size and overlap.size == len(np.unique(train)):
            return (f"fold {i}: X_val also contains the training rows — score each fold on its "
                    "validation rows only, fit_predict(X[train_idx], y[train_idx], X[val_idx])")
        if overlap.size:
            return (f"fold {i}: rows {overlap[:5].tolist()} are both in X_train and in X_val; the "
                    "training and validation rows of a fold must be disjoint")
        if len(train) + len(val) != n:
            return f"fold {i}: fit_predict got {len(train)} training + {len(val)} validation rows, expected {n} in all"
        if not np.allclose(y_train, y[train]):
            return f"fold {i}: y_train does not belong to X_train: pass y[train_idx] together with X[train_idx]"
        seen[val] += 1
    if not np.all(seen == 1):
        return "the validation sets of the folds do not partition the rows (check kfold_indices above)"
    expected_scores = np.array([_r2(y[val], _lstsq_fit_predict(X[train], y[train], X[val]))
                                for train, val, _, _ in calls])
    scores = got["scores"]
    if scores.shape != (k,):
        if scores.size == 1:
            return "scores is one number; return the k per-fold scores (their mean is taken outside)"
        return f"scores has shape {scores.shape}, expected ({k},): one R² per fold"
    if not _same(scores, expected_scores, rtol=1e-6, atol=1e-9):
        train_scores = np.array([_r2(y[train], _lstsq_fit_predict(X[train], y[train], X[train]))
                                 for train, _, _, _ in calls])
        if _same(scores, train_scores, rtol=1e-6, atol=1e-9):
            return "scores are R² on the training rows: score each fold on its validation rows"
        if _same(np.sort(scores), np.sort(expected_scores), rtol=1e-6, atol=1e-9):
            return "scores are not in fold order: scores[i] must belong to fold i"
        foreign = _not_among(scores, np.concatenate([expected_scores, train_scores]))
        if foreign is not None:
            return (f"scores[{foreign}] = {scores[foreign]:.4g} is the R² of no fold, neither on its validation rows "
                    f"(fold {foreign}: {expected_scores[foreign]:.4g}) nor on its training rows: store "
                    "scores[i] = r2(y[val_idx], y_pred) for every fold i (and does your r2 pass its check?)")
        return (compare_array("scores", scores, expected_scores, 1e-6, 1e-9)
                + " (each score is r2(y[val_idx], fit_predict(...)) — does your r2 pass its check?)")
    expected_oof = np.empty(n)
    for _, val, _, pred in calls:
        expected_oof[val] = pred
    oof = got["oof"]
    if oof.shape != (n,):
        return f"oof_pred has shape {oof.shape}, expected ({n},): one out-of-fold prediction per row"
    if not _same(oof, expected_oof, rtol=1e-6, atol=1e-9):
        stacked = np.concatenate([pred for _, _, _, pred in calls])
        if _same(oof, stacked, rtol=1e-6, atol=1e-9):
            return ("oof_pred holds the predictions in fold order; put them back in row order: "
                    "oof_pred[val_idx] = y_pred")
        foreign = _not_among(oof, stacked)
        if foreign is not None:
            return (f"oof_pred[{foreign}] = {oof[foreign]:.4g} is no prediction fit_predict ever returned (row "
                    f"{foreign} was predicted {expected_oof[foreign]:.4g} in its validation fold): store each "
                    "fold's predictions at its validation rows, oof_pred[val_idx] = y_pred")
        return compare_array("oof_pred", oof, expected_oof, 1e-6, 1e-9)
    return None


define(name="cross_validate", description="per-fold validation R² and out-of-fold predictions, with fit_predict trained "
                   "on the training rows of each fold only",
       cases=_cv_cases, run=_cv_run, judge=_cv_judge)


# --------------------------------------------------------------------------------------
# permutation_importance
# --------------------------------------------------------------------------------------

@grader_side
def _perm_reference(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, seed: int,
                    variant: str = "") -> np.ndarray:
    predict = lambda A: A @ w + b  # noqa: E731
    metric = (lambda t, p: -np.mean((t - p) ** 2)) if variant == "mse" else _r2
    rng = np.random.default_rng(seed)
    base = metric(y, predict(X))
    out = np.empty(X.shape[1])
    Xw = X.copy()
    for j in range(X.shape[1]):
        perm = rng.permutation(len(X))
        if variant == "cumulative":
            Xw[:, j] = Xw[perm, j]
            Xp = Xw
        elif variant == "rows":
            Xp = X[perm]
        else:
            Xp = X.copy()
            Xp[:, j] = X[perm, j]
        score = metric(y, predict(Xp))
        out[j] = score if variant == "score" else base - score
    return out


def _perm_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, w in ((400, np.array([2.0, -1.0, 0.0, 0.5])), (300, np.array([0.3, 0.0, -2.5]))):
        d = len(w)
        X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2.0, d)
        w = w / np.std(X, axis=0)  # importance ordering set by w, not by the columns' scales
        y = 3.0 * (X @ w + 0.3 * rng.standard_normal(n))  # Var(y) ≫ 1: an MSE is not an R²
        cases.append(Case(args=(X, y, 3.0 * w, 0.0, int(rng.integers(0, 10_000))),
                          label=f"a linear model on {n} rows with weights {np.round(w, 2).tolist()}"))
    return cases


def _perm_run(fn: Callable, args: tuple) -> dict:
    X, y, w, b, seed = args
    X_before = X.copy()
    calls = [0]

    def predict_fn(A):
        calls[0] += 1
        return np.asarray(A, dtype=np.float64) @ w + b

    out = fn(predict_fn, X, y, seed)
    if out is not None:
        try:
            out = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError):
            out = f"a {type(out).__name__} that is not an array of numbers"
    return {"importance": out, "modified": not np.array_equal(X, X_before), "calls": calls[0]}


def _perm_named_problem(arr: np.ndarray, expected: np.ndarray, X: np.ndarray, y: np.ndarray, w: np.ndarray,
                        b: float) -> str | None:
    """A classic mistake that explains every importance, or a bound an importance breaks (else None)."""
    base = _r2(y, X @ w + b)
    if _same(arr, np.full_like(expected, base), rtol=1e-6, atol=1e-9):
        return (f"every importance equals the baseline R² ({base:.4g}): subtract the permuted score, "
                "baseline − r2(y, predict_fn(X_perm))")
    if _same(arr, 2 * base - expected, rtol=1e-6, atol=1e-9):
        return "each importance is baseline R² + permuted R²; it is the drop, baseline − permuted R²"
    if np.any(expected) and not np.any(arr):
        return ("every importance is 0: the scored copy did as well as X itself, as if no column was shuffled "
                "in it — X_perm[:, j] = X[perm, j] before predict_fn(X_perm)")
    wrong = ~np.isclose(arr, expected, rtol=1e-6, atol=1e-9)
    if len(arr) > 1 and wrong[-1] and not wrong[:-1].any():
        return (f"only the last importance (feature {len(arr) - 1}) is wrong; the others are right — does the "
                f"loop run over all {len(arr)} columns of X?")
    # Shuffling column j changes the predictions by at most 2·|w_j|·‖X_j‖ (a permutation keeps ‖X_j‖),
    # so the permuted R² lies in [1 − (‖y − ŷ‖ + 2|w_j|‖X_j‖)² / SS_tot, 1].
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    res = float(np.linalg.norm(y - (X @ w + b)))
    for j in np.flatnonzero(wrong):
        low = base - 1.0
        high = base - (1.0 - (res + 2 * abs(w[j]) * np.linalg.norm(X[:, j])) ** 2 / ss_tot)
        if not np.isfinite(arr[j]) or not low - 1e-9 <= arr[j] <= high + 1e-9:
            return (f"importances[{j}] = {arr[j]:.4g} is outside what shuffling column {j} can do here: the drop "
                    f"in R² lies in [{low:.4g}, {high:.4g}] (R² ≤ 1, and the shuffle moves the predictions by at "
                    f"most 2·|w_{j}|·‖X[:, {j}]‖) — is every importance computed and stored?")
    return None


def _perm_judge(case: Case, got: dict) -> str | None:
    X, y, w, b, seed = case.args
    d = X.shape[1]
    if got["modified"]:
        return ("permutation_importance changed the caller's X: shuffle a copy "
                "(X_perm = X.copy()), the model must see the real data again for the next feature")
    imp = got["importance"]
    if imp is None:
        return "returned None — did you forget to `return` the importances?"
    if isinstance(imp, str):
        return f"returned {imp}; expected an array of {d} numbers"
    try:
        arr = np.asarray(imp, dtype=np.float64)
    except (TypeError, ValueError):
        return f"returned a {type(imp).__name__}, expected an array of {d} numbers"
    if arr.shape != (d,):
        return f"importances have shape {arr.shape}, expected ({d},): one number per feature (column of X)"
    expected = case.expected
    if _same(arr, expected, rtol=1e-6, atol=1e-9):
        return None
    for variant, msg in (
        ("cumulative", "the columns stay shuffled from one feature to the next: start from a fresh "
                       "copy of X for every feature"),
        ("rows", "whole rows were shuffled (X[perm]): that breaks every feature's link to y at once, "
                 "so all importances come out alike — shuffle one column only, X_perm[:, j] = X[perm, j]"),
        ("score", "returned the permuted R² itself; the importance is the drop, "
                  "baseline R² − permuted R²"),
        ("mse", "measured the change in mean squared error; the chapter uses the drop in R², "
                "r2(y, predict(X)) − r2(y, predict(X_perm))"),
    ):
        if _same(arr, case.hypotheses[variant], rtol=1e-6, atol=1e-9):
            return msg
    if _same(arr, -expected, rtol=1e-6, atol=1e-9):
        return ("the sign is flipped: importance = baseline R² − permuted R² (shuffling a useful "
                "feature makes the score drop, so its importance is positive)")
    named = _perm_named_problem(arr, expected, X, y, w, b)
    if named:
        return named
    # Another way of drawing the permutations: accept it when it agrees statistically.
    tol = 0.1 * np.abs(expected) + 0.02
    if np.all(np.abs(arr - expected) <= tol) and np.array_equal(np.argsort(-arr)[:2], np.argsort(-expected)[:2]):
        return None
    return (compare_array("importances", arr, expected, 1e-6, 1e-9)
            + " (use rng = np.random.default_rng(seed) and one rng.permutation(N) per column, in order)")


@grader_side
def _perm_hypotheses(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, seed: int) -> dict:
    return {v: _perm_reference(X, y, w, b, seed, v) for v in ("cumulative", "rows", "score", "mse")}


define(name="permutation_importance", description="drop in R² when one column at a time is shuffled, for a known linear model",
       cases=_perm_cases, reference=_perm_reference, hypotheses=_perm_hypotheses, run=_perm_run, judge=_perm_judge)


# --------------------------------------------------------------------------------------
# Questions: predictions made before the experiment (mlcourse.checks.questions)
# --------------------------------------------------------------------------------------

number("answer_tukey_normal", answer=0.00698, rtol=0.15,
       explain="Q₁,₃ = μ ∓ 0.674σ and IQR = 1.349σ put the k = 1.5 fences at μ ± 2.698σ; a normal "
               "variable lies beyond ±2.698σ with probability ≈ 0.7 %.",
       wrong={0.05: "5 % is the share beyond ±1.96σ; the fences are further out, at ±2.70σ.",
              0.0027: "0.27 % is the share beyond ±3σ; the fences are at ±2.70σ, a little closer.",
              0.5: "half the values lie outside the box from Q₁ to Q₃, but the fences are 1.5 IQR beyond it.",
              0.25: "25 % lie below Q₁ (and 25 % above Q₃); the fences are 1.5 IQR further out."})

number("answer_r2_shuffled", answer=-1.0, rtol=0.05, atol=0.03,
       explain="shuffled targets are independent of y with the same spread: E[(y − ŷ)²] = Var(y) + Var(ŷ) "
               "= 2 Var(y), so R² = 1 − 2 = −1. A model with no information that still varies is worse "
               "than the constant ȳ.",
       wrong={0.0: "R² = 0 is the constant prediction ȳ; shuffled predictions vary as much as y itself, "
                   "and that variation adds its own error.",
              -2.0: "SS_res ≈ 2·SS_tot, so R² = 1 − 2 = −1 (not −2).",
              0.5: "no information cannot explain any variance: R² can only be ≤ 0 here."})


# --------------------------------------------------------------------------------------
# train_house_regressor: the student's own regressor, judged on held-out houses (extension)
# --------------------------------------------------------------------------------------
# A specification, not a recipe: the student picks the model, the loss, the optimiser, the
# learning rate, the epochs and any transformation of the features. The check trains it on
# development houses and scores its predictions of other development houses, whose prices
# never reach the student's process (Case.secret). The chapter's test rows are never used: the
# chapter looks at them once, in its final evaluation.

HOUSE_CHECK = dict(n_train=12_000, min_r2=0.87)
_DOWNTOWN, _KM_PER_DEGREE, _FIRST_SALE = (47.6062, -122.3321), 111.2, "2014-05-02"


def house_features(df: Any) -> np.ndarray:
    """The chapter's ``make_features`` (given code, section 2): sales table → (N, 23) float64."""
    north = (df["lat"].to_numpy() - _DOWNTOWN[0]) * _KM_PER_DEGREE
    east = (df["long"].to_numpy() - _DOWNTOWN[1]) * _KM_PER_DEGREE * np.cos(np.radians(_DOWNTOWN[0]))
    date = df["date"]
    columns = [np.log(df["sqft_living"]), np.log(df["sqft_above"]), df["sqft_basement"] > 0,
               np.log(df["sqft_lot"]), np.log(df["sqft_living15"]), np.log(df["sqft_lot15"]),
               df["bedrooms"], df["bathrooms"], df["floors"], df["waterfront"], df["view"], df["condition"],
               df["grade"], df["grade"] ** 2, date.dt.year - df["yr_built"], df["yr_renovated"] > 0,
               north, east, north ** 2, east ** 2, np.hypot(north, east), date.dt.month,
               (date - np.datetime64(_FIRST_SALE)).dt.days]
    return np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])


def _explained_variance(y: np.ndarray, p: np.ndarray) -> float:
    """R² as 1 − MSE / Var(y) (the chapter's section 4); not grader-side: the judge ships with the edition."""
    return 1.0 - float(np.mean((y - p) ** 2) / np.var(y))


def development_rows(n: int) -> np.ndarray:
    """The chapter's development rows (section 2): all but the first fifth of permutation(n), seed 0."""
    return np.sort(np.random.default_rng(0).permutation(n)[n // 5:])


def _house_cases(rng: np.random.Generator) -> list[Case]:
    df = load_house_prices()
    X, y = house_features(df), np.log(df["price"].to_numpy(dtype=np.float64))
    rows = rng.permutation(development_rows(len(df)))
    train, held_out = rows[:HOUSE_CHECK["n_train"]], rows[HOUSE_CHECK["n_train"]:]
    return [Case(args=(X[train], y[train], X[held_out], int(rng.integers(2**31))), secret={"y_test": y[held_out]},
                 label=f"trained on {len(train):,} development houses, {len(held_out):,} held-out houses")]


def _house_run(fn: Callable, args: tuple) -> Any:
    X_train, y_train, X_test, seed = args
    predict = fn(X_train.copy(), y_train.copy(), seed=seed)
    if predict is None:
        return {"problem": "train_house_regressor returned None — return the function predict(X) it built"}
    if not callable(predict):
        return {"problem": f"train_house_regressor returned a {type(predict).__name__}; return a function "
                           "predict(X) → (N,) predicted log prices"}

    def call(X: np.ndarray) -> np.ndarray | str:
        out = predict(X.copy())
        try:
            out = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError):
            return f"predict returned a {type(out).__name__}, not an array of numbers"
        if out.shape == (len(X), 1):
            out = out.reshape(-1)
        if out.shape != (len(X),):
            return f"predict returned shape {out.shape} for {len(X)} houses, expected ({len(X)},)"
        return out

    # Every column shifted and stretched: a fitted model's predictions move; predictions that
    # stay put come from inputs standardised with the statistics of the rows being predicted.
    stretch = 1.5 + np.arange(X_test.shape[1]) % 3
    shift = np.abs(X_test).mean(axis=0) + 1.0
    outputs = {"test": call(X_test), "affine": call(X_test * stretch + shift), "train": call(X_train)}
    for value in outputs.values():
        if isinstance(value, str):
            return {"problem": value}
    for key, rows in (("again", X_test[:50]), ("alone", X_test[:1])):
        try:
            outputs[key] = call(rows)
        except Exception as exc:  # noqa: BLE001 — the judge reports it after the scale checks
            outputs[key] = f"predict raised {describe_exception(exc)} for {len(rows)} house(s)"
    return outputs


def _house_judge(case: Case, output: Any) -> str | None:
    if isinstance(output, dict) and "problem" in output:
        return output["problem"]
    X_train, y_train, X_test, _ = case.args
    y_test, p = case.secret["y_test"], output["test"]
    goal, n_train = HOUSE_CHECK["min_r2"], f"{len(X_train):,}"
    if not np.all(np.isfinite(p)):
        return (f"{int(np.sum(~np.isfinite(p)))} of {len(p)} predictions are NaN or inf: the training diverged "
                "(a learning rate too large for the scale of the inputs and the target?)")
    if np.ptp(p) <= 1e-9 * max(1.0, abs(float(p[0]))):
        m, s = float(np.mean(y_train)), float(np.std(y_train))
        if abs(p[0] - m) > 10 * s:
            return (f"every house gets the same prediction {p[0]:.6g}, more than 10 standard deviations away from "
                    f"the training log prices ({m:.2f} ± {s:.2f}): the training diverged and left the network "
                    "constant — a smaller learning rate, standardised inputs and target")
        return (f"every house gets the same prediction {p[0]:.4f}, so R² is {_explained_variance(y_test, p):.3f}: the model learned nothing "
                "about the inputs (is the loss going down?)")
    if same_values(output["affine"], p, rtol=1e-6, atol=1e-6):
        return ("the predictions do not change when every input column is shifted and rescaled: predict "
                "standardises X with the statistics of the rows it predicts — fit the scaler on the training "
                "rows once and apply those numbers to every new house")
    for key, n in (("again", 50), ("alone", 1)):
        if isinstance(output[key], str):
            return f"{output[key]}: a house must be priced alone as well as among others"
        if not same_values(output[key], p[:n], rtol=1e-5, atol=1e-5):
            return (f"house 0 is predicted {p[0]:.4f} among all {len(p):,} held-out houses but {output[key][0]:.4f} "
                    f"among {n}: a house's prediction must not depend on the other rows of X — nothing in predict "
                    "may be computed from the rows it predicts, and no random layer may stay active")
    score = _explained_variance(y_test, p)
    if score >= goal:
        return None
    m, s = float(np.mean(y_train)), float(np.std(y_train))
    back = _explained_variance(y_test, m + s * p)
    if back > max(score + 0.5, 0.5):
        return (f"held-out R² {score:.3f}: the predictions have mean {p.mean():.3f} and standard deviation "
                f"{p.std():.3f}, the training log prices {m:.3f} and {s:.3f}. Mapped back with ȳ + s·ẑ they "
                f"would score R² {back:.3f}: predict returns the standardised target — transform it back to log prices")
    if np.all(p > 0):
        logged = _explained_variance(y_test, np.log(p))
        if logged > max(score + 0.5, 0.5):
            return (f"held-out R² {score:.3f}: the predictions look like prices in dollars (median {np.median(p):,.0f}); "
                    f"their logarithm would score R² {logged:.3f} — the target is the log price, return log prices")
    w, b = least_squares(X_train, y_train)
    if same_values(p, X_test @ w + b, rtol=1e-6, atol=1e-6):
        return (f"held-out R² {score:.3f} < {goal}: these are the predictions of the linear least-squares baseline. "
                "Prices are not a sum of per-feature effects — the goal needs a model that learns interactions "
                "(hidden layers with a non-linearity)")
    fit_score = _explained_variance(y_train, output["train"])
    if fit_score < goal + 0.02:
        return (f"held-out R² {score:.3f} < {goal}, and R² on its own {n_train} training houses only {fit_score:.3f}: "
                "the model does not even fit the data it was trained on — it has not converged (more epochs, "
                "another learning rate, standardised inputs and target) or it is too small")
    if fit_score - score > 0.05:
        return (f"held-out R² {score:.3f} < {goal}, but R² {fit_score:.3f} on its own {n_train} training houses: it "
                "fits the training houses far better than new ones (overfitting) — a smaller network, fewer "
                "epochs, weight decay or dropout")
    return (f"held-out R² {score:.3f} is below the goal {goal} (R² {fit_score:.3f} on its training houses): "
            "compare your design with the chapter's cross-validation scores")


define(name="train_house_regressor",
       description=f"your regressor, trained on {HOUSE_CHECK['n_train']:,} development houses, predicts held-out "
                   f"houses' log prices with R² ≥ {HOUSE_CHECK['min_r2']}",
       cases=_house_cases, run=_house_run, judge=_house_judge)
