"""Write the results: gradebook.csv, feedback/<assignment>/<id>.md|.html, results.json, exports.

Everything written here is deterministic (rows sorted by id, columns in rubric order, no
timestamps but the submissions' own), so re-grading the same submissions gives identical
files. Feedback holds the verdict messages only — never hidden inputs, expected values of
hidden cases, grader source or tracebacks.
"""
from __future__ import annotations

from pathlib import Path

from . import exports, feedback, gradebook
from .assignments import Assignment, stamp
from .config import Rubric
from .gradebook import Row, fmt  # noqa: F401  (fmt: the gradebook's number format, used by others)
from .safe_text import for_json


def write_all(out: Path, rubric: Rubric, chosen: list[Assignment], rows: list[Row], meta: dict,
              formats: list[str] = (), has_roster: bool = False) -> list[Path]:
    """gradebook.csv, feedback/<assignment>/<id>.md|.html, results.json and the exports in ``out``."""
    gradebook.write(out / "gradebook.csv", rows, chosen)
    for a in chosen:
        folder = out / "feedback" / a.id
        folder.mkdir(parents=True, exist_ok=True)
        for row in rows:
            if row.result is None:
                continue
            md, page = feedback.render(row, a, rubric)
            (folder / f"{row.id}.md").write_text(md, encoding="utf-8")
            (folder / f"{row.id}.html").write_text(page, encoding="utf-8")
    written = [exports.write(f, out, rows, chosen, has_roster) for f in dict.fromkeys(formats)]
    doc = {"rubric": [{"id": i.id, "description": i.description, "points": i.points, "category": i.category,
                       "chapters": list(i.chapters), "partial": i.partial} for i in rubric.items],
           "assignments": [{"id": a.id, "title": a.title, "items": list(a.items), "chapters": list(a.chapters),
                            "due": stamp(a.due) if a.due else None, "late_policy": a.late.policy,
                            "late_per_day": a.late.per_day, "points": a.points} for a in chosen],
           "settings": meta,
           "students": [{**(row.result or {"student": row.id, "items": {}, "notebooks": {}, "notes": []}),
                         "id": row.id, "status": row.status,
                         "submitted": stamp(row.submitted) if row.submitted else None,
                         "assignments": row.scores} for row in rows]}
    (out / "results.json").write_text(for_json(doc) + "\n", encoding="utf-8")
    return written
