"""Write the results: gradebook.csv, feedback/<assignment>/<id>.md|.html, results.json, exports.

Everything written here is deterministic (rows sorted by id, columns in rubric order, no
timestamps but the submissions' own), so re-grading the same submissions gives identical
files. Feedback holds the verdict messages only — never hidden inputs, expected values of
hidden cases, grader source or tracebacks.
"""
from __future__ import annotations

from pathlib import Path

from mlcourse.safe_text import for_json

from . import exports, feedback, gradebook
from .assignments import Assignment, stamp
from .config import Rubric
from .submissions import file_keys
from .gradebook import Row, fmt  # noqa: F401  (fmt: the gradebook's number format, used by others)


def write_all(out: Path, rubric: Rubric, chosen: list[Assignment], rows: list[Row], meta: dict,
              formats: list[str] = (), has_roster: bool = False) -> list[Path]:
    """feedback/<assignment>/<key>.md|.html, gradebook.csv, results.json and the exports in ``out``.

    ``<key>`` is the student's id when it is a plain file name, else a stable name made from it
    (submissions.file_key). One student's feedback failing to be written never stops the
    others': the failure goes into that student's notes, and the gradebook, results.json and
    exports are written for everyone.
    """
    keys = file_keys([row.id for row in rows])
    for a in chosen:
        folder = out / "feedback" / a.id
        folder.mkdir(parents=True, exist_ok=True)
        for row in rows:
            if row.result is None:
                continue
            try:
                md, page = feedback.render(row, a, rubric)
                _write(folder / f"{keys[row.id]}.md", md)
                _write(folder / f"{keys[row.id]}.html", page)
            except Exception as exc:  # noqa: BLE001 — a bug for one student is that student's note
                row.result["notes"] = [*row.result.get("notes", []), f"{a.id}: feedback could not be written "
                                                                      f"({type(exc).__name__}); see results.json"]
    gradebook.write(out / "gradebook.csv", rows, chosen)
    written = [exports.write(f, out, rows, chosen, has_roster) for f in dict.fromkeys(formats)]
    doc = {"rubric": [{"id": i.id, "description": i.description, "points": i.points, "category": i.category,
                       "chapters": list(i.chapters), "partial": i.partial} for i in rubric.items],
           "assignments": [{"id": a.id, "title": a.title, "items": list(a.items), "chapters": list(a.chapters),
                            "due": stamp(a.due) if a.due else None, "late_policy": a.late.policy,
                            "late_per_day": a.late.per_day, "points": a.points} for a in chosen],
           "settings": meta,
           "students": [{**(row.result or {"student": row.id, "items": {}, "notebooks": {}, "notes": []}),
                         "id": row.id, "feedback": keys[row.id], "status": row.status,
                         "submitted": stamp(row.submitted) if row.submitted else None,
                         "assignments": row.scores} for row in rows]}
    _write(out / "results.json", for_json(doc) + "\n")
    return written


def _write(path: Path, text: str) -> None:
    # errors="backslashreplace": a lone surrogate (a file name's byte that is not UTF-8, a
    # worker's message) is written as \udcff instead of stopping the run.
    path.write_text(text, encoding="utf-8", errors="backslashreplace")
