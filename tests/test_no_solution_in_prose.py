"""The site shows no solution in prose.

The site renders each chapter from its solution notebook: the markdown, the *student* version
of every code cell, and the outputs. ``authoring/pages.py`` drops the solution code itself (the
browser tests check the pages hold none of its lines). A solution can still leak through the
text: a paragraph that dictates the exercise's lines, or an output that prints them. This test
takes every *distinctive* line of every solution block — at least 16 characters, not a comment,
and not also a line of the code students are given anywhere in the course — and looks for it
in the chapter's markdown and stored outputs, as a substring of the whitespace-normalised text
(so a line quoted inside a sentence counts too); and in the text of every rendered chapter page
(``_build/html``), where the given code's docstrings and comments show as well: a docstring that
spells out the solution line leaks it there. The rendered half is marked ``site``: `make test`
runs it after the site build (`make site-tests`, which sets ``MLCOURSE_REQUIRE_SITE=1`` so a
missing page fails instead of skipping); `make unit` leaves it out.
"""
from __future__ import annotations

import html
import os
import re
from pathlib import Path

import nbformat
import pytest

from authoring.release import solution_blocks, student_version

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
SITE = ROOT / "_build" / "html" / "chapters"
MIN_LENGTH = 16


def _normalise(text: str) -> str:
    """Whitespace collapsed, Markdown code ticks removed: `x = 1` in prose reads as x = 1."""
    return " ".join(text.replace("`", "").split())


def _code_line(line: str) -> str:
    return _normalise(line.split("  #")[0])  # a trailing comment is not part of the solution


def _given_lines() -> set[str]:
    """Every code line students are given, in every chapter."""
    return {_code_line(line) for p in CHAPTERS
            for cell in student_version(nbformat.read(p, as_version=4)).cells if cell.cell_type == "code"
            for line in cell.source.splitlines()}


GIVEN = _given_lines()


def distinctive_lines(nb: nbformat.NotebookNode, given: set[str] = GIVEN) -> set[str]:
    """The solution's own lines: long enough to mean something, not a comment, not given code."""
    lines = {_code_line(line) for block in solution_blocks(nb) for line in block.splitlines()}
    return {line for line in lines if len(line) >= MIN_LENGTH and not line.startswith("#") and line not in given}


def shown_text(nb: nbformat.NotebookNode) -> str:
    """The prose and the outputs of a notebook, each cell's text normalised."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "") or out.get("data", {}).get("text/markdown", "")
            parts.append(text if isinstance(text, str) else "".join(text))
    return "\n".join(_normalise(p) for p in parts)


def given_code_text(nb: nbformat.NotebookNode) -> str:
    """The code the page shows: the student version's code cells (docstrings and comments too)."""
    return "\n".join(_normalise(c.source) for c in student_version(nb).cells if c.cell_type == "code")


def leaks(nb: nbformat.NotebookNode, text: str) -> list[str]:
    return sorted(line for line in distinctive_lines(nb) if line in text)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_solution_line_in_the_prose_or_outputs(path):
    nb = nbformat.read(path, as_version=4)
    assert len(distinctive_lines(nb)) >= 5, "too few distinctive lines: the test would prove nothing"
    found = leaks(nb, shown_text(nb))
    assert not found, f"{path.name}: the text shows solution lines: {found[:5]}"
    found = leaks(nb, given_code_text(nb))
    assert not found, f"{path.name}: the given code (a docstring or a comment) spells out solution lines: {found[:5]}"


@pytest.mark.site
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_solution_line_on_the_rendered_page(path):
    page = SITE / f"{path.stem}.html"
    if not page.exists():
        if os.environ.get("MLCOURSE_REQUIRE_SITE"):
            pytest.fail(f"{page} is missing: the site build (make site-only) did not render this chapter")
        pytest.skip("the site has not been built (make site); the sources were checked above")
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page.read_text(encoding="utf-8"), flags=re.S)
    text = _normalise(html.unescape(re.sub(r"<[^>]+>", " ", body)))
    found = leaks(nbformat.read(path, as_version=4), text)
    assert not found, f"{page.name} shows solution lines: {found[:5]}"


def test_the_comparison_finds_a_dictated_line():
    """A paragraph that quotes a solution line inside a sentence is caught; given code is not."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Update with `p.data -= lr * p.grad`, then call `print(loss_value)`."),
        nbformat.v4.new_code_cell("def step(p, lr):\n    ### BEGIN SOLUTION\n    p.data -= lr * p.grad\n"
                                  "    print(loss_value)\n    ### END SOLUTION"),
    ])
    given = {"print(loss_value)"}
    lines = distinctive_lines(nb, given)
    assert lines == {"p.data -= lr * p.grad"}
    assert [line for line in lines if line in shown_text(nb)] == ["p.data -= lr * p.grad"]


def test_the_comparison_finds_a_docstring_that_states_the_solution_line():
    """Chapter 06's momentum_step once said `v_new = beta * v + g` in its (given) docstring."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'def step(w, g, v, beta):\n    """v_new = beta * v + g, then w - v_new."""\n'
        "    ### BEGIN SOLUTION\n    v_new = beta * v + g\n    return w - v_new, v_new\n    ### END SOLUTION")])
    assert "v_new = beta * v + g" in distinctive_lines(nb, set())
    assert [line for line in distinctive_lines(nb, set()) if line in given_code_text(nb)] == ["v_new = beta * v + g"]
