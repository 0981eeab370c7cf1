"""Checks for chapter 04: the Dense layer, activation backward, an MLP forward/backward, XOR.

The network format the chapter fixes (so the grader can call every function with plain data):

* ``params``: a dict {"W1": (D0, D1), "b1": (D1,), …, "WL": (D_{L-1}, D_L), "bL": (D_L,)}
  for ``sizes = (D0, D1, …, D_L)``; gradients use the same keys.
* ``mlp_forward(params, x, activation) -> (scores, cache)`` where ``cache`` is a list with one
  ``(layer_input, z)`` pair per layer (z = layer_input @ W + b, before the activation); the
  last layer has no activation, so its z is the scores.
* ``mlp_backward(dscores, params, cache, activation) -> grads``.
* ``train_network(X, y, sizes, activation, lr, epochs, seed) -> (params, losses)``: full-batch
  gradient descent on the softmax cross-entropy.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .compare import compare_array
from .core import Case, define
from .helpers import reproducibility_runs, same_values, stable_sigmoid

ACTIVATION_NAMES = ("relu", "tanh", "sigmoid")


# --------------------------------------------------------------------------------------
# Reference network (the grader's side; students write their own in the notebook)
# --------------------------------------------------------------------------------------

def _act(z: np.ndarray, name: str) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    return stable_sigmoid(z)


def _act_derivative(z: np.ndarray, name: str) -> np.ndarray:
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    s = stable_sigmoid(z)
    return s * (1 - s)


def _forward(params: dict, x: np.ndarray, activation: str) -> tuple[np.ndarray, list]:
    n_layers = len(params) // 2
    h, cache = x, []
    for l in range(1, n_layers + 1):
        z = h @ params[f"W{l}"] + params[f"b{l}"]
        cache.append((h, z))
        h = _act(z, activation) if l < n_layers else z
    return h, cache


def _backward(dscores: np.ndarray, params: dict, cache: list, activation: str,
              skip_activation: bool = False, output_activation: bool = False) -> dict:
    """Reference gradients; the flags give two classic mistakes (for naming them)."""
    grads, d = {}, dscores
    for l in range(len(cache), 0, -1):
        h, z = cache[l - 1]
        if (l < len(cache) and not skip_activation) or output_activation:
            d = d * _act_derivative(z, activation)
        grads[f"W{l}"] = h.T @ d
        grads[f"b{l}"] = d.sum(axis=0)
        d = d @ params[f"W{l}"].T
    return grads


def _random_params(rng: np.random.Generator, sizes: tuple) -> dict:
    params = {}
    for l, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
        params[f"W{l}"] = rng.standard_normal((d_in, d_out)) / np.sqrt(d_in)
        params[f"b{l}"] = rng.standard_normal(d_out) * 0.1
    return params


# --------------------------------------------------------------------------------------
# dense_forward / dense_backward
# --------------------------------------------------------------------------------------

def _dense_forward_cases(rng: np.random.Generator) -> list[Case]:
    x, W, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    x1, W1, b1 = rng.standard_normal((1, 6)), rng.standard_normal((6, 2)), rng.standard_normal(2)
    return [Case(args=(x, W, b), batch=5, label="a batch of 5 inputs with 3 features, 4 units"),
            Case(args=(x1, W1, b1), batch=1, label="a single input with 6 features, 2 units")]


def _dense_forward_judge(case: Case, got: Any) -> str | None:
    x, W, b = case.args
    problem = compare_array("out", got, case.expected, rtol=1e-6, atol=1e-9, batch=case.batch)
    if problem and "differs" in problem:
        if same_values(got, x @ W):
            return "out equals x @ W: the bias b is missing (out = x @ W + b)"
        if same_values(got, x @ W - b):
            return "out equals x @ W − b: the bias is added, not subtracted"
    return problem


define(name="dense_forward", description="out = x @ W + b, (N, D) → (N, M)",
       cases=_dense_forward_cases, reference=lambda x, W, b: x @ W + b, judge=_dense_forward_judge)


def _dense_backward_cases(rng: np.random.Generator) -> list[Case]:
    x, W, d = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    x2, W2, d2 = rng.standard_normal((7, 6)), rng.standard_normal((6, 2)), rng.standard_normal((7, 2))
    return [Case(args=(d, x, W), batch=5, label="a batch of 5 inputs with 3 features, 4 units"),
            Case(args=(d2, x2, W2), batch=7, label="a batch of 7 inputs with 6 features, 2 units")]


def _dense_backward_ref(dout: np.ndarray, x: np.ndarray, W: np.ndarray) -> tuple:
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


define(name="dense_backward", description="dx (N, D), dW (D, M) and db (M,) for a batch",
       cases=_dense_backward_cases, reference=_dense_backward_ref, outputs=("dx", "dW", "db"),
       rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------------------
# activation_backward
# --------------------------------------------------------------------------------------

def _activation_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name in ACTIVATION_NAMES:
        z = rng.standard_normal((4, 3)) * 2
        z[0, 0] = 0.0  # the kink of ReLU
        dout = rng.standard_normal((4, 3))
        cases.append(Case(args=(dout, z, name), label=f"activation={name!r}"))
    return cases


def _activation_backward_judge(case: Case, got: Any) -> str | None:
    dout, z, name = case.args
    problem = compare_array("dz", got, case.expected, rtol=1e-6, atol=1e-9)
    if not problem or "differs" not in problem:
        return problem
    if same_values(got, _act_derivative(z, name)):
        return f"dz is f'(z) alone for {name!r}: multiply by the upstream gradient, dz = dout * f'(z)"
    if same_values(got, dout):
        return f"dz equals dout for {name!r}: multiply by the derivative of the activation, dz = dout * f'(z)"
    if name == "relu" and same_values(got, dout * (z >= 0)):
        return "wrong only where z == 0: ReLU's derivative at the kink is 0 here (use z > 0)"
    if name == "tanh" and same_values(got, dout * (1 - z ** 2)):
        return "dz uses 1 − z²: the derivative of tanh is 1 − tanh(z)² (apply tanh first)"
    if name == "sigmoid" and same_values(got, dout * z * (1 - z)):
        return "dz uses z·(1 − z): the derivative of the sigmoid is σ(z)·(1 − σ(z)) (apply σ first)"
    if same_values(got, dout * _act(z, name)):
        return f"dz is dout * f(z) for {name!r}: use the derivative f'(z), not the activation itself"
    return problem


define(name="activation_backward", description="dz = dout * f'(z) for relu, tanh and sigmoid",
       cases=_activation_backward_cases, reference=lambda d, z, name: d * _act_derivative(z, name),
       judge=_activation_backward_judge)


# --------------------------------------------------------------------------------------
# init_network
# --------------------------------------------------------------------------------------

def _init_cases(rng: np.random.Generator) -> list[Case]:
    sizes = (int(rng.integers(80, 120)), int(rng.integers(40, 60)), int(rng.integers(30, 40)),
             int(rng.integers(3, 10)))
    small = (2, int(rng.integers(3, 9)), 2)
    return [Case(args=(sizes, int(rng.integers(0, 10_000))), label=f"sizes={sizes}"),
            Case(args=(small, int(rng.integers(0, 10_000))), label=f"sizes={small}")]


def _plain_params(obj: Any, who: str) -> dict:
    """params as {name: array}, or {"problem": sentence} (runs in the student's process)."""
    if obj is None:
        return {"problem": f"{who} returned None — did you forget `return params`?"}
    if not isinstance(obj, dict):
        return {"problem": f"{who} returned a {type(obj).__name__}; expected a dict "
                           "{'W1': ..., 'b1': ..., 'W2': ..., ...}"}
    out = {}
    for k, v in obj.items():
        try:
            out[str(k)] = np.array(v, dtype=np.float64)
        except (TypeError, ValueError):
            return {"problem": f"{who}: params[{k!r}] is a {type(v).__name__}, expected a NumPy array"}
    return out


def _init_run(fn: Callable, args: tuple) -> dict:
    sizes, seed = args
    return reproducibility_runs(lambda s: _plain_params(fn(sizes, s), "init_network"), seed)


def _expected_keys(sizes: tuple) -> list[str]:
    return [f"{p}{l}" for l in range(1, len(sizes)) for p in ("W", "b")]


def _init_judge(case: Case, got: dict) -> str | None:
    sizes, seed = case.args
    first = got["first"]
    if "problem" in first:
        return first["problem"]
    keys = _expected_keys(sizes)
    missing = [k for k in keys if k not in first]
    extra = [k for k in first if k not in keys]
    if missing:
        hint = " (layers are numbered from 1: W1, b1, W2, …)" if "W0" in first else ""
        return (f"params has no {', '.join(repr(k) for k in missing)} for sizes={sizes}; "
                f"expected keys {keys}{hint}")
    if extra:
        return f"params has unexpected keys {extra}; expected exactly {keys}"
    for l, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
        W, b = first[f"W{l}"], first[f"b{l}"]
        if W.shape != (d_in, d_out):
            hint = " — did you transpose? W maps D_in inputs to D_out units: shape (D_in, D_out)" \
                if W.shape == (d_out, d_in) else ""
            return f"W{l} has shape {W.shape}, expected {(d_in, d_out)}{hint}"
        if b.shape != (d_out,):
            return f"b{l} has shape {b.shape}, expected {(d_out,)} — a flat vector, one bias per unit"
        if np.any(b != 0):
            return f"b{l} is not all zeros: start the biases at 0 (the random weights already break the symmetry)"
        if not np.all(np.isfinite(W)):
            return f"W{l} contains NaN or inf"
        if np.all(W == W.flat[0]):
            return (f"all entries of W{l} are equal ({W.flat[0]:g}): every unit would compute the same "
                    "thing and get the same gradient forever — draw random weights")
        target = np.sqrt(2.0 / d_in)
        if W.size >= 300:  # enough numbers for the sample statistics to be reliable
            mean, std = float(W.mean()), float(W.std())
            if abs(mean) > 0.25 * target:
                return (f"W{l} has mean {mean:.3g}: the weights must be centred at 0 "
                        "(rng.standard_normal, not rng.random / rng.uniform(0, 1))")
            tol = max(0.08, 5 / np.sqrt(2 * W.size))  # 5 standard errors of a sample std
            if not (1 - tol) * target < std < (1 + tol) * target:
                return (f"W{l} has standard deviation {std:.3g}, expected about {target:.3g} = "
                        f"sqrt(2 / fan_in) = sqrt(2 / {d_in}) (He initialisation)")
    again, other = got["again"], got["other"]
    if "problem" in again or any(not np.array_equal(first[k], again.get(k)) for k in keys):
        return ("not reproducible: two calls with the same seed gave different weights — "
                "make the generator from the seed inside the function: rng = np.random.default_rng(seed)")
    if "problem" not in other and all(np.array_equal(first[k], other.get(k)) for k in keys if k in other):
        return "seed is ignored: seed and seed + 1 gave identical weights — use np.random.default_rng(seed)"
    return None


define(name="init_network", description="params dict W1, b1, …, WL, bL with the right shapes, He-scaled random weights, "
                   "zero biases, reproducible from the seed",
       cases=_init_cases, run=_init_run, judge=_init_judge)


# --------------------------------------------------------------------------------------
# mlp_forward / mlp_backward
# --------------------------------------------------------------------------------------

def _mlp_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for sizes, name, n in [((4, 5, 3), "relu", 6), ((3, 6, 5, 2), "tanh", 4), ((2, 4, 4, 3), "sigmoid", 5)]:
        params = _random_params(rng, sizes)
        x = rng.standard_normal((n, sizes[0]))
        cases.append(Case(args=(params, x, name), batch=n,
                          label=f"sizes={sizes}, activation={name!r}, {n} samples"))
    return cases


def _copy_params(params: dict) -> dict:
    return {k: np.array(v, copy=True) for k, v in params.items()}


def _mlp_forward_run(fn: Callable, args: tuple) -> Any:
    params, x, name = args
    out = fn(_copy_params(params), x, name)
    if isinstance(out, tuple) and len(out) == 2:
        scores, cache = out
        try:
            cache = [tuple(np.asarray(a) for a in entry) for entry in cache]
        except TypeError:
            cache = {"problem": "cache must be a list with one (layer_input, z) pair per layer"}
        return scores, cache
    return out


def _mlp_forward_judge(case: Case, got: Any) -> str | None:
    params, x, name = case.args
    scores_ref, cache_ref = _forward(params, x, name)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return (f"returned a {type(got).__name__}; expected a pair (scores, cache) — "
                "the cache is what the backward pass needs")
    scores, cache = got
    problem = compare_array("scores", scores, scores_ref, rtol=1e-6, atol=1e-9)
    if problem:
        if "differs" in problem:
            if same_values(scores, _act(scores_ref, name)):
                return ("scores went through the activation: the last layer returns raw scores "
                        "(no activation on the output layer; the loss applies softmax)")
            no_act = x
            for l in range(1, len(params) // 2 + 1):
                no_act = no_act @ params[f"W{l}"] + params[f"b{l}"]
            if same_values(scores, no_act):
                return "scores: the hidden layers' activation was never applied (h = f(z) after every hidden layer)"
        return problem
    if isinstance(cache, dict):
        return cache["problem"]
    if len(cache) != len(cache_ref):
        return (f"cache has {len(cache)} entries, expected {len(cache_ref)}: one (layer_input, z) pair "
                "per Dense layer")
    for l, (entry, (h_ref, z_ref)) in enumerate(zip(cache, cache_ref), 1):
        if len(entry) != 2:
            return f"cache[{l - 1}] has {len(entry)} items, expected the pair (layer_input, z)"
        p = compare_array(f"cache[{l - 1}][0] (the input of layer {l})", entry[0], h_ref, 1e-6, 1e-9)
        if p:
            if l > 1 and same_values(entry[0], cache_ref[l - 2][1]):
                return (f"cache[{l - 1}][0] is z of the layer before: store the layer's input "
                        "h = f(z), after the activation")
            return p
        p = compare_array(f"cache[{l - 1}][1] (z of layer {l})", entry[1], z_ref, 1e-6, 1e-9)
        if p:
            if same_values(entry[1], _act(z_ref, name)):
                return (f"cache[{l - 1}][1] holds f(z), the activation: store z = h @ W + b from before "
                        "the activation — its derivative needs z")
            return p
    return None


define(name="mlp_forward", description="scores (N, C) of a multi-layer network and the cache [(layer_input, z), …]",
       cases=_mlp_cases, run=_mlp_forward_run, judge=_mlp_forward_judge)


def _mlp_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for c in _mlp_cases(rng):
        params, x, name = c.args
        scores, cache = _forward(params, x, name)
        dscores = rng.standard_normal(scores.shape) / len(x)
        cases.append(Case(args=(dscores, params, cache, name), batch=c.batch, label=c.label))
    return cases


def _mlp_backward_run(fn: Callable, args: tuple) -> Any:
    dscores, params, cache, name = args
    cache = [tuple(np.array(a, copy=True) for a in entry) for entry in cache]
    grads = fn(dscores, _copy_params(params), cache, name)
    return _plain_params(grads, "mlp_backward")


def _mlp_backward_judge(case: Case, got: dict) -> str | None:
    dscores, params, cache, name = case.args
    expected = _backward(dscores, params, cache, name)
    missing = [k for k in params if k not in got]
    if missing:
        what = " — the bias gradients are missing" if all(k.startswith("b") for k in missing) else ""
        return f"grads has no {', '.join(repr(k) for k in missing)}; expected the same keys as params{what}"
    if all(same_values(got[k], expected[k]) for k in params):
        return None
    n_layers = len(params) // 2
    last_ok = same_values(got.get(f"W{n_layers}"), expected[f"W{n_layers}"])
    if last_ok and all(same_values(got[k], v) for k, v in _backward(dscores, params, cache, name, True).items()):
        return ("the hidden layers' gradients ignore the activation: multiply by f'(z) "
                "(activation_backward) before each hidden Dense layer's backward")
    variant = _backward(dscores, params, cache, name, output_activation=True)
    if all(same_values(got[k], v) for k, v in variant.items()):
        return ("the activation's derivative was applied at the output layer too: the last layer has "
                "no activation in the forward pass, so dscores goes straight into its dense_backward")
    # Report the gradient closest to the output that is wrong: errors propagate downwards.
    for l in range(n_layers, 0, -1):
        for key in (f"W{l}", f"b{l}"):
            problem = compare_array(f"grads[{key!r}]", got[key], expected[key], 1e-6, 1e-9, case.batch)
            if problem:
                if l < n_layers:
                    problem += (f" (layer {l + 1} is right, so look at how the gradient flows back "
                                f"from layer {l + 1} into layer {l})")
                return problem
    return None


define(name="mlp_backward", description="gradients of every W and b from dscores and the cache",
       cases=_mlp_backward_cases, run=_mlp_backward_run, judge=_mlp_backward_judge)


# --------------------------------------------------------------------------------------
# train_network on XOR (rubric: XOR solved)
# --------------------------------------------------------------------------------------

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])
XOR_SETTINGS = {"sizes": (2, 8, 2), "activation": "tanh", "lr": 0.5, "epochs": 500}


