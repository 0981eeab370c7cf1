"""Verified relations between a wrong array and the expected one.

:func:`mlcourse.checks.compare.compare_array` asks these when a student's array is not the
expected one. Each relation is a hypothesis tested on *every* element before it is said — "got
equals the expected transposed", "every element is 3 × the expected", "only column 0 differs",
"the output stops at 1.0 where the expected goes on" — and each function returns ``None`` when
its relation does not hold. A message states the relation as a fact about the output; it names
a cause only when the relation is that cause (a sum where a mean is expected *is* a factor N).

Two families:

* :func:`same_shape` — got and expected have one shape: all zeros, a constant factor (the
  batch size named), a constant offset, transposed, rows/values permuted, clipped at a
  plateau, right except a few rows/columns/elements, zero where nonzero is expected;
* :func:`other_shape` — the shapes differ: the expected transposed, the right values with an
  extra or a missing axis of length 1, the right values in another shape, a missing sum or
  mean over one axis, one number that is the sum or mean of the expected array.
"""
from __future__ import annotations

import numpy as np


def fmt(v: float) -> str:
    return f"{v:.4g}"


def _count(k: int, noun: str) -> str:
    return f"{k} {noun}" if k == 1 else f"{k} {noun}s"


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


# --- one shape ------------------------------------------------------------------------------

def constant_factor(got: np.ndarray, expected: np.ndarray, rtol: float = 1e-4) -> float | None:
    """The factor c with got ≈ c · expected, if one explains every element (None otherwise).

    Only an array of at least two non-zero expected elements can show a *constant* factor: any
    two single numbers differ by "a factor", so for them the hypothesis says nothing.
    """
    if expected.size < 2:
        return None
    mask = np.abs(expected) > 1e-8 * max(1.0, float(np.max(np.abs(expected))))
    if mask.sum() < 2:
        return None
    c = float(np.median(got[mask] / expected[mask]))
    if abs(c) < 1e-12 or np.isclose(c, 1.0, rtol=rtol) or not np.allclose(got, c * expected, rtol=rtol, atol=1e-9):
        return None
    return c


def single_factor(got: np.ndarray, expected: np.ndarray) -> float | None:
    """got / expected for two single numbers; :func:`factor_hint` (``single=True``) names a cause
    only for the specific factors −1, 2, ½, N and 1/N — any two numbers have *some* ratio."""
    if expected.size != 1 or got.size != 1 or float(expected.ravel()[0]) == 0:
        return None
    return float(got.ravel()[0]) / float(expected.ravel()[0])


def factor_hint(c: float, batch: int | None, single: bool = False) -> str | None:
    """Say what a verified factor ``c`` between got and expected is.

    ``single``: got and expected are single numbers — then only the specific factors below are
    named (−1, the batch size, 2 or ½); "a constant factor" of anything else would be empty.
    """
    if np.isclose(c, -1.0):
        return "has its sign flipped (check the direction of the gradient / the order of a subtraction)"
    if batch and batch > 1 and np.isclose(c, batch, rtol=1e-6):
        return f"is off by a factor of {batch} (the batch size): looks like a sum where a mean is expected"
    if batch and batch > 1 and np.isclose(c, 1.0 / batch, rtol=1e-6):
        return f"is off by a factor of 1/{batch} (the batch size): looks like a mean where a sum is expected"
    if np.isclose(c, 2.0, rtol=1e-6) or np.isclose(c, 0.5, rtol=1e-6):
        return f"is off by a factor of {fmt(c)}: check every factor 2 in your formula"
    if single:
        return None
    return f"is off by a constant factor of {fmt(c)} in every element"


def constant_offset(got: np.ndarray, expected: np.ndarray) -> float | None:
    """The offset d with got ≈ expected + d for every element of an array of ≥ 2 elements."""
    if expected.size < 2:
        return None
    d = float(np.median(got - expected))
    scale = max(1.0, float(np.max(np.abs(expected))))
    if abs(d) < 1e-6 * scale or not np.allclose(got, expected + d, rtol=1e-6, atol=1e-9 * scale):
        return None
    return d


