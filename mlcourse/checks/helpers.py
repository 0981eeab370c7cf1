"""Small pieces the chapter check modules share (grader side: reference values and judges).

Not a check module itself: the file name does not start with "ch", so it is not
auto-discovered by :func:`mlcourse.checks.core.get_check`.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from .student_code import changed_inputs


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


def reproducibility_runs(run_one: Callable[[int], Any], seed: int, stop_at_problem: bool = False) -> dict:
    """{"first": run_one(seed), "again": run_one(seed), "other": run_one(seed + 1)}, in that order.

    What a judge needs to say "not reproducible" (first ≠ again) or "the seed is ignored"
    (first = other). Runs in the student's process. With ``stop_at_problem``, the first run that
    returns ``{"problem": …}`` is returned at once (the remaining calls are not made).
    """
    out = {}
    for key, s in (("first", seed), ("again", seed), ("other", seed + 1)):
        out[key] = run_one(s)
        if stop_at_problem and isinstance(out[key], dict) and "problem" in out[key]:
            return out[key]
    return out


def probe_run(probes: Callable[..., dict], main: Callable[[Callable, tuple], dict] | None = None) -> Callable:
    """A check's ``run``: the student's function on the case, then on the probe inputs.

    ``probes(*args)`` names inputs where the right output has a known property (pred equal to
    target gives a loss of 0, equal scores give log C, …) so that a judge can state a verified
    fact about the student's output there. ``main(fn, args)`` makes the case's call (default:
    ``fn(*args)``, refusing an argument changed in place) and returns {"out": …} or
    {"problem": …}. Runs in the student's process; a probe that raises gives None and its
    NumPy warnings are ignored (the case's own call is what the verdict reports).
    """
    def run(fn: Callable, args: tuple) -> dict:
        if main is not None:
            got = main(fn, args)
        else:
            before = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
            got = {"out": fn(*args)}
            changed = changed_inputs(fn, before, args)
            if changed:
                got = {"problem": changed}
        if "problem" in got:
            return got
        outputs = {}
        for name, probe_args in probes(*args).items():
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    outputs[name] = fn(*probe_args)
            except Exception:  # the case itself worked; a probe that raises only tells us less
                outputs[name] = None
        return {**got, "probes": outputs}
    return run


def dense_output_slip(name: str, got: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray) -> str | None:
    """The classic slips of ``x @ W + b``, each verified on the values: the bias missing or subtracted."""
    if same_values(got, x @ W):
        return f"{name} equals x @ W: the bias b is missing (x @ W + b)"
    if same_values(got, x @ W - b):
        return f"{name} equals x @ W − b: the bias is added, not subtracted"
    if same_values(got, b) or same_values(got, np.broadcast_to(b, (len(x), len(b)))):
        return f"{name} equals b alone: the x @ W term is missing (x @ W + b)"
    return None


def bias_gradient_slip(name: str, got: Any, dout: np.ndarray) -> str | None:
    """The classic slip of ``db = dout.sum(axis=0)`` that no shape hint names, verified on the values:
    the sum over the wrong axis (a mean over the batch is named by compare_array's factor hint)."""
    if dout.ndim == 2 and same_values(got, dout.sum(axis=1)):
        return (f"{name} sums dout over the units (axis=1), one number per sample: the bias gradient sums "
                "over the batch axis, dout.sum(axis=0)")
    return None
