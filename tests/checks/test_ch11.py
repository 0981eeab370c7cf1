"""Chapter 11 checks: realistic mistakes fail with a message naming them."""
from __future__ import annotations

import numpy as np

from mlcourse.checks import evaluate, get_check
from tests.support import fails_with, load_solution_functions, solution_variant

SOL = load_solution_functions("11")


def variant(*replacements: tuple[str, str]) -> dict:
    """The solution's definitions with some lines changed: a student's realistic mistake."""
    return solution_variant("11", *replacements)


def test_spiral_settings_train_for_many_seeds():
    chk = get_check("train_spiral")
    for seed in range(3, 9):
        result = evaluate(chk, SOL["train_spiral"], seed=seed)
        assert result.passed, result.message


# --- unbroadcast ---------------------------------------------------------------------------

def test_unbroadcast_mistakes():
    def mean_not_sum(grad, shape):
        while grad.ndim > len(shape):
            grad = grad.mean(axis=0)
        for i, s in enumerate(shape):
            if s == 1 and grad.shape[i] != 1:
                grad = grad.mean(axis=i, keepdims=True)
        return grad

    assert "sum, don't take the mean" in fails_with("unbroadcast", mean_not_sum)

    def leading_only(grad, shape):
        while grad.ndim > len(shape):
            grad = grad.sum(axis=0)
        return grad

    m = fails_with("unbroadcast", leading_only)
    assert "broadcast shape (4, 3); reduce it to (1, 3)" in m and "shape has a 1" in m

    def no_keepdims(grad, shape):
        while grad.ndim > len(shape):
            grad = grad.sum(axis=0)
        for i, s in reversed(list(enumerate(shape))):
            if s == 1 and grad.shape[i] != 1:
                grad = grad.sum(axis=i)
        return grad

    assert "keepdims=True" in fails_with("unbroadcast", no_keepdims)
    assert "reduce it to (3,)" in fails_with("unbroadcast", lambda grad, shape: grad)


# --- mul / matmul / sum backward -----------------------------------------------------------

def test_mul_backward_mistakes():
    unbroadcast = SOL["unbroadcast"]
    assert "swapped" in fails_with("mul_backward",
                                   lambda d, a, b: (unbroadcast(d * a, a.shape), unbroadcast(d * b, b.shape)))
    m = fails_with("mul_backward", lambda d, a, b: (d * b, d * a))
    assert "db has the broadcast shape (4, 3), expected (3,)" in m and "unbroadcast(dout * a, b.shape)" in m


def test_matmul_backward_mistakes():
    m = fails_with("matmul_backward", lambda d, a, b: (d @ b, a.T @ d))
    assert "raised ValueError" in m and "d @ b" in m
    m = fails_with("matmul_backward", lambda d, a, b: (d @ b.T, d.T @ a))
    assert "db has shape (4, 3), expected (3, 4)" in m and "transpose" in m
    m = fails_with("matmul_backward", lambda d, a, b: (d @ b.T, a.T @ d / len(a)))
    assert "mean where a sum is expected" in m

    def square_case_only(d, a, b):  # right shapes, but b's gradient transposed when square
        db = a.T @ d
        return d @ b.T, (db.T if db.shape[0] == db.shape[1] else db)

    assert "db = aᵀ @ dout" in fails_with("matmul_backward", square_case_only)


def test_sum_backward_mistakes():
    def no_expand(dout, shape, axis=None, keepdims=False):
        return np.broadcast_to(dout, shape).copy()

    assert "wrong axis" in fails_with("sum_backward", no_expand)

    def divided(dout, shape, axis=None, keepdims=False):
        dout = np.asarray(dout)
        if axis is not None and not keepdims:
            dout = np.expand_dims(dout, axis)
        return np.broadcast_to(dout, shape) * dout.size / np.prod(shape)

    assert "belongs to mean" in fails_with("sum_backward", divided)


# --- topological_order / backward_pass -----------------------------------------------------

def _no_visited(root):
    """A depth-first post-order without a visited set: a shared node is listed once per path."""
    order = []

    def visit(node):
        for p in node.parents:
            visit(p)
        order.append(node)

    visit(root)
    return order


def test_topological_order_mistakes():
    assert "must be listed once" in fails_with("topological_order", _no_visited)

    def pre_order(root):
        order, seen = [], set()

        def visit(node):
            if node in seen:
                return
            seen.add(node)
            order.append(node)
            for p in node.parents:
                visit(p)

        visit(root)
        return order

    m = fails_with("topological_order", pre_order)
    assert "reversed" in m or "comes before its parent" in m

    def no_leaves(root):
        return [n for n in SOL["topological_order"](root) if n.parents]

    assert "the leaves" in fails_with("topological_order", no_leaves)

    def without_root(root):
        return SOL["topological_order"](root)[:-1]

    assert "the root itself is missing" in fails_with("topological_order", without_root)

    def reversed_order(root):
        return SOL["topological_order"](root)[::-1]

    assert "the order is reversed" in fails_with("topological_order", reversed_order)


def test_backward_pass_mistakes():
    topo = SOL["topological_order"]

    def forward_order(root):
        root.grad = np.ones_like(root.data)
        for node in topo(root):
            node._backward()

    assert "inputs-first" in fails_with("backward_pass", forward_order)

    def no_seed(root):
        for node in reversed(topo(root)):
            node._backward()

    assert "seed the root" in fails_with("backward_pass", no_seed)

    def seed_with_value(root):
        root.grad = root.data.copy()
        for node in reversed(topo(root)):
            node._backward()

    assert "root.grad is" in fails_with("backward_pass", seed_with_value)

    def duplicates(root):
        root.grad = np.ones_like(root.data)
        for node in reversed(_no_visited(root)):
            node._backward()

    assert "times: call it once per node" in fails_with("backward_pass", duplicates)


