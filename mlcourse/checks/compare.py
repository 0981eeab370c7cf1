"""Compare a student's result with the reference and name the symptom.

Every function here returns ``None`` when the values agree, or one short sentence that
says what is wrong (wrong shape and a hint why, wrong dtype, NaN, off by a constant
factor or offset, transposed or permuted values, first mismatching element). Every hint is a
hypothesis tested on all elements before it is said: a "constant factor" needs an array of at
least two elements that one factor explains completely. The grader calls the same functions, in its own
process, on plain data sent back from the student's process.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _shape_hint(got: tuple, expected: tuple) -> str:
    if len(got) == 2 and got == expected[::-1] and got != expected:
        return " — did you transpose?"
    if len(got) == len(expected) + 1 and 1 in got and tuple(d for i, d in enumerate(got)
                                                         if i != got.index(1)) == tuple(expected):
        return " — an extra axis of length 1 (keepdims=True?)"
    if len(expected) == 1 and len(got) == 2 and got[-1] == expected[0]:
        return " — did you forget to sum over the batch axis (axis=0)?"
    if len(got) == 0 and len(expected) > 0:
        return " — a single number where an array was expected; did you sum over everything?"
    if int(np.prod(got)) == int(np.prod(expected)):
        return " — same number of elements, so check your reshape / ravel / keepdims"
    if len(got) == len(expected) - 1:
        return " — a dimension is missing (keepdims=True?)"
    return ""


def _constant_factor(got: np.ndarray, expected: np.ndarray) -> float | None:
    """The factor c with got ≈ c · expected, if one explains every element (None otherwise).

    Only an array of at least two non-zero expected elements can show a *constant* factor: any
    two single numbers differ by "a factor", so for them the hypothesis says nothing.
    """
    if expected.size < 2:
        return _specific_scalar_factor(got, expected)
    mask = np.abs(expected) > 1e-8 * max(1.0, float(np.max(np.abs(expected))))
    if mask.sum() < 2:
        return None
    ratios = got[mask] / expected[mask]
    c = float(np.median(ratios))
    if abs(c) < 1e-12 or np.isclose(c, 1.0, rtol=1e-4) or not np.allclose(got, c * expected, rtol=1e-4, atol=1e-9):
        return None
    return c


def _specific_scalar_factor(got: np.ndarray, expected: np.ndarray) -> float | None:
    """got / expected for two single numbers; :func:`factor_hint` (``single=True``) names a cause
    only for the specific factors −1, 2, ½, N and 1/N — any two numbers have *some* ratio."""
    if expected.size != 1 or got.size != 1 or float(expected.ravel()[0]) == 0:
        return None
    return float(got.ravel()[0]) / float(expected.ravel()[0])


def _constant_offset(got: np.ndarray, expected: np.ndarray) -> float | None:
    """The offset d with got ≈ expected + d for every element of an array of ≥ 2 elements."""
    if expected.size < 2:
        return None
    d = float(np.median(got - expected))
    scale = max(1.0, float(np.max(np.abs(expected))))
    if abs(d) < 1e-6 * scale or not np.allclose(got, expected + d, rtol=1e-6, atol=1e-9 * scale):
        return None
    return d


def _same_values_elsewhere(got: np.ndarray, expected: np.ndarray) -> bool:
    """True when got holds exactly expected's values, but (some of them) at other positions."""
    if expected.size < 2 or got.shape != expected.shape:
        return False
    a, b = np.sort(got, axis=None), np.sort(expected, axis=None)
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12)) and not np.allclose(got, expected, rtol=1e-9, atol=1e-12)


def factor_hint(c: float, batch: int | None, single: bool = False) -> str | None:
    """Explain a constant factor ``c`` between got and expected.

    ``single``: got and expected are single numbers — then only the specific factors below name
    a cause (−1, the batch size, 2 or ½); "a constant factor" of anything else would be empty.
    """
    if np.isclose(c, -1.0):
        return "has its sign flipped (check the direction of the gradient / the order of a subtraction)"
    if batch and batch > 1 and np.isclose(c, batch, rtol=1e-6):
        return f"is off by a factor of {batch} (the batch size): looks like a sum where a mean is expected"
    if batch and batch > 1 and np.isclose(c, 1.0 / batch, rtol=1e-6):
        return f"is off by a factor of 1/{batch} (the batch size): looks like a mean where a sum is expected"
    if np.isclose(c, 2.0, rtol=1e-6) or np.isclose(c, 0.5, rtol=1e-6):
        return f"is off by a factor of {_fmt(c)}: check the factor 2 from differentiating a square"
    if single:
        return None
    return f"is off by a constant factor of {_fmt(c)}"


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
        if arr.size == expected.size and arr.ndim == expected.ndim + 1 and 1 in arr.shape \
                and np.issubdtype(arr.dtype, np.number) and np.allclose(arr.reshape(expected.shape), expected):
            return (f"{name} has shape {arr.shape}, expected {expected.shape}: the values are right, but there "
                    "is an extra axis of length 1 — drop keepdims=True (or index it away)")
        return f"{name} has shape {arr.shape}, expected {expected.shape}{_shape_hint(arr.shape, expected.shape)}"
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
    if exp64.size and np.issubdtype(expected.dtype, np.floating):
        c = _constant_factor(arr64, exp64)
        hint = factor_hint(c, batch, single=exp64.size < 2) if c is not None else None
        if hint:
            return f"{name} {hint}"
        d = _constant_offset(arr64, exp64)
        if d is not None:
            return (f"{name} differs by the same amount ({_fmt(d)}) in every element: an additive term "
                    "is missing or extra (a bias, an ε, a constant)")
    if arr64.ndim == 2 and arr64.shape[0] == arr64.shape[1] > 1 and np.allclose(arr64, exp64.T, rtol=rtol, atol=atol):
        return f"{name} differs: it is the transpose of the expected matrix — swap the order of a product or drop a .T"
    if _same_values_elsewhere(arr64, exp64):
        return (f"{name} differs: it holds the right values, at the wrong positions — check the order of "
                "your indices, of a reshape/transpose, or which window/row each value is written to")
    diff = np.abs(arr64 - exp64) > atol + rtol * np.abs(exp64)
    idx = tuple(int(i) for i in np.argwhere(diff)[0])
    denom = np.maximum(np.abs(arr64) + np.abs(exp64), 1e-12)
    rel = float(np.max(np.abs(arr64 - exp64) / denom))
    where = f" at index {idx}" if idx else ""
    return (f"{name} differs{where}: got {_fmt(float(arr64[idx]))}, expected {_fmt(float(exp64[idx]))} "
            f"(max relative error {rel:.1e}, {int(diff.sum())} of {diff.size} elements differ)")


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
