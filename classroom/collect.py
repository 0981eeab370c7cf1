"""Collect an assignment from every student's home, grade it, return the feedback.

    python -m classroom grade ASSIGNMENT [grading options]      (make hub-grade ASSIGNMENT=ch01)

**Collect** (as root, read-only): for each student of the roster, the assignment's chapter
notebooks under ``~/mlcourse/`` (the edition's folder). Every directory is opened relative
to its parent's descriptor without following links (``os.fwalk``), every file with
``O_NOFOLLOW | O_NONBLOCK``; a link, a file that is not a regular file (a FIFO would hang a
reader), a file or folder not owned by the student (a hard link to a classmate's notebook, a
folder someone else made) and a file over the grader's size cap are skipped and named in
the log. Nothing in a home is written or even opened for writing. The copies go to
``private/collected/<assignment>/<student>/`` (root only).

**Grade and return**: ``python -m grading COLLECTED --assignment ID --return-to /home``:
the assignment's grading, and each student's feedback written into
``~/feedback/<assignment>/`` (grading/returns.py: every folder opened without following
links, files created anew and given to the home's owner). The homes are 0700, so the
feedback is readable by that student only.
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

from grading import config
from grading.submissions import MAX_NOTEBOOK

from .accounts import Student

REPO = Path(__file__).resolve().parent.parent


def assignment_chapters(assignment: str) -> list[str]:
    """The chapter notebooks (stems) of an assignment of the rubric: ``ch01`` → ``01_linear_regression``."""
    rubric = config.load()
    try:
        chosen = rubric.assignment(assignment)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    chapters = rubric.only([chosen]).chapters()
    if not chapters:
        raise ValueError(f"assignment {assignment!r}: no exercise of grading/exercises.toml belongs to it")
    return chapters


def collect_home(st: Student, folder: str, names: set[str], dest: Path) -> list[str]:
    """Copy the notebooks called ``names`` from ``st.home/folder`` into ``dest``; returns what was skipped."""
    skipped: list[str] = []
    top = st.home / folder
    try:
        info = os.lstat(top)
    except OSError:
        return [f"{st.name}: no ~/{folder} folder"]
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != st.uid or os.lstat(st.home).st_uid != st.uid:
        return [f"{st.name}: ~/{folder} is not a folder the student owns"]
    for dirpath, dirnames, filenames, dirfd in os.fwalk(top, follow_symlinks=False):
        rel = Path(dirpath).relative_to(top)
        keep = []
        for d in sorted(dirnames):
            if d.startswith(".") or d == "__pycache__":
                continue
            if os.stat(d, dir_fd=dirfd, follow_symlinks=False).st_uid != st.uid:
                skipped.append(f"{st.name}: ~/{folder}/{rel / d} is not the student's folder")
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(set(filenames) & names):
            where = f"~/{folder}/{rel / name}"
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dirfd)
            except OSError as exc:  # ELOOP: a link
                skipped.append(f"{st.name}: {where} skipped ({'a link' if exc.errno == 40 else exc.strerror})")
                continue
            with os.fdopen(fd, "rb") as f:
                fs = os.fstat(f.fileno())
                if not stat.S_ISREG(fs.st_mode):
                    skipped.append(f"{st.name}: {where} skipped (not a regular file)")
                elif fs.st_uid != st.uid:
                    skipped.append(f"{st.name}: {where} skipped (not owned by {st.name})")
                elif fs.st_size > MAX_NOTEBOOK:
                    skipped.append(f"{st.name}: {where} skipped (larger than {MAX_NOTEBOOK >> 20} MB)")
                else:
                    out = dest / rel / name
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(f.read(MAX_NOTEBOOK))
    return skipped


def grade_class(students: list[Student], assignment: str, private: Path, folder: str = "mlcourse",
                grading_args: list[str] | None = None) -> dict:
    """Collect → grade → return for ``assignment``; returns a summary with the timings."""
    chapters = assignment_chapters(assignment)
    names = {f"{c}.ipynb" for c in chapters}
    t0 = time.monotonic()
    collected = private / "collected" / assignment
    graded = private / "graded" / assignment
    for d in (collected, graded):
        shutil.rmtree(d, ignore_errors=True)
    collected.mkdir(parents=True, mode=0o700)
    os.chmod(private, 0o700)
    skipped: list[str] = []
    for st in students:
        (collected / st.name).mkdir()
        skipped += collect_home(st, folder, names, collected / st.name)
    t1 = time.monotonic()
    homes = {st.home.parent for st in students}
    if len(homes) != 1 or any(st.home.name != st.name for st in students):
        raise RuntimeError("the feedback goes to HOMES/<name>/feedback/: every home must be <one folder>/<name>")
    cmd = [sys.executable, "-m", "grading", str(collected), "--out", str(graded), "--quiet",
           "--assignment", assignment, "--return-to", str(homes.pop()), *(grading_args or [])]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"grading failed:\n{proc.stderr[-3000:]}")
    t2 = time.monotonic()
    problems = [line.removeprefix("warning: ") for line in proc.stderr.splitlines()
                if line.startswith("warning: feedback not returned")]
    failed = sorted(st.name for st in students if any(f" {st.name}:" in line for line in problems))
    returned = [st.name for st in students if st.name not in failed]
    return {"assignment": assignment, "chapters": chapters, "skipped": skipped, "returned": returned,
            "failed": failed, "problems": problems, "gradebook": str(graded / "gradebook.csv"),
            "seconds": {"collect": round(t1 - t0, 2), "grade_and_return": round(t2 - t1, 2),
                        "total": round(t2 - t0, 2)}}
