"""Softmax, softmax cross-entropy, MSE and BCE as students write them (see the package docstring)."""
import numpy as np

from . import entry

DLFS = "aiien61/DeepLearning_Python:common/functions.py"
DLFS_BOOK = "oreilly-japan/deep-learning-from-scratch:common/functions.py"
DLFS_LAYERS = "oreilly-japan/deep-learning-from-scratch:common/layers.py"
ZYU = "zyu-c/DeepLearning:scripts/functions.py"
DINGFD = "Dingfd/CV:learn/mnist_number/loss.py"
TEDPHAM = "tedpham89/Deep-Learning:project2/part1-convnet/modules/softmax_ce.py"
BENDEGUZ = "bendeguzkudor/IN3063-CW:src/activations.py"
AKASH = "Akash-nath29/MLP_Network_from_scratch:functions/functions.py"
YIHZHU = "yihzhuuu/-AI_FRAMEWORK-PROJECT:A2-CNN/utils.py"


# --- softmax --------------------------------------------------------------------------------

@entry("softmax", "correct", BENDEGUZ, note="row max with keepdims, then row sums with keepdims")
def softmax_keepdims(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


@entry("softmax", "correct", DLFS_BOOK, note="the book's 2-D branch: transpose, work on columns, transpose back")
def softmax_transpose_trick(z):
    zt = z.T
    zt = zt - np.max(zt, axis=0)
    y = np.exp(zt) / np.sum(np.exp(zt), axis=0)
    return y.T


@entry("softmax", "buggy", ZYU, says="whole array sums to 1", note="the 1-D version applied to a batch: global max and sum")
def softmax_global(z):
    a = np.max(z)
    e = np.exp(z - a)
    return e / np.sum(e)


@entry("softmax", "convention", DLFS, says="overflow", note="no max subtraction: exp(1000) overflows")
def softmax_no_shift(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@entry("softmax", "buggy", ZYU, says="", note="global max subtracted (stable) but the sum is per row — right values, "
                                              "except that exp underflows to 0 for rows far below the global max")
def softmax_global_max_row_sum(z):
    e = np.exp(z - np.max(z))
    return e / e.sum(axis=1, keepdims=True)


@entry("softmax", "buggy", YIHZHU, says="column", note="normalised over the batch axis")
def softmax_axis0(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


@entry("softmax", "correct", YIHZHU, note="reshape(-1, 1) instead of keepdims")
def softmax_reshape(z):
    e = np.exp(z - z.max(axis=1).reshape(-1, 1))
    return e / e.sum(axis=1).reshape(-1, 1)


@entry("softmax", "correct", "bendeguzkudor/IN3063-CW:src/activations.py", note="log-sum-exp, then exp")
def softmax_logsumexp(z):
    m = z.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return np.exp(z - lse)


@entry("softmax", "buggy", DLFS, says="", note="in-place max subtraction `x -= np.max(...)` changes the caller's scores")
def softmax_in_place(z):
    z -= np.max(z, axis=-1, keepdims=True)
    return np.exp(z) / np.sum(np.exp(z), axis=-1, keepdims=True)


@entry("softmax", "convention", AKASH, says="dtype", note="np.float64 accumulator upcasts float32 scores")
def softmax_float64(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --- softmax cross-entropy (loss, grad) -----------------------------------------------------------

def _probs(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@entry("softmax_cross_entropy", "convention", TEDPHAM, says=("log(0)",),
       note="stable softmax, then log of the probability: log(0) = −inf for confidently wrong ±1000 scores")
def ce_log_of_probs(scores, y):
    n = scores.shape[0]
    p = _probs(scores)
    loss = -np.sum(np.log(p[np.arange(n), y])) / n
    d = p.copy()
    d[np.arange(n), y] -= 1
    return float(loss), d / n


@entry("softmax_cross_entropy", "buggy", DLFS_BOOK, says=("saturat",),
       note="the book's cross_entropy_error adds delta = 1e-7 inside the log: the loss saturates at −log(1e-7)")
def ce_delta_in_log(scores, y):
    n = scores.shape[0]
    p = _probs(scores)
    loss = -np.sum(np.log(p[np.arange(n), y] + 1e-7)) / n
    d = p.copy()
    d[np.arange(n), y] -= 1
    return float(loss), d / n


@entry("softmax_cross_entropy", "buggy", AKASH, says=("saturat",), note="log(p + 1e-9) with one-hot targets")
def ce_onehot_eps(scores, y):
    n = scores.shape[0]
    p = _probs(scores)
    t = np.eye(scores.shape[1])[y]
    loss = -np.mean(np.sum(t * np.log(p + 1e-9), axis=1))
    return float(loss), (p - t) / n


@entry("softmax_cross_entropy", "buggy", DINGFD, says=("saturat",),
       note="clips the probabilities to [1e-12, 1 − 1e-12] before the log — the advice many tutorials give")
def ce_clip_probs(scores, y):
    n = scores.shape[0]
    p = _probs(scores)
    pc = np.clip(p, 1e-12, 1 - 1e-12)
    loss = -np.mean(np.log(pc[np.arange(n), y]))
    d = p.copy()
    d[np.arange(n), y] -= 1
    return float(loss), d / n


@entry("softmax_cross_entropy", "correct", "bendeguzkudor/IN3063-CW:src/activations.py",
       note="log-softmax by log-sum-exp, gradient from exp(log_p)")
def ce_log_softmax(scores, y):
    n = len(y)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    g = np.exp(log_p)
    g[np.arange(n), y] -= 1
    return float(-log_p[np.arange(n), y].mean()), g / n


@entry("softmax_cross_entropy", "correct", DLFS_LAYERS, note="one-hot targets: (y − t) / batch_size, log-sum-exp loss")
def ce_onehot_lse(scores, y):
    n, c = scores.shape
    t = np.zeros((n, c))
    t[np.arange(n), y] = 1
    m = scores.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(scores - m).sum(axis=1, keepdims=True)))[:, 0]
    loss = np.mean(lse - scores[np.arange(n), y])
    return float(loss), (_probs(scores) - t) / n


@entry("softmax_cross_entropy", "buggy", DLFS, says=("factor of",), note="sum over the batch, gradient not divided by N")
def ce_sum_not_mean(scores, y):
    n = len(y)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    g = np.exp(log_p)
    g[np.arange(n), y] -= 1
    return float(-log_p[np.arange(n), y].sum()), g


@entry("softmax_cross_entropy", "buggy", TEDPHAM, says=("subtract the one-hot",), note="forgot dx[range, y] -= 1")
def ce_grad_no_onehot(scores, y):
    n = len(y)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(n), y].mean()), np.exp(log_p) / n


@entry("softmax_cross_entropy", "buggy", DLFS_LAYERS, says=("the batch size",), note="dx = y − t without / batch_size")
def ce_grad_not_divided(scores, y):
    n = len(y)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    g = np.exp(log_p)
    g[np.arange(n), y] -= 1
    return float(-log_p[np.arange(n), y].mean()), g


@entry("softmax_cross_entropy", "buggy", TEDPHAM, says=("changed your input",),
       note="computes the gradient in the scores array itself (scores -= max; exp in place)")
def ce_in_place(scores, y):
    n = len(y)
    scores -= scores.max(axis=1, keepdims=True)
    lse = np.log(np.exp(scores).sum(axis=1, keepdims=True))
    log_p = scores - lse
    g = np.exp(log_p)
    g[np.arange(n), y] -= 1
    return float(-log_p[np.arange(n), y].mean()), g / n


# --- MSE (chapter 01: mse_loss(y_pred, y) -> float) -------------------------------------------

@entry("mse_loss", "buggy", DLFS_BOOK, says=("",), note="the book's mean_squared_error: 0.5 · Σ (y − t)²")
def mse_half_sum(y_pred, y):
    return 0.5 * np.sum((y_pred - y) ** 2)


@entry("mse_loss", "correct", DLFS, note="np.mean of the squared error, as float")
def mse_mean(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


@entry("mse_loss", "correct", "Dingfd/CV:learn/mnist_number/loss.py", note="sum divided by the length")
def mse_sum_over_n(y_pred, y):
    return float(np.sum((y - y_pred) ** 2) / len(y))


@entry("mse_loss", "buggy", DINGFD, says=("",), note="0.5 · mean: the factor ½ some courses use for a nicer gradient")
def mse_half_mean(y_pred, y):
    return float(0.5 * np.mean((y_pred - y) ** 2))


@entry("mse_loss", "buggy", DLFS, says=("",), note="mean absolute error by mistake")
def mse_abs(y_pred, y):
    return float(np.mean(np.abs(y_pred - y)))
