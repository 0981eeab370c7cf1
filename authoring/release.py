"""Generate the student notebooks in ``notebooks/`` from ``solutions/``.

``solutions/NN_topic.ipynb`` is the single source of truth. The student version is the
same notebook with

* every block between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` replaced by
  ``# YOUR CODE HERE`` / ``raise NotImplementedError("finish `f` (section 2) first")`` (at
  the marker's indentation; ``f`` is the enclosing function, 2 the section of the chapter),
  so code that calls an unfinished exercise says which one to finish, in one line,
* cells tagged ``solution-only`` removed,
* cells tagged ``uses-exercise`` (they call the student's functions, so they raise until
  the exercises are done) tagged ``raises-exception`` for nbval,
* every check call ``check("dense_forward", dense_forward)`` made self-sufficient:
  ``check("dense_forward", section=1)`` after its own ``from mlcourse.checks import check``,
  so a check cell run before the imports or before the exercise's cell (a kernel restart,
  Colab, any Jupyter without our kernel extension) says which cell to run in one line,
* the title cell ending in how to install the course library where the notebook runs on its
  own (Colab, a JupyterHub, any Jupyter: ``%pip install`` the edition's wheel),
* nbval's comment markers (``# NBVAL_CHECK_OUTPUT``) turned into the equivalent cell tags
  (``nbval-check-output``), so students never see test-tool comments,
* all outputs and execution counts cleared, and metadata reduced to the cell tags.

The release never loses work: each notebook records a fingerprint of the cells it was
released with (``metadata.mlcourse.released``). A notebook whose cells no longer match
its fingerprint was edited (by a student, or by hand) and is not overwritten unless
``--force`` is given, and then a copy is kept in ``release-backups/``.

Usage::

    python -m authoring.release            # write notebooks/ (refuses to overwrite edits)
    python -m authoring.release --force    # overwrite edited notebooks, keeping backups
    python -m authoring.release --check    # exit 1 if notebooks/ is out of date
    python -m authoring.release --store-outputs solutions/01_linear_regression.ipynb
        # execute a solution and keep the outputs of the cells marked NBVAL_CHECK_OUTPUT
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

from mlcourse import __version__
from mlcourse.notebook import fingerprint

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
BACKUPS = ROOT / "release-backups"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_SECTION = re.compile(r"^##\s+(\d+)\s*[.·]", re.M)  # "## 2 · The Dense layer" / "## 2. The model"
_DEF = re.compile(r"^(\s*)(?:async\s+)?(def|class)\s+(\w+)")
_CHECK_CALL = re.compile(r'^check\("(?P<name>\w+)", (?P<fn>\w+)\)', re.M)  # a check cell's line
CHECK_IMPORT = "from mlcourse.checks import check"
# nbval's comment markers and the cell tags that mean the same to nbval.
NBVAL_TAGS = {"# NBVAL_CHECK_OUTPUT": "nbval-check-output", "# NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
              "# NBVAL_RAISES_EXCEPTION": "raises-exception", "# NBVAL_SKIP": "nbval-skip"}


def _enclosing(lines: list[str], indent: str) -> str:
    """``f`` or ``Class.f``: the definitions that enclose a line indented by ``indent``."""
    names, depth = [], len(indent)
    for line in reversed(lines):
        m = _DEF.match(line)
        if m and len(m.group(1)) < depth:
            names.insert(0, m.group(3))
            depth = len(m.group(1))
    return ".".join(names)


def stub(function: str = "", section: str = "") -> tuple[str, str]:
    """The two lines that replace a solution block (what the student sees and replaces)."""
    if not function and not section:
        return STUB
    what = f"`{function}`" if function else "this exercise"
    where = f" (section {section})" if section else ""
    return STUB[0], f'raise NotImplementedError("finish {what}{where} first")'


def strip_solutions(source: str, where: str = "", section: str | None = None) -> tuple[str, list[str]]:
    """Replace each solution block in ``source`` by the stub; return (new source, blocks).

    With ``section`` (the chapter's section number), the stub's message names the enclosing
    function and the section: ``finish `dense_backward` (section 2) first``.
    """
    out: list[str] = []
    blocks: list[str] = []
    block: list[str] | None = None
    for n, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == BEGIN:
            if block is not None:
                raise ValueError(f"{where}: line {n}: {BEGIN} inside another solution block")
            indent = line[: len(line) - len(line.lstrip())]
            lines = stub(_enclosing(out, indent), section) if section is not None else STUB
            out.extend(indent + s for s in lines)
            block = []
        elif marker == END:
            if block is None:
                raise ValueError(f"{where}: line {n}: {END} without {BEGIN}")
            blocks.append("\n".join(block))
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise ValueError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out), blocks


def solution_blocks(nb: nbformat.NotebookNode) -> list[str]:
    """All solution code of a notebook (used to prove it never leaks into student pages)."""
    blocks: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            blocks += strip_solutions(cell.source)[1]
            if "solution-only" in cell.metadata.get("tags", []):
                blocks.append(cell.source)
    return blocks


def markers_to_tags(source: str, tags: list[str]) -> str:
    """Drop nbval comment markers from ``source``, adding the equivalent tags to ``tags``."""
    kept = []
    for line in source.splitlines():
        tag = NBVAL_TAGS.get(line.strip())
        if tag is None:
            kept.append(line)
        elif tag not in tags:
            tags.append(tag)
    return "\n".join(kept)


def self_sufficient_checks(source: str, sections: dict[str, str], where: str = "") -> str:
    """Rewrite each ``check("name", function)`` line of a check cell to look the function up by
    name, with the section that defines it (``sections``: function → section), after an import
    of ``check``: the cell then works in a fresh kernel. Other lines are kept as they are."""
    from mlcourse.checks import get_check  # lazy: the checks load every chapter's module

    def by_name(m: re.Match) -> str:
        try:
            function = get_check(m["name"]).function
        except KeyError:  # not a course check (a test's own fixture): left as written
            return m[0]
        if m["fn"] != function:
            raise ValueError(f"{where}: check({m['name']!r}, {m['fn']}) but that check judges `{function}`")
        section = sections.get(function, "")
        return f'check("{m["name"]}"' + (f", section={section}" if section else "") + ")"

    new = _CHECK_CALL.sub(by_name, source)
    return new if new == source or CHECK_IMPORT in new.splitlines() else f"{CHECK_IMPORT}\n{new}"


def wheel_name() -> str:
    """The file name of the student edition's wheel of mlcourse (authoring/edition.py writes it)."""
    return f"mlcourse-{__version__}-py3-none-any.whl"


def install_note() -> str:
    """What the title cell of every released notebook ends with: how to run it on its own."""
    whl = wheel_name()
    return (f"\n\n> **Running this notebook on its own** (Colab, a JupyterHub, any Jupyter)? Upload `{whl}` "
            f"from the student edition's `wheels/` folder next to it (in Colab: the Files pane) and run "
            f"`%pip install {whl}` in a cell once. In the unzipped edition, `make lab` has done this for you.")


def student_version(nb: nbformat.NotebookNode, name: str = "") -> nbformat.NotebookNode:
    """The student notebook made from the solution notebook ``nb`` (which is not modified)."""
    cells = []
    section = ""
    sections: dict[str, str] = {}  # function or class → the section that defines it
    for i, cell in enumerate(nb.cells):
        tags = list(cell.metadata.get("tags", []))
        if cell.cell_type == "markdown":
            found = _SECTION.findall(cell.source)
            section = found[-1] if found else section
        if "solution-only" in tags:
            continue
        if cell.cell_type == "code":
            source, _ = strip_solutions(cell.source, f"{name} cell {i}", section)
            sections.update((m.group(3), section) for m in map(_DEF.match, source.splitlines()) if m and not m.group(1))
            source = self_sufficient_checks(source, sections, f"{name} cell {i}")
            source = markers_to_tags(source, tags)
            if "uses-exercise" in tags and "raises-exception" not in tags:
                tags.append("raises-exception")
            new = nbformat.v4.new_code_cell(source)
        elif cell.cell_type == "markdown":
            title = i == 0 and cell.source.startswith("# ")
            new = nbformat.v4.new_markdown_cell(cell.source + (install_note() if title else ""))
        else:
            new = nbformat.v4.new_raw_cell(cell.source)
        new.id = cell.get("id", f"cell-{i}")
        if tags:
            new.metadata["tags"] = tags
        cells.append(new)
    student = nbformat.v4.new_notebook(cells=cells)
    student.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"},
                        "mlcourse": {"released": fingerprint(cells)}}
    return student


