"""Checks for chapter 07 (regularisation and initialisation).

Exercises: ``l2_penalty`` (the weight-decay penalty and its gradient over a model's
parameter dict), ``dropout_forward`` / ``dropout_backward`` (inverted dropout with train and
eval modes) and ``initialize_weights`` (small / large / Glorot / He).

Dropout is random, so the checks pass either a fixed keep-mask (the output is then
deterministic and compared element by element) or a seed; with a seed the run builds a
``numpy.random.Generator`` in the student's process and the judge tests what must hold for
*any* correct mask: the kept fraction is about 1 - p, kept units are scaled by 1/(1-p),
dropped ones are 0, and the returned mask is the one used. When a result is wrong, the
judge compares it with the classic mistakes (no 1/(1-p) scaling, dividing by p, the
mask's meaning inverted, dropout left on at evaluation time, …) to name the symptom.
"""
from __future__ import annotations

import copy
import functools
import re
from typing import Any, Callable

import numpy as np

from .compare import compare_array
from .core import Case, define, describe_exception, grader_side
from .helpers import same_values
from .questions import choice, number


_close = functools.partial(same_values, rtol=1e-5, atol=1e-8)


def _is_number(v: Any) -> bool:
    try:
        return np.asarray(v, dtype=float).shape == ()
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------------
# L2 weight decay: penalty = (λ/2) Σ_W ||W||², gradient λW for weights, 0 for biases
# --------------------------------------------------------------------------------------

def _is_weight(name: str) -> bool:
    return name.endswith("W")


@grader_side
def _l2_ref(params: dict, lam: float) -> tuple[float, dict]:
    penalty = 0.5 * lam * sum(float(np.sum(p.astype(np.float64) ** 2)) for k, p in params.items() if _is_weight(k))
    grads = {k: (lam * p if _is_weight(k) else np.zeros_like(p)) for k, p in params.items()}
    return penalty, grads


@grader_side
def _l2_params(rng: np.random.Generator, sizes: tuple[int, ...], dtype: Any = np.float64) -> dict:
    params = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        params[f"{2 * i}.W"] = rng.standard_normal((a, b)).astype(dtype)
        params[f"{2 * i}.b"] = rng.standard_normal(b).astype(dtype)  # non-zero: decayed biases show
    return params


@grader_side
def _l2_cases(rng: np.random.Generator) -> list[Case]:
    lam1, lam2 = float(rng.choice([0.1, 0.03, 0.2])), float(rng.choice([1e-3, 5e-3, 0.05]))
    return [Case(args=(_l2_params(rng, (4, 5, 3)), lam1), label=f"two Dense layers 4→5→3, λ={lam1}"),
            Case(args=(_l2_params(rng, (6, 8, 8, 2)), lam2), label=f"three Dense layers 6→8→8→2, λ={lam2}")]


def _l2_run(fn: Callable, args: tuple) -> Any:
    params, lam = args
    out = fn(copy.deepcopy(params), lam)  # a dict is not copied by the framework
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict):
        return (out[0], {k: np.asarray(v) for k, v in out[1].items()})
    return out


