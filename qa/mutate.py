"""Typical student bugs, planted into a solution cell by rewriting its syntax tree.

Each operator looks at one node inside a ``### BEGIN SOLUTION`` … ``### END SOLUTION``
block and proposes zero or more replacements, the way a student gets it wrong: a dropped
transpose, ``sum`` for ``mean``, a dropped term (a bias, an ε) or factor (the
upstream gradient of the chain rule), a flipped sign, a wrong
constant, a wrong or dropped axis, a dropped ``keepdims``, a global reduction where a
per-row one is meant, off-by-one slice bounds, swapped operands, an in-place update of an
argument, a missing ``.copy()``, ``>`` for ``>=``, ``max`` for ``min``, ``/`` for ``//``, a
dropped call (``np.sqrt``, ``np.clip``, ``astype`` …) and a dropped statement.

:func:`mutants` returns every mutant of a cell as a :class:`Mutant`: the operator, the line,
the code before and after (``key`` names the mutant in the allow-list of equivalent ones)
and the whole mutated cell.
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Callable, Iterator

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

_REDUCTIONS = {"sum", "mean", "max", "min", "argmax", "argmin", "std", "var", "prod", "all", "any"}
_SWAP_NAMES = {"sum": "mean", "mean": "sum", "max": "min", "min": "max", "argmax": "argmin",
               "argmin": "argmax", "maximum": "minimum", "minimum": "maximum"}
_DROPPABLE_CALLS = {"sqrt", "abs", "exp", "log", "clip", "astype", "copy", "float", "tanh",
                    "transpose", "reshape", "ravel", "flatten", "squeeze", "round", "int"}
_COMPARE_SWAP = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
                 ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_ARITH_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.MatMult: "@",
                 ast.FloorDiv: "//", ast.Pow: "**", ast.Mod: "%"}


@dataclass(frozen=True)
class Mutant:
    """One planted bug: ``operator`` applied at ``line`` of the cell, ``before`` → ``after``."""

    operator: str
    line: int
    before: str
    after: str
    source: str  # the whole mutated cell
    context: str = ""  # the original line it changes, stripped

    @property
    def key(self) -> str:
        """How the allow-list names this mutant (stable when unrelated lines move)."""
        return f"{self.operator}: {self.before} → {self.after} in `{self.context}`"


# An edit proposes (operator, build) pairs for a node; build(node) makes the replacement
# from a fresh copy of the same node (a node, a list of statements, or None to delete).
Build = Callable[[ast.AST], "ast.AST | list[ast.stmt]"]
Edit = Callable[[ast.AST, "_Context"], Iterator[tuple[str, Build]]]


@dataclass
class _Context:
    params: frozenset[str]  # the enclosing function's parameters (for in-place updates)


def _call_name(node: ast.Call) -> str | None:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def _kw(node: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in node.keywords if k.arg == name), None)


def _without_kw(node: ast.Call, *names: str) -> ast.Call:
    node = copy.deepcopy(node)
    node.keywords = [k for k in node.keywords if k.arg not in names]
    return node


def _num(value: float | int) -> ast.expr:
    return ast.UnaryOp(ast.USub(), ast.Constant(-value)) if value < 0 else ast.Constant(value)


def _plus(node: ast.expr, k: int) -> ast.expr:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return _num(node.value + k)
    return ast.BinOp(copy.deepcopy(node), ast.Add() if k > 0 else ast.Sub(), ast.Constant(abs(k)))


# --- the operators ---------------------------------------------------------------------

def _transpose(node, ctx):
    if isinstance(node, ast.Attribute) and node.attr == "T":
        yield "dropped transpose", lambda n: copy.deepcopy(n.value)
    if isinstance(node, ast.Call) and _call_name(node) == "transpose":
        if isinstance(node.func, ast.Attribute) and not (isinstance(node.func.value, ast.Name)
                                                         and node.func.value.id in ("np", "numpy")):
            yield "dropped transpose", lambda n: copy.deepcopy(n.func.value)
        elif node.args:
            yield "dropped transpose", lambda n: copy.deepcopy(n.args[0])


def _swap_call(node, ctx):
    name = _call_name(node) if isinstance(node, ast.Call) else None
    if name in _SWAP_NAMES:
        other = _SWAP_NAMES[name]
        label = {"sum": "sum↔mean", "mean": "sum↔mean"}.get(name, "max↔min")

        def build(n, other=other):
            n = copy.deepcopy(n)
            if isinstance(n.func, ast.Attribute):
                n.func.attr = other
            else:
                n.func.id = other
            return n
        yield label, build


def _drop_term(node, ctx):
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        yield "dropped term", lambda n: copy.deepcopy(n.left)
        if isinstance(node.op, ast.Add):
            yield "dropped term", lambda n: copy.deepcopy(n.right)


def _drop_factor(node, ctx):
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        yield "dropped factor", lambda n: copy.deepcopy(n.left)
        if isinstance(node.op, ast.Mult):
            yield "dropped factor", lambda n: copy.deepcopy(n.right)


def _flip_sign(node, ctx):
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        def build(n):
            n = copy.deepcopy(n)
            n.op = ast.Sub() if isinstance(n.op, ast.Add) else ast.Add()
            return n
        yield "flipped sign", build
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and not isinstance(node.operand, ast.Constant):
        yield "flipped sign", lambda n: copy.deepcopy(n.operand)
    if isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.Sub)):
        def build_aug(n):
            n = copy.deepcopy(n)
            n.op = ast.Sub() if isinstance(n.op, ast.Add) else ast.Add()
            return n
        yield "flipped sign", build_aug


def _constant(node, ctx):
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
        return
    v = node.value
    if isinstance(v, int):
        yield "wrong constant", lambda n: ast.Constant(n.value + 1)
        if v != 0:
            yield "wrong constant", lambda n: _num(n.value - 1)
    elif isinstance(v, float):
        if v != 0:
            yield "wrong constant", lambda n: ast.Constant(0.0)
        yield "wrong constant", lambda n: ast.Constant(n.value * 10 if n.value else 1.0)


def _axis(node, ctx):
    if not isinstance(node, ast.Call) or _call_name(node) not in _REDUCTIONS:
        return
    axis = _kw(node, "axis")
    if axis is None:
        return
    yield "dropped axis", lambda n: _without_kw(n, "axis")
    if _kw(node, "keepdims") is not None:
        yield "global instead of per-row reduction", lambda n: _without_kw(n, "axis", "keepdims")
    if isinstance(axis.value, ast.Constant) and isinstance(axis.value.value, int):
        def build(n):
            n = copy.deepcopy(n)
            k = _kw(n, "axis")
            k.value = ast.Constant(0 if k.value.value != 0 else 1)
            return n
        yield "wrong axis", build
    elif isinstance(axis.value, ast.UnaryOp):  # axis=-1
        def build_neg(n):
            n = copy.deepcopy(n)
            _kw(n, "axis").value = ast.Constant(0)
            return n
        yield "wrong axis", build_neg
    elif isinstance(axis.value, ast.Tuple) and len(axis.value.elts) > 1:
        for i in range(len(axis.value.elts)):
            def build_t(n, i=i):
                n = copy.deepcopy(n)
                del _kw(n, "axis").value.elts[i]
                return n
            yield "wrong axis", build_t


def _keepdims(node, ctx):
    if isinstance(node, ast.Call) and _kw(node, "keepdims") is not None:
        yield "dropped keepdims", lambda n: _without_kw(n, "keepdims")


def _slice(node, ctx):
    if not isinstance(node, ast.Slice):
        return
    if node.upper is not None:
        def up(n):
            n = copy.deepcopy(n)
            n.upper = _plus(n.upper, -1)
            return n
        yield "wrong slice bound", up
    if node.lower is not None:
        def low(n):
            n = copy.deepcopy(n)
            n.lower = _plus(n.lower, 1)
            return n
        yield "wrong slice bound", low


def _swap_operands(node, ctx):
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.MatMult, ast.Sub, ast.Div, ast.Pow, ast.FloorDiv)):
        def build(n):
            n = copy.deepcopy(n)
            n.left, n.right = n.right, n.left
            return n
        yield "swapped operands", build
    if isinstance(node, ast.Call) and _call_name(node) in ("dot", "matmul") and len(node.args) == 2:
        def build_call(n):
            n = copy.deepcopy(n)
            n.args = n.args[::-1]
            return n
        yield "swapped operands", build_call


def _compare(node, ctx):
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE_SWAP:
        def build(n):
            n = copy.deepcopy(n)
            n.ops = [_COMPARE_SWAP[type(n.ops[0])]()]
            return n
        yield "boundary (> vs >=)", build


def _floor_div(node, ctx):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.FloorDiv):
        def build(n):
            n = copy.deepcopy(n)
            n.op = ast.Div()
            return n
        yield "/ instead of //", build


def _drop_call(node, ctx):
    if not isinstance(node, ast.Call):
        return
    name = _call_name(node)
    if name not in _DROPPABLE_CALLS:
        return
    if isinstance(node.func, ast.Attribute) and not (isinstance(node.func.value, ast.Name)
                                                     and node.func.value.id in ("np", "numpy", "math")):
        yield f"dropped .{name}()", lambda n: copy.deepcopy(n.func.value)
    elif node.args:
        yield f"dropped {name}()", lambda n: copy.deepcopy(n.args[0])


def _in_place(node, ctx):
    """``return w - lr * g`` → ``w -= lr * g; return w`` when ``w`` is an argument."""
    value = getattr(node, "value", None)
    if not isinstance(node, (ast.Return, ast.Assign)) or not isinstance(value, ast.BinOp):
        return
    if not (isinstance(value.left, ast.Name) and value.left.id in ctx.params
            and type(value.op) in (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        return

    def build(n):
        target = n.value.left.id
        aug = ast.AugAssign(ast.Name(target, ast.Store()), copy.deepcopy(n.value.op), copy.deepcopy(n.value.right))
        rest = copy.deepcopy(n)
        rest.value = ast.Name(target, ast.Load())
        return [aug, rest]
    yield "in-place update of an argument", build


def _drop_statement(node, ctx):
    if isinstance(node, ast.AugAssign) or (
            isinstance(node, ast.Assign) and all(isinstance(t, ast.Subscript) for t in node.targets)) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        yield "dropped statement", lambda n: [ast.Pass()]


def _off_by_one_range(node, ctx):
    if isinstance(node, ast.Call) and _call_name(node) == "range" and node.args:
        stop = 1 if len(node.args) >= 2 else 0

        def build(n, stop=stop):
            n = copy.deepcopy(n)
            n.args[stop] = _plus(n.args[stop], -1)
            return n
        yield "off-by-one range", build


OPERATORS: tuple[Edit, ...] = (_transpose, _swap_call, _drop_term, _drop_factor, _flip_sign, _constant, _axis, _keepdims,
                               _slice, _swap_operands, _compare, _floor_div, _drop_call, _in_place,
                               _drop_statement, _off_by_one_range)


# --- applying them ---------------------------------------------------------------------

def solution_lines(source: str) -> list[tuple[int, int]]:
    """(first, last) line numbers strictly inside each BEGIN/END SOLUTION pair of ``source``."""
    spans, start = [], None
    for i, line in enumerate(source.splitlines(), start=1):
        if line.strip() == BEGIN:
            start = i
        elif line.strip() == END and start is not None:
            spans.append((start + 1, i - 1))
            start = None
    return spans


def _contexts(tree: ast.Module) -> dict[int, _Context]:
    """id(node) → the context of the innermost function holding it."""
    out: dict[int, _Context] = {}

    def visit(node: ast.AST, ctx: _Context) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            ctx = _Context(frozenset(p.arg for p in a.posonlyargs + a.args + a.kwonlyargs))
        out[id(node)] = ctx
        for child in ast.iter_child_nodes(node):
            visit(child, ctx)
    visit(tree, _Context(frozenset()))
    return out


def _replace(tree: ast.AST, target: ast.AST, new) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for i, v in enumerate(value):
                    if v is target:
                        value[i:i + 1] = new if isinstance(new, list) else [new]
                        return
    raise LookupError("node not found")


def _text(node) -> str:
    if isinstance(node, list):
        return "; ".join(ast.unparse(s) for s in node)
    return ast.unparse(node)


def mutants(source: str) -> list[Mutant]:
    """Every mutant of the solution blocks of one code cell, in source order."""
    spans = solution_lines(source)
    if not spans:
        return []
    tree = ast.parse(source)
    lines = source.splitlines()
    contexts = _contexts(tree)
    nodes = list(ast.walk(tree))
    found: list[Mutant] = []
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        line = getattr(node, "lineno", None)
        if line is None or not any(a <= line <= b for a, b in spans):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            continue
        for edit in OPERATORS:
            for operator, build in edit(node, contexts[id(node)]):
                fresh = ast.parse(source)
                target = list(ast.walk(fresh))[index]
                new = build(target)
                before = ast.unparse(target)
                after = _text(new)
                if after == before:
                    continue
                _replace(fresh, target, new)
                ast.fix_missing_locations(fresh)
                mutated = ast.unparse(fresh)
                if mutated in seen:
                    continue
                seen.add(mutated)
                found.append(Mutant(operator, line, before, after, mutated, lines[line - 1].split("#")[0].strip()))
    return found
