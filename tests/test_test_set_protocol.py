"""No chapter touches a test set for a choice.

The guard, per solution notebook: every load of a test split (``load_mnist("test", ...)``,
``load_mnist(split="test")``) sits in a code cell tagged ``final-evaluation``, and no cell from the
first final-evaluation cell on trains anything (calls ``fit`` or a ``train…`` function) or holds an
exercise. So by construction the test set can only be looked at after every model and every
hyperparameter is fixed. Choices are made on validation splits carved out of the training data.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
FINAL = "final-evaluation"


def _calls(source: str) -> list[ast.Call]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # cell magics and the like: nothing we can read
        return []
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


def _name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _loads_test_split(call: ast.Call) -> bool:
    if _name(call) != "load_mnist":
        return False
    split = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "split"), None)
    return isinstance(split, ast.Constant) and split.value == "test"


def _trains(call: ast.Call) -> bool:
    name = _name(call)
    return name == "fit" or name.startswith("train")


def protocol_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What in ``nb`` breaks the test-set protocol (empty list: nothing)."""
    problems, final_seen = [], None
    cells = [c for c in nb.cells if c.cell_type == "code"]
    for i, cell in enumerate(cells, 1):
        tags = cell.metadata.get("tags", [])
        calls = _calls(cell.source)
        if FINAL in tags and final_seen is None:
            final_seen = i
        if any(_loads_test_split(c) for c in calls) and FINAL not in tags:
            problems.append(f"code cell {i} loads a test split outside a {FINAL!r} cell: "
                            "choices must be made on a validation split")
        if final_seen is not None:
            if any(_trains(c) for c in calls):
                problems.append(f"code cell {i} trains after the final evaluation (code cell {final_seen})")
            if "### BEGIN SOLUTION" in cell.source:
                problems.append(f"code cell {i} holds an exercise after the final evaluation (code cell {final_seen})")
    return problems


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_no_test_set_before_the_final_evaluation(path):
    assert protocol_problems(nbformat.read(path, as_version=4)) == []


def _nb(*cells: tuple[str, list[str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for source, tags in cells:
        c = nbformat.v4.new_code_cell(source)
        if tags:
            c.metadata["tags"] = tags
        nb.cells.append(c)
    return nb


def test_guard_catches_the_old_chapter_06_protocol():
    """Chapter 06 used to pick learning rates with the test set as its 'validation' data."""
    old = _nb(('X_train, y_train = load_mnist("train", n=5000)\nX_val, y_val = load_mnist("test", n=2000)', []),
              ("for lr in grid:\n    fit(model(), loss, SGD(lr), X_train, y_train, validation_data=(X_val, y_val))", []))
    assert protocol_problems(old) == ["code cell 1 loads a test split outside a 'final-evaluation' cell: "
                                      "choices must be made on a validation split"]


def test_guard_catches_training_or_exercises_after_the_final_evaluation():
    nb = _nb(('X_test, y_test = load_mnist(split="test")\nprint(acc(model, X_test, y_test))', [FINAL]),
             ("model = train_mlp(X_train, y_train, lr=best)", []),
             ("def f():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION", []))
    problems = protocol_problems(nb)
    assert "code cell 2 trains after the final evaluation (code cell 1)" in problems
    assert "code cell 3 holds an exercise after the final evaluation (code cell 1)" in problems


def test_guard_accepts_a_validation_split_and_one_final_evaluation():
    nb = _nb(('X, y = load_mnist("train", n=12000)', []),
             ("hist = fit(model, loss, opt, X[:10000], y[:10000], validation_data=(X[10000:], y[10000:]))", []),
             ('X_test, y_test = load_mnist("test")\nprint(model.predict(X_test))', [FINAL]),
             ("plot_digits(X_test[:8])", []))
    assert protocol_problems(nb) == []
