"""Chapter 02 checks: realistic wrong versions fail naming the symptom."""
from __future__ import annotations

import numpy as np
import pytest

from mlcourse.checks import evaluate, get_check
from tests.support import fails_with


# --- standardize_fit / standardize_apply -----------------------------------------------

def test_standardize_fit_wrong_versions():
    def std_eq_zero(X):  # the natural guard, defeated by rounding
        std = X.std(axis=0)
        return X.mean(axis=0), np.where(std == 0, 1.0, std)

    def ddof1(X):
        std = X.std(axis=0, ddof=1)
        return X.mean(axis=0), np.where(np.ptp(X, axis=0) == 0, 1.0, std)

    fails_with("standardize_fit", std_eq_zero, "rounding", "X.max(axis=0) == X.min(axis=0)")
    fails_with("standardize_fit", ddof1, "ddof=1")
    fails_with("standardize_fit", lambda X: (X.mean(axis=1), X.std(axis=1)), "axis=0")
    fails_with("standardize_fit", lambda X: (X.mean(axis=0), np.where(np.ptp(X, 0) == 0, 1.0, X.var(0))),
               "variance")
    fails_with("standardize_fit", lambda X: (X.mean(axis=0), np.where(np.ptp(X, 0) == 0, 0.0, X.std(0))),
               "constant column", "set it to 1")


def test_standardize_apply_wrong_versions():
    def refit(X, mean, std):  # the leak: statistics of the split being transformed
        s = X.std(axis=0)
        return (X - X.mean(axis=0)) / np.where(np.ptp(X, axis=0) == 0, 1.0, s)

    fails_with("standardize_apply", refit, "X's own mean and std", "leak")
    fails_with("standardize_apply", lambda X, m, s: (X - m) * s, "multiplies by std")
    fails_with("standardize_apply", lambda X, m, s: X / s - m, "parentheses")


# --- min_max_scale ---------------------------------------------------------------------

def test_min_max_wrong_versions():
    def refit(X, lo, hi):
        span = X.max(axis=0) - X.min(axis=0)
        return (X - X.min(axis=0)) / np.where(span == 0, 1.0, span)

    def clipped(X, lo, hi):
        span = hi - lo
        return np.clip((X - lo) / np.where(span == 0, 1.0, span), 0, 1)

    def nan_for_constant(X, lo, hi):
        with np.errstate(all="ignore"):
            return (X - lo) / (hi - lo)

    fails_with("min_max_scale", refit, "own min and max", "leak")
    fails_with("min_max_scale", clipped, "clipped", "don't clip")
    fails_with("min_max_scale", nan_for_constant, "constant", "divide by 1")
    fails_with("min_max_scale", lambda X, lo, hi: (X - lo) / hi, "divides by x_max")


# --- stratified_split ------------------------------------------------------------------

def _random_split(y, test_size, seed):
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_size * len(y)))
    return perm[n_test:], perm[:n_test]


