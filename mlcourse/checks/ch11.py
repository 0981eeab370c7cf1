"""Checks for chapter 11: a tiny reverse-mode autograd engine on NumPy arrays.

The formats the chapter fixes (so the grader can call everything with plain data):

* ``unbroadcast(grad, shape) -> grad reduced to shape`` (sums over broadcast axes).
* ``mul_backward(dout, a, b) -> (da, db)`` for ``out = a * b`` with broadcasting.
* ``matmul_backward(dout, a, b) -> (da, db)`` for ``out = a @ b`` (2-D).
* ``sum_backward(dout, shape, axis=None, keepdims=False) -> dx`` for ``out = x.sum(axis, keepdims)``.
* ``topological_order(root) -> list of nodes``: every node reachable through ``.parents``,
  once, each after all of its parents (inputs first, root last).
* ``backward_pass(root)``: seeds ``root.grad`` with ones and calls every node's ``_backward()``
  once, in reverse topological order.
* ``Tensor``: the class, with ``.data``, ``.grad``, ``.parents``, ``._backward``; its
  operations are checked one by one (set ``out.grad``, call ``out._backward()``).
* ``mlp_grads(params, X, y) -> (loss, grads)``: a ReLU MLP's softmax cross-entropy and its
  gradients, computed with the student's Tensor; compared with chapter 04's formulas.
* ``train_spiral(X, y, hidden, lr, epochs, seed) -> (params, losses)``: judged on held-out
  spiral points.

Graph checks build their graphs in the student's process from the small ``_Node`` class
below (it has exactly the attributes the chapter's engine uses) and send back names and
arrays only.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable

import numpy as np

from ..data import make_spiral
from .compare import compare_array, compare_outputs
from .core import Case, define, describe_exception, grader_side
from .helpers import same_values
from .questions import number


@grader_side
def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for i, s in enumerate(shape):
        if s == 1 and grad.shape[i] != 1:
            grad = grad.sum(axis=i, keepdims=True)
    return grad


def _to_array(x: Any, name: str) -> Any:
    """x as an array, or a {"problem"} dict (runs in the student's process)."""
    try:
        arr = np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        return {"problem": f"{name} is a {type(x).__name__}, expected a NumPy array"}
    return arr


# --------------------------------------------------------------------------------------
# unbroadcast
# --------------------------------------------------------------------------------------

_UNBROADCAST_SHAPES = [((4, 3), (3,), "a bias (3,) broadcast over 4 rows"),
                       ((4, 3), (1, 3), "shape (1, 3) stretched over 4 rows"),
                       ((4, 3), (4, 1), "a column (4, 1) stretched over 3 columns"),
                       ((2, 4, 3), (4, 1), "(4, 1) broadcast to (2, 4, 3): a new leading axis and a stretched one"),
                       ((4, 3), (), "a scalar broadcast to (4, 3)"),
                       ((3, 2), (3, 1), "a column (3, 1) stretched over 2 columns"),
                       ((4, 3), (4, 3), "no broadcasting: the gradient passes unchanged")]


def _axis_subsets(ndim: int) -> list[tuple]:
    """Every non-empty set of axes of an ndim array, smallest first."""
    return [axes for k in range(1, ndim + 1) for axes in itertools.combinations(range(ndim), k)]


def _unbroadcast_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(args=(rng.standard_normal(g), s), label=label) for g, s, label in _UNBROADCAST_SHAPES]


def _unbroadcast_judge(case: Case, got: Any) -> str | None:
    grad, shape = case.args
    expected = case.expected
    problem = compare_array("the reduced gradient", got, expected, 1e-6, 1e-9)
    if not problem:
        return None
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return problem
    n_copies = grad.size // max(expected.size, 1)
    if arr.shape == expected.shape and same_values(arr, expected / n_copies):
        return (f"averaged over the broadcast copies: every copy of an element contributed to the "
                f"loss, so their gradients add up — sum, don't take the mean (here {n_copies} copies)")
    if arr.shape == grad.shape and grad.shape != tuple(shape):
        return (f"returned a gradient of the broadcast shape {arr.shape}; reduce it to {tuple(shape)}: "
                "sum over the leading axes broadcasting added, and over the axes where shape has a 1 "
                "(keepdims=True)")
    if len(shape) and arr.shape == tuple(s for s in shape if s != 1) and 1 in shape:
        return (f"has shape {arr.shape}, expected {tuple(shape)}: sum the stretched size-1 axes with "
                "keepdims=True, so the result has the input's shape")
    for axes in _axis_subsets(grad.ndim):
        for keep in (False, True):
            if axes and arr.shape != tuple(shape) and same_values(arr, grad.sum(axis=axes, keepdims=keep)):
                return (f"has shape {arr.shape}, expected {tuple(shape)}: it is grad summed over axes {axes}"
                        f"{' (keepdims=True)' if keep else ''} — sum over the leading axes that broadcasting "
                        "added and over the axes where shape has a 1, no others")
    if arr.size == 1 and expected.size > 1 and same_values(arr.ravel(), [grad.sum()]):
        return (f"has shape {arr.shape}, expected {tuple(shape)}: it is the sum of every element of grad — "
                "sum only over the leading axes that broadcasting added and the axes where shape has a 1")
    if arr.ndim == len(shape) + 1 or (arr.ndim == grad.ndim and arr.shape != tuple(shape)):
        return (f"has shape {arr.shape}, expected {tuple(shape)}: sum over the leading axes that "
                "broadcasting added (while grad.ndim > len(shape): sum axis 0), and over the axes where "
                "shape has a 1 (keepdims=True)")
    return problem


