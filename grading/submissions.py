"""Find the submissions: ``SUBMISSIONS_DIR/<id>/*.ipynb`` folders or ``SUBMISSIONS_DIR/<id>.zip``.

Only notebooks are taken from a submission. Symbolic links are never followed (a link to
another student's notebook must not be graded as one's own). Zips are read in memory with
caps on member count, per-file and total size (a zip bomb stops at the cap), and member
paths are never used to write anything — a ``../../x`` entry is reported and ignored.
"""
from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from mlcourse.safe_text import one_line

MAX_NOTEBOOK = 50 << 20      # bytes in one notebook
MAX_ZIP_TOTAL = 200 << 20    # bytes extracted from one zip
MAX_ZIP_MEMBERS = 1000
SKIP_PARTS = ("__MACOSX", ".ipynb_checkpoints")


def safe_id(name: str) -> str:
    """A student id usable as a file name and a CSV cell: [A-Za-z0-9._-], no leading dot."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip(".-_")[:80]
    return text or "student"


@dataclass
class Submission:
    """One student's notebooks: name → path on disk (folders) or bytes (zips)."""

    id: str
    source: str
    files: dict[str, Path | bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def find(self, chapter: str) -> tuple[str, str] | None:
        """(file name, note) of the notebook for ``chapter`` (e.g. "04_mlp_backprop"), or None."""
        want = f"{chapter}.ipynb"
        if want in self.files:
            return want, ""
        prefix = chapter.split("_")[0] + "_"
        close = sorted(n for n in self.files if n[:-6].startswith(chapter)) or \
            sorted(n for n in self.files if n.startswith(prefix))
        if not close:
            return None
        return close[0], f"graded {close[0]} as {want}" + (f" (also found: {', '.join(close[1:3])})" if close[1:] else "")

    def read(self, name: str) -> bytes:
        src = self.files[name]
        if isinstance(src, bytes):
            return src
        with open(src, "rb", opener=_nofollow) as f:
            if os.fstat(f.fileno()).st_size > MAX_NOTEBOOK:
                raise ValueError(f"is larger than {MAX_NOTEBOOK >> 20} MB")
            return f.read(MAX_NOTEBOOK + 1)


def _nofollow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def _clean(text: str) -> str:
    return one_line(text, 120, replacement="?", ellipsis="")


def _from_folder(sub: Submission, folder: Path) -> None:
    found: list[tuple[int, str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        rel = Path(dirpath).relative_to(folder)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_PARTS)
        for fname in sorted(filenames):
            path = Path(dirpath) / fname
            if not fname.endswith(".ipynb") or fname.startswith("."):
                continue
            if path.is_symlink() or not stat.S_ISREG(os.lstat(path).st_mode):
                sub.problems.append(f"ignored {_clean(str(rel / fname))}: a link, not a file")
                continue
            found.append((len(rel.parts), str(rel / fname), path))
    for _, rel, path in sorted(found):
        name = path.name
        if name in sub.files:
            sub.problems.append(f"ignored {_clean(rel)}: another {_clean(name)} is closer to the top")
            continue
        sub.files[name] = path


def _from_zip(sub: Submission, path: Path) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        sub.problems.append(f"{path.name} is not a readable zip ({_clean(str(exc))})")
        return
    total = 0
    found: list[tuple[int, str, bytes]] = []
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            sub.problems.append(f"{path.name} has {len(members)} entries; only the first {MAX_ZIP_MEMBERS} were read")
        for info in members[:MAX_ZIP_MEMBERS]:
            name = info.filename
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if info.is_dir():
                continue
            if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name):
                sub.problems.append(f"ignored unsafe path in zip: {_clean(name)}")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                sub.problems.append(f"ignored link in zip: {_clean(name)}")
                continue
            if not name.endswith(".ipynb") or any(p.startswith(".") or p in SKIP_PARTS for p in parts):
                continue
            try:
                with archive.open(info) as f:
                    data = f.read(MAX_NOTEBOOK + 1)
            except (zipfile.BadZipFile, RuntimeError, OSError, NotImplementedError, EOFError, ValueError) as exc:
                sub.problems.append(f"could not read {_clean(name)} from the zip ({_clean(str(exc))})")
                continue
            if len(data) > MAX_NOTEBOOK:
                sub.problems.append(f"ignored {_clean(name)}: larger than {MAX_NOTEBOOK >> 20} MB")
                continue
            total += len(data)
            if total > MAX_ZIP_TOTAL:
                sub.problems.append(f"{path.name}: more than {MAX_ZIP_TOTAL >> 20} MB of notebooks; the rest was ignored")
                break
            found.append((len(parts), name, data))
    for _, name, data in sorted(found, key=lambda t: (t[0], t[1])):
        base = PurePosixPath(name).name
        if base in sub.files:
            sub.problems.append(f"ignored {_clean(name)}: another {_clean(base)} is closer to the top")
            continue
        sub.files[base] = data


def discover(root: Path) -> tuple[list[Submission], list[str]]:
    """The submissions in ``root`` sorted by id, and warnings about what was skipped."""
    subs: dict[str, Submission] = {}
    warnings: list[str] = []
    entries = sorted(os.scandir(root), key=lambda e: (not e.is_dir(follow_symlinks=False), e.name))
    for entry in entries:
        if entry.name.startswith(".") or entry.name in SKIP_PARTS:
            continue
        if entry.is_symlink():
            warnings.append(f"skipped {_clean(entry.name)}: a link")
            continue
        is_zip = entry.is_file() and entry.name.lower().endswith(".zip")
        if not entry.is_dir() and not is_zip:
            warnings.append(f"skipped {_clean(entry.name)}: neither a folder nor a .zip")
            continue
        sid = safe_id(entry.name[:-4] if is_zip else entry.name)
        if is_zip and sid in subs and subs[sid].source.endswith("/"):
            subs[sid].problems.append(f"{_clean(entry.name)} ignored: the folder {sid}/ was graded")
            continue
        base, n = sid, 2
        while sid in subs:
            sid, n = f"{base}-{n}", n + 1
        sub = subs[sid] = Submission(id=sid, source=_clean(entry.name) + ("" if is_zip else "/"))
        if is_zip:
            _from_zip(sub, Path(entry.path))
        else:
            _from_folder(sub, Path(entry.path))
    return [subs[k] for k in sorted(subs)], warnings
