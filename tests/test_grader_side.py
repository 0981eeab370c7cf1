"""Grader-side code out of the student edition (authoring/grader_side.py, mlcourse/checks/stored.py):
the stripping edits nothing but the marked functions, the stand-ins fail loudly, the stored
public cases come back exactly, and every check that needs grader-side code is stored and
stripped in the copy the edition ships (tests.support.stored_mode)."""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import numpy as np
import pytest

from authoring import grader_side
from mlcourse.checks import all_checks, core, stored
from tests.support import ROOT, stored_mode

SAMPLE = '''"""A module."""
import numpy as np
from .core import grader_side


def kept(x):  # a comment kept as it is
    return x + 1


@grader_side
def _ref(x):
    """Docstring."""
    return x * 2


# a comment between
@other
@grader_side
def _variant(x,
             y=1):
    return x * y
TAIL = 3
'''


def test_strip_source_replaces_marked_functions_by_one_line_and_keeps_every_other_byte():
    out, names = grader_side.strip_source(SAMPLE)
    assert names == ["_ref", "_variant"]
    assert out == SAMPLE.replace('''@grader_side
def _ref(x):
    """Docstring."""
    return x * 2
''', '_ref = grader_side.stripped("_ref")  # grader-side: not in the student edition\n').replace('''@other
@grader_side
def _variant(x,
             y=1):
    return x * y
''', '_variant = grader_side.stripped("_variant")  # grader-side: not in the student edition\n')


def test_only_module_level_functions_can_be_marked():
    with pytest.raises(ValueError, match="only a module-level function"):
        grader_side.strip_source("def f():\n    @grader_side\n    def g():\n        pass\n")
    with pytest.raises(ValueError, match="only a module-level function"):
        grader_side.strip_source("@grader_side\nclass C:\n    pass\n")


def _marked_by_inspection(module) -> list[tuple[int, int]]:
    """(first, last) line of every marked function, found independently of the stripper: the
    live module's functions that carry the mark, their source lines from inspect."""
    spans = []
    for name, obj in vars(module).items():
        if inspect.isfunction(obj) and core.is_grader_side(obj) and obj.__module__ == module.__name__:
            lines, first = inspect.getsourcelines(obj)
            spans.append((first, first + len(lines) - 1))
    return sorted(spans)


MODULES = sorted(p for p in (ROOT / "mlcourse").rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_stripping_keeps_every_unmarked_line_byte_identical(path: Path):
    text = path.read_text(encoding="utf-8")
    out, names = grader_side.strip_source(text, str(path))
    if not names:
        assert out == text
        return
    module = importlib.import_module(path.relative_to(ROOT).with_suffix("").as_posix().replace("/", "."))
    spans = _marked_by_inspection(module)
    assert len(spans) == len(names)
    original = text.splitlines(keepends=True)
    kept, stubs, prev = [], [], 0
    for first, last in spans:
        kept += original[prev:first - 1]
        prev = last
    kept += original[prev:]
    got = out.splitlines(keepends=True)
    stubs = [line for line in got if ".stripped(" in line and "# grader-side: not in the student edition" in line]
    assert len(stubs) == len(names)
    assert [line for line in got if line not in stubs] == kept  # every other line, byte for byte, in order
    ast.parse(out)


def test_the_stripped_copy_holds_no_marked_function_and_its_stand_ins_raise():
    checks = stored_mode()
    ch04 = importlib.import_module(f"{checks.__name__}.ch04")
    assert checks.core.is_stripped(ch04._forward)
    with pytest.raises(checks.core.GraderSideOnly, match="_forward is grader-side code"):
        ch04._forward({}, np.zeros((1, 1)), "relu")
    source = Path(ch04.__file__).read_text(encoding="utf-8")
    assert "@grader_side" not in source and "def _forward(" not in source


def test_every_check_that_needs_grader_side_code_is_stored_and_stripped_in_the_edition():
    live = all_checks()
    edition = stored_mode().all_checks()
    assert sorted(live) == sorted(edition)
    needing = sorted(n for n, c in live.items() if c.grader_side)
    assert "mlp_backward" in needing
    assert sorted(n for n, c in edition.items() if c.stripped) == needing
    for name in needing:
        got, want = edition[name].make_cases(0), live[name].make_cases(0)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            for f in stored.CASE_FIELDS:
                _assert_identical(getattr(g, f), getattr(w, f), f"{name}.{f}")
    not_stored = importlib.import_module(f"{stored_mode().__name__}.stored").NotStored
    with pytest.raises(not_stored, match=r"check 'mlp_backward'.*public seed \(0\) only, not for seed 1"):
        edition["mlp_backward"].make_cases(1)


def _assert_identical(a, b, where):
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_identical(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _assert_identical(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


class _Fake:
    def __init__(self, name, cases):
        self.name, self._cases = name, cases

    def live_cases(self, seed):
        return self._cases


def test_stored_round_trip_is_exact_and_refuses_what_needs_pickle(tmp_path):
    value = {"args": (np.arange(6, dtype=np.float32).reshape(2, 3), np.int64(7), 3, 2.5, float("nan"), "relu",
                      None, True, [np.bool_(True), (1, 2)], {1: "a", ("x", 2): np.float64(0.1)}),
             "expected": [np.zeros((0, 4)), np.array(["a", "bc"])], "hypotheses": {"h": np.ones(3)},
             "secret": {"y": [0, 1]}, "batch": 5, "label": "a label"}
    case = core.Case(**value)
    stored.record([_Fake("demo", [case])], (0,), tmp_path)
    stored._loaded.pop(tmp_path, None)
    [back] = stored.stored_cases("demo", 0, core.Case, folder=tmp_path)
    for f in stored.CASE_FIELDS:
        _assert_identical(getattr(back, f), getattr(case, f), f)
    with np.load(tmp_path / stored.ARRAYS_FILE, allow_pickle=False) as npz:
        assert len(npz.files) == 7  # 4 arrays and 3 NumPy scalars
    with pytest.raises(stored.NotStored, match="not for seed 4"):
        stored.stored_cases("demo", 4, core.Case, folder=tmp_path)
    with pytest.raises(TypeError, match="cannot store a function"):
        stored.record([_Fake("bad", [core.Case(args=(lambda: 0,))])], (0,), tmp_path)
    with pytest.raises(TypeError, match="Python objects"):
        stored.record([_Fake("bad", [core.Case(args=(np.array([object()]),))])], (0,), tmp_path)


def test_a_judge_that_calls_grader_side_code_fails_loudly_in_the_edition():
    """Not a verdict blamed on the student: GraderSideOnly goes up to the caller."""
    checks = stored_mode()
    ch04 = importlib.import_module(f"{checks.__name__}.ch04")
    chk = checks.core.Check(name="leaky", chapter="04", description="", cases=checks.get_check("mlp_forward").cases,
                            reference=checks.get_check("mlp_forward").reference,
                            judge=lambda case, got: ch04._forward(*case.args))
    chk.make_cases = checks.get_check("mlp_forward").make_cases  # the stored cases of mlp_forward
    with pytest.raises(checks.core.GraderSideOnly):
        checks.evaluate(chk, lambda params, x, name: (x, []))
