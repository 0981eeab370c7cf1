"""When each submission was made, for late work.

In order of precedence:
1. a manifest ``timestamps.csv`` in the submissions folder (columns ``id,submitted``; the
   time in ISO 8601 with its UTC offset, e.g. ``2026-12-07T23:59:00+01:00`` — what an LMS
   download or the hub's collect step records);
2. a ``timestamp.txt`` inside the student's folder (nbgrader's exchange writes one);
3. the modification time of the zip, or the newest of the folder and its notebooks.
"""
from __future__ import annotations

import csv
import os
from datetime import datetime, timezone
from pathlib import Path

from .submissions import Submission

MANIFEST = "timestamps.csv"


def parse_time(text: str, where: str) -> datetime:
    """An ISO 8601 time with an offset ("Z" allowed); nbgrader's "2026-12-07 22:59:00.123 UTC" too."""
    t = text.strip()
    if t.endswith(" UTC"):
        t = t[:-4] + "+00:00"
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(t)
    except ValueError:
        raise ValueError(f"{where}: {text.strip()!r} is not a time like 2026-12-07T23:59:00+01:00") from None
    if value.tzinfo is None:
        raise ValueError(f"{where}: {text.strip()!r} has no UTC offset (write e.g. 2026-12-07T23:59:00+01:00)")
    return value


def read_manifest(path: Path) -> dict[str, datetime]:
    """id → submission time from a ``timestamps.csv``; raises ValueError naming the line."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"id", "submitted"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: needs the columns id,submitted (found {reader.fieldnames})")
        out: dict[str, datetime] = {}
        for row in reader:
            where = f"{path}, line {reader.line_num}"
            sid = (row["id"] or "").strip()
            if not sid:
                raise ValueError(f"{where}: empty id")
            if sid in out:
                raise ValueError(f"{where}: {sid!r} is listed twice")
            out[sid] = parse_time(row["submitted"] or "", where)
    return out


def _mtime(path: Path) -> float:
    return os.lstat(path).st_mtime


def folder_name(sub: Submission) -> str:
    """The folder or zip name the submission came from (its id before any cleaning)."""
    src = sub.source
    return src[:-1] if src.endswith("/") else (src[:-4] if src.lower().endswith(".zip") else src)


def submission_times(root: Path, subs: list[Submission]) -> tuple[dict[str, datetime], list[str]]:
    """id → when that submission was made, and warnings (manifest entries without a submission)."""
    manifest = read_manifest(root / MANIFEST) if (root / MANIFEST).is_file() else {}
    times: dict[str, datetime] = {}
    seen = set()
    for sub in subs:
        name = folder_name(sub)
        key = sub.id if sub.id in manifest else name
        if key in manifest:
            times[sub.id] = manifest[key]
            seen.add(key)
            continue
        path = root / sub.source.rstrip("/")
        stamp_file = path / "timestamp.txt"
        try:
            if sub.source.endswith("/") and stamp_file.is_file() and not stamp_file.is_symlink():
                times[sub.id] = parse_time(stamp_file.read_text(encoding="utf-8")[:100], f"{stamp_file}")
                continue
        except (OSError, ValueError) as exc:
            sub.problems.append(f"timestamp.txt ignored ({exc})")
        try:
            newest = max([_mtime(path)] + [_mtime(p) for p in sub.files.values() if isinstance(p, Path)])
        except OSError:
            continue
        times[sub.id] = datetime.fromtimestamp(newest, tz=timezone.utc).replace(microsecond=0)
    warnings = [f"{MANIFEST}: {sid} has a time but no submission" for sid in sorted(set(manifest) - seen)]
    return times, warnings
