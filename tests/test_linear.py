"""Tests for mlcourse.linear: closed form vs NumPy, gradient descent vs closed form."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from mlcourse.data import StandardScaler, load_house_prices
from mlcourse.linear import DivergenceWarning, LinearRegression, least_squares


def rel(a, b) -> float:
    a, b = np.atleast_1d(np.asarray(a, float)), np.atleast_1d(np.asarray(b, float))
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def synthetic(n=300, d=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 3.0, 0.5, 2.0][:d] + [0.0, 5.0, -1.0, 2.0][:d]
    w_true = np.array([2.0, -1.0, 0.5, 3.0])[:d]
    y = X @ w_true + 4.0 + 0.1 * rng.normal(size=n)
    return X.astype(dtype), y.astype(dtype)


def test_least_squares_matches_numpy_lstsq():
    X, y = synthetic()
    w, b = least_squares(X, y)
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(w, theta[:-1], rtol=1e-10)
    assert b == pytest.approx(theta[-1], rel=1e-10)
    assert w.shape == (4,) and isinstance(b, float)


def test_least_squares_exact_fit_and_collinear():
    X = np.array([[1.0], [2.0], [3.0]])
    w, b = least_squares(X, 2 * X[:, 0] + 1)
    np.testing.assert_allclose([w[0], b], [2.0, 1.0], atol=1e-12)
    w1, b1 = least_squares(np.arange(3.0), [1.0, 3.0, 5.0])  # 1-D X = one feature
    np.testing.assert_allclose([w1[0], b1], [2.0, 1.0], atol=1e-12)
    # a duplicated column is singular for the normal equations; lstsq splits the weight
    w2, _ = least_squares(np.hstack([X, X]), 2 * X[:, 0] + 1)
    np.testing.assert_allclose(w2, [1.0, 1.0], atol=1e-10)


def test_gd_full_batch_matches_closed_form_synthetic():
    X, y = synthetic()
    Xs = StandardScaler().fit_transform(X)
    w, b = least_squares(Xs, y)
    model = LinearRegression(lr=0.1, epochs=500).fit(Xs, y)
    assert rel(model.weights, w) < 1e-4
    assert rel(model.bias, b) < 1e-4
    assert len(model.history) == 500
    assert model.history[-1] <= model.history[0]
    assert np.all(np.diff(model.history) <= 1e-12)  # full-batch GD with a small lr: monotone
    np.testing.assert_allclose(model.predict(Xs), Xs @ w + b, rtol=1e-4, atol=1e-4)


def test_gd_matches_closed_form_king_county():
    df = load_house_prices()
    cols = ["sqft_living", "bedrooms", "bathrooms", "grade", "lat", "yr_built"]
    sub = df.iloc[:5000]
    Xs = StandardScaler().fit_transform(sub[cols].to_numpy(dtype=float))
    y = np.log(sub["price"].to_numpy(dtype=float))
    w, b = least_squares(Xs, y)
    model = LinearRegression(lr=0.1, epochs=1000).fit(Xs, y)
    assert rel(model.weights, w) < 1e-4
    assert rel(model.bias, b) < 1e-4


def test_minibatch_gd_is_seeded_and_close():
    X, y = synthetic()
    Xs = StandardScaler().fit_transform(X)
    w, b = least_squares(Xs, y)
    m1 = LinearRegression(lr=0.01, epochs=60, batch_size=32, seed=3).fit(Xs, y)
    m2 = LinearRegression(lr=0.01, epochs=60, batch_size=32, seed=3).fit(Xs, y)
    m3 = LinearRegression(lr=0.01, epochs=60, batch_size=32, seed=4).fit(Xs, y)
    np.testing.assert_array_equal(m1.weights, m2.weights)
    assert m1.history == m2.history
    assert not np.array_equal(m1.weights, m3.weights)
    assert rel(m1.weights, w) < 1e-2 and abs(m1.bias - b) < 1e-2


def test_float32_stays_float32():
    X, y = synthetic(dtype=np.float32)
    Xs = StandardScaler().fit_transform(X)
    model = LinearRegression(lr=0.1, epochs=300).fit(Xs, y)
    assert model.weights.dtype == np.float32
    assert model.predict(Xs).dtype == np.float32
    w, b = least_squares(Xs.astype(np.float64), y.astype(np.float64))
    assert rel(model.weights, w) < 1e-4


def test_divergence_raises_with_advice():
    X, y = synthetic()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warnings on the way
        with pytest.raises(FloatingPointError, match=r"lr=5 is too large.*try lr=0.5"):
            LinearRegression(lr=5.0, epochs=200).fit(X, y)


def test_divergence_warn_mode_keeps_history():
    X, y = synthetic()
    model = LinearRegression(lr=5.0, epochs=200, on_divergence="warn")
    with pytest.warns(DivergenceWarning, match="too large"):
        model.fit(X, y)
    assert model.diverged and 1 <= len(model.history) < 200
    assert model.history[-1] > model.history[0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="lr"):
        LinearRegression(lr=0)
    with pytest.raises(ValueError, match="epochs"):
        LinearRegression(epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        LinearRegression(batch_size=0)
    with pytest.raises(ValueError, match="rows"):
        LinearRegression().fit(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        least_squares([[1.0], [np.nan]], [1.0, 2.0])
    with pytest.raises(RuntimeError, match="fit"):
        LinearRegression().predict(np.zeros((2, 2)))
    model = LinearRegression(epochs=2).fit(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="2 feature"):
        model.predict(np.zeros((3, 3)))
