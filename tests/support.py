"""What the tests share (imported as a module; conftest.py files hold only pytest set-up).

* the functions a chapter notebook defines — the solution's or the released stub's — read
  with grading.definitions, exactly as the grader reads a submission;
* how a right or a wrong version fares against a check (:func:`passes`, :func:`fails_with`).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

import nbformat

from mlcourse.notebook import definitions
from mlcourse.checks import Result, Status, evaluate, get_check

ROOT = Path(__file__).resolve().parent.parent


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


def passes(name: str, fn: Callable, seed: int = 0) -> str:
    """Assert that ``fn`` passes the check ``name`` for ``seed``; return the verdict's message."""
    result = evaluate(get_check(name), fn, seed=seed)
    assert result.passed, result.message
    return result.message


def fails_with(name: str, fn: Callable, *words: str, status: Status | str | None = None) -> str:
    """Assert that the wrong ``fn`` fails the check ``name`` (with ``status``, if given) and that
    its message contains every one of ``words``; return the message."""
    result: Result = evaluate(get_check(name), fn)
    assert not result.passed, f"{name}: a wrong version passed"
    if status is not None:
        assert result.status == status, result.message
    for word in words:
        assert word in result.message, f"{word!r} not in: {result.message}"
    return result.message


def stub(*args, **kwargs):
    """An exercise as released: the body is still ``raise NotImplementedError()``."""
    raise NotImplementedError()
