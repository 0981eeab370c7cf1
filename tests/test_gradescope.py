"""The Gradescope autograder bundle, run in a simulated /autograder layout in a temp folder.

Gradescope extracts autograder.zip to /autograder/source, copies run_autograder to
/autograder/run_autograder, puts the student's files in /autograder/submission and reads
/autograder/results/results.json. The test builds the bundle for chapter 01, lays it out
the same way under tmp_path and runs run_autograder with bash, on the solution notebook and
on the released (blank) one.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grading import config, gradescope

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "ch01"
CHAPTER = "01_linear_regression"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gradescope.build(ASSIGNMENT, tmp_path_factory.mktemp("gs") / "autograder.zip")


def _run(bundle: Path, tmp: Path, notebook: Path | None) -> dict:
    ag = tmp / "autograder"
    (ag / "source").mkdir(parents=True)
    (ag / "submission").mkdir()
    with zipfile.ZipFile(bundle) as z:
        z.extractall(ag / "source")
    shutil.copy(ag / "source" / "run_autograder", ag / "run_autograder")
    if notebook is not None:
        shutil.copy(notebook, ag / "submission" / notebook.name)
    env = {**os.environ, "MLCOURSE_AUTOGRADER_ROOT": str(ag), "MLCOURSE_PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(ag / "run_autograder")], cwd=ag, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((ag / "results" / "results.json").read_text(encoding="utf-8"))


def test_bundle_layout_follows_gradescope_and_holds_no_solutions(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        run = z.read("run_autograder").decode()
    assert names[:2] == ["setup.sh", "run_autograder"]          # at the root of the archive
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert run.startswith("#!/usr/bin/env bash") and f"--assignment {ASSIGNMENT}" in run
    assert "grading/rubric.toml" in names and "mlcourse/checks/ch01.py" in names and "pyproject.toml" in names
    assert not [n for n in names if n.startswith(("solutions/", "tests/", "notebooks/")) or n.endswith(".ipynb")]
    assert gradescope.build(ASSIGNMENT, bundle.with_name("again.zip")).read_bytes() == bundle.read_bytes()


def test_solution_gets_full_marks_and_one_test_per_exercise(bundle: Path, tmp_path: Path) -> None:
    doc = _run(bundle, tmp_path, ROOT / "solutions" / f"{CHAPTER}.ipynb")
    rubric = config.load()
    items = next(a.items for a in rubric.assignments if a.id == ASSIGNMENT)  # not the chapter's extra items
    functions = list(dict.fromkeys(e.function for e in rubric.exercises if e.chapter == CHAPTER and e.rubric in items))
    assert [t["name"] for t in doc["tests"]] == [f"{CHAPTER} · {f}" for f in functions]
    assert doc["score"] == 10 == sum(t["score"] for t in doc["tests"]) == sum(t["max_score"] for t in doc["tests"])
    assert all(t["status"] == "passed" and t["output"] for t in doc["tests"])


def test_blank_submission_scores_zero(bundle: Path, tmp_path: Path) -> None:
    doc = _run(bundle, tmp_path, ROOT / "notebooks" / f"{CHAPTER}.ipynb")
    assert doc["score"] == 0 and len(doc["tests"]) == 6
    assert all(t["score"] == 0 and t["max_score"] > 0 and "not implemented" in t["output"] for t in doc["tests"])
    empty = _run(bundle, tmp_path / "empty", None)
    assert empty["score"] == 0 and all("is missing" in t["output"] for t in empty["tests"])
