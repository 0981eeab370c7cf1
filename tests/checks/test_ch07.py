"""Chapter 07 checks: realistic mistakes fail with a message naming the symptom."""
from __future__ import annotations

import numpy as np
import pytest

from tests.support import fails_with, load_solution_functions, passes


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
    assert "only the shape differs" in fails_with("initialize_weights",
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


# --- augment_shift and train_with_early_stopping (the "extensions" item) ---------------------

def _shifted(shift_of, roll=False, transpose=False):
    """An augment_shift whose image n moves by shift_of(n, rng) — by np.roll when roll is set."""
    from mlcourse.checks.ch07 import _shift

    def augment(X, max_shift, rng):
        imgs = X.reshape(-1, 28, 28)
        out = []
        for n, img in enumerate(imgs):
            dy, dx = shift_of(n, rng, max_shift)
            img = img.T if transpose else img
            out.append(np.roll(img, (dy, dx), axis=(0, 1)) if roll else _shift(img, dy, dx))
        return np.stack(out).reshape(X.shape)
    return augment


def test_augment_shift_mistakes():
    one_each = lambda n, rng, m: tuple(rng.integers(-m, m + 1, 2))  # noqa: E731
    assert passes("augment_shift", _shifted(one_each))
    # np.roll wraps pixels around: with ±m shifts of strokes inside a margin it is only caught where it shows
    big = lambda n, rng, m: (m + 1, (-1) ** n)  # noqa: E731
    assert "outside ±" in fails_with("augment_shift", _shifted(big))
    assert "every image got the same shift" in fails_with("augment_shift", _shifted(lambda n, rng, m: (1, -1)))
    assert "no image moved" in fails_with("augment_shift", lambda X, m, rng: X.copy())
    assert "transposed" in fails_with("augment_shift", _shifted(one_each, transpose=True))
    assert "dtype" in fails_with("augment_shift", lambda X, m, rng: _shifted(one_each)(X, m, rng).astype(np.float64))

    def in_place(X, m, rng):
        X[:] = _shifted(one_each)(X, m, rng)
        return X

    assert "modified in place" in fails_with("augment_shift", in_place)
    unseeded = _shifted(lambda n, rng, m: tuple(np.random.default_rng().integers(-m, m + 1, 2)))
    assert "same seed" in fails_with("augment_shift", unseeded)


def test_augment_shift_names_a_wrap_around():
    # a stroke touching the border: np.roll carries it to the other side
    from mlcourse.checks import get_check

    chk = get_check("augment_shift")
    case = chk.make_cases(0)[0]
    X = case.args[0].copy().reshape(-1, 28, 28)
    X[:, :, 27] = 1.0
    rolled = np.stack([np.roll(img, 1, axis=1) for img in X]).reshape(len(X), 784)
    got = {"out": rolled.astype(X.dtype), "again": rolled.astype(X.dtype), "changed_input": False}
    case.args = (X.reshape(len(X), 784), case.args[1], case.args[2])
    assert "not its original moved" in chk.assess(case, got)


def _early(off_by_one=False, no_patience=False, no_copy=False, no_stop=False, reassign=False, zero_based=False):
    def train(model, run_epoch, val_loss, max_epochs, patience):
        best, best_epoch, saved, losses = np.inf, 0, None, []
        for epoch in range(1, max_epochs + 1):
            run_epoch()
            losses.append(val_loss())
            if losses[-1] < best:
                best, best_epoch = losses[-1], epoch
                saved = model.params if no_copy else {k: v.copy() for k, v in model.params.items()}
            elif no_patience or (not no_stop and epoch - best_epoch >= patience + (1 if off_by_one else 0)):
                break
        for k, v in model.params.items():
            if reassign:
                model.params[k] = saved[k]
            else:
                v[...] = saved[k]
        return best_epoch - (1 if zero_based else 0), losses
    return train


def test_train_with_early_stopping_mistakes():
    assert passes("train_with_early_stopping", _early())
    assert "the last epoch's weights" in fails_with("train_with_early_stopping", _early(no_copy=True))
    assert "the last epoch's weights" in fails_with("train_with_early_stopping", _early(reassign=True))
    assert "stopped at the first epoch whose loss did not improve" in fails_with(
        "train_with_early_stopping", _early(no_patience=True))
    assert "trained all 10 epochs" in fails_with("train_with_early_stopping", _early(no_stop=True))
    assert "expected" in fails_with("train_with_early_stopping", _early(off_by_one=True))
    assert "count epochs from 1" in fails_with("train_with_early_stopping", _early(zero_based=True))


# --- issue 14: cases and diagnoses for mistakes that used to pass or get only "differs" ------

def test_augment_shift_that_never_reaches_plus_max_shift_is_caught():
    """rng.integers(-m, m) excludes m: every shift lies in [−m, m − 1]. With 40 and 25 images this
    passed; the cases now draw 240 and 200 shifts, and the message says which side is never reached."""
    exclusive = lambda n, rng, m: tuple(rng.integers(-m, m, 2))  # noqa: E731
    message = fails_with("augment_shift", _shifted(exclusive), "no shift is +2", "rng.integers(low, high) never returns high")
    assert "lie in [-2, 1]" in message
    only_left = lambda n, rng, m: tuple(rng.integers(-m, 1, 2))  # noqa: E731
    assert "no shift is +2" in fails_with("augment_shift", _shifted(only_left))


def test_l2_penalty_wrong_sums_are_named():
    def penalty(reduce, start=0.0):
        def l2(params, lam):
            total = start
            for k, v in params.items():
                if k.endswith("W"):
                    total += 0.5 * lam * float(reduce(v))
            return total, {k: (lam * v if k.endswith("W") else np.zeros_like(v)) for k, v in params.items()}
        return l2

    assert "averages the squared weights" in fails_with("l2_penalty", penalty(lambda v: np.mean(v * v)))
    assert "sums the weights W, not their squares" in fails_with("l2_penalty", penalty(np.sum))
    assert "starts at 1 instead of 0" in fails_with("l2_penalty", penalty(lambda v: np.sum(v * v), start=1.0))
    assert "penalty is 0" in fails_with("l2_penalty", penalty(lambda v: 0.0))


def test_dropout_that_forgets_the_input_is_named():
    def forward(x, p, training, rng_or_mask):
        if not training:
            return x, None
        mask = rng_or_mask if isinstance(rng_or_mask, np.ndarray) else rng_or_mask.random(x.shape) >= p
        return mask / (1 - p), mask

    assert "without x" in fails_with("dropout_forward", forward)
    assert "without dout" in fails_with("dropout_backward", lambda dout, mask, p: mask / (1 - p))


def test_a_single_number_where_an_array_belongs_is_named():
    def l2_lam_only(params, lam):
        penalty = sum(0.5 * lam * float(np.sum(v * v)) for k, v in params.items() if k.endswith("W"))
        return penalty, {k: (lam if k.endswith("W") else np.zeros_like(v)) for k, v in params.items()}

    stds = {"small": lambda i, o: 0.01, "large": lambda i, o: 1.0, "glorot": lambda i, o: np.sqrt(2 / (i + o)),
            "he": lambda i, o: np.sqrt(2 / i)}

    def std_only(fan_in, fan_out, scheme, rng):
        if scheme not in stds:
            raise ValueError(f"scheme must be one of {', '.join(stds)}")
        return stds[scheme](fan_in, fan_out)

    assert "is λ alone" in fails_with("l2_penalty", l2_lam_only)
    assert "the standard deviation 0.01 of scheme 'small' itself" in fails_with("initialize_weights", std_only)


def test_dropout_forward_in_place_is_rejected():
    """The check's own run used to hand x over unwatched, so `x *= mask / (1 - p)` passed."""
    def in_place(x, p, training, rng_or_mask):
        if not training:
            return x, None
        mask = rng_or_mask if isinstance(rng_or_mask, np.ndarray) else rng_or_mask.random(x.shape) >= p
        x *= mask / x.dtype.type(1 - p)
        return x, mask

    assert "changed your input `x` in place" in fails_with("dropout_forward", in_place)
