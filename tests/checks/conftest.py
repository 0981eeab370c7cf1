"""Helpers for the per-chapter check tests: the functions defined in a notebook."""
from __future__ import annotations

import functools
from pathlib import Path

import nbformat

from grading.extract import definitions

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
