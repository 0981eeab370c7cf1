"""Compare a student's result with the reference and name the symptom.

Every function here returns ``None`` when the values agree, or one short sentence that
says what is wrong: a wrong shape or dtype, NaN, a verified relation to the expected value
(:mod:`mlcourse.checks.relations`: transposed, a constant factor or offset, permuted, clipped,
right except some rows …), else the first mismatching element. Every relation is a
hypothesis tested on all elements before it is said: a "constant factor" needs an array of at
least two elements that one factor explains completely. The grader calls the same functions, in its own
process, on plain data sent back from the student's process.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from . import relations
from .relations import fmt as _fmt


def _in_words(got: Any, arr: np.ndarray) -> str:
    """What a non-numeric value is, as a student would say it ("a string", not "<U6")."""
    kinds = {"U": "strings", "S": "bytes", "O": "Python objects (None, or mixed types?)",
             "M": "dates", "m": "time spans", "V": "raw records"}
    what = kinds.get(arr.dtype.kind, f"{arr.dtype} values")
    if isinstance(got, str):
        return "a string"
    if isinstance(got, bytes):
        return "bytes"
    if isinstance(got, np.ndarray):
        return f"an array of {what}"
    return f"a {type(got).__name__} of {what}"


def as_array(name: str, got: Any, expected: Any) -> tuple[np.ndarray | None, str | None]:
    """The opening every array comparison shares: ``got`` as an array of numbers (or booleans),
    or what makes it none — None returned, a list where one number is expected, an object that
    is not an array, values that are not numbers. Returns (array, None) or (None, the problem)."""
    expected = np.asarray(expected)
    if got is None:
        return None, f"{name} is None — did you forget to `return` it?"
    if isinstance(got, (list, tuple)) and expected.ndim == 0:
        return None, f"{name} is a {type(got).__name__}, expected a single number"
    try:
        arr = np.asarray(got)
    except Exception:
        return None, f"{name} is a {type(got).__name__}, expected a NumPy array of shape {expected.shape}"
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        return None, f"{name} is {_in_words(got, arr)}, expected numbers"
    return arr, None


def compare_array(
    name: str,
    got: Any,
    expected: np.ndarray,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    batch: int | None = None,
    check_dtype: bool = False,
) -> str | None:
    """Compare one array; ``name`` is how the message calls it (e.g. "grad_W")."""
    expected = np.asarray(expected)
    arr, problem = as_array(name, got, expected)
    if problem:
        return problem
    if arr.shape != expected.shape:
        said = relations.other_shape(name, arr, expected, rtol, atol, batch)
        return said or f"{name} has shape {arr.shape}, expected {expected.shape}"
    if np.issubdtype(expected.dtype, np.floating):
        if not np.issubdtype(arr.dtype, np.floating) and not np.issubdtype(arr.dtype, np.integer):
            return f"{name} has dtype {arr.dtype}, expected {expected.dtype}"
        if check_dtype and arr.dtype != expected.dtype:
            return f"{name} has dtype {arr.dtype}, expected {expected.dtype} — keep the dtype of the inputs"
        bad = ~np.isfinite(arr) & np.isfinite(expected)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            kind = "NaN" if np.isnan(arr[idx]) else "inf"
            return (f"{name} contains {kind} (first at index {idx}) where a finite value is expected — "
                    "an overflow, a log(0) or a division by zero? Use the numerically stable form")
    elif np.issubdtype(expected.dtype, np.integer) and not np.issubdtype(arr.dtype, np.integer):
        if not np.allclose(arr, np.round(arr)):
            return f"{name} has dtype {arr.dtype} with non-integer values, expected integers ({expected.dtype})"
    arr64, exp64 = arr.astype(np.float64), expected.astype(np.float64)
    if arr.dtype == np.float32 or expected.dtype == np.float32:
        rtol = max(rtol, 1e-5)  # a few float32 ulps: another correct formula rounds differently
    if np.allclose(arr64, exp64, rtol=rtol, atol=atol, equal_nan=True):
        return None
    if exp64.size:
        said = relations.same_shape(name, arr64, exp64, rtol, atol, batch)
        if said:
            return said
    diff = np.abs(arr64 - exp64) > atol + rtol * np.abs(exp64)
    idx = tuple(int(i) for i in np.argwhere(diff)[0])
    denom = np.maximum(np.abs(arr64) + np.abs(exp64), 1e-12)
    rel = float(np.max(np.abs(arr64 - exp64) / denom))
    where = f" at index {idx}" if idx else ""
    return (f"{name} differs{where}: got {_fmt(float(arr64[idx]))}, expected {_fmt(float(exp64[idx]))} "
            f"(max relative error {rel:.1e}, {int(diff.sum())} of {diff.size} elements differ)")


def plain_symptom(problem: str | None) -> bool:
    """True when ``problem`` only says *what* differs — a first mismatching element or a bare
    shape, no verified relation: then a judge's verified property may say more."""
    if not problem:
        return False
    return "(max relative error" in problem or bool(re.fullmatch(r".* has shape \([^)]*\), expected \([^)]*\)", problem))


def tuple_problem(names: tuple[str, ...], got: Any) -> str | None:
    """What is wrong with ``got`` as a return value of len(names) ≥ 2 values (None: nothing)."""
    listed = f"{len(names)} values ({', '.join(names)})"
    if got is None:
        return f"returned None — expected {listed}; did you forget `return`?"
    if not isinstance(got, (tuple, list)):
        return f"returned one {type(got).__name__}, expected a tuple of {listed}"
    if len(got) != len(names):
        return f"returned {len(got)} values, expected {len(names)} ({', '.join(names)})"
    return None


def compare_outputs(
    names: tuple[str, ...],
    got: Any,
    expected: Any,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    batch: int | None = None,
    check_dtype: bool = False,
) -> str | None:
    """Compare a function's return value (one value or a tuple named by ``names``)."""
    if len(names) == 1:
        return compare_array(names[0], got, expected, rtol, atol, batch, check_dtype)
    problem = tuple_problem(names, got)
    if problem:
        return problem
    for n, g, e in zip(names, got, expected):
        problem = compare_array(n, g, e, rtol, atol, batch, check_dtype)
        if problem:
            return problem
    return None
