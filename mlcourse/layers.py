"""Layers for fully connected networks: Dense, activations, Dropout, Flatten.

The layer protocol (shared with conv.py and model.Sequential)::

    layer.params: dict[str, np.ndarray]   # e.g. {"W": (in, out), "b": (out,)}; {} if none
    layer.grads:  dict[str, np.ndarray]   # same keys, filled by backward()
    layer.forward(x, training=False) -> out
    layer.backward(grad_out) -> grad_in   # uses what forward cached
    layer(x) == layer.forward(x)

Layers keep the float dtype they are given: a float32 input stays float32.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import as_float_array, check_choice, get_rng
from .losses import sigmoid, softmax

__all__ = ["Layer", "Dense", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Dropout",
           "Flatten", "INITS", "ACTIVATIONS", "get_activation", "init_weights", "check_dtype"]

INITS = ("he", "glorot", "normal")


class Layer:
    """Base class: no parameters, ``layer(x)`` calls ``forward``; subclasses do the rest."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def __call__(self, x: Any, training: bool = False) -> np.ndarray:
        return self.forward(x, training=training)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def check_dtype(dtype: Any) -> np.dtype:
    """np.float32 or np.float64 as a dtype; ValueError for anything else."""
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype: expected np.float32 or np.float64, got {dt}")
    return dt


def init_weights(shape: tuple, fan_in: int, fan_out: int, init: str,
                 rng: np.random.Generator, dtype: Any) -> np.ndarray:
    """Random weights of ``shape``: "he" N(0, 2/fan_in) for ReLU nets, "glorot" N(0, 2/(fan_in+fan_out))
    for tanh/sigmoid nets, "normal" N(0, 0.01²). Drawn in float64, then cast, so a float32
    model starts from the same numbers (rounded) as its float64 twin.
    """
    check_choice(init, INITS, "init")
    std = {"he": np.sqrt(2 / fan_in), "glorot": np.sqrt(2 / (fan_in + fan_out)), "normal": 0.01}[init]
    return (rng.standard_normal(shape) * std).astype(dtype)


class Dense(Layer):
    """Fully connected layer: x (N, in_features) → out = x @ W + b, (N, out_features).

    W: (in_features, out_features), b: (out_features,) zeros. Inputs are cast to the layer's
    dtype, so a float32 layer computes in float32 whatever it is fed.
    """

    def __init__(self, in_features: int, out_features: int, init: str = "he",
                 rng: np.random.Generator | int | None = None, dtype: Any = np.float64) -> None:
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"Dense: {name} must be a positive integer, got {v!r}")
        dtype = check_dtype(dtype)
        self.in_features, self.out_features, self.init = int(in_features), int(out_features), init
        W = init_weights((in_features, out_features), in_features, out_features, init, get_rng(rng), dtype)
        self.params = {"W": W, "b": np.zeros(out_features, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x: Any, training: bool = False) -> np.ndarray:
        W = self.params["W"]
        x = as_float_array(x, "x", dtype=W.dtype)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"{self!r}: expected input of shape (N, {self.in_features}), "
                             f"got shape {x.shape}")
        self.x = x
        return x @ W + self.params["b"]

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out (N, out_features) → grad wrt x (N, in_features); fills grads W, b."""
        self.backward_params(grad_out)
        return grad_out @ self.params["W"].T

    def backward_params(self, grad_out: np.ndarray) -> None:
        """Only fill grads W (in, out) and b (out,): a first layer's input gradient is never used."""
        self.grads["W"] = self.x.T @ grad_out
        self.grads["b"] = grad_out.sum(axis=0)

    def __repr__(self) -> str:
        return f"Dense({self.in_features}→{self.out_features})"


class ReLU(Layer):
    """max(x, 0), elementwise: any shape → same shape."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.mask = x > 0
        return np.maximum(x, 0)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * self.mask


class LeakyReLU(Layer):
    """x for x > 0, alpha·x otherwise: any shape → same shape. Never has a zero gradient."""

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.mask = x > 0
        return np.where(self.mask, x, self.alpha * x)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return np.where(self.mask, grad_out, self.alpha * grad_out)

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"


class Sigmoid(Layer):
    """Logistic sigmoid, elementwise (stable at ±1000): any shape → same shape."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.out = sigmoid(x)
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * self.out * (1 - self.out)


class Tanh(Layer):
    """tanh, elementwise: any shape → same shape; derivative 1 - tanh²."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * (1 - self.out ** 2)


class Softmax(Layer):
    """Row-wise softmax: x (N, C) → probabilities (N, C).

    For training, prefer raw logits + CrossEntropyLoss (fused, stabler, cheaper); this
    layer is for turning logits into probabilities, or for studying the Jacobian.
    """

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.out = softmax(x, axis=-1)
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # Jacobian-vector product without building the (C, C) Jacobian: s ⊙ (g - <g, s>).
        s = self.out
        return s * (grad_out - (grad_out * s).sum(axis=-1, keepdims=True))


class Dropout(Layer):
    """Inverted dropout: while training, zero each unit with probability p and scale the
    survivors by 1/(1-p), so the expected activation is unchanged and inference is a no-op.

    x: any shape → same shape. training=False: identity (no mask, no scaling).
    The mask comes from ``self.rng`` (a seeded Generator): re-seeding it redraws the same mask.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p is the probability of dropping a unit and must be in [0, 1), got {p!r}")
        self.p, self.rng = p, get_rng(rng)
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.p == 0:
            self.mask = None
            return x
        keep = self.rng.random(x.shape) >= self.p
        self.mask = keep.astype(x.dtype) / x.dtype.type(1 - self.p)
        return x * self.mask

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out if self.mask is None else grad_out * self.mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class Flatten(Layer):
    """Flatten all but the batch axis: x (N, C, H, W) → (N, C·H·W); backward reshapes back."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out.reshape(self.shape)


ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "sigmoid": Sigmoid, "tanh": Tanh,
               "softmax": Softmax}


def get_activation(name: str) -> Layer:
    """A new activation layer from its name ("relu", "leaky_relu", "sigmoid", "tanh", "softmax")."""
    key = name.lower() if isinstance(name, str) else name
    check_choice(key, tuple(ACTIVATIONS), "activation")
    return ACTIVATIONS[key]()
