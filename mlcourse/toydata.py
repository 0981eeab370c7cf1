"""Toy data sets in 2-D, for decision-boundary plots: XOR, spiral, moons, circles.

All randomness goes through a seeded ``numpy.random.Generator``: same seed → same points.
Re-exported by ``mlcourse.data``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import check_positive, get_rng

__all__ = ['make_xor', 'make_spiral', 'make_moons', 'make_circles']


def make_xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: X (4, 2) float64 corners of the unit square, y (4,) int64 = x1 XOR x2."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return X, y


def _check_count(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer ≥ {minimum}, got {value!r}")
    return int(value)


def make_spiral(n_per_class: int = 100, n_classes: int = 3, seed: int = 0,
                noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms (the CS231n toy set): not linearly separable.

    Returns X: (n_per_class·n_classes, 2) float64 within about [-1, 1]², y: (N,) int64 arm
    index; rows grouped by class. noise: std of the angle jitter (radians).
    """
    n_per_class = _check_count(n_per_class, "n_per_class")
    n_classes = _check_count(n_classes, "n_classes")
    check_positive(noise, "noise", allow_zero=True)
    rng = get_rng(seed)
    radius = np.linspace(0.0, 1.0, n_per_class)
    X, y = [], []
    for c in range(n_classes):
        theta = np.linspace(c * 4.0, (c + 1) * 4.0, n_per_class) + rng.normal(0.0, noise, n_per_class)
        X.append(np.column_stack([radius * np.sin(theta), radius * np.cos(theta)]))
        y.append(np.full(n_per_class, c, dtype=np.int64))
    return np.concatenate(X), np.concatenate(y)


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles. Returns X: (n, 2) float64, y: (n,) int64 (0 upper, 1 lower), shuffled."""
    n = _check_count(n, "n", 2)
    check_positive(noise, "noise", allow_zero=True)
    rng = get_rng(seed)
    n0 = n // 2
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n - n0)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])])
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n - n0, dtype=np.int64)])
    X = X + rng.normal(0.0, noise, X.shape)
    order = rng.permutation(n)
    return X[order], y[order]


def make_circles(n: int = 200, noise: float = 0.05, seed: int = 0,
                 factor: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one. Returns X: (n, 2) float64, y: (n,) int64
    (0 outer radius 1, 1 inner radius ``factor``), shuffled."""
    n = _check_count(n, "n", 2)
    check_positive(noise, "noise", allow_zero=True)
    if not 0 < factor < 1:
        raise ValueError(f"factor: expected the inner/outer radius ratio in (0, 1), got {factor!r}")
    rng = get_rng(seed)
    n0 = n // 2
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n - n0, endpoint=False)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        factor * np.column_stack([np.cos(t1), np.sin(t1)])])
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n - n0, dtype=np.int64)])
    X = X + rng.normal(0.0, noise, X.shape)
    order = rng.permutation(n)
    return X[order], y[order]
