"""Chapter 10 checks: realistic mistakes fail with a message naming them.

The project goal (mean 5-fold R² ≥ 0.88 on log price) is asserted by the solution notebook
itself under nbval (a `# NBVAL_CHECK_OUTPUT` cell and an assert), so the five MLPs are not
trained a second time here. ``train_house_regressor``'s wrong versions mostly reuse one training
of the solution (the wrong part is in how they predict).
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from mlcourse.checks import evaluate, get_check
from tests.support import fails_with, load_solution_functions, solution_variant

SOL = load_solution_functions("10")
ROOT = Path(__file__).resolve().parents[2]


def test_library_kfold_passes_the_kfold_check():
    from mlcourse.data import kfold

    assert evaluate(get_check("kfold_indices"), kfold).passed


# --- tukey_mask ----------------------------------------------------------------------------

def _tukey(lo_op, hi_op, centre="quartiles"):
    def tukey_mask(x, k=1.5):
        q1, q3 = np.percentile(x, [25, 75])
        iqr = q3 - q1
        if centre == "std":
            lo, hi = x.mean() - k * x.std(), x.mean() + k * x.std()
        elif centre == "median":
            lo, hi = np.median(x) - k * iqr, np.median(x) + k * iqr
        else:
            lo, hi = q1 - k * iqr, q3 + k * iqr
        return lo_op(x, lo) & hi_op(x, hi)
    return tukey_mask


def test_tukey_mistakes():
    assert "points exactly on a fence" in fails_with("tukey_mask", _tukey(np.greater, np.less))
    assert "mean ± k·std" in fails_with("tukey_mask", _tukey(np.greater_equal, np.less_equal, "std"))
    assert "centred on the median" in fails_with("tukey_mask", _tukey(np.greater_equal, np.less_equal, "median"))
    right = SOL["tukey_mask"]
    assert "inverted" in fails_with("tukey_mask", lambda x, k=1.5: ~right(x, k))
    assert "use the argument k" in fails_with("tukey_mask", lambda x, k=1.5: right(x, 1.5))
    assert "returned the kept values" in fails_with("tukey_mask", lambda x, k=1.5: x[right(x, k)])
    assert "0/1 values" in fails_with("tukey_mask", lambda x, k=1.5: right(x, k).astype(int))

    def upper_only(x, k=1.5):
        q1, q3 = np.percentile(x, [25, 75])
        return x <= q3 + k * (q3 - q1)

    assert "only the upper fence" in fails_with("tukey_mask", upper_only)


# --- r2 ------------------------------------------------------------------------------------

def test_r2_mistakes():
    def no_flatten(y, y_pred):
        return float(1 - np.sum((y - y_pred) ** 2) / np.sum((y - y.mean()) ** 2))

    assert "broadcast" in fails_with("r2", no_flatten)

    def ratio(y, y_pred):
        y_pred = np.reshape(y_pred, -1)
        return float(np.sum((y - y_pred) ** 2) / np.sum((y - y.mean()) ** 2))

    assert "1 − SS_res / SS_tot" in fails_with("r2", ratio)

    def tot_from_pred(y, y_pred):
        y_pred = np.reshape(y_pred, -1)
        return float(1 - np.sum((y - y_pred) ** 2) / np.sum((y_pred - y_pred.mean()) ** 2))

    assert "spread of the *true* values" in fails_with("r2", tot_from_pred)

    def correlation(y, y_pred):
        return float(np.corrcoef(y, np.reshape(y_pred, -1))[0, 1] ** 2)

    assert "squared correlation" in fails_with("r2", correlation)

    def mse(y, y_pred):
        return float(np.mean((y - np.reshape(y_pred, -1)) ** 2))

    assert "mean squared error" in fails_with("r2", mse)


# --- kfold_indices -------------------------------------------------------------------------

def test_kfold_mistakes():
    def drops_remainder(n, k, seed=0):
        perm = np.random.default_rng(seed).permutation(n)
        size = n // k
        folds = [perm[i * size:(i + 1) * size] for i in range(k)]
        return [(np.setdiff1d(perm, f), f) for f in folds]

    assert "in no validation fold" in fails_with("kfold_indices", drops_remainder)

    def not_shuffled(n, k, seed=0):
        folds = np.array_split(np.arange(n), k)
        return [(np.setdiff1d(np.arange(n), f), f) for f in folds]

    assert "contiguous block" in fails_with("kfold_indices", not_shuffled)

    def train_on_everything(n, k, seed=0):
        folds = np.array_split(np.random.default_rng(seed).permutation(n), k)
        return [(np.arange(n), f) for f in folds]

    assert "leakage" in fails_with("kfold_indices", train_on_everything)

    def global_rng(n, k, seed=0):
        folds = np.array_split(np.random.permutation(n), k)
        return [(np.setdiff1d(np.arange(n), f), f) for f in folds]

    assert "not reproducible" in fails_with("kfold_indices", global_rng)

    def fixed_seed(n, k, seed=0):
        folds = np.array_split(np.random.default_rng(42).permutation(n), k)
        return [(np.setdiff1d(np.arange(n), f), f) for f in folds]

    assert "seed is ignored" in fails_with("kfold_indices", fixed_seed)

    def masks(n, k, seed=0):
        folds = np.array_split(np.random.default_rng(seed).permutation(n), k)
        return [(~np.isin(np.arange(n), f), np.isin(np.arange(n), f)) for f in folds]

    assert "boolean mask" in fails_with("kfold_indices", masks)


# --- cross_validate ------------------------------------------------------------------------

def _cv(kind):
    kfold_indices, r2 = SOL["kfold_indices"], SOL["r2"]

    def cross_validate(fit_predict, X, y, k=5, seed=0):
        scores, oof, stacked = np.empty(k), np.empty(len(X)), []
        for i, (train, val) in enumerate(kfold_indices(len(X), k, seed)):
            if kind == "leak":
                pred = fit_predict(X, y, X[val])
            elif kind == "train_score":
                pred = fit_predict(X[train], y[train], X[train])
                scores[i] = r2(y[train], pred)
                pred = fit_predict(X[train], y[train], X[val])
                oof[val] = pred
                continue
            else:
                pred = fit_predict(X[train], y[train], X[val])
            scores[i] = r2(y[val], pred)
            oof[val] = pred
            stacked.append(pred)
        if kind == "stacked":
            oof = np.concatenate(stacked)
        if kind == "mean":
            return scores.mean(), oof
        if kind == "only_scores":
            return scores
        return scores, oof
    return cross_validate


def test_cross_validate_mistakes():
    assert "leakage" in fails_with("cross_validate", _cv("leak"))
    assert "fold order" in fails_with("cross_validate", _cv("stacked"))
    assert "one number" in fails_with("cross_validate", _cv("mean"))
    assert "only the 5 scores" in fails_with("cross_validate", _cv("only_scores"))
    # Scoring on the training rows calls fit_predict twice per fold: the count gives it away.
    assert "called 10 times" in fails_with("cross_validate", _cv("train_score"))


def test_cross_validate_reports_training_scores():
    kfold_indices, r2 = SOL["kfold_indices"], SOL["r2"]

    def cross_validate(fit_predict, X, y, k=5, seed=0):
        scores, oof = np.empty(k), np.empty(len(X))
        for i, (train, val) in enumerate(kfold_indices(len(X), k, seed)):
            both = np.concatenate([train, val])
            pred = fit_predict(X[train], y[train], X[both])  # one call, predictions for all rows
            scores[i] = r2(y[train], pred[:len(train)])
            oof[val] = pred[len(train):]
        return scores, oof

    assert "X_val also contains the training rows" in fails_with("cross_validate", cross_validate)


# --- permutation_importance ----------------------------------------------------------------

def _perm(kind):
    r2 = SOL["r2"]

    def permutation_importance(predict_fn, X, y, seed=0):
        rng = np.random.default_rng(seed)
        base = r2(y, predict_fn(X))
        out = np.empty(X.shape[1])
        for j in range(X.shape[1]):
            perm = rng.permutation(len(X))
            if kind == "in_place":
                X[:, j] = X[perm, j]
                Xp = X
            elif kind == "rows":
                Xp = X[perm]
            else:
                Xp = X.copy()
                Xp[:, j] = X[perm, j]
            score = r2(y, predict_fn(Xp))
            out[j] = score - base if kind == "sign" else base - score
            if kind == "mse":
                out[j] = np.mean((y - predict_fn(Xp)) ** 2) - np.mean((y - predict_fn(X)) ** 2)
        return out
    return permutation_importance


def test_permutation_importance_mistakes():
    assert "changed the caller's X" in fails_with("permutation_importance", _perm("in_place"))
    assert "whole rows" in fails_with("permutation_importance", _perm("rows"))
    assert "sign is flipped" in fails_with("permutation_importance", _perm("sign"))
    assert "mean squared error" in fails_with("permutation_importance", _perm("mse"))


def test_permutation_importance_accepts_other_permutation_draws():
    r2 = SOL["r2"]

    def fresh_rng_per_column(predict_fn, X, y, seed=0):
        base = r2(y, predict_fn(X))
        out = np.empty(X.shape[1])
        for j in range(X.shape[1]):
            Xp = X.copy()
            np.random.default_rng(seed + 1000 + j).shuffle(Xp[:, j])
            out[j] = base - r2(y, predict_fn(Xp))
        return out

    for seed in range(4):
        result = evaluate(get_check("permutation_importance"), fresh_rng_per_column, seed=seed)
        assert result.passed, result.message


# --- train_house_regressor (a specification: the check judges held-out R²) -----------------
# One training of the solution serves every wrong version built on top of it.

@functools.lru_cache(maxsize=None)
def _trained(n: int, seed: int):
    return SOL["train_house_regressor"](_TRAIN[n][0], _TRAIN[n][1], seed=seed)


_TRAIN: dict = {}


def _on_solution(wrap):
    """A wrong train_house_regressor: the solution's model, its predictions passed through ``wrap``."""
    def train_house_regressor(X_train, y_train, seed=0, progress=False):
        _TRAIN.setdefault(len(X_train), (X_train, y_train))
        predict = _trained(len(X_train), seed)
        return lambda X: wrap(predict, X, X_train, y_train)
    return train_house_regressor


