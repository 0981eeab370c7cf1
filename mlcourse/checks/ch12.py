"""Checks for chapter 12: batch normalisation (forward, two backward passes) and layer normalisation.

The formats the chapter fixes (so the grader can call every function with plain data):

* ``batchnorm_forward(x, gamma, beta, bn_state, training, momentum=0.9, eps=1e-5) -> (out, cache)``
  with x (N, D), gamma and beta (D,), and ``bn_state`` a dict {"running_mean": (D,),
  "running_var": (D,)} that training mode updates in place. In training mode ``cache`` is the
  tuple ``(x, x_hat, mean, var, gamma, eps)`` (mean and var of shape (D,)); in eval mode it may
  be None.
* ``batchnorm_backward_graph(dout, cache)`` and ``batchnorm_backward(dout, cache)``
  ``-> (dx (N, D), dgamma (D,), dbeta (D,))``.
* ``layernorm_forward(x, gamma, beta, eps=1e-5) -> (out, cache)``, cache ``(x, x_hat, mean, var,
  gamma, eps)`` with mean and var of shape (N, 1); ``layernorm_backward(dout, cache)`` as above.

The variance is the biased one (divide by N) everywhere, running_var included.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .compare import compare_array, tuple_problem
from .core import Case, define, grader_side
from .helpers import same_values
from .questions import choice, number

EPS = 1e-5


# --------------------------------------------------------------------------------------
# Reference (grader side) and the classic wrong versions, to name them
# --------------------------------------------------------------------------------------

def _normalize(x: np.ndarray, axis: int, ddof: int = 0, eps: float = EPS) -> tuple:
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    return (x - mean) / np.sqrt(var + eps), mean, var


def _bn_train(x, gamma, beta, eps=EPS, axis=0, ddof=0):
    x_hat, mean, var = _normalize(x, axis, ddof, eps)
    return gamma * x_hat + beta, x_hat, mean.ravel(), var.ravel()


def _bn_eval(x, gamma, beta, mean, var, eps=EPS):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def _norm_backward(dout, x_hat, gamma, var, eps, axis, mean_path=True, var_path=True):
    """dx, dgamma, dbeta of out = γ·x̂ + β with x̂ normalised over ``axis``; the flags drop paths."""
    dxhat = dout * gamma
    inv_std = 1 / np.sqrt(var + eps)
    dx = dxhat
    if mean_path:
        dx = dx - dxhat.mean(axis=axis, keepdims=True)
    if var_path:
        dx = dx - x_hat * (dxhat * x_hat).mean(axis=axis, keepdims=True)
    return dx * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


@grader_side
def _slip_variants(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray, var: np.ndarray,
                   eps: float, axis: int | None, what: str) -> dict[str, np.ndarray]:
    """What each one slip in out = γ·(x − mean)/√(var + ε) + β gives → the sentence that names it.

    ``mean``/``var`` are the statistics the right answer uses (broadcastable against x); ``axis``
    the axis they are taken over (None: the running averages, eval mode).
    """
    xn = (x - mean) / np.sqrt(var + eps)
    out = {"x̂ has its sign flipped: it is (x − μ) / √(σ² + ε), not (μ − x) / …": -gamma * xn + beta,
           "β is subtracted: out = gamma * x_hat + beta": gamma * xn - beta,
           "γ and β are swapped: out = gamma * x_hat + beta": beta * xn + gamma}
    with np.errstate(all="ignore"):
        out["x̂ is upside down: √(σ² + ε) / (x − μ) instead of (x − μ) / √(σ² + ε)"] = \
            gamma * np.sqrt(var + eps) / (x - mean) + beta
    over = f"axis={axis}" if axis is not None else ""
    centres = [(mean, ""), (0.0, "x − μ is missing: x is not centred (subtract the mean)"),
               (-mean, "x + μ instead of x − μ"), (x.mean(), f"μ is the mean of all entries, not of each {what}"
                                                             + (f" ({over})" if over else ""))]
    scales = [(np.sqrt(var + eps), ""), (1.0, "x − μ is not divided by √(σ² + ε)"),
              (var + eps, "it divides by σ² + ε, not by its square root √(σ² + ε)"),
              (np.sqrt(eps) + 0 * var, "σ² is missing under the square root (it divides by √ε)"),
              (np.sqrt(var) + eps, "ε is outside the square root: √σ² + ε instead of √(σ² + ε)"),
              (np.sqrt(np.abs(var - eps)), "ε is subtracted: √(σ² − ε) instead of √(σ² + ε)"),
              (np.sqrt(x.var() + eps), f"σ² is the variance of all entries, not of each {what}"
                                       + (f" ({over})" if over else ""))]
    if axis is not None:
        centres.append((x.sum(axis=axis, keepdims=True), f"μ is the sum over {over}, not the mean"))
        if x.shape[0] != x.shape[1]:
            other = 1 - axis
            centres.append((x.mean(axis=other, keepdims=True), f"μ is taken over axis={other}, not {over}"))
            scales.append((np.sqrt(x.var(axis=other, keepdims=True) + eps), f"σ² is taken over axis={other}, not {over}"))
    for c, c_msg in centres:
        for sc, s_msg in scales:
            if c_msg or s_msg:
                with np.errstate(all="ignore"):
                    out["out matches the normalisation with " + "; and ".join(m for m in (c_msg, s_msg) if m)] = \
                        gamma * (x - c) / sc + beta
    return out


def _named_slip(got: Any, hypotheses: dict) -> str | None:
    """The sentence of the first hypothesis ``got`` reproduces (the judge's side: no solution code)."""
    for message, variant in hypotheses.items():
        if same_values(got, variant):
            return message
    return None


# --------------------------------------------------------------------------------------
# batchnorm_forward
# --------------------------------------------------------------------------------------

def _bn_data(rng: np.random.Generator, n: int, d: int) -> tuple:
    scale = np.exp(rng.uniform(-0.5, 1.2, d))
    scale[0] = 2e-3  # a nearly constant feature: var ≈ 4e-6, the same order as ε
    x = rng.standard_normal((n, d)) * scale + rng.uniform(-3, 3, d)
    gamma = rng.uniform(0.5, 2.0, d) * rng.choice([-1, 1], d)
    beta = rng.standard_normal(d)
    return x, gamma, beta


def _state(rng: np.random.Generator, d: int) -> dict:
    return {"running_mean": rng.standard_normal(d), "running_var": rng.uniform(0.5, 3.0, d)}


def _bn_forward_cases(rng: np.random.Generator) -> list[Case]:
    x, g, b = _bn_data(rng, 8, 5)
    x2, g2, b2 = _bn_data(rng, 6, 3)
    x3, g3, b3 = _bn_data(rng, 7, 4)
    return [Case(args=(x, g, b, _state(rng, 5), True, 0.9, EPS), batch=8,
                 label="training mode, 8 samples × 5 features, momentum 0.9"),
            Case(args=(x2, g2, b2, _state(rng, 3), True, 0.7, EPS), batch=6,
                 label="training mode, 6 samples × 3 features, momentum 0.7"),
            Case(args=(x3, g3, b3, _state(rng, 4), False, 0.9, EPS), batch=7,
                 label="eval mode, 7 samples × 4 features")]


def _plain(v: Any) -> Any:
    """v as a float64 array (runs in the student's process); None for None or non-numbers."""
    if v is None:
        return None
    try:
        return np.array(v, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _bn_forward_run(fn: Callable, args: tuple) -> dict:
    x, gamma, beta, state, training, momentum, eps = args
    state = {k: np.array(v, copy=True) for k, v in state.items()}
    out = fn(x, gamma, beta, state, training, momentum, eps)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return {"problem": tuple_problem(("out", "cache"), out) or "expected (out, cache)"}
    cache = out[1]
    if training:
        if not isinstance(cache, (tuple, list)):
            return {"problem": f"in training mode cache is a {type(cache).__name__}; expected the tuple "
                               "(x, x_hat, mean, var, gamma, eps) the backward pass needs"}
        cache = [_plain(c) for c in cache]
    plain_state = {k: _plain(state.get(k)) for k in ("running_mean", "running_var")}
    return {"out": _plain(out[0]), "cache": cache, "state": plain_state}


def _affine_only(out: Any, gamma: np.ndarray, beta: np.ndarray) -> str | None:
    """out of shape (D,) that is β or γ + β: x̂ never made it into out."""
    for value, what in ((beta, "beta alone"), (gamma + beta, "gamma + beta")):
        if same_values(out, value):
            return (f"out is {what}, one value per feature: x̂ is missing — out = gamma * x_hat + beta has the "
                    "shape of x, (N, D)")
    return None


def _bn_out_problem(case: Case, got: Any) -> str | None:
    x, gamma, beta, state, training, momentum, eps = case.args
    rm, rv = state["running_mean"], state["running_var"]
    if training:
        expected = _bn_train(x, gamma, beta)[0]
    else:
        expected = _bn_eval(x, gamma, beta, rm, rv)
    problem = compare_array("out", got, expected, rtol=1e-6, atol=1e-9)
    mode = "training" if training else "eval"
    if problem and "shape" in problem:
        return _affine_only(got, gamma, beta) or problem
    if not problem or "differs" not in problem:
        return problem
    if not training and same_values(got, _bn_train(x, gamma, beta)[0]):
        return ("in eval mode out uses the batch's own mean and variance: at inference normalise with "
                "bn_state's running averages, so a prediction does not depend on the rest of the batch")
    if training:
        _, _, mean, var = _bn_train(x, gamma, beta)
        updated = (momentum * rm + (1 - momentum) * mean, momentum * rv + (1 - momentum) * var)
    if training and (same_values(got, _bn_eval(x, gamma, beta, rm, rv)) or
                     same_values(got, _bn_eval(x, gamma, beta, *updated))):
        return ("in training mode out uses the running averages: while training normalise with the "
                "batch's mean and variance (the running averages are for eval mode)")
    if training and same_values(got, _bn_train(x, gamma, beta, ddof=1)[0]):
        return ("out uses the unbiased variance (divided by N − 1, ddof=1): batch norm normalises with the "
                "biased variance of the batch, np.var(x, axis=0), dividing by N")
    if training and same_values(got, _bn_train(x, gamma, beta, eps=0.0)[0]):
        return ("out matches a normalisation without ε: add eps inside the square root, "
                "sqrt(var + eps) — the first feature is almost constant, and without ε it is blown up")
    if not training and same_values(got, _bn_eval(x, gamma, beta, rm, rv, eps=0.0)):
        return "out matches eval-mode normalisation without ε: divide by sqrt(running_var + eps)"
    if training and same_values(got, _bn_train(x, gamma, beta, axis=1)[0]):
        return ("out normalises each sample over its features (axis=1): batch norm normalises each "
                "feature over the batch, mean and var over axis=0")
    x_hat = _bn_train(x, gamma, beta)[1] if training else _bn_eval(x, 1.0, 0.0, rm, rv)
    if same_values(got, x_hat):
        return f"out is x̂ alone ({mode} mode): scale and shift it, out = gamma * x_hat + beta"
    if same_values(got, gamma * x_hat):
        return f"out is gamma * x̂ ({mode} mode): the shift beta is missing"
    if same_values(got, x_hat + beta):
        return f"out is x̂ + beta ({mode} mode): the scale gamma is missing"
    slip = _named_slip(got, case.hypotheses)
    return f"{slip} ({mode} mode)" if slip else problem


def _blend_problem(key: str, got: np.ndarray, old: np.ndarray, batch_v: np.ndarray, momentum: float) -> str | None:
    """The weights a, b of got = a · old + b · batch statistic (+ c), when such a blend reproduces
    every element of ``got`` exactly and there are at least two more elements than unknowns."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != old.shape:
        return None
    right = f"expected momentum · running + (1 − momentum) · batch = {momentum:g} · running + {1 - momentum:g} · batch"
    for columns in ((old, batch_v), (old, batch_v, np.ones_like(old))):
        if old.size < len(columns) + 2:
            continue
        A = np.column_stack(columns)
        coef, *_ = np.linalg.lstsq(A, got, rcond=None)
        if not same_values(A @ coef, got, rtol=1e-9, atol=1e-12):
            continue
        a, b = (0.0 if abs(v) < 1e-9 else float(v) for v in coef[:2])
        parts = [f"{a:.4g} · running" if a else "", f"{b:.4g} · batch" if b else ""]
        if len(columns) == 3:
            parts.append(f"{coef[2]:.4g}")
        formula = " + ".join(t for t in parts if t).replace("+ -", "− ") or "0"
        return f"bn_state[{key!r}] = {formula} (a fit that reproduces every element), {right}"
    return None


def _bn_forward_judge(case: Case, got: dict) -> str | None:
    x, gamma, beta, state, training, momentum, eps = case.args
    rm, rv = state["running_mean"], state["running_var"]
    new_m, new_v = got["state"]["running_mean"], got["state"]["running_var"]
    # In eval mode a changed state is the root cause of everything else: name it first.
    if not training and not (same_values(new_m, rm, 0, 0) and same_values(new_v, rv, 0, 0)):
        return ("eval mode changed bn_state's running averages: only training updates them — at "
                "inference a test batch must not leak into the statistics")
    problem = _bn_out_problem(case, got["out"])
    if problem or not training:
        return problem
    _, _, mean, var = _bn_train(x, gamma, beta)
    exp_m, exp_v = momentum * rm + (1 - momentum) * mean, momentum * rv + (1 - momentum) * var
    if same_values(new_m, rm, 0, 0) and same_values(new_v, rv, 0, 0):
        return ("bn_state was not updated in training mode: set bn_state['running_mean'] and "
                "bn_state['running_var'] (in the dict you were given) to the new running averages")
    for key, got_v, exp, old, batch_v in (("running_mean", new_m, exp_m, rm, mean),
                                          ("running_var", new_v, exp_v, rv, var)):
        p = compare_array(f"bn_state[{key!r}]", got_v, exp, rtol=1e-6, atol=1e-9)
        if not p:
            continue
        if same_values(got_v, (1 - momentum) * old + momentum * batch_v):
            return (f"bn_state[{key!r}]: the weights are swapped — running = momentum · running + "
                    "(1 − momentum) · batch statistic (momentum is the weight of the old average)")
        if same_values(got_v, batch_v):
            return f"bn_state[{key!r}] was replaced by the batch statistic: blend it, momentum · running + (1 − momentum) · batch"
        if key == "running_var" and same_values(got_v, momentum * old + (1 - momentum) * x.var(axis=0, ddof=1)):
            return ("bn_state['running_var'] averages the unbiased variance (ddof=1): this chapter keeps the "
                    "biased one, the variance out was normalised with")
        if same_values(got_v, old, 0, 0):
            return (f"bn_state[{key!r}] was not updated in training mode: set it to momentum · running + "
                    "(1 − momentum) · batch statistic")
        return _blend_problem(key, got_v, old, batch_v, momentum) or p
    cache = got["cache"]
    if len(cache) != 6:
        return f"cache has {len(cache)} items, expected 6: (x, x_hat, mean, var, gamma, eps)"
    x_hat = _bn_train(x, gamma, beta)[1]
    for i, (name, exp) in enumerate(zip(("x", "x_hat", "mean", "var", "gamma", "eps"),
                                        (x, x_hat, mean, var, gamma, np.float64(eps)))):
        p = compare_array(f"cache[{i}] ({name})", cache[i], exp, rtol=1e-6, atol=1e-9)
        if p:
            return p + " — the cache is (x, x_hat, mean, var, gamma, eps)"
    return None


@grader_side
def _bn_forward_hypotheses(x, gamma, beta, state, training, momentum, eps) -> dict:
    if training:
        return _slip_variants(x, gamma, beta, x.mean(axis=0), x.var(axis=0), eps, 0, "feature")
    return _slip_variants(x, gamma, beta, state["running_mean"], state["running_var"], eps, None, "feature")


define(name="batchnorm_forward",
       description="training mode normalises with the batch's (biased) statistics and updates the running "
                   "averages; eval mode uses them and changes nothing",
       cases=_bn_forward_cases, hypotheses=_bn_forward_hypotheses, run=_bn_forward_run, judge=_bn_forward_judge)


# --------------------------------------------------------------------------------------
# batchnorm_backward_graph / batchnorm_backward
# --------------------------------------------------------------------------------------

def _backward_cases(axis: int) -> Callable[[np.random.Generator], list[Case]]:
    def cases(rng: np.random.Generator) -> list[Case]:
        out = []
        for n, d in ((8, 5), (4, 6)):
            x, gamma, _ = _bn_data(rng, n, d)
            x_hat, mean, var = _normalize(x, axis)
            if axis == 0:
                mean, var = mean.ravel(), var.ravel()
            cache = (x, x_hat, mean, var, gamma, EPS)
            dout = rng.standard_normal((n, d))
            out.append(Case(args=(dout, cache), batch=n, label=f"{n} samples × {d} features"))
        return out
    return cases


def _backward_run(fn: Callable, args: tuple) -> Any:
    dout, cache = args
    before = dout.copy()
    out = fn(dout, tuple(np.array(c, copy=True) if isinstance(c, np.ndarray) else c for c in cache))
    if not np.array_equal(dout, before):  # e.g. `dout *= gamma`: the caller's gradient is gone
        return {"problem": "your backward pass changed dout in place (e.g. dout *= gamma): the caller still needs "
                           "it — compute a new array, dx_hat = dout * gamma"}
    return out


_TERMS = ("the direct term dx̂/σ", "the term through the mean, −mean(dx̂)/σ",
          "the term through the variance, −x̂·mean(dx̂·x̂)/σ")


@grader_side
def _backward_terms(dout: np.ndarray, cache: tuple, axis: int) -> dict:
    """The three terms of the right dx (they sum to it), per-group means, and named one-term variants."""
    x, x_hat, mean, var, gamma, eps = cache
    other = 1 - axis
    dxh = dout * gamma
    inv = 1 / np.sqrt(var + eps)
    m1, m2 = dxh.mean(axis=axis, keepdims=True), (dxh * x_hat).mean(axis=axis, keepdims=True)
    terms = np.stack([dxh * inv, -np.broadcast_to(m1, dxh.shape) * inv, -x_hat * m2 * inv])
    layer = "batch norm" if axis == 0 else "layer norm"
    keep = ", keepdims=True" if axis == 1 else ""
    o1, o2 = dxh.mean(axis=other, keepdims=True), (dxh * x_hat).mean(axis=other, keepdims=True)
    return {"terms": terms, "m1": m1.ravel(), "m2": m2.ravel(), "g_all": dxh.mean(), "gx_all": (dxh * x_hat).mean(),
            f"variant: the term through the mean, mean(dx̂), is taken over axis={other}: in {layer} every mean is "
            f"over axis={axis}{keep}": (dxh - o1 - x_hat * m2) * inv,
            f"variant: the term through the variance, mean(dx̂·x̂), is taken over axis={other}: in {layer} every "
            f"mean is over axis={axis}{keep}": (dxh - m1 - x_hat * o2) * inv,
            "variant: the term through the variance lacks its factor x̂: it is x̂ · mean(dx̂·x̂), one value per "
            "element": (dxh - m1 - m2) * inv,
            "variant: dx is 1 / (the right gradient): a division is upside down — (…) / √(σ² + ε)":
                1 / np.where(terms.sum(axis=0) == 0, np.nan, terms.sum(axis=0)),
            "mean term alone": (-m1 * inv).ravel()}


@grader_side
def _bn_backward_hypotheses(dout: np.ndarray, cache: tuple) -> dict:
    return _backward_terms(dout, cache, 0)


@grader_side
def _ln_backward_hypotheses(dout: np.ndarray, cache: tuple) -> dict:
    return _backward_terms(dout, cache, 1)


def _path_factors(dx: np.ndarray, terms: np.ndarray, axis: int) -> np.ndarray | None:
    """(3, groups) factors k with dx = Σᵢ kᵢ · termᵢ in every group (feature for axis=0, sample for axis=1).

    ``terms`` are the direct term dx̂/σ, the term through the mean −mean(dx̂)/σ and the term through the
    variance −x̂·mean(dx̂·x̂)/σ of the right gradient (k = 1 everywhere). None unless such factors
    reproduce every element of ``dx`` exactly, with at least two more values per group than unknowns.
    """
    dx = np.asarray(dx, dtype=np.float64)
    terms = np.asarray(terms, dtype=np.float64)
    if axis == 1:
        dx, terms = dx.T, terms.transpose(0, 2, 1)
    if dx.shape != terms.shape[1:] or dx.shape[0] < 5 or not np.all(np.isfinite(dx)):
        return None
    k = np.empty((3, dx.shape[1]))
    scale = max(1.0, float(np.max(np.abs(dx))))
    for j in range(dx.shape[1]):
        basis = terms[:, :, j].T
        coef, *_ = np.linalg.lstsq(basis, dx[:, j], rcond=None)
        if np.linalg.matrix_rank(basis) < 3 or not np.allclose(basis @ coef, dx[:, j], rtol=1e-7, atol=1e-10 * scale):
            return None
        k[:, j] = coef
    return k


def _factor_words(k: np.ndarray, n: int, d: int, var: np.ndarray, eps: float) -> str | None:
    """What a per-group factor k (≠ 1) says about a term, or None when no tested reading fits."""
    v = np.asarray(var, dtype=np.float64).ravel()
    with np.errstate(all="ignore"):
        per_group = [(np.sqrt(v + eps), "is missing the factor 1/√(σ² + ε)"),
                     (v + eps, "is multiplied by √(σ² + ε) where it should be divided"),
                     (1 / np.sqrt(v + eps), "is divided by √(σ² + ε) once too often (σ² + ε without the square root?)"),
                     ((v + eps) ** 1.5, "is missing the factor (σ² + ε)^−1.5"),
                     (np.sqrt((v + eps) / v), "divides by √σ², without ε"),
                     ((v + eps) / v, "uses σ² without ε"),
                     (((v + eps) / v) ** 1.5, "uses (σ²)^−1.5, without ε"),
                     (np.sqrt((v + eps) / eps), "divides by √ε: σ² is missing under the square root"),
                     (((v + eps) / eps) ** 1.5, "uses ε^−1.5: σ² is missing from (σ² + ε)^−1.5"),
                     (np.sqrt((v + eps) / np.abs(v - eps)), "divides by √(σ² − ε): ε is subtracted")]
    for value, words in per_group:
        # near 1 (ε against a large σ²) only a tight tolerance tells the candidate from 1; far from 1 the
        # fit of a tiny term is less precise
        tol = 1e-8 if np.allclose(value, 1.0, rtol=1e-4) else 1e-5
        if not np.allclose(value, value[0], rtol=1e-9) and same_values(k, value, rtol=tol, atol=0):
            return words
    if np.allclose(k, k[0], rtol=1e-6, atol=1e-9):
        c = float(k[0])
        if np.isclose(c, 1.0, rtol=1e-6):
            return None  # the rounding of the fit, not a wrong term
        named = {0.0: "is missing", -1.0: "has its sign flipped", 2.0: "is twice what it should be",
                 0.5: "is half what it should be", float(n): f"is {n}× too large (N = {n}): a sum where a mean belongs",
                 1 / n: f"is 1/{n} of what it should be (N = {n}): a mean where a sum belongs",
                 -float(n): f"is −{n}× what it should be: the sign and a sum where a mean belongs"}
        for value, words in named.items():
            if np.isclose(c, value, rtol=1e-6, atol=1e-9):
                return words
        if d != n and np.isclose(c, n / d, rtol=1e-6):
            return f"is {c:.4g}× what it should be: N/D — the mean divides by the {d} features, not the {n} samples"
        return f"is {c:.4g}× what it should be"
    return None


def _term_words(i: int, k: np.ndarray, h: dict, n: int, d: int, var: np.ndarray, eps: float, per: str) -> str | None:
    """What is wrong with term ``i`` (0 direct, 1 mean, 2 variance) whose factor per group is k."""
    words = _factor_words(k, n, d, var, eps)
    if words is not None:
        return words
    m1, m2 = np.asarray(h["m1"], dtype=np.float64), np.asarray(h["m2"], dtype=np.float64)
    if i == 1 and same_values(k * m1, np.full_like(m1, float(h["g_all"]))):
        return f"uses one mean over all entries of dx̂ (no axis): it needs a mean per {per}"
    if i == 2:
        for value, words in ((np.full_like(m2, float(h["gx_all"])),
                              f"uses one mean of dx̂·x̂ over all entries (no axis): it needs a mean per {per}"),
                             (np.ones_like(m2), "is −x̂/σ: the factor mean(dx̂·x̂) is missing"),
                             (m1, "uses mean(dx̂) where mean(dx̂·x̂) belongs")):
            if same_values(k * m2, value):
                return words
    return None


def _paths_problem(k: np.ndarray, h: dict, n: int, d: int, var: np.ndarray, eps: float, per: str) -> str | None:
    """The sentence for the factors of :func:`_path_factors` (None when every term is right)."""
    wrong = []
    for i, name in enumerate(_TERMS):
        if np.allclose(k[i], 1.0, rtol=1e-10, atol=0):
            continue
        words = _term_words(i, k[i], h, n, d, var, eps, per)
        if words is None and np.allclose(k[i], 1.0, rtol=1e-6, atol=0):
            continue  # rounding of the fit, not a wrong term
        wrong.append((i, name, words))
    if not wrong:
        return None
    head = "dx has the three terms of the right gradient (σ = √(σ² + ε), dx̂ = dout·γ), but "
    if len(wrong) == 3 and wrong[0][2] and len({w for _, _, w in wrong}) == 1 and np.allclose(k[0], k[1]) \
            and np.allclose(k[0], k[2]):
        return head + f"every term {wrong[0][2]}"
    parts = [f"{name} {words}" if words else
             f"{name} is off by a different factor in each {per} ({', '.join(f'{v:.3g}' for v in k[i][:3])}, …)"
             for i, name, words in wrong]
    right = [name for i, name in enumerate(_TERMS) if i not in {w[0] for w in wrong}]
    return (head + "; ".join(parts)
            + (f" — {' and '.join(right)} {'is' if len(right) == 1 else 'are'} right" if right else ""))


def _backward_judge(axis: int, layer: str) -> Callable[[Case, Any], str | None]:
    other = 1 - axis

    def judge(case: Case, got: Any) -> str | None:
        dout, (x, x_hat, mean, var, gamma, eps) = case.args
        names = ("dx", "dgamma", "dbeta")
        problem = tuple_problem(names, got)
        if problem:
            return problem + (" — dgamma and dbeta are gradients too (out = γ·x̂ + β)" if
                              isinstance(got, (tuple, list)) and len(got) == 1 else "")
        dx, dgamma, dbeta = got
        exp = _norm_backward(dout, x_hat, gamma, var, eps, axis)
        for name, g in (("dgamma", dgamma), ("dbeta", dbeta)):
            if g is None:
                return f"{name} is None: the γ and β gradients are part of the answer (out = γ·x̂ + β)"
            arr = _plain(g)
            if arr is not None and arr.shape == exp[1].shape and not np.any(arr):
                return f"{name} is all zeros: γ and β are learned, so they need their gradients (out = γ·x̂ + β)"
        for name, g, wrong_axis in (("dbeta", dbeta, dout.sum(axis=1)), ("dgamma", dgamma, (dout * x_hat).sum(axis=1))):
            if same_values(g, wrong_axis) and wrong_axis.shape != exp[1].shape:
                return (f"{name} sums over axis=1, each sample's features: {name[1:]} has one entry per feature, "
                        "so sum over the batch, axis=0")
        p = compare_array("dbeta", dbeta, exp[2], rtol=1e-6, atol=1e-9, batch=case.batch)
        if p:
            return p + " — dbeta = Σ over the batch of dout" if "differs" in p else p
        p = compare_array("dgamma", dgamma, exp[1], rtol=1e-6, atol=1e-9, batch=case.batch)
        if p:
            if same_values(dgamma, exp[2]):
                return "dgamma equals dbeta: γ multiplies x̂, so dgamma = Σ over the batch of dout · x_hat"
            if same_values(dgamma, x_hat.sum(axis=0)):
                return "dgamma = Σ x̂ over the batch: the upstream gradient is missing, dgamma = Σ dout · x_hat"
            return p
        p = compare_array("dx", dx, exp[0], rtol=1e-6, atol=1e-9)
        h = case.hypotheses
        if p and "shape" in p and same_values(dx, h["mean term alone"]):
            return ("dx is only the term through the mean, −mean(dx̂)/σ, one value per "
                    f"{'feature' if axis == 0 else 'sample'}: add it to the gradient of the other paths (dx_mu)")
        if not p or "differs" not in p:
            return p
        variants = [
            (dict(mean_path=False, var_path=False),
             "dx treats the mean and the variance as constants (dx = dout·γ/√(σ²+ε)): both depend on x — "
             "follow the graph's paths through μ and σ² too"),
            (dict(var_path=False), "dx is missing the path through the variance σ² (the term in x̂·mean(dx̂·x̂))"),
            (dict(mean_path=False), "dx is missing the path through the mean μ (the term −mean(dx̂))"),
        ]
        for flags, message in variants:
            if same_values(dx, _norm_backward(dout, x_hat, gamma, var, eps, axis, **flags)[0]):
                return message
        if same_values(dx, _norm_backward(dout, x_hat, np.ones_like(gamma), var, eps, axis)[0]):
            return "dx is missing the factor γ: the gradient reaching x̂ is dout · gamma"
        if x.shape[0] != x.shape[1]:
            if same_values(dx, _norm_backward(dout, x_hat, gamma, var, eps, other)[0]):
                return (f"dx takes its means over axis={other}: in {layer} the statistics are over axis={axis}, "
                        "so the sums in the backward pass are too")
        for key, variant in h.items():
            if key.startswith("variant: ") and same_values(dx, variant):
                return key[len("variant: "):]
        arr = np.asarray(dx, dtype=np.float64)
        rows = arr if axis == 0 else arr.T
        if len(rows) > 1 and np.allclose(rows, rows[0]) and not np.allclose(dout if axis == 0 else dout.T,
                                                                            (dout if axis == 0 else dout.T)[0]):
            per = "row" if axis == 0 else "column"
            return (f"every {per} of dx is the same although dout's {per}s differ: dx does not depend on dout — "
                    "the gradient reaching x̂ is dx̂ = dout · gamma")
        k = _path_factors(arr, h["terms"], axis)
        if k is not None:
            n, d = x.shape if axis == 0 else x.shape[::-1]
            found = _paths_problem(k, h, n, d, var, eps, "feature" if axis == 0 else "sample")
            if found:
                return found
        return p
    return judge


@grader_side
def _bn_ref(dout, cache):
    x, x_hat, mean, var, gamma, eps = cache
    return _norm_backward(dout, x_hat, gamma, var, eps, 0)


for _name, _desc in (("batchnorm_backward_graph", "dx, dgamma, dbeta through the computational graph"),
                     ("batchnorm_backward", "dx, dgamma, dbeta with the simplified formula")):
    define(name=_name, description=_desc,
           cases=_backward_cases(0), hypotheses=_bn_backward_hypotheses, run=_backward_run,
           judge=_backward_judge(0, "batch norm"))


# --------------------------------------------------------------------------------------
# layernorm_forward / layernorm_backward
# --------------------------------------------------------------------------------------

def _ln_forward_cases(rng: np.random.Generator) -> list[Case]:
    out = []
    for n, d in ((5, 8), (6, 4)):
        x = rng.standard_normal((n, d)) * np.exp(rng.uniform(-1, 1.5, (n, 1))) + rng.uniform(-3, 3, (n, 1))
        x[0] = x[0, 0] + 2e-3 * rng.standard_normal(d)  # a nearly constant sample: ε matters
        gamma, beta = rng.uniform(0.5, 2, d) * rng.choice([-1, 1], d), rng.standard_normal(d)
        out.append(Case(args=(x, gamma, beta, EPS), batch=n, label=f"{n} samples × {d} features"))
    return out


def _ln_forward_run(fn: Callable, args: tuple) -> dict:
    out = fn(*args)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return {"problem": tuple_problem(("out", "cache"), out) or "expected (out, cache)"}
    cache = out[1]
    if not isinstance(cache, (tuple, list)):
        return {"problem": f"cache is a {type(cache).__name__}; expected the tuple (x, x_hat, mean, var, gamma, eps)"}
    return {"out": _plain(out[0]), "cache": [_plain(c) for c in cache]}


def _ln_forward_judge(case: Case, got: dict) -> str | None:
    x, gamma, beta, eps = case.args
    out = got["out"]
    expected, x_hat, mean, var = _bn_train(x, gamma, beta, axis=1)
    problem = compare_array("out", out, expected, rtol=1e-6, atol=1e-9)
    if problem and "shape" in problem:
        return _affine_only(out, gamma, beta) or problem
    if problem and "differs" in problem:
        if same_values(out, _bn_train(x, gamma, beta, axis=0)[0]):
            return ("out normalises each feature over the batch (axis=0) — that is batch norm: layer norm "
                    "normalises each sample over its features, mean and var over axis=1 (keepdims=True)")
        if same_values(out, _bn_train(x, gamma, beta, axis=1, ddof=1)[0]):
            return "out uses the unbiased variance (ddof=1): layer norm uses the biased one, np.var(..., axis=1)"
        if same_values(out, _bn_train(x, gamma, beta, axis=1, eps=0.0)[0]):
            return "out matches a normalisation without ε: use sqrt(var + eps) — the first sample is almost constant"
        if same_values(out, x_hat):
            return "out is x̂ alone: scale and shift it, out = gamma * x_hat + beta"
        if same_values(out, gamma * x_hat):
            return "out is gamma * x̂: the shift beta is missing"
        if same_values(out, x_hat + beta):
            return "out is x̂ + beta: the scale gamma is missing"
        slip = _named_slip(out, case.hypotheses)
        if slip:
            return slip
    if problem:
        return problem
    cache = got["cache"]
    if len(cache) != 6:
        return f"cache has {len(cache)} items, expected 6: (x, x_hat, mean, var, gamma, eps)"
    for i, (name, exp) in enumerate(zip(("x", "x_hat", "mean", "var", "gamma", "eps"),
                                        (x, x_hat, mean.reshape(-1, 1), var.reshape(-1, 1), gamma, np.float64(eps)))):
        p = compare_array(f"cache[{i}] ({name})", cache[i], exp, rtol=1e-6, atol=1e-9)
        if p:
            return p + " — the cache is (x, x_hat, mean (N, 1), var (N, 1), gamma, eps)"
    return None


@grader_side
def _ln_forward_hypotheses(x, gamma, beta, eps) -> dict:
    return _slip_variants(x, gamma, beta, x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True), eps, 1,
                          "sample")


define(name="layernorm_forward",
       description="each sample normalised over its features (biased variance, ε), then γ·x̂ + β",
       cases=_ln_forward_cases, hypotheses=_ln_forward_hypotheses, run=_ln_forward_run, judge=_ln_forward_judge)

define(name="layernorm_backward",
       description="dx, dgamma, dbeta of layer norm (means over each sample's features)",
       cases=_backward_cases(1), hypotheses=_ln_backward_hypotheses, run=_backward_run,
       judge=_backward_judge(1, "layer norm"))


# --------------------------------------------------------------------------------------
# Questions with checked answers (predictions before the experiment)
# --------------------------------------------------------------------------------------

number("answer_batch_of_two", answer=1.0, rtol=0.05,
       explain="the two values sit ±d from their mean, and their biased variance is d², so each normalised "
               "value is ±d / d = ±1 whatever the data: a batch of two carries no information about scale.",
       wrong={0.7071: "±1/√2 is what the unbiased variance (dividing by N − 1 = 1) gives; batch norm divides "
                      "by N = 2, so the variance is d².",
              0.0: "subtracting the mean does not leave 0: each of the two values is d away from their mean.",
              2.0: "2d is the gap between the two values, but each is only d from the mean, and σ = d."})

choice("answer_depth_half_he", answer="c",
       explain="each ReLU layer multiplies the activations' scale by about c (He initialisation, c = 1, keeps "
               "it); with c = 0.5 nine layers later the scale is 0.5⁹ ≈ 0.002 of layer 1's — the experiment "
               "measures less than 0.01.",
       wrong={"a": "staying the same is He initialisation (c = 1); with half its scale every layer halves the "
                   "signal.",
              "b": "the factor 0.5 is applied at every layer, not once: it compounds over the nine layers.",
              "d": "weights smaller than He shrink the activations; it is c > 1 that makes them grow."})
