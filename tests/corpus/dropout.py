"""Inverted dropout forward and backward as students write them (see the package docstring).

Adapted to the course's convention: ``p`` is the drop probability and ``rng_or_mask`` is a
Generator or a given boolean keep-mask; code that draws with ``np.random.rand`` draws with
the Generator instead.
"""
import numpy as np

from . import entry

PLMRR = "plmrr/gan-from-scratch:dropout.py"
NILBAHA = "nilbahaaeddine/M1_CNN:src/classes/dropout.py"
VEERANSH = "Veeransh14/Transformer-From-Scratch:Transformers/BaseLayers/dropout.py"
DLFS_LAYERS = "oreilly-japan/deep-learning-from-scratch:common/layers.py"


def _keep(x, p, rng_or_mask):
    if isinstance(rng_or_mask, np.ndarray):
        return rng_or_mask.astype(bool)
    return rng_or_mask.random(x.shape) > p


@entry("dropout_forward", "correct", PLMRR, note="mask (rand > p), out = x · mask / (1 − p); dtype-typed divisor")
def dropout_inverted(x, p, training, rng_or_mask):
    if not training:
        return x, None
    mask = _keep(x, p, rng_or_mask)
    return x * mask / x.dtype.type(1 - p), mask


@entry("dropout_forward", "buggy", DLFS_LAYERS, says=("not scaled",),
       note="the book's Dropout: x · mask while training, x · (1 − p) at test time")
def dropout_book(x, p, training, rng_or_mask):
    if not training:
        return x * (1.0 - p), None
    mask = _keep(x, p, rng_or_mask)
    return x * mask, mask


@entry("dropout_forward", "buggy", VEERANSH, says=("not scaled",), note="binomial keep-mask, no 1/(1 − p)")
def dropout_unscaled(x, p, training, rng_or_mask):
    if not training:
        return x, None
    mask = _keep(x, p, rng_or_mask)
    return x * mask, mask


@entry("dropout_forward", "buggy", NILBAHA, says=("divided by p",), note="divides by the drop probability")
def dropout_divide_by_p(x, p, training, rng_or_mask):
    if not training:
        return x, None
    mask = _keep(x, p, rng_or_mask)
    return x * mask / p, mask


@entry("dropout_forward", "buggy", PLMRR, says=("divided by 1-p",),
       note="self.mask = (rand > p) / (1 − p): the scaled mask is returned as the mask")
def dropout_scaled_mask(x, p, training, rng_or_mask):
    if not training:
        return x, None
    mask = _keep(x, p, rng_or_mask) / (1 - p)
    return x * mask, mask


@entry("dropout_forward", "convention", PLMRR, says=("dtype",), note="float64 divisor 1 / (1 − p) upcasts float32")
def dropout_float64(x, p, training, rng_or_mask):
    if not training:
        return x, None
    mask = _keep(x, p, rng_or_mask)
    return x * mask * (1.0 / (1.0 - np.float64(p))), mask


@entry("dropout_forward", "buggy", VEERANSH, says=("evaluation",),
       note="mask applied whatever `training` says (dropout left on at test time)")
def dropout_always_on(x, p, training, rng_or_mask):
    mask = _keep(x, p, rng_or_mask) if isinstance(rng_or_mask, np.ndarray) else rng_or_mask.random(x.shape) > p
    return x * mask / x.dtype.type(1 - p), mask


# --- backward -------------------------------------------------------------------------------

@entry("dropout_backward", "correct", PLMRR, note="dout · mask / (1 − p), dtype kept")
def dropout_back(dout, mask, p):
    return dout * mask / dout.dtype.type(1 - p)


@entry("dropout_backward", "buggy", DLFS_LAYERS, says=("not scaled",), note="dout · mask (the book's backward)")
def dropout_back_unscaled(dout, mask, p):
    return dout * mask


@entry("dropout_backward", "buggy", NILBAHA, says=("",), note="dOut − dOut · mask: the dropped units' gradient")
def dropout_back_complement(dout, mask, p):
    return dout - dout * mask


@entry("dropout_backward", "correct", "plmrr/gan-from-scratch:dropout.py", note="np.where on the mask")
def dropout_back_where(dout, mask, p):
    return np.where(mask, dout / dout.dtype.type(1 - p), dout.dtype.type(0))


@entry("dropout_backward", "buggy", NILBAHA, says=("divided by p",), note="/ p instead of / (1 − p)")
def dropout_back_divide_p(dout, mask, p):
    return dout * mask / p
