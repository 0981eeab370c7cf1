"""Small pieces the chapter check modules share (grader side: reference values and judges).

Not a check module itself: the file name does not start with "ch", so it is not
auto-discovered by :func:`mlcourse.checks.core.get_check`.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def same_values(got: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-9,
                equal_nan: bool = False) -> bool:
    """True when ``got`` has ``expected``'s shape and values, compared as float64.

    Quietly False for anything that is not numbers (None, ragged lists, strings …): judges
    use it to ask "is this the known wrong version?", where odd output simply means "no".
    """
    try:
        a = np.asarray(got, dtype=np.float64)
        b = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    with np.errstate(all="ignore"):  # inf − inf in a wrong answer must not warn
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(−x)) elementwise, exponentiating only −|x| ≤ 0: any shape → same shape."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def held_out_accuracy(output: Any, y_test: np.ndarray, items: str) -> tuple[float, str | None]:
    """Accuracy for a training check whose run() returns {"pred": (N,)} or {"problem": sentence}.

    ``y_test`` (N,) are the held-out labels from ``Case.secret``; ``items`` names the samples in
    the message ("flowers"). Returns (accuracy, None), or (nan, the problem) when there is none.
    """
    if not isinstance(output, dict):
        return float("nan"), "the check could not run your function"
    if "problem" in output:
        return float("nan"), output["problem"]
    pred = np.asarray(output["pred"])
    if pred.shape != y_test.shape:
        return float("nan"), f"got {pred.shape} predictions for {y_test.shape} held-out {items}"
    return float(np.mean(pred == y_test)), None