# --- Tensor --------------------------------------------------------------------------------

def test_tensor_mistakes():
    ns = variant(("            self.grad += da\n            other.grad += db\n",
                  "            self.grad = da\n            other.grad = db\n"))
    assert "never overwrite with =" in fails_with("tensor_ops", ns["Tensor"])

    ns = variant(("            self.grad += out.grad * (self.data > 0)\n", "            pass\n"))
    assert "`a.relu()`: a.grad is still zero" in fails_with("tensor_ops", ns["Tensor"])

    ns = variant(("    def __matmul__(self, other):\n        out = Tensor(self.data @ other.data, (self, other), \"@\")",
                  "    def __matmul__(self, other):\n        out = Tensor(self.data @ other.data, (), \"@\")"))
    assert "`a @ b`: out.parents must hold the input Tensors" in fails_with("tensor_ops", ns["Tensor"])

    ns = variant(("            self.grad += out.grad * (self.data > 0)\n",
                  "            self.grad += out.grad * (self.data >= 0)\n"))
    assert "wrong only where the input is exactly 0" in fails_with("tensor_ops", ns["Tensor"])

    ns = variant(("            self.grad += sum_backward(out.grad, self.data.shape, axis, keepdims)\n",
                  "            self.grad += sum_backward(out.grad, self.data.shape, axis, keepdims) / self.data.size\n"))
    assert "a.grad after `a.sum()`" in fails_with("tensor_ops", ns["Tensor"])


def test_tensor_broadcast_mistake_is_named():
    ns = variant(("            da, db = mul_backward(out.grad, self.data, other.data)\n",
                  "            da, db = out.grad * other.data, out.grad * self.data\n"))
    m = fails_with("tensor_ops", ns["Tensor"])
    assert "`a * b (b broadcast)`" in m and "reduce it with unbroadcast" in m


# --- mlp_grads / train_spiral --------------------------------------------------------------

def test_mlp_grads_mistakes():
    ns = variant(("        if l < depth:\n            h = h.relu()\n", "        h = h.relu()\n"))
    assert "the loss is" in fails_with("mlp_grads", ns["mlp_grads"])

    ns = variant(('        h = h @ tensors[f"W{l}"] + tensors[f"b{l}"]', '        h = h @ tensors[f"W{l}"] + params[f"b{l}"]'))
    assert "grads['b1'] is all zeros" in fails_with("mlp_grads", ns["mlp_grads"])

    ns = variant(("    loss.backward()\n    return float(loss.data), {k: t.grad",
                  "    return float(loss.data), {k: t.grad"))
    assert "call loss.backward()" in fails_with("mlp_grads", ns["mlp_grads"])


def test_train_spiral_mistakes():
    ns = variant(("            p.data -= lr * p.grad\n", "            p.data += lr * p.grad\n"))
    assert "climbs the gradient" in fails_with("train_spiral", ns["train_spiral"])

    ns = variant(("        for p in params.values():\n            p.grad = np.zeros_like(p.data)\n", ""))
    assert "reset every p.grad to zero" in fails_with("train_spiral", ns["train_spiral"])

    ns = variant(("    rng = np.random.default_rng(seed)\n    n_in, n_classes", "    rng = np.random.default_rng()\n    n_in, n_classes"))
    assert "not reproducible" in fails_with("train_spiral", ns["train_spiral"])

    ns = variant(("        losses.append(float(loss.data))\n", ""))
    assert "losses has 0 entries" in fails_with("train_spiral", ns["train_spiral"])


# --- verified diagnoses added for issue 14 (each wrong version is a planted student bug) -----

def test_unbroadcast_wrong_axes_are_named():
    body = "        grad = grad.sum(axis=0)\n"
    m = fails_with("unbroadcast", variant((body, "        grad = grad.sum(axis=1)\n"))["unbroadcast"])
    assert "has shape (4,), expected (3,): it is grad summed over axes (1,)" in m
    m = fails_with("unbroadcast", variant(("if size == 1 and", "if size != 1 and"))["unbroadcast"])
    assert "has shape (1,), expected (3,): it is the sum of every element of grad" in m


def test_mul_backward_missing_factor_is_named():
    ret = "return unbroadcast(dout * b, a.shape), unbroadcast(dout * a, b.shape)"
    for wrong, words in ((("dout * b, a.shape", "dout, a.shape"), "da is the upstream gradient alone"),
                         (("dout * b, a.shape", "b, a.shape"), "da is the local derivative b alone, without dout"),
                         (("dout * a, b.shape", "dout, b.shape"), "db is the upstream gradient alone"),
                         (("dout * a, b.shape", "a, b.shape"), "db is the local derivative a alone, without dout")):
        fn = variant((ret, ret.replace(*wrong)))["mul_backward"]
        assert words in fails_with("mul_backward", fn)


def test_tensor_relu_backward_mistakes_are_named():
    line = "            self.grad += out.grad * (self.data > 0)\n"
    for wrong, words in (("            self.grad += out.grad\n", "a.grad is out.grad everywhere, also where a < 0"),
                         ("            self.grad += self.data > 0\n", "the mask (a.data > 0) alone, without out.grad"),
                         ("            self.grad += out.grad * (self.data > 1)\n", "only where a > 1")):
        assert words in fails_with("tensor_ops", variant((line, wrong))["Tensor"])
