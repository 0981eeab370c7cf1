"""Collect an assignment from every student's home, grade it, return the feedback.

    python -m classroom grade ASSIGNMENT [--roster ROSTER]      (make hub-grade ASSIGNMENT=01)

**Collect** (as root, read-only): for each student of the roster, the assignment's chapter
notebooks under ``~/mlcourse/`` (the edition's folder). Every directory is opened relative
to its parent's descriptor without following links (``os.fwalk``), every file with
``O_NOFOLLOW | O_NONBLOCK``; a link, a file that is not a regular file (a FIFO would hang a
reader), a file or folder not owned by the student (a hard link to a classmate's notebook, a
folder someone else made) and a file over the grader's size cap are skipped and named in
the log. Nothing in a home is written or even opened for writing. The copies go to
``private/collected/<assignment>/<student>/`` (root only).

**Grade**: ``python -m grading`` on that folder, the assignment's grading.

**Return**: each student's feedback is written into ``~/feedback/<assignment>/`` by a child
process that has become the student (uid, gid, no extra groups) — so a student who made
``~/feedback`` a link to somewhere else can only write where they could write anyway —
folders 0700 and files 0600: readable by that student only.
"""
from __future__ import annotations

import os
import re
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
    """The chapter notebooks (stems) of an assignment: ``01`` → the manifest's chapters ``01_*``."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", assignment):
        raise ValueError(f"assignment {assignment!r}: expected an id like 01")
    chapters = [c for c in config.load().chapters() if c.split("_")[0] == assignment]
    if not chapters:
        raise ValueError(f"assignment {assignment!r}: no chapter of grading/exercises.toml belongs to it")
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


def _as_student(st: Student, work) -> int:
    """Run ``work()`` in a child process that is the student; its exit status (0 = done)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover — the child
        code = 1
        try:
            os.setgroups([])
            os.setgid(st.gid)
            os.setuid(st.uid)
            os.umask(0o077)
            work()
            code = 0
        except BaseException as exc:  # noqa: BLE001
            print(f"{st.name}: could not return the feedback: {exc}", file=sys.stderr)
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def return_feedback(st: Student, assignment: str, files: dict[str, bytes]) -> bool:
    """Write ``files`` into ``~/feedback/<assignment>/`` as the student, readable by them only."""
    def work() -> None:
        folder = st.home / "feedback" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        for d in (folder.parent, folder):
            os.chmod(d, 0o700)
        for name, data in files.items():
            tmp = folder / f".{name}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, folder / name)
    return _as_student(st, work) == 0


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
    cmd = [sys.executable, "-m", "grading", str(collected), "--out", str(graded), "--quiet", *(grading_args or [])]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"grading failed:\n{proc.stderr[-3000:]}")
    t2 = time.monotonic()
    returned, failed = [], []
    for st in students:
        files = {f"feedback{ext}": (graded / "feedback" / f"{st.name}{ext}").read_bytes() for ext in (".md", ".html")}
        (returned if return_feedback(st, assignment, files) else failed).append(st.name)
    t3 = time.monotonic()
    return {"assignment": assignment, "chapters": chapters, "skipped": skipped, "returned": returned,
            "failed": failed, "gradebook": str(graded / "gradebook.csv"),
            "seconds": {"collect": round(t1 - t0, 2), "grade": round(t2 - t1, 2), "return": round(t3 - t2, 2),
                        "total": round(t3 - t0, 2)}}