def _one_value(name: str, got: np.ndarray, expected: np.ndarray) -> str | None:
    """Every element of got is one value (0, or any c) where the expected values vary or are not c."""
    if got.size < 2 or np.any(got != got.flat[0]):
        return None
    c = float(got.flat[0])
    if c == 0 and np.any(expected != 0):
        idx = tuple(int(i) for i in np.argwhere(expected != 0)[0])
        return (f"{name} differs: it is zero in every element, expected nonzero values (e.g. "
                f"{fmt(float(expected[idx]))} at index {idx})")
    if np.ptp(expected) > 0:
        return (f"{name} differs: it is {fmt(c)} in every element, expected values from "
                f"{fmt(float(expected.min()))} to {fmt(float(expected.max()))}")
    return None


def _transposed(name: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str | None:
    if expected.ndim < 2 or expected.shape[-1] != expected.shape[-2]:
        return None
    if _close(got, np.swapaxes(expected, -1, -2), rtol, atol):
        return f"{name} differs: it equals the expected {name} transposed (did you transpose? check the order of a product or a .T)"
    return None


def _rows_permuted(name: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str | None:
    """Every row of got is a row of expected, and the rows are a permutation (or a reversal)."""
    if expected.ndim < 1 or expected.shape[0] < 2:
        return None
    if _close(got, expected[::-1], rtol, atol):
        return f"{name} differs: it equals the expected {name} in reverse order along axis 0"
    if expected.ndim >= 2 and _close(got, expected[..., ::-1], rtol, atol):
        return f"{name} differs: it equals the expected {name} in reverse order along the last axis"
    if expected.ndim != 2 or expected.shape[0] > 64:
        return None
    used: set[int] = set()
    for row in got:
        match = [j for j in range(len(expected)) if j not in used
                 and np.allclose(row, expected[j], rtol=rtol, atol=atol)]
        if not match:
            return None
        used.add(match[0])
    return f"{name} differs: it holds the expected rows, in another order — check which row each result is written to"


def _values_elsewhere(name: str, got: np.ndarray, expected: np.ndarray) -> str | None:
    if expected.size < 2:
        return None
    if np.allclose(np.sort(got, axis=None), np.sort(expected, axis=None), rtol=1e-9, atol=1e-12):
        return (f"{name} differs: it holds the expected values, at the wrong positions — check the order of your "
                "indices, of a reshape/transpose, or which window/row each value is written to")
    return None


def _never_written(name: str, got: np.ndarray, expected: np.ndarray) -> str | None:
    """Every element of got is 0 or below 1e-290 in size (leftover memory) where the expected is not."""
    tiny = np.abs(got) < 1e-290
    if got.size < 2 or not tiny.all() or np.all(got == 0) or not np.any(np.abs(expected) > 1e-200):
        return None
    return (f"{name} differs: every element is 0 or a leftover value below 1e-290 in size (e.g. "
            f"{float(got[got != 0].flat[0]):.3g}), expected values up to {fmt(float(np.abs(expected).max()))} — "
            "an array made with np.empty whose elements are never written")


def _clipped(name: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str | None:
    """got = clip(expected, lo, hi) with lo/hi = got's own min/max, at ≥ 2 elements."""
    if expected.size < 3:
        return None
    lo, hi = float(got.min()), float(got.max())
    # a plateau needs two distinct levels: an output that is one value within the tolerance (e.g. an
    # np.empty never written, ~1e-310 everywhere) is not "clipped"
    if np.isclose(lo, hi, rtol=rtol, atol=atol) or not _close(got, np.clip(expected, lo, hi), rtol, atol):
        return None
    above = expected > hi + atol + rtol * abs(hi)
    below = expected < lo - atol - rtol * abs(lo)
    if above.sum() + below.sum() < 2:
        return None
    parts = []
    if above.any():
        parts.append(f"stops at {fmt(hi)}: the {_count(int(above.sum()), 'expected value')} above {fmt(hi)} "
                     f"(up to {fmt(float(expected.max()))}) come out as {fmt(hi)}")
    if below.any():
        parts.append(f"stops at {fmt(lo)}: the {_count(int(below.sum()), 'expected value')} below {fmt(lo)} "
                     f"(down to {fmt(float(expected.min()))}) come out as {fmt(lo)}")
    return f"{name} differs: it {' and '.join(parts)}; every other element is right — the output is clipped or saturates"


def _zero_where_nonzero(name: str, got: np.ndarray, expected: np.ndarray, diff: np.ndarray) -> str | None:
    if got.size < 2 or not np.all(got[diff] == 0):
        return None
    idx = tuple(int(i) for i in np.argwhere(diff)[0])
    return (f"{name} differs: it is 0 at {int(diff.sum())} of {diff.size} positions where the expected value is "
            f"nonzero (e.g. {fmt(float(expected[idx]))} at index {idx}); every other element is right")


def _describe_indices(bad: list[int], n: int, noun: str, plural: str) -> str | None:
    """'only in row 2', 'in every row after the first' … for a strict subset ``bad`` of range(n)."""
    k = len(bad)
    if k == 0 or k == n:
        return None
    if k == 1:
        return f"only in {noun} {bad[0]} of {n}"
    if bad == list(range(n - k, n)):
        return (f"in every {noun} after the first (the first is right)" if k == n - 1
                else f"in {plural} {n - k} to {n - 1} (the first {n - k} are right)")
    if bad == list(range(k)):
        return (f"in every {noun} but the last (the last is right)" if k == n - 1
                else f"in {plural} 0 to {k - 1} (the rest are right)")
    if k <= min(4, n // 2):
        return f"only in {plural} {', '.join(map(str, bad))} of {n}"
    return None


def _right_except(name: str, got: np.ndarray, expected: np.ndarray, diff: np.ndarray) -> str | None:
    """Only some rows / columns / elements differ: say which (the rest is verified right)."""
    idx = tuple(int(i) for i in np.argwhere(diff)[0])
    example = f" (e.g. got {fmt(float(got[idx]))} at index {idx}, expected {fmt(float(expected[idx]))})"
    if diff.sum() == 1 and diff.size > 1:
        return f"{name} differs only in one element, every other is right{example}"
    names = {0: ("row", "rows"), 1: ("column", "columns")} if diff.ndim == 2 else {}
    options = []
    for axis in range(diff.ndim):
        others = tuple(a for a in range(diff.ndim) if a != axis)
        bad = [int(i) for i in np.flatnonzero(diff.any(axis=others) if others else diff)]
        noun, plural = names.get(axis, ("element", "elements") if diff.ndim == 1
                                 else (f"index along axis {axis}", f"indices along axis {axis}"))
        said = _describe_indices(bad, diff.shape[axis], noun, plural)
        if said:
            options.append((len(bad) / diff.shape[axis], said))
    if not options:
        return None
    return f"{name} differs {min(options)[1]}{example}"


def same_shape(name: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float,
               batch: int | None) -> str | None:
    """The first verified relation between two float64 arrays of one shape that differ, as a
    sentence. A constant factor or offset is said as "<name> is off by …"; every other relation
    as "<name> differs: …", so a judge that looks for "differs" still tests its own hypotheses."""
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(expected))):
        return None
    if expected.size == 1:
        c = single_factor(got, expected)
        hint = factor_hint(c, batch, single=True) if c is not None else None
        return f"{name} {hint}" if hint else None
    said = _one_value(name, got, expected) or _never_written(name, got, expected)
    if said:
        return said
    c = constant_factor(got, expected)
    hint = factor_hint(c, batch) if c is not None else None
    if hint:
        return f"{name} {hint}"
    d = constant_offset(got, expected)
    if d is not None:
        return (f"{name} is off by the same amount ({fmt(d)}) in every element: an additive term "
                "is missing or extra (a bias, an ε, a constant)")
    for relation in (_transposed, _rows_permuted):
        said = relation(name, got, expected, rtol, atol)
        if said:
            return said
    said = _values_elsewhere(name, got, expected) or _clipped(name, got, expected, rtol, atol)
    if said:
        return said
    diff = np.abs(got - expected) > atol + rtol * np.abs(expected)
    return _zero_where_nonzero(name, got, expected, diff) or _right_except(name, got, expected, diff)


# --- other shapes ---------------------------------------------------------------------------

def _drop_axis(shape: tuple, axis: int) -> tuple:
    return shape[:axis] + shape[axis + 1:]


def other_shape(name: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float,
                batch: int | None = None) -> str | None:
    """The first verified relation between arrays whose shapes differ (None: none holds)."""
    if not (np.issubdtype(got.dtype, np.number) and np.all(np.isfinite(got))):
        return None
    g, e = got.astype(np.float64), expected.astype(np.float64)
    shapes = f"has shape {got.shape}, expected {expected.shape}"
    if got.shape == expected.shape[::-1] and _close(g, e.T, rtol, atol):
        return (f"{name} {shapes}: it equals the expected {name} transposed (did you transpose? check the order "
                "of a product or a .T)")
    if g.size == e.size and g.size > 0:
        if _close(g.reshape(e.shape), e, rtol, atol):
            if g.ndim == e.ndim + 1 and 1 in got.shape:
                return (f"{name} {shapes}: the values are right, but there is an extra axis of length 1 — "
                        "drop keepdims=True (or index it away)")
            if g.ndim == e.ndim - 1 and 1 in expected.shape:
                return (f"{name} {shapes}: the values are right, but an axis of length 1 is missing — "
                        "keep it (keepdims=True, or reshape)")
            return (f"{name} {shapes}: the values are right and in order (row by row), only the shape "
                    f"differs — make it {expected.shape}")
        if g.size > 1 and np.allclose(np.sort(g, axis=None), np.sort(e, axis=None), rtol=rtol, atol=atol):
            return f"{name} {shapes}: it holds the expected values, arranged differently — check the order of the axes"
    if g.ndim == e.ndim == 1 and min(g.size, e.size) >= 2:
        k = min(g.size, e.size)
        extra = (f"the last {e.size - k} expected value{'s are' if e.size - k > 1 else ' is'} missing"
                 if g.size < e.size else f"followed by {g.size - k} more")
        if _close(g[:k], e[:k], rtol, atol):
            return f"{name} {shapes}: its first {k} values are the expected ones, {extra} — check a slice bound"
        if g.size < e.size and _close(g, e[-k:], rtol, atol):
            return (f"{name} {shapes}: its {k} values are the last {k} expected ones, the first "
                    f"{e.size - k} missing — check a slice bound")
    if g.ndim == e.ndim + 1:
        for axis in range(g.ndim):
            if _drop_axis(got.shape, axis) != expected.shape or got.shape[axis] < 2:
                continue
            for how, reduce in (("summing", np.sum), ("averaging", np.mean)):
                if _close(reduce(g, axis=axis), e, rtol, atol):
                    which = f"the batch axis (axis {axis})" if axis == 0 and got.shape[0] == batch else f"axis {axis}"
                    return (f"{name} {shapes}: {how} yours over {which} gives the expected values — "
                            f"the {'sum' if how == 'summing' else 'mean'} over {which} is missing")
    if e.ndim >= 1 and e.size > 1 and g.size == 1:
        v = float(g.ravel()[0])
        for what, value in (("sum", float(e.sum())), ("mean", float(e.mean()))):
            if np.isclose(v, value, rtol=rtol, atol=atol):
                return (f"{name} {shapes}: it is the {what} of the expected array — "
                        "reduce over fewer axes (or none)")
    if e.size == 1 and g.size > 1:
        v = float(e.ravel()[0])
        for what, value in (("sum", float(g.sum())), ("mean", float(g.mean()))):
            if np.isclose(value, v, rtol=rtol, atol=atol):
                return (f"{name} {shapes}: the {what} of your array is the expected value — "
                        f"reduce it to one number with a {what}")
    return None
