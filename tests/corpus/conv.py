"""Convolution forward, im2col and convolution backward as students write them.

Adapted to the course's convention: ``conv2d_naive(x, W, b, stride, padding)``,
``im2col(x, kh, kw, stride, padding)`` and ``conv2d_backward(dout, x, W, stride, padding)``
instead of a ``conv_param`` dict and a cache.
"""
import numpy as np

from . import entry

CLARENCE = "Clarence-G/learngit:cs231n/assignment2/conv1.py"
MOTMAY = "motmaytinh/ML_181:ml_181/layers.py"
USMAN = "Usman-Bajwa1/CNN-Scratch:conv.py"
ENZO = "Enzo949494/holbertonschool-machine_learning:supervised_learning/cnn/2-conv_backward.py"
ENIGMA = "enigmawxy/TensorGraph:examples/part7/im2col_test.py"
ZULIE = "zulie61/ResumeCode:工作專案-手刻深度學習/Ch07/im2col.py"
DLFS_LAYERS = "oreilly-japan/deep-learning-from-scratch:common/layers.py"


def _pad(x, p):
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="constant")


# --- forward ---------------------------------------------------------------------------------

@entry("conv2d_naive", "correct", USMAN, note="loops over image, filter, output row, column and input channel")
def conv_five_loops(x, W, b, stride=1, padding=0):
    n, c, h, w = x.shape
    f, _, kh, kw = W.shape
    oh = 1 + (h + 2 * padding - kh) // stride
    ow = 1 + (w + 2 * padding - kw) // stride
    xp = _pad(x, padding)
    out = np.zeros((n, f, oh, ow))
    for i in range(n):
        for k in range(f):
            for r in range(oh):
                for s in range(ow):
                    acc = 0.0
                    for ch in range(c):
                        acc += np.sum(xp[i, ch, r * stride:r * stride + kh, s * stride:s * stride + kw] * W[k, ch])
                    out[i, k, r, s] = acc + b[k]
    return out


@entry("conv2d_naive", "correct", CLARENCE, note="the CS231n four loops, all channels at once; // for the sizes")
def conv_four_loops(x, W, b, stride=1, padding=0):
    n, c, h, w = x.shape
    f, _, kh, kw = W.shape
    xp = _pad(x, padding)
    oh = 1 + (h + 2 * padding - kh) // stride
    ow = 1 + (w + 2 * padding - kw) // stride
    out = np.zeros((n, f, oh, ow))
    for i in range(n):
        for k in range(f):
            for r in range(oh):
                for s in range(ow):
                    out[i, k, r, s] = np.sum(xp[i, :, r * stride:kh + r * stride, s * stride:kw + s * stride] * W[k]) + b[k]
    return out


@entry("conv2d_naive", "buggy", CLARENCE, says=("floor division", "//"),
       note="Python 2 code `1 + (H + 2·pad − HH) / stride` run under Python 3: a float size")
def conv_true_division(x, W, b, stride=1, padding=0):
    n, c, h, w = x.shape
    f, _, kh, kw = W.shape
    xp = _pad(x, padding)
    oh = 1 + (h + 2 * padding - kh) / stride
    ow = 1 + (w + 2 * padding - kw) / stride
    out = np.zeros((n, f, oh, ow))
    for i in range(n):
        for k in range(f):
            for r in range(int(oh)):
                for s in range(int(ow)):
                    out[i, k, r, s] = np.sum(xp[i, :, r * stride:kh + r * stride, s * stride:kw + s * stride] * W[k]) + b[k]
    return out


@entry("conv2d_naive", "buggy", MOTMAY, says=("raised ValueError", "line"),
       note="Hout computed from W and Wout from H: only square inputs work (here it raises, and the message "
            "quotes the student's line)")
def conv_swapped_sizes(x, W, b, stride=1, padding=0):
    n, c, h, w = x.shape
    f, _, kh, kw = W.shape
    hout = (w - kw + 2 * padding) // stride + 1
    wout = (h - kh + 2 * padding) // stride + 1
    xp = _pad(x, padding)
    out = np.zeros((n, f, hout, wout))
    for idx, img in enumerate(xp):
        for r in range(hout):
            for s in range(wout):
                patch = img[:, r * stride:r * stride + kh, s * stride:s * stride + kw]
                out[idx, :, r, s] = (W * patch).sum(axis=(1, 2, 3)) + b
    return out


@entry("conv2d_naive", "correct", MOTMAY, note="all filters at once: (W · patch).sum over (C, kh, kw) + b")
def conv_all_filters(x, W, b, stride=1, padding=0):
    n, c, h, w = x.shape
    f, _, kh, kw = W.shape
    oh = (h - kh + 2 * padding) // stride + 1
    ow = (w - kw + 2 * padding) // stride + 1
    xp = _pad(x, padding)
    out = np.zeros((n, f, oh, ow))
    for idx, img in enumerate(xp):
        for r in range(oh):
            for s in range(ow):
                patch = img[:, r * stride:r * stride + kh, s * stride:s * stride + kw]
                out[idx, :, r, s] = (W * patch).sum(axis=(1, 2, 3)) + b
    return out


