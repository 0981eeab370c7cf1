"""Linear regression two ways: the closed form (``least_squares``) and gradient descent
(``LinearRegression``). The model is  ŷ = X w + b  with X: (N, D), w: (D,), b: scalar.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._validate import as_float_array, check_choice, check_finite, check_ndim, check_positive, get_rng
from .data import batches

__all__ = ["least_squares", "LinearRegression", "DivergenceWarning"]


class DivergenceWarning(UserWarning):
    """Gradient descent stopped because the loss blew up (learning rate too large)."""


def _xy(X: Any, y: Any, dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """X (N, D) and y (N,) as finite float arrays of one dtype; 1-D X is one feature."""
    X = as_float_array(X, "X", dtype)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    check_ndim(X, 2, "X", "(N, D)")
    y = as_float_array(y, "y", X.dtype)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    check_ndim(y, 1, "y", "(N,)")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; they must match")
    if len(X) == 0:
        raise ValueError("X: is empty; need at least one row")
    check_finite(X, "X")
    check_finite(y, "y")
    return X, y


def least_squares(X: Any, y: Any) -> tuple[np.ndarray, float]:
    """Closed-form least squares with a bias: minimise mean((X w + b - y)²).

    X: (N, D) (or (N,) for one feature), y: (N,) → w: (D,), b: float.

    We append a column of ones, A = [X | 1] (N, D+1), and solve min ‖A θ - y‖² with
    ``np.linalg.lstsq`` (an SVD), θ = (w, b). That is the same answer as the normal
    equations θ = (AᵀA)⁻¹Aᵀy, but never forms AᵀA, whose condition number is the square
    of A's — and when columns are collinear it returns the smallest-norm solution instead
    of failing on a singular matrix.
    """
    X, y = _xy(X, y)
    A = np.hstack([X, np.ones((len(X), 1), dtype=X.dtype)])
    theta, *_ = np.linalg.lstsq(A, y, rcond=None)
    return theta[:-1], float(theta[-1])


class LinearRegression:
    """Linear regression ŷ = X w + b trained by gradient descent on the mean squared error.

    lr: learning rate; epochs: passes over the data; batch_size: None → full-batch gradient
    descent (one step per epoch), else shuffled minibatches (a seeded Generator, ``seed``).
    on_divergence: what to do when the loss blows up (non-finite, or a million times the
    starting loss): "raise" (default) stops with a FloatingPointError that suggests a smaller
    learning rate — you can't miss it; "warn" stops with a DivergenceWarning and keeps the
    model, handy when exploring learning rates with a slider. Either way ``history`` holds
    the losses up to the blow-up, so you can plot them.

    After fit: ``weights`` (D,), ``bias`` float, ``history`` = training MSE after each epoch.
    Works in the dtype of X (float32 stays float32). Start: w = 0, b = 0.
    """

    def __init__(self, lr: float = 0.01, epochs: int = 100, batch_size: int | None = None,
                 seed: int = 0, on_divergence: str = "raise") -> None:
        check_positive(lr, "lr")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs: expected a positive integer, got {epochs!r}")
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                       or batch_size < 1):
            raise ValueError(f"batch_size: expected a positive integer or None (full batch), got {batch_size!r}")
        check_choice(on_divergence, ("raise", "warn"), "on_divergence")
        self.lr, self.epochs, self.batch_size, self.seed = lr, int(epochs), batch_size, seed
        self.on_divergence = on_divergence
        self.weights: np.ndarray | None = None
        self.bias: float | None = None
        self.history: list[float] = []
        self.diverged = False

    def fit(self, X: Any, y: Any) -> "LinearRegression":
        """Train on X: (N, D), y: (N,). Returns self."""
        X, y = _xy(X, y)
        n, d = X.shape
        w = np.zeros(d, dtype=X.dtype)
        b = X.dtype.type(0)
        rng = get_rng(self.seed)
        start_loss = float(np.mean(y * y))  # the loss at w = 0, b = 0
        self.history, self.diverged = [], False
        # A too-large learning rate overflows; we detect that below and explain it, so
        # NumPy's overflow warnings would only add noise.
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(self.epochs):
                steps = [(X, y)] if self.batch_size is None else batches(X, y, self.batch_size, rng=rng)
                for Xb, yb in steps:
                    err = Xb @ w + b - yb                       # (B,)
                    w -= self.lr * (2 / len(Xb)) * (Xb.T @ err)  # dMSE/dw = 2/B Xᵀ err
                    b -= self.lr * 2 * err.mean()               # dMSE/db = 2 mean(err)
                loss = float(np.mean((X @ w + b - y) ** 2))
                self.history.append(loss)
                if not np.isfinite(loss) or loss > 1e6 * max(start_loss, 1e-12):
                    self.weights, self.bias, self.diverged = w, float(b), True
                    self._diverged(epoch + 1, start_loss, loss)
                    return self
        self.weights, self.bias = w, float(b)
        return self

    def _diverged(self, epoch: int, start: float, loss: float) -> None:
        msg = (f"LinearRegression diverged at epoch {epoch}: the training MSE went from "
               f"{start:.3g} to {loss:.3g}. The learning rate lr={self.lr:g} is too large: try "
               f"lr={self.lr / 10:g}, and standardise X first (StandardScaler).")
        if self.on_divergence == "raise":
            raise FloatingPointError(msg)
        warnings.warn(msg, DivergenceWarning, stacklevel=3)

    def predict(self, X: Any) -> np.ndarray:
        """X: (N, D) → ŷ: (N,) in X's float dtype."""
        if self.weights is None:
            raise RuntimeError("LinearRegression: call fit(X, y) before predict")
        X = as_float_array(X, "X")
        if X.ndim == 1 and len(self.weights) == 1:
            X = X.reshape(-1, 1)
        check_ndim(X, 2, "X", "(N, D)")
        if X.shape[1] != len(self.weights):
            raise ValueError(f"X: expected {len(self.weights)} feature(s) like the training data, got shape {X.shape}")
        return X @ self.weights.astype(X.dtype) + X.dtype.type(self.bias)

    def __repr__(self) -> str:
        return (f"LinearRegression(lr={self.lr!r}, epochs={self.epochs}, "
                f"batch_size={self.batch_size!r}, seed={self.seed!r})")
