"""Site build, step 2: one page per chapter from its executed copy.

Each code cell shows the student version of its source (``authoring.release.strip_solutions``)
with the outputs of the complete run (figures, check verdicts); ``solution-only`` cells are
dropped; progress-bar noise and widget views without a saved state are removed.
"""
from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import nbformat

from . import site_extras
from .common import CHAPTER_DIR, ROOT, SOLUTIONS, BuildError
from .release import strip_solutions

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def chapter_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first level-1 heading of the notebook (the page title)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def readme_summaries(readme: Path = ROOT / "README.md") -> dict[str, str]:
    """{"01": "what you build"} from the chapter table of the README (| 01 | topic | you build |)."""
    if not readme.exists():
        return {}
    rows = re.findall(r"^\|\s*(\d\d)\s*\|[^|\n]*\|\s*([^\n]*?)\s*\|\s*$",
                      readme.read_text(encoding="utf-8"), flags=re.M)
    return {number: text for number, text in rows if text}


def chapter_summary(nb: nbformat.NotebookNode) -> str:
    """First sentence of the first paragraph after the title, as plain one-line Markdown."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for para in re.split(r"\n\s*\n", cell.source):
            para = para.strip()
            if not para or para.startswith(("#", ">", "-", "*", "|", "`", ":", "$$", "!", "<", "1.")):
                continue
            text = " ".join(para.split())
            text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links → their text
            sentence = re.match(r"(.+?[.!?])(\s|$)", text)
            text = sentence.group(1) if sentence else text
            return table_cell(text)
    return ""


def table_cell(text: str) -> str:
    """Text made safe for a Markdown table cell."""
    return text.replace("|", "\\|")


def _collapse_progress(text: str) -> str:
    """Keep what a terminal would show: each line's text after its last carriage return."""
    text = _ANSI.sub("", text)
    lines = [line.rsplit("\r", 1)[-1] for line in text.split("\n")]
    return "\n".join(lines)


def clean_outputs(outputs: list, widget_models: set[str]) -> list:
    """Outputs fit for a static page.

    * widget views whose model state was not saved (nbval keeps none) are dropped: without
      a state the HTML manager has nothing to draw, and their text/plain is a useless repr
      such as ``HBox(children=(...))`` (e.g. a tqdm bar frozen at 0 %);
    * streams are reduced to what a terminal would show (tqdm redraws with ``\\r``).
    """
    cleaned = []
    for out in outputs:
        out = copy.deepcopy(out)
        kind = out.get("output_type")
        if kind in ("display_data", "execute_result") and _WIDGET_VIEW in out.get("data", {}):
            if out["data"][_WIDGET_VIEW].get("model_id") not in widget_models:
                continue
        if kind == "stream":
            out["text"] = _collapse_progress(out.get("text", ""))
            if not out["text"].strip():
                continue
        cleaned.append(out)
    return cleaned


def page_notebook(executed: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The chapter page: student-facing code, outputs of the complete run, no solution-only cells."""
    state = executed.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state", {})
    models = set(state)
    cells = []
    for i, cell in enumerate(executed.cells):
        tags = cell.metadata.get("tags", [])
        if "solution-only" in tags:
            continue
        cell = copy.deepcopy(cell)
        if cell.cell_type == "code":
            for out in cell.outputs:
                if out.get("output_type") == "error" and "raises-exception" not in tags:
                    raise BuildError(f"{name}: cell {i} raised {out.get('ename')}: {out.get('evalue')} "
                                     "— the executed solution must run cleanly (see the nbval run)")
            cell.source, _ = strip_solutions(cell.source, f"{name} cell {i}")
            # nbval's markers are for the test run, not for readers.
            cell.source = "\n".join(line for line in cell.source.splitlines()
                                     if not line.strip().startswith("# NBVAL_"))
            cell.outputs = clean_outputs(cell.outputs, models)
            cell.metadata = {k: v for k, v in cell.metadata.items() if k in ("tags",)}
            site_extras.fold_helpers(cell)
        cells.append(cell)
    # One note under the title, so readers know what they are looking at.
    note = nbformat.v4.new_markdown_cell(
        ":::{note}\nThis page shows a complete run of the chapter. The code cells show what you start "
        f"from in `notebooks/{name}` — your part is marked `# YOUR CODE HERE` — and the outputs "
        "are those of a working solution. The interactive controls appear here as static "
        "figures: open the notebook with `make lab` to move them.\n:::")
    note.id = "mlcourse-site-note"
    first_md = next((k for k, c in enumerate(cells) if c.cell_type == "markdown"), -1)
    cells.insert(first_md + 1, note)
    cells.insert(first_md + 2, site_extras.download_note(name))
    page = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(executed.metadata))
    if not state:
        page.metadata.pop("widgets", None)
    return page


def stage_chapters(chapters: list[Path], executed: Path, stage: Path) -> list[tuple[str, str, str]]:
    """Write a page per chapter (and the files beside the chapters) into ``stage``/chapters;
    return (file name, title, summary) per chapter."""
    shutil.rmtree(stage, ignore_errors=True)
    (stage / CHAPTER_DIR).mkdir(parents=True)
    # Files beside the chapters (images a notebook links to, ...) come along.
    folder = chapters[0].parent if chapters else SOLUTIONS
    for extra in folder.iterdir() if folder.exists() else []:
        if extra.suffix == ".ipynb" or extra.name.startswith((".", "__")):
            continue
        (shutil.copytree if extra.is_dir() else shutil.copy2)(extra, stage / CHAPTER_DIR / extra.name)
    info = []
    summaries = readme_summaries()
    for path in chapters:
        nb = nbformat.read(executed / path.name, as_version=4)
        page = page_notebook(nb, path.name)
        nbformat.write(page, stage / CHAPTER_DIR / path.name)
        summary = summaries.get(path.name[:2]) or chapter_summary(nb)
        info.append((path.name, chapter_title(nb, path.stem), summary))
    return info
