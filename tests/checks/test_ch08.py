"""Chapter 08 checks: realistic mistakes fail with a message naming the symptom.

The ≥ 97 % MNIST test accuracy of the full training run is asserted once, by the nbval run of
solutions/08_mnist_mlp.ipynb (a ``# NBVAL_CHECK_OUTPUT`` cell that prints
``test accuracy ≥ 0.97: True`` and asserts it); ``test_full_run_asserts_97_percent`` below keeps
that cell from disappearing, so the suite does not train the full model twice. Timings are never
asserted: the speed-up check's judge is tested with given timings.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import nbformat
import numpy as np
import pytest

from mlcourse.checks import evaluate, get_check
from mlcourse.checks.ch08 import SPEEDUP_MIN, forward_reference
from tests.support import fails_with, load_solution_functions, passes, solution_variant, stored_mode

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sol() -> dict:
    return load_solution_functions("08")


def test_solution_reads_the_real_files_like_load_mnist(sol):
    from mlcourse.data import DATA_DIR, load_mnist

    labels = sol["read_idx"](DATA_DIR / "mnist" / "t10k-labels-idx1-ubyte.gz")
    raw = gzip.decompress((DATA_DIR / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes())
    images = sol["read_idx"](raw)  # bytes work as well as paths
    X, y = load_mnist("test")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(labels, y)
    assert np.array_equal(images.reshape(-1, 784).astype(np.float32) / 255, X)


# --- read_idx ------------------------------------------------------------------------------

_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _reader(*, gz=True, dims="big", data_order="big", type_byte=True, validate=True, fixed_header=None):
    """An IDX reader with one of the classic mistakes switched on."""
    def read(data):
        if gz and data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if validate:
            if len(data) < 4 or data[0] or data[1] or data[2] not in _DTYPES or data[3] == 0:
                raise ValueError("bad header")
        ndim = data[3]
        shape = tuple(int(v) for v in np.frombuffer(data, ">u4" if dims == "big" else "<u4", count=ndim, offset=4))
        dt = np.dtype(_DTYPES[data[2]] if type_byte else ">u1")
        if data_order != "big":
            dt = dt.newbyteorder("<")
        header = fixed_header or 4 + 4 * ndim
        if validate and len(data) - header != int(np.prod(shape)) * dt.itemsize:
            raise ValueError("size mismatch")
        return np.frombuffer(data, dt, count=int(np.prod(shape)), offset=header).reshape(shape)
    return read


def test_read_idx_mistakes():
    assert "decompress it first" in fails_with("read_idx", _reader(gz=False))
    m = fails_with("read_idx", _reader(dims="little"))
    assert "big-endian" in m and "valid file" in m
    assert "byte-swapped" in fails_with("read_idx", _reader(data_order="little"))
    assert "map the type byte to the NumPy dtype" in fails_with("read_idx", _reader(type_byte=False, validate=False))
    m = fails_with("read_idx", _reader(validate=False))
    assert "should raise ValueError" in m and "extra bytes" in m
    assert "valid file" in fails_with("read_idx", _reader(fixed_header=16))


def test_read_idx_wrong_exception_is_named():
    def index_error(data):
        if len(data) < 8:
            raise IndexError("index out of range")
        return _reader()(data)

    m = fails_with("read_idx", index_error)
    assert "raised IndexError" in m and "raise a ValueError" in m


# --- forward_per_sample / forward_batched --------------------------------------------------

def _forward(X, p, *, relu=True, b1=True, b2=True, relu_out=False, upcast=False):
    H = X @ p["W1"] + (p["b1"] if b1 else 0)
    H = np.maximum(H, 0) if relu else H
    Z = H @ p["W2"] + (p["b2"] if b2 else 0)
    Z = np.maximum(Z, 0) if relu_out else Z
    return Z.astype(np.float64) if upcast else Z


@pytest.mark.parametrize("name", ["forward_per_sample", "forward_batched"])
def test_forward_mistakes(name):
    m = lambda **kw: fails_with(name, lambda X, p: _forward(X, p, **kw))  # noqa: E731
    assert "no ReLU" in m(relu=False)
    assert "b1 is missing" in m(b1=False)
    assert "b2 is missing" in m(b2=False)
    assert "ReLU is applied to the logits" in m(relu_out=True)
    assert "expected float32" in m(upcast=True)


def test_forward_per_sample_shape_mistakes():
    def keeps_row_axis(X, p):
        return np.array([_forward(X[i:i + 1], p) for i in range(len(X))])  # (N, 1, C)

    assert "don't keep a batch axis per sample" in fails_with("forward_per_sample", keeps_row_axis)
    assert "did you transpose" in fails_with("forward_per_sample", lambda X, p: _forward(X, p).T)


# --- batched_speedup: judged on given timings (never on this machine's clock) -------------

def test_speedup_judge():
    chk = get_check("batched_speedup")
    case = chk.make_cases()[0]
    good = {"out": case.expected, "t_baseline": 0.020, "t_fn": 0.004}
    assert chk.assess(case, good) is None
    slow = dict(good, t_fn=0.015)
    m = chk.assess(case, slow)
    assert f"need ≥ {SPEEDUP_MIN:g}×" in m and "without a Python loop" in m
    assert chk.assess(case, dict(good, t_fn=float("nan"))) is not None  # NaN fails closed
    assert chk.assess(case, dict(good, t_baseline=float("nan"))) is not None
    wrong = dict(good, out=case.expected + 1.0)
    assert "gives wrong logits" in chk.assess(case, wrong)
    assert "returned None" in chk.assess(case, dict(good, out=None))


def test_speedup_is_timed_by_the_caller_on_fresh_inputs(sol):
    from mlcourse.checks.core import digest, fresh_inputs, measure

    chk = get_check("batched_speedup")
    case = chk.make_cases()[0]
    seen = []

    def run_many(seed):  # what the grader's worker does for one timed round
        inputs = fresh_inputs(chk.timing, case.args, seed)
        seen.append(inputs[0][0])
        return digest([sol["forward_batched"](*a) for a in inputs], seed)

    got = measure(chk.timing, case.args, run_many)
    assert set(got) == {"t_fn", "t_baseline"} and got["t_fn"] > 0 and got["t_baseline"] > 0
    assert len(seen) == chk.timing.rounds and not np.array_equal(seen[0], seen[1])  # new inputs every round
    cached = measure(chk.timing, case.args, lambda seed: digest([case.expected] * chk.timing.inputs, seed))
    assert "wrong results on the timed inputs" in cached["problem"]  # an earlier answer does not count


# --- train_mnist_mlp -----------------------------------------------------------------------

def test_train_mnist_mlp_mistakes(sol):
    from mlcourse import nn

    train = sol["train_mnist_mlp"]

    def untrained(X, y, epochs=5, seed=0, **kw):
        rng = np.random.default_rng(seed)
        model = nn.Sequential([nn.Dense(784, 32, rng=rng, dtype=np.float32), nn.ReLU(),
                               nn.Dense(32, 10, rng=rng, dtype=np.float32)])
        return model, None  # forgot to call fit

    m = fails_with("train_mnist_mlp", untrained)
    assert "below 90%" in m and "held-out accuracy" in m

    def shuffled_labels(X, y, epochs=5, seed=0, **kw):
        return train(X, np.random.default_rng(1).permutation(y), epochs=1, seed=seed)

    assert "below 90%" in fails_with("train_mnist_mlp", shuffled_labels)

    def diverged(X, y, epochs=5, seed=0, **kw):
        model, history = untrained(X, y, epochs, seed)
        model[0].params["W"][...] = np.nan
        return model, history

    assert "diverged" in fails_with("train_mnist_mlp", diverged)
    assert "returned None" in fails_with("train_mnist_mlp", lambda X, y, epochs=5, seed=0, **kw: None)

    def history_only(X, y, epochs=5, seed=0, **kw):
        return train(X[:500], y[:500], epochs=1, seed=seed)[1]

    assert "expected the trained model" in fails_with("train_mnist_mlp", history_only)


def test_full_run_asserts_97_percent():
    nb = nbformat.read(ROOT / "solutions" / "08_mnist_mlp.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "test accuracy ≥ 0.97" in c.source]
    assert cells, "the solution must print and assert the ≥ 97 % test accuracy"
    cell = cells[0]
    assert cell.source.startswith("# NBVAL_CHECK_OUTPUT") and "assert test_acc >= 0.97" in cell.source
    stored = "".join(o.get("text", "") for o in cell.outputs)
    assert "test accuracy ≥ 0.97: True" in stored  # nbval compares the fresh run with this


# --- input_gradient: saliency by the student's own backprop ---------------------------------

def test_input_gradient_reference_matches_numerical_gradients():
    from mlcourse.checks import get_check
    from mlcourse.checks.ch08 import forward_reference

    for case in get_check("input_gradient").make_cases(0):
        params, X, y = case.args
        h, numeric = 1e-6, np.zeros_like(X)
        for n in range(len(X)):
            for d in range(X.shape[1]):
                up, down = X.copy(), X.copy()
                up[n, d] += h
                down[n, d] -= h
                numeric[n, d] = (forward_reference(up, params)[n, y[n]] - forward_reference(down, params)[n, y[n]]) / (2 * h)
        # At ReLU's kink (z = 0 exactly: the blank input with zero biases) the derivative is the
        # course's convention, 0, and the two-sided difference is the average of the sides.
        smooth = ~np.any(X @ params["W1"] + params["b1"] == 0, axis=1)
        assert smooth.sum() >= 2
        assert np.allclose(case.expected[smooth], numeric[smooth], atol=1e-6)


def test_input_gradient_mistakes():
    sol = load_solution_functions("08")["input_gradient"]
    assert passes("input_gradient", sol)

    def no_relu(params, X, y):
        onehot = np.eye(params["W2"].shape[1])[y]
        return onehot @ params["W2"].T @ params["W1"].T

    assert "ignores the ReLU" in fails_with("input_gradient", no_relu)
    assert "absolute value" in fails_with("input_gradient", lambda p, X, y: np.abs(sol(p, X, y)))

    def all_scores(params, X, y):
        z = X @ params["W1"] + params["b1"]
        return (params["W2"].sum(axis=1)[None, :] * (z > 0)) @ params["W1"].T

    assert "sum of all ten scores" in fails_with("input_gradient", all_scores)

    def loss_gradient(params, X, y):
        z = X @ params["W1"] + params["b1"]
        s = np.maximum(z, 0) @ params["W2"] + params["b2"]
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return (((p - np.eye(s.shape[1])[y]) @ params["W2"].T) * (z > 0)) @ params["W1"].T

    assert "gradient of the cross-entropy loss" in fails_with("input_gradient", loss_gradient)
    assert "transpose" in fails_with("input_gradient", lambda p, X, y: sol(p, X, y).T)


# --- issue 14: diagnoses for mistakes that used to get only "differs" ---------------------------

def test_forward_slips_are_named():
    def minus_b1(X, p):
        return np.maximum(X @ p["W1"] - p["b1"], 0) @ p["W2"] + p["b2"]

    def min_relu(X, p):
        return np.minimum(X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]

    def skips_last(X, p):
        logits = np.empty((len(X), p["W2"].shape[1]), dtype=X.dtype)
        for i in range(len(X) - 1):
            logits[i] = np.maximum(X[i] @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
        logits[-1] = 0.5  # what np.empty happened to hold
        return logits

    assert "b1 is subtracted" in fails_with("forward_batched", minus_b1)
    assert "min(z, 0)" in fails_with("forward_per_sample", min_relu)
    assert "only the last row (image 7) is wrong" in fails_with("forward_per_sample", skips_last)


def test_input_gradient_relu_kink_and_bias_are_named():
    """z = X W1 + b1 is never exactly 0 for random inputs, so `z >= 0` passed; a blank image with
    zero biases (as initialised) now has z = 0, and the message names ReLU's derivative at 0."""
    def grad(mask):
        def input_gradient(params, X, y):
            z = X @ params["W1"] + params["b1"]
            return (params["W2"][:, y].T * mask(z, X, params)) @ params["W1"].T
        return input_gradient

    assert passes("input_gradient", grad(lambda z, X, p: z > 0))
    assert "derivative at 0 is 0" in fails_with("input_gradient", grad(lambda z, X, p: z >= 0))
    assert "without + b1" in fails_with("input_gradient", grad(lambda z, X, p: X @ p["W1"] > 0))
    assert "0 for every pixel" in fails_with("input_gradient", lambda p, X, y: np.zeros_like(X))