@entry("conv2d_naive", "buggy", USMAN, says=("bias",), note="bias forgotten")
def conv_no_bias(x, W, b, stride=1, padding=0):
    n, c, h, w = x.shape
    f, _, kh, kw = W.shape
    oh = 1 + (h + 2 * padding - kh) // stride
    ow = 1 + (w + 2 * padding - kw) // stride
    xp = _pad(x, padding)
    out = np.zeros((n, f, oh, ow))
    for i in range(n):
        for k in range(f):
            for r in range(oh):
                for s in range(ow):
                    out[i, k, r, s] = np.sum(xp[i, :, r * stride:r * stride + kh, s * stride:s * stride + kw] * W[k])
    return out


@entry("conv2d_naive", "buggy", CLARENCE, says=("",), note="window start r instead of r·stride")
def conv_ignores_stride_in_window(x, W, b, stride=1, padding=0):
    n, c, h, w = x.shape
    f, _, kh, kw = W.shape
    oh = 1 + (h + 2 * padding - kh) // stride
    ow = 1 + (w + 2 * padding - kw) // stride
    xp = _pad(x, padding)
    out = np.zeros((n, f, oh, ow))
    for i in range(n):
        for k in range(f):
            for r in range(oh):
                for s in range(ow):
                    out[i, k, r, s] = np.sum(xp[i, :, r:r + kh, s:s + kw] * W[k]) + b[k]
    return out


@entry("conv2d_naive", "buggy", DLFS_LAYERS, says=("flip",),
       note="true convolution (kernel flipped) where the course, like every DL library, cross-correlates")
def conv_flipped_kernel(x, W, b, stride=1, padding=0):
    return conv_four_loops(x, W[:, :, ::-1, ::-1], b, stride, padding)


# --- im2col -----------------------------------------------------------------------------------

@entry("im2col", "correct", ENIGMA,
       note="the book's im2col: strided slices per kernel offset, rows (n, i, j), columns (c, p, q); its float64 "
            "buffer is fine (im2col's docstring promises no dtype)")
def im2col_book(x, kh, kw, stride=1, padding=0):
    n, c, h, w = x.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    img = _pad(x, padding)
    col = np.zeros((n, c, kh, kw, oh, ow))
    for y in range(kh):
        y_max = y + stride * oh
        for xx in range(kw):
            x_max = xx + stride * ow
            col[:, :, y, xx, :, :] = img[:, :, y:y_max:stride, xx:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)


