"""Recorded training runs with planted faults, for chapter 13's diagnosis exercise.

Every run is a real training run — a 784-64-64-10 ReLU network, plain minibatch SGD, 1 000 MNIST
training digits and 500 validation digits — with at most one fault planted in it. What a run
returns is what a practitioner would have logged, as plain data::

    {"n_classes": 10,
     "initial_loss": float,                 # training loss before the first update
     "train_loss", "val_loss",              # (epochs,) per epoch
     "train_acc", "val_acc",                # (epochs,)
     "update_ratio": (epochs, 3)            # per weight matrix: mean over the epoch's steps of
                                            #   ‖applied update‖ / ‖W‖
     "grad_norm": (epochs, 3)               # per weight matrix: mean ‖gradient used‖
     "act_std": (epochs, 2)                 # std of each hidden layer's activations (validation batch)
     "dead_fraction": (epochs, 2)}          # fraction of hidden units that are 0 for every validation digit

The faults (``FAULTS``): a learning rate far too high or far too low, gradients accumulated
across steps because they are never reset (a forgotten ``zero_grad``), weights initialised ten
times too large, biases initialised so negative that most ReLUs are dead from the start, and a
label leaked into the inputs (a pixel that encodes the class). ``"ok"`` is a healthy run.
"""
from __future__ import annotations

import numpy as np

from .data import load_mnist

FAULTS = ("ok", "lr_too_high", "lr_too_low", "no_zero_grad", "bad_init", "dead_units", "leak")
SIZES = (784, 64, 64, 10)
EPOCHS, BATCH, LR = 8, 50, 0.1
_SETTINGS = {"lr_too_high": {"lr": 1.0}, "lr_too_low": {"lr": 1e-4}, "bad_init": {"init_scale": 10.0},
             "dead_units": {"bias": -1.0}, "no_zero_grad": {"accumulate": True}, "leak": {"leak": True}}


def _data(seed: int, leak: bool) -> tuple:
    X, y = load_mnist("train", n=6000, dtype=np.float64)
    idx = np.random.default_rng(seed).permutation(len(X))[:1500]
    X, y = X[idx], y[idx]
    if leak:  # the label, written into the top rows of pixels (always 0 in MNIST)
        X = X.copy()
        X[:, :80] = np.repeat(np.eye(10)[y], 8, axis=1)
    return X[:1000], y[:1000], X[1000:], y[1000:]


def _forward(params: list, X: np.ndarray) -> tuple[np.ndarray, list]:
    hs = [X]
    for i, (W, b) in enumerate(params):
        z = hs[-1] @ W + b
        hs.append(np.maximum(z, 0) if i < len(params) - 1 else z)
    return hs[-1], hs


def _loss(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    z = scores - scores.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    d = np.exp(log_p)
    d[np.arange(len(y)), y] -= 1
    return float(-log_p[np.arange(len(y)), y].mean()), d / len(y)


def record_run(fault: str = "ok", seed: int = 0) -> dict:
    """Train the network with ``fault`` planted (one of FAULTS) and return the logged statistics."""
    if fault not in FAULTS:
        raise ValueError(f"fault: unknown value {fault!r}; expected one of {', '.join(map(repr, FAULTS))}")
    s = {"lr": LR, "init_scale": 1.0, "bias": 0.0, "accumulate": False, "leak": False, **_SETTINGS.get(fault, {})}
    X, y, X_val, y_val = _data(seed, s["leak"])
    rng = np.random.default_rng(seed + 1)
    params = [(rng.standard_normal((a, b)) * np.sqrt(2 / a) * s["init_scale"],
               np.full(b, s["bias"] if i < len(SIZES) - 2 else 0.0))
              for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:]))]
    run = {"n_classes": 10, "initial_loss": _loss(_forward(params, X)[0], y)[0]}
    logs = {k: [] for k in ("train_loss", "val_loss", "train_acc", "val_acc", "update_ratio", "grad_norm",
                            "act_std", "dead_fraction")}
    accumulated = [np.zeros_like(W) for W, _ in params]
    for _ in range(EPOCHS):
        ratios, norms = [], []
        order = rng.permutation(len(X))
        for start in range(0, len(X), BATCH):
            idx = order[start:start + BATCH]
            scores, hs = _forward(params, X[idx])
            _, d = _loss(scores, y[idx])
            grads = []
            for i in range(len(params) - 1, -1, -1):
                W, b = params[i]
                grads.append((hs[i].T @ d, d.sum(axis=0)))
                d = (d @ W.T) * (hs[i] > 0) if i > 0 else None
            grads.reverse()
            step_ratio, step_norm = [], []
            for i, ((W, b), (dW, db)) in enumerate(zip(params, grads)):
                if s["accumulate"]:  # the forgotten reset: every step adds to the old gradients
                    accumulated[i] += dW
                    dW = accumulated[i]
                update = s["lr"] * dW
                step_ratio.append(np.linalg.norm(update) / np.linalg.norm(W))
                step_norm.append(np.linalg.norm(dW))
                params[i] = (W - update, b - s["lr"] * db)
            ratios.append(step_ratio)
            norms.append(step_norm)
        with np.errstate(all="ignore"):
            train_scores = _forward(params, X)[0]
            val_scores, val_hs = _forward(params, X_val)
        for name, scores, labels in (("train", train_scores, y), ("val", val_scores, y_val)):
            finite = np.all(np.isfinite(scores))
            logs[f"{name}_loss"].append(_loss(scores, labels)[0] if finite else float("inf"))
            logs[f"{name}_acc"].append(float(np.mean(scores.argmax(axis=1) == labels)) if finite else 0.1)
        logs["update_ratio"].append(np.mean(ratios, axis=0))
        logs["grad_norm"].append(np.mean(norms, axis=0))
        logs["act_std"].append([float(h.std()) for h in val_hs[1:-1]])
        logs["dead_fraction"].append([float(np.mean(np.all(h == 0, axis=0))) for h in val_hs[1:-1]])
    run.update({k: np.asarray(v, dtype=np.float64) for k, v in logs.items()})
    return run


def broken_runs(seed: int = 0) -> list[tuple[str, dict]]:
    """One run per fault in FAULTS (``"ok"`` included), in an order shuffled by ``seed``."""
    order = np.random.default_rng(seed).permutation(len(FAULTS))
    return [(FAULTS[i], record_run(FAULTS[i], seed=seed * 100 + int(i))) for i in order]
