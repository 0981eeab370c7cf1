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

from ..gradcheck import numerical_gradient
from .ch03 import _ce_ref as _ce  # the reference softmax cross-entropy (loss, dscores): grader-side
from .compare import compare_array, compare_outputs
from .core import Case, define, grader_side
from .helpers import bias_gradient_slip, dense_output_slip, reproducibility_runs, same_values, stable_sigmoid
from .questions import choice, number

ACTIVATION_NAMES = ("relu", "tanh", "sigmoid")


# --------------------------------------------------------------------------------------
# Reference network (the grader's side; students write their own in the notebook)
# --------------------------------------------------------------------------------------

@grader_side
def _act(z: np.ndarray, name: str) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    return stable_sigmoid(z)


@grader_side
def _act_derivative(z: np.ndarray, name: str) -> np.ndarray:
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    s = stable_sigmoid(z)
    return s * (1 - s)


@grader_side
def _forward(params: dict, x: np.ndarray, activation: str) -> tuple[np.ndarray, list]:
    n_layers = len(params) // 2
    h, cache = x, []
    for l in range(1, n_layers + 1):
        z = h @ params[f"W{l}"] + params[f"b{l}"]
        cache.append((h, z))
        h = _act(z, activation) if l < n_layers else z
    return h, cache


@grader_side
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


@grader_side
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
    if problem:
        return dense_output_slip("out", got, x, W, b) or problem
    return problem


