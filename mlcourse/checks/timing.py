"""Speed requirements of a check: timed by the caller's clock, checked by digests.

Used by core (a check with ``timing=Timing(...)``) on both sides of the grader's sandbox.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


@dataclass(kw_only=True)
class Timing:
    """A speed requirement, measured by the *caller's* clock around calls of the student's
    function: in the notebook, this process's; in the grader, the grader's own around its
    requests to the sandboxed worker — never anything the student's process measures.

    Each round calls the student's function on ``inputs`` fresh argument tuples
    (``fresh(rng, case.args, n)``, from a random seed sent with the request, so no call can
    reuse an earlier answer) and sends back one number per output (:func:`digest`, so the
    transfer costs next to nothing); the caller checks them against ``baseline`` on the same
    arguments and times ``baseline`` too. The fastest round of each counts.
    """

    baseline: Callable[..., Any]
    fresh: Callable[[np.random.Generator, tuple, int], list[tuple]]
    # Many inputs per round, so the fixed cost of one request to the sandbox (process wake-ups
    # on a busy machine: milliseconds) is small next to the work being timed.
    inputs: int = 100
    rounds: int = 3
    rtol: float = 1e-4
    # The notebook function that is the clock where ``baseline`` is grader-side code the student
    # edition strips (a per-sample reference would be an exercise's solution): there the speed-up
    # is measured against the student's own version, once it passes its own check. The grader
    # always times ``baseline``.
    own_clock: str = ""


class ClockUnavailable(Exception):
    """The student's own clock is missing or fails its check (the sentence says which)."""


def own_clock(timing: Timing, fn: Callable, passes: Callable[[str, Callable], bool]) -> Callable:
    """The clock for ``timing`` in the student edition: the notebook function ``timing.own_clock``
    from the namespace ``fn`` was defined in, looked up when first timed (so an unfinished ``fn``
    is told so first). ``passes(name, clock)``: does it pass its own check? If not, timing it
    raises :class:`ClockUnavailable`, which :func:`measure` turns into the verdict."""
    name, found = timing.own_clock, []  # found: the clock, once looked up and checked

    def clock(*args: Any) -> Any:
        if not found:
            mine = getattr(fn, "__globals__", {}).get(name)
            if not callable(mine):
                raise ClockUnavailable(f"this speed-up is timed against your own `{name}` (the per-sample "
                                       f"version): define it first — run the cell that defines `{name}`")
            if not passes(name, mine):
                raise ClockUnavailable(f"`{name}` must pass its own check first: this speed-up is timed against it")
            found.append(mine)
        return found[0](*args)

    return clock


def fresh_inputs(timing: Timing, args: tuple, seed: int) -> list[tuple]:
    """The argument tuples of one timed round (the same on both sides of the sandbox)."""
    return timing.fresh(np.random.default_rng(seed), args, timing.inputs)


def digest(outputs: list, seed: int) -> list[float]:
    """One number per output: its dot product with a random vector drawn from ``seed``.

    Getting it right needs the output itself (the vector is new every round), while the
    reply stays a few hundred bytes whatever the outputs' size.
    """
    rng = np.random.default_rng(seed + 1)
    weights: dict[int, np.ndarray] = {}
    out = []
    for o in outputs:
        v = np.asarray(o, dtype=np.float64).ravel()
        w = weights.setdefault(v.size, rng.standard_normal(v.size))
        out.append(float(v @ w))
    return out


def measure(timing: Timing, args: tuple, run_many: Callable[[int], Any]) -> dict:
    """``{"t_fn", "t_baseline"}`` (seconds per call) or ``{"problem": sentence}``.

    ``run_many(seed)`` returns :func:`digest` of the student's outputs for
    ``fresh_inputs(timing, args, seed)`` (None if it failed); it is timed here, from outside.
    """
    best_fn = best_base = float("inf")
    for _ in range(timing.rounds):
        seed = secrets.randbits(62)
        inputs = fresh_inputs(timing, args, seed)
        t0 = time.perf_counter()
        got = run_many(seed)
        t_fn = time.perf_counter() - t0
        t0 = time.perf_counter()
        try:
            expected = [timing.baseline(*a) for a in inputs]
        except ClockUnavailable as exc:
            return {"problem": str(exc)}
        t_base = time.perf_counter() - t0
        if not _same_digest(got, expected, seed, timing.rtol):
            return {"problem": "gives wrong results on the timed inputs (fresh random inputs like the "
                               "checked ones) — make its check pass first"}
        best_fn, best_base = min(best_fn, t_fn), min(best_base, t_base)
    return {"t_fn": best_fn / timing.inputs, "t_baseline": best_base / timing.inputs}


def _same_digest(got: Any, expected: list, seed: int, rtol: float) -> bool:
    if not isinstance(got, (list, tuple)) or len(got) != len(expected):
        return False
    want = digest(expected, seed)
    for g, e, out in zip(got, want, expected):
        if type(g) is not float:
            return False
        v = np.asarray(out, dtype=np.float64)
        # |Δ(v·w)| ≤ |Δv| |w|: an elementwise rtol on v allows this much on the digest.
        bound = rtol * (np.linalg.norm(v) + 1e-8) * np.sqrt(v.size) * 4 + 1e-9
        if not abs(g - e) <= bound:  # NaN fails too
            return False
    return True
