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

import importlib
import os
import pkgutil
import re
import sys
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Callable

import numpy as np

from .stored import GraderSideOnly, grader_side, is_grader_side, is_stripped, stored_cases  # noqa: F401 (re-exported)
from .compare import compare_outputs
from .student_code import changed_inputs, describe_exception
from .timing import Timing, _same_digest, digest, fresh_inputs, measure, own_clock  # noqa: F401 (re-exported)

PUBLIC_SEED = 0
_HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass
class Case:
    """One test case.

    ``args`` are the positional arguments sent to the student's function (plain data);
    ``expected`` is what the reference returns (grader side only); ``secret`` holds data
    that must never reach the student's process (e.g. held-out labels); ``batch`` is the
    batch size, used to recognise "a sum where a mean is expected"; ``hypotheses``: name of
    a mistake → what it produces on ``args`` (from the check's ``hypotheses=``).
    """

    args: tuple
    expected: Any = None
    secret: dict = field(default_factory=dict)
    batch: int | None = None
    label: str = ""
    hypotheses: dict = field(default_factory=dict)


class Status(str, Enum):
    """What became of one exercise. The values are the words the gradebook's results.json uses."""

    PASS = "pass"
    FAIL = "fail"                          # ran, and the output is wrong
    NOT_IMPLEMENTED = "not_implemented"    # still ``raise NotImplementedError()``
    ERROR = "error"                        # the student's function raised
    MISSING_FUNCTION = "missing_function"  # grader: the notebook defines no such function
    MISSING_NOTEBOOK = "missing_notebook"  # grader: the chapter's notebook is not in the submission
    INVALID_NOTEBOOK = "invalid_notebook"  # grader: the file is not a notebook
    TIMEOUT = "timeout"                    # grader: the student's process ran out of time
    CRASHED = "crashed"                    # grader: … died
    GARBLED = "garbled"                    # grader: … sent something that is not the protocol
    GRADER_ERROR = "grader_error"          # grader: a bug on the grader's side, not the student's
    SHARED_FILE = "shared_file"            # grader: the notebook is one file with another student's
    NOT_OWN_CODE = "not_own_code"          # grader: the call reached the course's own implementation

    def __str__(self) -> str:  # "pass", not "Status.PASS", in messages and f-strings
        return self.value

    __format__ = str.__format__


NOT_IMPLEMENTED = "not implemented yet — write your code in place of the `raise NotImplementedError(…)` line"


@dataclass
class Call:
    """What calling the student's function on one case gave: ``value`` when ``status`` is PASS,
    else the ``status`` and a ``detail`` ("raised ValueError …") that ends the evaluation."""

    status: Status = Status.PASS
    value: Any = None
    detail: str = ""


@dataclass
class Result:
    """The verdict of one check, shared by the notebook's ``check()`` and the grader.

    ``detail`` is the symptom without the "❌ `name`:" prefix; ``seed`` is the seed of the case
    that decided it; ``where`` says which case ("case 2 of 3: …") when an output was judged
    wrong; ``cases`` counts the public cases and ``hidden`` the hidden cases that passed.
    """

    name: str
    status: Status
    detail: str = ""
    description: str = ""
    seed: int = PUBLIC_SEED
    judged: bool = False  # True when the output was judged wrong (not when the call failed)
    where: str = ""
    cases: int = 0
    hidden: int = 0
    note: str = ""  # on a pass, said instead of the generic verdict (Check.passed_message)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    @property
    def score(self) -> float:
        """Fraction of the exercise's points, 0..1."""
        return 1.0 if self.passed else 0.0

    @property
    def message(self) -> str:
        """The one line the notebook prints."""
        if self.passed and self.note:
            return f"✅ `{self.name}`: {self.note}"
        if self.passed:
            return (f"✅ `{self.name}`: public checks passed — {self.description} "
                    f"({self.cases} case{'s' if self.cases != 1 else ''}; the autograder checks more)")
        return f"❌ `{self.name}`: {self.detail}{self.where}"

    def __str__(self) -> str:
        return self.message

    def _ipython_display_(self) -> None:
        # check() has already printed the verdict; a check cell's value must not repeat it.
        pass


