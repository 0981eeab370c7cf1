"""Tests for mlcourse.metrics: known values, score inputs, edge cases."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from mlcourse.metrics import accuracy, confusion_matrix, mae, mse, r2_score


def test_accuracy_labels_and_scores():
    y = np.array([0, 1, 2, 2])
    assert accuracy(y, [0, 1, 1, 2]) == 0.75
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.6, 0.3], [0.0, 0.1, 0.9]])
    assert accuracy(y, scores) == 0.75
    assert accuracy(np.eye(3)[y], scores) == 0.75  # one-hot targets
    assert accuracy(y.astype(float), y) == 1.0
    assert isinstance(accuracy(y, y), float)


def test_accuracy_errors():
    with pytest.raises(ValueError, match="rows"):
        accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="threshold"):
        accuracy([0, 1], np.array([[0.2], [0.9]]))
    with pytest.raises(ValueError, match="whole numbers"):
        accuracy([0, 1], np.array([0.2, 0.9]))
    with pytest.raises(ValueError, match="empty"):
        accuracy([], [])


def test_confusion_matrix():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2])
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])  # rows true, cols predicted
    assert cm.dtype == np.int64 and cm.sum() == 6
    assert confusion_matrix([0, 1], [1, 1], num_classes=4).shape == (4, 4)
    scores = np.eye(3)[[0, 1, 1, 2, 0, 2]]
    np.testing.assert_array_equal(confusion_matrix([0, 0, 1, 2, 2, 2], scores), cm)
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix([0, 3], [0, 1], num_classes=3)
    with pytest.raises(ValueError, match="negative"):
        confusion_matrix([0, -1], [0, 1])


def test_regression_metrics_known_values():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.5, 2.0, 2.0, 4.0])
    assert mse(t, p) == pytest.approx((0.25 + 0 + 1 + 0) / 4)
    assert mae(t, p) == pytest.approx((0.5 + 0 + 1 + 0) / 4)
    assert r2_score(t, p) == pytest.approx(1 - 1.25 / 5.0)
    assert r2_score(t, t) == 1.0
    assert r2_score(t, np.full(4, t.mean())) == pytest.approx(0.0)


def test_regression_shapes():
    t = np.arange(5.0)
    assert mse(t, t.reshape(-1, 1)) == 0.0  # (N,) vs (N, 1) is not broadcast to (N, N)
    with pytest.raises(ValueError, match="shape"):
        mse(np.zeros(4), np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        mae([1.0, np.nan], [1.0, 2.0])
    T = np.column_stack([t, 2 * t])
    P = np.column_stack([t, 2 * t + 1])
    expected = (1.0 + (1 - 5 / np.sum((2 * t - 4) ** 2))) / 2
    assert r2_score(T, P) == pytest.approx(expected)


def test_r2_constant_target_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert r2_score(np.full(5, 0.1), np.full(5, 0.1)) == 1.0
        assert r2_score(np.full(5, 0.1), np.arange(5.0)) == 0.0
