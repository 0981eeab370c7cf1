"""What the student's code did, in one sentence: the line that raised, an argument changed in place.

Frames from mlcourse itself (and NumPy) are skipped, so the student sees where *their* code
went wrong, not a wall of traceback.
"""
from __future__ import annotations

import inspect
import linecache
import os
import traceback
from typing import Callable

import numpy as np

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def describe_exception(exc: BaseException) -> str:
    """One line naming the exception and the student's own line that raised it.

    Frames from mlcourse itself (and NumPy) are skipped, so the student sees where *their*
    code went wrong, not a wall of traceback.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if not f.filename.startswith((_PKG, os.path.dirname(np.__file__)))
           and "site-packages" not in f.filename and "lib/python" not in f.filename]
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if own:
        f = own[-1]
        line = (f.line or linecache.getline(f.filename, f.lineno)).strip()
        if line:
            text += f" — in {f.name}, line {f.lineno}: {line}"
    return text


def changed_inputs(fn: Callable, before: tuple, after: tuple) -> str | None:
    """The sentence saying which array argument ``fn`` changed in place (None: none changed)."""
    for i, (b, a) in enumerate(zip(before, after)):
        if isinstance(b, np.ndarray) and isinstance(a, np.ndarray) and not (
                a.shape == b.shape and np.array_equal(a, b, equal_nan=b.dtype.kind in "fc")):
            try:
                names = list(inspect.signature(fn).parameters)
                arg = f"`{names[i]}`" if i < len(names) else f"argument {i + 1}"
            except (TypeError, ValueError):
                arg = f"argument {i + 1}"
            return (f"changed your input {arg} in place (e.g. `x -= …`, `x[mask] = 0` or `out = x` without "
                    ".copy()): compute into a new array and leave the arguments as they were — the caller "
                    "still needs them")
    return None