@entry("im2col", "correct", ENIGMA, note="the book's layout, with dtype=x.dtype")
def im2col_book_dtype(x, kh, kw, stride=1, padding=0):
    n, c, h, w = x.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    img = _pad(x, padding)
    col = np.zeros((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for y in range(kh):
        for xx in range(kw):
            col[:, :, y, xx] = img[:, :, y:y + stride * oh:stride, xx:xx + stride * ow:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)


@entry("im2col", "buggy", ZULIE, says=("transpose",), note="(C·kh·kw, N·OH·OW): one column per window")
def im2col_columns(x, kh, kw, stride=1, padding=0):
    n, c, h, w = x.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    img = _pad(x, padding)
    cols = np.zeros((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for y in range(kh):
        for xx in range(kw):
            cols[:, :, y, xx] = img[:, :, y:y + stride * oh:stride, xx:xx + stride * ow:stride]
    return cols.transpose(1, 2, 3, 0, 4, 5).reshape(c * kh * kw, n * oh * ow)


@entry("im2col", "buggy", ENIGMA, says=("order",),
       note="transpose(0, 4, 5, 2, 3, 1): each row flattened in (p, q, c) order")
def im2col_channel_last(x, kh, kw, stride=1, padding=0):
    n, c, h, w = x.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    img = _pad(x, padding)
    col = np.zeros((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for y in range(kh):
        for xx in range(kw):
            col[:, :, y, xx] = img[:, :, y:y + stride * oh:stride, xx:xx + stride * ow:stride]
    return col.transpose(0, 4, 5, 2, 3, 1).reshape(n * oh * ow, -1)


@entry("im2col", "correct", USMAN, note="explicit windows, row by row")
def im2col_loops(x, kh, kw, stride=1, padding=0):
    n, c, h, w = x.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    xp = _pad(x, padding)
    rows = []
    for i in range(n):
        for r in range(oh):
            for s in range(ow):
                rows.append(xp[i, :, r * stride:r * stride + kh, s * stride:s * stride + kw].ravel())
    return np.array(rows, dtype=x.dtype)


@entry("im2col", "buggy", ZULIE, says=("",), note="the padding forgotten")
def im2col_no_padding(x, kh, kw, stride=1, padding=0):
    n, c, h, w = x.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    xp = np.zeros((n, c, h + 2 * padding + kh, w + 2 * padding + kw), dtype=x.dtype)
    xp[:, :, :h, :w] = x
    rows = [xp[i, :, r * stride:r * stride + kh, s * stride:s * stride + kw].ravel()
            for i in range(n) for r in range(oh) for s in range(ow)]
    return np.array(rows, dtype=x.dtype)


# --- backward ----------------------------------------------------------------------------------

@entry("conv2d_backward", "correct", CLARENCE, note="loops; dx_padded[:, :, pad:pad+H, pad:pad+W]")
def conv_back_loops(dout, x, W, stride=1, padding=0):
    f, c, kh, kw = W.shape
    n, _, h, w = x.shape
    _, _, oh, ow = dout.shape
    xp = _pad(x, padding)
    dxp = np.zeros_like(xp)
    dW = np.zeros_like(W)
    db = np.zeros(f)
    for i in range(n):
        for k in range(f):
            for r in range(oh):
                for s in range(ow):
                    win = xp[i, :, r * stride:r * stride + kh, s * stride:s * stride + kw]
                    db[k] += dout[i, k, r, s]
                    dW[k] += win * dout[i, k, r, s]
                    dxp[i, :, r * stride:r * stride + kh, s * stride:s * stride + kw] += W[k] * dout[i, k, r, s]
    return dxp[:, :, padding:padding + h, padding:padding + w], dW, db


@entry("conv2d_backward", "buggy", ENZO, says=("pad:-pad",), note="dx = dx_pad[:, :, pad:-pad, pad:-pad]: empty for pad = 0")
def conv_back_minus_pad(dout, x, W, stride=1, padding=0):
    dx, dW, db = conv_back_loops(dout, x, W, stride, padding)
    f, c, kh, kw = W.shape
    n, _, h, w = x.shape
    _, _, oh, ow = dout.shape
    xp = _pad(x, padding)
    dxp = np.zeros_like(xp)
    for i in range(n):
        for k in range(f):
            for r in range(oh):
                for s in range(ow):
                    dxp[i, :, r * stride:r * stride + kh, s * stride:s * stride + kw] += W[k] * dout[i, k, r, s]
    return dxp[:, :, padding:-padding, padding:-padding], dW, db


@entry("conv2d_backward", "correct", USMAN, note="db = dout.sum over (0, 2, 3), loops for dW and dx")
def conv_back_db_vectorised(dout, x, W, stride=1, padding=0):
    dx, dW, _ = conv_back_loops(dout, x, W, stride, padding)
    return dx, dW, np.sum(dout, axis=(0, 2, 3))


@entry("conv2d_backward", "buggy", USMAN, says=("",), note="db summed over the batch only")
def conv_back_db_axis0(dout, x, W, stride=1, padding=0):
    dx, dW, _ = conv_back_loops(dout, x, W, stride, padding)
    return dx, dW, np.sum(dout, axis=0)


@entry("conv2d_backward", "buggy", CLARENCE, says=("+=",), note="dx window assigned (=) instead of accumulated (+=)")
def conv_back_overwrite(dout, x, W, stride=1, padding=0):
    f, c, kh, kw = W.shape
    n, _, h, w = x.shape
    _, _, oh, ow = dout.shape
    _, dW, db = conv_back_loops(dout, x, W, stride, padding)
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for i in range(n):
        for r in range(oh):
            for s in range(ow):
                g = np.einsum("f,fckl->ckl", dout[i, :, r, s], W)
                dxp[i, :, r * stride:r * stride + kh, s * stride:s * stride + kw] = g
    return dxp[:, :, padding:padding + h, padding:padding + w], dW, db


@entry("conv2d_backward", "correct", DLFS_LAYERS, note="im2col + col2im (adds overlapping windows), the book's Convolution.backward")
def conv_back_col2im(dout, x, W, stride=1, padding=0):
    f, c, kh, kw = W.shape
    n, _, h, w = x.shape
    _, _, oh, ow = dout.shape
    col = im2col_book_dtype(x, kh, kw, stride, padding)
    g = dout.transpose(0, 2, 3, 1).reshape(-1, f)
    db = g.sum(axis=0)
    dW = (col.T @ g).transpose(1, 0).reshape(f, c, kh, kw)
    dcol = (g @ W.reshape(f, -1)).reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * padding + stride - 1, w + 2 * padding + stride - 1))
    for y in range(kh):
        for xx in range(kw):
            img[:, :, y:y + stride * oh:stride, xx:xx + stride * ow:stride] += dcol[:, :, y, xx]
    return img[:, :, padding:h + padding, padding:w + padding], dW, db


@entry("conv2d_backward", "buggy", DLFS_LAYERS, says=("average",), note="col2im that averages overlapping windows")
def conv_back_col2im_average(dout, x, W, stride=1, padding=0):
    f, c, kh, kw = W.shape
    n, _, h, w = x.shape
    _, _, oh, ow = dout.shape
    dx, dW, db = conv_back_col2im(dout, x, W, stride, padding)
    count = np.zeros((n, c, h + 2 * padding + stride - 1, w + 2 * padding + stride - 1))
    for y in range(kh):
        for xx in range(kw):
            count[:, :, y:y + stride * oh:stride, xx:xx + stride * ow:stride] += 1
    count = np.maximum(count[:, :, padding:h + padding, padding:w + padding], 1)
    return dx / count, dW, db
