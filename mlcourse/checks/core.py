"""The check framework: one definition per exercise, used by the notebook and the grader.

A check knows how to make test cases (seeded inputs), how to call the student's function
on them, and how to judge what came back against the reference. The three steps are
separate on purpose: the grader makes the cases and judges in its own process, and only
the middle step runs in the student's (untrusted) process, with plain data in and out.

In a notebook::

    from mlcourse.checks import check
    check("dense_forward", dense_forward)

prints one verdict: ✅ with what was checked, or ❌ naming the problem.
"""
from __future__ import annotations

import linecache
import os
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .compare import compare_outputs

PUBLIC_SEED = 0
_HERE = os.path.dirname(os.path.abspath(__file__))
_PKG = os.path.dirname(_HERE)


@dataclass
class Case:
    """One test case.

    ``args`` are the positional arguments sent to the student's function (plain data);
    ``expected`` is what the reference returns (grader side only); ``secret`` holds data
    that must never reach the student's process (e.g. held-out labels); ``batch`` is the
    batch size, used to recognise "a sum where a mean is expected".
    """

    args: tuple
    expected: Any = None
    secret: dict = field(default_factory=dict)
    batch: int | None = None
    label: str = ""


@dataclass
class Result:
    """The verdict of one check: ``passed``, a one-line ``message`` and ``points`` fraction."""

    name: str
    passed: bool
    message: str
    status: str = "fail"  # "pass" | "fail" | "not_implemented" | "error"
    score: float = 0.0  # fraction of the exercise's points, 0..1

    def __str__(self) -> str:
        return self.message

    def _ipython_display_(self) -> None:
        # check() has already printed the verdict; a check cell's value must not repeat it.
        pass


@dataclass
class Check:
    """Definition of one exercise's check.

    cases(rng) -> list[Case]: inputs, seeded by ``rng`` (the notebook uses seed 0, the grader
        adds hidden seeds). ``expected`` may be left None and is then filled in by
        ``reference(*args)``.
    run(fn, args) -> plain data: how to call the student's function (default ``fn(*args)``).
        Runs in the student's process: it must return only arrays, numbers, strings,
        and tuples/lists/dicts of those.
    judge(case, output) -> problem or None: default compares with ``case.expected`` using
        ``outputs`` as the names of the returned values.
    """

    name: str
    chapter: str
    function: str
    description: str
    cases: Callable[[np.random.Generator], list[Case]]
    reference: Callable[..., Any] | None = None
    outputs: tuple[str, ...] = ("output",)
    run: Callable[[Callable, tuple], Any] | None = None
    judge: Callable[[Case, Any], str | None] | None = None
    rtol: float = 1e-5
    atol: float = 1e-8
    check_dtype: bool = False
    passed_message: str | None = None  # replaces the generic verdict on a pass (questions explain)

    def make_cases(self, seed: int = PUBLIC_SEED) -> list[Case]:
        """The test cases for ``seed``, with ``expected`` filled in from the reference."""
        cases = self.cases(np.random.default_rng(seed))
        for c in cases:
            if c.expected is None and self.reference is not None:
                c.expected = self.reference(*_copy(c.args))
        return cases

    def call(self, fn: Callable, args: tuple) -> Any:
        """Call the student's function on (copies of) ``args`` — the untrusted step."""
        args = _copy(args)
        return self.run(fn, args) if self.run else fn(*args)

    def assess(self, case: Case, output: Any) -> str | None:
        """Judge one output; None when it is right, else the symptom."""
        if self.judge is not None:
            return self.judge(case, output)
        return compare_outputs(self.outputs, output, case.expected, self.rtol, self.atol,
                               case.batch, self.check_dtype)


_REGISTRY: dict[str, Check] = {}


def define(**kwargs: Any) -> Check:
    """Create a :class:`Check` and register it under its name (see Check for the fields)."""
    c = Check(**kwargs)
    if c.name in _REGISTRY:
        raise ValueError(f"check {c.name!r} is defined twice")
    _REGISTRY[c.name] = c
    return c


def _load_all() -> None:
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules([_HERE]):
        if mod.name.startswith("ch"):
            importlib.import_module(f"{__package__}.{mod.name}")


def get_check(name: str) -> Check:
    """The check called ``name``; unknown names raise ``KeyError`` listing the valid ones."""
    _load_all()
    if name not in _REGISTRY:
        raise KeyError(f"no check called {name!r}; known checks: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def all_checks() -> dict[str, Check]:
    """Every registered check, by name."""
    _load_all()
    return dict(_REGISTRY)


def _copy(args: tuple) -> tuple:
    # The student's function may modify its inputs in place; the reference must not see that.
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def describe_exception(exc: BaseException) -> str:
    """One line naming the exception and the student's own line that raised it.

    Frames from mlcourse itself (and NumPy) are skipped, so the student sees where *their*
    code went wrong, not a wall of traceback.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if not f.filename.startswith((_PKG, os.path.dirname(np.__file__)))
           and "site-packages" not in f.filename and "lib/python" not in f.filename]
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if own:
        f = own[-1]
        line = (f.line or linecache.getline(f.filename, f.lineno)).strip()
        if line:
            text += f" — in {f.name}, line {f.lineno}: {line}"
    return text


def evaluate(chk: Check, fn: Callable, seed: int = PUBLIC_SEED) -> Result:
    """Run ``chk`` on the student's ``fn`` in this process and return the verdict."""
    if not callable(fn):
        return Result(chk.name, False, f"❌ `{chk.name}`: expected a function, got {type(fn).__name__}")
    cases = chk.make_cases(seed)
    for i, case in enumerate(cases):
        try:
            out = chk.call(fn, case.args)
        except NotImplementedError:
            return Result(chk.name, False,
                          f"❌ `{chk.name}`: not implemented yet — replace `raise NotImplementedError()` "
                          "with your code", status="not_implemented")
        except Exception as exc:  # the student's bug, reported on one line
            return Result(chk.name, False, f"❌ `{chk.name}`: raised {describe_exception(exc)}",
                          status="error")
        problem = chk.assess(case, out)
        if problem:
            where = f" (case {i + 1} of {len(cases)}: {case.label})" if case.label and len(cases) > 1 else ""
            return Result(chk.name, False, f"❌ `{chk.name}`: {problem}{where}")
    if chk.passed_message:
        return Result(chk.name, True, f"✅ `{chk.name}`: {chk.passed_message}", status="pass", score=1.0)
    return Result(chk.name, True,
                  f"✅ `{chk.name}`: public checks passed — {chk.description} "
                  f"({len(cases)} case{'s' if len(cases) != 1 else ''}; the autograder checks more)",
                  status="pass", score=1.0)


def check(name: str, fn: Callable, quiet: bool = False) -> Result:
    """Run the public check ``name`` on your function ``fn`` and print one verdict."""
    try:
        chk = get_check(name)
    except KeyError as exc:
        print(f"❌ {exc.args[0]}", file=sys.stdout)
        return Result(name, False, str(exc.args[0]), status="error")
    result = evaluate(chk, fn)
    if not quiet:
        print(result.message)
    return result
