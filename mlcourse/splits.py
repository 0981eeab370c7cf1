"""Splitting and batching: ``train_test_split``, ``kfold``, ``batches``.

Every shuffle goes through a seeded ``numpy.random.Generator``: same seed → same split.
Re-exported by ``mlcourse.data``.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from ._validate import check_positive, check_same_length, get_rng

__all__ = ['train_test_split', 'batches', 'kfold']


def _take(a: Any, idx: np.ndarray) -> Any:
    """Rows idx of an array, or of a pandas object (by position)."""
    return a.iloc[idx] if hasattr(a, "iloc") else np.asarray(a)[idx]


def _stratified_test_counts(counts: np.ndarray, n_test: int) -> np.ndarray:
    """Split n_test among classes in proportion to counts (largest-remainder rounding)."""
    exact = counts * n_test / counts.sum()
    take = np.floor(exact).astype(np.int64)
    # Hand out the rest to the largest fractional parts (ties: smaller class label first).
    order = np.argsort(-(exact - take), kind="stable")
    take[order[: n_test - take.sum()]] += 1
    return take


def train_test_split(X: Any, y: Any, test_size: float | int = 0.2, seed: int = 0,
                     stratify: bool = False) -> tuple[Any, Any, Any, Any]:
    """Shuffle and split into training and test sets.

    X: (N, ...) array (or DataFrame); y: (N,) targets. test_size: fraction in (0, 1) or a
    count in [1, N-1]; the test set gets ceil(test_size·N) rows. stratify=True keeps each
    class's share of the test set equal to its share of y (exact where the counts allow).
    Returns X_train, X_test, y_train, y_test; same seed → same split.
    """
    n = len(X)
    check_same_length(X, y, "X", "y")
    if n < 2:
        raise ValueError(f"X: need at least 2 rows to split, got {n}")
    if isinstance(test_size, (float, np.floating)) and 0 < test_size < 1:
        n_test = math.ceil(test_size * n)
    elif isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool) and 1 <= test_size < n:
        n_test = int(test_size)
    else:
        raise ValueError(f"test_size: expected a fraction between 0 and 1 or a count from 1 to {n - 1}, got {test_size!r}")
    n_test = min(n_test, n - 1)
    # One permutation serves both kinds of split, so stratify=True only changes what it must:
    # walking the same shuffled order, each class stops entering the test set at its quota.
    perm = get_rng(seed).permutation(n)
    if stratify:
        y_arr = np.asarray(y)
        if y_arr.ndim != 1:
            raise ValueError(f"y: stratify=True needs 1-D class labels (N,), got shape {y_arr.shape}")
        _, inverse, counts = np.unique(y_arr, return_inverse=True, return_counts=True)
        labels = inverse[perm]
        in_test = np.zeros(n, dtype=bool)
        for c, quota in enumerate(_stratified_test_counts(counts, n_test)):
            in_test[np.flatnonzero(labels == c)[:quota]] = True  # class c's first `quota` in perm
        test_idx, train_idx = perm[in_test], perm[~in_test]
    else:
        test_idx, train_idx = perm[:n_test], perm[n_test:]
    return _take(X, train_idx), _take(X, test_idx), _take(y, train_idx), _take(y, test_idx)


def batches(X: Any, y: Any, batch_size: int, shuffle: bool = True,
            rng: np.random.Generator | int | None = None) -> Iterator[tuple[np.ndarray, Any]]:
    """Iterate over one epoch in minibatches: yields (Xb (B, ...), yb (B, ...)).

    Every sample appears exactly once; the last batch keeps the remainder (may be smaller
    than batch_size). shuffle: new random order from ``rng`` (a Generator or a seed;
    None → seed 0). Pass the same Generator every epoch to get a different order each epoch.
    y may be None (then yb is None).
    """
    X = np.asarray(X)
    if X.ndim == 0:
        raise ValueError("X: expected an array with one row per sample, got a scalar")
    if y is not None:
        y = np.asarray(y)
        check_same_length(X, y, "X", "y")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    check_positive(batch_size, "batch_size")
    order = get_rng(rng).permutation(len(X)) if shuffle else np.arange(len(X))

    # Validation above runs at call time; only the iteration itself is lazy.
    def generate() -> Iterator[tuple[np.ndarray, Any]]:
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            yield X[idx], (None if y is None else y[idx])

    return generate()


def kfold(n: int, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k-fold cross-validation indices: list of k pairs (train_idx, val_idx).

    The k validation sets partition range(n) (sizes differ by at most 1, after a seeded
    shuffle); each train_idx is the rest. Both index arrays are sorted int64.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: expected an integer ≥ 2 (number of samples), got {n!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise ValueError(f"k: expected an integer from 2 to n={n}, got {k!r}")
    folds = np.array_split(get_rng(seed).permutation(n), k)
    out = []
    for i, val in enumerate(folds):
        train = np.concatenate([f for j, f in enumerate(folds) if j != i])
        out.append((np.sort(train).astype(np.int64), np.sort(val).astype(np.int64)))
    return out
