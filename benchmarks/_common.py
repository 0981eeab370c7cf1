"""Shared helpers for the benchmark scripts: BLAS thread control, timing, the sgemm ceiling."""
from __future__ import annotations

import os
import sys
import time
from typing import Callable

import numpy as np

# Run from anywhere: make the repo importable without installing it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


from mlcourse.blas import blas_threads as openblas_threads  # noqa: E402


def add_threads_arg(parser) -> None:
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: OpenBLAS's own choice, usually one per core)")


def apply_threads(n: int | None) -> str:
    """Apply --threads; describe the setting for the printout."""
    if openblas_threads(n) is None:
        return "BLAS threads: unknown (OpenBLAS not found)"
    return f"BLAS threads: {openblas_threads(None)}" + (" (--threads)" if n else " (default)")


def best_time(f: Callable[[], object], repeat: int = 5, min_time: float = 0.2) -> float:
    """Best-of-``repeat`` seconds per call of f, each measurement looping for ≥ min_time."""
    f()  # warm up (allocations, BLAS thread start)
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        t = time.perf_counter() - t0
        if t >= min_time:
            break
        n *= 2
    times = [t / n]
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        times.append((time.perf_counter() - t0) / n)
    return min(times)


def sgemm_seconds(m: int, k: int, n: int, dtype=np.float32) -> float:
    """Best time of one (m×k)@(k×n) matrix product in ``dtype``."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    return best_time(lambda: a @ b)


def load_avg() -> str:
    try:
        return "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load average unknown"
