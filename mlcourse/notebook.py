"""The definitions a notebook makes — read without running its experiments.

The grader's worker (which executes them in the student's sandbox), the student edition's
``mlcourse progress`` and the tests (which need the solutions' and the released stubs'
functions) share this one reader. It lives in mlcourse, not grading, because the student
edition ships mlcourse only. From every
code cell in order it keeps the top-level statements that *define* things: imports,
functions, classes, and assignments whose value is built from literals only (constants such
as ``EPS = 1e-8`` or ``SIZES = (2, 4, 1)``). Everything else — loading data, training,
plotting, calling checks — is left out. A cell that is not valid Python is skipped and
reported, so one broken cell does not hide the rest of the submission.

    cells = code_cells(json.load(f))             # [(source, tags)] of a format-4 notebook
    for cell in read_definitions(cells): ...     # DefinitionCell(index, source, statements, problem)
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

_KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass
class DefinitionCell:
    """One code cell: its 1-based ``index``, its ``source`` (magics blanked), the defining
    ``statements`` it makes, or the ``problem`` that made it unreadable."""

    index: int
    source: str
    statements: list[ast.stmt] = field(default_factory=list)
    problem: str | None = None

    def text(self) -> str:
        """The kept statements' original text (comments and layout included, decorators with
        what they decorate), so error messages quote the student's own lines."""
        lines = self.source.splitlines()
        parts = []
        for stmt in self.statements:
            first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
            parts.append("\n".join(lines[first - 1: stmt.end_lineno]))
        return "\n\n".join(parts)


def code_cells(nb: Any) -> list[tuple[str, list[str]]]:
    """(source, tags) of every code cell of a format-4 notebook (plain JSON or nbformat)."""
    out = []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = src if isinstance(src, str) else "".join(src)
        out.append((src, list(cell.get("metadata", {}).get("tags", []) or [])))
    return out


def read_definitions(sources: list[str]) -> list[DefinitionCell]:
    """The defining statements of each code cell source, in order."""
    cells = []
    for i, source in enumerate(sources, 1):
        source = _strip_magics(source)
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            cells.append(DefinitionCell(i, source, problem=f"code cell {i} is not valid Python "
                                                           f"({_syntax(exc)}); it was skipped"))
            continue
        cells.append(DefinitionCell(i, source, [s for s in tree.body if _keep(s)]))
    return cells


def definitions(nb: Any) -> tuple[str, list[str]]:
    """(Python source with the notebook's definitions, problems found) for notebook ``nb``."""
    parts: list[str] = []
    problems: list[str] = []
    for cell in read_definitions([src for src, _ in code_cells(nb)]):
        if cell.problem:
            problems.append(cell.problem)
        elif cell.statements:
            parts.append(f"# --- code cell {cell.index}\n" + cell.text())
    return "\n\n".join(parts) + "\n", problems


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


def _strip_magics(source: str) -> str:
    # IPython magics and shell escapes are not Python; a definition never needs them.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _syntax(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: {exc.msg}"
    return type(exc).__name__