def _l2_judge(case: Case, output: Any) -> str | None:
    params, lam = case.args
    penalty_exp, grads_exp = case.expected
    if output is None:
        return "returned None — expected (penalty, grads); did you forget `return`?"
    if not isinstance(output, (tuple, list)) or len(output) != 2:
        return "expected two values: (penalty, grads) — the number and the dict of gradients"
    penalty, grads = output
    if not _is_number(penalty):
        return (f"penalty is a {type(penalty).__name__}, expected one number "
                "(sum the squared weights of all layers into a single float)")
    penalty = float(np.asarray(penalty, dtype=float))
    if not np.isclose(penalty, penalty_exp, rtol=1e-6, atol=1e-12):
        all_sq = 0.5 * lam * sum(float(np.sum(p ** 2)) for p in params.values())
        if np.isclose(penalty, all_sq, rtol=1e-6):
            return ("penalty includes the biases: weight decay penalises only the weights "
                    "(parameters whose name ends in 'W'), not the biases")
        if np.isclose(penalty, 2 * penalty_exp, rtol=1e-6):
            return ("penalty is twice the expected value: the convention is (λ/2)·Σ W², "
                    "so that its gradient is exactly λ·W")
        if lam != 1 and (np.isclose(penalty, penalty_exp / lam, rtol=1e-6)
                         or np.isclose(penalty, 2 * penalty_exp / lam, rtol=1e-6)):
            return "penalty is not multiplied by λ (lam): the penalty is (λ/2)·Σ W²"
        weights = [p.astype(np.float64) for k, p in params.items() if _is_weight(k)]
        norms = 0.5 * lam * sum(float(np.linalg.norm(p)) for p in weights)
        if np.isclose(penalty, norms, rtol=1e-6):
            return "penalty uses the norm ||W|| instead of its square ||W||² = Σ W²"
        if np.isclose(penalty, 0.5 * lam * sum(float(np.mean(p ** 2)) for p in weights), rtol=1e-6):
            return ("penalty is (λ/2)·Σ mean(W²): it averages the squared weights of each layer; the "
                    "penalty sums them, (λ/2)·Σ W²")
        if np.isclose(penalty, 0.5 * lam * sum(float(np.sum(p)) for p in weights), rtol=1e-6):
            return "penalty sums the weights W, not their squares W²: (λ/2)·Σ W²"
        if np.isclose(penalty, penalty_exp + 1.0, rtol=1e-9, atol=1e-12):
            return ("penalty is exactly 1 more than (λ/2)·Σ W²: the running sum starts at 1 instead of 0")
        if penalty == 0.0:
            return ("penalty is 0, but the weights are not all 0: (λ/2)·Σ W² is positive here — is every "
                    "layer's term added to the total?")
        if np.isclose(penalty, 0.5 * lam * len(weights), rtol=1e-9):
            return (f"penalty is (λ/2)·{len(weights)}, one λ/2 per weight matrix: the squared weights "
                    "Σ W² are missing from each term")
        return compare_array("penalty", penalty, np.float64(penalty_exp), 1e-6, 1e-12)
    if not isinstance(grads, dict):
        return (f"grads is a {type(grads).__name__}, expected a dict with one gradient per "
                f"parameter, keyed like params ({', '.join(params)})")
    missing = [k for k in params if k not in grads]
    if missing:
        return (f"grads has no entry for {', '.join(map(repr, missing))}: return a gradient for "
                "every parameter (zeros for the biases) so it can be added to the data gradients")
    for k, p in params.items():
        g = grads[k]
        if not _is_weight(k) and _close(g, lam * p, rtol=1e-6):
            return (f"grads[{k!r}] decays the bias: weight decay applies only to weights "
                    "(names ending in 'W'); a bias's penalty gradient is 0")
        if _is_weight(k) and _close(g, p, rtol=1e-6) and lam != 1:
            return f"grads[{k!r}] equals W: multiply by λ (lam) — the gradient of (λ/2)·Σ W² is λ·W"
        if _is_weight(k) and np.shape(g) == () and _close(g, lam):
            return f"grads[{k!r}] is λ alone ({lam:g}), one number: the gradient of (λ/2)·Σ W² is the array λ·W"
        problem = compare_array(f"grads[{k!r}]", g, grads_exp[k], 1e-6, 1e-12)
        if problem:
            return problem
    return None


define(name="l2_penalty", description="penalty (λ/2)·Σ W² over the weights and its gradient λ·W (0 for biases)",
       cases=_l2_cases, reference=_l2_ref, run=_l2_run, judge=_l2_judge)


# --------------------------------------------------------------------------------------
# Inverted dropout
# --------------------------------------------------------------------------------------

@grader_side
def _dropout_forward_ref(x: np.ndarray, p: float, training: bool, mask_or_seed: Any) -> Any:
    if not training or p == 0:
        return x, None
    mask = mask_or_seed if isinstance(mask_or_seed, np.ndarray) else \
        np.random.default_rng(mask_or_seed).random(x.shape) >= p
    return x * mask / x.dtype.type(1 - p), mask


