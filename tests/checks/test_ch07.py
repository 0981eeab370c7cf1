"""Chapter 07 checks: realistic mistakes fail with a message naming the symptom."""
from __future__ import annotations

import numpy as np
import pytest

from tests.support import fails_with, load_solution_functions


@pytest.fixture(scope="module")
def sol() -> dict:
    return load_solution_functions("07")


# --- l2_penalty ----------------------------------------------------------------------------

def _l2(params, lam, *, biases=False, half=True, grad_factor=1.0, bias_grads=False, keys="all"):
    penalty, grads = 0.0, {}
    for k, v in params.items():
        is_w = k.endswith("W")
        if is_w or biases:
            penalty += (0.5 if half else 1.0) * lam * float(np.sum(v ** 2))
        if is_w:
            grads[k] = grad_factor * lam * v
        elif keys == "all":
            grads[k] = lam * v if bias_grads else np.zeros_like(v)
    return penalty, grads


def test_l2_penalty_mistakes():
    assert "includes the biases" in fails_with("l2_penalty", lambda p, lam: _l2(p, lam, biases=True))
    assert "decays the bias" in fails_with("l2_penalty", lambda p, lam: _l2(p, lam, bias_grads=True))
    assert "twice the expected value" in fails_with("l2_penalty", lambda p, lam: _l2(p, lam, half=False))
    assert "factor of 2" in fails_with("l2_penalty", lambda p, lam: _l2(p, lam, grad_factor=2.0))
    assert "sign flipped" in fails_with("l2_penalty", lambda p, lam: _l2(p, lam, grad_factor=-1.0))
    assert "has no entry for '0.b'" in fails_with("l2_penalty", lambda p, lam: _l2(p, lam, keys="weights"))
    assert "not multiplied by λ" in fails_with(
        "l2_penalty", lambda p, lam: (0.5 * sum(float(np.sum(v ** 2)) for k, v in p.items() if k.endswith("W")),
                                      _l2(p, lam)[1]))


# --- dropout_forward -----------------------------------------------------------------------

def _dropout(x, p, training, rng_or_mask, *, scale="inverted", eval_mode="identity", mask_kind="keep",
             dtype_safe=True, per_row=True, return_scaled_mask=False):
    if not training:
        if eval_mode == "identity":
            return x, None
        if eval_mode == "scaled":
            return x * (1 - p), None
        training = True  # dropout left on at evaluation
    if isinstance(rng_or_mask, np.ndarray):
        mask = rng_or_mask
    else:
        shape = x.shape if per_row else x.shape[1:]
        r = rng_or_mask.random(shape)
        mask = r >= p if mask_kind == "keep" else r < p
        mask = np.broadcast_to(mask, x.shape)
    factor = {"inverted": 1 / (1 - p), "none": 1.0, "by_p": 1 / p}[scale]
    out = x * (mask * factor) if not dtype_safe else x * mask * x.dtype.type(factor)
    return out, (mask * factor if return_scaled_mask else mask)


def test_dropout_forward_mistakes():
    m = lambda **kw: fails_with("dropout_forward", lambda x, p, t, r: _dropout(x, p, t, r, **kw))  # noqa: E731
    assert "is not scaled" in m(scale="none")
    assert "divided by p" in m(scale="by_p")
    assert "evaluation mode" in m(eval_mode="on")
    assert "multiplied by 1-p" in m(eval_mode="scaled")
    assert "dtype float64, expected float32" in m(dtype_safe=False)
    assert "probability of *dropping*" in m(mask_kind="drop")
    assert "same units are dropped in every row" in m(per_row=False)
    assert "already divided by 1-p" in m(return_scaled_mask=True)


def test_dropout_forward_wrong_mask_and_no_return():
    def always_draws(x, p, training, rng):
        if not training:
            return x, None
        mask = rng.random(x.shape) >= p  # an array has no .random: the given mask is ignored
        return x * mask / (1 - p), mask

    assert "raised AttributeError" in fails_with("dropout_forward", always_draws)

    def inverted_given_mask(x, p, training, rng_or_mask):
        if not training:
            return x, None
        mask = rng_or_mask if isinstance(rng_or_mask, np.ndarray) else rng_or_mask.random(x.shape) >= p
        return x * ~mask / x.dtype.type(1 - p), ~mask

    assert "keeps the wrong units" in fails_with("dropout_forward", inverted_given_mask)
    assert "forget `return`" in fails_with("dropout_forward", lambda x, p, t, r: None)


