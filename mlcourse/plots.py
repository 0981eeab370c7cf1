"""Matplotlib helpers for the course figures.

Every function draws with the object-oriented API (``fig, ax = plt.subplots()``), takes
``ax=None`` where a single Axes makes sense (None → a new figure), and returns the Axes
(or the Figure for grids), so you can add titles or save it.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from ._validate import as_float_array, check_ndim

__all__ = ["plot_learning_curves", "plot_decision_boundary", "plot_confusion_matrix",
           "plot_digits", "plot_filters", "plot_regression_fit"]

# Colour-blind-friendly class colours (Okabe–Ito), reused for regions and points.
CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9",
                "#D55E00", "#F0E442", "#000000", "#999999", "#882255")


def _axes(ax: Axes | None, figsize: tuple[float, float] = (5.5, 4)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _as_series_dict(history: Any) -> dict[str, list[float]]:
    """{name: values} from a list of losses, a dict of lists, or an object with .history."""
    if hasattr(history, "history") and isinstance(history.history, Mapping):
        history = history.history  # train.History
    elif hasattr(history, "history") and isinstance(history.history, (list, tuple)):
        history = {"loss": history.history}  # e.g. LinearRegression
    if isinstance(history, Mapping):
        series = {str(k): list(v) for k, v in history.items() if len(v) > 0}
    else:
        series = {"loss": list(np.asarray(history, dtype=float).reshape(-1))}
    if not series:
        raise ValueError("history: nothing to plot (no values recorded)")
    return series


def plot_learning_curves(history_or_dict: Any, ax: Axes | None = None, keys: list[str] | None = None,
                         logy: bool = False) -> Axes:
    """Plot training curves per epoch.

    history_or_dict: a list of losses (E,), a dict {"loss": [...], "val_loss": [...], ...},
    or an object with a ``.history`` attribute (``train.History``, ``LinearRegression``).
    keys: which series to draw (default: every key containing "loss", or all keys if none
    does). Validation curves ("val_…") are dashed in the colour of their training curve.
    logy: log-scale y axis (good for losses spanning decades). Returns the Axes.
    """
    series = _as_series_dict(history_or_dict)
    if keys is None:
        keys = [k for k in series if "loss" in k] or list(series)
    missing = [k for k in keys if k not in series]
    if missing:
        raise ValueError(f"keys: {missing} not in the history; available: {list(series)}")
    ax = _axes(ax)
    colors: dict[str, str] = {}
    for key in keys:
        # inf (a diverged run) would wreck the axis limits; NaN simply leaves a gap.
        values = np.asarray(series[key], dtype=float)
        values = np.where(np.isfinite(values), values, np.nan)
        epochs = np.arange(1, len(values) + 1)
        base = key[4:] if key.startswith("val_") else key
        color = colors.setdefault(base, CLASS_COLORS[len(colors) % len(CLASS_COLORS)])
        ax.plot(epochs, values, linestyle="--" if key.startswith("val_") else "-", color=color,
                marker="o" if len(values) <= 20 else None, markersize=3, label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel(keys[0] if len(keys) == 1 else "loss" if all("loss" in k for k in keys) else "value")
    if logy:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def _predict_labels(predict_fn: Callable, points: np.ndarray) -> np.ndarray:
    """Class labels from predict_fn: labels (M,), scores (M, C) → argmax, or P(class 1) → > 0.5."""
    out = np.asarray(predict_fn(points))
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    out = out.reshape(-1)
    if len(out) != len(points):
        raise ValueError(f"predict_fn: returned {len(out)} values for {len(points)} points")
    if np.issubdtype(out.dtype, np.floating) and not np.all(out == np.round(out)):
        return (out > 0.5).astype(np.int64)  # probabilities of class 1
    return out.astype(np.int64)


def plot_decision_boundary(predict_fn: Callable[[np.ndarray], Any], X: Any, y: Any,
                           ax: Axes | None = None, resolution: int = 200) -> Axes:
    """Colour the plane by predicted class and scatter the data on top (2-D inputs).

    predict_fn: maps points (M, 2) to labels (M,), class scores (M, C) (argmax is taken)
    or probabilities of class 1 (M,) / (M, 1) (thresholded at 0.5).
    X: (N, 2) data, y: (N,) integer labels. resolution: grid points per axis. Returns the Axes.
    """
    X = as_float_array(X, "X")
    check_ndim(X, 2, "X", "(N, 2)")
    if X.shape[1] != 2:
        raise ValueError(f"X: expected 2 features (N, 2) to draw in the plane, got shape {X.shape}")
    y = np.asarray(y).reshape(-1)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; they must match")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise ValueError(f"resolution: expected an integer ≥ 2, got {resolution!r}")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-3)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(X.dtype)
    zz = _predict_labels(predict_fn, grid).reshape(gx.shape)

    n_classes = int(max(zz.max(), y.max() if y.size else 0)) + 1
    cmap = ListedColormap([CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(n_classes)])
    ax = _axes(ax)
    ax.contourf(gx, gy, zz, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.25)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5,
               edgecolors="k", linewidths=0.5, s=25)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def plot_confusion_matrix(cm: Any, class_names: list[str] | None = None, ax: Axes | None = None) -> Axes:
    """Heat map of a confusion matrix with the count written in every cell.

    cm: (C, C) counts, rows = true class, columns = predicted. class_names: C tick labels
    (default 0 … C-1). Returns the Axes.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm: expected a square (C, C) matrix, got shape {cm.shape}")
    c = cm.shape[0]
    names = [str(i) for i in range(c)] if class_names is None else [str(n) for n in class_names]
    if len(names) != c:
        raise ValueError(f"class_names: expected {c} names (one per class), got {len(names)}")
    ax = _axes(ax, figsize=(max(4, 0.6 * c + 2),) * 2)
    image = ax.imshow(cm, cmap="Blues")
    threshold = cm.max() / 2 if cm.size else 0
    integer = np.issubdtype(cm.dtype, np.integer)
    for i in range(c):
        for j in range(c):
            ax.text(j, i, f"{cm[i, j]}" if integer else f"{cm[i, j]:.2g}", ha="center", va="center",
                    fontsize=8 if c > 6 else 10, color="white" if cm[i, j] > threshold else "black")
    ax.set_xticks(range(c), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(c), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


def _images(X: Any) -> np.ndarray:
    """(N, 784), (N, 28, 28) or (N, 1, 28, 28) → (N, 28, 28)-style (N, h, w) images."""
    X = as_float_array(X, "X")
    if X.ndim == 4 and X.shape[1] == 1:
        return X[:, 0]
    if X.ndim == 3:
        return X
    if X.ndim == 2:
        side = int(round(np.sqrt(X.shape[1])))
        if side * side == X.shape[1]:
            return X.reshape(len(X), side, side)
    raise ValueError(f"X: expected images (N, 784), (N, 28, 28) or (N, 1, 28, 28), got shape {X.shape}")


def plot_digits(X: Any, y_true: Any = None, y_pred: Any = None, n: int = 16, ncols: int = 8) -> Figure:
    """Grid of the first n images with their labels; wrong predictions titled in red.

    X: (N, 784), (N, 28, 28) or (N, 1, 28, 28). y_true, y_pred: (N,) labels (optional;
    y_pred may also be (N, C) scores). Titles: the label; with both, the prediction, and
    "3 (true 5)" in red when it is wrong. Returns the Figure.
    """
    images = _images(X)
    if n < 1 or ncols < 1:
        raise ValueError(f"n and ncols: expected positive integers, got n={n}, ncols={ncols}")
    n = min(int(n), len(images))
    t = None if y_true is None else np.asarray(y_true).reshape(len(images), -1)
    p = None if y_pred is None else np.asarray(y_pred)
    if p is not None:
        p = p.argmax(axis=1) if p.ndim == 2 else p.reshape(-1)
    if t is not None:
        t = t.argmax(axis=1) if t.shape[1] > 1 else t[:, 0]
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.1 * ncols, 1.25 * nrows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= n:
            continue
        ax.imshow(images[k], cmap="gray_r", vmin=0, vmax=max(1.0, float(images[k].max())))
        if p is not None and t is not None:
            wrong = int(p[k]) != int(t[k])
            ax.set_title(f"{int(p[k])} (true {int(t[k])})" if wrong else f"{int(p[k])}",
                         color="red" if wrong else "black", fontsize=9)
        elif p is not None or t is not None:
            ax.set_title(f"{int((p if p is not None else t)[k])}", fontsize=9)
    fig.tight_layout()
    return fig


def plot_filters(W: Any, ncols: int = 8) -> Figure:
    """Show convolution filters as small images, one per output channel.

    W: (C_out, C_in, kh, kw). With C_in = 3 each filter is drawn in colour (RGB); otherwise
    the mean over input channels is drawn with a diverging map (blue < 0 < red), all filters
    on one shared, zero-centred colour scale. Returns the Figure.
    """
    W = as_float_array(W, "W")
    check_ndim(W, 4, "W", "(C_out, C_in, kh, kw)")
    c_out = W.shape[0]
    ncols = max(1, min(int(ncols), c_out))
    nrows = -(-c_out // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.1 * ncols, 1.1 * nrows), squeeze=False)
    rgb = W.shape[1] == 3
    if rgb:
        lo, hi = W.min(), W.max()
        imgs = ((W - lo) / (hi - lo if hi > lo else 1.0)).transpose(0, 2, 3, 1)  # (C_out, kh, kw, 3)
    else:
        imgs = W.mean(axis=1)
        limit = float(np.abs(imgs).max()) or 1.0
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= c_out:
            continue
        if rgb:
            ax.imshow(imgs[k])
        else:
            ax.imshow(imgs[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(str(k), fontsize=8)
    fig.tight_layout()
    return fig


def plot_regression_fit(x: Any, y: Any, predict_fn: Callable[[np.ndarray], Any], ax: Axes | None = None) -> Axes:
    """Scatter one-feature data and draw the model's prediction as a line.

    x: (N,) or (N, 1) feature, y: (N,) targets, predict_fn: maps (M, 1) inputs to (M,)
    or (M, 1) predictions. Returns the Axes.
    """
    x = as_float_array(x, "x").reshape(len(np.asarray(x)), -1)
    if x.shape[1] != 1:
        raise ValueError(f"x: expected one feature (N,) or (N, 1), got shape {x.shape}")
    y = as_float_array(y, "y").reshape(-1)
    if len(y) != len(x):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}; they must match")
    grid = np.linspace(x.min(), x.max(), 200, dtype=x.dtype).reshape(-1, 1)
    pred = np.asarray(predict_fn(grid), dtype=float).reshape(-1)
    if len(pred) != len(grid):
        raise ValueError(f"predict_fn: returned {len(pred)} values for {len(grid)} inputs")
    ax = _axes(ax)
    ax.scatter(x[:, 0], y, s=12, alpha=0.6, color=CLASS_COLORS[0], label="data")
    ax.plot(grid[:, 0], pred, color=CLASS_COLORS[5], linewidth=2, label="model")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend()
    return ax