def _xor_cases(rng: np.random.Generator) -> list[Case]:
    s = XOR_SETTINGS
    cases = []
    for seed in rng.choice(10_000, size=2, replace=False):
        args = (XOR_X.copy(), XOR_Y.copy(), s["sizes"], s["activation"], s["lr"], s["epochs"], int(seed))
        cases.append(Case(args=args, secret={"y": XOR_Y.tolist()},
                          label=f"XOR, sizes={s['sizes']}, tanh, lr={s['lr']}, {s['epochs']} epochs, seed={seed}"))
    return cases


def _xor_run(fn: Callable, args: tuple) -> dict:
    X, y, sizes, activation, lr, epochs, seed = args
    out = fn(X, y, sizes, activation, lr, epochs, seed)
    if not isinstance(out, tuple) or len(out) != 2:
        return {"problem": f"train_network returned a {type(out).__name__}; expected (params, losses)"}
    params = _plain_params(out[0], "train_network")
    if "problem" in params:
        return params
    try:
        losses = [float(v) for v in np.asarray(out[1], dtype=np.float64).reshape(-1)]
    except (TypeError, ValueError):
        return {"problem": "losses must be a list of numbers, one per epoch"}
    keys = _expected_keys(sizes)
    if sorted(params) != sorted(keys):
        return {"problem": f"the trained params have keys {sorted(params)}, expected {keys}"}
    with np.errstate(all="ignore"):
        scores, _ = _forward(params, np.asarray(X, dtype=np.float64), activation)
    return {"pred": [int(v) for v in np.argmax(scores, axis=1)], "losses": losses,
            "finite": bool(np.all(np.isfinite(scores))), "lr_used": _uses_lr(fn, args)}