# --- dropout_backward ----------------------------------------------------------------------

def test_dropout_backward_mistakes():
    m = lambda fn: fails_with("dropout_backward", fn)  # noqa: E731
    assert "is not scaled" in m(lambda d, mask, p: d * mask)
    assert "lets the gradient through dropped units" in m(lambda d, mask, p: d / d.dtype.type(1 - p))
    assert "divided by p" in m(lambda d, mask, p: d * mask / p)
    assert "dtype float64, expected float32" in m(lambda d, mask, p: d * (mask / (1 - p)))
    assert "keeps the wrong units" in m(lambda d, mask, p: d * ~mask / d.dtype.type(1 - p))


# --- initialize_weights --------------------------------------------------------------------

def _init(fan_in, fan_out, scheme, rng, *, he=lambda fi, fo: np.sqrt(2 / fi),
          glorot=lambda fi, fo: np.sqrt(2 / (fi + fo)), shape=None, variance=False, own_rng=False):
    std = {"small": 0.01, "large": 1.0, "glorot": glorot(fan_in, fan_out), "he": he(fan_in, fan_out)}[scheme]
    if variance:
        std = std ** 2
    r = np.random.default_rng(0) if own_rng else rng
    return r.standard_normal(shape or (fan_in, fan_out)) * std


def test_initialize_weights_mistakes():
    m = lambda **kw: fails_with("initialize_weights", lambda fi, fo, s, r: _init(fi, fo, s, r, **kw))  # noqa: E731
    assert "did you transpose" in fails_with("initialize_weights",
                                             lambda fi, fo, s, r: _init(fi, fo, s, r, shape=(fo, fi)))
    assert "variance instead of the standard deviation" in m(variance=True)
    assert "sqrt(1 / fan_in)" in m(he=lambda fi, fo: np.sqrt(1 / fi))
    assert "uses fan_out" in m(he=lambda fi, fo: np.sqrt(2 / fo))
    assert "He's formula" in m(glorot=lambda fi, fo: np.sqrt(2 / fi))
    assert "numbers differ" in m(own_rng=True)
    assert "forget `return`" in fails_with("initialize_weights", lambda fi, fo, s, r: None)


def test_initialize_weights_unknown_scheme_mistakes():
    stds = {"small": 0.01, "large": 1.0}

    def key_error(fi, fo, scheme, rng):  # a plain dict lookup: KeyError for an unknown scheme
        std = {**stds, "glorot": np.sqrt(2 / (fi + fo)), "he": np.sqrt(2 / fi)}[scheme]
        return rng.standard_normal((fi, fo)) * std

    m = fails_with("initialize_weights", key_error)
    assert "raised KeyError" in m and "raise a ValueError" in m

    def falls_through(fi, fo, scheme, rng):  # if/elif without else: returns None
        if scheme in ("small", "large"):
            return rng.standard_normal((fi, fo)) * stds[scheme]
        if scheme == "glorot":
            return rng.standard_normal((fi, fo)) * np.sqrt(2 / (fi + fo))
        if scheme == "he":
            return rng.standard_normal((fi, fo)) * np.sqrt(2 / fi)

    assert "it returned None; raise a ValueError" in fails_with("initialize_weights", falls_through)

    def silent_message(fi, fo, scheme, rng):
        if scheme not in ("small", "large", "glorot", "he"):
            raise ValueError("bad scheme")
        return key_error(fi, fo, scheme, rng)

    assert "lists the valid schemes" in fails_with("initialize_weights", silent_message)


def test_initialize_weights_rejects_unknown_scheme(sol):
    with pytest.raises(ValueError, match="glorot"):
        sol["initialize_weights"](3, 2, "xavier-uniform", np.random.default_rng(0))