def test_the_checks_features_and_rows_are_the_chapters():
    import nbformat

    from mlcourse.checks.ch10 import development_rows, house_features
    from mlcourse.data import load_house_prices

    nb = nbformat.read(next(ROOT.glob("solutions/10_*.ipynb")), as_version=4)
    ns = {"np": np, "pd": pd}
    exec(next(c.source for c in nb.cells if "def make_features" in c.source), ns)
    df = load_house_prices()
    X, _ = ns["make_features"](df)
    np.testing.assert_array_equal(house_features(df), X)
    split = next(c.source for c in nb.cells if "dev_rows = " in c.source)
    exec(split, {"np": np, "df": df, "print": lambda *a: None}, ns)
    np.testing.assert_array_equal(development_rows(len(df)), ns["dev_rows"])
    assert not set(development_rows(len(df))) & set(ns["test_rows"])  # the check never sees a test row


def test_house_regressor_mistakes():
    fails = lambda wrap, *words: fails_with("train_house_regressor", _on_solution(wrap), *words)  # noqa: E731
    # forgot to transform the standardised target back
    fails(lambda f, X, Xt, yt: (f(X) - yt.mean()) / yt.std(), "standardised target", "transform it back")
    # exponentiated: prices in dollars, not log prices
    fails(lambda f, X, Xt, yt: np.exp(f(X)), "prices in dollars", "log prices")
    # the inputs standardised with the statistics of the rows being predicted
    from mlcourse.data import StandardScaler

    fails(lambda f, X, Xt, yt: f(StandardScaler().fit(X).transform(X) * Xt.std(0) + Xt.mean(0)),
          "statistics of the rows it predicts")
    # a random layer (dropout) left active at prediction time
    # (the noise is seeded by the batch size, so both runs of fails_with see the same numbers)
    fails(lambda f, X, Xt, yt: f(X) + np.random.default_rng(len(X)).normal(0, 0.01, len(X)),
          "must not depend on the other rows")
    # NaN predictions (a run that diverged)
    fails(lambda f, X, Xt, yt: f(X) * np.nan, "NaN", "diverged")
    # a constant prediction
    fails(lambda f, X, Xt, yt: np.full(len(X), yt.mean()), "same prediction")
    # a model that memorises its training houses: the nearest training house's price
    def nearest(f, X, Xt, yt):
        mu, sd = Xt.mean(0), Xt.std(0)
        A, B = (X - mu) / sd, (Xt - mu) / sd
        out = np.empty(len(X))
        for i in range(0, len(X), 1000):
            d = (A[i:i + 1000] ** 2).sum(1)[:, None] - 2 * A[i:i + 1000] @ B.T + (B ** 2).sum(1)[None, :]
            out[i:i + 1000] = yt[d.argmin(axis=1)]
        return out
    fails(nearest, "overfitting")


