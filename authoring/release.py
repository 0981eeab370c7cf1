"""Generate the student notebooks in ``notebooks/`` from ``solutions/``.

``solutions/NN_topic.ipynb`` is the single source of truth. The student version is the
same notebook with

* every block between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` replaced by
  ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` (at the marker's indentation),
* cells tagged ``solution-only`` removed,
* cells tagged ``uses-exercise`` (they call the student's functions, so they raise until
  the exercises are done) tagged ``raises-exception`` for nbval,
* all outputs and execution counts cleared, and metadata reduced to the cell tags.

Usage::

    python -m authoring.release            # write notebooks/
    python -m authoring.release --check    # exit 1 if notebooks/ is out of date
    python -m authoring.release --store-outputs solutions/01_linear_regression.ipynb
        # execute a solution and keep the outputs of the cells marked NBVAL_CHECK_OUTPUT
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def strip_solutions(source: str, where: str = "") -> tuple[str, list[str]]:
    """Replace each solution block in ``source`` by the stub; return (new source, blocks)."""
    out: list[str] = []
    blocks: list[str] = []
    block: list[str] | None = None
    for n, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == BEGIN:
            if block is not None:
                raise ValueError(f"{where}: line {n}: {BEGIN} inside another solution block")
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in STUB)
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


def student_version(nb: nbformat.NotebookNode, name: str = "") -> nbformat.NotebookNode:
    """The student notebook made from the solution notebook ``nb`` (which is not modified)."""
    cells = []
    for i, cell in enumerate(nb.cells):
        tags = list(cell.metadata.get("tags", []))
        if "solution-only" in tags:
            continue
        if cell.cell_type == "code":
            source, _ = strip_solutions(cell.source, f"{name} cell {i}")
            if "uses-exercise" in tags and "raises-exception" not in tags:
                tags.append("raises-exception")
            new = nbformat.v4.new_code_cell(source)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(cell.source)
        else:
            new = nbformat.v4.new_raw_cell(cell.source)
        new.id = cell.get("id", f"cell-{i}")
        if tags:
            new.metadata["tags"] = tags
        cells.append(new)
    student = nbformat.v4.new_notebook(cells=cells)
    student.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    return student


def render(nb: nbformat.NotebookNode) -> str:
    """Serialise deterministically (what ``nbformat.write`` would put in the file)."""
    return nbformat.writes(nb) + "\n"


def release(check: bool = False) -> list[str]:
    """Write (or with ``check`` only compare) every student notebook; return the stale ones."""
    NOTEBOOKS.mkdir(exist_ok=True)
    stale = []
    expected_names = set()
    for src in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(src, as_version=4)
        text = render(student_version(nb, src.name))
        dst = NOTEBOOKS / src.name
        expected_names.add(src.name)
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            stale.append(dst.name)
            if not check:
                dst.write_text(text, encoding="utf-8")
    for extra in sorted(NOTEBOOKS.glob("*.ipynb")):
        if extra.name not in expected_names:
            stale.append(f"{extra.name} (no solution for it)")
            if not check:
                extra.unlink()
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
    parser.add_argument("--store-outputs", nargs="+", type=Path, metavar="SOLUTION",
                        help="execute these solution notebooks and store their checked outputs")
    args = parser.parse_args(argv)
    if args.store_outputs:
        for p in args.store_outputs:
            store_outputs(p)
            print(f"stored checked outputs of {p}")
        return 0
    stale = release(check=args.check)
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
