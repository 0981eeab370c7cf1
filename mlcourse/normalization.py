"""Normalisation layers: BatchNorm (over the batch) and LayerNorm (over the features).

Both compute x̂ = (x − μ) / √(σ² + ε) and return γ ⊙ x̂ + β with learned γ, β of shape (D,).
BatchNorm takes μ, σ² per feature over the batch while training and keeps exponential running
averages of them for inference; LayerNorm takes them per sample over its features, the same in
training and inference. Both follow the layer protocol of :mod:`mlcourse.layers`.

The variance is the biased one (divide by N, ``np.var``'s default): it is the variance of the
numbers actually being normalised, and it is what the backward formula differentiates.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import as_float_array
from .layers import Layer, check_dtype

__all__ = ["BatchNorm", "LayerNorm", "normalize_backward"]


def normalize_backward(dxhat: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray, axis: int) -> np.ndarray:
    """Gradient through x̂ = (x − mean(x)) · inv_std, with mean and variance taken over ``axis``.

    dxhat, x_hat: (N, D); inv_std: 1/√(σ² + ε), broadcastable to (N, D) → dx (N, D) =
    inv_std · (dxhat − mean(dxhat) − x̂ · mean(dxhat · x̂)), means over ``axis`` (the simplified
    formula: the paths through μ and σ² are the two subtracted means).
    """
    mean_d = dxhat.mean(axis=axis, keepdims=True)
    mean_dx = (dxhat * x_hat).mean(axis=axis, keepdims=True)
    return inv_std * (dxhat - mean_d - x_hat * mean_dx)


class _Norm(Layer):
    axis = 0

    def __init__(self, num_features: int, eps: float = 1e-5, dtype: Any = np.float64) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive integer, got {num_features!r}")
        if not eps > 0:
            raise ValueError(f"{type(self).__name__}: eps must be > 0 (it keeps a constant feature from "
                             f"dividing by zero), got {eps!r}")
        dtype = check_dtype(dtype)
        self.num_features, self.eps = int(num_features), float(eps)
        self.params = {"gamma": np.ones(num_features, dtype=dtype), "beta": np.zeros(num_features, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def _input(self, x: Any) -> np.ndarray:
        x = as_float_array(x, "x", dtype=self.params["gamma"].dtype)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r}: expected input of shape (N, {self.num_features}), got shape {x.shape}")
        return x

    def _normalize(self, x: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
        self.inv_std = 1 / np.sqrt(var + x.dtype.type(self.eps))
        self.x_hat = (x - mean) * self.inv_std
        return self.params["gamma"] * self.x_hat + self.params["beta"]

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out (N, D) → grad wrt x (N, D); fills grads gamma (D,) and beta (D,)."""
        self.grads["gamma"] = (grad_out * self.x_hat).sum(axis=0)
        self.grads["beta"] = grad_out.sum(axis=0)
        return normalize_backward(grad_out * self.params["gamma"], self.x_hat, self.inv_std, self.axis)


class BatchNorm(_Norm):
    """Batch normalisation of a (N, D) batch, per feature.

    training=True: normalise with the batch's mean and (biased) variance over axis 0 and update
    ``running_mean`` / ``running_var`` ← momentum · running + (1 − momentum) · batch statistic.
    training=False: normalise with the running averages and change nothing (a batch of one
    sample gives the same output as the same sample inside a big batch).
    """

    axis = 0

    def __init__(self, num_features: int, momentum: float = 0.9, eps: float = 1e-5, dtype: Any = np.float64) -> None:
        super().__init__(num_features, eps, dtype)
        if not 0 <= momentum < 1:
            raise ValueError(f"BatchNorm: momentum is the weight of the old running average and must be in "
                             f"[0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.running_mean = np.zeros(num_features, dtype=self.params["gamma"].dtype)
        self.running_var = np.ones(num_features, dtype=self.params["gamma"].dtype)

    def forward(self, x: Any, training: bool = False) -> np.ndarray:
        x = self._input(x)
        if not training:
            return self._normalize(x, self.running_mean, self.running_var)
        if len(x) < 2:
            raise ValueError(f"{self!r}: training needs a batch of at least 2 samples to estimate a "
                             f"variance, got {len(x)}")
        mean, var = x.mean(axis=0), x.var(axis=0)
        m = self.momentum
        self.running_mean = (m * self.running_mean + (1 - m) * mean).astype(x.dtype)
        self.running_var = (m * self.running_var + (1 - m) * var).astype(x.dtype)
        return self._normalize(x, mean, var)

    def __repr__(self) -> str:
        return f"BatchNorm({self.num_features})"


class LayerNorm(_Norm):
    """Layer normalisation of a (N, D) batch: each sample over its D features (axis 1).

    No running statistics: training and inference compute the same thing, and every sample is
    normalised on its own, so the output does not depend on the batch.
    """

    axis = 1

    def forward(self, x: Any, training: bool = False) -> np.ndarray:
        x = self._input(x)
        return self._normalize(x, x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True))

    def __repr__(self) -> str:
        return f"LayerNorm({self.num_features})"