def _dropout_forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    # 1. training with a given keep-mask: deterministic
    p = float(rng.choice([0.3, 0.4, 0.25]))
    x = rng.standard_normal((4, 6))
    mask = rng.random(x.shape) >= p
    mask[0, 0], mask[0, 1] = True, False  # at least one kept and one dropped
    cases.append(Case(args=(x, p, True, mask), label=f"training mode with a given mask, p={p}"))
    # 2. evaluation mode: the identity
    p2 = float(rng.choice([0.3, 0.2, 0.4]))
    cases.append(Case(args=(rng.standard_normal((3, 5)), p2, False, int(rng.integers(2**31))),
                      label=f"evaluation mode (training=False), p={p2}"))
    # 3. float32 stays float32
    p3 = float(rng.choice([0.2, 0.1, 0.3]))
    x3 = rng.standard_normal((5, 4)).astype(np.float32)
    m3 = rng.random(x3.shape) >= p3
    m3[0, 0], m3[0, 1] = True, False
    cases.append(Case(args=(x3, p3, True, m3), label=f"float32 input with a given mask, p={p3}"))
    # 4. training with a seeded Generator: statistics only (any correct way of drawing passes)
    p4 = float(rng.choice([0.3, 0.35, 0.25]))
    x4 = rng.uniform(0.5, 1.5, size=(200, 100))
    cases.append(Case(args=(x4, p4, True, int(rng.integers(2**31))),
                      label=f"training mode with a seeded Generator, p={p4}, x of shape (200, 100)"))
    return cases


def _dropout_forward_run(fn: Callable, args: tuple) -> Any:
    x, p, training, m = args
    rng_or_mask = m if isinstance(m, np.ndarray) else np.random.default_rng(m)
    original = x.copy()
    out = fn(x, p, training, rng_or_mask)
    if not np.array_equal(x, original):
        return {"problem": "changed your input `x` in place (e.g. `x *= mask`): compute the output into a new "
                           "array — the layer's input is still needed (and cached) for the backward pass"}
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return (np.asarray(out[0]) if out[0] is not None else None,
                None if out[1] is None else np.asarray(out[1]))
    return out


def _scaling_problem(name: str, got: np.ndarray, x: np.ndarray, mask: np.ndarray, p: float,
                     what: str = "x") -> str | None:
    """The symptom when ``got`` is one of the classic wrong scalings of x·mask/(1-p)."""
    q = 1 - p
    variants = [
        (x * mask, f"{name} is not scaled: inverted dropout divides the kept values by the keep "
                   f"probability 1-p = {q:g}, so that the expected value of {name} equals {what}"),
        (x * mask / p, f"{name} is divided by p = {p:g}: divide by the keep probability 1-p = {q:g}"),
        (x * mask * q, f"{name} is multiplied by 1-p: that is the old test-time scaling; "
                       f"inverted dropout *divides* by 1-p = {q:g} while training"),
        (x * ~mask / q, f"{name} keeps the wrong units: the mask marks the units to keep "
                        "(True = kept), so multiply by it, not by its negation"),
        (x / q, f"{name} drops nothing: multiply by the mask (dropped units must be exactly 0)"),
        (x, f"{name} is {what} unchanged: in training mode, zero the dropped units and scale the "
            f"kept ones by 1/(1-p)"),
        (mask / q, f"{name} is mask / (1-p) = mask / {q:g}, without {what}: multiply {what} by the mask "
                   "and scale it"),
    ]
    for value, message in variants:
        if _close(got, value):
            return message
    return None


def _as_bool_mask(mask: Any) -> np.ndarray | None:
    try:
        m = np.asarray(mask)
    except Exception:
        return None
    if m.dtype == bool:
        return m
    if np.issubdtype(m.dtype, np.number) and np.all(np.isin(m, (0, 1))):
        return m.astype(bool)
    return None


def _mask_problem(mask: Any, keep: np.ndarray, p: float, drawn: bool) -> str | None:
    """The symptom when the returned ``mask`` is not the boolean keep-mask ``keep`` (same shape as x).

    ``drawn``: the function drew the mask from a Generator (True) or was given it (False).
    """
    if mask is None:
        return (f"mask is None in training mode: return the keep-mask you {'drew' if drawn else 'used'} "
                "(dropout_backward needs it)")
    bm = _as_bool_mask(mask)
    if bm is None:
        if _close(mask, keep / (1 - p)):
            return ("mask is already divided by 1-p: return the keep-mask itself (True where a "
                    "unit is kept); dropout_backward does the scaling")
        return "mask should be the boolean keep-mask (True where a unit is kept)"
    if bm.shape != keep.shape or not np.array_equal(bm, keep):
        if drawn:
            return "the returned mask is not the one applied to x (True exactly where out is kept)"
        return "mask is not the mask you were given: when rng_or_mask is an array, use it as the keep-mask"
    return None


