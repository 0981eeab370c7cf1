"""Loss functions and the numerically stable softmax / log-softmax / sigmoid.

Every loss follows one protocol (batch-first, N rows):

    loss.forward(pred, target) -> float     # mean over the batch
    loss.backward() -> grad                 # d loss / d pred: same shape and dtype as pred

``forward`` caches what ``backward`` needs, exactly like a layer.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import as_float_array

__all__ = ["softmax", "log_softmax", "sigmoid",
           "MSELoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss"]


# --------------------------------------------------------------------------------------
# Stable elementwise / rowwise functions
# --------------------------------------------------------------------------------------

def softmax(z: Any, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``: z (..., C) → probabilities (..., C) summing to 1, z's float dtype.

    Subtracting the row max first leaves the result unchanged (softmax is shift-invariant)
    but keeps every exp() ≤ 1, so logits like ±1000 cannot overflow.
    """
    z = as_float_array(z, "z")
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z: Any, axis: int = -1) -> np.ndarray:
    """log(softmax(z)) along ``axis``: z (..., C) → (..., C), via the log-sum-exp trick.

    Never takes log of a probability, so a vanishing probability gives a large negative
    number instead of log(0) = -inf.
    """
    z = as_float_array(z, "z")
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def sigmoid(x: Any) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-x)), elementwise: any shape → same shape and float dtype.

    Only ever exponentiates -|x| ≤ 0, so exp() cannot overflow at x = ±1000 (no warnings).
    """
    x = as_float_array(x, "x")
    e = np.exp(-np.abs(x))  # in (0, 1]
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# --------------------------------------------------------------------------------------
# Shared input handling
# --------------------------------------------------------------------------------------

def _pair(pred: Any, target: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """pred as a float array, target in pred's dtype and shape (a (N,) target fits (N, 1))."""
    pred = as_float_array(pred, "pred")
    target = as_float_array(target, "target", dtype=pred.dtype)
    if target.shape != pred.shape:
        # A column of outputs against a flat vector of targets is the common, harmless case;
        # any other mismatch would broadcast to a wrong (N, N) loss, so it is an error.
        if pred.ndim == 2 and pred.shape[1] == 1 and target.shape == pred.shape[:1]:
            target = target.reshape(pred.shape)
        else:
            raise ValueError(f"{who}: target has shape {target.shape} but pred has shape "
                             f"{pred.shape}; they must match")
    if pred.size == 0:
        raise ValueError(f"{who}: pred is empty (shape {pred.shape})")
    return pred, target


class _Loss:
    """Base class: ``loss(pred, target)`` is ``loss.forward(pred, target)``."""

    def __call__(self, pred: Any, target: Any) -> float:
        return self.forward(pred, target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# --------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------

class MSELoss(_Loss):
    """Mean squared error, averaged over all entries (= ``metrics.mse``).

    pred (N, K) or (N,); target same shape (or (N,) for pred (N, 1)) → float.
    backward: (N, K) = 2 (pred - target) / (N·K).
    """

    def forward(self, pred: Any, target: Any) -> float:
        pred, target = _pair(pred, target, "MSELoss")
        self.diff = pred - target
        return float(np.mean(self.diff ** 2))

    def backward(self) -> np.ndarray:
        return (2 / self.diff.size) * self.diff


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities p in [0, 1], averaged over all entries.

    pred (N, K) or (N,) probabilities; target same shape with values in [0, 1] → float.
    p is clipped to [eps, 1 - eps] so p = 0 or 1 exactly gives a large but finite loss.
    Prefer ``BCEWithLogitsLoss`` on raw scores: it never needs the clip.
    """

    def __init__(self, eps: float = 1e-7) -> None:
        if not 0 < eps < 0.5:
            raise ValueError(f"eps: expected a small positive number below 0.5, got {eps!r}")
        self.eps = eps

    def forward(self, pred: Any, target: Any) -> float:
        pred, target = _pair(pred, target, "BCELoss")
        # 1 - eps must stay below 1 in float32 too, so clip with at least float32's resolution.
        eps = max(self.eps, float(np.finfo(pred.dtype).epsneg))
        self.p, self.t = np.clip(pred, eps, 1 - eps), target
        return float(-np.mean(target * np.log(self.p) + (1 - target) * np.log1p(-self.p)))

    def backward(self) -> np.ndarray:
        p, t = self.p, self.t
        return (p - t) / (p * (1 - p)) / p.size

    def __repr__(self) -> str:
        return f"BCELoss(eps={self.eps})"


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits z (sigmoid fused in), averaged over all entries.

    pred (N, K) or (N,) raw scores; target same shape with values in [0, 1] → float.
    Uses log(1 + e^z) = max(z, 0) + log1p(e^{-|z|}), finite for any z.
    backward: (sigmoid(z) - target) / (N·K).
    """

    def forward(self, pred: Any, target: Any) -> float:
        z, t = _pair(pred, target, "BCEWithLogitsLoss")
        self.z, self.t = z, t
        return float(np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))))

    def backward(self) -> np.ndarray:
        return (sigmoid(self.z) - self.t) / self.z.size


class CrossEntropyLoss(_Loss):
    """Softmax + cross-entropy fused, on logits; mean over the batch.

    pred: logits (N, C). target: integer labels (N,) in [0, C-1], or one-hot / probability
    rows (N, C) → float = -mean_n Σ_c t_nc log softmax(z)_nc.
    backward: (N, C) = (softmax(z) - onehot(t)) / N — the famously simple gradient.
    """

    def forward(self, pred: Any, target: Any) -> float:
        z = as_float_array(pred, "pred")
        if z.ndim != 2 or z.shape[0] == 0:
            raise ValueError(f"CrossEntropyLoss: pred must be logits of shape (N, C), got shape {z.shape}")
        n, c = z.shape
        t = np.asarray(target)
        logp = log_softmax(z)
        self.probs = np.exp(logp)
        if t.ndim == 1:
            self.labels = self._labels(t, n, c)
            self.onehot = None
            return float(-np.mean(logp[np.arange(n), self.labels]))
        if t.shape != z.shape:
            raise ValueError(f"CrossEntropyLoss: target has shape {t.shape} but pred has shape "
                             f"{z.shape}; give labels (N,) = ({n},) or one-hot rows (N, C) = {z.shape}")
        self.onehot = as_float_array(t, "target", dtype=z.dtype)
        return float(-np.sum(self.onehot * logp) / n)

    @staticmethod
    def _labels(t: np.ndarray, n: int, c: int) -> np.ndarray:
        """Integer labels (N,) checked against the number of classes."""
        if len(t) != n:
            raise ValueError(f"CrossEntropyLoss: target has shape {t.shape} but pred has shape "
                             f"({n}, {c}); they need the same number of rows")
        if not np.issubdtype(t.dtype, np.integer):
            # Whole-number floats (labels read from a CSV) are fine; 0.3 is not a label.
            if not np.issubdtype(t.dtype, np.floating) or not np.all(t == np.round(t)):
                raise ValueError(f"CrossEntropyLoss: target labels must be integers in [0, {c - 1}], "
                                 f"got dtype {t.dtype}")
            t = t.astype(np.int64)
        lo, hi = t.min(), t.max()
        if lo < 0 or hi >= c:
            raise ValueError(f"CrossEntropyLoss: target labels must be in the range [0, {c - 1}] "
                             f"for {c} classes, got values from {lo} to {hi}")
        return t

    def backward(self) -> np.ndarray:
        grad = self.probs.copy()
        n = len(grad)
        if self.onehot is None:
            grad[np.arange(n), self.labels] -= 1
        else:
            grad -= self.onehot
        grad /= n
        return grad
