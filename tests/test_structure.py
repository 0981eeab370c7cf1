"""The shape of the code base: no import cycle, short modules, one home per concept."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mlcourse", "grading", "authoring", "book", "classroom")
MAX_LINES = 350
CHAPTER_CHECKS = "mlcourse/checks/ch"  # the chapter check modules are catalogues, allowed to be longer


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")) if (ROOT / pkg).is_dir() else []:
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules ``name`` imports at module level (what runs when it is imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        nodes = [node] + (list(ast.walk(node)) if isinstance(node, (ast.Try, ast.If)) else [])
        for n in nodes:
            if isinstance(n, ast.Import):
                found |= {a.name for a in n.names}
            elif isinstance(n, ast.ImportFrom):
                base = n.module or ""
                if n.level:
                    up = package.split(".")[: len(package.split(".")) - (n.level - 1)]
                    base = ".".join(up + ([n.module] if n.module else []))
                found.add(base)
                found |= {f"{base}.{a.name}" for a in n.names}
    resolved = set()
    for mod in found:
        while mod and mod not in known:
            mod = mod.rpartition(".")[0]
        if mod and mod != name:
            resolved.add(mod)
    return resolved


def import_graph() -> dict[str, set[str]]:
    """{module: the project modules it imports when it is imported}."""
    mods = _modules()
    graph = {m: _imports(m, p, set(mods)) for m, p in mods.items()}
    # A package importing its own submodules (mlcourse.checks → mlcourse.checks.core) is not a cycle.
    return {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    return cycles


def test_no_import_cycle() -> None:
    graph = import_graph()
    assert "mlcourse.checks.core" in graph["grading.grade"]  # the graph sees relative and absolute imports
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert import_cycles(graph) == []


@pytest.mark.parametrize("name", sorted(_modules()))
def test_module_is_short(name: str) -> None:
    path = _modules()[name]
    if str(path.relative_to(ROOT)).startswith(CHAPTER_CHECKS):
        pytest.skip("chapter check modules are catalogues of cases and diagnoses")
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES})"


def _late_imports(path: Path) -> list[str]:
    """Imports inside functions or classes that do not say why (a comment on their line)."""
    source = path.read_text(encoding="utf-8")
    lines, tree = source.splitlines(), ast.parse(source)
    top = set()
    for node in tree.body:  # module level, including `try: import tomllib` and TYPE_CHECKING blocks
        top |= {id(n) for n in ast.walk(node)} if isinstance(node, (ast.Try, ast.If)) else {id(node)}
    return [f"{path.relative_to(ROOT)}:{n.lineno}: {lines[n.lineno - 1].strip()}" for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom)) and id(n) not in top and "#" not in lines[n.lineno - 1]]


def test_imports_are_at_the_top_unless_a_comment_says_why() -> None:
    late = [line for path in _modules().values() for line in _late_imports(path)]
    assert late == []


# Each concept and the one module allowed to implement it (a pattern only its home may contain).
ONE_HOME = {
    "not implemented yet — write": "mlcourse/checks/core.py",       # the verdicts' wording
    "(case {i + 1} of": "mlcourse/checks/core.py",
    "html.escape(": "mlcourse/safe_text.py",                          # student text made safe
    ".isprintable()": "mlcourse/safe_text.py",
    "tomllib.load(": "grading/config.py",                            # the rubric and the manifest
    "def _is_constant(": "mlcourse/notebook.py",                      # what a notebook defines
    "--nbval-lax": "authoring/nbval.py",                             # the nbval run
    '[["op", ': "grading/wire.py",                                 # request frames
}


@pytest.mark.parametrize("pattern", sorted(ONE_HOME))
def test_each_concept_has_one_home(pattern: str) -> None:
    places = sorted(str(p.relative_to(ROOT)) for p in _modules().values() if pattern in p.read_text(encoding="utf-8"))
    assert places in ([ONE_HOME[pattern]], []), f"{pattern!r} is implemented in {places}"
    assert places, f"{pattern!r} is no longer in {ONE_HOME[pattern]}: update ONE_HOME"
