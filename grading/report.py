"""Write the results: gradebook.csv, feedback/<id>.md and .html, results.json.

Everything written here is deterministic (rows sorted by student id, columns in rubric
order, no timestamps), so re-grading the same submissions gives identical files.
Feedback holds the verdict messages only — never hidden inputs, expected values of hidden
cases, grader source or tracebacks.
"""
from __future__ import annotations

import csv
import html
import json
from pathlib import Path

from .config import Rubric

ICON = {"pass": "✅"}
STATUS_TEXT = {"ok": "✅ runs top to bottom", "not_run": "not checked (grader run without --run-notebooks)",
               "missing": "missing", "invalid": "not a valid notebook"}


def fmt(x: float) -> str:
    """10.0 → "10", 2.5 → "2.5" (stable text for the CSV)."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _cell(text: str) -> str:
    # No formula injection when the gradebook is opened in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def write_gradebook(path: Path, rubric: Rubric, results: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["student", *[i.id for i in rubric.items], "total", "notes"])
        for r in sorted(results, key=lambda r: r["student"]):
            w.writerow([_cell(r["student"]), *[fmt(r["items"][i.id]["points"]) for i in rubric.items],
                        fmt(r["total"]), _cell("; ".join(r["notes"]))])


def _max(rubric: Rubric) -> tuple[float, float]:
    core = sum(i.points for i in rubric.items if i.category != "bonus")
    return core, sum(i.points for i in rubric.items if i.category == "bonus")


def feedback_md(r: dict, rubric: Rubric) -> str:
    core, bonus = _max(rubric)
    got_bonus = sum(r["items"][i.id]["points"] for i in rubric.items if i.category == "bonus")
    lines = [f"# Feedback for {_md(r['student'])}", "",
             f"**Total: {fmt(r['total'] - got_bonus)} / {fmt(core)}** (+ {fmt(got_bonus)} / {fmt(bonus)} bonus)", "",
             "| item | points |", "|---|---|"]
    for item in rubric.items:
        it = r["items"][item.id]
        lines.append(f"| {item.description} (`{item.id}`) | {fmt(it['points'])} / {fmt(item.points)} |")
    for item in rubric.items:
        it = r["items"][item.id]
        lines += ["", f"## {item.description} — {fmt(it['points'])} / {fmt(item.points)}", ""]
        if it["note"]:
            lines.append(f"*{it['note']}*")
            lines.append("")
        for v in it["exercises"]:
            mark = "✅" if v["status"] == "pass" else "❌"
            lines.append(f"- {mark} {fmt(v['points'])} / {fmt(v['max'])} ({v['chapter']}) {_md(v['message'])}")
    lines += ["", "## Notebooks", ""]
    for chapter, nb in r["notebooks"].items():
        state = {"graded": f"graded ({_md(nb['file'])})", "missing": "missing", "invalid": "not valid",
                 "shared": "not graded (shared file)"}.get(nb["status"], _md(nb["status"]))
        runs = nb["runs"]
        run_text = STATUS_TEXT.get(runs["status"], f"❌ {_md(runs['message'])}")
        lines.append(f"- **{chapter}**: {state}; top to bottom: {run_text}")
        if nb.get("message"):
            lines.append(f"  - {_md(nb['message'])}")
        for p in nb.get("load_problems", []):
            lines.append(f"  - while loading your definitions: {_md(p)}")
    if r["notes"]:
        lines += ["", "## Notes", ""] + [f"- {_md(n)}" for n in r["notes"]]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    # Student text is shown literally, on one line: no HTML, no links, no images, and no
    # line break that could start a heading of its own.
    one_line = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return html.escape(one_line, quote=False).replace("[", "\\[").replace("]", "\\]")


def feedback_html(r: dict, rubric: Rubric) -> str:
    e = lambda s: html.escape(str(s))  # noqa: E731
    core, bonus = _max(rubric)
    got_bonus = sum(r["items"][i.id]["points"] for i in rubric.items if i.category == "bonus")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>Feedback for {e(r['student'])}</title>",
           "<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
           "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
           ".pass{color:#17612c}.fail{color:#a31515}code{background:#f4f4f4}</style></head><body>",
           f"<h1>Feedback for {e(r['student'])}</h1>",
           f"<p><strong>Total: {fmt(r['total'] - got_bonus)} / {fmt(core)}</strong> "
           f"(+ {fmt(got_bonus)} / {fmt(bonus)} bonus)</p>",
           "<table><tr><th>item</th><th>points</th></tr>"]
    for item in rubric.items:
        it = r["items"][item.id]
        out.append(f"<tr><td>{e(item.description)}</td><td>{fmt(it['points'])} / {fmt(item.points)}</td></tr>")
    out.append("</table>")
    for item in rubric.items:
        it = r["items"][item.id]
        out.append(f"<h2>{e(item.description)} — {fmt(it['points'])} / {fmt(item.points)}</h2>")
        if it["note"]:
            out.append(f"<p><em>{e(it['note'])}</em></p>")
        if it["exercises"]:
            out.append("<ul>")
            for v in it["exercises"]:
                ok = v["status"] == "pass"
                out.append(f'<li class="{"pass" if ok else "fail"}">{"✅" if ok else "❌"} '
                           f"{fmt(v['points'])} / {fmt(v['max'])} ({e(v['chapter'])}) {e(v['message'])}</li>")
            out.append("</ul>")
    out.append("<h2>Notebooks</h2><ul>")
    for chapter, nb in r["notebooks"].items():
        runs = nb["runs"]
        run_text = STATUS_TEXT.get(runs["status"], f"❌ {runs['message']}")
        out.append(f"<li><strong>{e(chapter)}</strong>: {e(nb['status'])}; top to bottom: {e(run_text)}")
        extra = ([nb["message"]] if nb.get("message") else []) + \
            [f"while loading your definitions: {p}" for p in nb.get("load_problems", [])]
        if extra:
            out.append("<ul>" + "".join(f"<li>{e(x)}</li>" for x in extra) + "</ul>")
        out.append("</li>")
    out.append("</ul>")
    if r["notes"]:
        out.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in r["notes"]) + "</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _write(path: Path, text: str) -> None:
    # errors="backslashreplace": a lone surrogate (a file name's byte that is not UTF-8, a
    # worker's message) is written as \udcff instead of stopping the run.
    path.write_text(text, encoding="utf-8", errors="backslashreplace")


def write_all(out: Path, rubric: Rubric, results: list[dict], meta: dict) -> None:
    """feedback/<key>.md|.html, gradebook.csv and results.json in ``out``.

    One student's feedback failing to be written never stops the others': the failure goes
    into that student's row, and the gradebook and results.json are written for everyone.
    """
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    results = sorted(results, key=lambda r: r["student"])
    for r in results:
        key = r.get("feedback") or "student"
        try:
            _write(out / "feedback" / f"{key}.md", feedback_md(r, rubric))
            _write(out / "feedback" / f"{key}.html", feedback_html(r, rubric))
        except Exception as exc:  # noqa: BLE001 — a bug for one student is that student's note
            r["notes"] = [*r.get("notes", []), f"feedback could not be written ({type(exc).__name__}); "
                                               "see results.json"]
    write_gradebook(out / "gradebook.csv", rubric, results)
    doc = {"rubric": [{"id": i.id, "description": i.description, "points": i.points, "category": i.category,
                       "chapters": list(i.chapters), "partial": i.partial} for i in rubric.items],
           "settings": meta, "students": results}
    _write(out / "results.json", json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
