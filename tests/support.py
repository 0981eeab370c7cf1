"""What the tests share (imported as a module; conftest.py files hold only pytest set-up).

* the functions a chapter notebook defines — the solution's or the released stub's — read
  with grading.definitions, exactly as the grader reads a submission;
* how a right or a wrong version fares against a check (:func:`passes`, :func:`fails_with`).
"""
from __future__ import annotations

import atexit
import functools
import importlib
import re
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Callable

import nbformat

from mlcourse.notebook import definitions
from mlcourse.checks import Result, Status, evaluate, get_check

ROOT = Path(__file__).resolve().parent.parent
STRIPPED = "mlcourse_student_edition"  # the import name of the stripped copy (stored_mode)


def chapter_notebook(folder: str, chapter: str) -> Path:
    """``<folder>/<chapter>_*.ipynb``, e.g. ("solutions", "04") → solutions/04_mlp_backprop.ipynb."""
    matches = sorted((ROOT / folder).glob(f"{chapter}_*.ipynb"))
    if len(matches) != 1:
        raise FileNotFoundError(f"expected one notebook {folder}/{chapter}_*.ipynb, found {matches}")
    return matches[0]


@functools.lru_cache(maxsize=None)
def notebook_functions(path: Path) -> dict:
    """The namespace made by executing the definitions of the notebook at ``path``."""
    source, problems = definitions(nbformat.read(path, as_version=4))
    assert not problems, problems
    ns: dict = {"__name__": f"notebook_{path.stem}"}
    exec(compile(source, str(path), "exec"), ns)
    return ns


def load_solution_functions(chapter: str) -> dict:
    """Namespace of the definitions in ``solutions/<chapter>_*.ipynb`` (e.g. chapter="04")."""
    return notebook_functions(chapter_notebook("solutions", chapter))


def load_student_functions(chapter: str) -> dict:
    """Namespace of the definitions in the released ``notebooks/<chapter>_*.ipynb``."""
    return notebook_functions(chapter_notebook("notebooks", chapter))


def solution_variant(chapter: str, *replacements: tuple[str, str]) -> dict:
    """The solution's definitions of ``chapter`` with some text changed (each ``old`` must occur):
    a student's realistic mistake, as a namespace of functions."""
    path = chapter_notebook("solutions", chapter)
    source, _ = definitions(nbformat.read(path, as_version=4))
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    ns: dict = {"__name__": "variant"}
    exec(compile(source, "variant", "exec"), ns)
    return ns


@functools.lru_cache(maxsize=None)
def stored_mode() -> ModuleType:
    """``mlcourse.checks`` as the student edition has it, imported in this process: the package
    staged exactly as the edition stages it (authoring/grader_side.py — grader-side code
    stripped, public cases stored) under the name ``mlcourse_student_edition``, next to a link to
    data/. Removed when the test process ends."""
    from authoring import grader_side

    tmp = Path(tempfile.mkdtemp(prefix="mlcourse-stripped-"))
    atexit.register(shutil.rmtree, tmp, True)
    grader_side.stage_package(tmp / STRIPPED)
    (tmp / "data").symlink_to(ROOT / "data")  # mlcourse/data.py's fallback: the package's sibling data/
    sys.path.insert(0, str(tmp))
    return importlib.import_module(f"{STRIPPED}.checks")


_NUMBER = re.compile(r"\d+(\.\d+)?(e[-+]?\d+)?")


def assert_same_in_stored_mode(name: str, fn: Callable, live: Result) -> None:
    """The student edition (stored cases, no grader-side code) gives ``fn`` the verdict and
    message ``live`` gave on the public seed. A timed check's figures vary from run to run:
    for those the message is compared with its numbers masked."""
    checks = stored_mode()
    got = checks.evaluate(checks.get_check(name), fn)
    live_msg, got_msg = live.message, got.message
    if get_check(name).timing is not None:
        live_msg, got_msg = _NUMBER.sub("#", live_msg), _NUMBER.sub("#", got_msg)
    assert (str(got.status), got_msg) == (str(live.status), live_msg), \
        f"{name}: the student edition says {got.message!r}, the instructor's checks say {live.message!r}"


def passes(name: str, fn: Callable, seed: int = 0) -> str:
    """Assert that ``fn`` passes the check ``name`` for ``seed``; return the verdict's message.
    On the public seed, the student edition must say the same."""
    result = evaluate(get_check(name), fn, seed=seed)
    assert result.passed, result.message
    if seed == 0:
        assert_same_in_stored_mode(name, fn, result)
    return result.message


def fails_with(name: str, fn: Callable, *words: str, status: Status | str | None = None) -> str:
    """Assert that the wrong ``fn`` fails the check ``name`` (with ``status``, if given) and that
    its message contains every one of ``words``, and that the student edition (stored cases)
    gives the same verdict and message; return the message."""
    result: Result = evaluate(get_check(name), fn)
    assert not result.passed, f"{name}: a wrong version passed"
    assert_same_in_stored_mode(name, fn, result)
    if status is not None:
        assert result.status == status, result.message
    for word in words:
        assert word in result.message, f"{word!r} not in: {result.message}"
    return result.message


def stub(*args, **kwargs):
    """An exercise as released: the body is still ``raise NotImplementedError()``."""
    raise NotImplementedError()
