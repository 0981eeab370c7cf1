"""Evaluation metrics: classification (accuracy, confusion_matrix) and regression (mse, mae, r2_score).

Classification functions take class labels (N,) — or class scores / probabilities
(N, C), which are turned into labels with argmax (so you can pass ``model.predict(X)``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import as_float_array, check_finite, check_same_length

__all__ = ["accuracy", "confusion_matrix", "mse", "mae", "r2_score"]


def _to_labels(y: Any, name: str) -> np.ndarray:
    """Labels (N,) int64 from labels (N,) or scores/probabilities/one-hot (N, C) (argmax)."""
    arr = np.asarray(y)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name}: expected numbers, got an array of dtype {arr.dtype}")
    if arr.ndim == 2 and arr.shape[1] == 1:
        # argmax of a single column is always 0: almost certainly a bug, so say so.
        raise ValueError(f"{name}: has shape {arr.shape}, one score per sample; threshold it "
                         "yourself first, e.g. (p > 0.5).astype(int).ravel()")
    if arr.ndim == 2:
        return arr.argmax(axis=1).astype(np.int64)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected labels (N,) or class scores (N, C), got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        whole = np.isfinite(arr) & (arr == np.round(arr))
        if not whole.all():
            raise ValueError(f"{name}: labels must be whole numbers but found {arr[~whole][0]!r}; "
                             "for probabilities of class 1 use (p > 0.5).astype(int)")
    return arr.astype(np.int64)


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p = _to_labels(y_true, "y_true"), _to_labels(y_pred, "y_pred")
    check_same_length(t, p, "y_true", "y_pred")
    if len(t) == 0:
        raise ValueError("y_true: is empty; need at least one sample")
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of correct predictions, in [0, 1].

    y_true: (N,) labels (or (N, C) one-hot); y_pred: (N,) labels or (N, C) scores → argmax.
    """
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts of (true, predicted) pairs: (C, C) int64, rows = true class, columns = predicted.

    y_true: (N,) labels; y_pred: (N,) labels or (N, C) scores. num_classes: C (default:
    1 + the largest label seen). Negative labels or labels ≥ num_classes → ValueError.
    """
    t, p = _pair(y_true, y_pred)
    if min(t.min(), p.min()) < 0:
        raise ValueError("y_true/y_pred: class labels must be 0, 1, 2, …; found a negative label")
    largest = int(max(t.max(), p.max()))
    if num_classes is None:
        num_classes = largest + 1
    elif largest >= num_classes:
        raise ValueError(f"num_classes: label {largest} does not fit in num_classes={num_classes}")
    counts = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def _regression_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays of equal shape; (N,) vs (N, 1) is accepted (both flattened)."""
    t = as_float_array(y_true, "y_true")
    p = as_float_array(y_pred, "y_pred")
    if t.shape != p.shape:
        # (N,) - (N, 1) would broadcast to (N, N): the classic silent bug. Allow only that pair.
        if t.size == p.size and t.ndim <= 2 and p.ndim <= 2 and t.squeeze().ndim <= 1 and p.squeeze().ndim <= 1:
            t, p = t.reshape(-1), p.reshape(-1)
        else:
            raise ValueError(f"y_true has shape {t.shape} but y_pred has shape {p.shape}; they must match")
    if t.size == 0:
        raise ValueError("y_true: is empty; need at least one value")
    check_finite(t, "y_true")
    check_finite(p, "y_pred")
    return t, p


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error over all entries: y_true, y_pred (N,) or (N, K) → float."""
    t, p = _regression_pair(y_true, y_pred)
    return float(np.mean((t - p) ** 2))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error over all entries: y_true, y_pred (N,) or (N, K) → float."""
    t, p = _regression_pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def r2_score(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination R² = 1 - SS_res / SS_tot (1 is perfect, 0 = predicting the mean).

    y_true, y_pred: (N,) or (N, K); for K outputs the K scores are averaged.
    Constant y_true (SS_tot = 0): R² is undefined, so we return 1.0 when the predictions
    are exact and 0.0 otherwise (scikit-learn's convention) — no division by zero.
    """
    t, p = _regression_pair(y_true, y_pred)
    t2, p2 = (t.reshape(-1, 1), p.reshape(-1, 1)) if t.ndim == 1 else (t, p)
    ss_res = np.sum((t2 - p2) ** 2, axis=0, dtype=np.float64)
    ss_tot = np.sum((t2 - t2.mean(axis=0, dtype=np.float64)) ** 2, axis=0, dtype=np.float64)
    constant = np.ptp(t2, axis=0) == 0  # exact test: a float mean may leave SS_tot ≈ 1e-33
    scores = np.where(constant, np.where(ss_res == 0, 1.0, 0.0),
                      1.0 - ss_res / np.where(constant, 1.0, ss_tot))
    return float(np.mean(scores))
