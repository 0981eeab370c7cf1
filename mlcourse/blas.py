"""How many threads NumPy's BLAS uses, read and set at run time.

On a 2-core machine whose other core is busy, OpenBLAS's two threads wait on each other
and mid-size matrix products get many times slower; one thread keeps timings predictable.
This is what threadpoolctl does for OpenBLAS, in a few lines of ctypes.
"""
from __future__ import annotations

import ctypes
import glob
import os

import numpy as np


def blas_threads(n: int | None = None) -> int | None:
    """Set NumPy's OpenBLAS thread count to ``n`` (when given); return the count before.

    Returns None (and changes nothing) when NumPy's OpenBLAS cannot be found.
    """
    here = os.path.dirname(np.__file__)
    for path in glob.glob(os.path.join(here, "..", "numpy.libs", "*openblas*")) + \
            glob.glob(os.path.join(here, ".dylibs", "*openblas*")):
        try:
            lib = ctypes.CDLL(path)  # the copy NumPy already loaded: same handle
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "")):
            get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                old = get()
                if n is not None:
                    put(n)
                return old
    return None
