"""ReLU, its derivative and the sigmoid, as students write them (see the package docstring)."""
import numpy as np

from . import entry

BENDEGUZ = "bendeguzkudor/IN3063-CW:src/activations.py"
ADOBYY = "AdobyY/NN:activations.py"
RADU = "radu-dumitru/cnn-cifar-10:src/relu.py"
DARZEN = "TheRealDarZen/Neural-Networks:AI-3/activation.py"
DLFS = "aiien61/DeepLearning_Python:common/functions.py"
DLFS_BOOK = "oreilly-japan/deep-learning-from-scratch:common/functions.py"
DLFS_LAYERS = "oreilly-japan/deep-learning-from-scratch:common/layers.py"
ZYU = "zyu-c/DeepLearning:scripts/functions.py"
AKASH = "Akash-nath29/MLP_Network_from_scratch:functions/functions.py"


# --- relu -----------------------------------------------------------------------------------

@entry("relu", "correct", DLFS, note="np.maximum(0, x): the int 0 keeps float32 float32")
def relu_maximum_zero_first(x):
    return np.maximum(0, x)


@entry("relu", "correct", DARZEN, note="copy, then zero the non-positive entries")
def relu_copy_and_mask(x):
    out = x.copy()
    out[x <= 0] = 0
    return out


@entry("relu", "correct", RADU)
def relu_times_mask(x):
    return x * (x > 0)


@entry("relu", "convention", ADOBYY, says="dtype", note="np.maximum(x, 0.0) is fine, but multiplying by a float64 mask upcasts")
def relu_float_mask(x):
    return x * (x > 0).astype(float)


@entry("relu", "buggy", DARZEN, says="changed your input", note="ReLU layer that zeroes its input in place")
def relu_in_place(x):
    x[x < 0] = 0
    return x


@entry("relu", "buggy", BENDEGUZ, says="differs", note="abs instead of max: a slip seen in forum questions")
def relu_abs(x):
    return np.abs(x)


# --- relu derivative ------------------------------------------------------------------------

@entry("relu_derivative", "correct", ADOBYY, note="(x > 0).astype(x.dtype) — the course's dtype rule")
def relu_grad_astype_dtype(x):
    return (x > 0).astype(x.dtype)


@entry("relu_derivative", "convention", ADOBYY, says="dtype", note="(x > 0).astype(float) upcasts float32")
def relu_grad_astype_float(x):
    return (x > 0).astype(float)


@entry("relu_derivative", "convention", DLFS_BOOK, says="x == 0",
       note="grad[X >= 0] = 1: derivative 1 at the kink")
def relu_grad_ge(x):
    grad = np.zeros_like(x)
    grad[x >= 0] = 1
    return grad


@entry("relu_derivative", "correct", BENDEGUZ, note="ones, then zero where x <= 0")
def relu_grad_zero_nonpositive(x):
    g = np.ones_like(x)
    g[x <= 0] = 0
    return g


@entry("relu_derivative", "correct", RADU, note="np.where with dtype-typed constants")
def relu_grad_where(x):
    return np.where(x > 0, x.dtype.type(1), x.dtype.type(0))


@entry("relu_derivative", "buggy", RADU, says="differs", note="returned the ReLU itself")
def relu_grad_returns_relu(x):
    return np.maximum(x, 0)


# --- sigmoid -----------------------------------------------------------------------------------

@entry("sigmoid", "convention", DLFS, says="overflow", note="1 / (1 + np.exp(-x)) overflows at x = -1000")
def sigmoid_naive(x):
    return 1 / (1 + np.exp(-x))


@entry("sigmoid", "correct", BENDEGUZ, note="the stable split on the sign of x with exp(-|x|)")
def sigmoid_split_abs(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@entry("sigmoid", "correct", ZYU, note="via tanh: σ(x) = (1 + tanh(x/2)) / 2, no exp at all")
def sigmoid_tanh(x):
    return (1 + np.tanh(x / 2)) / 2


@entry("sigmoid", "correct", DARZEN, note="masks for both signs, written into an empty_like")
def sigmoid_masks(x):
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1 + ex)
    return out


@entry("sigmoid", "buggy", ADOBYY, says="σ increases with x", note="sign slip: 1 / (1 + exp(x))")
def sigmoid_sign_slip(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, e / (1 + e), 1 / (1 + e))


@entry("sigmoid", "convention", ADOBYY, says="dtype", note="stable, but np.float64 constants force float64")
def sigmoid_float64(x):
    x = x.astype(np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# --- sigmoid derivative ---------------------------------------------------------------------

def _stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@entry("sigmoid_derivative", "buggy", AKASH, says="x·(1 − x)",
       note="sigmoid_derivative(z) = z * (1 - z): expects the activation, gets the input")
def sigmoid_grad_on_input(x):
    return x * (1 - x)


@entry("sigmoid_derivative", "correct", BENDEGUZ)
def sigmoid_grad_s_times(x):
    s = _stable_sigmoid(x)
    return s * (1 - s)


@entry("sigmoid_derivative", "correct", DARZEN, note="σ(x)·σ(−x), the symmetric form")
def sigmoid_grad_symmetric(x):
    return _stable_sigmoid(x) * _stable_sigmoid(-x)


@entry("sigmoid_derivative", "buggy", ADOBYY, says="σ(x) itself", note="forgot the (1 − s) factor")
def sigmoid_grad_forgot_factor(x):
    return _stable_sigmoid(x)


@entry("sigmoid", "convention", "jpeaceau/GeoXGB:src/geoxgb/_utils.py", says="overflow",
       note="clips x to ±500: fine in float64, but exp(500) overflows in float32")
def sigmoid_clip_500(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))


@entry("sigmoid", "correct", "krrn0722/wake_sleep:functions.py", note="exp(min(x, 0)) / (1 + exp(−|x|))")
def sigmoid_min_abs(x):
    return np.exp(np.minimum(x, 0)) / (1 + np.exp(-np.abs(x)))
