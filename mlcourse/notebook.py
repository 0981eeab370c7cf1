"""Take the definitions out of a notebook, without running its experiments (shared by the
grader and `mlcourse progress`).

The grader (and the tests that prove every stub fails and every solution passes) need the
student's functions, not the minutes of training a chapter does around them. This keeps,
from every code cell in order, the top-level statements that *define* things: imports,
functions, classes, and assignments whose value is built from literals only (constants
such as ``EPS = 1e-8`` or ``SIZES = (2, 4, 1)``). Everything else — loading data, training,
plotting, calling checks — is left out. A cell that is not valid Python is skipped and
reported, so one broken cell does not hide the rest of the submission.
"""
from __future__ import annotations

import ast
import hashlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotation: importing nbformat costs seconds in a worker
    import nbformat

_KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _is_constant(node: ast.AST) -> bool:
    """True for literals and containers / arithmetic of literals (no names, no calls)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_constant(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_constant(k) and _is_constant(v) for k, v in zip(node.keys, node.values))
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_constant(node.left) and _is_constant(node.right)
    return False


def _keep(stmt: ast.stmt) -> bool:
    if isinstance(stmt, _KEEP):
        return True
    if isinstance(stmt, ast.Assign):
        return all(isinstance(t, ast.Name) for t in stmt.targets) and _is_constant(stmt.value)
    if isinstance(stmt, ast.AnnAssign):
        return isinstance(stmt.target, ast.Name) and stmt.value is not None and _is_constant(stmt.value)
    return False


def _segment(lines: list[str], stmt: ast.stmt) -> str:
    # The original text (comments and layout included), so error messages quote the
    # student's own lines; decorators belong to the definition they decorate.
    first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
    return "\n".join(lines[first - 1: stmt.end_lineno])


# Cell magics whose body IPython runs as Python in the notebook's namespace: their
# definitions count. Any other cell magic (%%bash, %%writefile, %%timeit's own namespace …)
# defines nothing in Python.
PYTHON_CELL_MAGICS = frozenset({"time", "capture", "prun"})


def python_source(source: str) -> str:
    """A code cell's text as the Python IPython runs: line magics, ``!shell`` and help
    syntax become ``get_ipython()`` calls (IPython's own input transformer, so continuation
    lines that begin with ``%`` or ``!=`` stay what they are), and the body of a Python
    cell magic (``%%time``) is the cell. Line numbers are kept."""
    stripped = source.lstrip("\n")
    if stripped.startswith("%%"):
        skipped = len(source) - len(stripped)
        first, _, body = stripped.partition("\n")
        words = first[2:].split()
        if not words or words[0] not in PYTHON_CELL_MAGICS:
            return ""
        return "\n" * (source[:skipped].count("\n") + 1) + python_source(body)
    try:
        from IPython.core.inputtransformer2 import TransformerManager  # lazy: IPython is heavy and optional
    except ImportError:  # no IPython (a plain Python install): drop magic and shell lines
        return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 — text IPython cannot tokenize: let the parser say what is wrong
        return source


def code_cells(nb: dict) -> list[str]:
    """The Python of every code cell of notebook JSON ``nb`` (see :func:`python_source`)."""
    out = []
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        out.append(python_source(src if isinstance(src, str) else "".join(src)))
    return out


def definitions(nb: "nbformat.NotebookNode") -> tuple[str, list[str]]:
    """(Python source with the notebook's definitions, problems found) for notebook ``nb``."""
    parts: list[str] = []
    problems: list[str] = []
    for i, source in enumerate(code_cells(nb)):
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            problems.append(f"code cell {i + 1} is not valid Python (line {exc.lineno}: {exc.msg}); it was skipped")
            continue
        lines = source.splitlines()
        kept = [_segment(lines, s) for s in tree.body if _keep(s)]
        if kept:
            parts.append(f"# --- code cell {i + 1}\n" + "\n\n".join(kept))
    return "\n\n".join(parts) + "\n", problems


def fingerprint(cells: list) -> str:
    """sha256 of the cells' types and sources: what a student's edit changes (running cells or
    saving only changes outputs and metadata, which do not count). The release records it in
    each notebook (``metadata.mlcourse.released``); ``make release`` and ``mlcourse progress``
    compare with it to tell an untouched notebook from one with work in it."""
    parts = [[c.get("cell_type"), c.get("source") if isinstance(c.get("source"), str) else "".join(c.get("source", []))]
             for c in cells]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()
