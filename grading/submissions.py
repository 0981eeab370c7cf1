"""Find the submissions: ``SUBMISSIONS_DIR/<id>/*.ipynb`` folders or ``SUBMISSIONS_DIR/<id>.zip``.

Only notebooks are taken from a submission. Symbolic links are never followed (a link to
another student's notebook must not be graded as one's own). Zips are read in memory with
caps on member count, per-file and total size (a zip bomb stops at the cap), and member
paths are never used to write anything — a ``../../x`` entry is reported and ignored.
"""
from __future__ import annotations

import hashlib
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


def exact_name(name: str) -> str:
    """A folder or zip name as text, exactly: bytes that are not UTF-8 are shown as ``\\xff``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._@+-]{0,119}")


def file_key(sid: str) -> str:
    """The stable file name (feedback/<key>.md) of student ``sid``.

    A plain name (letters, digits, ``._@+-``, not starting with ``.`` or ``-``:
    ``ana.lopez@uni.edu``) is its own key; any other name gets its safe form plus 8 hex digits
    of its hash, so "-alice" (key "alice-…") never takes the real alice's files, and the key
    of a name never depends on which other students exist.
    """
    if _PLAIN.fullmatch(sid):
        return sid
    return f"{safe_id(sid)}-{hashlib.sha256(sid.encode('utf-8', 'backslashreplace')).hexdigest()[:8]}"


def file_keys(ids: list[str]) -> dict[str, str]:
    """{id: key} for distinct ids, keys distinct too (a hash lengthened on a clash)."""
    keys: dict[str, str] = {}
    taken: set[str] = set()
    for sid in sorted(set(ids)):
        key, n = file_key(sid), 12
        while key in taken:
            key, n = f"{safe_id(sid)}-{hashlib.sha256(sid.encode('utf-8', 'backslashreplace')).hexdigest()[:n]}", n + 4
        keys[sid] = key
        taken.add(key)
    return keys


@dataclass
class Submission:
    """One student's notebooks: name → path on disk (folders) or bytes (zips)."""

    id: str          # the folder / zip name, exactly (what the roster knows)
    source: str
    files: dict[str, Path | bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    shared: dict[str, str] = field(default_factory=dict)  # notebook name → who else has the same file

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
        also = ", ".join(exact_name(n) for n in close[1:3])
        return close[0], f"graded {exact_name(close[0])} as {want}" + (f" (also found: {also})" if also else "")

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


def _shared_files(subs: list[Submission]) -> None:
    """Flag notebooks that are one file (a hard link) with another submission's, or with a
    file outside the submissions: whose work it is, an instructor decides."""
    owners: dict[tuple[int, int], list[tuple[Submission, str]]] = {}
    links: dict[tuple[int, int], int] = {}
    for sub in subs:
        for name, src in sub.files.items():
            if isinstance(src, Path):
                try:
                    st = os.lstat(src)
                except OSError:
                    continue
                owners.setdefault((st.st_dev, st.st_ino), []).append((sub, name))
                links[(st.st_dev, st.st_ino)] = st.st_nlink
    for inode, found in owners.items():
        ids = sorted({sub.id for sub, _ in found})
        for sub, name in found:
            others = [i for i in ids if i != sub.id]
            if others:
                sub.shared[name] = "the submission of " + ", ".join(_clean(repr(i)) for i in others)
            elif links[inode] > len(found):
                sub.shared[name] = "a file outside this submission"


def discover(root: Path) -> tuple[list[Submission], list[str]]:
    """The submissions in ``root`` sorted by id, and warnings about what was skipped.

    A student's id is the folder (or zip) name exactly; two names that become the same once
    made safe for file names keep distinct ids and distinct feedback files (see file_key),
    and the collision is reported.
    """
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
        sid = exact_name(entry.name[:-4] if is_zip else entry.name)
        if is_zip and sid in subs and subs[sid].source.endswith("/"):
            subs[sid].problems.append(f"{_clean(entry.name)} ignored: the folder {_clean(sid)}/ was graded")
            continue
        sub = subs[sid] = Submission(id=sid, source=_clean(exact_name(entry.name)) + ("" if is_zip else "/"))
        if is_zip:
            _from_zip(sub, Path(entry.path))
        else:
            _from_folder(sub, Path(entry.path))
    result = [subs[k] for k in sorted(subs)]
    by_safe: dict[str, list[Submission]] = {}
    for sub in result:
        by_safe.setdefault(safe_id(sub.id), []).append(sub)
    for safe, same in by_safe.items():
        if len(same) > 1:
            names = ", ".join(repr(s.id) for s in same)
            warnings.append(f"{_clean(names)} are the same name once made safe for files ({safe}); "
                            "each is graded under its own name")
    _shared_files(result)
    return result, warnings