def _dropout_forward_judge(case: Case, output: Any) -> str | None:
    x, p, training, m = case.args
    if output is None:
        return "returned None — expected (out, mask); did you forget `return`?"
    if not isinstance(output, (tuple, list)) or len(output) != 2:
        return "expected two values: (out, mask) — the output and the keep-mask (None in evaluation mode)"
    out, mask = output
    if out is None:
        return "out is None — return the output array first: (out, mask)"
    out = np.asarray(out)
    if out.shape != x.shape:
        return compare_array("out", out, x)

    if not training:  # evaluation: identity, nothing dropped, nothing scaled
        if _close(out, x * (1 - p)):
            return ("in evaluation mode (training=False) out is multiplied by 1-p: with inverted "
                    "dropout the scaling already happened during training, so evaluation is the identity")
        if not _close(out, x):
            return ("in evaluation mode (training=False) dropout must do nothing: return x unchanged "
                    "(no mask, no scaling)")
        if mask is not None:
            bm = _as_bool_mask(mask)
            if bm is None or not bm.all():
                return "in evaluation mode return mask=None (no unit was dropped)"
        return None

    if isinstance(m, np.ndarray):  # a given mask: exact comparison
        if not np.allclose(out, x * m / (1 - p), rtol=1e-5, atol=1e-7):
            problem = _scaling_problem("out", out, x, m, p)
            if problem:
                return problem
            return compare_array("out", out, case.expected[0], 1e-5, 1e-7)
        if x.dtype == np.float32 and out.dtype != np.float32:
            return (f"out has dtype {out.dtype}, expected float32 — keep the dtype of the input "
                    "(a boolean mask divided by (1-p) is float64; scale x instead, or cast with x.dtype)")
        return _mask_problem(mask, m, p, drawn=False)

    # a seeded Generator: what holds for any correct random mask
    q = 1 - p
    kept = out != 0
    frac = float(kept.mean())
    if abs(frac - q) > 0.02:
        if abs(frac - p) <= 0.02:
            return (f"keeps {frac:.0%} of the units, expected about {q:.0%}: p is the probability of "
                    "*dropping* a unit (keep where rng.random(x.shape) >= p)")
        if frac == 1.0:
            return "no unit was dropped in training mode: zero each unit with probability p"
        return f"keeps {frac:.1%} of the units, expected about {q:.0%} (= 1-p with p={p:g})"
    if not np.allclose(out[kept], x[kept] / q, rtol=1e-5):
        problem = _scaling_problem("out", out, x, kept, p)
        if problem:
            return problem
        return f"the kept values should be x / (1-p) = x / {q:g}; yours differ"
    rows_same = bool(np.all(kept == kept[0]))
    if rows_same:
        return ("the same units are dropped in every row: draw an independent mask for every "
                "element, with shape x.shape")
    return _mask_problem(mask, kept, p, drawn=True)


define(name="dropout_forward", description="inverted dropout: zero with probability p and scale by 1/(1-p) while training, "
                   "identity in evaluation mode; the keep-mask is returned",
       cases=_dropout_forward_cases, reference=_dropout_forward_ref, run=_dropout_forward_run,
       judge=_dropout_forward_judge)


@grader_side
def _dropout_backward_ref(dout: np.ndarray, mask: np.ndarray, p: float) -> np.ndarray:
    return dout * mask / dout.dtype.type(1 - p)


def _dropout_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for shape, p, dtype in (((4, 6), float(rng.choice([0.3, 0.4, 0.25])), np.float64),
                            ((6, 5), float(rng.choice([0.2, 0.1, 0.3])), np.float32)):
        dout = rng.standard_normal(shape).astype(dtype)
        mask = rng.random(shape) >= p
        mask[0, 0], mask[0, 1] = True, False
        name = np.dtype(dtype).name
        cases.append(Case(args=(dout, mask, p), batch=shape[0], label=f"{name} upstream gradient {shape}, p={p}"))
    return cases


def _dropout_backward_judge(case: Case, output: Any) -> str | None:
    dout, mask, p = case.args
    if output is None:
        return "returned None — did you forget `return`?"
    got = np.asarray(output)
    if got.shape == dout.shape and not np.allclose(got, case.expected, rtol=1e-5, atol=1e-7):
        problem = _scaling_problem("dx", got, dout, mask, p, what="dout")
        if problem:
            if "drops nothing" in problem:
                return ("dx lets the gradient through dropped units: multiply by the mask — a dropped "
                        "unit did not affect the output, so its gradient is 0")
            return problem
    problem = compare_array("dx", got, case.expected, 1e-5, 1e-7, case.batch)
    if problem:
        return problem
    if dout.dtype == np.float32 and got.dtype != np.float32:
        return (f"dx has dtype {got.dtype}, expected float32 — keep the dtype of dout "
                "(a boolean mask divided by (1-p) is float64)")
    return None


