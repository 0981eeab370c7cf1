"""Helpers for the per-chapter check tests: the functions defined in a notebook, and how a
right or a wrong version fares against a check."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

import nbformat

from grading.extract import definitions
from mlcourse.checks import all_checks, evaluate, get_check
from mlcourse.checks.questions import QUESTIONS

ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=None)
def _namespace(folder: str, chapter: str) -> dict:
    matches = sorted((ROOT / folder).glob(f"{chapter}*.ipynb"))
    if not matches:
        raise FileNotFoundError(f"no notebook {folder}/{chapter}*.ipynb")
    source, problems = definitions(nbformat.read(matches[0], as_version=4))
    assert not problems, problems
    ns: dict = {"__name__": f"notebook_{chapter}"}
    exec(compile(source, str(matches[0]), "exec"), ns)
    return ns


def load_solution_functions(chapter: str) -> dict:
    """Namespace of the definitions in ``solutions/<chapter>*.ipynb`` (e.g. chapter="04")."""
    return _namespace("solutions", chapter)


def load_student_functions(chapter: str) -> dict:
    """Namespace of the definitions in the released ``notebooks/<chapter>*.ipynb``."""
    return _namespace("notebooks", chapter)


def passes(name: str, fn: Callable, seed: int = 0) -> str:
    """Assert that ``fn`` passes the check ``name`` for ``seed``; return the verdict's message."""
    result = evaluate(get_check(name), fn, seed=seed)
    assert result.passed, result.message
    return result.message


def fails_with(name: str, fn: Callable, *words: str, status: str | None = None) -> str:
    """Assert that the wrong ``fn`` fails the check ``name`` (with ``status``, if given) and that
    its message contains every one of ``words``; return the message."""
    result = evaluate(get_check(name), fn)
    assert not result.passed, f"{name}: a wrong version passed"
    if status is not None:
        assert result.status == status, result.message
    for word in words:
        assert word in result.message, f"{word!r} not in: {result.message}"
    return result.message


def stub(*args, **kwargs):
    """An exercise as released: the body is still ``raise NotImplementedError()``."""
    raise NotImplementedError()


def chapter_checks(chapter: str) -> list[str]:
    """Sorted names of the exercise checks registered for ``chapter`` (e.g. "04"); the
    questions are left out: tests/checks/test_questions.py tests every one of them."""
    return sorted(n for n, c in all_checks().items() if c.chapter == chapter and n not in QUESTIONS)
