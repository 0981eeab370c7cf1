"""Preprocessing: feature scaling fitted on the training split, and one-hot labels.

``StandardScaler`` (z-scores; a constant column gives zeros, never NaN), ``MinMaxScaler`` /
``min_max_scale`` (to a range) and ``one_hot``. Re-exported by ``mlcourse.data``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import as_float_array, check_finite

__all__ = ['StandardScaler', 'MinMaxScaler', 'min_max_scale', 'one_hot']


def _features(X: Any, name: str = "X") -> np.ndarray:
    """X as a finite float array of shape (N, D) or (N,)."""
    X = as_float_array(X, name)
    if X.ndim not in (1, 2):
        raise ValueError(f"{name}: expected a 2-D array (N, D) (or 1-D (N,)), got shape {X.shape}")
    if len(X) == 0:
        raise ValueError(f"{name}: is empty; need at least one row")
    check_finite(X, name)
    return X


class StandardScaler:
    """Standardise features: z = (x - mean_) / scale_, with statistics from the training set.

    fit(X_train) learns mean_ (D,) and scale_ (D,) (the standard deviation, ddof=0);
    transform(X) works on any split: X (N, D) → (N, D) in X's float dtype (float32 stays
    float32). A constant column gets scale_ = 1, so it transforms to exactly 0 (never NaN).
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, X: Any) -> "StandardScaler":
        """Learn mean_ and scale_ from X: (N, D). Returns self."""
        X = _features(X)
        # Statistics accumulate in float64 for accuracy, then match X's dtype.
        mean = X.mean(axis=0, dtype=np.float64)
        std = X.std(axis=0, dtype=np.float64)
        constant = np.ptp(X, axis=0) == 0
        # Exactly constant → mean is the value itself (rounding could otherwise leave ±tiny/tiny).
        mean = np.where(constant, X[0], mean)
        tiny = std <= 10 * np.finfo(X.dtype).eps * np.abs(mean)  # rounding noise, not signal
        self.mean_ = mean.astype(X.dtype)
        self.scale_ = np.where(constant | tiny, 1.0, std).astype(X.dtype)
        return self

    def _check_fitted(self, X: Any, name: str) -> np.ndarray:
        if self.mean_ is None:
            raise RuntimeError("StandardScaler: call fit(X_train) before transform")
        X = _features(X, name)
        if X.shape[1:] != self.mean_.shape:
            raise ValueError(f"{name}: expected {self.mean_.shape[0] if self.mean_.ndim else 1} "
                             f"feature(s) like the data given to fit, got shape {X.shape}")
        return X

    def transform(self, X: Any) -> np.ndarray:
        """X: (N, D) → standardised (N, D), in X's float dtype."""
        X = self._check_fitted(X, "X")
        return (X - self.mean_.astype(X.dtype)) / self.scale_.astype(X.dtype)

    def fit_transform(self, X: Any) -> np.ndarray:
        """fit(X) then transform(X): (N, D) → (N, D)."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Undo transform: Z (N, D) → X (N, D) in original units."""
        Z = self._check_fitted(Z, "Z")
        return Z * self.scale_.astype(Z.dtype) + self.mean_.astype(Z.dtype)


def min_max_scale(X: Any, feature_range: tuple[float, float] = (0.0, 1.0),
                  data_min: Any = None, data_max: Any = None) -> np.ndarray:
    """Rescale each column linearly so data_min → low and data_max → high.

    X: (N, D) or (N,). feature_range: (low, high). data_min, data_max: (D,) column minimum
    and maximum — by default X's own; pass the training set's to scale a test set.
    Returns (N, D) in X's float dtype. A constant column maps to ``low`` (never NaN).
    """
    X = _features(X)
    low, high = _check_range(feature_range)
    dmin = X.min(axis=0) if data_min is None else as_float_array(data_min, "data_min", X.dtype)
    dmax = X.max(axis=0) if data_max is None else as_float_array(data_max, "data_max", X.dtype)
    if np.shape(dmin) != X.shape[1:] or np.shape(dmax) != X.shape[1:]:
        raise ValueError(f"data_min/data_max: expected shape {X.shape[1:]} (one per column), "
                         f"got {np.shape(dmin)} and {np.shape(dmax)}")
    span = dmax - dmin
    safe = np.where(span == 0, 1, span).astype(X.dtype)  # constant column: (x - min) is 0 anyway
    out = (X - dmin) / safe * X.dtype.type(high - low) + X.dtype.type(low)
    return out.astype(X.dtype, copy=False)


def _check_range(feature_range: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in feature_range)
    except (TypeError, ValueError):
        raise ValueError(f"feature_range: expected a pair (low, high), got {feature_range!r}") from None
    if not low < high:
        raise ValueError(f"feature_range: expected low < high, got {feature_range!r}")
    return low, high


class MinMaxScaler:
    """Class form of ``min_max_scale``: fit on training data, transform any split.

    fit(X) learns data_min_, data_max_ (D,); transform(X): (N, D) → (N, D) in feature_range.
    """

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        self.feature_range = _check_range(feature_range)
        self.data_min_: np.ndarray | None = None
        self.data_max_: np.ndarray | None = None

    def fit(self, X: Any) -> "MinMaxScaler":
        """Learn the column minimum and maximum of X: (N, D). Returns self."""
        X = _features(X)
        self.data_min_, self.data_max_ = X.min(axis=0), X.max(axis=0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """X: (N, D) → (N, D) scaled with the fitted minimum and maximum."""
        if self.data_min_ is None:
            raise RuntimeError("MinMaxScaler: call fit(X_train) before transform")
        return min_max_scale(X, self.feature_range, self.data_min_, self.data_max_)

    def fit_transform(self, X: Any) -> np.ndarray:
        """fit(X) then transform(X): (N, D) → (N, D)."""
        return self.fit(X).transform(X)


def _labels(y: Any, name: str = "y") -> np.ndarray:
    """y as a 1-D int64 array of non-negative whole numbers."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of class labels (N,), got shape {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name}: expected integer class labels, got an array of dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
        bad = arr[~(np.isfinite(arr) & (arr == np.round(arr)))][0]
        raise ValueError(f"{name}: class labels must be whole numbers, found {bad!r}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name}: class labels must be 0, 1, 2, …; found negative label {arr.min()}")
    return arr.astype(np.int64)


def one_hot(y: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode class labels: y (N,) ints in [0, C) → (N, C) float64.

    num_classes: C (default max(y) + 1). Negative, non-integer or too-large labels → ValueError.
    """
    y = _labels(y)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes: expected a positive integer, got {num_classes!r}")
    if y.size and y.max() >= num_classes:
        raise ValueError(f"y: label {y.max()} is too large for num_classes={num_classes} "
                         f"(labels must be 0 … {num_classes - 1})")
    out = np.zeros((len(y), num_classes), dtype=np.float64)
    out[np.arange(len(y)), y] = 1.0
    return out
