"""Checks for chapter 06 (optimizers): SGD, momentum, RMSProp and Adam as pure update functions.

Every check runs the student's update function for a few steps (from a random state and
from the zero state an optimizer starts in) on fixed gradients, and compares the weights and
the state after every step with the reference. When they differ, the output is compared
with the classic wrong versions (no bias correction, EMA-style momentum, the gradient where
its square belongs, …) so the message can name the mistake rather than just a number.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .compare import compare_array, tuple_problem
from .core import Case, changed_inputs, define, grader_side
from .questions import number

_RTOL, _ATOL = 1e-6, 1e-10
_FIXED_EPS = (1e-8, 1e-7, 1e-6, 0.0)  # the constants students hard-code instead of using eps


# --------------------------------------------------------------------------------------
# Reference update rules (and the wrong versions students actually write)
# --------------------------------------------------------------------------------------

@grader_side
def _sgd(w, g, lr):
    return w - lr * g


@grader_side
def _momentum(w, g, v, lr, beta):
    v = beta * v + g
    return w - lr * v, v


@grader_side
def _rmsprop(w, g, s, lr, rho, eps):
    s = rho * s + (1 - rho) * g ** 2
    return w - lr * g / (np.sqrt(s) + eps), s


@grader_side
def _adam(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@grader_side
def _adam_variant(kind: str, fixed_eps: float | None = None) -> Callable:
    def step(w, g, m, v, t, lr, beta1, beta2, eps):
        if fixed_eps is not None:
            eps = fixed_eps
        if kind == "swapped_betas":
            beta1, beta2 = beta2, beta1
        m_new = beta1 * m + (g if kind == "no_1m_beta1" else (1 - beta1) * g)
        v_new = beta2 * v + (1 - beta2) * (g if kind == "g_not_squared" else g ** 2)
        tt = {"t_plus_1": t + 1, "t_minus_1": t - 1}.get(kind, t)
        if kind == "no_bias_correction":
            m_hat, v_hat = m_new, v_new
        else:
            m_hat, v_hat = m_new / (1 - beta1 ** tt), v_new / (1 - beta2 ** tt)
        if kind == "no_sqrt":
            w_new = w - lr * m_hat / (v_hat + eps)
        elif kind == "sign":
            w_new = w + lr * m_hat / (np.sqrt(v_hat) + eps)
        elif kind == "eps_inside":
            w_new = w - lr * m_hat / np.sqrt(v_hat + eps)
        elif kind == "eps_on_raw_v":  # the "efficient" form: lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε)
            w_new = w - lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t) * m_new / (np.sqrt(v_new) + eps)
        else:
            w_new = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        if kind == "stores_corrected":
            return w_new, m_hat, v_hat
        return w_new, m_new, v_new
    return step


# --------------------------------------------------------------------------------------
# Running an update function for several steps (in the student's process: plain data out)
# --------------------------------------------------------------------------------------

def _describe_return(out: Any, n: int, names: tuple[str, ...]) -> str | None:
    if n == 1:
        if out is None:
            return f"returned None — expected {names[0]}; did you forget `return`?"
        if isinstance(out, tuple):
            return (f"returned a tuple of {len(out)} values, expected only {names[0]} "
                    "(plain SGD keeps no state)")
        return None
    return tuple_problem(names, out)


def _trajectory(fn: Callable, args: tuple, kind: str) -> dict:
    """Run ``fn`` for len(G) steps; {"w": (T, ...), state...} or {"problem": sentence}.

    args = (w0, G, state0, t0, hyper): G (T, ...) the gradient of each step, state0 a tuple of
    arrays, t0 the step number of the first update (Adam), hyper the remaining arguments.
    """
    w0, G, state0, t0, hyper = args
    names = _NAMES[kind]
    w, state = np.array(w0), [np.array(s) for s in state0]
    traj: list[list[np.ndarray]] = [[] for _ in names]
    with np.errstate(all="ignore"):  # a wrong version may divide by zero; the verdict says so
        for k, g in enumerate(G):
            g = np.array(g)
            before = (w, g, *state)
            given = tuple(a.copy() for a in before)  # what the function may not change
            if kind == "sgd":
                out = fn(given[0], given[1], *hyper)
            elif kind == "adam":
                out = fn(given[0], given[1], given[2], given[3], t0 + k, *hyper)
            else:
                out = fn(given[0], given[1], given[2], *hyper)
            changed = changed_inputs(fn, before, given)
            if changed:
                return {"problem": changed.replace("changed your input", "updated your input", 1)
                        .replace("(e.g. `x -= …`, `x[mask] = 0` or `out = x` without .copy())",
                                 "(`w -= …` or `v *= beta`)")
                        .replace("compute into a new array and leave the arguments as they were — the caller "
                                 "still needs them", "the docstring promises new arrays: return "
                                 "w - lr * … instead of changing w")}
            problem = _describe_return(out, len(names), names)
            if problem:
                return {"problem": problem}
            values = (out,) if len(names) == 1 else tuple(out)
            try:
                values = tuple(np.array(v, dtype=float) for v in values)
            except (TypeError, ValueError):
                return {"problem": f"returned {', '.join(type(v).__name__ for v in values)}, "
                                   f"expected NumPy arrays ({', '.join(names)})"}
            for i, v in enumerate(values):
                if v.shape != np.shape(w0):
                    return {"problem": f"{names[i]} has shape {v.shape}, expected {np.shape(w0)} "
                                       f"(the shape of w){_hint_shape(v.shape, np.shape(w0))}"}
                traj[i].append(v)
            w, state = values[0], list(values[1:])
    return {n: np.stack(t) for n, t in zip(names, traj)}


def _hint_shape(got: tuple, expected: tuple) -> str:
    if len(got) == 0:
        return " — a single number: did you sum or take a norm?"
    if len(got) == 2 and got == tuple(expected)[::-1]:
        return " — transposed?"
    return ""


_NAMES = {"sgd": ("w_new",), "momentum": ("w_new", "v_new"), "rmsprop": ("w_new", "s_new"),
          "adam": ("w_new", "m_new", "v_new")}


def _same(a: dict, b: dict) -> bool:
    if "problem" in a or "problem" in b or a.keys() != b.keys():
        return False
    return all(a[k].shape == b[k].shape and np.allclose(a[k], b[k], rtol=_RTOL, atol=_ATOL, equal_nan=True)
               for k in a)


def _first_difference(got: dict, expected: dict, batch: int | None = None) -> str | None:
    """The first step and array where ``got`` differs from ``expected``, named."""
    steps = len(next(iter(expected.values())))
    for k in range(steps):
        for name, exp in expected.items():
            label = f"{name} after step {k + 1}" if steps > 1 else name
            problem = compare_array(label, got[name][k], exp[k], _RTOL, _ATOL, batch)
            if problem:
                return problem
    return None


# --------------------------------------------------------------------------------------
# What a wrong update *is*: the exact linear formula that explains every element it returned
# --------------------------------------------------------------------------------------

def _fit(target: np.ndarray, bases: dict[str, np.ndarray]) -> dict[str, float] | None:
    """Coefficients c with target = Σ c[k] · bases[k] on every element, or None when no such
    combination explains all of them (or there are too few elements to tell)."""
    y = np.ravel(target).astype(float)
    cols = [np.ravel(np.broadcast_to(b, np.shape(target))).astype(float) for b in bases.values()]
    if len(y) < len(cols) + 2 or not np.all(np.isfinite(y)) or not all(np.all(np.isfinite(c)) for c in cols):
        return None
    # A basis that is zero everywhere (the zero state an optimizer starts from, never updated)
    # says nothing about its factor: it is left out, and its factor reported as unknown (NaN).
    used = [i for i, c in enumerate(cols) if np.any(c != 0)]
    scale = np.array([float(np.max(np.abs(cols[i]))) for i in used])
    A = np.stack([cols[i] for i in used], axis=1) / scale if used else np.zeros((len(y), 0))
    if used and np.linalg.matrix_rank(A, tol=1e-8) < A.shape[1]:
        return None
    coef = np.linalg.lstsq(A, y, rcond=None)[0] if used else np.zeros(0)
    if not np.allclose(A @ coef, y, rtol=1e-7, atol=1e-10 * max(1.0, float(np.max(np.abs(y))))):
        return None
    out = dict.fromkeys(bases, float("nan"))
    for i, c in zip(used, coef / scale):
        out[list(bases)[i]] = 0.0 if abs(c) < 1e-9 else float(c)
    return out


def _formula(name: str, coef: dict[str, float]) -> str:
    parts = [(c < 0, f"{abs(c):.4g}" if k == "1" else k if np.isclose(abs(c), 1.0) else f"{abs(c):.4g}·{k}")
             for k, c in coef.items() if c != 0.0 and not np.isnan(c)]
    if not parts:
        return f"{name} = 0"
    text = ("−" if parts[0][0] else "") + parts[0][1]
    for negative, term in parts[1:]:
        text += f" {'−' if negative else '+'} {term}"
    return f"{name} = {text}"


def _coefficient_problem(name: str, got: dict[str, float], want: dict[str, tuple[float, str]],
                         rule: str) -> str | None:
    """The sentence for a fitted formula that differs from the rule (None when it agrees)."""
    def expected(v: float, label: str) -> str:
        return f"{label} = {v:.4g}" if label not in ("", "0", "1") else f"{v:.4g}"

    wrong = [f"the factor of {k} is {got[k]:.4g}, expected {expected(v, label)}" if k != "1"
             else f"it adds a constant {got[k]:.4g}" for k, (v, label) in want.items()
             if not np.isnan(got[k]) and not np.isclose(got[k], v, rtol=1e-6, atol=1e-12)]
    if not wrong:
        return None
    return (f"{_formula(name, got)} exactly, for every element of every step, but the rule is {rule}: "
            f"{'; '.join(wrong)}")


# name of the state, its symbol in the rule, the inputs of its update, the rule (from the hyper-parameters)
def _state_rules(kind: str, hyper: tuple) -> list[tuple[str, str, dict[str, tuple[float, str]], str]]:
    if kind == "momentum":
        _, beta = hyper
        return [("v_new", "v", {"v": (beta, "β"), "g": (1.0, "1"), "1": (0.0, "")}, "v_new = β·v + g")]
    if kind == "rmsprop":
        _, rho, _ = hyper
        return [("s_new", "s", {"s": (rho, "ρ"), "g²": (1 - rho, "1 − ρ"), "g": (0.0, "0"), "1": (0.0, "")},
                 "s_new = ρ·s + (1 − ρ)·g²")]
    if kind == "adam":
        _, b1, b2, _ = hyper
        return [("m_new", "m", {"m": (b1, "β1"), "g": (1 - b1, "1 − β1"), "1": (0.0, "")},
                 "m_new = β1·m + (1 − β1)·g"),
                ("v_new", "v", {"v": (b2, "β2"), "g²": (1 - b2, "1 − β2"), "g": (0.0, "0"), "1": (0.0, "")},
                 "v_new = β2·v + (1 − β2)·g²")]
    return []


def _steps(got: dict, args: tuple, kind: str) -> list[tuple[np.ndarray, np.ndarray, dict]]:
    """(w, g, state before the step) for every step the student's function took."""
    w0, G, state0, _, _ = args
    names = _NAMES[kind][1:]
    out, w, state = [], np.asarray(w0, dtype=float), dict(zip(names, (np.asarray(s, dtype=float) for s in state0)))
    for k in range(len(G)):
        out.append((w, np.asarray(G[k], dtype=float), state))
        w, state = got["w_new"][k], {n: got[n][k] for n in names}
    return out


