"""Dense (affine) layer forward and backward as students write them (see the package docstring)."""
import numpy as np

from . import entry

KAIWEI = "kaiweihuang/CS231n:assignment2/cs231n/layers.py"
LEEHAN = "leehanchung/cs182:assignment1/deeplearning/layers.py"
DIONISOS = "dionisos198/CardiacTest:Affine.py"
TAESAN = ("TaeSanKIM/python:deep_learning/deep-learning-from-scratch-8ca57dea36b05ffe6bc4486069e5ffb9bd444285/"
          "taesan/Affine.py")
DLFS_LAYERS = "oreilly-japan/deep-learning-from-scratch:common/layers.py"


@entry("dense_forward", "correct", KAIWEI, note="reshape to rows, .dot, + b")
def dense_reshape_dot(x, W, b):
    return x.reshape(x.shape[0], -1).dot(W) + b


@entry("dense_forward", "correct", DIONISOS, note="np.dot(x, W) + b")
def dense_np_dot(x, W, b):
    return np.dot(x, W) + b


@entry("dense_forward", "correct", LEEHAN, note="reshape(N, D) with D from W")
def dense_reshape_w(x, W, b):
    return x.reshape(x.shape[0], W.shape[0]).dot(W) + b


@entry("dense_forward", "buggy", DIONISOS, says=("",), note="forgot the bias")
def dense_no_bias(x, W, b):
    return x @ W


@entry("dense_forward", "buggy", KAIWEI, says=("shape",), note="W.T @ x.T: the transposed output")
def dense_transposed(x, W, b):
    return (W.T @ x.T) + b[:, None]


@entry("dense_forward", "correct", TAESAN, note="einsum")
def dense_einsum(x, W, b):
    return np.einsum("nd,dm->nm", x, W) + b


# --- backward -------------------------------------------------------------------------------

@entry("dense_backward", "correct", DLFS_LAYERS, note="dout·Wᵀ, xᵀ·dout, Σ over axis 0")
def dense_back_book(dout, x, W):
    return np.dot(dout, W.T), np.dot(x.T, dout), np.sum(dout, axis=0)


@entry("dense_backward", "correct", KAIWEI, note="reshape x to rows, reshape dx back")
def dense_back_reshape(dout, x, W):
    xr = x.reshape(x.shape[0], -1)
    return dout.dot(W.T).reshape(x.shape), xr.T.dot(dout), dout.sum(axis=0)


@entry("dense_backward", "buggy", LEEHAN, says=("keepdims",), note="db with keepdims=True: shape (1, M)")
def dense_back_keepdims(dout, x, W):
    return dout @ W.T, x.T @ dout, dout.sum(axis=0, keepdims=True)


@entry("dense_backward", "buggy", DIONISOS, says=("batch of",), note="db = mean over the batch")
def dense_back_db_mean(dout, x, W):
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)


@entry("dense_backward", "buggy", TAESAN, says=("batch of",), note="dW divided by N although dout is already averaged")
def dense_back_dw_mean(dout, x, W):
    return dout @ W.T, x.T @ dout / x.shape[0], dout.sum(axis=0)


@entry("dense_backward", "buggy", KAIWEI, says=("",), note="db summed over the wrong axis")
def dense_back_db_axis1(dout, x, W):
    return dout @ W.T, x.T @ dout, dout.sum(axis=1)


@entry("dense_backward", "buggy", LEEHAN, says=("transpose",), note="dW = doutᵀ · x: the transpose")
def dense_back_dw_transposed(dout, x, W):
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)


@entry("dense_backward", "correct", TAESAN, note="einsum for all three")
def dense_back_einsum(dout, x, W):
    return np.einsum("nm,dm->nd", dout, W), np.einsum("nd,nm->dm", x, dout), np.einsum("nm->m", dout)


@entry("dense_backward", "buggy", DLFS_LAYERS, says=("raised",), note="dx = dout · W without the transpose")
def dense_back_dx_no_transpose(dout, x, W):
    return dout @ W, x.T @ dout, dout.sum(axis=0)
