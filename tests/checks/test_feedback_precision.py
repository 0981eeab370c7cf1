"""Each message fix of issue 14, with the code that used to get a wrong (or no) message.

A diagnosis must be a tested hypothesis: these are the cases where a check said something
untrue ("a constant factor of 1"), advised what it then rejected, or let a real bug pass.
"""
from __future__ import annotations

import numpy as np

from mlcourse.checks import compare_array, evaluate, get_check
from tests.support import fails_with, load_solution_functions, passes

SOL3 = load_solution_functions("03")


def _softmax(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _ce_with(log_of):
    def softmax_cross_entropy(scores, y):
        n = len(y)
        p = _softmax(scores)
        loss = -np.mean(log_of(p[np.arange(n), y]))
        g = p.copy()
        g[np.arange(n), y] -= 1
        return float(loss), g / n
    return softmax_cross_entropy


# --- "constant factor" only when a factor explains every element of an array --------------------

def test_a_single_number_never_gets_a_constant_factor():
    assert "constant factor" not in compare_array("loss", 0.3, np.float64(16.2))
    assert "constant factor" not in compare_array("loss", 1.0000001 * 2.5 + 0.01, np.float64(2.5))
    # the specific, tested factors are still named for single numbers
    assert "batch size" in compare_array("loss", 6 * 1.25, np.float64(1.25), batch=6)


def test_an_array_gets_a_constant_factor_only_when_it_explains_all_elements():
    e = np.array([1.0, 2.0, 3.0, 4.0])
    assert "constant factor of 3" in compare_array("g", 3 * e, e)
    almost = 3 * e
    almost[0] += 1
    assert "constant factor" not in compare_array("g", almost, e)
    assert "constant factor" not in compare_array("g", e * (1 + 1e-4), e)  # a factor of "1" says nothing


def test_cross_entropy_with_eps_in_the_log_is_named_saturation_not_a_factor():
    msg = fails_with("softmax_cross_entropy", _ce_with(lambda p: np.log(p + 1e-7)), "saturates", "1e-07")
    assert "factor" not in msg
    msg = fails_with("softmax_cross_entropy", _ce_with(lambda p: np.log(p + 1e-5)), "saturates", "1e-05")
    assert "factor of 1" not in msg


def test_clipping_is_named_as_such():
    fails_with("softmax_cross_entropy", _ce_with(lambda p: np.log(np.clip(p, 1e-12, 1 - 1e-12))),
               "saturates", "clips p to [ε, 1 − ε]", "1e-12")


def test_col2im_that_averages_overlaps_is_named():
    sol = load_solution_functions("09")["conv2d_backward"]

    def averaging(dout, x, W, stride=1, padding=0):
        dx, dW, db = sol(dout, x, W, stride, padding)
        h, w = x.shape[2:]
        count = np.zeros((h + 2 * padding, w + 2 * padding))
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                count[i * stride:i * stride + W.shape[2], j * stride:j * stride + W.shape[3]] += 1
        return dx / np.maximum(count[padding:padding + h, padding:padding + w], 1), dW, db

    msg = fails_with("conv2d_backward", averaging, "averages", "+=")
    assert "constant factor" not in msg


# --- advice consistent with what the check accepts --------------------------------------------

def test_log_of_zero_advice_matches_what_each_check_accepts():
    ce = fails_with("softmax_cross_entropy", _ce_with(np.log), "log-sum-exp")
    assert "clip p to" not in ce and "clip probabilities" not in ce  # clipping is rejected as saturation

    def bce_unclipped(p, y, eps=1e-7):
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        return float(loss), (p - y) / (p * (1 - p)) / p.size
    fails_with("bce_with_grad", bce_unclipped, "clip p to [eps, 1 − eps]")


# --- shapes: keepdims, pad:-pad, floor division, height vs width ---------------------------------

def test_db_with_keepdims_is_told_about_the_extra_axis_not_a_missing_sum():
    def dense_backward(dout, x, W):
        return dout @ W.T, x.T @ dout, dout.sum(axis=0, keepdims=True)
    msg = fails_with("dense_backward", dense_backward, "the values are right", "keepdims")
    assert "forget to sum" not in msg


def test_conv_backward_minus_pad_slice_with_pad_zero():
    sol = load_solution_functions("09")["conv2d_backward"]

    def minus_pad(dout, x, W, stride=1, padding=0):
        dx, dW, db = sol(dout, x, W, stride, padding)
        dxp = np.pad(dx, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        return dxp[:, :, padding:-padding, padding:-padding], dW, db
    fails_with("conv2d_backward", minus_pad, "pad:-pad", "−0 is 0", "pad:pad + H")


def test_a_float_output_size_gets_the_floor_division_hint():
    def conv_py2(x, W, b, stride=1, padding=0):
        oh = 1 + (x.shape[2] + 2 * padding - W.shape[2]) / stride
        return np.zeros((x.shape[0], W.shape[0], oh, oh))
    fails_with("conv2d_naive", conv_py2, "floor division", "//")

    def pool_py2(x, size=2, stride=2):
        oh = 1 + (x.shape[2] - size) / stride
        return np.zeros((x.shape[0], x.shape[1], oh, oh))
    fails_with("maxpool_forward", pool_py2, "floor division")


def test_conv2d_naive_has_a_size_that_does_not_divide_evenly():
    sol = load_solution_functions("09")["conv2d_naive"]

    def ceil_sizes(x, W, b, stride=1, padding=0):
        # right whenever the sizes divide evenly — the only cases the check used to have
        out = sol(x, W, b, stride, padding)
        extra_h = (x.shape[2] + 2 * padding - W.shape[2]) % stride != 0
        extra_w = (x.shape[3] + 2 * padding - W.shape[3]) % stride != 0
        return np.pad(out, ((0, 0), (0, 0), (0, int(extra_h)), (0, int(extra_w))))
    fails_with("conv2d_naive", ceil_sizes, "shape")


def test_maxpool_backward_has_a_non_square_output():
    sol = load_solution_functions("09")["maxpool_backward"]

    def square_only(dout, x, size=2, stride=2):
        oh = dout.shape[2]
        return sol(dout[:, :, :oh, :oh], x, size, stride)  # loops j over range(oh): mixes height and width
    msg = evaluate(get_check("maxpool_backward"), square_only).message
    assert not evaluate(get_check("maxpool_backward"), square_only).passed, msg


def test_maxpool_forward_height_width_mix_up_is_named():
    sol = load_solution_functions("09")["maxpool_forward"]

    def ow_from_h(x, size=2, stride=2):
        out = sol(x, size, stride)
        oh = out.shape[2]
        return out[:, :, :, :oh] if out.shape[3] >= oh else np.pad(out, ((0, 0), (0, 0), (0, 0), (0, oh - out.shape[3])))
    fails_with("maxpool_forward", ow_from_h, "height and width are mixed up")


# --- in-place modification and edge inputs ----------------------------------------------------------

def test_in_place_changes_of_the_input_are_named():
    def relu(x):
        x[x < 0] = 0
        return x

    def softmax(z):
        z -= z.max(axis=1, keepdims=True)
        return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    fails_with("relu", relu, "changed your input `x` in place")
    fails_with("softmax", softmax, "changed your input `z` in place")


def test_softmax_with_a_global_max_fails_on_rows_far_apart():
    def softmax(z):
        e = np.exp(z - np.max(z))
        return e / e.sum(axis=1, keepdims=True)
    fails_with("softmax", softmax, "rows far apart")


def test_float32_output_is_compared_at_float32_precision():
    def sigmoid(x):  # exact in float64, a few float32 ulps from the reference formula
        return (1 + np.tanh(x / 2)) / 2
    passes("sigmoid", sigmoid)
    passes("sigmoid", SOL3["sigmoid"])
