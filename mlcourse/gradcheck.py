"""Numerical gradient checking: the test every hand-written backward pass must pass.

Central differences (f(x+h) - f(x-h)) / 2h have error O(h²), so in float64 with h = 1e-5 a
correct backward agrees with them to ~1e-9 relative error; a wrong one is off by ~1.

Stochastic layers (Dropout): ``check_layer`` runs the layer in training mode, but saves the
state of every ``rng`` attribute it finds (on the layer, or on the layers of a Sequential)
and restores it before each forward pass, so every evaluation draws the *same* mask — the
function being differentiated is then deterministic. (Checking with training=False would
only test the identity.)
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["numerical_gradient", "rel_error", "check_layer", "check_loss"]


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """d f / d x by central differences: x (any shape) → grad (same shape).

    f(x) must return a scalar. x is perturbed *in place*, one entry at a time (so f may
    read x through a closure, e.g. a layer's W), and restored exactly afterwards.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        try:
            x[i] = old + h
            f_plus = float(f(x))
            x[i] = old - h
            f_minus = float(f(x))
        finally:
            x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a: Any, b: Any) -> float:
    """max |a - b| / max(|a| + |b|): one relative error for whole arrays (0 when both are 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: a has shape {a.shape} but b has shape {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a) + np.abs(b))), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(a - b)) / scale)


def _rngs(layer: Any) -> list[np.random.Generator]:
    """Every numpy Generator held by ``layer`` or by its sub-layers (``layer.layers``)."""
    found = [v for v in vars(layer).values() if isinstance(v, np.random.Generator)]
    for sub in getattr(layer, "layers", ()):
        found += _rngs(sub)
    return found


def check_layer(layer: Any, x: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Relative error of ``layer.backward`` against numerical gradients.

    x: a valid input (use float64). The scalar checked is sum(layer(x) * dout) with a
    random upstream gradient dout (from ``seed``), so every output entry matters.
    Returns {"x": err, <param name>: err, ...}, e.g. {"x": 3e-10, "W": 2e-10, "b": 1e-11}.
    """
    x = np.array(x, dtype=np.float64) if not isinstance(x, np.ndarray) else x
    rngs = _rngs(layer)
    states = [g.bit_generator.state for g in rngs]

    def run() -> np.ndarray:
        for g, s in zip(rngs, states):
            g.bit_generator.state = s  # same random mask every call
        return layer.forward(x, training=True)

    out = run()
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    errors = {"x": layer.backward(dout)}
    analytic = {k: np.array(v, copy=True) for k, v in layer.grads.items()}

    def f(_: np.ndarray) -> float:
        return float(np.sum(run() * dout))

    errors["x"] = rel_error(errors["x"], numerical_gradient(f, x))
    for name, p in layer.params.items():
        errors[name] = rel_error(analytic[name], numerical_gradient(f, p))
    return errors


def check_loss(loss: Any, pred: np.ndarray, target: Any) -> float:
    """Relative error of ``loss.backward()`` against numerical gradients wrt pred (use float64)."""
    loss.forward(pred, target)
    analytic = loss.backward()
    return rel_error(analytic, numerical_gradient(lambda p: loss.forward(p, target), pred))