def edited(path: Path) -> bool:
    """True when the notebook at ``path`` holds changes its last release did not write."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        released = nb["metadata"]["mlcourse"]["released"]
    except (OSError, ValueError, KeyError, TypeError):
        return True  # not a notebook this tool wrote (or one it cannot read): keep it
    return fingerprint(nb.get("cells", [])) != released


def render(nb: nbformat.NotebookNode) -> str:
    """Serialise deterministically (what ``nbformat.write`` would put in the file)."""
    return nbformat.writes(nb) + "\n"


class EditedNotebooks(Exception):
    """``release`` would overwrite notebooks with edits in them (``paths``)."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        names = ", ".join(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p) for p in paths)
        super().__init__(
            f"not overwriting {names}: changed since the last release (someone's work?). "
            "Copy the work elsewhere, or run `make release FORCE=1` "
            f"(python -m authoring.release --force) to overwrite, keeping a copy in {BACKUPS.name}/.")


def _merge_conflict(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n<<<<<<< " in text and "\n>>>>>>> " in text


def _backup(path: Path, stamp: str) -> Path:
    dst = BACKUPS / stamp / path.name
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, dst)
    return dst


def release(check: bool = False, force: bool = False) -> list[str]:
    """Write (or with ``check`` only compare) every student notebook; return the stale ones.

    Raises EditedNotebooks (writing nothing) when a notebook to be overwritten or removed
    holds edits, unless ``force``: then each is first copied to ``release-backups/<time>/``.
    """
    NOTEBOOKS.mkdir(exist_ok=True)
    stale, writes, removals = [], {}, []
    expected_names = set()
    for src in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(src, as_version=4)
        text = render(student_version(nb, src.name))
        dst = NOTEBOOKS / src.name
        expected_names.add(src.name)
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            stale.append(dst.name)
            writes[dst] = text
    for extra in sorted(NOTEBOOKS.glob("*.ipynb")):
        if extra.name not in expected_names:
            stale.append(f"{extra.name} (no solution for it)")
            removals.append(extra)
    if check:
        return stale
    at_risk = [p for p in [*writes, *removals] if p.exists() and edited(p)]
    # A file left with git's conflict markers is a merge's half-written output, regenerated
    # as the developers' guide says; it is still backed up first.
    blocking = [p for p in at_risk if not _merge_conflict(p)]
    if blocking and not force:
        raise EditedNotebooks(blocking)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for p in at_risk:
        print(f"kept a copy of {p.name} in {_backup(p, stamp).relative_to(ROOT)}")
    for dst, text in writes.items():
        dst.write_text(text, encoding="utf-8")
    for p in removals:
        p.unlink()
    return stale


