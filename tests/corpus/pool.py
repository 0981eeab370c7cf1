"""Max-pooling forward and backward as students write them (see the package docstring).

Adapted to the course's convention: ``maxpool_forward(x, size, stride)`` and
``maxpool_backward(dout, x, size, stride)`` with square windows (``pool_height`` =
``pool_width`` = ``size``) instead of a ``pool_param`` dict and a cache.
"""
import numpy as np

from . import entry

CLARENCE = "Clarence-G/learngit:cs231n/assignment2/max-pool.py"
MOTMAY = "motmaytinh/ML_181:ml_181/layers.py"
DLFS_LAYERS = "oreilly-japan/deep-learning-from-scratch:common/layers.py"


@entry("maxpool_forward", "correct", MOTMAY, note="max over axes (1, 2) of each image's window")
def pool_fwd_per_image(x, size=2, stride=2):
    n, c, h, w = x.shape
    oh, ow = 1 + (h - size) // stride, 1 + (w - size) // stride
    out = np.zeros((n, c, oh, ow))
    for i, img in enumerate(x):
        for r in range(oh):
            for s in range(ow):
                out[i, :, r, s] = img[:, r * stride:r * stride + size, s * stride:s * stride + size].max(axis=(1, 2))
    return out


@entry("maxpool_forward", "buggy", CLARENCE, says=("floor division", "//"),
       note="Python 2 `1 + (H − HH) / s` under Python 3: a float size")
def pool_fwd_true_division(x, size=2, stride=2):
    n, c, h, w = x.shape
    oh, ow = 1 + (h - size) / stride, 1 + (w - size) / stride
    out = np.zeros((n, c, oh, ow))
    for i in range(n):
        for j in range(c):
            for r in range(int(oh)):
                for s in range(int(ow)):
                    out[i, j, r, s] = np.max(x[i, j, r * stride:size + r * stride, s * stride:size + s * stride])
    return out


@entry("maxpool_forward", "correct", CLARENCE, note="four loops with //")
def pool_fwd_four_loops(x, size=2, stride=2):
    n, c, h, w = x.shape
    oh, ow = 1 + (h - size) // stride, 1 + (w - size) // stride
    out = np.zeros((n, c, oh, ow))
    for i in range(n):
        for j in range(c):
            for r in range(oh):
                for s in range(ow):
                    out[i, j, r, s] = np.max(x[i, j, r * stride:size + r * stride, s * stride:size + s * stride])
    return out


@entry("maxpool_forward", "correct", DLFS_LAYERS, note="the book's Pooling: im2col rows, max over each row")
def pool_fwd_im2col(x, size=2, stride=2):
    n, c, h, w = x.shape
    oh, ow = 1 + (h - size) // stride, 1 + (w - size) // stride
    col = np.zeros((n, c, size, size, oh, ow))
    for y in range(size):
        for xx in range(size):
            col[:, :, y, xx] = x[:, :, y:y + stride * oh:stride, xx:xx + stride * ow:stride]
    col = col.transpose(0, 4, 5, 1, 2, 3).reshape(-1, size * size)
    return np.max(col, axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)


@entry("maxpool_forward", "buggy", MOTMAY, says=("stride",), note="windows step by the window size, not the stride")
def pool_fwd_step_size(x, size=2, stride=2):
    n, c, h, w = x.shape
    oh, ow = 1 + (h - size) // size, 1 + (w - size) // size
    out = np.zeros((n, c, oh, ow))
    for r in range(oh):
        for s in range(ow):
            out[:, :, r, s] = x[:, :, r * size:r * size + size, s * size:s * size + size].max(axis=(2, 3))
    return out


@entry("maxpool_forward", "buggy", CLARENCE, says=("height and width",),
       note="OW computed from H: only square inputs work")
def pool_fwd_swapped_sizes(x, size=2, stride=2):
    n, c, h, w = x.shape
    oh, ow = 1 + (h - size) // stride, 1 + (h - size) // stride
    out = np.zeros((n, c, oh, ow))
    for r in range(oh):
        for s in range(ow):
            out[:, :, r, s] = x[:, :, r * stride:r * stride + size, s * stride:s * stride + size].max(axis=(2, 3))
    return out


