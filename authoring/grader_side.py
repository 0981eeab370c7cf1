"""The package as the student edition ships it: grader-side code out, public cases in.

    stage_package(dest)     copy mlcourse/ to dest, record the public cases, strip

Every module-level function marked ``@grader_side`` (mlcourse/checks/core.py) is cut out of
the copy by a source-level edit: the lines of its definition (decorators included, found with
the AST) become one line ``name = grader_side.stripped("name")`` — a stand-in that raises a clear
error if called — and every other byte of the file stays as it was. The cases of the public
seed(s) of every check that needs grader-side code are recorded first, live, into
``mlcourse/checks/public_cases.json`` / ``.npz`` of the copy (mlcourse/checks/stored.py).
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mlcourse"
DECORATOR = "grader_side"


def _is_marker(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == DECORATOR) or \
        (isinstance(node, ast.Attribute) and node.attr == DECORATOR)


def marked_ranges(text: str, filename: str = "<source>") -> list[tuple[str, int, int, str]]:
    """(name, first line, last line, decorator expression) of every marked function, 1-based
    and inclusive; a marked function that is not at module level is an error."""
    tree = ast.parse(text, filename)
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            marks = [d for d in node.decorator_list if _is_marker(d)]
            if not marks:
                continue
            if id(node) not in top or isinstance(node, ast.ClassDef):
                raise ValueError(f"{filename}:{node.lineno}: only a module-level function can be @{DECORATOR}")
            first = min(d.lineno for d in node.decorator_list)
            found.append((node.name, first, node.end_lineno, ast.get_source_segment(text, marks[0])))
    return sorted(found, key=lambda r: r[1])


def strip_source(text: str, filename: str = "<source>") -> tuple[str, list[str]]:
    """``text`` with every marked function replaced by its one-line stand-in; the names."""
    lines = text.splitlines(keepends=True)
    ranges = marked_ranges(text, filename)
    for name, first, last, deco in reversed(ranges):
        stub = f'{name} = {deco}.stripped("{name}")  # grader-side: not in the student edition\n'
        lines[first - 1:last] = [stub]
    out = "".join(lines)
    if ranges:
        ast.parse(out, filename)  # the edit kept the module valid
    return out, [r[0] for r in ranges]


def strip_package(folder: Path) -> dict[str, list[str]]:
    """Strip every ``.py`` file under ``folder`` in place; file → stripped function names."""
    stripped = {}
    for p in sorted(Path(folder).rglob("*.py")):
        text = p.read_text(encoding="utf-8")
        out, names = strip_source(text, str(p))
        if names:
            p.write_text(out, encoding="utf-8")
            stripped[p.relative_to(folder).as_posix()] = names
    return stripped


def stage_package(dest: Path, seeds: tuple[int, ...] | None = None) -> dict[str, list[str]]:
    """Copy mlcourse/ to ``dest`` (a folder that must not exist yet), record the stored public
    cases into it and strip its grader-side code; return what was stripped (file → names)."""
    from mlcourse.checks import all_checks, core, stored  # the live instructor's package

    seeds = (core.PUBLIC_SEED,) if seeds is None else seeds
    shutil.copytree(PACKAGE, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", stored.JSON_FILE,
                                                                 stored.ARRAYS_FILE))
    needing = [c for _, c in sorted(all_checks().items()) if c.grader_side]
    stored.record(needing, seeds, Path(dest) / "checks")
    return strip_package(dest)
