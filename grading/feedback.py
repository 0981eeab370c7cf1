"""A student's feedback for one assignment, as Markdown and as HTML (one structure, two renderings).

Order and wording are for the student: the score and any late penalty first, then the
items, then one section per chapter in chapter order with one line per exercise (an
exercise checked twice — e.g. for correctness and for speed — is one line), one line for
a missing or invalid notebook instead of one per exercise, and no "0 / 0" for exercises
that are checked but carry no points of their own. Messages hold grader text with
`code` spans and student text that was already cleaned (printable, one line); both
renderings escape it, so a student's text never becomes markup.
"""
from __future__ import annotations

from dataclasses import dataclass

from mlcourse.safe_text import for_html, for_markdown, one_line

from . import assignments as asg
from .assignments import Assignment
from .config import Rubric
from .gradebook import Row, fmt

STYLE = ("body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.45}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
         "td.pts{text-align:right;white-space:nowrap}.pass{color:#17612c}.fail{color:#a31515}"
         "code{background:#f4f4f4;padding:0 .2em}")


@dataclass
class Block:
    kind: str                 # h1 | h2 | p | strong | em | ul | table
    text: str = ""
    lines: list | None = None  # ul: [(css class, text)]; table: [(cell, cell)]


def _chapter_key(item) -> str:
    return min(item.chapters) if item.chapters else "99"


def exercises(verdicts: list[dict], items: dict, earned_all: dict[str, bool]) -> list[dict]:
    """One entry per (chapter, function) in manifest order: checks of the same function merged.

    Each: chapter, function, ok, points (what it earns toward its item: 0 for an exercise of
    an all-or-nothing item that was not earned), max, message (the failing checks' messages,
    else the passing one's).
    """
    merged: dict[tuple[str, str], list[dict]] = {}
    for v in verdicts:
        merged.setdefault((v["chapter"], v["function"]), []).append(v)
    out = []
    for (chapter, function), vs in merged.items():
        failing = [v["message"] for v in vs if v["status"] != "pass"]
        messages = list(dict.fromkeys(failing or [next((v["message"] for v in vs if v["max"]), vs[0]["message"])]))
        out.append({"chapter": chapter, "function": function, "ok": not failing,
                    "points": sum(v["points"] if items[v["rubric"]].partial or earned_all[v["rubric"]] else 0.0
                                  for v in vs),
                    "max": sum(v["max"] for v in vs), "message": " · ".join(messages)})
    return out


def _exercise_lines(verdicts: list[dict], items: dict, earned_all: dict[str, bool]) -> list[tuple[str, str]]:
    lines = []
    for e in exercises(verdicts, items, earned_all):
        mark = "✅" if e["ok"] else "❌"
        pts = f"{fmt(e['points'])} / {fmt(e['max'])} — " if e["max"] else ""
        note = "" if e["max"] else " *(checked, no points of its own)*"
        lines.append(("pass" if e["ok"] else "fail", f"{mark} {pts}{e['message']}{note}"))
    return lines


def build(row: Row, a: Assignment, rubric: Rubric) -> list[Block]:
    items = {i.id: i for i in rubric.items}
    s = row.scores[a.id]
    who = row.id + (f" ({row.name})" if row.name else "")
    blocks = [Block("h1", f"{a.title} — feedback for {who}")]
    bonus = f" (bonus {fmt(s['bonus_points'])} / {fmt(s['bonus'])}, counted in the score)" if s["bonus"] else ""
    if row.result is None:
        blocks.append(Block("strong", f"Score: 0 / {fmt(s['max'])} — no submission was received."))
        return blocks
    blocks.append(Block("strong", f"Score: {fmt(s['points'])} / {fmt(s['max'])}{bonus}"))
    if a.due is not None:
        due = (f"Late: {s['late_note']}." if s["late_note"] else
               f"Due {asg.stamp(a.due)}; " + (f"submitted {asg.stamp(row.submitted)}, on time."
                                              if row.submitted else "submission time unknown."))
        if s["late_days"] and s["before_late"] != s["points"]:
            due += f" Before the late penalty: {fmt(s['before_late'])}."
        blocks.append(Block("p", due))
    chosen = sorted((items[i] for i in a.items), key=lambda it: (_chapter_key(it), a.items.index(it.id)))
    table = []
    for it in chosen:
        label = it.description
        if it.category == "bonus" and not label.lower().startswith("bonus"):
            label += " *(bonus)*"
        elif it.category == "extra":
            label += " *(extra chapter: not part of the course's 110 points)*"
        got = row.result["items"][it.id]
        table.append((label, f"{fmt(got['points'])} / {fmt(it.points)}"))
    blocks.append(Block("table", lines=table))
    earned_all = {i: row.result["items"][i]["note"] == "" for i in a.items}
    verdicts = [v for i in a.items for v in row.result["items"][i]["exercises"]]
    chapters = sorted({v["chapter"] for v in verdicts})
    shown_notes = []
    for chapter in chapters:
        nb = row.result["notebooks"].get(chapter, {})
        mine = [v for v in verdicts if v["chapter"] == chapter]
        blocks.append(Block("h2", f"Chapter {chapter[:2]} — `{chapter}.ipynb`"))
        status = nb.get("status", "graded")
        n = len({v["function"] for v in mine})
        if status == "missing":
            blocks.append(Block("ul", lines=[("fail", f"❌ `{chapter}.ipynb` is not in your submission: its {n} "
                                                     f"exercise{'s' if n != 1 else ''} score 0.")]))
            shown_notes.append(f"{chapter}: missing")
            continue
        if status == "invalid":
            blocks.append(Block("ul", lines=[("fail", f"❌ {nb.get('message', 'not a valid notebook')} (its {n} "
                                                     f"exercise{'s' if n != 1 else ''} score 0)")]))
            shown_notes.append(f"{chapter}: invalid")
            continue
        about = []
        if nb.get("message"):
            about.append(nb["message"])
        about += [f"while loading your definitions: {p}" for p in nb.get("load_problems", [])]
        runs = nb.get("runs", {})
        if runs.get("status") == "ok":
            about.append("runs top to bottom without errors")
        elif runs.get("status") not in (None, "not_run", "missing", "invalid"):
            about.append(f"does not run top to bottom: {runs.get('message', '')}")
        for text in about:
            blocks.append(Block("em", text))
        blocks.append(Block("ul", lines=_exercise_lines(mine, items, earned_all)))
        for it in chosen:  # all-or-nothing items that earned nothing say why
            if not it.partial and not earned_all[it.id] and any(v["rubric"] == it.id for v in mine):
                blocks.append(Block("em", f"{it.description}: {row.result['items'][it.id]['note']}"))
    notes = [x for x in row.notes() if x not in shown_notes and not any(x.startswith(f"{c}: ") for c in chapters)]
    if notes:
        blocks.append(Block("h2", "Notes"))
        blocks.append(Block("ul", lines=[("", x) for x in notes]))
    return blocks


