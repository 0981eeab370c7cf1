"""Grade files an LMS imports as they are: ``--export canvas|moodle|csv``.

One column per graded assignment (its final points, late penalty taken). Submissions not
in the roster cannot be matched to an LMS account: they are left out of the Canvas and
Moodle files (and listed by the grader); they stay in gradebook.csv.

- **Canvas** (Instructor Guide, "How do I import grades in the Gradebook?"): the layout of
  Canvas's own gradebook export — ``Student, ID, SIS User ID, SIS Login ID, Section`` and
  then one column per assignment, headed ``Title (canvas_id)`` when the assignment declares
  its Canvas id in the rubric (Canvas's own header form), else by its title (Canvas offers
  to create an assignment for a column it does not know), and the optional second row
  ``Points Possible``.
- **Moodle** (MoodleDocs "Grade import", CSV, Moodle 4.x): the layout of Moodle's plain-text
  grade export — ``First name, Last name, ID number, Institution, Department, Email
  address`` and one column per grade item; on import map ``Email address`` → ``useremail``
  (or ``ID number`` → ``useridnumber``) and each assignment column to its grade item.
- **csv**: ``id, name, email, section, submitted`` and one column per assignment.
"""
from __future__ import annotations

import csv
from pathlib import Path

from mlcourse.safe_text import for_csv

from .assignments import Assignment, stamp
from .gradebook import NOT_IN_ROSTER, Row, fmt

FORMATS = ("canvas", "moodle", "csv")
FILES = {"canvas": "canvas.csv", "moodle": "moodle.csv", "csv": "grades.csv"}


def _rows(rows: list[Row], lms: bool) -> list[Row]:
    return [r for r in rows if not (lms and r.status == NOT_IN_ROSTER)]


def canvas(path: Path, rows: list[Row], chosen: list[Assignment], has_roster: bool) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *[_canvas_header(a) for a in chosen]])
        w.writerow(["Points Possible", "", "", "", "", *[fmt(r) for r in _maxima(rows, chosen)]])
        for r in _rows(rows, lms=True):
            s = r.student
            if s is not None:
                ident = [s.name, s.get("canvas_id"), s.get("sis_user_id"), s.get("sis_login_id"), s.get("section")]
            else:  # no roster: the folder name is the best login id there is
                ident = [r.id, "", "", r.id if not has_roster else "", ""]
            w.writerow([for_csv(x) for x in ident + [fmt(r.scores[a.id]["points"]) for a in chosen]])


def _canvas_header(a: Assignment) -> str:
    return f"{a.title} ({a.canvas_id})" if a.canvas_id else a.title


def moodle(path: Path, rows: list[Row], chosen: list[Assignment]) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["First name", "Last name", "ID number", "Institution", "Department", "Email address",
                    *[a.title for a in chosen]])
        for r in _rows(rows, lms=True):
            s = r.student
            first, last = s.first_last() if s else (r.id, "")
            ident = [first, last, s.get("id_number") if s else "", "", "", s.get("email") if s else ""]
            w.writerow([for_csv(x) for x in ident + [fmt(r.scores[a.id]["points"]) for a in chosen]])


def plain(path: Path, rows: list[Row], chosen: list[Assignment]) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "name", "email", "section", "status", "submitted", *[a.id for a in chosen]])
        for r in rows:
            s = r.student
            line = [r.id, r.name, s.get("email") if s else "", s.get("section") if s else "", r.status,
                    stamp(r.submitted) if r.submitted else "", *[fmt(r.scores[a.id]["points"]) for a in chosen]]
            w.writerow([for_csv(x) for x in line])


def _maxima(rows: list[Row], chosen: list[Assignment]) -> list[float]:
    if rows:
        return [rows[0].scores[a.id]["max"] for a in chosen]
    return [0.0 for _ in chosen]


def write(fmt_name: str, out: Path, rows: list[Row], chosen: list[Assignment], has_roster: bool) -> Path:
    path = out / FILES[fmt_name]
    if fmt_name == "canvas":
        canvas(path, rows, chosen, has_roster)
    elif fmt_name == "moodle":
        moodle(path, rows, chosen)
    else:
        plain(path, rows, chosen)
    return path