def _formula_problem(got: dict, expected: dict, args: tuple, kind: str) -> str | None:
    """A state or weight update that is an exact linear formula other than the rule, named."""
    _, _, _, t0, hyper = args
    steps = _steps(got, args, kind)
    for name, sym, want, rule in _state_rules(kind, hyper):
        if np.allclose(got[name], expected[name], rtol=_RTOL, atol=_ATOL):
            continue
        basis = {"g": lambda g: g, "g²": lambda g: g ** 2, "1": lambda g: np.ones_like(g)}
        bases = {k: np.stack([st[name] if k == sym else basis[k](g) for _, g, st in steps]) for k in want}
        coef = _fit(got[name], bases)
        if coef is not None:
            return _coefficient_problem(name, coef, want, rule)
        return None
    # The state is right: is w_new an exact formula in w, the step the rule takes and g?
    lr = hyper[0]
    with np.errstate(all="ignore"):
        if kind == "sgd":
            u = {"g": np.stack([g for _, g, _ in steps])}
            rule, step_name = "w_new = w − lr·g", "g"
        elif kind == "momentum":
            u = {"v_new": got["v_new"]}
            rule, step_name = "w_new = w − lr·v_new", "v_new"
        elif kind == "rmsprop":
            eps = hyper[2]
            root = np.sqrt(got["s_new"]) + eps
            u = {"g/(√s_new + ε)": np.stack([g for _, g, _ in steps]) / root, "1/(√s_new + ε)": 1 / root}
            rule, step_name = "w_new = w − lr·g / (√s_new + ε)", "g/(√s_new + ε)"
        else:
            return None
    bases = {"w": np.stack([w for w, _, _ in steps]), **u}
    if kind != "sgd":
        bases["g"] = np.stack([g for _, g, _ in steps])
    bases["1"] = np.ones_like(got["w_new"])
    coef = _fit(got["w_new"], bases)
    if coef is None:
        return None
    want = {k: (1.0, "1") if k == "w" else (-lr, "−lr") if k == step_name else (0.0, "0") for k in bases}
    want["1"] = (0.0, "")
    return _coefficient_problem("w_new", coef, want, rule)