@dataclass(kw_only=True)
class Check:
    """Definition of one exercise's check.

    cases(rng) -> list[Case]: inputs, seeded by ``rng`` (the notebook uses seed 0, the grader
        adds hidden seeds). ``expected`` may be left None and is then filled in by
        ``reference(*args)``.
    hypotheses(*args) -> dict[str, Any]: what each named mistake gives (``Case.hypotheses``).
    run(fn, args) -> plain data: how to call the student's function (default ``fn(*args)``).
        Runs in the student's process: it must return only arrays, numbers, strings,
        and tuples/lists/dicts of those.
    judge(case, output) -> problem or None: default compares with ``case.expected`` using
        ``outputs`` as the names of the returned values.
    """

    name: str
    chapter: str
    description: str
    cases: Callable[[np.random.Generator], list[Case]]
    reference: Callable[..., Any] | None = None
    hypotheses: Callable[..., dict[str, Any]] | None = None
    outputs: tuple[str, ...] = ("output",)
    run: Callable[[Callable, tuple], Any] | None = None
    judge: Callable[[Case, Any], str | None] | None = None
    rtol: float = 1e-5
    atol: float = 1e-8
    check_dtype: bool = False
    function: str = ""  # the notebook function it checks; "" means the same as ``name``
    timing: Timing | None = None  # a speed requirement (the judge gets t_fn and t_baseline)
    modifies_inputs: bool = False  # True when the contract lets the function change its array arguments
    passed_message: str = ""  # replaces the generic verdict on a pass (a question explains its answer)

    def __post_init__(self) -> None:
        self.function = self.function or self.name

    # making the cases needs grader-side code (stored in the edition) / that code is stripped (the edition)
    grader_side = property(lambda self: any(map(is_grader_side, (self.cases, self.reference, self.hypotheses))))
    stripped = property(lambda self: any(map(is_stripped, (self.cases, self.reference, self.hypotheses))))

    def make_cases(self, seed: int = PUBLIC_SEED) -> list[Case]:
        """The test cases for ``seed``, ``expected`` and ``hypotheses`` filled in: live (``live_cases``)
        or, in the student edition, as stored for the public seed (stored.py)."""
        return stored_cases(self.name, seed, Case) if self.stripped else self.live_cases(seed)

    def live_cases(self, seed: int) -> list[Case]:
        cases = self.cases(np.random.default_rng(seed))
        for c in cases:
            if c.expected is None and self.reference is not None:
                c.expected = self.reference(*_copy(c.args))
            if self.hypotheses is not None:
                c.hypotheses = {**self.hypotheses(*_copy(c.args)), **c.hypotheses}
        return cases

    def call(self, fn: Callable, args: tuple) -> Any:
        """Call the student's function on (copies of) ``args`` — the untrusted step.

        Unless ``modifies_inputs``, an array argument the function changed in place is the
        verdict (``{"problem": …}``): the caller's data would be silently corrupted. (A custom
        ``run`` calls the function its own way and watches its arguments itself.)
        """
        args = _copy(args)
        before = None if self.modifies_inputs or self.run is not None else _copy(args)
        out = self.run(fn, args) if self.run else fn(*args)
        if before is not None:
            problem = changed_inputs(fn, before, args)
            if problem:
                return {"problem": problem}
        return out

    def assess(self, case: Case, output: Any) -> str | None:
        """Judge one output; None when it is right, else the symptom.

        A custom ``run`` reports what it found wrong while calling (None returned, a missing
        key …) as ``{"problem": sentence}``: that sentence is the verdict, the judge is not asked.
        """
        if isinstance(output, dict) and "problem" in output and (self.run is not None or set(output) == {"problem"}):
            return output["problem"]
        if self.judge is not None:
            return self.judge(case, output)
        return compare_outputs(self.outputs, output, case.expected, self.rtol, self.atol,
                               case.batch, self.check_dtype)


_REGISTRY: dict[str, Check] = {}


_CHAPTER_MODULE = re.compile(r"(?:^|\.)ch(\d\d)$")


def define(**kwargs: Any) -> Check:
    """Create a :class:`Check` and register it under its name (see Check for the fields).

    This call is the one home of a check's metadata: ``name``, ``description``, ``function``
    (defaults to ``name``) and ``chapter`` (defaults to NN of the calling module ``chNN.py``).
    What only the grader needs (rubric item, points, hidden seeds) is in grading/exercises.toml.
    """
    if "chapter" not in kwargs:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        found = _CHAPTER_MODULE.search(caller)
        if not found:
            raise ValueError(f"define({kwargs.get('name')!r}) outside a chNN.py module needs chapter=...")
        kwargs["chapter"] = found.group(1)
    c = Check(**kwargs)
    if c.name in _REGISTRY:
        raise ValueError(f"check {c.name!r} is defined twice")
    _REGISTRY[c.name] = c
    return c


