"""Student-controlled text made safe for the place it is shown — the one home of that rule.

In mlcourse because both sides need it: the grader (grading/) and the student edition's
progress report (mlcourse.report), which ships without the grader.

Anything a submission can influence (exception messages, file names, returned values in a
verdict) goes through one of these before it reaches a person or a program:

* :func:`one_line` — printable, a single line, at most ``limit`` characters (every output);
* :func:`for_csv` — a spreadsheet cell that is never a formula (gradebook.csv);
* :func:`for_markdown` — shown literally: no HTML, links or images (feedback/<id>.md);
* :func:`for_html` — escaped for an HTML page (feedback/<id>.html);
* :func:`for_json` — a JSON document any UTF-8 reader accepts (results.json).
"""
from __future__ import annotations

import html
import json
from typing import Any


def one_line(text: Any, limit: int | None = 400, replacement: str = " ", ellipsis: str = "…") -> str:
    """``text`` with every unprintable character (newlines, escapes, lone surrogates …) replaced
    by ``replacement`` and cut to ``limit`` characters (the last one then being ``ellipsis``;
    ``limit=None``: not cut)."""
    text = "".join(ch if ch.isprintable() else replacement for ch in str(text))
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - len(ellipsis)] + ellipsis


def for_csv(text: Any) -> str:
    """A CSV cell a spreadsheet shows as text: no formula injection (=, +, -, @, tab, CR)."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def for_markdown(text: Any) -> str:
    """Shown literally in Markdown, also in a table cell: no HTML, links, images, emphasis or
    column breaks."""
    return (html.escape(str(text), quote=False).replace("[", "\\[").replace("]", "\\]")
            .replace("*", "\\*").replace("|", "\\|"))


def for_html(text: Any) -> str:
    """Escaped for HTML text and attribute values."""
    return html.escape(str(text))


def for_json(document: Any, indent: int | None = 1) -> str:
    """``document`` as JSON text (non-ASCII kept readable; the strings in it went through
    :func:`one_line`, so no lone surrogate can make the UTF-8 encoding fail)."""
    return json.dumps(document, indent=indent, ensure_ascii=False)
