"""Chapter 12 checks: realistic mistakes fail with a message naming them, and
the solution's backward passes match numerical gradients and the library's layers."""
from __future__ import annotations

import numpy as np
import pytest

from mlcourse.gradcheck import numerical_gradient, rel_error
from mlcourse.normalization import BatchNorm, LayerNorm
from tests.support import fails_with, load_solution_functions, passes

SOL = load_solution_functions("12")


# --- the solution against numerical gradients (float64) and the library ------------------

def _data(seed=0, n=6, d=4):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * [0.5, 1.0, 3.0, 10.0][:d] + rng.uniform(-3, 3, d)
    return x, rng.standard_normal(d), rng.standard_normal(d), rng.standard_normal((n, d))


@pytest.mark.parametrize("backward", ["batchnorm_backward_graph", "batchnorm_backward"])
def test_solution_batchnorm_backward_matches_numerical_gradient_and_library(backward):
    x, gamma, beta, G = _data()
    fwd = SOL["batchnorm_forward"]

    def fresh():
        return {"running_mean": np.zeros(4), "running_var": np.ones(4)}

    _, cache = fwd(x, gamma, beta, fresh(), True)
    grads = SOL[backward](G, cache)
    probe = lambda _: float(np.sum(fwd(x, gamma, beta, fresh(), True)[0] * G))  # noqa: E731
    for analytic, v in zip(grads, (x, gamma, beta)):
        assert rel_error(analytic, numerical_gradient(probe, v)) < 1e-7
    layer = BatchNorm(4)
    layer.params["gamma"][:], layer.params["beta"][:] = gamma, beta
    np.testing.assert_allclose(layer.forward(x, training=True), fwd(x, gamma, beta, fresh(), True)[0], rtol=1e-12)
    dx = layer.backward(G)
    for mine, lib in zip(grads, (dx, layer.grads["gamma"], layer.grads["beta"])):
        assert rel_error(mine, lib) < 1e-10


def test_solution_batchnorm_running_stats_and_eval_match_library():
    x, gamma, beta, _ = _data(1, n=10)
    layer, state = BatchNorm(4, momentum=0.8), {"running_mean": np.zeros(4), "running_var": np.ones(4)}
    layer.params["gamma"][:], layer.params["beta"][:] = gamma, beta
    for k in range(3):
        layer.forward(x + k, training=True)
        SOL["batchnorm_forward"](x + k, gamma, beta, state, True, 0.8)
    np.testing.assert_allclose(state["running_mean"], layer.running_mean)
    np.testing.assert_allclose(state["running_var"], layer.running_var)
    np.testing.assert_allclose(SOL["batchnorm_forward"](x, gamma, beta, state, False, 0.8)[0], layer.forward(x))


def test_solution_layernorm_matches_numerical_gradient_and_library():
    x, gamma, beta, G = _data(2, n=5)
    out, cache = SOL["layernorm_forward"](x, gamma, beta)
    grads = SOL["layernorm_backward"](G, cache)
    probe = lambda _: float(np.sum(SOL["layernorm_forward"](x, gamma, beta)[0] * G))  # noqa: E731
    for analytic, v in zip(grads, (x, gamma, beta)):
        assert rel_error(analytic, numerical_gradient(probe, v)) < 1e-7
    layer = LayerNorm(4)
    layer.params["gamma"][:], layer.params["beta"][:] = gamma, beta
    np.testing.assert_allclose(layer.forward(x), out, rtol=1e-12)
    for mine, lib in zip(grads, (layer.backward(G), layer.grads["gamma"], layer.grads["beta"])):
        assert rel_error(mine, lib) < 1e-10


# --- batchnorm_forward -----------------------------------------------------------------------

