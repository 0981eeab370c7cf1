"""Layers, Sequential and gradcheck: numerical gradient checks, shapes, dtypes, errors."""
import numpy as np
import pytest

from mlcourse import nn
from mlcourse.gradcheck import check_layer, numerical_gradient, rel_error
from mlcourse.layers import Dense, Dropout, Flatten, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from mlcourse.normalization import BatchNorm, LayerNorm

TOL = 1e-6


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --------------------------------------------------------------------------------------
# gradcheck helpers themselves
# --------------------------------------------------------------------------------------

def test_numerical_gradient_known_function_and_restores_x():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    g = numerical_gradient(lambda v: np.sum(v ** 3), x)
    np.testing.assert_allclose(g, 3 * before ** 2, rtol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_rel_error():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0  # no 0/0
    assert rel_error([1.0], [3.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="shape"):
        rel_error(np.zeros(2), np.zeros(3))


# --------------------------------------------------------------------------------------
# Gradient checks (float64): every layer, max relative error ≤ 1e-6
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("init", ["he", "glorot", "normal"])
def test_dense_gradcheck(init):
    errs = check_layer(Dense(5, 3, init=init, rng=1), randn(4, 5))
    assert set(errs) == {"x", "W", "b"}
    assert max(errs.values()) <= TOL, errs


@pytest.mark.parametrize("layer", [ReLU(), LeakyReLU(), LeakyReLU(alpha=0.2), Sigmoid(), Tanh(),
                                   Softmax(), Flatten()], ids=repr)
def test_activation_gradcheck(layer):
    errs = check_layer(layer, randn(4, 6, seed=2))
    assert set(errs) == {"x"}
    assert errs["x"] <= TOL, errs


def test_flatten_gradcheck_4d():
    assert check_layer(Flatten(), randn(2, 3, 4, 5))["x"] <= TOL


def test_dropout_gradcheck_with_fixed_mask():
    layer = Dropout(0.5, rng=3)
    x = randn(6, 8)
    errs = check_layer(layer, x)
    assert errs["x"] <= TOL, errs
    # The check really ran in training mode: some units were dropped.
    assert layer.mask is not None and np.any(layer.mask == 0)


def test_sequential_gradcheck_with_dropout():
    model = nn.Sequential([Dense(4, 6, rng=0), "tanh", Dropout(0.3, rng=1), Dense(6, 3, rng=2), Softmax()])
    errs = check_layer(model, randn(5, 4))
    assert set(errs) == {"x", "0.W", "0.b", "3.W", "3.b"}
    assert max(errs.values()) <= TOL, errs


# --------------------------------------------------------------------------------------
# Forward values
# --------------------------------------------------------------------------------------

def test_dense_forward_value_and_shapes():
    d = Dense(3, 2, rng=0)
    assert d.params["W"].shape == (3, 2) and d.params["b"].shape == (2,)
    d.params["b"][:] = [1.0, -1.0]
    x = randn(4, 3)
    np.testing.assert_allclose(d(x), x @ d.params["W"] + [1.0, -1.0])


def test_dense_init_scales():
    # he: std sqrt(2/in); glorot: sqrt(2/(in+out)); normal: 0.01.
    for init, std in [("he", np.sqrt(2 / 400)), ("glorot", np.sqrt(2 / 600)), ("normal", 0.01)]:
        W = Dense(400, 200, init=init, rng=0).params["W"]
        assert W.std() == pytest.approx(std, rel=0.02)


def test_activation_values():
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(ReLU()(x), [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(LeakyReLU()(x), [[-0.02, 0.0, 3.0]])
    np.testing.assert_allclose(Tanh()(x), np.tanh(x))
    np.testing.assert_allclose(Sigmoid()(x), 1 / (1 + np.exp(-x)))
    s = Softmax()(x)
    np.testing.assert_allclose(s.sum(axis=1), 1.0)
    np.testing.assert_allclose(s, np.exp(x) / np.exp(x).sum())


def test_sigmoid_layer_extreme_inputs_no_warning():
    out = Sigmoid()(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 1.0])


def test_dropout_inverted_scaling_and_eval_identity():
    x = np.ones((2000, 50))
    d = Dropout(0.2, rng=0)
    out = d(x, training=True)
    assert set(np.unique(out)) == {0.0, 1.25}
    assert out.mean() == pytest.approx(1.0, abs=0.01)  # expectation preserved
    assert np.mean(out == 0) == pytest.approx(0.2, abs=0.01)
    assert d(x, training=False) is x  # identity at inference
    np.testing.assert_array_equal(d.backward(np.full_like(x, 2.0)), np.full_like(x, 2.0))


def test_dropout_same_seed_same_mask():
    a = Dropout(0.5, rng=7)(np.ones((4, 5)), training=True)
    b = Dropout(0.5, rng=7)(np.ones((4, 5)), training=True)
    np.testing.assert_array_equal(a, b)


def test_dropout_bad_p():
    with pytest.raises(ValueError, match="p"):
        Dropout(1.0)


def test_flatten_shapes():
    f = Flatten()
    x = randn(2, 3, 4, 5)
    assert f(x).shape == (2, 60)
    assert f.backward(np.ones((2, 60))).shape == (2, 3, 4, 5)


# --------------------------------------------------------------------------------------
# dtypes
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_end_to_end(dtype):
    model = nn.Sequential([Dense(4, 8, rng=0, dtype=dtype), "relu", Dense(8, 8, rng=1, dtype=dtype),
                           "leaky_relu", "tanh", "sigmoid", Dropout(0.5, rng=0), Dense(8, 3, rng=2, dtype=dtype),
                           "softmax"])
    x = randn(5, 4).astype(dtype)
    out = model.forward(x, training=True)
    assert out.dtype == dtype
    assert model.backward(np.ones_like(out)).dtype == dtype
    assert all(g.dtype == dtype for g in model.grads.values())
    assert all(p.dtype == dtype for p in model.params.values())


def test_float32_dense_casts_float64_input():
    d = Dense(3, 2, rng=0, dtype=np.float32)
    assert d(randn(4, 3)).dtype == np.float32  # float64 data, float32 model: no silent upcast


def test_same_seed_same_weights():
    a, b = Dense(6, 4, rng=5), Dense(6, 4, rng=5)
    np.testing.assert_array_equal(a.params["W"], b.params["W"])
    assert not np.array_equal(a.params["W"], Dense(6, 4, rng=6).params["W"])


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------

def test_dense_wrong_feature_count_names_layer_and_shapes():
    with pytest.raises(ValueError) as e:
        Dense(4, 3)(np.ones((5, 2)))
    msg = str(e.value)
    assert "Dense(4→3)" in msg and "(N, 4)" in msg and "(5, 2)" in msg


def test_dense_1d_input_rejected():
    with pytest.raises(ValueError, match="Dense"):
        Dense(4, 3)(np.ones(4))


def test_unknown_init_lists_valid():
    with pytest.raises(ValueError) as e:
        Dense(4, 3, init="xavier")
    assert "'xavier'" in str(e.value) and "'he'" in str(e.value) and "'glorot'" in str(e.value)


def test_bad_dtype():
    with pytest.raises(ValueError, match="dtype"):
        Dense(2, 2, dtype=np.int32)


def test_unknown_activation_lists_valid():
    with pytest.raises(ValueError) as e:
        nn.Sequential([Dense(2, 2), "relux"])
    assert "'relux'" in str(e.value) and "'relu'" in str(e.value) and "'tanh'" in str(e.value)


# --------------------------------------------------------------------------------------
# Sequential
# --------------------------------------------------------------------------------------

def test_sequential_params_are_the_layers_arrays():
    model = nn.Sequential([Dense(3, 4, rng=0), ReLU(), Dense(4, 2, rng=1)])
    assert list(model.params) == ["0.W", "0.b", "2.W", "2.b"]
    assert model.params["0.W"] is model[0].params["W"]
    model.params["2.b"] += 1.0  # in place through the flat dict
    np.testing.assert_array_equal(model[2].params["b"], [1.0, 1.0])
    model.forward(randn(5, 3))
    model.backward(np.ones((5, 2)))
    assert model.grads["0.W"] is model[0].grads["W"]
    assert list(model.grads) == list(model.params)


def test_sequential_protocol_and_repr():
    model = nn.Sequential([Dense(3, 4, rng=0), "relu", Dense(4, 2, rng=1)])
    assert len(model) == 3 and isinstance(model[1], ReLU)
    x = randn(5, 3)
    np.testing.assert_array_equal(model(x), model.predict(x))
    np.testing.assert_allclose(model.predict(x, batch_size=2), model.predict(x))
    text = repr(model)
    assert "Dense(3→4)" in text and "ReLU" in text and "26 params" in text
    assert model.num_params() == 3 * 4 + 4 + 4 * 2 + 2


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="item 1"):
        nn.Sequential([Dense(2, 2), 42])


# --------------------------------------------------------------------------------------
# Normalisation layers: BatchNorm and LayerNorm
# --------------------------------------------------------------------------------------

def _bn_with(gamma_seed=4, D=5, cls=BatchNorm):
    layer = cls(D)
    r = np.random.default_rng(gamma_seed)
    layer.params["gamma"][:] = r.standard_normal(D)
    layer.params["beta"][:] = r.standard_normal(D)
    return layer


@pytest.mark.parametrize("cls", [BatchNorm, LayerNorm], ids=lambda c: c.__name__)
def test_norm_gradcheck(cls):
    errs = check_layer(_bn_with(cls=cls), randn(6, 5, seed=3) * 3 + 1)
    assert set(errs) == {"x", "gamma", "beta"}
    assert max(errs.values()) <= 1e-7, errs


def test_batchnorm_train_normalises_each_feature_and_updates_running_stats():
    x = randn(50, 4, seed=1) * [1.0, 2.0, 0.5, 3.0] + [0.0, 5.0, -2.0, 1.0]
    bn = BatchNorm(4, momentum=0.9)
    out = bn(x, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-5))  # biased var, with ε
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(axis=0))