def test_forward_with_a_missing_product_is_named():
    every_row_b2 = lambda X, p: np.tile(p["b2"], (len(X), 1))  # noqa: E731
    assert "the h @ W2 term is missing" in fails_with("forward_per_sample", every_row_b2)
    assert "the h @ W2 term is missing" in fails_with("forward_batched", lambda X, p: p["b2"])


def test_forward_that_changes_its_inputs_in_place_is_rejected():
    def scales_X(X, p):
        X /= 1.0 + np.abs(X).max()  # "normalises" the caller's images
        return _forward(X, p)

    def relu_into_b1(X, p):
        np.maximum(p["b1"], 0, out=p["b1"])
        return _forward(X, p)

    assert "changed your input `X` in place" in fails_with("forward_batched", scales_X)
    assert "changed the arrays in params in place" in fails_with("forward_per_sample", relu_into_b1)


def test_the_student_edition_times_the_speedup_against_the_students_own_per_sample_loop():
    """The per-sample clock is the solution of forward_per_sample, so the edition strips it
    (grader-side) and times the student's own forward_per_sample — once it passes its check."""
    checks = stored_mode()
    chk = checks.get_check("batched_speedup")
    assert getattr(chk.timing.baseline, "__stripped__", False)  # no reference clock in the edition
    right = solution_variant("08")
    assert checks.evaluate(chk, right["forward_batched"]).passed
    wrong = solution_variant("08", ("for i in range(len(X)):", "for i in range(len(X) - 1):"))
    assert checks.get_check("forward_per_sample") and not checks.evaluate(
        checks.get_check("forward_per_sample"), wrong["forward_per_sample"]).passed
    msg = checks.evaluate(chk, wrong["forward_batched"]).message
    assert "`forward_per_sample` must pass its own check first" in msg, msg
    del right["forward_per_sample"]
    msg = checks.evaluate(chk, right["forward_batched"]).message
    assert "timed against your own `forward_per_sample`" in msg and "define it first" in msg, msg
    # the grader's (live) check keeps its own trusted clock whatever the student's loop does
    assert evaluate(get_check("batched_speedup"), wrong["forward_batched"]).passed
