"""Numerical gradients as students write them (see the package docstring).

Adapted to the course's convention ``numerical_gradient(f, x, h=1e-5)``; the book's version
has no ``h`` argument and hard-codes ``h = 1e-4``.
"""
import numpy as np

from . import entry

OYAH = "oyah497/pos_tagging:pos_tagging/common/gradient.py"
FIDEMIN = "fidemin/deep-learning-practice:core/gradient.py"
NOBEANS = "nobeans/deep-learning-from-scratch:ch05/numerical_gradient.py"
DANCING = "DancingOnAir/TDL:NLP/DeepLearningFromScratch/common/gradient.py"


@entry("numerical_gradient", "correct", OYAH, note="np.nditer multi_index, x restored; adapted: h from the argument")
def numgrad_nditer(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        idx = it.multi_index
        tmp = x[idx]
        x[idx] = tmp + h
        fxh1 = f(x)
        x[idx] = tmp - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp
        it.iternext()
    return grad


@entry("numerical_gradient", "buggy", NOBEANS, says=("h",), note="the book's h = 1e-4 hard-coded, the h argument ignored")
def numgrad_fixed_h(f, x, h=1e-5):
    h = 1e-4
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        tmp = x[idx]
        x[idx] = tmp + h
        fxh1 = f(x)
        x[idx] = tmp - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp
    return grad


@entry("numerical_gradient", "correct", FIDEMIN, note="`with np.nditer(...) as it: for _ in it`, float(tmp) + h")
def numgrad_with_nditer(f, x, h=1e-5):
    grad = np.zeros_like(x)
    with np.nditer(x, flags=["multi_index"], op_flags=["readwrite"]) as it:
        for _ in it:
            idx = it.multi_index
            tmp = x[idx]
            x[idx] = float(tmp) + h
            fxh1 = f(x)
            x[idx] = tmp - h
            fxh2 = f(x)
            grad[idx] = (fxh1 - fxh2) / (2 * h)
            x[idx] = tmp
    return grad


@entry("numerical_gradient", "buggy", DANCING, says=("one-sided",), note="forward difference (f(x + h) − f(x)) / h")
def numgrad_forward(f, x, h=1e-5):
    grad = np.zeros_like(x)
    fx = f(x)
    for idx in np.ndindex(x.shape):
        tmp = x[idx]
        x[idx] = tmp + h
        grad[idx] = (f(x) - fx) / h
        x[idx] = tmp
    return grad


@entry("numerical_gradient", "buggy", OYAH, says=("restore",), note="x[idx] never put back")
def numgrad_no_restore(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        tmp = x[idx]
        x[idx] = tmp + h
        fxh1 = f(x)
        x[idx] = tmp - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
    return grad


@entry("numerical_gradient", "buggy", NOBEANS, says=("twice",), note="divides by h instead of 2h")
def numgrad_divide_h(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        tmp = x[idx]
        x[idx] = tmp + h
        fxh1 = f(x)
        x[idx] = tmp - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / h
        x[idx] = tmp
    return grad


@entry("numerical_gradient", "correct", DANCING, note="flat index over x.size with reshape views")
def numgrad_flat(f, x, h=1e-5):
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.size):
        tmp = flat_x[i]
        flat_x[i] = tmp + h
        a = f(x)
        flat_x[i] = tmp - h
        b = f(x)
        flat_g[i] = (a - b) / (2 * h)
        flat_x[i] = tmp
    return grad
