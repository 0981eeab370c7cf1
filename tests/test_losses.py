"""Losses and stable softmax/log_softmax/sigmoid: known values, gradients, extremes, errors."""
import warnings

import numpy as np
import pytest

from mlcourse.gradcheck import check_loss
from mlcourse.losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, log_softmax,
                             sigmoid, softmax)

TOL = 1e-6


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.fixture(autouse=True)
def no_warnings():
    # Overflow / divide-by-zero / invalid-value warnings anywhere count as failures here.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            yield


# --------------------------------------------------------------------------------------
# softmax / log_softmax / sigmoid
# --------------------------------------------------------------------------------------

def test_softmax_known_values_and_axis():
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(softmax(z)[0], e / e.sum())
    np.testing.assert_allclose(softmax(z)[1], [1 / 3] * 3)
    np.testing.assert_allclose(softmax(z, axis=0).sum(axis=0), 1.0)
    np.testing.assert_allclose(np.exp(log_softmax(z)), softmax(z))


def test_softmax_extreme_logits_finite():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    s, ls = softmax(z), log_softmax(z)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(ls))
    np.testing.assert_allclose(s[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(ls[0], [0.0, -2000.0, -1000.0])
    np.testing.assert_allclose(s[1], [1 / 3] * 3)


def test_sigmoid_extremes_no_overflow_warning():
    out = sigmoid(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0]))
    assert out[0] == 0.0 and out[2] == 0.5 and out[4] == 1.0
    np.testing.assert_allclose(out[1], 1 / (1 + np.exp(30.0)))
    np.testing.assert_allclose(sigmoid(np.float32([-1000, 1000])), [0, 1])


@pytest.mark.parametrize("f", [softmax, log_softmax, sigmoid])
def test_float32_stays_float32(f):
    assert f(np.float32([[1000, -1000, 0.5]])).dtype == np.float32
    assert f(np.array([[1, 2]])).dtype == np.float64  # integers → float64


# --------------------------------------------------------------------------------------
# Known values
# --------------------------------------------------------------------------------------

def test_mse_value():
    pred, t = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [0.0, 4.0]])
    assert MSELoss()(pred, t) == pytest.approx((4 + 9) / 4)


def test_mse_accepts_flat_target_for_single_output():
    loss = MSELoss()
    assert loss(np.array([[1.0], [2.0]]), np.array([0.0, 0.0])) == pytest.approx(2.5)
    assert loss.backward().shape == (2, 1)


def test_bce_value():
    p, t = np.array([0.9, 0.2]), np.array([1.0, 0.0])
    assert BCELoss()(p, t) == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2)


def test_bce_with_logits_matches_bce_of_sigmoid():
    z, t = randn(6, 2), (randn(6, 2, seed=1) > 0).astype(float)
    assert BCEWithLogitsLoss()(z, t) == pytest.approx(BCELoss()(sigmoid(z), t), rel=1e-9)


def test_cross_entropy_value_labels_and_onehot():
    z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    y = np.array([0, 1])
    expected = -np.mean(np.log(softmax(z)[[0, 1], y]))
    assert CrossEntropyLoss()(z, y) == pytest.approx(expected)
    assert CrossEntropyLoss()(z, np.eye(3)[y]) == pytest.approx(expected)
    # uniform logits → log(C)
    assert CrossEntropyLoss()(np.zeros((4, 10)), np.arange(4)) == pytest.approx(np.log(10))


def test_cross_entropy_whole_number_float_labels_ok():
    z = randn(3, 4)
    assert CrossEntropyLoss()(z, np.array([0.0, 3.0, 1.0])) == pytest.approx(CrossEntropyLoss()(z, np.array([0, 3, 1])))


# --------------------------------------------------------------------------------------
# Gradient checks (float64)
# --------------------------------------------------------------------------------------

def test_mse_gradcheck():
    assert check_loss(MSELoss(), randn(5, 3), randn(5, 3, seed=1)) <= TOL


def test_bce_gradcheck():
    p = np.random.default_rng(0).uniform(0.05, 0.95, (5, 2))
    t = (randn(5, 2, seed=1) > 0).astype(float)
    assert check_loss(BCELoss(), p, t) <= TOL


def test_bce_with_logits_gradcheck():
    t = np.random.default_rng(1).uniform(0, 1, (5, 2))  # soft targets too
    assert check_loss(BCEWithLogitsLoss(), randn(5, 2) * 3, t) <= TOL


