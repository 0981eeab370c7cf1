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


def _strip_magics(source: str) -> str:
    # IPython magics and shell escapes are not Python; a definition never needs them.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def definitions(nb: "nbformat.NotebookNode") -> tuple[str, list[str]]:
    """(Python source with the notebook's definitions, problems found) for notebook ``nb``."""
    parts: list[str] = []
    problems: list[str] = []
    for i, cell in enumerate(c for c in nb.cells if c.get("cell_type") == "code"):
        source = _strip_magics(cell.get("source", "") if isinstance(cell.get("source"), str)
                               else "".join(cell.get("source", [])))
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