def _judge_factory(kind: str, variants: list[tuple[str, Callable]],
                   extra: Callable[[dict, dict, tuple], str | None] | None = None) -> Callable:
    def judge(case: Case, output: Any) -> str | None:
        if not isinstance(output, dict):
            return "the check could not run your function"
        expected = case.expected
        if _same(output, expected):
            return None
        for message, fn in variants:  # fn None: a grader-side variant, its trajectory is in case.hypotheses
            if _same(output, case.hypotheses[message] if fn is None else _trajectory(fn, case.args, kind)):
                return message
        if extra is not None:
            message = extra(output, expected, case.args)
            if message:
                return message
        message = _formula_problem(output, expected, case.args, kind)
        if message:
            return message
        return _first_difference(output, expected) or "differs from the reference"
    return judge


# --------------------------------------------------------------------------------------
# Cases: a single step from a random (non-zero) state, and several steps from zeros
# --------------------------------------------------------------------------------------

def _positive(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    return rng.uniform(0.05, 1.0, shape)


def _cases_for(kind: str) -> Callable:
    def cases(rng: np.random.Generator) -> list[Case]:
        w1, g1 = rng.standard_normal((3, 4)), rng.standard_normal((1, 3, 4))
        w2, G2 = rng.standard_normal(5), rng.standard_normal((6, 5))
        if kind == "sgd":
            specs = [(w1, g1, (), 1, (0.1,)), (w2, G2, (), 1, (0.05,))]
        elif kind == "momentum":
            specs = [(w2, G2, (np.zeros(5),), 1, (0.1, 0.9)),
                     (w1, g1, (rng.standard_normal((3, 4)),), 1, (0.05, 0.8))]
        elif kind == "rmsprop":
            specs = [(w2, G2, (np.zeros(5),), 1, (0.01, 0.9, 1e-8)),
                     (w1, g1, (_positive(rng, (3, 4)),), 1, (0.05, 0.8, 0.05))]  # a large ε: is it used?
        else:
            specs = [(w2, G2, (np.zeros(5), np.zeros(5)), 1, (0.1, 0.9, 0.999, 1e-8)),
                     (w1, g1, (0.3 * rng.standard_normal((3, 4)), 0.2 * _positive(rng, (3, 4))), 4,
                      (0.01, 0.8, 0.99, 0.02))]  # other betas and a large ε: every argument used?
        labels = {1: "a single step from a given state, w of shape (3, 4)",
                  6: "6 steps starting from the zero state, w of shape (5,)"}
        out = []
        for spec in specs:
            args = tuple(spec)
            out.append(Case(args=args, label=labels[len(spec[1])]))
        return out
    return cases


def _run(kind: str) -> Callable:
    return lambda fn, args: _trajectory(fn, args, kind)


@grader_side
def _sgd_ref(*args: Any) -> dict:
    return _trajectory(_sgd, args, "sgd")


@grader_side
def _momentum_ref(*args: Any) -> dict:
    return _trajectory(_momentum, args, "momentum")


@grader_side
def _rmsprop_ref(*args: Any) -> dict:
    return _trajectory(_rmsprop, args, "rmsprop")


@grader_side
def _adam_ref(*args: Any) -> dict:
    return _trajectory(_adam, args, "adam")


def _fixed_eps_message(e: float) -> str:
    return f"w_new ignores the eps argument (it uses ε = {e:g} whatever eps is passed): use eps"


@grader_side
def _rmsprop_hypotheses(*args: Any) -> dict:
    """RMSProp with a hard-coded ε instead of the argument, for each constant students use."""
    return {_fixed_eps_message(e): _trajectory(lambda w, g, s, lr, rho, eps, e=e: _rmsprop(w, g, s, lr, rho, e),
                                               args, "rmsprop") for e in _FIXED_EPS}


# --- SGD -------------------------------------------------------------------------------

def _sgd_extra(got: dict, expected: dict, args: tuple) -> str | None:
    w0, G, _, _, (lr,) = args
    first = got["w_new"][0]
    if np.allclose(first, np.asarray(w0), rtol=_RTOL, atol=_ATOL):
        return "w_new equals w: the weights did not move — return w - lr * g"
    if np.allclose(first, -lr * G[0], rtol=_RTOL, atol=_ATOL):
        return "returned the step −lr·g, not the updated weights w − lr·g"
    if np.allclose(first, lr * G[0], rtol=_RTOL, atol=_ATOL):
        return "returned the step lr·g, not the updated weights w − lr·g"
    return None


define(name="sgd_step", description="w_new = w − lr·g, step after step",
       cases=_cases_for("sgd"), reference=_sgd_ref, run=_run("sgd"),
       judge=_judge_factory("sgd", [
           ("w_new moves *up* the gradient (w + lr·g): subtract the gradient to go downhill",
            lambda w, g, lr: w + lr * g),
           ("w_new ignores the learning rate (w − g): scale the gradient by lr",
            lambda w, g, lr: w - g),
       ], _sgd_extra))


# --- Momentum --------------------------------------------------------------------------

def _momentum_extra(got: dict, expected: dict, args: tuple) -> str | None:
    # v ← βv − ηg, w ← w + v (the CS231n form) gives the same weights from a zero state,
    # with a velocity −η times ours: right idea, other convention.
    lr = args[4][0]
    same_w = np.allclose(got["w_new"], expected["w_new"], rtol=_RTOL, atol=_ATOL)
    if same_w and np.allclose(got["v_new"], -lr * expected["v_new"], rtol=_RTOL, atol=_ATOL):
        return ("v_new is −lr × the expected velocity: that is the v ← βv − lr·g, w ← w + v form. "
                "This chapter (and the library) keeps v ← βv + g and updates w ← w − lr·v")
    return None


define(name="momentum_step", description="v_new = β·v + g and w_new = w − lr·v_new, over several steps",
       cases=_cases_for("momentum"), reference=_momentum_ref, run=_run("momentum"),
       judge=_judge_factory("momentum", [
           ("v_new is an average (β·v + (1−β)·g): this chapter's momentum adds the full gradient, "
            "v ← β·v + g", lambda w, g, v, lr, beta: (w - lr * (beta * v + (1 - beta) * g),
                                                       beta * v + (1 - beta) * g)),
           ("w_new uses the old velocity: update v first, then w ← w − lr·v_new",
            lambda w, g, v, lr, beta: (w - lr * v, beta * v + g)),
           ("w_new moves *up* the gradient: subtract lr·v_new",
            lambda w, g, v, lr, beta: (w + lr * (beta * v + g), beta * v + g)),
           ("v_new forgets nothing and never decays: multiply the old velocity by β",
            lambda w, g, v, lr, beta: (w - lr * (v + g), v + g)),
           ("v_new ignores the beta argument (it uses 0.9 whatever beta is passed): use beta",
            lambda w, g, v, lr, beta: (w - lr * (0.9 * v + g), 0.9 * v + g)),
           ("v_new = β·v − lr·g but w_new = w − lr·v_new applies lr twice: "
            "use v ← β·v + g, w ← w − lr·v",
            lambda w, g, v, lr, beta: (w - lr * (beta * v - lr * g), beta * v - lr * g)),
       ], _momentum_extra))


# --- RMSProp ---------------------------------------------------------------------------

define(name="rmsprop_step", description="s_new = ρ·s + (1−ρ)·g² and w_new = w − lr·g / (√s_new + ε), over several steps",
       cases=_cases_for("rmsprop"), reference=_rmsprop_ref, hypotheses=_rmsprop_hypotheses, run=_run("rmsprop"),
       judge=_judge_factory("rmsprop", [
           ("s_new averages g instead of its square g² (then √s is NaN for negative values): "
            "s ← ρ·s + (1−ρ)·g**2",
            lambda w, g, s, lr, rho, eps: (w - lr * g / (np.sqrt(rho * s + (1 - rho) * g) + eps),
                                           rho * s + (1 - rho) * g)),
           ("w_new divides by s instead of its square root: w ← w − lr·g / (√s + ε)",
            lambda w, g, s, lr, rho, eps: (w - lr * g / (rho * s + (1 - rho) * g ** 2 + eps),
                                           rho * s + (1 - rho) * g ** 2)),
           ("s_new has ρ and 1−ρ swapped: the old average is kept with weight ρ (0.9), "
            "the new g² enters with 1−ρ",
            lambda w, g, s, lr, rho, eps: (w - lr * g / (np.sqrt((1 - rho) * s + rho * g ** 2) + eps),
                                           (1 - rho) * s + rho * g ** 2)),
           ("s_new = ρ·s + g² is missing the (1−ρ) factor on g²",
            lambda w, g, s, lr, rho, eps: (w - lr * g / (np.sqrt(rho * s + g ** 2) + eps), rho * s + g ** 2)),
           ("w_new uses the old s: update s first, then divide by √s_new",
            lambda w, g, s, lr, rho, eps: (w - lr * g / (np.sqrt(s) + eps), rho * s + (1 - rho) * g ** 2)),
           ("w_new moves *up* the gradient: subtract lr·g / (√s + ε)",
            lambda w, g, s, lr, rho, eps: (w + lr * g / (np.sqrt(rho * s + (1 - rho) * g ** 2) + eps),
                                           rho * s + (1 - rho) * g ** 2)),
           *[(_fixed_eps_message(e), None) for e in _FIXED_EPS],
           ("w_new subtracts eps from the root, √s − ε: the docstring adds it, √s + ε",
            lambda w, g, s, lr, rho, eps: (w - lr * g / (np.sqrt(rho * s + (1 - rho) * g ** 2) - eps),
                                           rho * s + (1 - rho) * g ** 2)),
           ("w_new adds eps inside the square root, √(s + ε): the docstring adds it outside, √s + ε",
            lambda w, g, s, lr, rho, eps: (w - lr * g / np.sqrt(rho * s + (1 - rho) * g ** 2 + eps),
                                           rho * s + (1 - rho) * g ** 2)),
           ("s_new never decays (s + g², that is AdaGrad): RMSProp keeps a moving average, "
            "s ← ρ·s + (1−ρ)·g²",
            lambda w, g, s, lr, rho, eps: (w - lr * g / (np.sqrt(s + g ** 2) + eps), s + g ** 2)),
       ]))


# --- Adam ------------------------------------------------------------------------------

def _adam_extra(got: dict, expected: dict, args: tuple) -> str | None:
    # Right moments but wrong weights, with the step count used in the first step = 0?
    if not (np.allclose(got["m_new"], expected["m_new"], rtol=_RTOL, atol=_ATOL)
            and np.allclose(got["v_new"], expected["v_new"], rtol=_RTOL, atol=_ATOL)):
        return None
    if not np.all(np.isfinite(got["w_new"])):
        return ("w_new contains NaN/inf although m_new and v_new are right: a division by zero in "
                "the bias correction? t is the step number, starting at 1 (1 − β^0 = 0)")
    return "m_new and v_new are right but w_new is not: check the bias correction and the update"


# (message, kind, hard-coded ε) of each wrong Adam students write (_adam_variant makes it)
_ADAM_VARIANTS = [
    ("w_new has no bias correction: divide m by (1 − β1**t) and v by (1 − β2**t) before "
     "the update (without it the first steps are far too large)", "no_bias_correction", None),
    ("m_new and v_new are the bias-corrected m̂, v̂: keep the raw averages as the state and "
     "correct only the copies used in the update", "stores_corrected", None),
    ("the bias correction uses t + 1: t is the step number itself, 1 at the first update", "t_plus_1", None),
    ("the bias correction uses t − 1: t is the step number itself, 1 at the first update", "t_minus_1", None),
    ("v_new averages g instead of its square g²: v ← β2·v + (1−β2)·g**2", "g_not_squared", None),
    ("m_new = β1·m + g is missing the (1−β1) factor on g", "no_1m_beta1", None),
    ("β1 and β2 are swapped: β1 (0.9) averages the gradient m, β2 (0.999) its square v", "swapped_betas", None),
    ("w_new divides by v̂ instead of its square root √v̂", "no_sqrt", None),
    ("w_new moves *up* the gradient: subtract lr·m̂ / (√v̂ + ε)", "sign", None),
    *[(_fixed_eps_message(e), "", e) for e in _FIXED_EPS],
    ("w_new adds eps inside the square root, √(v̂ + ε): the docstring adds it outside, √v̂ + ε", "eps_inside", None),
    *[(("w_new uses the 'efficient' form lr·√(1−β2ᵗ)/(1−β1ᵗ)·m / (√v + ε), which adds ε to √v "
        "instead of √v̂" + ("" if e is None else f", and ignores the eps argument (uses ε = {e:g})")
        + ": this chapter's Adam adds the eps argument to √v̂ = √(v / (1 − β2ᵗ))"), "eps_on_raw_v", e)
      for e in (None, *_FIXED_EPS)],
]


@grader_side
def _adam_hypotheses(*args: Any) -> dict:
    return {message: _trajectory(_adam_variant(kind, e), args, "adam") for message, kind, e in _ADAM_VARIANTS}


define(name="adam_step", description="Adam moments m, v and the bias-corrected update of w, step t after step t",
       cases=_cases_for("adam"), reference=_adam_ref, hypotheses=_adam_hypotheses, run=_run("adam"),
       judge=_judge_factory("adam", [(message, None) for message, _, _ in _ADAM_VARIANTS], _adam_extra))


# --------------------------------------------------------------------------------------
# Questions: predictions made before the experiment (mlcourse.checks.questions)
# --------------------------------------------------------------------------------------

number("answer_momentum_terminal", answer=100, rtol=0.004,
       explain="for a constant gradient v → g(1 + β + β² + …) = g/(1 − β) = 100·g for β = 0.99: "
               "the effective learning rate is 100 η.",
       wrong={10: "10 is the factor for β = 0.9; it is 1/(1 − β), so β = 0.99 gives 100.",
              99: "β/(1 − β) = 99 leaves out the current gradient: v = g + βg + β²g + … starts with g itself.",
              1.99: "1 + β is only the first two terms of the geometric series; v keeps adding βᵏg.",
              0.99: "β is the fraction of the old velocity that is kept, not the speed-up."})

number("answer_adam_uncorrected", answer=float(0.1 / np.sqrt(0.001)), rtol=0.03,
       explain="at t = 1, m₁ = (1 − β₁)g = 0.1·g and v₁ = (1 − β₂)g² = 0.001·g², so m₁/√v₁ = "
               "0.1/√0.001 · sign(g) ≈ 3.16 · sign(g): the first uncorrected step is 3.16 η.",
       wrong={1.0: "1 is the bias-corrected step: m̂₁/√v̂₁ = g/|g|. Without the correction both averages "
                   "are too small, and √v is the smaller one.",
              0.1: "0.1 counts only the first moment's bias (1 − β₁); the denominator √v₁ is too small "
                   "as well, by √0.001 ≈ 0.032.",
              100.0: "0.1/0.001 forgets the square root: the step divides by √v₁ = √0.001·|g|.",
              0.00316: "√0.001 · 0.1 multiplies where the rule divides: the step is m/√v."})