def _uses_lr(fn: Callable, args: tuple) -> bool:
    """False when two epochs with lr and with lr/2 give the same second loss: lr is ignored.

    XOR is learned with many step sizes, so the accuracy alone cannot show that the lr argument
    is never used; the loss after one update can.
    """
    X, y, sizes, activation, lr, _, seed = args
    try:
        a = np.asarray(fn(X, y, sizes, activation, lr, 2, seed)[1], dtype=np.float64).reshape(-1)
        b = np.asarray(fn(X, y, sizes, activation, lr / 2, 2, seed)[1], dtype=np.float64).reshape(-1)
    except Exception:  # noqa: BLE001 — the main run already judged what it returned
        return True
    return not (a.shape == b.shape == (2,) and np.allclose(a, b, rtol=1e-12, atol=0))


def _xor_judge(case: Case, got: dict) -> str | None:
    epochs = case.args[5]
    losses = got["losses"]
    if len(losses) != epochs:
        return (f"losses has {len(losses)} entr{'y' if len(losses) == 1 else 'ies'}, "
                f"expected one per epoch ({epochs})")
    if not got["finite"] or not np.all(np.isfinite(losses)):
        return "the loss became NaN or inf: the updates blew up (check the sign and size of the step)"
    if losses[-1] > losses[0] + 1e-12:
        return (f"the loss went up from {losses[0]:.3f} to {losses[-1]:.3f}: gradient descent steps "
                "against the gradient, params[k] -= lr * grads[k]")
    if np.isclose(losses[-1], losses[0], rtol=1e-9, atol=1e-12):
        return (f"the loss never changed ({losses[0]:.4f}): the parameters are not being updated — "
                "update the arrays in params (in place, or store the new arrays back into the dict)")
    if not got.get("lr_used", True):
        return ("train_network ignores its lr argument: two epochs with lr and with lr/2 give the same "
                "loss after the first update — step with params[k] -= lr * grads[k]")
    right = sum(int(p == t) for p, t in zip(got["pred"], case.secret["y"]))
    if right < len(case.secret["y"]):
        return (f"after training, the network gets {right} of 4 XOR points right (final loss "
                f"{losses[-1]:.3f}); with these settings a correct network solves XOR for every seed")
    if losses[-1] > 0.1:
        return f"all 4 points right, but the final loss is {losses[-1]:.3f} (expected < 0.1)"
    return None


define(name="train_xor", function="train_network",
       description="your network, trained by your train_network with full-batch gradient descent, "
                   "solves XOR (4 of 4 points, final loss < 0.1)",
       cases=_xor_cases, run=_xor_run, judge=_xor_judge)
