"""mlcourse — neural networks from scratch with NumPy: the course's helper library.

Modules (import the one you need, e.g. ``from mlcourse.data import load_mnist``):

- ``mlcourse.data``      data sets (Iris, MNIST, King County houses), scaling, splits, batches, toy sets
- ``mlcourse.metrics``   accuracy, confusion_matrix, mse, mae, r2_score
- ``mlcourse.linear``    least_squares and LinearRegression (gradient descent)
- ``mlcourse.nn``        layers, losses and Sequential (re-exported from layers, conv, normalization, losses, model)
- ``mlcourse.optim``     SGD, RMSProp, Adam and learning-rate schedules
- ``mlcourse.train``     fit() training loop and History
- ``mlcourse.gradcheck`` numerical gradients for checking backward passes
- ``mlcourse.plots``     matplotlib figures (learning curves, decision boundaries, digits, …)
- ``mlcourse.widgets``   interactive controls with a static fallback
- ``mlcourse.checks``    the notebooks' inline exercise checks
- ``mlcourse.progress()`` your progress over all chapters (``mlcourse.report``; ``mlcourse submit`` packs a submission)

``import mlcourse`` loads nothing heavy; ``mlcourse.data`` etc. are imported on first use.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = ("data", "metrics", "linear", "layers", "conv", "losses", "model", "normalization", "nn", "optim",
               "train", "gradcheck", "plots", "widgets", "checks", "report", "submit")

__all__ = ["__version__", "progress", *_SUBMODULES]


def progress(folder: str = ".") -> Any:
    """Your progress: every chapter × exercise and the points the public checks would give,
    from the saved notebooks in ``folder`` (each chapter checked in a fresh process)."""
    from .report import report  # lazy: `import mlcourse` loads nothing heavy

    return report(folder)


def __getattr__(name: str) -> Any:
    # Lazy submodules (PEP 562): `mlcourse.data` works after a plain `import mlcourse`.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'mlcourse' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
