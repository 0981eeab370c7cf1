"""Optimizers against hand-computed steps; schedules against their formulas."""
import math

import numpy as np
import pytest

from mlcourse import nn
from mlcourse.optim import (SGD, Adam, CosineDecay, ExponentialDecay, InverseTimeDecay, RMSProp,
                            StepDecay)


def setup(dtype=np.float64):
    params = {"W": np.array([1.0, -2.0, 3.0], dtype=dtype), "b": np.array([0.5], dtype=dtype)}
    grads = {"W": np.array([0.1, -0.4, 2.0], dtype=dtype), "b": np.array([-1.0], dtype=dtype)}
    return params, grads


def test_sgd_plain_step_in_place():
    p, g = setup()
    W = p["W"]
    SGD(lr=0.1).update(p, g)
    assert p["W"] is W  # same array, updated in place
    np.testing.assert_allclose(W, [1.0 - 0.01, -2.0 + 0.04, 3.0 - 0.2])
    np.testing.assert_allclose(p["b"], [0.6])


def test_sgd_momentum_two_steps():
    p, g = setup()
    opt = SGD(lr=0.1, momentum=0.9)
    opt.update(p, g)  # v = g
    opt.update(p, g)  # v = 0.9 g + g = 1.9 g
    np.testing.assert_allclose(p["W"], np.array([1.0, -2.0, 3.0]) - 0.1 * (1 + 1.9) * g["W"])


def test_sgd_nesterov_two_steps():
    p, g = setup()
    opt = SGD(lr=0.1, momentum=0.9, nesterov=True)
    opt.update(p, g)  # v = g;      step g + 0.9 v = 1.9 g
    opt.update(p, g)  # v = 1.9 g;  step g + 0.9·1.9 g = 2.71 g
    np.testing.assert_allclose(p["W"], np.array([1.0, -2.0, 3.0]) - 0.1 * (1.9 + 2.71) * g["W"])


def test_sgd_weight_decay_on_weights_only():
    p, g = setup()
    SGD(lr=0.1, weight_decay=0.5).update(p, g)
    W0 = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(p["W"], W0 - 0.1 * (g["W"] + 0.5 * W0))
    np.testing.assert_allclose(p["b"], [0.6])  # bias: no decay


def test_rmsprop_first_and_second_step():
    p, g = setup()
    opt = RMSProp(lr=0.01, rho=0.9, eps=1e-8)
    opt.update(p, g)
    s1 = 0.1 * g["W"] ** 2
    W1 = np.array([1.0, -2.0, 3.0]) - 0.01 * g["W"] / (np.sqrt(s1) + 1e-8)
    np.testing.assert_allclose(p["W"], W1)
    opt.update(p, g)
    s2 = 0.9 * s1 + 0.1 * g["W"] ** 2
    np.testing.assert_allclose(p["W"], W1 - 0.01 * g["W"] / (np.sqrt(s2) + 1e-8))


def test_adam_first_step_moves_by_lr_times_sign():
    p, g = setup()
    W0, b0 = p["W"].copy(), p["b"].copy()
    Adam(lr=0.01).update(p, g)
    np.testing.assert_allclose(p["W"] - W0, -0.01 * np.sign(g["W"]), rtol=1e-6)
    np.testing.assert_allclose(p["b"] - b0, [0.01], rtol=1e-6)


def test_adam_two_steps_textbook_formula():
    p, g = setup()
    opt = Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    g2 = {"W": np.array([0.3, 0.2, -1.0]), "b": np.array([0.5])}
    opt.update(p, g)
    opt.update(p, g2)
    b1, b2 = 0.9, 0.999
    W = np.array([1.0, -2.0, 3.0])
    m = v = 0
    for t, gw in enumerate([g["W"], g2["W"]], start=1):
        m = b1 * m + (1 - b1) * gw
        v = b2 * v + (1 - b2) * gw ** 2
        W = W - 0.01 * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + 1e-8)
    np.testing.assert_allclose(p["W"], W, rtol=1e-12)
    assert opt.t == 2


@pytest.mark.parametrize("make", [lambda: SGD(0.1), lambda: SGD(0.1, momentum=0.9, weight_decay=0.01),
                                  lambda: RMSProp(0.01), lambda: Adam(0.01)], ids=["sgd", "sgd-mom", "rmsprop", "adam"])
def test_float32_params_stay_float32(make):
    p, g = setup(np.float32)
    opt = make()
    opt.update(p, g)
    opt.update(p, g)
    assert all(v.dtype == np.float32 for v in p.values())
    assert all(s.dtype == np.float32 for st in opt.state.values() for s in st.values())


def test_step_updates_a_model_in_place():
    model = nn.Sequential([nn.Dense(3, 2, rng=0), "relu", nn.Dense(2, 1, rng=1)])
    x = np.random.default_rng(0).standard_normal((4, 3))
    before = {k: v.copy() for k, v in model.params.items()}
    model.backward(np.ones_like(model.forward(x)))
    expected = {k: before[k] - 0.1 * model.grads[k] for k in before}
    SGD(0.1).step(model)
    for k in before:
        np.testing.assert_allclose(model.params[k], expected[k])
    assert set(SGD(0.1, momentum=0.5).__dict__)  # repr-able, plain attributes
    assert "lr=0.1" in repr(SGD(0.1))


def test_lr_is_a_plain_attribute_used_at_each_step():
    p, g = setup()
    opt = SGD(0.1)
    opt.lr = 0.0
    W0 = p["W"].copy()
    opt.update(p, g)
    np.testing.assert_array_equal(p["W"], W0)


def test_optimizer_errors():
    p, g = setup()
    with pytest.raises(ValueError, match="'b'"):
        SGD(0.1).update(p, {"W": g["W"]})
    with pytest.raises(ValueError, match="shape"):
        SGD(0.1).update(p, {"W": np.zeros(2), "b": g["b"]})
    with pytest.raises(ValueError, match="lr"):
        Adam(lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        SGD(0.1, momentum=1.5)
    with pytest.raises(ValueError, match="betas"):
        Adam(betas=(0.9, 1.0))


# --------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------

def test_step_decay():
    s = StepDecay(0.1, drop=0.5, every=10)
    assert [s(e) for e in (0, 9, 10, 19, 20, 35)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125])


def test_exponential_decay():
    s = ExponentialDecay(0.1, rate=0.96)
    for e in (0, 1, 5, 50):
        assert s(e) == pytest.approx(0.1 * 0.96 ** e)


def test_inverse_time_decay():
    s = InverseTimeDecay(0.1, decay=0.1)
    for e in (0, 1, 10, 100):
        assert s(e) == pytest.approx(0.1 / (1 + 0.1 * e))


def test_cosine_decay():
    s = CosineDecay(0.1, total_epochs=10, lr_min=0.001)
    assert s(0) == pytest.approx(0.1)
    assert s(5) == pytest.approx(0.001 + 0.5 * 0.099)
    assert s(10) == pytest.approx(0.001) and s(25) == pytest.approx(0.001)
    assert s(3) == pytest.approx(0.001 + 0.5 * 0.099 * (1 + math.cos(math.pi * 0.3)))
    assert all(s(e) >= s(e + 1) for e in range(12))


def test_schedule_repr_and_errors():
    assert "lr0=0.1" in repr(StepDecay(0.1))
    with pytest.raises(ValueError, match="total_epochs"):
        CosineDecay(0.1, total_epochs=0)
