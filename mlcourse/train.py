"""The training loop: fit(model, loss, optimizer, X, y, ...) -> History.

One epoch = shuffle, then for every minibatch: forward, loss, backward, optimizer step.
Training metrics are computed from the forward outputs the step already produced (no
extra pass), so they describe the model *during* the epoch, with Dropout active.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from ._validate import as_float_array, check_choice, check_finite, check_same_length
from .losses import BCEWithLogitsLoss, CrossEntropyLoss
from .model import Sequential

__all__ = ["fit", "History", "METRICS"]

METRICS = ("accuracy", "mse", "mae", "r2")


class History:
    """Per-epoch record of a training run.

    history: dict of lists, e.g. {"loss": [...], "val_loss": [...], "accuracy": [...]}
    (plus "lr" when a schedule was used); epochs: [1, 2, ..., E] (epochs completed).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epochs: list[int] = []

    def _append(self, epoch: int, values: dict[str, float]) -> None:
        self.epochs.append(epoch)
        for k, v in values.items():
            self.history.setdefault(k, []).append(float(v))

    def to_frame(self):
        """pandas DataFrame: one row per epoch (index "epoch"), one column per quantity."""
        import pandas as pd  # lazy: pandas costs ~0.5 s to import
        return pd.DataFrame(self.history, index=pd.Index(self.epochs, name="epoch"))

    def plot(self, ax: Any = None) -> Any:
        """Learning curves, train and validation together.

        ax: None → a new figure with one panel per quantity (loss, accuracy, ...);
        one Axes → every curve on it; a sequence of Axes → one per quantity. Returns the axes.
        """
        import matplotlib.pyplot as plt  # lazy: matplotlib costs ~1 s to import
        names = [k for k in self.history if not k.startswith("val_") and k != "lr"]
        if ax is None:
            _, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.2), squeeze=False)
            axes = list(axes[0])
        elif hasattr(ax, "plot"):
            axes = [ax] * len(names)
        else:
            axes = list(np.ravel(ax))
        for a, name in zip(axes, names):
            a.plot(self.epochs, self.history[name], "o-", label=name)
            if f"val_{name}" in self.history:
                a.plot(self.epochs, self.history[f"val_{name}"], "s--", label=f"val_{name}")
            a.set_xlabel("epoch")
            a.set_ylabel(name if len(set(axes)) > 1 else "value")
            a.legend()
        return ax if ax is not None else (axes[0] if len(axes) == 1 else axes)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History({len(self.epochs)} epochs; last: {last})"


# --------------------------------------------------------------------------------------
# Metrics as running sums: one cheap update per batch, finished once per epoch.
# --------------------------------------------------------------------------------------

def _metric_sums(name: str, out: np.ndarray, y: np.ndarray, threshold: float) -> np.ndarray:
    """Sufficient statistics of metric ``name`` for one batch: out (N, K), y (N,) or (N, K)."""
    if name == "accuracy":
        pred = out.argmax(axis=1) if out.ndim == 2 and out.shape[1] > 1 else out.reshape(-1) > threshold
        true = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
        return np.array([np.count_nonzero(pred == true), len(true)], dtype=np.float64)
    if y.size != out.size:
        raise ValueError(f"metric {name!r}: y has shape {y.shape} but the model outputs {out.shape}")
    t = y.reshape(len(out), -1)
    err = out.reshape(len(out), -1) - t
    f64 = np.float64  # accumulate in float64 even for float32 models: sums over a whole epoch
    if name == "mse":
        return np.array([np.sum(err * err, dtype=f64), err.size])
    if name == "mae":
        return np.array([np.sum(np.abs(err), dtype=f64), err.size])
    # r2, per output column: SS_res, Σy, Σy², n  (SS_tot = Σy² - (Σy)²/n at the end)
    return np.stack([np.sum(err * err, axis=0, dtype=f64), np.sum(t, axis=0, dtype=f64),
                     np.sum(t * t, axis=0, dtype=f64), np.full(t.shape[1], len(t), dtype=f64)])


def _metric_value(name: str, s: np.ndarray) -> float:
    """The metric from its summed statistics."""
    if name != "r2":
        return float(s[0] / s[1])
    ss_res, sy, syy, n = s
    ss_tot = syy - sy * sy / n
    # A constant target makes R² undefined: 1 if predicted exactly, else 0 (as metrics.r2_score).
    r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), (ss_res == 0).astype(float))
    return float(np.mean(r2))


