"""What the site adds for readers who want to run the course: the student edition download,
helper code folded away, equations that fit a phone, search snippets without TeX.

Used by the site build (authoring/site.py) while staging:

* ``download_note(name)`` — the markdown cell under each chapter's title: the edition's zip
  (copied beside the pages by ``copy_edition``) and the two lines that start it;
* ``fold_helpers(cell)`` — long helper code (plotting, set-up; never an exercise or a check)
  gets Jupyter Book's ``hide-input`` tag: its figure stays, its code sits behind a toggle;
* ``write_assets(stage)`` — ``_static/mlcourse.css`` (display equations scroll inside their own
  box, with a visible scrollbar, instead of overflowing a narrow screen) and
  ``_static/mlcourse-search.js`` (search snippets are made from the page text without its
  TeX sources).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from . import edition

ZIP = f"{edition.NAME}.zip"
FOLD_LINES = 12  # helper code longer than this is folded
START = f"unzip {ZIP} && cd {edition.NAME}\nmake lab        # sets up (first time) and opens JupyterLab"

CSS = """/* mlcourse: nothing in a chapter is wider than a phone's screen (390 px). A wide display
   equation scrolls inside its own box, with a visible scrollbar as the cue (MathJax 3
   CommonHTML output and Sphinx's math divs); a long inline formula does the same inside its
   line; long inline code wraps. */
div.math, .math-wrapper, mjx-container[display="true"] {
    display: block; max-width: 100%; overflow-x: auto; overflow-y: hidden;
    scrollbar-width: thin; scrollbar-color: #9aa4b1 #eef0f3;
}
mjx-container[jax="CHTML"]:not([display="true"]) {
    display: inline-block; max-width: 100%; overflow-x: auto; overflow-y: hidden; vertical-align: bottom;
    scrollbar-width: thin;
}
mjx-container::-webkit-scrollbar { height: 6px; }
mjx-container::-webkit-scrollbar-thumb { background: #9aa4b1; border-radius: 3px; }
code.literal, code.docutils, code.literal span.pre, code.docutils span.pre {
    white-space: pre-wrap; overflow-wrap: anywhere;
}
.mlcourse-download { font-weight: 600; }
"""

SEARCH_JS = """// mlcourse: search snippets from the page text without its TeX sources (\\( … \\), $$ … $$).
document.addEventListener("DOMContentLoaded", () => {
  // searchtools.js declares `const Search` (a global binding, not a property of window).
  if (typeof Search === "undefined" || !Search.htmlToText || Search._mlcourseNoTex) return;
  const original = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    doc.querySelectorAll("span.math, div.math, mjx-container, script[type^='math']").forEach((el) => el.replaceWith(" "));
    return original(doc.documentElement.outerHTML, anchor);
  };
  Search._mlcourseNoTex = true;
});
"""


def download_note(name: str) -> nbformat.NotebookNode:
    """The cell under a chapter's title: download the edition, two lines to start it."""
    cell = nbformat.v4.new_markdown_cell(
        f"<p class=\"mlcourse-download\">Run this chapter yourself: <a href=\"../{ZIP}\" download>download the "
        f"student edition</a> ({ZIP}), then</p>\n\n```bash\n{START}\n```\n\n"
        f"and open `notebooks/{name}`.")
    cell.id = "mlcourse-download"
    return cell


def fold_helpers(cell: nbformat.NotebookNode) -> None:
    """Tag a long helper code cell ``hide-input`` (in place); exercises and checks stay open."""
    source = cell.source
    if (cell.cell_type == "code" and len(source.splitlines()) > FOLD_LINES
            and not any(mark in source for mark in ("### BEGIN SOLUTION", "# YOUR CODE HERE", "check("))):
        tags = cell.metadata.setdefault("tags", [])
        if "hide-input" not in tags:
            tags.append("hide-input")


def write_assets(stage: Path) -> None:
    static = stage / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "mlcourse.css").write_text(CSS, encoding="utf-8")
    (static / "mlcourse-search.js").write_text(SEARCH_JS, encoding="utf-8")


def copy_edition(site_extra: Path) -> Path:
    """Build the student edition and put its zip in ``site_extra`` (served beside the pages)."""
    archive = edition.build()
    site_extra.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(archive, site_extra / ZIP))