def _stratified(y, test_size, seed, *, rng_factory=np.random.default_rng, shuffle=True, swap=False, overlap=False):
    rng = rng_factory(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if shuffle:
            idx = rng.permutation(idx)
        k = int(round(test_size * len(idx)))
        test.append(idx[:k])
        train.append(idx if overlap else idx[k:])
    train, test = np.concatenate(train), np.concatenate(test)
    return (test, train) if swap else (train, test)


def test_stratified_reference_helper_passes():
    assert evaluate(get_check("stratified_split"), _stratified).passed


def test_stratified_split_wrong_versions():
    fails_with("stratified_split", _random_split, "class", "stratified")
    fails_with("stratified_split", lambda y, t, s: _stratified(y, t, s, swap=True), "swapped")
    fails_with("stratified_split", lambda y, t, s: _stratified(y, t, s, shuffle=False), "not random")
    fails_with("stratified_split", lambda y, t, s: _stratified(y, t, s, overlap=True), "in both")
    fails_with("stratified_split",
               lambda y, t, s: _stratified(y, t, s, rng_factory=lambda _: np.random.default_rng()),
               "different splits", "default_rng(rng_seed)")
    fails_with("stratified_split", lambda y, t, s: tuple(m.astype(float) for m in _stratified(y, t, s)),
               "must be integers")
    fails_with("stratified_split", lambda y, t, s: _stratified(y, t, s)[1], "tuple of 2 index arrays")


# --- iterate_minibatches ---------------------------------------------------------------

def _batches(X, y, batch_size, seed, *, kind=""):
    n = len(X)
    rng = np.random.default_rng() if kind == "unseeded" else np.random.default_rng(seed)
    order = np.arange(n) if kind == "no_shuffle" else rng.permutation(n)
    if kind == "with_replacement":
        order = rng.integers(0, n, n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        if kind == "drop_last" and len(idx) < batch_size:
            return
        y_idx = np.arange(n)[start:start + batch_size] if kind == "misaligned" else idx
        yield X[idx], y[y_idx]


def test_minibatch_reference_helper_passes():
    assert evaluate(get_check("iterate_minibatches"), _batches).passed


@pytest.mark.parametrize("kind, words", [
    ("drop_last", ["last, smaller batch"]),
    ("no_shuffle", ["original order"]),
    ("misaligned", ["don't belong together", "same"]),
    ("with_replacement", ["twice", "never"]),
    ("unseeded", ["different orders", "default_rng(seed)"]),
])
def test_minibatch_wrong_versions(kind, words):
    fails_with("iterate_minibatches", lambda *a: _batches(*a, kind=kind), *words)


def test_minibatch_returning_nothing_or_a_list():
    def forgot_yield(X, y, batch_size, seed):
        order = np.random.default_rng(seed).permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            X[idx], y[idx]  # noqa: B018 — computed, never yielded

    fails_with("iterate_minibatches", forgot_yield, "returned None", "yield")
    # A list of batches is not lazy, but it is a correct epoch: accepted.
    assert evaluate(get_check("iterate_minibatches"), lambda *a: list(_batches(*a))).passed


# --- one_hot ---------------------------------------------------------------------------

def test_one_hot_wrong_versions():
    fails_with("one_hot", lambda y, c: np.eye(int(y.max()) + 1)[y], "num_classes", "absent")
    fails_with("one_hot", lambda y, c: np.eye(c)[y].T, "transpose")
    fails_with("one_hot", lambda y, c: 1 - np.eye(c)[y], "inverted")
    fails_with("one_hot", lambda y, c: np.eye(c)[np.sort(y)], "differs")


# --- verified properties and variants (issue 14) ---------------------------------------------

def test_standardize_fit_global_std_and_inverted_constant_test():
    def global_std(X):
        const = X.max(axis=0) == X.min(axis=0)
        return X.mean(axis=0), np.where(const, 1.0, X.std())
    fails_with("standardize_fit", global_std, "the std of the whole array", "axis=0")

    def inverted(X):
        const = X.max(axis=0) == X.min(axis=0)
        return X.mean(axis=0), np.where(~const, 1.0, X.std(axis=0))
    fails_with("standardize_fit", inverted, "wrong way round")


def test_standardize_apply_properties_on_probe_inputs():
    fails_with("standardize_apply", lambda X, m, s: X / s, "X_scaled is X / std")
    fails_with("standardize_apply", lambda X, m, s: (X + m) / s, "adds the mean")
    fails_with("standardize_apply", lambda X, m, s: X - m, "a sample equal to the mean + std must become 1")


def test_min_max_properties_on_probe_inputs():
    def no_shift(X, lo, hi):
        span = hi - lo
        return X / np.where(span == 0, 1.0, span)
    fails_with("min_max_scale", no_shift, "x_min itself must become 0")

    def plus_span(X, lo, hi):
        span = hi + lo
        return (X - lo) / np.where(hi == lo, 1.0, span)
    fails_with("min_max_scale", plus_span, "x_max itself must become 1")