def _load_all() -> None:
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


UNEXPECTED_FORM = ("returned a value of an unexpected form ({kind}) — check what your function returns")


def attempt(chk: Check, fn: Callable, args: tuple, catch: type[BaseException] = Exception) -> Call:
    """Call the student's ``fn`` on ``args`` the way ``chk`` says — the one untrusted step.

    Runs where the student's code runs (the notebook, or the grader's sandboxed worker, which
    passes ``catch=BaseException`` so that even ``sys.exit()`` is the student's error).
    """
    try:
        return Call(value=chk.call(fn, args))
    except NotImplementedError:
        return Call(Status.NOT_IMPLEMENTED, detail=NOT_IMPLEMENTED)
    except catch as exc:  # the student's bug, reported on one line
        return Call(Status.ERROR, detail=describe_exception(exc))


def run_check(chk: Check, call: Callable[[Case], Call], seeds: tuple[int, ...] = (PUBLIC_SEED,),
              cases: Callable[[int], list[Case]] | None = None,
              run_many: Callable[[Case, int], Any] | None = None) -> Result:
    """The evaluation loop: for every seed, make the cases, call, judge; the first problem wins.

    ``call(case)`` runs the student's function on ``case.args`` (here: :func:`attempt`; in the
    grader: a request to the sandboxed worker). ``seeds[0]`` is the public seed, the others are
    hidden. ``cases(seed)`` defaults to ``chk.make_cases``. For a check with ``timing``,
    ``run_many(case, seed)`` runs the student's function on a round of fresh inputs and digests
    :func:`measure`) and the judge gets ``{"out": value, "t_fn": …, "t_baseline": …}``.
    """
    make = cases or chk.make_cases
    public, hidden = 0, 0
    for k, seed in enumerate(seeds):
        batch = make(seed)
        public = len(batch) if k == 0 else public
        for i, case in enumerate(batch):
            got = call(case)
            if got.status is not Status.PASS:
                detail = f"raised {got.detail}" if got.status is Status.ERROR else got.detail
                return Result(chk.name, got.status, detail, chk.description, seed, cases=public)
            if chk.timing is not None and run_many is not None:
                got = Call(value={"out": got.value, **measure(chk.timing, case.args,
                                                              lambda s, c=case: run_many(c, s))})
            try:
                problem = chk.assess(case, got.value)
            except GraderSideOnly:  # a judge that calls the reference: the check's bug, never the student's
                raise
            except Exception:  # noqa: BLE001 — the judge could not read what came back
                problem = UNEXPECTED_FORM.format(kind=type(got.value).__name__)
            if problem:
                where = f" (case {i + 1} of {len(batch)}: {case.label})" if case.label and len(batch) > 1 else ""
                return Result(chk.name, Status.FAIL, problem, chk.description, seed, judged=True, where=where,
                              cases=public)
            hidden += 1 if k else 0
    return Result(chk.name, Status.PASS, "", chk.description, seeds[0], cases=public, hidden=hidden,
                  note=chk.passed_message)


def evaluate(chk: Check, fn: Callable, seed: int = PUBLIC_SEED) -> Result:
    """Run ``chk`` on the student's ``fn`` in this process and return the verdict."""
    if not callable(fn):
        return Result(chk.name, Status.FAIL, f"expected a function, got {type(fn).__name__}", chk.description, seed)
    if chk.timing is not None and is_stripped(chk.timing.baseline):  # the student edition: their own clock
        clock = own_clock(chk.timing, fn, lambda f, c: evaluate(get_check(f), c).passed)
        chk = replace(chk, timing=replace(chk.timing, baseline=clock))
    def run_many(case: Case, s: int) -> list | None:
        outs = [attempt(chk, fn, a) for a in fresh_inputs(chk.timing, case.args, s)]
        return None if any(o.status is not Status.PASS for o in outs) else digest([o.value for o in outs], s)

    return run_check(chk, lambda case: attempt(chk, fn, case.args), (seed,), run_many=run_many)