# --------------------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------------------

def _model_dtype(model: Any) -> np.dtype:
    return next((p.dtype for p in model.params.values()), np.dtype(np.float64))


def _check_data(X: Any, y: Any, loss: Any, dtype: np.dtype, xname: str, yname: str) -> tuple[np.ndarray, np.ndarray]:
    """X as a finite array in the model's dtype; y likewise (integer labels kept for CE)."""
    X = as_float_array(X, xname, dtype=dtype)
    if X.ndim < 2:
        raise ValueError(f"{xname}: expected a 2-D array (N, D) (or (N, C, H, W) for a CNN), got shape "
                         f"{X.shape}; a single feature needs X.reshape(-1, 1)")
    check_finite(X, xname)
    y_arr = np.asarray(y)
    if not (isinstance(loss, CrossEntropyLoss) and np.issubdtype(y_arr.dtype, np.integer)):
        y_arr = as_float_array(y_arr, yname, dtype=dtype)
        check_finite(y_arr, yname)
    check_same_length(X, y_arr, xname, yname)
    if len(X) == 0:
        raise ValueError(f"{xname}: is empty; need at least one row")
    return X, y_arr


def _positive_int(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    return int(v)


def fit(model: Any, loss: Any, optimizer: Any, X: Any, y: Any, epochs: int, batch_size: int,
        validation_data: tuple[Any, Any] | None = None, schedule: Callable[[int], float] | None = None,
        seed: int = 0, progress: bool = True, metrics: Sequence[str] = ("accuracy",)) -> History:
    """Train ``model`` with minibatch gradient descent; return the per-epoch History.

    X: (N, D) or (N, C, H, W); y: (N,) labels/targets or (N, K). validation_data: (X_val, y_val).
    schedule(epoch) (epoch = 0, 1, ...) sets ``optimizer.lr`` before each epoch. Each epoch
    reshuffles with ``np.random.default_rng(seed)``; the last partial batch is kept.
    metrics: any of "accuracy", "mse", "mae", "r2". For a single-output model, accuracy
    thresholds the output at 0 with BCEWithLogitsLoss (logits) and at 0.5 otherwise.
    """
    from tqdm.auto import trange  # lazy: only fit() with a progress bar needs it

    epochs, batch_size = _positive_int(epochs, "epochs"), _positive_int(batch_size, "batch_size")
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    for m in metrics:
        check_choice(m, METRICS, "metrics")
    dtype = _model_dtype(model)
    X, y = _check_data(X, y, loss, dtype, "X", "y")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data: expected a pair (X_val, y_val)")
        X_val, y_val = _check_data(*validation_data, loss, dtype, "X_val", "y_val")
    threshold = 0.0 if isinstance(loss, BCEWithLogitsLoss) else 0.5
    rng = np.random.default_rng(seed)
    n, history = len(X), History()

    bar = trange(epochs, disable=not progress, desc="fit", unit="epoch")
    # Training never uses the gradient wrt X; a Sequential can skip computing it.
    backprop = (functools.partial(model.backward, input_grad=False) if isinstance(model, Sequential)
                else model.backward)
    for epoch in bar:
        if schedule is not None:
            optimizer.lr = schedule(epoch)
        order = rng.permutation(n)
        loss_sum, sums = 0.0, {m: 0.0 for m in metrics}
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            xb, yb = X[idx], y[idx]  # the only per-batch copy: the gather
            out = model.forward(xb, training=True)
            loss_sum += loss.forward(out, yb) * len(idx)
            backprop(loss.backward())
            optimizer.step(model)
            for m in metrics:
                sums[m] = sums[m] + _metric_sums(m, out, yb, threshold)
        row = {"loss": loss_sum / n, **{m: _metric_value(m, s) for m, s in sums.items()}}
        if validation_data is not None:
            out = model.predict(X_val, batch_size=max(batch_size, 1024)) if hasattr(model, "predict") \
                else model.forward(X_val, training=False)
            row["val_loss"] = loss.forward(out, y_val)
            row.update({f"val_{m}": _metric_value(m, _metric_sums(m, out, y_val, threshold)) for m in metrics})
        if schedule is not None:
            row["lr"] = optimizer.lr
        history._append(epoch + 1, row)
        if progress:
            bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k != "lr"}, refresh=False)
    return history