def store_outputs(path: Path, timeout: int = 600) -> None:
    """Execute a solution notebook and keep only the outputs nbval compares.

    Cells marked ``# NBVAL_CHECK_OUTPUT`` keep their outputs and execution count (nbval
    compares against them); every other cell is cleared, so the source of truth stays
    small and diffs stay readable.
    """
    from nbclient import NotebookClient  # here, not at the top: it loads jupyter_client and zmq

    nb = nbformat.read(path, as_version=4)
    env_before = os.environ.get("MLCOURSE_STATIC")
    os.environ["MLCOURSE_STATIC"] = "1"
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("MLCOURSE_STATIC", None)
        else:
            os.environ["MLCOURSE_STATIC"] = env_before
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        if CHECK_MARK not in cell.source:
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    parser.add_argument("--force", action="store_true",
                        help="overwrite notebooks edited since the last release (a copy goes to release-backups/)")
    parser.add_argument("--store-outputs", nargs="+", type=Path, metavar="SOLUTION",
                        help="execute these solution notebooks and store their checked outputs")
    args = parser.parse_args(argv)
    if args.store_outputs:
        for p in args.store_outputs:
            store_outputs(p)
            print(f"stored checked outputs of {p}")
        return 0
    try:
        stale = release(check=args.check, force=args.force)
    except EditedNotebooks as exc:
        print(f"make release: {exc}", file=sys.stderr)
        return 1
    if args.check:
        if stale:
            print("notebooks/ is out of date with solutions/ (run `make release`): " + ", ".join(stale))
            return 1
        print("notebooks/ is in sync with solutions/")
        return 0
    print(f"released {len(list(NOTEBOOKS.glob('*.ipynb')))} notebooks" + (f" (updated: {', '.join(stale)})" if stale else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