@grader_side
def _dense_forward_ref(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return x @ W + b


define(name="dense_forward", description="out = x @ W + b, (N, D) → (N, M)",
       cases=_dense_forward_cases, reference=_dense_forward_ref, judge=_dense_forward_judge)


def _dense_backward_cases(rng: np.random.Generator) -> list[Case]:
    x, W, d = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    x2, W2, d2 = rng.standard_normal((7, 6)), rng.standard_normal((6, 2)), rng.standard_normal((7, 2))
    x3, W3, d3 = rng.standard_normal((1, 6)), rng.standard_normal((6, 3)), rng.standard_normal((1, 3))
    return [Case(args=(d, x, W), batch=5, label="a batch of 5 inputs with 3 features, 4 units"),
            Case(args=(d2, x2, W2), batch=7, label="a batch of 7 inputs with 6 features, 2 units"),
            Case(args=(d3, x3, W3), batch=1, label="a batch of 1 input with 6 features, 3 units")]


@grader_side
def _dense_backward_ref(dout: np.ndarray, x: np.ndarray, W: np.ndarray) -> tuple:
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def _dense_backward_judge(case: Case, got: Any) -> str | None:
    problem = compare_outputs(("dx", "dW", "db"), got, case.expected, 1e-6, 1e-9, case.batch)
    if problem and problem.startswith("db "):
        return bias_gradient_slip("db", got[2], case.args[0]) or problem
    return problem


define(name="dense_backward", description="dx (N, D), dW (D, M) and db (M,) for a batch",
       cases=_dense_backward_cases, reference=_dense_backward_ref, judge=_dense_backward_judge)


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
    if same_values(got, case.hypotheses["derivative alone"]):
        return f"dz is f'(z) alone for {name!r}: multiply by the upstream gradient, dz = dout * f'(z)"
    if same_values(got, dout):
        return f"dz equals dout for {name!r}: multiply by the derivative of the activation, dz = dout * f'(z)"
    if name == "relu" and same_values(got, dout * (z >= 0)):
        return "wrong only where z == 0: ReLU's derivative at the kink is 0 here (use z > 0)"
    if name == "tanh" and same_values(got, dout * (1 - z ** 2)):
        return "dz uses 1 − z²: the derivative of tanh is 1 − tanh(z)² (apply tanh first)"
    if name == "sigmoid" and same_values(got, dout * z * (1 - z)):
        return "dz uses z·(1 − z): the derivative of the sigmoid is σ(z)·(1 − σ(z)) (apply σ first)"
    if same_values(got, case.hypotheses["dout * f(z)"]):
        return f"dz is dout * f(z) for {name!r}: use the derivative f'(z), not the activation itself"
    return _implied_derivative_problem(np.asarray(got, dtype=np.float64), dout, z, name) or problem


# What every f'(z) of the chapter satisfies, for any z: a dz whose dz / dout breaks it is wrong there.
_DERIVATIVE_RANGE = {"tanh": (1.0, "tanh′(z) = 1 − tanh(z)² lies in (0, 1]"),
                     "sigmoid": (0.25, "σ′(z) = σ(z)(1 − σ(z)) lies in (0, 0.25]")}


def _implied_derivative_problem(got: np.ndarray, dout: np.ndarray, z: np.ndarray, name: str) -> str | None:
    """dz / dout is the derivative the student used; name the first element where it is impossible."""
    if got.shape != dout.shape:
        return None
    with np.errstate(all="ignore"):
        ratio = got / dout
    usable = np.abs(dout) > 1e-6
    for idx in zip(*np.nonzero(usable)):
        r, zi = float(ratio[idx]), float(z[idx])
        at = f"dz / dout is {r:.4g} at index {tuple(int(i) for i in idx)} (z = {zi:.4g})"
        if name == "relu" and zi != 0 and not np.isclose(r, 1.0 if zi > 0 else 0.0, atol=1e-9):
            return f"{at}, but ReLU's derivative is {'1 for every z > 0' if zi > 0 else '0 for every z < 0'}"
        if name in _DERIVATIVE_RANGE:
            top, rule = _DERIVATIVE_RANGE[name]
            if not (r > 0 or np.isclose(r, 0, atol=1e-12) and abs(zi) > 20) or r > top * (1 + 1e-9):
                return f"{at}, but {rule} for every z"
    return None


@grader_side
def _activation_backward_ref(dout: np.ndarray, z: np.ndarray, name: str) -> np.ndarray:
    return dout * _act_derivative(z, name)


@grader_side
def _activation_backward_hypotheses(dout: np.ndarray, z: np.ndarray, name: str) -> dict:
    return {"derivative alone": _act_derivative(z, name), "dout * f(z)": dout * _act(z, name)}


define(name="activation_backward", description="dz = dout * f'(z) for relu, tanh and sigmoid",
       cases=_activation_backward_cases, reference=_activation_backward_ref,
       hypotheses=_activation_backward_hypotheses, judge=_activation_backward_judge)


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
            if W.shape == ():
                hint = (f": W{l} is a single number ({float(W):.4g}) — draw a whole (D_in, D_out) array, "
                        "rng.standard_normal((fan_in, fan_out)), and scale it")
            elif W.shape in ((d_in, d_in), (d_out, d_out)) and d_in != d_out:
                hint = (f": both sizes are {W.shape[0]}, so one size of the pair (sizes[l − 1], sizes[l]) is "
                        "repeated — pair each size with the next, zip(sizes[:-1], sizes[1:])")
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

@grader_side
def _mlp_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for sizes, name, n in [((4, 5, 3), "relu", 6), ((3, 6, 5, 2), "tanh", 4), ((2, 4, 4, 3), "sigmoid", 5),
                           ((5, 4, 3), "relu", 1)]:  # a batch of one input: no axis may be squeezed away
        params = _random_params(rng, sizes)
        x = rng.standard_normal((n, sizes[0]))
        cases.append(Case(args=(params, x, name), batch=n,
                          label=f"sizes={sizes}, activation={name!r}, {n} sample{'s' if n != 1 else ''}"))
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
    scores_ref, cache_ref = case.expected
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return (f"returned a {type(got).__name__}; expected a pair (scores, cache) — "
                "the cache is what the backward pass needs")
    scores, cache = got
    params, x, _ = case.args
    problem = compare_array("scores", scores, scores_ref, rtol=1e-6, atol=1e-9)
    widths = [x.shape[1]] + [params[f"W{l}"].shape[1] for l in range(1, len(params) // 2 + 1)]
    shape = np.shape(scores)
    if problem and len(shape) == 2 and shape[0] == len(x) and shape != scores_ref.shape \
            and shape[1] in widths[:-1]:
        k = widths.index(shape[1])
        where = "of the input x: no layer was applied" if k == 0 else f"of layer {k}'s output"
        return (f"scores has shape {shape}, the width {where} (sizes {tuple(widths)}): apply all "
                f"{len(widths) - 1} layers (n_layers = len(params) // 2); the last gives {scores_ref.shape}")
    if problem:
        if "differs" in problem:
            if same_values(scores, case.hypotheses["activated scores"]):
                return ("scores went through the activation: the last layer returns raw scores "
                        "(no activation on the output layer; the loss applies softmax)")
            if same_values(scores, case.hypotheses["no activation"]):
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
            if same_values(entry[1], case.hypotheses["activated cache"][l - 1]):
                return (f"cache[{l - 1}][1] holds f(z), the activation: store z = h @ W + b from before "
                        "the activation — its derivative needs z")
            return p
    return None


@grader_side
def _mlp_forward_hypotheses(params: dict, x: np.ndarray, name: str) -> dict:
    scores, cache = _forward(params, x, name)
    no_act = x
    for l in range(1, len(params) // 2 + 1):
        no_act = no_act @ params[f"W{l}"] + params[f"b{l}"]
    return {"activated scores": _act(scores, name), "no activation": no_act,
            "activated cache": [_act(z, name) for _, z in cache]}


define(name="mlp_forward", description="scores (N, C) of a multi-layer network and the cache [(layer_input, z), …]",
       cases=_mlp_cases, reference=_forward, hypotheses=_mlp_forward_hypotheses, run=_mlp_forward_run,
       judge=_mlp_forward_judge)


@grader_side
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
    expected = case.expected
    missing = [k for k in params if k not in got]
    if missing:
        what = " — the bias gradients are missing" if all(k.startswith("b") for k in missing) else ""
        return f"grads has no {', '.join(repr(k) for k in missing)}; expected the same keys as params{what}"
    if all(same_values(got[k], expected[k]) for k in params):
        return None
    n_layers = len(params) // 2
    last_ok = same_values(got.get(f"W{n_layers}"), expected[f"W{n_layers}"])
    if last_ok and all(same_values(got[k], v) for k, v in case.hypotheses["skip activation"].items()):
        return ("the hidden layers' gradients ignore the activation: multiply by f'(z) "
                "(activation_backward) before each hidden Dense layer's backward")
    if all(same_values(got[k], v) for k, v in case.hypotheses["output activation"].items()):
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


@grader_side
def _mlp_backward_hypotheses(dscores: np.ndarray, params: dict, cache: list, name: str) -> dict:
    return {"skip activation": _backward(dscores, params, cache, name, skip_activation=True),
            "output activation": _backward(dscores, params, cache, name, output_activation=True)}


define(name="mlp_backward", description="gradients of every W and b from dscores and the cache",
       cases=_mlp_backward_cases, reference=_backward, hypotheses=_mlp_backward_hypotheses,
       run=_mlp_backward_run, judge=_mlp_backward_judge)


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
    trained = _plain_params(out[0], "train_network")
    if "problem" in trained:
        return trained
    try:
        losses = [float(v) for v in np.asarray(out[1], dtype=np.float64).reshape(-1)]
    except (TypeError, ValueError):
        return {"problem": "losses must be a list of numbers, one per epoch"}
    keys = _expected_keys(sizes)
    if sorted(trained) != sorted(keys):
        return {"problem": f"the trained params have keys {sorted(trained)}, expected {keys}"}
    with np.errstate(all="ignore"):
        scores = _library_scores(trained, np.asarray(X, dtype=np.float64), activation)
    return {"pred": [int(v) for v in np.argmax(scores, axis=1)], "losses": losses,
            "finite": bool(np.all(np.isfinite(scores))), "lr_used": _uses_lr(fn, args)}


def _library_scores(params: dict, X: np.ndarray, activation: str) -> np.ndarray:
    """The trained network's scores on X, computed with the course library's layers
    (mlcourse.layers, given code) — in the student's process, where the reference is not."""
    from ..layers import Dense  # imported here: the checks load lazily
    from ..model import Sequential  # imported here: the checks load lazily

    layers: list = []
    for l in range(1, len(params) // 2 + 1):
        dense = Dense(*params[f"W{l}"].shape)
        dense.params.update(W=params[f"W{l}"], b=params[f"b{l}"])
        layers += [dense, activation]
    return Sequential(layers[:-1]).forward(X)


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


# --------------------------------------------------------------------------------------
# Questions: predictions made before the experiment (mlcourse.checks.questions)
# --------------------------------------------------------------------------------------

number("answer_parameter_count", answer=123, rtol=1e-9,
       explain="each layer has fan_in × fan_out weights plus fan_out biases: "
               "(2·8 + 8) + (8·8 + 8) + (8·3 + 3) = 24 + 72 + 27 = 123.",
       wrong={104: "104 counts the weights only (16 + 64 + 24); every unit also has a bias.",
              21: "21 = 2 + 8 + 8 + 3 counts the units, not the parameters that connect them.",
              384: "384 = 2·8·8·3 multiplies all sizes; the layers' parameters add up, each layer "
                   "connecting only to the next.",
              120: "120 = 2·8 + 8·8 + 8·3 + 8 + 8 forgets the output layer's 3 biases."})

choice("answer_zero_init", answer="b",
       explain="with every W = 0 the hidden activations are tanh(0) = 0 (ReLU too), so every "
               "dW_l = h_{l−1}ᵀ δ_l and every dh = δ Wᵀ is zero — except at the output: b_L gets the "
               "loss gradient's column sums (1/N)Σ(P − Y). The weights never move; only the output "
               "bias learns (the class frequencies).",
       wrong={"a": "the output bias is added straight to the scores, so it receives the loss gradient "
                   "(1/N)Σ(P − Y), which is not zero while the predictions are imperfect.",
              "c": "that is what equal non-zero weights do (the symmetry problem). With zeros, the "
                   "hidden activations and the backward signal dh = δWᵀ are zero, so the weight "
                   "gradients are not merely equal — they vanish.",
              "d": "nothing random is left: with every weight at 0, every hidden unit outputs f(0) = 0 "
                   "for every input."})


# --------------------------------------------------------------------------------------
# manual_backward: one backward pass by hand, every intermediate (makemore style)
# --------------------------------------------------------------------------------------

# The forward pass the notebook gives (tiny_forward), one named intermediate per line; the
# student returns the gradient of the loss with respect to each, in this backward order.
MANUAL_ORDER = ("logp", "s", "e", "shifted", "z2", "W2", "b2", "h1", "z1", "W1", "b1")
# The step that produced each intermediate, for naming where a wrong gradient goes wrong.
MANUAL_STEP = {"logp": "loss = −mean of logp[n, y_n]", "s": "logp = shifted − log(s)",
               "e": "s = e.sum(axis=1, keepdims=True)",
               "shifted": "e = exp(shifted), and logp = shifted − log(s) (two paths)",
               "z2": "shifted = z2 − zmax (zmax held constant)", "W2": "z2 = h1 @ W2 + b2",
               "b2": "z2 = h1 @ W2 + b2", "h1": "z2 = h1 @ W2 + b2", "z1": "h1 = tanh(z1)",
               "W1": "z1 = x @ W1 + b1", "b1": "z1 = x @ W1 + b1"}


def _tiny_forward(params: dict, x: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    z1 = x @ params["W1"] + params["b1"]
    h1 = np.tanh(z1)
    z2 = h1 @ params["W2"] + params["b2"]
    zmax = z2.max(axis=1, keepdims=True)
    shifted = z2 - zmax
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    logp = shifted - np.log(s)
    loss = -logp[np.arange(len(y)), y].mean()
    cache = {"x": x, "z1": z1, "h1": h1, "z2": z2, "zmax": zmax, "shifted": shifted, "e": e, "s": s,
             "logp": logp}
    return float(loss), cache


def _downstream_losses(params: dict, cache: dict, y: np.ndarray) -> dict[str, Callable[[np.ndarray], float]]:
    """For each intermediate v: the loss as a function of v, everything upstream of v held fixed."""
    n = np.arange(len(y))

    def from_logp(logp): return float(-logp[n, y].mean())
    def from_s(s): return from_logp(cache["shifted"] - np.log(s))
    def from_e(e): return from_s(e.sum(axis=1, keepdims=True))
    def from_shifted(sh): return from_logp(sh - np.log(np.exp(sh).sum(axis=1, keepdims=True)))
    def from_z2(z2): return from_shifted(z2 - cache["zmax"])
    def from_h1(h1): return from_z2(h1 @ params["W2"] + params["b2"])
    def from_z1(z1): return from_h1(np.tanh(z1))
    return {"logp": from_logp, "s": from_s, "e": from_e, "shifted": from_shifted, "z2": from_z2,
            "W2": lambda W: from_z2(cache["h1"] @ W + params["b2"]),
            "b2": lambda b: from_z2(cache["h1"] @ params["W2"] + b),
            "h1": from_h1, "z1": from_z1,
            "W1": lambda W: from_z1(cache["x"] @ W + params["b1"]),
            "b1": lambda b: from_z1(cache["x"] @ params["W1"] + b)}


def _numerical(f: Callable[[np.ndarray], float], v: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The library's central differences on a float64 copy of ``v`` (the caller's array is left alone)."""
    return numerical_gradient(f, np.array(v, dtype=np.float64, copy=True), h=h)


def _manual_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d, hdim, c in [(4, 3, 5, 3), (6, 2, 4, 5)]:
        params = {"W1": rng.standard_normal((d, hdim)) / np.sqrt(d), "b1": rng.standard_normal(hdim) * 0.1,
                  "W2": rng.standard_normal((hdim, c)) / np.sqrt(hdim), "b2": rng.standard_normal(c) * 0.1}
        x, y = rng.standard_normal((n, d)), rng.integers(0, c, n)
        _, cache = _tiny_forward(params, x, y)
        losses = _downstream_losses(params, cache, y)
        expected = {k: _numerical(losses[k], params[k] if k in params else cache[k]) for k in MANUAL_ORDER}
        cases.append(Case(args=(params, cache, y), expected=expected, batch=n,
                          label=f"N={n}, sizes ({d}, {hdim}, {c})"))
    return cases


def _manual_slip(key: str, g: Any, expected: dict, cache: dict) -> str | None:
    """A classic slip in the step that makes grads[key], tested with the right upstream gradients
    (the judge gets here only when every gradient before ``key`` is right)."""
    g = np.asarray(g, dtype=np.float64)
    if g.shape != np.shape(expected[key]):
        return None
    n = len(g)
    if key == "logp" and same_values(g, np.full_like(g, -1.0 / n)):
        return "is −1/N everywhere: only the label's entry logp[n, y_n] enters the loss, the others get 0"
    if key == "logp" and np.all(g == 0):
        return ("is 0 everywhere: loss = −mean of logp[n, y_n], so the label entries get −1/N "
                "(d_logp[np.arange(N), y] = −1/N)")
    if key == "s":
        total = -expected["logp"].sum(axis=1, keepdims=True)
        if same_values(g, total):
            return "is −Σ_j d_logp[n, j] without dividing by s: d log(s) / ds = 1/s"
        with np.errstate(all="ignore"):
            if same_values(g, cache["s"] / total):
                return "is s / (−Σ_j d_logp[n, j]): the division is upside down, d_s = −Σ_j d_logp[n, j] / s"
    if key == "e" and np.all(g == 1):
        return "is 1 everywhere: multiply by d_s — s = e.sum(axis=1) passes d_s on to every e[n, j]"
    if key == "shifted":
        d_logp, d_e, e = expected["logp"], expected["e"], cache["e"]
        for value, why in ((d_logp, "is d_logp only: shifted also feeds e = exp(shifted) — add d_e·e"),
                           (d_logp - d_e * e, "is d_logp − d_e·e: the gradients of the two paths add, d_logp + d_e·e"),
                           (d_logp + d_e, "is d_logp + d_e: the path through e = exp(shifted) multiplies d_e by "
                                          "exp′(shifted) = e"),
                           (d_logp + e, "is d_logp + e: the path through e is d_e·e, the local derivative times d_e"),
                           (d_e * e, "is d_e·e only: shifted also feeds logp directly (logp = shifted − log s) — "
                                     "add the gradient of that path too")):
            if same_values(g, value):
                return why
    if key == "z1" and same_values(g, expected["h1"] * (1 - cache["z1"] ** 2)):
        return "uses 1 − z1²: the derivative of tanh is 1 − tanh(z1)² = 1 − h1²"
    if key == "z1" and same_values(g, expected["h1"]):
        return "equals d_h1: h1 = tanh(z1) multiplies by tanh′(z1) = 1 − h1²"
    if key == "z1":
        with np.errstate(all="ignore"):
            ratio = g / expected["h1"]
        for idx in zip(*np.nonzero(np.abs(expected["h1"]) > 1e-6)):
            r = float(ratio[idx])
            if r <= 0 or r > 1 + 1e-9:
                return (f"/ grads['h1'] is {r:.4g} at index {tuple(int(i) for i in idx)}, but it must be tanh′(z1) = "
                        "1 − h1², which lies in (0, 1]")
    return None


def _manual_run(fn: Callable, args: tuple) -> dict:
    params, cache, y = args
    grads = fn(_copy_params(params), {k: np.array(v, copy=True) for k, v in cache.items()}, np.array(y))
    return _plain_params(grads, "manual_backward")


def _manual_judge(case: Case, got: dict) -> str | None:
    params, cache, y = case.args
    missing = [k for k in MANUAL_ORDER if k not in got]
    if missing:
        return f"grads has no {', '.join(repr(k) for k in missing)}; expected one gradient per intermediate: {list(MANUAL_ORDER)}"
    n = len(y)
    for i, key in enumerate(MANUAL_ORDER):
        expected = case.expected[key]
        problem = compare_array(f"grads[{key!r}]", got[key], expected, rtol=1e-5, atol=1e-8, batch=n)
        if problem is None:
            continue
        where = (f" (d_{MANUAL_ORDER[i - 1]} and everything before it are right: look at the step "
                 f"{MANUAL_STEP[key]})" if i else "")
        slip = _manual_slip(key, got[key], case.expected, cache)
        if slip:  # a tested cause replaces the symptom
            return f"grads[{key!r}] {slip}{where}"
        if key == "s" and np.shape(got[key]) == cache["e"].shape:
            problem += (" — it has one entry per class: s = e.sum(axis=1, keepdims=True) is one number per "
                        "sample, so its gradient sums the contributions of the row (keepdims)")
        return f"{problem}{where}"
    return None


define(name="manual_backward",
       description="the gradient of every intermediate of tiny_forward, from d_logp down to d_W1, each "
                   "matching a numerical gradient",
       cases=_manual_cases, run=_manual_run, judge=_manual_judge)


# --------------------------------------------------------------------------------------
# train_linear_softmax: the linear baseline the hidden layer is measured against
# --------------------------------------------------------------------------------------



@grader_side
def _linear_ref(X: np.ndarray, y: np.ndarray, num_classes: int, lr: float, epochs: int,
                sign: float = 1.0, bias: bool = True, after: bool = False, slip: str = "") -> tuple:
    """Reference run; the flags and ``slip`` (one of _LINEAR_SLIPS) give classic mistakes (for naming them)."""
    W, b, losses = np.zeros((X.shape[1], num_classes)), np.zeros(num_classes), []
    fwd_b = {"no_b_in_scores": 0.0, "minus_b_in_scores": -1.0}.get(slip, 1.0)
    for _ in range(epochs):
        loss, d = _ce(X @ W + fwd_b * b, y)
        dW, db = X.T @ d, d.sum(axis=0)
        if slip != "W_fixed":
            W = W - sign * {"W_ascent": -lr, "W_no_lr": 1.0}.get(slip, lr) * dW
        if bias:
            b = b - sign * {"b_ascent": -lr, "b_no_lr": 1.0}.get(slip, lr) * db
        losses.append(_ce(X @ W + fwd_b * b, y)[0] if after else loss)
    return W, b, losses


_LINEAR_SLIPS = {
    "no_b_in_scores": "the scores leave out b (X @ W): b is learned but never used — scores = X @ W + b",
    "minus_b_in_scores": "the scores subtract b (X @ W − b): scores = X @ W + b",
    "W_fixed": "W never changes: update it too, W -= lr * dW",
    "W_ascent": "W moves up its gradient (W + lr·dW) while b moves down: W -= lr * dW",
    "b_ascent": "b moves up its gradient (b + lr·db) while W moves down: b -= lr * db",
    "W_no_lr": "W steps by the whole gradient dW: scale it by the learning rate, W -= lr * dW",
    "b_no_lr": "b steps by the whole gradient db: scale it by the learning rate, b -= lr * db",
}


def _linear_cases(rng: np.random.Generator) -> list[Case]:
    from ..toydata import make_spiral  # the chapter's data set (imported here: checks load lazily)

    X, y = make_spiral(20, n_classes=3, seed=int(rng.integers(0, 1000)))
    X2 = rng.standard_normal((12, 4))
    y2 = rng.integers(0, 2, 12)
    return [Case(args=(X, y, 3, 1.0, 30), batch=len(y), label="60 spiral points, 3 classes, lr 1, 30 epochs"),
            Case(args=(X2, y2, 2, 0.5, 10), batch=12, label="12 points with 4 features, 2 classes, lr 0.5, 10 epochs")]


def _linear_run(fn: Callable, args: tuple) -> Any:
    out = fn(*args)
    if not isinstance(out, tuple) or len(out) != 3:
        return {"problem": f"returned a {type(out).__name__}; expected the triple (W, b, losses)"}
    W, b, losses = out
    return (np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64),
            np.asarray(losses, dtype=np.float64).reshape(-1))


def _linear_judge(case: Case, got: Any) -> str | None:
    X, y, c, lr, epochs = case.args
    W, b, losses = got
    ref_W, ref_b, ref_losses = case.expected
    if losses.shape != (epochs,):
        return f"losses has {losses.size} entries, expected one per epoch ({epochs})"
    if all(same_values(a, r) for a, r in zip(got, case.hypotheses["ascent"])):
        return "the loss goes up: gradient descent steps against the gradient (W -= lr * dW)"
    if all(same_values(a, r) for a, r in zip(got, case.hypotheses["no bias update"])):
        return "b never changes: update the bias too, b -= lr * db with db = dscores.sum(axis=0)"
    if all(same_values(a, r) for a, r in zip(got, case.hypotheses["loss after update"])):
        return ("losses are recorded after each update: record the loss the epoch's gradient came from "
                f"(the first entry is the loss of W = 0, b = 0, ln {c} = {np.log(c):.4f})")
    right = (ref_W, ref_b, ref_losses)
    if not all(same_values(a, r) for a, r in zip(got, right)):
        for slip, message in _LINEAR_SLIPS.items():
            variant = case.hypotheses[slip]
            # (with lr = 1 "no lr" is no slip at all: a variant equal to the reference names nothing)
            if all(same_values(a, r) for a, r in zip(got, variant)) and \
                    not all(same_values(v, r) for v, r in zip(variant, right)):
                return message
    if not np.isclose(losses[0], np.log(c)):
        return (f"the first loss is {losses[0]:.4f}, expected ln {c} = {np.log(c):.4f}: start from "
                "W = 0 and b = 0, where every class has probability 1/C")
    for name, g, r in (("W", W, ref_W), ("b", b, ref_b), ("losses", losses, ref_losses)):
        problem = compare_array(name, g, r, rtol=1e-6, atol=1e-9, batch=case.batch)
        if problem:
            return problem
    return None


@grader_side
def _linear_hypotheses(*args: Any) -> dict:
    with np.errstate(all="ignore"):
        slips = {slip: _linear_ref(*args, slip=slip) for slip in _LINEAR_SLIPS}
    return {"ascent": _linear_ref(*args, sign=-1.0), "no bias update": _linear_ref(*args, bias=False),
            "loss after update": _linear_ref(*args, after=True), **slips}


define(name="train_linear_softmax",
       description="a linear softmax classifier trained by full-batch gradient descent from W = 0, b = 0",
       cases=_linear_cases, reference=_linear_ref, hypotheses=_linear_hypotheses, run=_linear_run,
       judge=_linear_judge)