def test_house_regressor_mistakes_that_train_differently():
    from mlcourse import nn, optim
    from mlcourse.data import StandardScaler
    from mlcourse.linear import least_squares
    from mlcourse.train import fit

    def linear(X_train, y_train, seed=0, progress=False):
        scaler = StandardScaler().fit(X_train)
        w, b = least_squares(scaler.transform(X_train), y_train)
        return lambda X: scaler.transform(X) @ w + b

    fails_with("train_house_regressor", linear, "linear least-squares baseline")

    def too_short(X_train, y_train, seed=0, progress=False):  # one epoch at a tiny learning rate
        scaler = StandardScaler().fit(X_train)
        m, s = y_train.mean(), y_train.std()
        model = nn.Sequential([nn.Dense(X_train.shape[1], 32, rng=seed), nn.ReLU(), nn.Dense(32, 1, rng=seed + 1)])
        fit(model, nn.MSELoss(), optim.SGD(1e-4), scaler.transform(X_train), ((y_train - m) / s).reshape(-1, 1),
            epochs=1, batch_size=128, seed=seed, metrics=())
        return lambda X: model.predict(scaler.transform(X)).reshape(-1) * s + m

    fails_with("train_house_regressor", too_short, "has not converged")

    def unscaled(X_train, y_train, seed=0, progress=False):  # raw inputs (days ≈ 400, grade² ≈ 50)
        model = nn.Sequential([nn.Dense(X_train.shape[1], 32, rng=seed), nn.ReLU(), nn.Dense(32, 1, rng=seed + 1)])
        with np.errstate(all="ignore"):
            fit(model, nn.MSELoss(), optim.SGD(0.1), X_train, y_train.reshape(-1, 1), epochs=1, batch_size=128,
                seed=seed, metrics=())
        return lambda X: model.predict(X).reshape(-1)

    fails_with("train_house_regressor", unscaled, "diverged")


