"""``--return-to DIR``: each student's feedback into ``DIR/<id>/feedback/<assignment>/``.

That is the layout of a JupyterHub's home folders (DIR=/home) and of an nbgrader-style
exchange. Students can write in their own folder, so a student could plant a link there
(``feedback`` → another student's home): every folder below DIR is opened with
``O_NOFOLLOW`` relative to its parent's descriptor, and the files are created the same
way, so a link anywhere on the way is refused, never followed — the feedback is not
returned and the grader says why. When DIR/<id> exists and belongs to someone (a home
folder), what is created in it is given to that owner (when the grader runs as root).
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .assignments import Assignment
from .config import Rubric
from .feedback import render
from .gradebook import Row

FILE_MODE = 0o644
DIR_MODE = 0o755


def _safe_part(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name and \
        not name.startswith(".")


def _enter(parent_fd: int, name: str, owner: tuple[int, int] | None, mode: int = DIR_MODE) -> int:
    try:
        os.mkdir(name, mode, dir_fd=parent_fd)
        created = True
    except FileExistsError:
        created = False
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent_fd)
    if created and owner is not None:
        os.fchown(fd, *owner)
    return fd


def return_feedback(root: Path, student: str, assignment: str, files: dict[str, str]) -> str | None:
    """Write ``files`` (name → text) into root/student/feedback/assignment/.

    Returns None on success, else why nothing (or not everything) was written.
    """
    if not _safe_part(student):
        return f"feedback not returned to {student!r}: not usable as a folder name"
    if not _safe_part(assignment):
        return f"feedback not returned: assignment id {assignment!r} is not usable as a folder name"
    fds: list[int] = []
    try:
        root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        fds.append(root_fd)
        try:
            st = os.stat(student, dir_fd=root_fd, follow_symlinks=False)
            owner = (st.st_uid, st.st_gid) if stat.S_ISDIR(st.st_mode) and os.geteuid() == 0 and st.st_uid else None
        except FileNotFoundError:
            owner = None
        fd = root_fd
        for part in (student, "feedback", assignment):
            # a student folder the grader creates (no home there yet) is private: grades are personal
            fd = _enter(fd, part, owner, 0o700 if part is student else DIR_MODE)
            fds.append(fd)
        for name, text in files.items():
            try:
                os.unlink(name, dir_fd=fd)  # a link or a file the student put there: replaced, never followed
            except FileNotFoundError:
                pass
            except IsADirectoryError:
                return f"feedback not returned to {student}: {name} is a folder"
            out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE, dir_fd=fd)
            with os.fdopen(out, "w", encoding="utf-8", errors="backslashreplace") as f:
                if owner is not None:
                    os.fchown(f.fileno(), *owner)
                f.write(text)
    except OSError as exc:
        reason = "a link or not a folder" if exc.errno in (errno.ENOTDIR, errno.ELOOP) else (exc.strerror or str(exc))
        return (f"feedback not returned to {student}: {root / student / 'feedback' / assignment} — {reason}")
    finally:
        for fd in fds:
            os.close(fd)
    return None


def return_all(root: Path, rows: list[Row], chosen: list[Assignment], rubric: Rubric) -> tuple[int, list[str]]:
    """Every submitted student's feedback for every assignment in ``chosen`` into ``root``.

    Returns (folders written, problems); one student's problem never stops the others.
    """
    returned, problems = 0, []
    for row in rows:
        for a in chosen if row.result is not None else []:
            try:
                md, page = render(row, a, rubric)
            except Exception as exc:  # noqa: BLE001 — one student's problem, reported, not fatal
                problems.append(f"feedback of {row.id} for {a.id} could not be made ({type(exc).__name__})")
                continue
            problem = return_feedback(root, row.id, a.id, {"feedback.md": md, "feedback.html": page})
            if problem:
                problems.append(problem)
            else:
                returned += 1
    return returned, problems