def _bn_forward(eval_batch_stats=False, eval_updates=False, ddof=0, eps_on=True, axis=0, momentum_swap=False,
                affine=True, update=True, train_running=False):
    def batchnorm_forward(x, gamma, beta, bn_state, training, momentum=0.9, eps=1e-5):
        e = eps if eps_on else 0.0
        mean = x.mean(axis=axis, keepdims=axis == 1)
        var = x.var(axis=axis, ddof=ddof, keepdims=axis == 1)
        if (training or eval_updates) and update and axis == 0:
            a, b = (1 - momentum, momentum) if momentum_swap else (momentum, 1 - momentum)
            bn_state["running_mean"] = a * bn_state["running_mean"] + b * mean
            bn_state["running_var"] = a * bn_state["running_var"] + b * var
        if (not training and not eval_batch_stats) or (training and train_running):
            mean, var = bn_state["running_mean"], bn_state["running_var"]
        x_hat = (x - mean) / np.sqrt(var + e)
        out = gamma * x_hat + beta if affine else x_hat
        return out, (x, x_hat, mean, var, gamma, eps)
    return batchnorm_forward


def test_batchnorm_forward_correct_version_passes():
    passes("batchnorm_forward", _bn_forward())


def test_batchnorm_forward_mistakes():
    fails_with("batchnorm_forward", _bn_forward(eval_batch_stats=True), "in eval mode", "running averages")
    fails_with("batchnorm_forward", _bn_forward(eval_updates=True), "eval mode changed bn_state")
    fails_with("batchnorm_forward", _bn_forward(ddof=1), "unbiased variance", "ddof=1")
    fails_with("batchnorm_forward", _bn_forward(eps_on=False), "without ε")
    fails_with("batchnorm_forward", _bn_forward(axis=1), "axis=1", "over the batch")
    fails_with("batchnorm_forward", _bn_forward(momentum_swap=True), "weights are swapped")
    fails_with("batchnorm_forward", _bn_forward(affine=False), "x̂ alone", "gamma * x_hat + beta")
    fails_with("batchnorm_forward", _bn_forward(update=False), "bn_state was not updated")
    fails_with("batchnorm_forward", _bn_forward(train_running=True), "in training mode out uses the running averages")

    def no_cache(x, gamma, beta, bn_state, training, momentum=0.9, eps=1e-5):
        return _bn_forward()(x, gamma, beta, bn_state, training, momentum, eps)[0]

    fails_with("batchnorm_forward", no_cache, "expected a tuple of 2 values (out, cache)")


# --- batchnorm backward (both versions) -------------------------------------------------------

def _bn_backward(mean_path=True, var_path=True, dgamma_kind="right", with_gamma=True, axis=0, arity=3):
    def backward(dout, cache):
        x, x_hat, mean, var, gamma, eps = cache
        g = dout * gamma if with_gamma else dout
        dx = g
        if mean_path:
            dx = dx - g.mean(axis=axis, keepdims=True)
        if var_path:
            dx = dx - x_hat * (g * x_hat).mean(axis=axis, keepdims=True)
        dx = dx / np.sqrt(var + eps)
        dgamma = {"right": (dout * x_hat).sum(axis=0), "dbeta": dout.sum(axis=0),
                  "zeros": np.zeros(dout.shape[1]), "none": None}[dgamma_kind]
        return (dx, dgamma, dout.sum(axis=0))[:arity]
    return backward


@pytest.mark.parametrize("name", ["batchnorm_backward_graph", "batchnorm_backward"])
def test_batchnorm_backward_mistakes(name):
    passes(name, _bn_backward())
    fails_with(name, _bn_backward(mean_path=False, var_path=False), "treats the mean and the variance as constants")
    fails_with(name, _bn_backward(var_path=False), "path through the variance")
    fails_with(name, _bn_backward(mean_path=False), "path through the mean")
    fails_with(name, _bn_backward(with_gamma=False), "missing the factor γ")
    fails_with(name, _bn_backward(dgamma_kind="dbeta"), "dgamma equals dbeta")
    fails_with(name, _bn_backward(dgamma_kind="zeros"), "dgamma is all zeros")
    fails_with(name, _bn_backward(dgamma_kind="none"), "dgamma is None")
    fails_with(name, _bn_backward(arity=1), "dgamma and dbeta are gradients too")
    fails_with(name, _bn_backward(axis=1), "axis=1", "over axis=0")

    def in_place(dout, cache):
        dout *= cache[4]  # dout *= gamma: right numbers, but the caller's dout is overwritten
        return _bn_backward(with_gamma=False)(dout, cache)

    fails_with(name, in_place, "changed dout in place")


