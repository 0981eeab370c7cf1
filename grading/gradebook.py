"""The class gradebook: one row per student, one column per assignment and per item in it.

Rows come from the grading results, the roster (if any) and the submission times:
roster students without a submission get a "no submission" row (0 points), submissions
whose folder is not in the roster get a "not in roster" row — nothing is dropped. Rows are
sorted by id and nothing depends on the clock, so the same input gives the same bytes.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mlcourse.safe_text import for_csv

from . import assignments as asg
from .assignments import Assignment
from .config import Rubric
from .roster import Student

GRADED, NO_SUBMISSION, NOT_IN_ROSTER = "graded", "no submission", "not in roster"


@dataclass
class Row:
    id: str                                  # the roster's id, exactly (else the submission's)
    status: str                              # GRADED | NO_SUBMISSION | NOT_IN_ROSTER
    student: Student | None = None
    submitted: datetime | None = None
    result: dict | None = None               # grade.score() of the submission, None without one
    scores: dict[str, dict] = field(default_factory=dict)  # assignment id → assignments.score()

    @property
    def name(self) -> str:
        return self.student.name if self.student else ""

    def notes(self) -> list[str]:
        return list(self.result["notes"]) if self.result else []


def build_rows(results: list[dict], rubric: Rubric, chosen: list[Assignment], students: list[Student] | None,
               owner: dict[str, str], times: dict[str, datetime]) -> list[Row]:
    """Every student's row: graded submissions, then roster students without one."""
    items = {i.id: i for i in rubric.items}
    by_id = {s.id: s for s in students or []}
    rows: list[Row] = []
    for r in results:
        sid = r["student"]
        rid = owner.get(sid, sid)
        status = GRADED if students is None or sid in owner else NOT_IN_ROSTER
        rows.append(Row(id=rid, status=status, student=by_id.get(rid), submitted=times.get(sid), result=r))
    graded = {row.id for row in rows if row.status == GRADED}
    for s in students or []:
        if s.id not in graded:
            rows.append(Row(id=s.id, status=NO_SUBMISSION, student=s))
    for row in rows:
        earned = {i: row.result["items"][i]["points"] for i in items} if row.result else {}
        for a in chosen:
            maximum = asg.maxima(a, items)[0]
            late = asg.lateness(a, row.submitted, maximum) if row.result else asg.Late(0, 0.0, "")
            row.scores[a.id] = asg.score(a, items, earned, late)
    return sorted(rows, key=lambda row: row.id)


def fmt(x: float) -> str:
    """10.0 → "10", 2.5 → "2.5" (stable text for the CSV)."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def columns(chosen: list[Assignment]) -> list[str]:
    cols = ["id", "name", "email", "section", "status", "submitted"]
    for a in chosen:
        cols.append(a.id)
        if a.due is not None:
            cols += [f"{a.id}.late_days", f"{a.id}.penalty"]
        cols += [f"{a.id}.{i}" for i in a.items]
    return cols + ["notes"]


def write(path: Path, rows: list[Row], chosen: list[Assignment]) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns(chosen))
        for row in rows:
            line = [row.id, row.name, row.student.get("email") if row.student else "",
                    row.student.get("section") if row.student else "", row.status,
                    asg.stamp(row.submitted) if row.submitted else ""]
            for a in chosen:
                s = row.scores[a.id]
                line.append(fmt(s["points"]))
                if a.due is not None:
                    line += [str(s["late_days"]), fmt(s["penalty"])]
                line += [fmt(row.result["items"][i]["points"]) if row.result else "0" for i in a.items]
            line.append("; ".join(row.notes()))
            w.writerow([for_csv(x) for x in line])
