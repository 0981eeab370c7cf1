"""Tests for mlcourse.widgets: static fallback and live ipywidgets mode (no kernel needed)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from mlcourse import widgets  # noqa: E402
from mlcourse.widgets import checkbox, dropdown, interact, log_slider, slider  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    plt.close("all")
    yield
    plt.close("all")


def draw(lr=0.01, epochs=50, kind="sgd", grid=False):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [lr, epochs])
    ax.set_title(f"{kind} lr={lr:g}")
    return (lr, epochs, kind, grid)


def test_static_mode_draws_once_with_defaults(monkeypatch, capsys):
    monkeypatch.setenv("MLCOURSE_STATIC", "1")
    assert not widgets.is_live()
    out = interact(draw, lr=log_slider(1e-4, 1.0), epochs=(10, 200, 10), kind=["adam", "sgd"])
    assert out is None
    assert len(plt.get_fignums()) == 1
    ax = plt.gcf().axes[0]
    assert ax.get_title() == "sgd lr=0.01"  # function defaults are the start values
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and "lr" in line and "epochs" in line and "JupyterLab" in line


def test_start_values_without_function_defaults(monkeypatch):
    monkeypatch.setenv("MLCOURSE_STATIC", "1")
    calls = []
    interact(lambda a, b, c, d: calls.append((a, b, c, d)),
             a=slider(0, 10), b=log_slider(1e-4, 1.0), c=dropdown({"x": 1, "y": 2}), d=checkbox(True))
    a, b, c, d = calls[0]
    assert a == 5 and isinstance(a, int)
    assert b == pytest.approx(1e-2) and c == 1 and d is True


def test_bad_controls(monkeypatch):
    monkeypatch.setenv("MLCOURSE_STATIC", "1")
    with pytest.raises(ValueError, match="no argument 'rate'"):
        interact(draw, rate=(0.0, 1.0))
    with pytest.raises(ValueError, match=r"needs \['x'\]"):
        interact(lambda x, y=1: None, y=(0, 3))
    with pytest.raises(ValueError, match="outside its range"):
        interact(draw, lr=slider(0.5, 1.0))  # default lr=0.01 is not in [0.5, 1]
    with pytest.raises(ValueError, match="min < max"):
        slider(1, 0)
    with pytest.raises(TypeError, match="not a control"):
        interact(draw, lr=object())


def test_live_mode_widget_redraws_on_change(monkeypatch):
    ipywidgets = pytest.importorskip("ipywidgets")
    monkeypatch.delenv("MLCOURSE_STATIC", raising=False)
    monkeypatch.setattr(widgets, "is_live", lambda: True)
    w = interact(draw, lr=log_slider(1e-4, 1.0), epochs=slider(10, 200, 10), kind=["adam", "sgd"])
    assert isinstance(w, ipywidgets.interactive)
    lr_w, epochs_w, kind_w = w.children[:3]
    assert isinstance(lr_w, ipywidgets.FloatLogSlider) and lr_w.continuous_update is False
    assert isinstance(epochs_w, ipywidgets.IntSlider) and epochs_w.value == 50
    assert isinstance(kind_w, ipywidgets.Dropdown) and kind_w.value == "sgd"
    assert isinstance(w.children[-1], ipywidgets.Output)
    assert w.last_result == (0.01, 50, "sgd", False)
    first = w.figures[0]
    assert first.axes[0].get_title() == "sgd lr=0.01"

    epochs_w.value = 120  # moving a control redraws
    assert w.last_result == (0.01, 120, "sgd", False)
    assert w.figures[0] is not first
    assert list(w.figures[0].axes[0].lines[0].get_ydata()) == [0.01, 120]
    kind_w.value = "adam"
    assert w.figures[0].axes[0].get_title() == "adam lr=0.01"
    assert plt.get_fignums() == []  # every redraw closes its figure: no leaks, no duplicates