def test_batchnorm_backward_graph_with_a_forgotten_path_in_the_staged_form():
    """The staged bug: x feeds μ and x − μ, but dx keeps only the direct path."""
    def staged(dout, cache):
        x, x_hat, mean, var, gamma, eps = cache
        n = len(x)
        x_mu, s = x - mean, 1 / np.sqrt(var + eps)
        dx_hat = dout * gamma
        dvar = -0.5 * (var + eps) ** -1.5 * (dx_hat * x_mu).sum(axis=0)
        dx_mu = dx_hat * s + 2 / n * x_mu * dvar
        return dx_mu, (dout * x_hat).sum(axis=0), dout.sum(axis=0)  # forgot dx += dmean / N

    fails_with("batchnorm_backward_graph", staged, "path through the mean")


# --- layer norm ---------------------------------------------------------------------------------

def _ln_forward(axis=1, ddof=0, eps_on=True, affine="both"):
    def layernorm_forward(x, gamma, beta, eps=1e-5):
        mean = x.mean(axis=axis, keepdims=True)
        var = x.var(axis=axis, ddof=ddof, keepdims=True)
        x_hat = (x - mean) / np.sqrt(var + (eps if eps_on else 0.0))
        out = {"both": gamma * x_hat + beta, "none": x_hat, "no_beta": gamma * x_hat}[affine]
        return out, (x, x_hat, mean, var, gamma, eps)
    return layernorm_forward


def test_layernorm_forward_mistakes():
    passes("layernorm_forward", _ln_forward())
    fails_with("layernorm_forward", _ln_forward(axis=0), "that is batch norm", "axis=1")
    fails_with("layernorm_forward", _ln_forward(ddof=1), "unbiased variance")
    fails_with("layernorm_forward", _ln_forward(eps_on=False), "without ε")
    fails_with("layernorm_forward", _ln_forward(affine="none"), "x̂ alone")
    fails_with("layernorm_forward", _ln_forward(affine="no_beta"), "beta is missing")


def test_layernorm_backward_mistakes():
    passes("layernorm_backward", _bn_backward(axis=1))
    fails_with("layernorm_backward", _bn_backward(axis=0), "axis=0", "layer norm", "over axis=1")
    fails_with("layernorm_backward", _bn_backward(axis=1, mean_path=False, var_path=False),
               "treats the mean and the variance as constants")
    fails_with("layernorm_backward", _bn_backward(axis=1, var_path=False), "path through the variance")
    fails_with("layernorm_backward", _bn_backward(axis=1, dgamma_kind="none"), "dgamma is None")

    def dgamma_per_sample(dout, cache):
        dx, _, dbeta = _bn_backward(axis=1)(dout, cache)
        return dx, (dout * cache[1]).sum(axis=1), dbeta

    fails_with("layernorm_backward", dgamma_per_sample, "dgamma sums over axis=1", "axis=0")


# --- issue 14: the slips of real code, each named only after the check reproduced it ---------------

def _bn_forward_written(centre="mean", scale="sqrt", affine="right", update_mean="right", update_var="right"):
    """batchnorm_forward as students write it, with one slip at a time."""
    def batchnorm_forward(x, gamma, beta, bn_state, training, momentum=0.9, eps=1e-5):
        if training:
            mean, var = x.mean(axis=0), x.var(axis=0)
            m = {"sum": x.sum(axis=0), "global": x.mean(), "none": 0.0}.get(centre, mean)
            if update_mean == "right":
                bn_state["running_mean"] = momentum * bn_state["running_mean"] + (1 - momentum) * mean
            if update_var == "right":
                bn_state["running_var"] = momentum * bn_state["running_var"] + (1 - momentum) * var
            elif update_var == "unweighted":
                bn_state["running_var"] = momentum * bn_state["running_var"] + var
        else:
            mean, var = bn_state["running_mean"], bn_state["running_var"]
            m = 0.0 if centre == "none" else mean
        s = {"sqrt": np.sqrt(var + eps), "eps_outside": np.sqrt(var) + eps, "no_sqrt": var + eps}[scale]
        x_hat = (x - m) / s if centre != "flipped" else (mean - x) / s
        out = {"right": gamma * x_hat + beta, "minus_beta": gamma * x_hat - beta,
               "swapped": beta * x_hat + gamma}[affine]
        return out, ((x, x_hat, mean, var, gamma, eps) if training else None)
    return batchnorm_forward


