"""The class roster: who is enrolled, and which submission folder is whose.

``roster.csv`` is a UTF-8 CSV with a header row. Only ``id`` is required: it is the name of
the student's submission folder (or zip, without ``.zip``) and is kept exactly as written —
``ben.smith@uni.edu`` stays ``ben.smith@uni.edu`` in every output. Other columns:

==============  ==================================================================
name            as the LMS shows it (Canvas's export: "Last, First")
first_name,     for Moodle's export layout (default: split from ``name``)
last_name
email           Moodle's usual import key (``Email address`` → ``useremail``)
section         Canvas "Section"
canvas_id       Canvas "ID" (the numeric user id of Canvas's gradebook export)
sis_user_id     Canvas "SIS User ID"
sis_login_id    Canvas "SIS Login ID"
id_number       Moodle "ID number" (``useridnumber``)
==============  ==================================================================
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

COLUMNS = ("id", "name", "first_name", "last_name", "email", "section", "canvas_id", "sis_user_id",
           "sis_login_id", "id_number")


@dataclass(frozen=True)
class Student:
    id: str
    fields: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def get(self, column: str) -> str:
        return self.fields.get(column, "")

    @property
    def name(self) -> str:
        return self.get("name") or " ".join(p for p in (self.get("first_name"), self.get("last_name")) if p)

    def first_last(self) -> tuple[str, str]:
        """(first name, last name): the roster's columns, else split from ``name``."""
        if self.get("first_name") or self.get("last_name"):
            return self.get("first_name"), self.get("last_name")
        name = self.get("name").strip()
        if "," in name:  # "Last, First", as Canvas exports names
            last, first = (p.strip() for p in name.split(",", 1))
            return first, last
        first, _, last = name.rpartition(" ")
        return (first, last) if first else (name, "")


def read(path: Path) -> list[Student]:
    """The students of ``path`` in file order; raises ValueError naming the line at fault."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            if "id" not in header:
                raise ValueError(f"{path}: the header has no 'id' column (found: {', '.join(header) or 'nothing'}); "
                                 f"known columns: {', '.join(COLUMNS)}")
            students: list[Student] = []
            seen: dict[str, int] = {}
            for row in reader:
                row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
                if not any(row.values()):
                    continue
                where = f"{path}, line {reader.line_num}"
                sid = row.get("id", "")
                if not sid:
                    raise ValueError(f"{where}: empty id")
                if sid in (".", "..") or sid.startswith(".") or any(c in sid for c in "/\\\0"):
                    raise ValueError(f"{where}: id {sid!r} cannot be a submission folder name")
                if sid in seen:
                    raise ValueError(f"{where}: id {sid!r} is already on line {seen[sid]}")
                seen[sid] = reader.line_num
                students.append(Student(id=sid, fields={k: v for k, v in row.items() if k in COLUMNS and v}))
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text — export the roster as CSV (UTF-8)") from None
    return students


def match(students: list[Student], names: dict[str, str]) -> tuple[dict[str, str], list[str], list[str]]:
    """Match submissions to the roster.

    ``names`` maps each submission's id to the folder/zip name it came from. A submission
    belongs to the student whose roster id equals that name exactly (or, failing that, its
    id). Returns ({submission id: roster id}, roster ids without a submission, submission
    ids not in the roster).
    """
    roster = {s.id for s in students}
    owner: dict[str, str] = {}
    for sid, name in sorted(names.items()):
        rid = name if name in roster else (sid if sid in roster else None)
        if rid is not None and rid not in owner.values():  # two folders for one student: the second is listed
            owner[sid] = rid
    taken = set(owner.values())
    missing = [s.id for s in students if s.id not in taken]
    unknown = sorted(sid for sid in names if sid not in owner)
    return owner, missing, unknown