define(name="unbroadcast", description="sums a gradient over the axes broadcasting added or stretched, back to the input's shape",
       cases=_unbroadcast_cases, reference=_unbroadcast, judge=_unbroadcast_judge)


# --------------------------------------------------------------------------------------
# mul_backward / matmul_backward / sum_backward
# --------------------------------------------------------------------------------------

def _mul_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for sa, sb, label in [((4, 3), (4, 3), "same shapes (4, 3) * (4, 3)"),
                          ((4, 3), (3,), "(4, 3) * (3,): b broadcast over the rows"),
                          ((4, 1), (1, 3), "(4, 1) * (1, 3): an outer product by broadcasting"),
                          ((4, 3), (), "(4, 3) * scalar")]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        d = rng.standard_normal(np.broadcast_shapes(sa, sb))
        cases.append(Case(args=(d, a, b), label=label))
    return cases


@grader_side
def _mul_ref(dout: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple:
    return _unbroadcast(dout * b, a.shape), _unbroadcast(dout * a, b.shape)


def _mul_judge(case: Case, got: Any) -> str | None:
    dout, a, b = case.args
    expected = case.expected
    problem = compare_outputs(("da", "db"), got, expected, 1e-6, 1e-9)
    if not problem or not isinstance(got, (tuple, list)) or len(got) != 2:
        return problem
    da, db = got
    if all(same_values(g, h) for g, h in zip((da, db), case.hypotheses["swapped"])):
        return "da and db are swapped: ∂(a·b)/∂a = b, so da = dout * b and db = dout * a"
    full = np.broadcast_shapes(a.shape, b.shape)
    for name, g, own, other in (("da", da, a.shape, "b"), ("db", db, b.shape, "a")):
        if np.shape(g) == full and full != own:
            return (f"{name} has the broadcast shape {full}, expected {own}: reduce a broadcast input's "
                    f"gradient to its own shape, {name} = unbroadcast(dout * {other}, {name[1]}.shape)")
    for i, (name, g, o) in enumerate((("da", da, "b"), ("db", db, "a"))):
        if same_values(g, expected[i]):
            continue
        if same_values(g, case.hypotheses["dout alone"][i]):
            return (f"{name} is the upstream gradient alone, unbroadcast(dout): the local derivative is missing — "
                    f"∂(a·b)/∂{name[1]} = {o}, so {name} = unbroadcast(dout * {o}, {name[1]}.shape)")
        if same_values(g, case.hypotheses["no dout"][i]):
            return (f"{name} is the local derivative {o} alone, without dout: the chain rule multiplies it by the "
                    f"upstream gradient, {name} = unbroadcast(dout * {o}, {name[1]}.shape)")
    return problem


@grader_side
def _mul_hypotheses(dout: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict:
    full = np.broadcast_shapes(a.shape, b.shape)
    return {"swapped": (_unbroadcast(dout * a, a.shape), _unbroadcast(dout * b, b.shape)),
            "dout alone": (_unbroadcast(np.broadcast_to(dout, full), a.shape),
                           _unbroadcast(np.broadcast_to(dout, full), b.shape)),
            "no dout": (_unbroadcast(np.broadcast_to(b, full), a.shape), _unbroadcast(np.broadcast_to(a, full), b.shape))}


define(name="mul_backward", description="da = unbroadcast(dout·b, a.shape), db = unbroadcast(dout·a, b.shape)",
       cases=_mul_cases, reference=_mul_ref, hypotheses=_mul_hypotheses, outputs=("da", "db"), judge=_mul_judge)


def _matmul_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d, m in ((5, 3, 4), (2, 6, 6)):
        a, b, dout = rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal((n, m))
        cases.append(Case(args=(dout, a, b), batch=n, label=f"a ({n}, {d}) @ b ({d}, {m})"))
    return cases


def _matmul_judge(case: Case, got: Any) -> str | None:
    dout, a, b = case.args
    expected = case.expected
    problem = compare_outputs(("da", "db"), got, expected, 1e-6, 1e-9, case.batch)
    if not problem or not isinstance(got, (tuple, list)) or len(got) != 2:
        return problem
    da, db = got
    if problem.startswith("da") and np.shape(da) == a.shape and b.shape[0] == b.shape[1] \
            and same_values(da, dout @ b):
        return "da = dout @ b: use the transpose, da = dout @ bᵀ (the shapes: (N, M) @ (M, D))"
    if problem.startswith("db") and np.shape(db) == b.shape and same_values(db, dout.T @ a):
        return "db = doutᵀ @ a is the transpose of the gradient: db = aᵀ @ dout (shape (D, M), like b)"
    return problem


@grader_side
def _matmul_ref(dout: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple:
    return dout @ b.T, a.T @ dout


define(name="matmul_backward", description="da = dout @ bᵀ (N, D) and db = aᵀ @ dout (D, M)",
       cases=_matmul_cases, reference=_matmul_ref, outputs=("da", "db"),
       judge=_matmul_judge)


@grader_side
def _sum_ref(dout: np.ndarray, shape: tuple, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    g = np.asarray(dout)
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape).copy()


def _sum_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for shape, axis, keepdims, label in [((4, 3), None, False, "x.sum() of a (4, 3) array"),
                                         ((4, 3), 0, False, "x.sum(axis=0), (4, 3) → (3,)"),
                                         ((3, 3), 1, False, "x.sum(axis=1) of a square (3, 3) array"),
                                         ((4, 3), 1, True, "x.sum(axis=1, keepdims=True), (4, 3) → (4, 1)"),
                                         ((2, 4, 3), -1, False, "x.sum(axis=-1), (2, 4, 3) → (2, 4)")]:
        out_shape = np.zeros(shape).sum(axis=axis, keepdims=keepdims).shape
        cases.append(Case(args=(rng.standard_normal(out_shape), shape, axis, keepdims), label=label))
    return cases


def _sum_judge(case: Case, got: Any) -> str | None:
    dout, shape, axis, keepdims = case.args
    expected = case.expected
    problem = compare_array("dx", got, expected, 1e-6, 1e-9)
    if not problem:
        return None
    count = int(np.prod(shape)) // max(np.asarray(dout).size, 1)
    if same_values(got, expected / count):
        return (f"dx is divided by {count}: each element enters the sum with coefficient 1, so it gets "
                "the upstream gradient unchanged (that division belongs to mean)")
    if axis is not None and not keepdims and len(shape) == 2 and shape[0] == shape[1] and \
            same_values(got, np.broadcast_to(dout, shape)):
        return ("dout was broadcast along the wrong axis: put the summed axis back first "
                "(np.expand_dims(dout, axis)), then broadcast to the input's shape")
    return problem


define(name="sum_backward", description="the upstream gradient copied back along the summed axes, dx of shape x.shape",
       cases=_sum_cases, reference=_sum_ref, judge=_sum_judge)


# --------------------------------------------------------------------------------------
# Graph nodes for the engine checks (built in the student's process)
# --------------------------------------------------------------------------------------

class _Node:
    """A graph node with the attributes the chapter's engine uses: data, grad, parents, _backward."""

    def __init__(self, name: str, data: float = 0.0, parents: tuple = ()) -> None:
        self.name = name
        self.data = np.array(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self.parents = tuple(parents)
        self._backward = lambda: None

    def __repr__(self) -> str:
        return f"Node({self.name})"


def _random_dag(rng: np.random.Generator, n_leaves: int, n_ops: int) -> list[tuple]:
    """[(name, op, parent names)], leaves first; ops "+" or "*"; the last entry is the root."""
    spec = [(f"x{i}", "leaf", ()) for i in range(n_leaves)]
    for i in range(n_ops):
        names = [s[0] for s in spec]
        if i == n_ops - 1:  # the root uses the two newest nodes, so most of the graph is reachable
            parents = (names[-1], names[-2]) if len(names) > 1 else (names[-1], names[-1])
        else:
            k = rng.integers(0, len(names), size=2)
            parents = (names[k[0]], names[k[1]])  # may name one node twice: x * x
        spec.append((f"n{i}", "+" if rng.random() < 0.5 else "*", parents))
    return spec


def _reachable(spec: list[tuple]) -> set:
    parents = {name: ps for name, _, ps in spec}
    seen, stack = set(), [spec[-1][0]]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(parents[name])
    return seen


# --------------------------------------------------------------------------------------
# topological_order
# --------------------------------------------------------------------------------------

_DIAMOND = [("a", "leaf", ()), ("b", "leaf", ()), ("c", "*", ("a", "b")), ("d", "+", ("c", "a")),
            ("e", "*", ("c", "d")), ("unused", "+", ("a", "b")), ("f", "*", ("e", "e"))]


def _topo_cases(rng: np.random.Generator) -> list[Case]:
    chain = [("x0", "leaf", ())] + [(f"n{i}", "+", (f"n{i - 1}" if i else "x0",) * 2) for i in range(150)]
    return [Case(args=(_DIAMOND,), label="a small graph where c and a are used twice and f = e * e"),
            Case(args=(_random_dag(rng, 4, 25),), label="a random graph of 29 nodes"),
            Case(args=(chain,), label="a chain 150 operations deep")]


def _build(spec: list[tuple], values: dict | None = None) -> dict:
    nodes: dict = {}
    for name, _op, parents in spec:
        nodes[name] = _Node(name, (values or {}).get(name, 0.0), tuple(nodes[p] for p in parents))
    return nodes


def _topo_run(fn: Callable, args: tuple) -> dict:
    spec = args[0]
    nodes = _build(spec)
    out = fn(nodes[spec[-1][0]])
    if out is None:
        return {"problem": "returned None — did you forget to `return` the list?"}
    try:
        items = list(out)
    except TypeError:
        return {"problem": f"returned a {type(out).__name__}, expected a list of nodes"}
    names = []
    for item in items:
        if not isinstance(item, _Node):
            return {"problem": f"the list holds a {type(item).__name__}; expected the graph's nodes "
                               "themselves (the objects reached through .parents)"}
        names.append(item.name)
    return {"order": names}


def _topo_judge(case: Case, got: dict) -> str | None:
    spec = case.args[0]
    order = got["order"]
    root = spec[-1][0]
    reachable = _reachable(spec)
    parents = {name: ps for name, _, ps in spec}
    counts = {n: order.count(n) for n in set(order)}
    twice = sorted(n for n, c in counts.items() if c > 1)
    if twice:
        return (f"node {twice[0]} appears {counts[twice[0]]} times: a node reached along several paths "
                "must be listed once — remember the visited nodes in a set")
    missing = sorted(reachable - set(order))
    if root in missing:
        return "the root itself is missing: it belongs in the list too, as the last node"
    if missing:
        leaves = [n for n in missing if not parents[n]]
        hint = " (the leaves — inputs and parameters — are nodes too)" if leaves == missing else ""
        return f"nodes {missing[:5]} are reachable from the root but missing{hint}: follow .parents recursively"
    extra = sorted(set(order) - reachable)
    if extra:
        return f"nodes {extra[:5]} are not reachable from the root; list only the root's ancestors and the root"
    pos = {n: i for i, n in enumerate(order)}
    rev = list(reversed(order))
    rpos = {n: i for i, n in enumerate(rev)}
    if all(rpos[p] < rpos[n] for n in order for p in parents[n]):
        return ("the order is reversed: list each node after its parents — inputs first, the root "
                "last (backward_pass walks the list backwards)")
    for n in order:
        for p in parents[n]:
            if pos[p] > pos[n]:
                return (f"node {n} comes before its parent {p}: append a node only after all of its "
                        "parents have been visited (post-order depth-first search)")
    return None


define(name="topological_order", description="every node reachable from the root, once, each after its parents, root last",
       cases=_topo_cases, run=_topo_run, judge=_topo_judge)


# --------------------------------------------------------------------------------------
# backward_pass
# --------------------------------------------------------------------------------------

def _attach(node: _Node, op: str, calls: dict) -> None:
    """Give ``node`` the real forward value and a counting _backward closure (+ or *)."""
    if op == "leaf":
        return
    a, b = node.parents
    node.data = a.data + b.data if op == "+" else a.data * b.data

    def _backward() -> None:
        calls[node.name] = calls.get(node.name, 0) + 1
        if op == "+":
            a.grad = a.grad + node.grad
            b.grad = b.grad + node.grad
        else:
            a.grad = a.grad + node.grad * b.data
            b.grad = b.grad + node.grad * a.data

    node._backward = _backward


def _graph_values(rng: np.random.Generator, spec: list[tuple]) -> dict:
    return {name: float(rng.uniform(-1.5, 1.5)) for name, op, _ in spec if op == "leaf"}


@grader_side
def _reference_grads(spec: list[tuple], values: dict, order: str = "reverse", seed: float | None = 1.0) -> dict:
    """Gradients by the reference engine; order="forward" / seed=None simulate common bugs."""
    nodes = _build(spec, values)
    calls: dict = {}
    for name, op, _ in spec:
        _attach(nodes[name], op, calls)
    reach = _reachable(spec)
    topo = [nodes[name] for name, _, _ in spec if name in reach]  # spec is already topological
    root = nodes[spec[-1][0]]
    if seed is not None:
        root.grad = np.ones_like(root.data) * seed
    for node in (topo if order == "forward" else reversed(topo)):
        node._backward()
    return {name: float(nodes[name].grad) for name, _, _ in spec}


def _backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for spec, label in [(_DIAMOND, "a small graph where c and a are used twice and f = e * e"),
                        (_random_dag(rng, 3, 12), "a random graph of 15 nodes")]:
        cases.append(Case(args=(spec, _graph_values(rng, spec)), label=label))
    return cases


def _backward_run(fn: Callable, args: tuple) -> dict:
    spec, values = args
    nodes = _build(spec, values)
    calls: dict = {}
    for name, op, _ in spec:
        _attach(nodes[name], op, calls)
    fn(nodes[spec[-1][0]])
    grads = {}
    for name, _, _ in spec:
        g = nodes[name].grad
        try:
            grads[name] = float(np.asarray(g, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            return {"problem": f"{name}.grad became a {type(g).__name__} of shape {np.shape(g)}; "
                               "seed the root with np.ones_like(root.data) (same shape as its data)"}
    return {"grads": grads, "calls": calls}


def _backward_judge(case: Case, got: dict) -> str | None:
    spec, values = case.args
    grads, calls = got["grads"], got["calls"]
    expected = case.expected
    reach = _reachable(spec)
    names = [n for n, _, _ in spec if n in reach]
    root = spec[-1][0]
    ops = [n for n, op, _ in spec if op != "leaf" and n in reach]
    if all(abs(v) < 1e-300 for v in grads.values()):
        return "every gradient is 0: seed the root first, root.grad = np.ones_like(root.data) (dL/dL = 1)"
    many = [n for n in ops if calls.get(n, 0) > 1]
    if many:
        return (f"node {many[0]}'s _backward ran {calls[many[0]]} times: call it once per node, in "
                "reverse topological order (is topological_order listing a node twice?)")
    never = [n for n in ops if calls.get(n, 0) == 0]
    if never:
        return (f"node {never[0]}'s _backward never ran: call node._backward() for every node of "
                "topological_order(root)")
    if all(same_values(grads[n], expected[n]) for n in names):
        return None
    if abs(grads[root] - 1.0) > 1e-9:
        return (f"root.grad is {grads[root]:.4g} after the pass, expected 1: seed it with "
                "np.ones_like(root.data), not with its value or zeros")
    forward = case.hypotheses["inputs first"]
    if all(same_values(grads[n], forward[n]) for n in names):
        return ("the nodes were processed inputs-first: walk reversed(topological_order(root)), so a "
                "node passes its gradient on only after everything that uses it has added to it")
    for n in names:
        if not same_values(grads[n], expected[n]):
            return (f"{n}.grad is {grads[n]:.6g}, expected {expected[n]:.6g} (backward_pass uses your "
                    "topological_order: does it pass its check?)")
    return None


@grader_side
def _backward_hypotheses(spec: list[tuple], values: dict) -> dict:
    return {"inputs first": _reference_grads(spec, values, order="forward")}


define(name="backward_pass", description="seeds the root's gradient with ones and runs every node's _backward once, "
                   "outputs first",
       cases=_backward_cases, reference=_reference_grads, hypotheses=_backward_hypotheses, run=_backward_run,
       judge=_backward_judge)


# --------------------------------------------------------------------------------------
# Tensor: every operation's forward value, graph links and backward closure
# --------------------------------------------------------------------------------------

# op → (input shapes, build(tensors) -> out, forward(arrays) -> out, grads(arrays, dout) -> {name: grad})
def _copy_back(v: dict, d: np.ndarray) -> dict:
    return {"a": np.broadcast_to(d, v["a"].shape).copy()}  # valid for sum(), axis=0 and keepdims


_TENSOR_OPS: dict[str, tuple] = {
    "a + b": ({"a": (4, 3), "b": (3,)}, lambda t: t["a"] + t["b"], lambda v: v["a"] + v["b"],
              lambda v, d: {"a": d, "b": d.sum(axis=0)}),
    "a * b": ({"a": (4, 3), "b": (4, 3)}, lambda t: t["a"] * t["b"], lambda v: v["a"] * v["b"],
              lambda v, d: {"a": d * v["b"], "b": d * v["a"]}),
    "a * b (b broadcast)": ({"a": (4, 3), "b": (1, 3)}, lambda t: t["a"] * t["b"], lambda v: v["a"] * v["b"],
                            lambda v, d: {"a": d * v["b"], "b": (d * v["a"]).sum(axis=0, keepdims=True)}),
    "a * 2.5": ({"a": (4, 3)}, lambda t: t["a"] * 2.5, lambda v: v["a"] * 2.5, lambda v, d: {"a": 2.5 * d}),
    "a * a": ({"a": (4, 3)}, lambda t: t["a"] * t["a"], lambda v: v["a"] ** 2,
              lambda v, d: {"a": 2 * v["a"] * d}),
    "a @ b": ({"a": (4, 3), "b": (3, 2)}, lambda t: t["a"] @ t["b"], lambda v: v["a"] @ v["b"],
              lambda v, d: {"a": d @ v["b"].T, "b": v["a"].T @ d}),
    "a.relu()": ({"a": (4, 3)}, lambda t: t["a"].relu(), lambda v: np.maximum(v["a"], 0),
                 lambda v, d: {"a": d * (v["a"] > 0)}),
    "a.sum()": ({"a": (4, 3)}, lambda t: t["a"].sum(), lambda v: v["a"].sum(), _copy_back),
    "a.sum(axis=0)": ({"a": (4, 3)}, lambda t: t["a"].sum(axis=0), lambda v: v["a"].sum(axis=0), _copy_back),
    "a.sum(axis=1, keepdims=True)": ({"a": (4, 3)}, lambda t: t["a"].sum(axis=1, keepdims=True),
                                     lambda v: v["a"].sum(axis=1, keepdims=True), _copy_back),
    "a.tanh()": ({"a": (4, 3)}, lambda t: t["a"].tanh(), lambda v: np.tanh(v["a"]),
                 lambda v, d: {"a": d * (1 - np.tanh(v["a"]) ** 2)}),
    "a.exp()": ({"a": (4, 3)}, lambda t: t["a"].exp(), lambda v: np.exp(v["a"]),
                lambda v, d: {"a": d * np.exp(v["a"])}),
}


def _tensor_cases(rng: np.random.Generator) -> list[Case]:
    arrays = {}
    for op, (shapes, _build, forward, _grads) in _TENSOR_OPS.items():
        vals = {k: rng.standard_normal(s) for k, s in shapes.items()}
        if op == "a.relu()":
            vals["a"][0, 0] = 0.0  # the kink: its derivative is taken as 0
        arrays[op] = {"inputs": vals, "dout": rng.standard_normal(np.shape(forward(vals)))}
    return [Case(args=(arrays,), label="each operation on its own: out.grad set, out._backward() called")]


def _tensor_run(T: Callable, args: tuple) -> dict:
    arrays = args[0]
    results = {}
    for op, spec in arrays.items():
        build = _TENSOR_OPS[op][1]
        try:
            inputs = {k: T(np.array(v, copy=True)) for k, v in spec["inputs"].items()}
            out = build(inputs)
            entry = {"out": np.array(out.data, dtype=np.float64),
                     "parents": all(any(p is t for p in out.parents) for t in inputs.values())}
            out.grad = np.array(spec["dout"], copy=True)
            out._backward()
            entry["grads"] = {k: np.array(t.grad, dtype=np.float64) for k, t in inputs.items()}
        except NotImplementedError:
            raise
        except Exception as exc:  # the student's bug in this one operation
            entry = {"error": describe_exception(exc)}
        results[op] = entry
    return results


def _relu_grad_problem(g: np.ndarray, a: np.ndarray, dout: np.ndarray) -> str | None:
    """The named mistake a.grad after a.relu() shows, if one of the classic ones explains it all."""
    if same_values(g, dout):
        return ("`a.relu()`: a.grad is out.grad everywhere, also where a < 0: relu's local derivative is "
                "missing — a.grad += out.grad * (a.data > 0)")
    if same_values(g, a > 0):
        return ("`a.relu()`: a.grad is the mask (a.data > 0) alone, without out.grad: the chain rule multiplies "
                "the local derivative by the upstream gradient — a.grad += out.grad * (a.data > 0)")
    for c in (1.0, -1.0):
        if same_values(g, dout * (a > c)):
            return (f"`a.relu()`: a.grad passes out.grad only where a > {c:g}: relu's derivative is 1 for every "
                    "a > 0 and 0 below — out.grad * (a.data > 0)")
    return None


def _tensor_judge(case: Case, got: dict) -> str | None:
    arrays = case.args[0]
    for op, spec in arrays.items():
        r = got.get(op, {})
        if "error" in r:
            hint = ""
            if "non-broadcastable output operand" in r["error"]:
                hint = (" — a gradient of the broadcast shape was added to a smaller input's grad: "
                        "reduce it with unbroadcast first (mul_backward does)")
            return f"`{op}` raised {r['error']}{hint}"
        _shapes, _build, forward, grads = _TENSOR_OPS[op]
        expected_out, expected_grads = forward(spec["inputs"]), grads(spec["inputs"], spec["dout"])
        p = compare_array(f"the value of `{op}`", r["out"], expected_out, 1e-6, 1e-9)
        if p:
            return p
        if not r["parents"]:
            return (f"`{op}`: out.parents must hold the input Tensors — topological_order finds the "
                    "graph through them")
        for name, exp in expected_grads.items():
            g = r["grads"][name]
            if same_values(g, exp):
                continue
            if op == "a * a" and same_values(g, exp / 2):
                return ("`a * a`: a.grad is half the right value: a Tensor used twice receives two "
                        "contributions — add them with += in the closure, never overwrite with =")
            if np.shape(g) == np.shape(exp) and not np.any(g) and np.any(exp):
                return (f"`{op}`: {name}.grad is still zero after out._backward(): attach the closure "
                        "(out._backward = _backward) and add to the parents' grads in it")
            if op == "a.relu()" and np.shape(g) == np.shape(exp):
                wrong = ~np.isclose(g, exp)
                if np.all(spec["inputs"]["a"][wrong] == 0):
                    return ("`a.relu()`: wrong only where the input is exactly 0 — take relu's derivative "
                            "at the kink as 0: out.grad * (self.data > 0)")
                relu_problem = _relu_grad_problem(g, spec["inputs"]["a"], spec["dout"])
                if relu_problem:
                    return relu_problem
            return compare_array(f"{name}.grad after `{op}`", g, exp, 1e-6, 1e-9)
    return None


define(name="tensor_ops", function="Tensor",
       description="every Tensor operation's value, parents and backward closure "
                   "(+, *, broadcasting, @, relu, sum, tanh, exp)",
       cases=_tensor_cases, run=_tensor_run, judge=_tensor_judge)


# --------------------------------------------------------------------------------------
# mlp_grads: autograd against chapter 04's hand-written backprop
# --------------------------------------------------------------------------------------

@grader_side
def _log_softmax(z: np.ndarray) -> np.ndarray:
    s = z - z.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


@grader_side
def _mlp_reference(params: dict, X: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    """Chapter 04's forward and backward (dense_backward, relu mask), written out."""
    n_layers = len(params) // 2
    h, cache = X, []
    for l in range(1, n_layers + 1):
        z = h @ params[f"W{l}"] + params[f"b{l}"]
        cache.append((h, z))
        h = np.maximum(z, 0) if l < n_layers else z
    log_p = _log_softmax(h)
    n = len(y)
    loss = float(-log_p[np.arange(n), y].mean())
    d = np.exp(log_p)
    d[np.arange(n), y] -= 1
    d /= n
    grads = {}
    for l in range(n_layers, 0, -1):
        h_in, z = cache[l - 1]
        if l < n_layers:
            d = d * (z > 0)
        grads[f"W{l}"], grads[f"b{l}"] = h_in.T @ d, d.sum(axis=0)
        d = d @ params[f"W{l}"].T
    return loss, grads


def _mlp_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for sizes, n in (((3, 5, 4), 6), ((2, 6, 5, 3), 8)):
        params = {}
        for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
            params[f"W{l}"] = rng.standard_normal((a, b)) / np.sqrt(a)
            params[f"b{l}"] = 0.1 * rng.standard_normal(b)
        X, y = rng.standard_normal((n, sizes[0])), rng.integers(0, sizes[-1], n)
        cases.append(Case(args=(params, X, y), batch=n, label=f"sizes {sizes}, {n} samples"))
    return cases


def _mlp_run(fn: Callable, args: tuple) -> dict:
    params, X, y = args
    out = fn({k: np.array(v, copy=True) for k, v in params.items()}, X, y)
    if not isinstance(out, tuple) or len(out) != 2:
        return {"problem": f"returned a {type(out).__name__}; expected (loss, grads)"}
    loss, grads = out
    try:
        loss = float(np.asarray(getattr(loss, "data", loss), dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        return {"problem": "loss must be one number (float(loss.data))"}
    if not isinstance(grads, dict):
        return {"problem": f"grads is a {type(grads).__name__}; expected a dict with the keys of params"}
    plain = {}
    for k, g in grads.items():
        g = getattr(g, "grad", g) if not isinstance(g, np.ndarray) else g
        arr = _to_array(g, f"grads[{k!r}]")
        if isinstance(arr, dict):
            return arr
        plain[str(k)] = arr
    return {"loss": loss, "grads": plain}


def _mlp_judge(case: Case, got: dict) -> str | None:
    params, X, y = case.args
    loss, expected = case.expected
    if not np.isclose(got["loss"], loss, rtol=1e-7, atol=1e-10):
        return f"the loss is {got['loss']:.6g}, expected {loss:.6g} (mean softmax cross-entropy of the scores)"
    missing = [k for k in params if k not in got["grads"]]
    if missing:
        return f"grads has no {missing}; expected one gradient per parameter, keys {list(params)}"
    if all(not np.any(got["grads"][k]) for k in params):
        return "every gradient is zero: call loss.backward() before reading the grads"
    for k in params:
        if not np.any(got["grads"][k]) and np.any(expected[k]):
            return (f"grads[{k!r}] is all zeros: was params[{k!r}] wrapped in a Tensor *and* that Tensor "
                    "used in the forward pass? Only graph nodes receive gradients")
    n_layers = len(params) // 2
    for l in range(n_layers, 0, -1):
        for k in (f"W{l}", f"b{l}"):
            p = compare_array(f"grads[{k!r}]", got["grads"][k], expected[k], 1e-6, 1e-9, case.batch)
            if p:
                return p + " — autograd must reproduce chapter 04's hand-written backprop exactly"
    return None


define(name="mlp_grads", description="a ReLU MLP's loss and gradients by autograd equal chapter 04's backprop formulas",
       cases=_mlp_cases, reference=_mlp_reference, run=_mlp_run, judge=_mlp_judge)


# --------------------------------------------------------------------------------------
# train_spiral
# --------------------------------------------------------------------------------------

SPIRAL_SETTINGS = {"hidden": 64, "lr": 1.0, "epochs": 300}


def _spiral_cases(rng: np.random.Generator) -> list[Case]:
    seed = int(rng.integers(0, 10_000))
    X, y = make_spiral(100, 3, seed=seed)
    X_test, y_test = make_spiral(100, 3, seed=seed + 1)
    s = SPIRAL_SETTINGS
    return [Case(args=(X, y, s["hidden"], s["lr"], s["epochs"], int(rng.integers(0, 10_000))),
                 secret={"X_test": X_test, "y_test": y_test},
                 label=f"3-arm spiral, 300 points, hidden={s['hidden']}, lr={s['lr']}, {s['epochs']} epochs")]


def _plain_spiral_params(params: Any) -> Any:
    if not isinstance(params, dict):
        return {"problem": f"params is a {type(params).__name__}; expected a dict W1, b1, W2, b2"}
    plain = {}
    for k, v in params.items():
        arr = _to_array(getattr(v, "data", v), f"params[{k!r}]")
        if isinstance(arr, dict):
            return arr
        plain[str(k)] = arr
    return plain


def _spiral_run(fn: Callable, args: tuple) -> dict:
    X, y, hidden, lr, epochs, seed = args
    out = fn(X.copy(), y.copy(), hidden, lr, epochs, seed)
    if not isinstance(out, tuple) or len(out) != 2:
        return {"problem": f"returned a {type(out).__name__}; expected (params, losses)"}
    params, losses = out
    plain = _plain_spiral_params(params)
    if "problem" in plain:
        return plain
    try:
        losses = [float(np.asarray(getattr(v, "data", v)).reshape(())) for v in losses]
    except (TypeError, ValueError):
        return {"problem": "losses must be a list of numbers, one per epoch"}
    # The first updates, for the judge to replay: the parameters after 0, 0, 1 and 2 epochs — with
    # half the step size, so that an update that ignores lr (at the default lr = 1) shows.
    try:
        steps = [_plain_spiral_params(fn(X.copy(), y.copy(), hidden, lr / 2, e, seed)[0]) for e in (0, 0, 1, 2)]
    except Exception:  # e.g. epochs=0 not supported: the replay is skipped
        steps = None
    return {"params": plain, "losses": losses, "steps": steps, "steps_lr": lr / 2}


def _library_grads(params: dict, X: np.ndarray, y: np.ndarray) -> dict:
    """The gradient of the mean cross-entropy of the 2 → hidden → 3 ReLU network at ``params``,
    computed with the course library's layers (given code: the judge runs it in the edition too)."""
    from ..layers import Dense, ReLU  # imported here: the checks load lazily
    from ..losses import CrossEntropyLoss  # imported here: the checks load lazily

    first, second = Dense(*np.shape(params["W1"])), Dense(*np.shape(params["W2"]))
    first.params.update(W=params["W1"], b=params["b1"])
    second.params.update(W=params["W2"], b=params["b2"])
    relu, loss = ReLU(), CrossEntropyLoss()
    loss.forward(second.forward(relu.forward(first.forward(X))), y)
    first.backward(relu.backward(second.backward(loss.backward())))
    return {"W1": first.grads["W"], "b1": first.grads["b"], "W2": second.grads["W"], "b2": second.grads["b"]}


def _replay_problem(case: Case, steps: list, lr: float) -> str | None:
    """None when the first two epochs (run with step size ``lr``) are exact gradient-descent steps
    on the mean cross-entropy."""
    X, y = case.args[:2]
    keys = ("W1", "b1", "W2", "b2")
    if any("problem" in s or any(k not in s for k in keys) for s in steps):
        return None
    p0, again, p1, p2 = ({k: s[k] for k in keys} for s in steps)
    if not all(np.array_equal(p0[k], again[k]) for k in keys):
        return ("not reproducible: two runs with the same seed started from different weights — make "
                "the generator inside: rng = np.random.default_rng(seed)")
    try:
        with np.errstate(all="ignore"):
            g0 = _library_grads(p0, X, y)
            g1 = _library_grads(p1, X, y)
    except (ValueError, TypeError):
        return None
    close = lambda a, b: all(same_values(a[k], b[k], 1e-6, 1e-9) for k in keys)  # noqa: E731
    if not close(p1, {k: p0[k] - lr * g0[k] for k in keys}):
        if close(p1, {k: p0[k] + lr * g0[k] for k in keys}):
            return "the first update climbs the gradient: p.data -= lr * p.grad"
        if lr != 1 and close(p1, {k: p0[k] - g0[k] for k in keys}):
            return (f"the update ignores lr: with lr = {lr:g} the parameters moved by the whole gradient — "
                    "p.data -= lr * p.grad")
        return ("the first epoch does not move the parameters by −lr × the gradient of the mean "
                "cross-entropy: check the forward pass, loss.backward() and the update p.data -= lr * p.grad")
    if not close(p2, {k: p1[k] - lr * g1[k] for k in keys}):
        if close(p2, {k: p1[k] - lr * (g1[k] + g0[k]) for k in keys}):
            return ("the second update used the sum of both epochs' gradients: gradients accumulate, so "
                    "reset every p.grad to zero (np.zeros_like(p.data)) before each backward pass")
        return ("the second epoch's update is not −lr × the gradient at the current parameters: build a "
                "fresh graph from the updated parameters each epoch, with zeroed grads")
    return None


def _spiral_judge(case: Case, got: dict) -> str | None:
    epochs = case.args[4]
    params, losses = got["params"], got["losses"]
    missing = [k for k in ("W1", "b1", "W2", "b2") if k not in params]
    if missing:
        return f"params has no {missing}; expected W1 (2, hidden), b1, W2 (hidden, 3), b2"
    if len(losses) != epochs:
        return f"losses has {len(losses)} entries, expected one per epoch ({epochs})"
    n_classes = int(np.max(case.args[1])) + 1
    w2 = np.shape(params["W2"])
    if len(w2) != 2 or w2[1] != n_classes:
        return (f"W2 has shape {w2}, expected (hidden, {n_classes}): one output score per class, "
                "C = y.max() + 1")
    if not np.all(np.isfinite(losses)):
        return "the loss became NaN or inf: the updates blew up (check the sign of the step)"
    if got.get("steps"):
        problem = _replay_problem(case, got["steps"], got.get("steps_lr", case.args[3]))
        if problem:
            return problem
    if losses[-1] >= losses[0]:
        return (f"the loss did not go down ({losses[0]:.3f} → {losses[-1]:.3f}): step against the "
                "gradient, p.data -= lr * p.grad — and reset every p.grad to zero before each backward")
    X_test, y_test = case.secret["X_test"], case.secret["y_test"]
    try:
        with np.errstate(all="ignore"):
            h = np.maximum(X_test @ params["W1"] + params["b1"], 0)
            pred = (h @ params["W2"] + params["b2"]).argmax(axis=1)
    except ValueError as exc:
        return f"the trained params do not form a 2 → hidden → 3 network ({exc})"
    acc = float(np.mean(pred == y_test))
    if acc < 0.9:
        return (f"held-out accuracy {acc:.1%} (final loss {losses[-1]:.3f}); with these settings a correct "
                "training loop reaches ≥ 90 %")
    return None


define(name="train_spiral", description="a 2 → hidden → 3 ReLU network trained with your autograd classifies held-out "
                   "spiral points (≥ 90 %)",
       cases=_spiral_cases, run=_spiral_run, judge=_spiral_judge)


# --------------------------------------------------------------------------------------
# Questions: predictions made before the experiment (mlcourse.checks.questions)
# --------------------------------------------------------------------------------------

number("answer_square_gradient", answer=6, rtol=1e-9,
       explain="y = x·x uses x twice; the product rule gives one contribution per use, x̄ += ȳ·x from "
               "each, 3 + 3 = 6 = 2x — the engine gets it by accumulating (+=) into x.grad.",
       wrong={3: "3 is one of the two contributions: the second use of x adds another 3 (accumulate "
                 "with +=, do not overwrite).",
              9: "9 is the value x·x, not its derivative.",
              2: "d(x²)/dx = 2x, evaluated at x = 3.",
              12: "12 counts each contribution twice — a node whose _backward runs twice (visit each "
                  "node once)."})

number("answer_backward_twice", answer=12, rtol=1e-9,
       explain="gradients accumulate: the second backward pass adds another 6 to x.grad, which still "
               "holds the first pass's 6 — so training loops zero the gradients before each pass.",
       wrong={6: "backward_pass sets only the root's gradient; every other .grad is added to (+=), so "
                 "the first pass's 6 is still there.",
              36: "the passes add their contributions, they do not multiply them.",
              0: "nothing is reset: the second pass adds to what the first left."})