def test_batchnorm_forward_slips_are_named():
    passes("batchnorm_forward", _bn_forward_written())
    fails_with("batchnorm_forward", _bn_forward_written(scale="eps_outside"), "ε is outside the square root",
               "training mode")
    fails_with("batchnorm_forward", _bn_forward_written(scale="no_sqrt"), "not by its square root")
    fails_with("batchnorm_forward", _bn_forward_written(centre="global"), "mean of all entries", "axis=0")
    fails_with("batchnorm_forward", _bn_forward_written(centre="sum"), "sum over axis=0, not the mean")
    fails_with("batchnorm_forward", _bn_forward_written(centre="flipped"), "sign flipped")
    fails_with("batchnorm_forward", _bn_forward_written(affine="minus_beta"), "β is subtracted")
    fails_with("batchnorm_forward", _bn_forward_written(affine="swapped"), "γ and β are swapped")
    fails_with("batchnorm_forward", _bn_forward_written(centre="none"), "not centred", "training mode")
    fails_with("batchnorm_forward", _bn_forward_written(update_mean="skip"),
               "bn_state['running_mean'] was not updated")
    fails_with("batchnorm_forward", _bn_forward_written(update_var="unweighted"),
               "bn_state['running_var'] = 0.9 · running + 1 · batch", "0.9 · running + 0.1 · batch")


def _norm_backward_written(axis=0, var_sign=-1.0, mean_reduce="mean", var_reduce="mean", eps_in=True,
                           with_dout=True, mean_axis=None, n_from=None):
    """The simplified backward pass with one slip at a time (axis 0: batch norm, 1: layer norm)."""
    def backward(dout, cache):
        x, x_hat, mean, var, gamma, eps = cache
        g = dout * gamma if with_dout else np.broadcast_to(gamma, dout.shape)
        n = x.shape[axis if n_from is None else n_from]
        ma = axis if mean_axis is None else mean_axis
        m1 = {"mean": g.sum(axis=ma, keepdims=True) / (n if ma == axis else x.shape[ma]),
              "sum": g.sum(axis=ma, keepdims=True), "global": g.mean()}[mean_reduce]
        m2 = {"mean": (g * x_hat).sum(axis=axis, keepdims=True) / n,
              "sum": (g * x_hat).sum(axis=axis, keepdims=True)}[var_reduce]
        dx = (g - m1 + var_sign * x_hat * m2) / np.sqrt(var + (eps if eps_in else 0.0))
        return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    return backward


@pytest.mark.parametrize("name", ["batchnorm_backward_graph", "batchnorm_backward"])
def test_batchnorm_backward_terms_are_named(name):
    passes(name, _norm_backward_written())
    fails_with(name, _norm_backward_written(var_sign=1.0), "the term through the variance",
               "has its sign flipped", "the direct term dx̂/σ and the term through the mean, −mean(dx̂)/σ are right")
    fails_with(name, _norm_backward_written(mean_reduce="sum"), "the term through the mean",
               "8× too large (N = 8): a sum where a mean belongs")
    fails_with(name, _norm_backward_written(var_reduce="sum"), "the term through the variance", "8× too large")
    fails_with(name, _norm_backward_written(eps_in=False), "every term divides by √σ², without ε")
    fails_with(name, _norm_backward_written(mean_reduce="global"), "uses one mean over all entries of dx̂",
               "per feature")
    fails_with(name, _norm_backward_written(with_dout=False), "dx does not depend on dout")
    fails_with(name, _norm_backward_written(n_from=1), "N/D", "not the 8 samples")

    def dbeta_per_sample(dout, cache):
        dx, dgamma, _ = _norm_backward_written()(dout, cache)
        return dx, dgamma, dout.sum(axis=1)

    fails_with(name, dbeta_per_sample, "dbeta sums over axis=1", "sum over the batch, axis=0")

    def dgamma_without_dout(dout, cache):
        dx, _, dbeta = _norm_backward_written()(dout, cache)
        return dx, cache[1].sum(axis=0), dbeta

    fails_with(name, dgamma_without_dout, "dgamma = Σ x̂", "upstream gradient is missing")


