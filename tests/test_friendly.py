"""One-line "finish … first" messages in an IPython shell (mlcourse.friendly)."""
from __future__ import annotations

import re

import pytest

from mlcourse import friendly

IPython = pytest.importorskip("IPython")


@pytest.fixture
def shell(capsys):
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    friendly._stopped.clear()
    friendly._stubs.clear()
    ip.user_ns.pop("check", None)
    yield ip
    ip.set_custom_exc((), None)
    ip._mlcourse_friendly = False


def run(ip, capsys, source: str) -> str:
    ip.run_cell(source, store_history=True)
    return re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)


def test_unfinished_exercise_and_what_depends_on_it_say_one_line(shell, capsys):
    assert friendly.install(shell)
    out = run(shell, capsys, "x = 1")
    assert run(shell, capsys, "check") .count("run the chapter's first code cell (the imports) first") == 1
    run(shell, capsys, "import numpy as np\nfrom mlcourse.checks import check")  # the imports cell
    run(shell, capsys, 'def dense_backward(d):\n    raise NotImplementedError("finish `dense_backward` (section 2) first")')
    out = run(shell, capsys, "grads = {}\ngrads['W'] = dense_backward(1)\nloss = 3")
    assert out.strip().endswith("finish `dense_backward` (section 2) first") and "Traceback" not in out
    assert len(out.strip().splitlines()) == 1
    out = run(shell, capsys, "print(loss)")
    assert "`loss` is not defined: the cell that makes it stopped — finish `dense_backward` (section 2) first" in out
    out = run(shell, capsys, "print(grads['W'])")  # KeyError: the dict the stopped cell fills
    assert "needs `grads`" in out and "finish `dense_backward` (section 2) first" in out and "Traceback" not in out
    out = run(shell, capsys, "1 / 0")  # anything else keeps its traceback
    assert "ZeroDivisionError" in out and "finish" not in out
    out = run(shell, capsys, "undefined_thing")
    assert "NameError" in out and "finish" not in out


def test_a_finished_exercise_is_no_longer_blamed(shell, capsys):
    friendly.install(shell)
    run(shell, capsys, "from mlcourse.checks import check")
    run(shell, capsys, 'def f():\n    raise NotImplementedError("finish `f` (section 1) first")')
    assert "finish `f`" in run(shell, capsys, "f()")
    run(shell, capsys, "def f():\n    return {}")
    out = run(shell, capsys, "f()['missing']")
    assert "KeyError" in out and "finish" not in out


def test_widget_callback_shows_one_line(monkeypatch, capsys):
    monkeypatch.delenv("MLCOURSE_STATIC", raising=False)
    from mlcourse import widgets

    def fn(x=1):
        raise NotImplementedError("finish `train_network` (section 8) first")

    w = widgets._interactive_class()(fn, x=widgets._make_widget(widgets.slider(0, 2), "x", 1))
    w.update()
    assert "finish `train_network` (section 8) first" in "".join(o.get("text", "") for o in w.out.outputs) + capsys.readouterr().out


def test_released_check_cell_says_which_cell_to_run_in_a_plain_kernel(tmp_path, monkeypatch):
    """Plain Jupyter / Colab: no kernel extension, no IPython profile. The released check cell
    of chapter 04 runs first in a fresh kernel, then the exercise (still a stub, then solved
    with NumPy before the imports ran), then the imports: each time one line, no traceback."""
    import nbformat
    from nbclient import NotebookClient

    from authoring.release import NOTEBOOKS

    released = nbformat.read(NOTEBOOKS / "04_mlp_backprop.ipynb", as_version=4).cells
    imports = next(c for c in released if c.cell_type == "code")
    exercise = next(c for c in released if c.source.startswith("def dense_forward("))
    check_cell = released[released.index(exercise) + 1]
    assert check_cell.source == 'from mlcourse.checks import check\ncheck("dense_forward", section=1)'
    solved = exercise.source.replace('raise NotImplementedError("finish `dense_forward` (section 1) first")',
                                     "return np.dot(x, W) + b")
    order = [check_cell, exercise, check_cell, nbformat.v4.new_code_cell(solved), check_cell, imports, check_cell]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.source) for c in order])
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # no profile, so no mlcourse.friendly extension
    monkeypatch.setenv("MPLBACKEND", "Agg")
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [c.outputs for c in nb.cells]
    assert all(o.output_type == "stream" for out in outputs for o in out), outputs  # no error, no traceback
    said = ["".join(o.text for o in out) for out in outputs]
    assert said[0] == "❌ `dense_forward`: `dense_forward` is not defined yet: run the cell that defines it (section 1) first\n"
    assert said[2] == ("❌ `dense_forward`: not implemented yet — write your code in place of the "
                       "`raise NotImplementedError(…)` line\n")
    assert said[4] == ("❌ `dense_forward`: `np` is not defined yet: run the chapter's first code cell (the imports) "
                       "first\n")
    assert said[6].startswith("✅ `dense_forward`: public checks passed")
    assert not (tmp_path / "ipython" / "profile_default" / "ipython_kernel_config.py").exists()