define(name="dropout_backward", description="dx = dout · mask / (1-p): the gradient flows only through the kept units, scaled like the forward pass",
       cases=_dropout_backward_cases, reference=_dropout_backward_ref, judge=_dropout_backward_judge)


# --------------------------------------------------------------------------------------
# Weight initialisation
# --------------------------------------------------------------------------------------

SCHEMES = {
    "small": ("0.01", lambda fi, fo: 0.01),
    "large": ("1", lambda fi, fo: 1.0),
    "glorot": ("sqrt(2 / (fan_in + fan_out))", lambda fi, fo: float(np.sqrt(2.0 / (fi + fo)))),
    "he": ("sqrt(2 / fan_in)", lambda fi, fo: float(np.sqrt(2.0 / fi))),
}


def _init_ref(fan_in: int, fan_out: int, scheme: str, seed: int) -> np.ndarray:
    std = SCHEMES[scheme][1](fan_in, fan_out)
    return np.random.default_rng(seed).standard_normal((fan_in, fan_out)) * std


def _init_cases(rng: np.random.Generator) -> list[Case]:
    shapes = {"small": (300, 200), "large": (250, 200), "glorot": (400, 100), "he": (500, 120)}
    cases = []
    for scheme, (fi, fo) in shapes.items():
        fi += int(rng.integers(0, 20))
        fo += int(rng.integers(0, 20))
        cases.append(Case(args=(fi, fo, scheme, int(rng.integers(2**31))),
                          label=f"scheme={scheme!r}, fan_in={fi}, fan_out={fo}"))
    unknown = str(rng.choice(["uniform", "xavier_uniform", "lecun"]))
    cases.append(Case(args=(30, 20, unknown, int(rng.integers(2**31))), expected="ValueError",
                      label=f"an unknown scheme {unknown!r}"))
    return cases


def _init_run(fn: Callable, args: tuple) -> Any:
    fan_in, fan_out, scheme, seed = args
    if scheme not in SCHEMES:  # must raise ValueError: report which exception, as plain data
        try:
            out = fn(fan_in, fan_out, scheme, np.random.default_rng(seed))
        except NotImplementedError:
            raise
        except ValueError as exc:
            return {"raised": "ValueError", "message": str(exc)}
        except Exception as exc:  # noqa: BLE001 — the wrong exception is the symptom
            return {"raised": "other", "message": describe_exception(exc)}
        return {"raised": None, "message": "None" if out is None else f"an array of shape {np.shape(out)}"}
    out = fn(fan_in, fan_out, scheme, np.random.default_rng(seed))
    return None if out is None else np.asarray(out)


