"""Site build, step 1: the chapters and their executed copies.

The executed copies are written by nbval (``--save-executed``, see conftest.py) while
``make notebooks`` validates the course. A chapter whose executed copy is missing, differs
from its solution or recorded an error is executed again the same way, so the site always
shows the run that validated the course.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from .common import ROOT, SOLUTIONS, BuildError, log
from .nbval import NBVAL_ARGS


def find_chapters(solutions: Path = SOLUTIONS) -> list[Path]:
    """The chapter notebooks ``NN_topic.ipynb`` in order."""
    return sorted(solutions.glob("[0-9][0-9]_*.ipynb"))


def _sources(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def source_digest(path: Path) -> str:
    """Fingerprint of a notebook's cell sources (the site records the one it was built from)."""
    text = json.dumps(_sources(nbformat.read(path, as_version=4)), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _raised(nb: nbformat.NotebookNode) -> bool:
    return any(out.get("output_type") == "error" and "raises-exception" not in cell.metadata.get("tags", [])
               for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)


def stale_chapters(chapters: list[Path], executed: Path) -> list[Path]:
    """Chapters without a usable executed copy: missing, with other cell sources than the
    solution, or from a run in which a cell raised (e.g. an nbval run that failed)."""
    stale = []
    for path in chapters:
        done = executed / path.name
        if not done.exists():
            stale.append(path)
            continue
        nb = nbformat.read(done, as_version=4)
        if _raised(nb) or _sources(nb) != _sources(nbformat.read(path, as_version=4)):
            stale.append(path)
    return stale


def execute_chapters(chapters: list[Path], executed: Path) -> None:
    """Run nbval on ``chapters`` (static widgets), saving the executed copies to ``executed``."""
    log("executing with nbval (MLCOURSE_STATIC=1): " + ", ".join(p.name for p in chapters))
    env = dict(os.environ, MLCOURSE_STATIC="1")
    cmd = [sys.executable, "-m", "pytest", *NBVAL_ARGS, "--save-executed", str(executed),
           *[str(p) for p in chapters]]
    if subprocess.run(cmd, cwd=ROOT, env=env).returncode != 0:
        raise BuildError("nbval failed on " + ", ".join(p.name for p in chapters)
                         + ": fix the chapter before building the site")

