"""Tests for mlcourse.plots: each helper returns its Axes/Figure with the expected artists."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mlcourse import plots  # noqa: E402
from mlcourse.data import make_moons, make_spiral  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_learning_curves_from_list_and_dict():
    ax = plots.plot_learning_curves([3.0, 2.0, 1.5])
    assert isinstance(ax, Axes) and len(ax.lines) == 1
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])
    hist = {"loss": [3, 2, 1], "val_loss": [3, 2.5, 2], "accuracy": [0.1, 0.5, 0.9]}
    ax = plots.plot_learning_curves(hist)
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["loss", "val_loss"]  # losses by default
    assert ax.lines[1].get_linestyle() == "--" and ax.lines[0].get_color() == ax.lines[1].get_color()
    ax = plots.plot_learning_curves(hist, keys=["accuracy"])
    assert [line.get_label() for line in ax.lines] == ["accuracy"]
    with pytest.raises(ValueError, match="keys"):
        plots.plot_learning_curves(hist, keys=["val_accuracy"])


def test_learning_curves_on_given_axes_and_history_object():
    class History:
        history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}

    fig, ax = plt.subplots()
    out = plots.plot_learning_curves(History(), ax=ax)
    assert out is ax and len(ax.lines) == 2
    ax = plots.plot_learning_curves([1.0, 10.0, np.inf], logy=True)  # a diverged run
    assert ax.get_yscale() == "log" and np.isnan(ax.lines[0].get_ydata()[-1])


def test_decision_boundary_labels_and_scores():
    X, y = make_spiral(30, 3, seed=0)
    ax = plots.plot_decision_boundary(lambda P: (P[:, 0] > 0).astype(int), X, y, resolution=50)
    assert isinstance(ax, Axes)
    assert len(ax.collections) >= 2  # filled regions + scattered points
    assert ax.collections[-1].get_offsets().shape == (90, 2)
    W = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]])
    ax = plots.plot_decision_boundary(lambda P: P @ W, X, y, resolution=40)  # scores → argmax
    assert len(ax.collections) >= 2


def test_decision_boundary_probabilities_and_errors():
    X, y = make_moons(60, seed=0)
    seen = []

    def prob(P):
        seen.append(P.shape)
        return 1 / (1 + np.exp(-P[:, :1]))  # (M, 1) probabilities

    plots.plot_decision_boundary(prob, X, y, resolution=30)
    assert seen == [(900, 2)]
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plots.plot_decision_boundary(prob, np.zeros((5, 3)), np.zeros(5))


def test_confusion_matrix_plot():
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    ax = plots.plot_confusion_matrix(cm, class_names=["a", "b", "c"])
    assert len(ax.images) == 1
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 9 and texts[0] == "5" and texts[4] == "7"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="class_names"):
        plots.plot_confusion_matrix(cm, class_names=["a"])


def test_plot_digits_marks_wrong_predictions_red():
    X = np.random.default_rng(0).random((20, 784))
    y_true = np.arange(20) % 10
    y_pred = y_true.copy()
    y_pred[[1, 4]] = 0
    fig = plots.plot_digits(X, y_true, y_pred, n=8, ncols=4)
    assert isinstance(fig, Figure) and len(fig.axes) == 8
    colors = [ax.title.get_color() for ax in fig.axes]
    assert colors[1] == "red" and colors[4] == "red" and colors[0] == "black"
    assert all(len(ax.images) == 1 for ax in fig.axes)
    fig = plots.plot_digits(X.reshape(20, 1, 28, 28), n=5, ncols=8)
    assert sum(len(ax.images) for ax in fig.axes) == 5


def test_plot_filters():
    W = np.random.default_rng(0).normal(size=(6, 1, 3, 3))
    fig = plots.plot_filters(W, ncols=4)
    assert sum(len(ax.images) for ax in fig.axes) == 6 and len(fig.axes) == 8
    fig = plots.plot_filters(np.random.default_rng(1).normal(size=(4, 3, 5, 5)))
    assert fig.axes[0].images[0].get_array().shape == (5, 5, 3)
    with pytest.raises(ValueError, match="C_out"):
        plots.plot_filters(np.zeros((3, 3)))


def test_plot_regression_fit():
    x = np.linspace(0, 1, 30)
    y = 2 * x + 1
    ax = plots.plot_regression_fit(x, y, lambda g: 2 * g + 1)
    assert len(ax.collections) == 1 and len(ax.lines) == 1
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 2 * ax.lines[0].get_xdata() + 1)