def test_batchnorm_eval_uses_running_stats_and_changes_nothing():
    bn = _bn_with(D=3)
    bn.running_mean[:] = [1.0, -1.0, 0.5]
    bn.running_var[:] = [4.0, 0.25, 1.0]
    x = randn(7, 3, seed=2)
    before = bn.running_mean.copy(), bn.running_var.copy()
    out = bn(x, training=False)
    expected = bn.params["gamma"] * (x - before[0]) / np.sqrt(before[1] + 1e-5) + bn.params["beta"]
    np.testing.assert_allclose(out, expected)
    np.testing.assert_array_equal(bn.running_mean, before[0])
    np.testing.assert_array_equal(bn.running_var, before[1])
    np.testing.assert_allclose(bn(x[:1], training=False), expected[:1])  # one sample: same as in the batch


def test_batchnorm_running_stats_converge_to_the_data_statistics():
    rng = np.random.default_rng(0)
    bn = BatchNorm(2, momentum=0.9)
    for _ in range(200):
        bn(rng.standard_normal((64, 2)) * [2.0, 0.5] + [3.0, -1.0], training=True)
    np.testing.assert_allclose(bn.running_mean, [3.0, -1.0], atol=0.1)
    np.testing.assert_allclose(bn.running_var, [4.0, 0.25], rtol=0.1)