# --- rendering ----------------------------------------------------------------------------

def _spans(text: str) -> list[tuple[bool, str]]:
    """(is code, text) segments of ``text``'s `code` spans (an unmatched backtick is text)."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # odd number of backticks: the last one is literal
        parts[-2:] = [parts[-2] + "`" + parts[-1]]
    return [(i % 2 == 1, p) for i, p in enumerate(parts)]


def _emph(text: str) -> list[tuple[str, str]]:
    """Split off the grader's own *(…)* remarks: (kind, text) with kind "em" or ""."""
    out, rest = [], text
    while " *(" in rest and rest.endswith(")*"):
        i = rest.rindex(" *(")
        out.insert(0, ("em", rest[i + 2:-1]))
        rest = rest[:i]
    return [("", rest)] + out


def md_inline(text: str) -> str:
    out = []
    # Student text on one line: a line break could start a heading or a list of its own.
    for kind, part in _emph(one_line(text, limit=None)):
        rendered = "".join(f"`{seg}`" if code else for_markdown(seg) for code, seg in _spans(part))
        out.append(f" *{rendered}*" if kind else rendered)
    return "".join(out)


def html_inline(text: str) -> str:
    out = []
    for kind, part in _emph(one_line(text, limit=None)):
        rendered = "".join(f"<code>{for_html(seg)}</code>" if code else for_html(seg) for code, seg in _spans(part))
        out.append(f" <em>{rendered}</em>" if kind else rendered)
    return "".join(out)


def markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if b.kind == "h1":
            out += [f"# {md_inline(b.text)}", ""]
        elif b.kind == "h2":
            out += [f"## {md_inline(b.text)}", ""]
        elif b.kind == "strong":
            out += [f"**{md_inline(b.text)}**", ""]
        elif b.kind == "em":
            out += [f"*{md_inline(b.text)}*", ""]
        elif b.kind == "p":
            out += [md_inline(b.text), ""]
        elif b.kind == "ul":
            out += [f"- {md_inline(t)}" for _, t in b.lines or []] + [""]
        elif b.kind == "table":
            out += ["| item | points |", "|---|---:|"] + [f"| {md_inline(c)} | {p} |" for c, p in b.lines or []] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def to_html(blocks: list[Block]) -> str:
    title = html_inline(blocks[0].text) if blocks else "Feedback"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{for_html(blocks[0].text) if blocks else 'Feedback'}</title>",
           f"<style>{STYLE}</style></head><body>"]
    for b in blocks:
        if b.kind == "h1":
            out.append(f"<h1>{title}</h1>")
        elif b.kind == "h2":
            out.append(f"<h2>{html_inline(b.text)}</h2>")
        elif b.kind == "strong":
            out.append(f"<p><strong>{html_inline(b.text)}</strong></p>")
        elif b.kind == "em":
            out.append(f"<p><em>{html_inline(b.text)}</em></p>")
        elif b.kind == "p":
            out.append(f"<p>{html_inline(b.text)}</p>")
        elif b.kind == "ul":
            out.append("<ul>" + "".join(f'<li class="{c}">{html_inline(t)}</li>' if c else f"<li>{html_inline(t)}</li>"
                                        for c, t in b.lines or []) + "</ul>")
        elif b.kind == "table":
            out.append("<table><tr><th>item</th><th>points</th></tr>" +
                       "".join(f'<tr><td>{html_inline(c)}</td><td class="pts">{for_html(p)}</td></tr>'
                               for c, p in b.lines or []) + "</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render(row: Row, a: Assignment, rubric: Rubric) -> tuple[str, str]:
    """(Markdown, HTML) feedback of ``row`` for assignment ``a``."""
    blocks = build(row, a, rubric)
    return markdown(blocks), to_html(blocks)
