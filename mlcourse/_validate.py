"""Input checks shared by the whole library.

Every public function validates what it is given and raises an error that names the
argument and what was expected, so a student never sees a bare traceback from deep
inside NumPy (or, worse, silently wrong numbers).
"""
from __future__ import annotations

from typing import Any

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


def as_float_array(x: Any, name: str, dtype: Any = None) -> np.ndarray:
    """Return ``x`` as a floating-point array (float64 unless ``dtype`` or ``x`` says float32).

    Raises ``TypeError`` naming ``name`` when ``x`` cannot be read as numbers.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name}: could not be read as a numeric array ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name}: expected numbers, got an array of dtype {arr.dtype}")
    if dtype is None:
        dtype = arr.dtype if arr.dtype in FLOAT_DTYPES else np.float64
    return arr.astype(dtype, copy=False)


def check_ndim(x: np.ndarray, ndim: int, name: str, shape_hint: str = "") -> None:
    """Raise ``ValueError`` unless ``x.ndim == ndim`` (``shape_hint`` like "(N, D)")."""
    if x.ndim != ndim:
        hint = f" {shape_hint}" if shape_hint else ""
        raise ValueError(f"{name}: expected a {ndim}-D array{hint}, got shape {x.shape}")


def check_finite(x: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` when ``x`` holds NaN or infinity (and say where the first one is)."""
    if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0]
        kind = "NaN" if np.isnan(x[tuple(bad)]) else "infinity"
        raise ValueError(f"{name}: contains {kind} (first at index {tuple(int(i) for i in bad)})")


def check_same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same number of rows."""
    if len(a) != len(b):
        raise ValueError(f"{name_a} has {len(a)} rows but {name_b} has {len(b)}; they must match")


def check_choice(value: Any, valid: tuple, name: str) -> None:
    """Raise ``ValueError`` listing the valid choices when ``value`` is not one of them."""
    if value not in valid:
        raise ValueError(f"{name}: unknown value {value!r}; expected one of {', '.join(map(repr, valid))}")


def check_positive(value: float, name: str, allow_zero: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` > 0 (or >= 0 with ``allow_zero``)."""
    ok = value >= 0 if allow_zero else value > 0
    if not ok:
        raise ValueError(f"{name}: expected a {'non-negative' if allow_zero else 'positive'} number, got {value!r}")


def get_rng(rng: np.random.Generator | int | None, seed: int = 0) -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``rng`` (a Generator, a seed, or None → ``seed``)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(seed if rng is None else rng)