def _init_judge(case: Case, output: Any) -> str | None:
    fan_in, fan_out, scheme, seed = case.args
    expected = case.expected
    if isinstance(expected, str):  # an unknown scheme
        if output["raised"] == "ValueError":
            named = sum(bool(re.search(rf"\b{s}\b", output["message"])) for s in SCHEMES)
            return None if named >= 3 else \
                "raise the ValueError with a message that lists the valid schemes ('small', 'large', 'glorot', 'he')"
        if output["raised"] == "other":
            return (f"for the unknown scheme {scheme!r} it raised {output['message']}; raise a ValueError "
                    "that lists the valid schemes instead")
        return (f"for the unknown scheme {scheme!r} it returned {output['message']}; raise a ValueError "
                "that lists the valid schemes")
    if output is None:
        return f"returned None for scheme {scheme!r} — did you forget `return` (or this scheme)?"
    got = np.asarray(output)
    if got.shape == () and np.issubdtype(got.dtype, np.number) \
            and np.isclose(float(got), SCHEMES[scheme][1](fan_in, fan_out), rtol=1e-9):
        return (f"W is a single number, the standard deviation {float(got):.4g} of scheme {scheme!r} itself: "
                "multiply it by a (fan_in, fan_out) array rng.standard_normal((fan_in, fan_out))")
    if got.shape != expected.shape or got.dtype == object or not np.issubdtype(got.dtype, np.number):
        return compare_array("W", got, expected)
    if np.allclose(got, expected, rtol=1e-6, atol=1e-12):
        return None
    formula, std_fn = SCHEMES[scheme]
    target, s = std_fn(fan_in, fan_out), float(np.std(got))
    if abs(s - target) <= 0.03 * target:
        if abs(float(np.mean(got))) > 0.1 * target:
            return f"{scheme!r} weights are not centred at 0 (mean {np.mean(got):.3g})"
        return (f"the standard deviation is right ({s:.4g}) but the numbers differ from "
                "rng.standard_normal((fan_in, fan_out)) * std — draw once, with the Generator "
                "you were given, in that shape")
    hint = ""
    if np.isclose(s, target ** 2, rtol=0.03):
        hint = " — did you multiply by the variance instead of the standard deviation (its square root)?"
    elif scheme == "he" and np.isclose(s, np.sqrt(1 / fan_in), rtol=0.03):
        hint = " — that is sqrt(1 / fan_in); He initialisation doubles the variance for ReLU: sqrt(2 / fan_in)"
    elif scheme == "he" and np.isclose(s, np.sqrt(2 / fan_out), rtol=0.03):
        hint = " — that uses fan_out; He initialisation divides by fan_in, the number of inputs of a unit"
    elif scheme == "glorot" and np.isclose(s, np.sqrt(2 / fan_in), rtol=0.03):
        hint = " — that is He's formula; Glorot averages fan_in and fan_out: sqrt(2 / (fan_in + fan_out))"
    elif scheme == "glorot" and np.isclose(s, np.sqrt(1 / (fan_in + fan_out)), rtol=0.03):
        hint = " — the numerator is 2: sqrt(2 / (fan_in + fan_out))"
    where = "" if scheme in ("small", "large") else f" (= {formula} with fan_in={fan_in}, fan_out={fan_out})"
    return f"{scheme!r} weights have standard deviation {s:.4g}, expected {target:.4g}{where}{hint}"


define(name="initialize_weights", description="W (fan_in, fan_out) = std · standard normal, with std for 'small', 'large', 'glorot' "
                   "and 'he'; an unknown scheme raises ValueError",
       cases=_init_cases, reference=_init_ref, run=_init_run, judge=_init_judge)


# --------------------------------------------------------------------------------------
# Questions: predictions made before the experiment (mlcourse.checks.questions)
# --------------------------------------------------------------------------------------

number("answer_dropout_test_scale", answer=0.8, rtol=0.02,
       explain="in training a unit is kept with probability 1 − p = 0.8, so the next layer sees 0.8·x on "
               "average; at test time every unit is on, so multiply by 0.8 to match. (Inverted dropout "
               "divides by 0.8 during training instead, and does nothing at test time.)",
       wrong={0.2: "0.2 = p is the probability of dropping a unit; the expected fraction that survives is 1 − p.",
              1.25: "1/(1 − p) = 1.25 is inverted dropout's factor, applied during *training*; here training "
                    "does not rescale, so the test activations must shrink to match, not grow.",
              1.0: "without rescaling, test activations would be 1/0.8 = 1.25 times what the next layer saw "
                   "during training."})

choice("answer_more_data", answer="d",
       explain="five times more images carry information no regulariser can create: it ends several points "
               "above every regularised run on 500 images (the table below).",
       wrong={"a": "L2 stops the validation loss from climbing, but on 500 images it gains little accuracy; "
                   "more data gains several points.",
              "b": "dropout is the best of the regularisers here, about 1.5 points over none — a fraction of "
                   "what 2 500 images give.",
              "c": "the two regularisers together keep the loss low, but they cannot add the information "
                   "that 2 000 more images contain."})


# --------------------------------------------------------------------------------------
# augment_shift: data augmentation by random shifts (graded in the "extensions" item)
# --------------------------------------------------------------------------------------

