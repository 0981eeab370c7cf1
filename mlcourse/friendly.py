"""One-line messages instead of tracebacks for the two errors every student meets.

1. Code that calls an exercise not done yet. The released stub raises
   ``NotImplementedError("finish `dense_backward` (section 2) first")`` (authoring/release.py
   writes the function and the section into it); the traceback through the student's code,
   NumPy or ipywidgets says nothing more, so only that line is shown. A cell that then needs
   a variable the stopped cell would have made (``NameError``) names the same exercise.
2. A cell run before the chapter's first code cell (the imports), e.g. after a kernel
   restart: ``NameError: name 'np' is not defined`` becomes "run the first code cell …".

The released check cells do not depend on this hook (plain Jupyter, Colab): each imports
``check`` itself and leaves the function out (``check("dense_forward", section=1)``), so
``check`` looks it up in the notebook and says which cell to run (:func:`not_defined_yet`,
:func:`run_first`).

Every other error keeps IPython's usual traceback. The hook is installed in the running
IPython kernel by ``install()``: ``import mlcourse.checks`` (every chapter's first cell) calls
it, and the student edition's kernel loads it at start as an IPython extension
(``--ext=mlcourse.friendly``), so case 2 is caught before any import ran. Widget callbacks do not pass
through that hook: ``mlcourse.widgets`` asks :func:`message` itself.
"""
from __future__ import annotations

import ast
import builtins
import linecache
import re
from typing import Any

_FINISH = re.compile(r"^finish (`[^`]+`|this exercise)( \(section \w+\))? first$")
# What a chapter's first cell defines in every notebook; a NameError for one of these (or
# any NameError while ``np`` is missing: check cells import ``check`` themselves) means the
# imports cell has not been run.
_IMPORTED = {"np", "plt", "pd", "check"}
# name -> the "finish …" message of the cell that stopped before it could assign the name
# (directly, or because it needed such a name itself).
_stopped: dict[str, str] = {}
# stub function name -> (its code object, the "finish …" message), to verify later that a
# cell still calls the same unfinished stub.
_stubs: dict[str, tuple[Any, str]] = {}


def message(exc: BaseException, tb: Any = None, user_ns: dict | None = None) -> str | None:
    """The one-line message for ``exc``, or None for errors that keep their traceback.

    ``tb`` (the traceback) locates the cell that raised: the names it would have assigned
    are remembered, so a later cell that fails while reading one of them (a NameError, or
    e.g. a KeyError in a dict the stopped cell should have filled) names the same exercise.
    """
    cell = _cell_tree(tb if tb is not None else exc.__traceback__)
    text = None
    if isinstance(exc, NotImplementedError) and exc.args and _FINISH.match(str(exc.args[0])):
        text = str(exc.args[0])
        last = _innermost(tb if tb is not None else exc.__traceback__)
        if last is not None:
            _stubs[last.f_code.co_name] = (last.f_code, text)
    elif type(exc) is NameError and (name := getattr(exc, "name", None) or _name_of(str(exc))):
        if (user_ns is not None and "np" not in user_ns) or name in _IMPORTED:
            return f"`{name}` is not defined yet: run the chapter's first code cell (the imports) first"
        if name in _stopped:
            text = f"`{name}` is not defined: the cell that makes it stopped — {_stopped[name]}"
    elif cell is not None and user_ns is not None:
        read = {n.id for n in ast.walk(cell) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        for name in sorted(read):
            if name in _stopped:
                text = f"this cell needs `{name}` complete, but the cell that makes it stopped — {_stopped[name]}"
                break
            code, why = _stubs.get(name, (None, ""))
            if code is not None and getattr(user_ns.get(name), "__code__", None) is code:
                text = why  # the cell calls a stub that is still unfinished
                break
    if text is not None and cell is not None:
        for name in _assigned(cell):
            _stopped.setdefault(name, text.split(" — ")[-1])
    return text


def not_defined_yet(function: str, section: str | int | None = None) -> str:
    """A check cell run before the cell that defines ``function`` (e.g. after a kernel restart)."""
    where = f" (section {section})" if section not in (None, "") else ""
    return f"`{function}` is not defined yet: run the cell that defines it{where} first"


def run_first(error: str, namespace: dict) -> str | None:
    """For a check's "NameError: name 'np' is not defined …": which cell to run, when the name
    is indeed missing from the notebook's ``namespace`` (None for any other error)."""
    name = _name_of(error) if error.startswith("NameError") else None
    if name is None or name in namespace or hasattr(builtins, name):
        return None
    if name in _IMPORTED or "np" not in namespace:
        return f"`{name}` is not defined yet: run the chapter's first code cell (the imports) first"
    return f"`{name}` is not defined yet: run the cell that defines it (above this one) first"


def _innermost(tb: Any) -> Any:
    frame = None
    while tb is not None:
        frame, tb = tb.tb_frame, tb.tb_next
    return frame


def _name_of(text: str) -> str | None:
    m = re.search(r"name '(\w+)' is not defined", text)
    return m.group(1) if m else None


def _cell_tree(tb: Any) -> ast.Module | None:
    """The parsed source of the notebook cell in traceback ``tb`` (None: not from a cell)."""
    while tb is not None and not _is_cell(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next  # skip IPython's own frames above the cell
    if tb is None:  # e.g. raised in a widget callback: no cell stopped
        return None
    try:
        return ast.parse("".join(linecache.getlines(tb.tb_frame.f_code.co_filename)))
    except (SyntaxError, ValueError):
        return None


def _assigned(tree: ast.Module) -> set[str]:
    """Top-level names a cell assigns or fills (``d[k] = …`` counts for ``d``)."""
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in stmt.names)
        else:
            targets = [t for n in ast.walk(stmt) if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For))
                       for t in ([*n.targets] if isinstance(n, ast.Assign) else [n.target])]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def _is_cell(filename: str) -> bool:
    # ipykernel names cells /tmp/ipykernel_<pid>/<hash>.py; plain IPython <ipython-input-…>
    return "ipykernel_" in filename or filename.startswith("<ipython-input")


def _handler(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> list[str]:
    # IPython calls a custom handler instead of showing anything: the handler shows.
    text = message(value, tb, getattr(shell, "user_ns", None))
    if text is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return []
    stb = [f"\x1b[1;33m{text}\x1b[0m"]  # one line, bold yellow: a to-do, not a crash
    shell._showtraceback(etype, value, stb)
    return stb


def install(shell: Any = None) -> bool:
    """Install the hook in ``shell`` (default: the running IPython); False outside IPython."""
    if shell is None:
        try:
            from IPython import get_ipython  # lazy: IPython may be absent
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or getattr(shell, "_mlcourse_friendly", False):
        return shell is not None
    shell.set_custom_exc((Exception,), _handler)  # _handler shows the others as usual
    shell._mlcourse_friendly = True
    return True


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext mlcourse.friendly`` / ``--ext=mlcourse.friendly``."""
    install(shell)