# --- verified diagnoses added for issue 14 (each wrong version is a planted student bug) -----

def _wrong10(name: str, *replacements: tuple[str, str]):
    """The solution's ``name`` with some text changed: one planted student bug."""
    return solution_variant("10", *replacements)[name]


def test_permutation_importance_named_mistakes():
    line = "importances[j] = baseline - r2(y, predict_fn(X_perm))"
    cases = {"importances[j] = baseline": "every importance equals the baseline R²",
             "importances[j] = baseline + r2(y, predict_fn(X_perm))": "baseline R² + permuted R²"}
    for wrong, words in cases.items():
        assert words in fails_with("permutation_importance", _wrong10("permutation_importance", (line, wrong)))
    m = fails_with("permutation_importance", _wrong10("permutation_importance", ("X_perm[:, j] = X[perm, j]", "pass")))
    assert "every importance is 0" in m
    m = fails_with("permutation_importance", _wrong10("permutation_importance",
                                                      ("for j in range(X.shape[1]):", "for j in range(X.shape[1] - 1):"),
                                                      ("np.empty(X.shape[1])", "np.zeros(X.shape[1])")))
    assert "only the last importance (feature 3) is wrong" in m
    m = fails_with("permutation_importance", _wrong10("permutation_importance", (line, "importances[j] = 1e6")))
    assert "importances[0] = 1e+06 is outside what shuffling column 0 can do here" in m


def test_cross_validate_values_never_stored_are_named():
    m = fails_with("cross_validate", _wrong10("cross_validate", ("scores = np.empty(k)", "scores = np.full(k, 7.0)"),
                                              ("scores[i] = r2(y[val], pred)", "pass")))
    assert "scores[0] = 7 is the R² of no fold" in m
    m = fails_with("cross_validate", _wrong10("cross_validate", ("oof_pred = np.empty(len(X))", "oof_pred = np.full(len(X), 1e3)"),
                                              ("oof_pred[val] = pred", "pass")))
    assert "oof_pred[0] = 1000 is no prediction fit_predict ever returned" in m
