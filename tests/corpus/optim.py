"""SGD, momentum, RMSProp and Adam update functions as students write them.

Student code usually updates a dict of parameters in place (``params[key] -= ...``); adapted
to the course's pure functions, that becomes ``w -= ...; return w`` — which the course's
contract ("new arrays") forbids, so those entries are expected to be rejected for it.
"""
import numpy as np

from . import entry

ASHER = "Asher-1/AI:TensorFlow_tutorials/deep_learning_tutorial/CNN-demo/optim.py"
FORTI = "FortiLeiZhang/cs231n:code/cs231n/assignment3/cs231n/optim.py"
SKILLUP = "skillup-ai/tettei-engineer:chapter19/Q13.py"
DLFS_OPT = "oreilly-japan/deep-learning-from-scratch:common/optimizer.py"
EASYGRAD = "JenAlchimowicz/easygrad:easygrad/optim.py"
ASEBO = "jparkerholder/ASEBO:asebo/optimizers.py"


# --- SGD ------------------------------------------------------------------------------------

@entry("sgd_step", "correct", ASHER, note="next_w = w − lr·dw")
def sgd_new_array(w, g, lr):
    return w - lr * g


@entry("sgd_step", "convention", ASHER, says=("in place",), note="w -= lr * dw; return w")
def sgd_in_place(w, g, lr):
    w -= lr * g
    return w


@entry("sgd_step", "correct", DLFS_OPT, note="copy first, then update the copy in place")
def sgd_copy_then_update(w, g, lr):
    out = w.copy()
    out -= lr * g
    return out


@entry("sgd_step", "buggy", ASHER, says=("up* the gradient",), note="sign slip")
def sgd_plus(w, g, lr):
    return w + lr * g


# --- momentum -------------------------------------------------------------------------------

@entry("momentum_step", "convention", ASHER, says=("−lr × the expected velocity",),
       note="CS231n form v = μv − lr·dw, w + v: equivalent weights, another velocity convention")
def momentum_cs231n(w, g, v, lr, beta=0.9):
    v = beta * v - lr * g
    return w + v, v


@entry("momentum_step", "convention", "BearingBall/dlcourse_ai-master:assignments/assignment3/optim.py",
       says=("−lr × the expected velocity",), note="velocity = μ·v − lr·dw with np.dot of scalars, returns w + v")
def momentum_cs231n_dot(w, g, v, lr, beta=0.9):
    v = np.dot(beta, v) - np.dot(lr, g)
    return w + v, v


@entry("momentum_step", "convention", DLFS_OPT, says=("in place",),
       note="the book's Momentum updates v and params in place")
def momentum_in_place(w, g, v, lr, beta=0.9):
    v *= beta
    v += g
    w -= lr * v
    return w, v


@entry("momentum_step", "buggy", DLFS_OPT, says=("average",), note="EMA-style momentum (1 − β)·g")
def momentum_ema(w, g, v, lr, beta=0.9):
    v = beta * v + (1 - beta) * g
    return w - lr * v, v


@entry("momentum_step", "buggy", ASHER, says=("old velocity",), note="w updated with the velocity before its update")
def momentum_old_velocity(w, g, v, lr, beta=0.9):
    w_new = w - lr * v
    return w_new, beta * v + g


@entry("momentum_step", "buggy", "selekzioner/dlcourse:assignment2/optim.py", says=("beta",),
       note="__init__ sets self.momentum = 0.9 whatever is passed: the beta argument is ignored")
def momentum_ignores_beta(w, g, v, lr, beta=0.9):
    v_new = 0.9 * v + g
    return w - lr * v_new, v_new


# --- RMSProp --------------------------------------------------------------------------------

@entry("rmsprop_step", "correct", ASHER, note="cache = ρ·cache + (1 − ρ)·dx², x − lr·dx / (√cache + ε)")
def rmsprop_cs231n(w, g, s, lr, rho=0.9, eps=1e-8):
    s = rho * s + (1 - rho) * g * g
    return w - lr * g / (np.sqrt(s) + eps), s


@entry("rmsprop_step", "buggy", DLFS_OPT, says=("eps",), note="the book hard-codes 1e-7 instead of the eps argument")
def rmsprop_fixed_eps(w, g, s, lr, rho=0.9, eps=1e-8):
    s = rho * s + (1 - rho) * g * g
    return w - lr * g / (np.sqrt(s) + 1e-7), s


@entry("rmsprop_step", "convention", EASYGRAD, says=("inside the square root",),
       note="ε inside the square root: √(s + ε) — a form some libraries use; the docstring fixes √s + ε")
