"""Optimizers (SGD, RMSProp, Adam) and learning-rate schedules.

Optimizers update parameter arrays *in place* (so a model's layers see the change) and keep
their dtype: a float32 parameter stays float32. Their state (velocities, moments) is keyed
by parameter name, e.g. "0.W".

    opt.update(params, grads)      # dicts name -> array
    opt.step(model)                # = opt.update(model.params, model.grads)
    opt.lr = schedule(epoch)       # schedules just overwrite the plain attribute
"""
from __future__ import annotations

import math

import numpy as np

from ._validate import check_positive

__all__ = ["Optimizer", "SGD", "RMSProp", "Adam",
           "StepDecay", "ExponentialDecay", "InverseTimeDecay", "CosineDecay"]


def _check_unit(value: float, name: str) -> None:
    if not 0 <= value < 1:
        raise ValueError(f"{name}: expected a number in [0, 1), got {value!r}")


class Optimizer:
    """Base class: subclasses implement ``_update_one(name, p, g)``, modifying p in place."""

    def __init__(self, lr: float) -> None:
        check_positive(lr, "lr")
        self.lr = lr
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One step for every parameter: params[name] (any shape) -= f(grads[name]) in place."""
        self._begin_step()
        for name, p in params.items():
            g = grads.get(name)
            if g is None:
                raise ValueError(f"{type(self).__name__}: no gradient for parameter {name!r}; "
                                 f"grads has {sorted(grads)}")
            if g.shape != p.shape:
                raise ValueError(f"{type(self).__name__}: gradient {name!r} has shape {g.shape} "
                                 f"but the parameter has shape {p.shape}")
            self._update_one(name, p, g)

    def step(self, model) -> None:
        """Update a model (anything with .params and .grads) in place."""
        self.update(model.params, model.grads)

    def _begin_step(self) -> None:
        pass

    def _zeros(self, name: str, key: str, p: np.ndarray) -> np.ndarray:
        """State array ``key`` for parameter ``name`` (created as zeros, p's shape and dtype)."""
        slot = self.state.setdefault(name, {})
        if key not in slot:
            slot[key] = np.zeros_like(p)
        return slot[key]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay.

    g ← g + weight_decay·p       only for weights (names ending in "W"), never biases
    v ← momentum·v + g           (v starts at 0; skipped when momentum = 0)
    p ← p - lr·v                 or, with nesterov, p ← p - lr·(g + momentum·v)
    This is the PyTorch form: v sums gradients, lr multiplies at the step, so changing lr
    with a schedule takes effect at once.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0) -> None:
        super().__init__(lr)
        _check_unit(momentum, "momentum")
        check_positive(weight_decay, "weight_decay", allow_zero=True)
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay

    def _update_one(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        if self.weight_decay and name.endswith("W"):
            g = g + self.weight_decay * p
        if self.momentum:
            v = self._zeros(name, "v", p)
            v *= self.momentum
            v += g
            g = g + self.momentum * v if self.nesterov else v
        p -= self.lr * g

    def __repr__(self) -> str:
        return (f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov}, "
                f"weight_decay={self.weight_decay})")


class RMSProp(Optimizer):
    """RMSProp: s ← rho·s + (1-rho)·g²;  p ← p - lr·g / (√s + eps). Per-parameter step sizes."""

    def __init__(self, lr: float = 0.001, rho: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(lr)
        _check_unit(rho, "rho")
        check_positive(eps, "eps")
        self.rho, self.eps = rho, eps

    def _update_one(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        s = self._zeros(name, "s", p)
        s *= self.rho
        s += (1 - self.rho) * g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)

    def __repr__(self) -> str:
        return f"RMSProp(lr={self.lr}, rho={self.rho}, eps={self.eps})"


class Adam(Optimizer):
    """Adam: momentum (m) + RMSProp (v), both bias-corrected by the step count t.

    m ← b1·m + (1-b1)·g;  v ← b2·v + (1-b2)·g²;  m̂ = m/(1-b1ᵗ);  v̂ = v/(1-b2ᵗ)
    p ← p - lr·m̂ / (√v̂ + eps).  At t = 1, m̂/√v̂ = g/|g|, so each parameter moves by ≈ lr.
    """

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(lr)
        b1, b2 = betas
        _check_unit(b1, "betas[0]")
        _check_unit(b2, "betas[1]")
        check_positive(eps, "eps")
        self.betas, self.eps, self.t = (b1, b2), eps, 0

    def _begin_step(self) -> None:
        self.t += 1  # one count per update() call, shared by all parameters

    def _update_one(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        b1, b2 = self.betas
        m, v = self._zeros(name, "m", p), self._zeros(name, "v", p)
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        # Fold both corrections into one scalar step size (the Adam paper's own efficient
        # form, Sec. 2): same result as m̂/(√v̂ + eps), two fewer full-size temporaries.
        step = self.lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        eps_hat = self.eps * math.sqrt(1 - b2 ** self.t)
        p -= step * m / (np.sqrt(v) + eps_hat)

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps})"


# --------------------------------------------------------------------------------------
# Schedules: callables epoch (0, 1, 2, ...) -> learning rate
# --------------------------------------------------------------------------------------

class _Schedule:
    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class StepDecay(_Schedule):
    """lr0 · drop^⌊epoch / every⌋: halve (by default) every 10 epochs."""

    def __init__(self, lr0: float, drop: float = 0.5, every: int = 10) -> None:
        check_positive(lr0, "lr0")
        check_positive(drop, "drop")
        check_positive(every, "every")
        self.lr0, self.drop, self.every = lr0, drop, every

    def __call__(self, epoch: int) -> float:
        return self.lr0 * self.drop ** (epoch // self.every)


class ExponentialDecay(_Schedule):
    """lr0 · rate^epoch."""

    def __init__(self, lr0: float, rate: float = 0.96) -> None:
        check_positive(lr0, "lr0")
        check_positive(rate, "rate")
        self.lr0, self.rate = lr0, rate

    def __call__(self, epoch: int) -> float:
        return self.lr0 * self.rate ** epoch


class InverseTimeDecay(_Schedule):
    """lr0 / (1 + decay · epoch)."""

    def __init__(self, lr0: float, decay: float = 0.1) -> None:
        check_positive(lr0, "lr0")
        check_positive(decay, "decay", allow_zero=True)
        self.lr0, self.decay = lr0, decay

    def __call__(self, epoch: int) -> float:
        return self.lr0 / (1 + self.decay * epoch)


class CosineDecay(_Schedule):
    """lr_min + ½(lr0 - lr_min)(1 + cos(π · epoch / total_epochs)); stays at lr_min afterwards."""

    def __init__(self, lr0: float, total_epochs: int, lr_min: float = 0.0) -> None:
        check_positive(lr0, "lr0")
        check_positive(total_epochs, "total_epochs")
        check_positive(lr_min, "lr_min", allow_zero=True)
        self.lr0, self.total_epochs, self.lr_min = lr0, total_epochs, lr_min

    def __call__(self, epoch: int) -> float:
        frac = min(epoch, self.total_epochs) / self.total_epochs
        return self.lr_min + 0.5 * (self.lr0 - self.lr_min) * (1 + math.cos(math.pi * frac))