def _shift(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """img (28, 28) moved down by dy and right by dx, zeros where nothing moved in."""
    out = np.zeros_like(img)
    h, w = img.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = img[max(-dy, 0):h - max(dy, 0),
                                                                   max(-dx, 0):w - max(dx, 0)]
    return out


def _augment_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    # Enough images that every shift from −max_shift to +max_shift turns up: a range that never
    # reaches +max_shift (rng.integers' exclusive high) is then told apart from bad luck.
    for n, m, dtype in [(120, 2, np.float32), (100, 3, np.float64)]:
        X = np.zeros((n, 28, 28), dtype=dtype)
        X[:, 6:22, 6:22] = rng.random((n, 16, 16)) * (rng.random((n, 16, 16)) < 0.5)  # strokes inside a margin
        cases.append(Case(args=(X.reshape(n, 784), m, int(rng.integers(0, 10_000))),
                          label=f"{n} images, max_shift={m}, {np.dtype(dtype).name}"))
    return cases


def _augment_run(fn: Callable, args: tuple) -> Any:
    X, max_shift, seed = args
    original = X.copy()
    out = fn(X, max_shift, np.random.default_rng(seed))
    again = fn(original.copy(), max_shift, np.random.default_rng(seed))
    return {"out": np.asarray(out), "again": np.asarray(again), "changed_input": not np.array_equal(X, original)}


def _augment_judge(case: Case, got: dict) -> str | None:
    X, m, _ = case.args
    out = got["out"]
    if got["changed_input"]:
        return "X was modified in place: return new, shifted images and leave the originals untouched"
    if out.shape != X.shape:
        return f"the augmented images have shape {out.shape}, expected {X.shape} (one row of 784 pixels per image)"
    if out.dtype != X.dtype:
        return f"the augmented images have dtype {out.dtype}, expected {X.dtype} (the input's)"
    imgs, outs = X.reshape(-1, 28, 28), out.reshape(-1, 28, 28)
    shifts = []
    for k, (img, o) in enumerate(zip(imgs, outs)):
        found = [(dy, dx) for dy in range(-m, m + 1) for dx in range(-m, m + 1) if np.array_equal(_shift(img, dy, dx), o)]
        if found:
            shifts.append(found[0])
            continue
        if any(np.array_equal(np.roll(img, (dy, dx), axis=(0, 1)), o) for dy in range(-m - 1, m + 2)
               for dx in range(-m - 1, m + 2)) and np.abs(o).sum() > 0:
            wide = [(dy, dx) for dy in range(-m - 1, m + 2) for dx in range(-m - 1, m + 2)
                    if np.array_equal(_shift(img, dy, dx), o)]
            if wide:
                return (f"image {k} is shifted by {wide[0]}, outside ±{m}: draw shifts from "
                        f"−max_shift to +max_shift inclusive")
        if any(np.array_equal(_shift(img, dy, dx), o) for dy in range(-28, 29) for dx in range(-28, 29)):
            return f"image {k} is shifted by more than max_shift = {m} pixels"
        if np.array_equal(o, img.T) or any(np.array_equal(_shift(img.T, dy, dx), o) for dy in range(-m, m + 1)
                                            for dx in range(-m, m + 1)):
            return (f"image {k} is transposed: reshape each row of X to (28, 28) (row-major), shift, "
                    "and flatten back")
        return (f"image {k} is not its original moved by at most {m} pixels with zeros filled in (a shift "
                "keeps every pixel value, only moves it)")
    if all(s == (0, 0) for s in shifts):
        return "no image moved: draw a random shift for every image"
    if len(set(shifts)) == 1:
        return f"every image got the same shift {shifts[0]}: draw one shift per image"
    drawn = np.array(shifts)
    for side, reached in ((+m, drawn.max() == m), (-m, drawn.min() == -m)):
        if not reached:
            chance = (2 * m / (2 * m + 1)) ** drawn.size
            return (f"no shift is {side:+d}: the {drawn.size} shifts drawn (dy and dx of {len(shifts)} images) all "
                    f"lie in [{drawn.min()}, {drawn.max()}], although shifts up to ±max_shift = ±{m} must occur "
                    f"(uniform shifts would miss {side:+d} that often with probability {chance:.0e}); note that "
                    "rng.integers(low, high) never returns high")
    if not np.array_equal(got["again"], out):
        return ("two calls with generators of the same seed gave different images: take all randomness "
                "from the rng argument")
    return None


define(name="augment_shift",
       description="every image moved by its own random shift of at most max_shift pixels, zeros filled in",
       cases=_augment_cases, run=_augment_run, judge=_augment_judge)


# --------------------------------------------------------------------------------------
# train_with_early_stopping (graded in the "extensions" item)
# --------------------------------------------------------------------------------------

class _ScriptedModel:
    """A stand-in model: params that each epoch changes in place, a scripted validation loss."""

    def __init__(self, val_losses: list[float]) -> None:
        self._arrays = {"0.W": np.zeros((2, 3)), "0.b": np.zeros(3)}
        self.val_losses, self.epoch = list(val_losses), 0

    @property
    def params(self) -> dict:
        return dict(self._arrays)  # a new dict each time, the layers' own arrays (like nn.Sequential)

    def run_epoch(self) -> None:
        self.epoch += 1
        for v in self._arrays.values():
            v += 1.0  # after epoch e every entry equals e

    def val_loss(self) -> float:
        return self.val_losses[self.epoch - 1]


_SCRIPTS = [([1.0, 0.8, 0.7, 0.75, 0.72, 0.71, 0.9, 0.95, 0.99, 1.2], 3, 10),
            ([0.9, 0.6, 0.6, 0.61, 0.5, 0.55, 0.58, 0.7, 0.8, 0.9], 2, 10),
            ([1.0, 0.9, 0.8, 0.7, 0.6, 0.5], 3, 6)]


@grader_side
def _es_reference(val_losses: list[float], patience: int, max_epochs: int) -> tuple[int, int]:
    best, best_epoch = np.inf, 0
    for epoch in range(1, max_epochs + 1):
        if val_losses[epoch - 1] < best:
            best, best_epoch = val_losses[epoch - 1], epoch
        elif epoch - best_epoch >= patience:
            return best_epoch, epoch
    return best_epoch, max_epochs


def _es_cases(rng: np.random.Generator) -> list[Case]:
    order = rng.permutation(len(_SCRIPTS))
    return [Case(args=_SCRIPTS[i], label=f"validation losses {_SCRIPTS[i][0]}, patience {_SCRIPTS[i][1]}")
            for i in order]


def _es_run(fn: Callable, args: tuple) -> Any:
    val_losses, patience, max_epochs = args
    model = _ScriptedModel(val_losses)
    out = fn(model, model.run_epoch, model.val_loss, max_epochs, patience)
    if not isinstance(out, tuple) or len(out) != 2:
        return {"problem": f"returned a {type(out).__name__}; expected (best_epoch, val_losses)"}
    best_epoch, losses = out
    return {"best": int(best_epoch), "losses": [float(v) for v in losses], "epochs_run": model.epoch,
            "restored": float(model.params["0.W"][0, 0])}


def _es_judge(case: Case, got: dict) -> str | None:
    val_losses, patience, max_epochs = case.args
    best, stop = case.expected
    ran, restored = got["epochs_run"], got["restored"]
    if ran == max_epochs and stop < max_epochs:
        return (f"trained all {max_epochs} epochs: stop once {patience} epochs in a row brought no new best "
                f"validation loss (here after epoch {stop})")
    if ran < stop:
        first_rise = next((e for e in range(2, len(val_losses) + 1) if val_losses[e - 1] >= val_losses[e - 2]), 0)
        if ran == first_rise:
            return (f"stopped at the first epoch whose loss did not improve (epoch {ran}): wait `patience` = "
                    f"{patience} epochs without a new best before stopping")
        return f"stopped after epoch {ran}, expected {stop}: {patience} epochs without a new best, counted from the best epoch"
    if ran > stop:
        return f"stopped after epoch {ran}, expected {stop} (the best was epoch {best}; patience {patience})"
    if got["losses"] != [float(v) for v in val_losses[:ran]]:
        return f"the returned val_losses are not the {ran} losses measured, one per epoch"
    if got["best"] != best:
        if got["best"] == best - 1:
            return f"best_epoch is {got['best']}, expected {best}: count epochs from 1 (the first epoch is 1)"
        return f"best_epoch is {got['best']}, expected {best} (the epoch with the lowest validation loss)"
    if restored == ran:
        if ran == best:
            return None
        return ("the model ends with the last epoch's weights: save a copy of the parameters at the best "
                "epoch (v.copy(), not a reference to the arrays) and write it back into the model's own "
                "arrays at the end (v[...] = saved[k]; model.params is a new dict each time)")
    if restored != best:
        return (f"the model ends with the weights of epoch {restored:g}, expected the best epoch's ({best}): "
                "save a copy each time the validation loss improves")
    return None


define(name="train_with_early_stopping",
       description="stops after `patience` epochs without a new best validation loss and restores the best "
                   "epoch's weights",
       cases=_es_cases, reference=_es_reference, run=_es_run, judge=_es_judge)