# --- backward -------------------------------------------------------------------------------------

@entry("maxpool_backward", "buggy", CLARENCE, says=("+=",),
       note="(window == max) · dout: every tied maximum gets the gradient, and `=` overwrites overlaps — "
            "the overlap case shows first")
def pool_back_equal_mask(dout, x, size=2, stride=2):
    n, c, h, w = x.shape
    _, _, oh, ow = dout.shape
    dx = np.zeros_like(x)
    for i in range(n):
        for j in range(c):
            for r in range(oh):
                for s in range(ow):
                    win = x[i, j, r * stride:size + r * stride, s * stride:size + s * stride]
                    dx[i, j, r * stride:size + r * stride, s * stride:size + s * stride] = (win == np.max(win)) * dout[i, j, r, s]
    return dx


@entry("maxpool_backward", "correct", DLFS_LAYERS, note="argmax of each window, += into dx (the book via col2im)")
def pool_back_argmax(dout, x, size=2, stride=2):
    n, c, h, w = x.shape
    _, _, oh, ow = dout.shape
    dx = np.zeros_like(x, dtype=float)
    for i in range(n):
        for j in range(c):
            for r in range(oh):
                for s in range(ow):
                    win = x[i, j, r * stride:r * stride + size, s * stride:s * stride + size]
                    a, b = np.unravel_index(np.argmax(win), win.shape)
                    dx[i, j, r * stride + a, s * stride + b] += dout[i, j, r, s]
    return dx


@entry("maxpool_backward", "buggy", MOTMAY, says=("wrong positions",),
       note="unravel_index with (size, size) but the offsets of row and column swapped")
def pool_back_swapped_offsets(dout, x, size=2, stride=2):
    n, c, h, w = x.shape
    _, _, oh, ow = dout.shape
    dx = np.zeros_like(x, dtype=float)
    for i in range(n):
        for j in range(c):
            for r in range(oh):
                for s in range(ow):
                    win = x[i, j, r * stride:r * stride + size, s * stride:s * stride + size]
                    a, b = np.unravel_index(np.argmax(win), win.shape)
                    dx[i, j, s * stride + a, r * stride + b] += dout[i, j, r, s]
    return dx


@entry("maxpool_backward", "buggy", CLARENCE, says=("+=",), note="argmax, but `=` overwrites where windows overlap")
def pool_back_argmax_overwrite(dout, x, size=2, stride=2):
    n, c, h, w = x.shape
    _, _, oh, ow = dout.shape
    dx = np.zeros_like(x, dtype=float)
    for i in range(n):
        for j in range(c):
            for r in range(oh):
                for s in range(ow):
                    win = x[i, j, r * stride:r * stride + size, s * stride:s * stride + size]
                    a, b = np.unravel_index(np.argmax(win), win.shape)
                    dx[i, j, r * stride + a, s * stride + b] = dout[i, j, r, s]
    return dx


@entry("maxpool_backward", "correct", MOTMAY, note="first-max one-hot mask per window, vectorised over N and C")
def pool_back_onehot(dout, x, size=2, stride=2):
    n, c, h, w = x.shape
    _, _, oh, ow = dout.shape
    dx = np.zeros(x.shape)
    for r in range(oh):
        for s in range(ow):
            win = x[:, :, r * stride:r * stride + size, s * stride:s * stride + size].reshape(n, c, -1)
            onehot = np.eye(size * size)[win.argmax(axis=2)]
            dx[:, :, r * stride:r * stride + size, s * stride:s * stride + size] += \
                (onehot * dout[:, :, r, s, None]).reshape(n, c, size, size)
    return dx


@entry("maxpool_backward", "buggy", DLFS_LAYERS, says=("spread evenly",), note="average-pooling backward by mistake")
def pool_back_average(dout, x, size=2, stride=2):
    n, c, h, w = x.shape
    _, _, oh, ow = dout.shape
    dx = np.zeros(x.shape)
    for r in range(oh):
        for s in range(ow):
            dx[:, :, r * stride:r * stride + size, s * stride:s * stride + size] += dout[:, :, r, s, None, None] / size ** 2
    return dx