def rmsprop_eps_inside(w, g, s, lr, rho=0.9, eps=1e-8):
    s = rho * s + (1 - rho) * g ** 2
    return w - lr * g / np.sqrt(s + eps), s


@entry("rmsprop_step", "convention", DLFS_OPT, says=("in place",), note="h *= ρ; h += (1 − ρ)g²; params -= …")
def rmsprop_in_place(w, g, s, lr, rho=0.9, eps=1e-8):
    s *= rho
    s += (1 - rho) * g * g
    w -= lr * g / (np.sqrt(s) + eps)
    return w, s


@entry("rmsprop_step", "buggy", ASHER, says=("swapped",), note="ρ and 1 − ρ swapped")
def rmsprop_swapped(w, g, s, lr, rho=0.9, eps=1e-8):
    s = (1 - rho) * s + rho * g ** 2
    return w - lr * g / (np.sqrt(s) + eps), s


@entry("rmsprop_step", "buggy", DLFS_OPT, says=("AdaGrad", "decay"), note="AdaGrad's h += g² (no decay) under the RMSProp name")
def rmsprop_adagrad(w, g, s, lr, rho=0.9, eps=1e-8):
    s = s + g * g
    return w - lr * g / (np.sqrt(s) + eps), s


# --- Adam -----------------------------------------------------------------------------------

@entry("adam_step", "correct", SKILLUP, note="bias-corrected m̂, v̂, ε outside the root (new arrays)")
def adam_textbook(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    mh = m / (1 - beta1 ** t)
    vh = v / (1 - beta2 ** t)
    return w - lr * mh / (np.sqrt(vh) + eps), m, v


@entry("adam_step", "convention", SKILLUP, says=("in place",), note="params[key] -= …: the weights updated in place")
def adam_in_place(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    w -= lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return w, m, v


@entry("adam_step", "buggy", FORTI, says=("ε",),
       note="the 'efficient' form lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε): ε is not added to √v̂")
def adam_efficient_form(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * (g * g)
    alpha = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return w - alpha * (m / (np.sqrt(v) + eps)), m, v


@entry("adam_step", "buggy", DLFS_OPT, says=("eps",), note="the book's Adam: m += (1−β1)(g − m), hard-coded 1e-7")
def adam_book(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = m + (1 - beta1) * (g - m)
    v = v + (1 - beta2) * (g ** 2 - v)
    lr_t = lr * np.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
    return w - lr_t * m / (np.sqrt(v) + 1e-7), m, v


@entry("adam_step", "buggy", FORTI, says=("bias correction",), note="no bias correction")
def adam_no_correction(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    return w - lr * m / (np.sqrt(v) + eps), m, v


@entry("adam_step", "buggy", EASYGRAD, says=("bias-corrected",), note="stores the corrected moments as the state")
def adam_stores_corrected(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = (beta1 * m + (1 - beta1) * g) / (1 - beta1 ** t)
    v = (beta2 * v + (1 - beta2) * g ** 2) / (1 - beta2 ** t)
    return w - lr * m / (np.sqrt(v) + eps), m, v


@entry("adam_step", "convention", EASYGRAD, says=("inside the square root",),
       note="ε inside the root √(v̂ + ε) — a form some libraries use; the docstring fixes √v̂ + ε")
def adam_eps_inside(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    mh, vh = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - lr * mh / np.sqrt(vh + eps), m, v


@entry("adam_step", "buggy", FORTI, says=("t + 1",), note="increments t before use although t is already the step number")
def adam_t_plus_one(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    t += 1
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * (g * g)
    mh, vh = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - lr * mh / (np.sqrt(vh) + eps), m, v


@entry("adam_step", "correct", ASEBO, note="returns the update; adapted: w − update")
def adam_update_returned(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    mt = m / (1 - beta1 ** t)
    v = beta2 * v + (1 - beta2) * (g ** 2)
    vt = v / (1 - beta2 ** t)
    update = lr * mt / (np.sqrt(vt) + eps)
    return w - update, m, v


@entry("rmsprop_step", "correct", "KyoyaTokikawa/deep-learning-from-scratch:mine_2/OptimizationAlgorithm/RMSprop.py",
       note="h·ρ + (1 − ρ)g², adapted: the eps argument in place of the book's 1e-7, new arrays")
def rmsprop_book_with_eps(w, g, s, lr, rho=0.9, eps=1e-8):
    h = s * rho + (1 - rho) * g * g
    return w - lr * g / (np.sqrt(h) + eps), h