def test_batchnorm_backward_graph_staged_slips_are_named():
    def staged(two=2.0, power=-1.5):
        def batchnorm_backward_graph(dout, cache):
            x, x_hat, mean, var, gamma, eps = cache
            n = x.shape[0]
            x_mu, s = x - mean, 1 / np.sqrt(var + eps)
            dx_hat = dout * gamma
            dvar = -0.5 * (var + eps) ** power * (dx_hat * x_mu).sum(axis=0)
            dx_mu = dx_hat * s + two / n * x_mu * dvar
            dx = dx_mu - dx_mu.sum(axis=0) / n
            return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
        return batchnorm_backward_graph

    passes("batchnorm_backward_graph", staged())
    fails_with("batchnorm_backward_graph", staged(two=1.0), "the term through the variance", "half what it should be")
    fails_with("batchnorm_backward_graph", staged(power=0.0), "the term through the variance",
               "missing the factor (σ² + ε)^−1.5")


def test_layernorm_slips_are_named():
    fails_with("layernorm_backward", _norm_backward_written(axis=1, mean_axis=0), "the term through the mean",
               "taken over axis=0", "every mean is over axis=1")
    fails_with("layernorm_backward", _norm_backward_written(axis=1, mean_reduce="global"),
               "uses one mean over all entries of dx̂", "per sample")
    fails_with("layernorm_backward", _norm_backward_written(axis=1, var_sign=1.0), "the term through the variance",
               "has its sign flipped")

    def ln(var_axis=1, scale="sqrt", affine="right"):
        def layernorm_forward(x, gamma, beta, eps=1e-5):
            mean = x.mean(axis=1, keepdims=True)
            var = x.var(axis=var_axis, keepdims=True)
            s = {"sqrt": np.sqrt(var + eps), "eps_outside": np.sqrt(var) + eps}[scale]
            x_hat = (x - mean) / s
            out = {"right": gamma * x_hat + beta, "no_gamma": x_hat + beta}[affine]
            return out, (x, x_hat, mean, var, gamma, eps)
        return layernorm_forward

    passes("layernorm_forward", ln())
    fails_with("layernorm_forward", ln(var_axis=0), "σ² is taken over axis=0, not axis=1")
    fails_with("layernorm_forward", ln(scale="eps_outside"), "ε is outside the square root")
    fails_with("layernorm_forward", ln(affine="no_gamma"), "the scale gamma is missing")


def test_out_without_x_hat_and_the_mean_term_alone_are_named():
    def beta_only(x, gamma, beta, eps=1e-5):
        return beta, _ln_forward()(x, gamma, beta, eps)[1]

    fails_with("layernorm_forward", beta_only, "out is beta alone", "x̂ is missing")

    def gamma_plus_beta(x, gamma, beta, bn_state, training, momentum=0.9, eps=1e-5):
        _, cache = _bn_forward_written()(x, gamma, beta, bn_state, training, momentum, eps)
        return gamma + beta, cache

    fails_with("batchnorm_forward", gamma_plus_beta, "out is gamma + beta", "(N, D)")

    def mean_term_only(dout, cache):
        x, x_hat, mean, var, gamma, eps = cache
        dx_mu = dout * gamma / np.sqrt(var + eps)
        return -dx_mu.sum(axis=0) / len(x), (dout * x_hat).sum(axis=0), dout.sum(axis=0)  # dx = dmean / N

    fails_with("batchnorm_backward_graph", mean_term_only, "only the term through the mean")

    def upside_down(dout, cache):
        dx, dgamma, dbeta = _norm_backward_written()(dout, cache)
        return 1 / dx, dgamma, dbeta

    fails_with("batchnorm_backward", upside_down, "upside down")