def test_layernorm_normalises_each_sample_and_ignores_the_batch():
    x = randn(6, 8, seed=5) * 3 + 2
    ln = LayerNorm(8)
    out = ln(x, training=True)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(ln(x[2:3]), out[2:3])  # alone or in a batch: the same
    np.testing.assert_array_equal(ln(x, training=False), out)


def test_norm_constant_feature_is_finite():
    x = np.ones((4, 3))
    for layer in (BatchNorm(3), LayerNorm(3)):
        out = layer(x, training=True)
        assert np.all(np.isfinite(out)) and np.all(np.isfinite(layer.backward(np.ones_like(x))))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norm_dtype_end_to_end(dtype):
    model = nn.Sequential([Dense(4, 8, rng=0, dtype=dtype), BatchNorm(8, dtype=dtype), "relu",
                           Dense(8, 6, rng=1, dtype=dtype), LayerNorm(6, dtype=dtype), Dense(6, 3, rng=2, dtype=dtype)])
    x = randn(5, 4).astype(dtype)
    out = model.forward(x, training=True)
    assert out.dtype == dtype and model.forward(x).dtype == dtype
    assert model.backward(np.ones_like(out)).dtype == dtype
    assert all(g.dtype == dtype for g in model.grads.values())
    assert model[1].running_var.dtype == dtype


def test_sequential_gradcheck_with_batchnorm():
    model = nn.Sequential([Dense(4, 6, rng=0), BatchNorm(6), "tanh", Dense(6, 5, rng=2), LayerNorm(5),
                           Dense(5, 3, rng=3)])
    errs = check_layer(model, randn(7, 4))
    assert set(errs) == {"x", "0.W", "0.b", "1.gamma", "1.beta", "3.W", "3.b", "4.gamma", "4.beta", "5.W", "5.b"}
    # A bias right before BatchNorm is subtracted again with the mean: its gradient is exactly 0
    # (numerically only rounding noise, so it is checked on its own).
    assert np.abs(model.grads["0.b"]).max() < 1e-12
    del errs["0.b"]
    assert max(errs.values()) <= TOL, errs


def test_norm_bad_input():
    with pytest.raises(ValueError) as e:
        BatchNorm(4)(np.ones((5, 3)), training=True)
    assert "BatchNorm(4)" in str(e.value) and "(N, 4)" in str(e.value) and "(5, 3)" in str(e.value)
    with pytest.raises(ValueError, match="at least 2 samples"):
        BatchNorm(3)(np.ones((1, 3)), training=True)
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(3, momentum=1.0)
    with pytest.raises(ValueError, match="eps"):
        LayerNorm(3, eps=0)
    with pytest.raises(ValueError, match="num_features"):
        LayerNorm(0)
    with pytest.raises(ValueError, match="dtype"):
        BatchNorm(2, dtype=np.int32)