def test_cross_entropy_gradcheck_labels_and_onehot():
    z = randn(6, 4) * 2
    y = np.array([0, 3, 1, 2, 2, 0])
    assert check_loss(CrossEntropyLoss(), z, y) <= TOL
    soft = np.random.default_rng(2).dirichlet(np.ones(4), size=6)
    assert check_loss(CrossEntropyLoss(), z, soft) <= TOL


def test_cross_entropy_gradient_formula():
    z, y = randn(4, 3), np.array([2, 0, 1, 1])
    loss = CrossEntropyLoss()
    loss(z, y)
    np.testing.assert_allclose(loss.backward(), (softmax(z) - np.eye(3)[y]) / 4)


# --------------------------------------------------------------------------------------
# Extremes: finite losses and gradients
# --------------------------------------------------------------------------------------

def test_cross_entropy_logits_1000_finite():
    z = np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, -1000.0]])
    y = np.array([0, 0, 1])
    loss = CrossEntropyLoss()
    value = loss(z, y)
    assert np.isfinite(value) and value == pytest.approx(4000 / 3)
    assert np.all(np.isfinite(loss.backward()))


def test_bce_with_logits_1000_finite():
    loss = BCEWithLogitsLoss()
    value = loss(np.array([1000.0, -1000.0, 1000.0]), np.array([1.0, 0.0, 0.0]))
    assert value == pytest.approx(1000 / 3)
    np.testing.assert_allclose(loss.backward(), [0.0, 0.0, 1 / 3])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_probabilities_exactly_0_and_1_finite(dtype):
    loss = BCELoss()
    p = np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype)
    t = np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype)
    value = loss(p, t)
    assert np.isfinite(value) and value > 5  # two confident mistakes (-log 1e-7 ≈ 16 each): large, finite
    g = loss.backward()
    assert np.all(np.isfinite(g)) and g.dtype == dtype
    assert loss(p[:2], t[:2]) < 1e-5  # perfect predictions ≈ 0


def test_cross_entropy_onehot_with_zero_probabilities_finite():
    z = np.array([[1000.0, 0.0, -1000.0]])
    assert np.isfinite(CrossEntropyLoss()(z, np.array([[0.0, 0.0, 1.0]])))


# --------------------------------------------------------------------------------------
# dtypes and shapes of backward
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [
    lambda d: (MSELoss(), randn(4, 2).astype(d), randn(4, 2, seed=1)),
    lambda d: (BCELoss(), np.full((4, 1), 0.3, dtype=d), np.array([0, 1, 1, 0])),
    lambda d: (BCEWithLogitsLoss(), randn(4, 1).astype(d), np.array([0.0, 1.0, 1.0, 0.0])),
    lambda d: (CrossEntropyLoss(), randn(4, 3).astype(d), np.array([0, 2, 1, 1])),
    lambda d: (CrossEntropyLoss(), randn(4, 3).astype(d), np.eye(3)[[0, 2, 1, 1]]),
])
def test_backward_same_shape_and_dtype_as_pred(make, dtype):
    loss, pred, target = make(dtype)
    value = loss(pred, target)
    assert isinstance(value, float)
    g = loss.backward()
    assert g.shape == pred.shape and g.dtype == dtype


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------

def test_shape_mismatch_names_both_shapes():
    for loss in (MSELoss(), BCELoss(), BCEWithLogitsLoss()):
        with pytest.raises(ValueError) as e:
            loss(np.zeros((4, 2)), np.zeros((4, 3)))
        assert "(4, 3)" in str(e.value) and "(4, 2)" in str(e.value)
    with pytest.raises(ValueError) as e:  # (N,) vs (N, 1) the other way round would broadcast to (N, N)
        MSELoss()(np.zeros(4), np.zeros((4, 1)))
    assert "(4, 1)" in str(e.value) and "(4,)" in str(e.value)


def test_cross_entropy_labels_out_of_range():
    z = np.zeros((3, 4))
    for bad in ([0, 4, 1], [-1, 0, 1]):
        with pytest.raises(ValueError) as e:
            CrossEntropyLoss()(z, np.array(bad))
        assert "[0, 3]" in str(e.value)


def test_cross_entropy_bad_targets():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match="rows"):
        CrossEntropyLoss()(z, np.array([0, 1]))
    with pytest.raises(ValueError) as e:
        CrossEntropyLoss()(z, np.zeros((3, 5)))
    assert "(3, 5)" in str(e.value) and "(3, 4)" in str(e.value)
    with pytest.raises(ValueError, match="integers"):
        CrossEntropyLoss()(z, np.array([0.5, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        CrossEntropyLoss()(np.zeros(4), np.array([0, 1, 2, 3]))
