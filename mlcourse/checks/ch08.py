"""Checks for chapter 08 (MNIST with an MLP).

Exercises: ``read_idx`` (parse the IDX format from bytes, with validation),
``forward_per_sample`` and ``forward_batched`` (the same 784-H-10 ReLU network, one image at
a time and as matrix products), ``batched_speedup`` (the student's batched forward is
timed against a per-sample loop in the student's process; only the timings come back) and
``train_mnist_mlp`` (the student's training pipeline trains on an MNIST subset; the labels of
the held-out images never leave the grader, which computes the accuracy).
"""
from __future__ import annotations

import gzip
from typing import Any, Callable

import numpy as np

from ..data import load_mnist
from .compare import compare_array
from .core import Case, Timing, changed_inputs, define, describe_exception, grader_side
from .helpers import held_out_accuracy, same_values
from .questions import number

# --------------------------------------------------------------------------------------
# read_idx
# --------------------------------------------------------------------------------------

IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def idx_bytes(arr: np.ndarray, type_code: int) -> bytes:
    """The IDX encoding of ``arr``: magic 0x0000TTNN, NN big-endian uint32 sizes, big-endian data."""
    header = bytes([0, 0, type_code, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + np.ascontiguousarray(arr, dtype=IDX_TYPES[type_code]).tobytes()


def _idx_array(rng: np.random.Generator, type_code: int, shape: tuple) -> np.ndarray:
    dt = IDX_TYPES[type_code]
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt.newbyteorder("="))
    info = np.iinfo(dt)
    return rng.integers(info.min, int(info.max) + 1, size=shape).astype(dt.newbyteorder("="))


def _read_idx_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    ok_specs = [(0x08, (3, int(rng.integers(4, 7)), int(rng.integers(4, 7))), "unsigned bytes, 3-D (like MNIST images)"),
                (0x08, (int(rng.integers(5, 12)),), "unsigned bytes, 1-D (like MNIST labels)"),
                (0x0B, (2, int(rng.integers(3, 6))), "big-endian int16 with negative values"),
                (0x0C, (int(rng.integers(3, 6)),), "big-endian int32"),
                (0x0D, (2, 3), "big-endian float32"),
                (0x0E, (int(rng.integers(2, 5)), 2), "big-endian float64")]
    for code, shape, what in ok_specs:
        arr = _idx_array(rng, code, shape)
        cases.append(Case(args=(idx_bytes(arr, code), "ok"), expected=arr, label=f"{what}, shape {shape}"))
    arr = _idx_array(rng, 0x08, (2, 4, 4))
    cases.append(Case(args=(gzip.compress(idx_bytes(arr, 0x08), mtime=0), "ok"), expected=arr, secret={"gzip": True},
                      label="gzip-compressed bytes (like the .gz files), shape (2, 4, 4)"))

    good = idx_bytes(_idx_array(rng, 0x08, (3, 4)), 0x08)
    bad = [(good[:-1], "a file whose data is one byte short (truncated)"),
           (good + b"\x00\x00", "a file with extra bytes after the data"),
           (b"\x01\x02" + good[2:], "a file whose magic number does not start with two zero bytes"),
           (b"\x01" + good[1:], "a file whose magic number's first byte is not zero"),
           (good[:1] + b"\x05" + good[2:], "a file whose magic number's second byte is not zero"),
           (good[:2] + b"\x07" + good[3:], "a file with an unknown type byte 0x07"),
           (good[:6], "a file too short to hold its header"),
           (good[:3], "a file of 3 bytes, shorter than the magic number"),
           (b"\x00\x00\x08\x00", "a header with zero dimensions")]
    for data, what in bad:
        cases.append(Case(args=(data, "error"), expected="ValueError", label=what))
    return cases


def _read_idx_run(fn: Callable, args: tuple) -> Any:
    data, kind = args
    try:
        out = fn(data)
    except NotImplementedError:
        raise  # the framework reports "not implemented yet"
    except ValueError as exc:
        return ("ValueError", f"ValueError: {exc}" if kind == "ok" else str(exc))
    except Exception as exc:  # noqa: BLE001 — which exception the student raises is what we judge
        return ("other", describe_exception(exc))
    return ("array", None if out is None else np.asarray(out))


def _read_idx_judge(case: Case, output: Any) -> str | None:
    data, kind = case.args
    tag, value = output
    if kind == "error":
        if tag == "ValueError":
            return None if value.strip() else "raised ValueError without a message: say what is wrong with the file"
        if tag == "other":
            return f"for a broken file it raised {value}; raise a ValueError that says what is wrong instead"
        shape = "None" if value is None else f"an array of shape {np.shape(value)}"
        return f"returned {shape} for a broken file; it should raise ValueError (validate the header and the size)"
    if tag != "array":
        hint = ""
        if case.secret.get("gzip"):
            hint = " — gzip data starts with the bytes 1f 8b: decompress it first (gzip.decompress)"
        elif "reshape" in value or "size" in value or "smaller" in value:
            hint = " — are the dimension sizes read as big-endian 4-byte integers ('>u4'), and the data type from the type byte?"
        return f"raised {value} on a valid file{hint}"
    expected = case.expected
    if value is None:
        return "returned None — did you forget `return`?"
    got = value
    if got.shape != expected.shape:
        hint = ""
        if expected.ndim and got.ndim == expected.ndim:
            hint = " — read the dimension sizes as big-endian 4-byte integers ('>u4') right after the magic number"
        elif got.ndim == 1 and got.size != expected.size:
            hint = " — reshape the data to the sizes listed in the header"
        return f"shape {got.shape}, expected {expected.shape}{hint}"
    if got.dtype.newbyteorder("=") != expected.dtype.newbyteorder("="):
        code = next(k for k, v in IDX_TYPES.items() if v.newbyteorder("=") == expected.dtype.newbyteorder("="))
        return (f"dtype {got.dtype.name}, expected {expected.dtype.name} (type byte 0x{code:02X}): "
                "map the type byte to the NumPy dtype (0x08 → '>u1', 0x09 → '>i1', 0x0B → '>i2', "
                "0x0C → '>i4', 0x0D → '>f4', 0x0E → '>f8')")
    if np.array_equal(got, expected, equal_nan=True):
        return None
    swapped = expected.byteswap().view(expected.dtype)
    if expected.dtype.itemsize > 1 and np.array_equal(got, swapped, equal_nan=True):
        return "the values are byte-swapped: IDX stores numbers big-endian (use e.g. '>i2', not '<i2')"
    return compare_array("array", got, expected)


define(name="read_idx", description="IDX bytes (plain or gzip) → array of the stored shape and type; a bad header "
                   "or size raises ValueError",
       cases=_read_idx_cases, run=_read_idx_run, judge=_read_idx_judge)


# --------------------------------------------------------------------------------------
# The forward pass, per sample and batched
# --------------------------------------------------------------------------------------

@grader_side
def forward_reference(X: np.ndarray, params: dict) -> np.ndarray:
    """relu(X W1 + b1) W2 + b2: X (N, D) → logits (N, C), in the dtype of X."""
    H = np.maximum(X @ params["W1"] + params["b1"], 0)
    return H @ params["W2"] + params["b2"]


@grader_side
def per_sample_reference(X: np.ndarray, params: dict) -> np.ndarray:
    """The same network, one image (a vector) at a time — the grader's clock of the speed-up (the
    student edition times the student's own forward_per_sample instead: this is its solution)."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    out = np.empty((len(X), W2.shape[1]), dtype=X.dtype)
    for i in range(len(X)):
        h = np.maximum(X[i] @ W1 + b1, 0)
        out[i] = h @ W2 + b2
    return out


def mlp_params(rng: np.random.Generator, d: int, h: int, c: int, dtype: Any = np.float64) -> dict:
    """He-initialised parameters of a d-h-c MLP with small non-zero biases."""
    return {"W1": (rng.standard_normal((d, h)) * np.sqrt(2 / d)).astype(dtype),
            "b1": (0.1 * rng.standard_normal(h)).astype(dtype),
            "W2": (rng.standard_normal((h, c)) * np.sqrt(2 / h)).astype(dtype),
            "b2": (0.1 * rng.standard_normal(c)).astype(dtype)}


def _forward_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = int(rng.integers(5, 9)), int(rng.integers(12, 20)), int(rng.integers(8, 16))
    return [Case(args=(rng.standard_normal((n, d)), mlp_params(rng, d, h, 10)),
                 label=f"{n} float64 inputs, network {d}-{h}-10"),
            Case(args=(rng.random((1, 30)), mlp_params(rng, 30, 7, 10)), label="a batch of one image, 30-7-10"),
            Case(args=(rng.random((6, 20)).astype(np.float32), mlp_params(rng, 20, 16, 10, np.float32)),
                 label="float32 inputs and weights, 20-16-10")]


def _forward_run(fn: Callable, args: tuple) -> Any:
    X, params = args
    original = X.copy()
    given = {k: v.copy() for k, v in params.items()}
    out = fn(X, given)
    problem = changed_inputs(fn, (original,), (X,))  # a forward pass must leave the images alone
    if problem is None and any(not np.array_equal(given[k], v) for k, v in params.items()):
        problem = ("changed the arrays in params in place: the forward pass only reads the weights "
                   "(W1, b1, W2, b2) — compute into new arrays")
    if problem:
        return {"problem": problem}
    return None if out is None else np.asarray(out)


@grader_side
def _forward_hypotheses(X: np.ndarray, params: dict) -> dict[str, np.ndarray]:
    """Logits with one classic slip, keyed by the sentence that names it (a value of one row
    stands for every row: the judge compares it broadcast too)."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    relu = np.maximum(X @ W1 + b1, 0)
    return {"b1 is subtracted: h = max(x W1 + b1, 0)": np.maximum(X @ W1 - b1, 0) @ W2 + b2,
            "b2 is subtracted: logits = h W2 + b2": relu @ W2 - b2,
            "the hidden layer keeps the negative part, min(z, 0): ReLU is max(z, 0)":
                np.minimum(X @ W1 + b1, 0) @ W2 + b2,
            "the hidden layer is max(z, 1): ReLU is max(z, 0)": np.maximum(X @ W1 + b1, 1) @ W2 + b2,
            "logits equal b2 alone: the h @ W2 term is missing (logits = h W2 + b2)": b2,
            "logits are those of an input of zeros, max(b1, 0) W2 + b2: the x W1 term is missing "
            "(h = max(x W1 + b1, 0))": np.maximum(b1, 0) @ W2 + b2}


def _forward_judge(case: Case, output: Any) -> str | None:
    X, params = case.args
    expected = case.expected
    if output is None:
        return "returned None — did you forget `return`?"
    got = np.asarray(output)
    if got.shape == expected.shape and np.issubdtype(got.dtype, np.floating) and \
            not np.allclose(got, expected, rtol=1e-4, atol=1e-5):
        H = X @ params["W1"] + params["b1"]
        variants = [
            (H @ params["W2"] + params["b2"], "no ReLU after the hidden layer: h = max(x W1 + b1, 0)"),
            (np.maximum(X @ params["W1"], 0) @ params["W2"] + params["b2"], "b1 is missing: h = max(x W1 + b1, 0)"),
            (np.maximum(H, 0) @ params["W2"], "b2 is missing: logits = h W2 + b2"),
            (np.maximum(np.maximum(H, 0) @ params["W2"] + params["b2"], 0),
             "ReLU is applied to the logits too: the output layer is linear (the softmax is in the loss)"),
        ]
        for value, message in variants:
            if np.allclose(got, value, rtol=1e-4, atol=1e-5):
                return message
        rows_right = np.all(np.isclose(got, expected, rtol=1e-4, atol=1e-5), axis=1)
        if len(X) > 1 and rows_right[:-1].all():
            return (f"rows 0–{len(X) - 2} are right, only the last row (image {len(X) - 1}) is wrong: does the "
                    "loop reach the last image? (range(len(X)) covers every row)")
    for message, value in case.hypotheses.items():
        if not same_values(got, expected, rtol=1e-4, atol=1e-5) and (
                same_values(got, value, rtol=1e-4, atol=1e-5)
                or same_values(got, np.broadcast_to(value, expected.shape), rtol=1e-4, atol=1e-5)):
            return message
    if got.shape == (expected.shape[0], 1, expected.shape[1]):
        return (f"logits have shape {got.shape}, expected {expected.shape}: each row of the output "
                "is one image's (C,) logits — don't keep a batch axis per sample")
    problem = compare_array("logits", got, expected, 1e-4, 1e-5, len(X))
    if problem:
        return problem
    if X.dtype == np.float32 and got.dtype != np.float32:
        return (f"logits have dtype {got.dtype}, expected float32: a float32 network must compute in "
                "float32 (create arrays with dtype=X.dtype)")
    return None


define(name="forward_per_sample", description="logits (N, 10) of the 784-H-10 ReLU network computed one image at a time",
       cases=_forward_cases, reference=forward_reference, hypotheses=_forward_hypotheses, run=_forward_run,
       judge=_forward_judge)

define(name="forward_batched", description="logits (N, 10) of the same network with two matrix products for the whole batch",
       cases=_forward_cases, reference=forward_reference, hypotheses=_forward_hypotheses, run=_forward_run,
       judge=_forward_judge)


# --------------------------------------------------------------------------------------
# The speed-up, timed from the outside
# --------------------------------------------------------------------------------------

SPEEDUP_MIN = 2.0
# N, D, H, C. Small on purpose: BLAS libraries run products this small on one thread, so
# the measurement is about vectorisation (one call instead of N), not about how many cores
# are free — a busy grading machine makes a large multi-threaded product erratic. A
# vectorised forward is typically 10-40× faster here; a loop in disguise is about 1×.
SPEEDUP_SHAPE = (200, 64, 16, 10)


def _speedup_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h, c = SPEEDUP_SHAPE
    X = rng.random((n, d), dtype=np.float32)
    return [Case(args=(X, mlp_params(rng, d, h, c, np.float32)),
                 label=f"{n} float32 inputs, network {d}-{h}-{c}")]


def _fresh_batches(rng: np.random.Generator, args: tuple, n: int) -> list[tuple]:
    """``n`` new batches like the case's, same network: no timed call can reuse an earlier answer."""
    X, params = args
    new = rng.random((n, *X.shape), dtype=np.float32)
    return [(new[k], params) for k in range(n)]


def _speedup_judge(case: Case, output: Any) -> str | None:
    X, params = case.args
    got = output.get("out")
    if got is None:
        return "forward_batched returned None — did you forget `return`?"
    problem = compare_array("logits", got, case.expected, 1e-4, 1e-5)
    if problem:
        return f"forward_batched gives wrong logits ({problem}); make its check pass first"
    t_loop, t_batched = output["t_baseline"], output["t_fn"]
    speedup = t_loop / max(t_batched, 1e-9)
    if not speedup >= SPEEDUP_MIN:  # NaN fails too
        return (f"forward_batched took {t_batched * 1e3:.2f} ms for {len(X)} inputs, a per-sample loop "
                f"{t_loop * 1e3:.2f} ms: only {speedup:.1f}× faster (need ≥ {SPEEDUP_MIN:g}×) — compute "
                "the whole batch with matrix products, without a Python loop over the images")
    return None


# Timed by the caller around its calls (the grader: around its requests to the sandbox), on
# fresh inputs, against the per-sample loop run by trusted code: nothing the student's
# process measures or reports counts, only the outputs it returns.
define(name="batched_speedup", function="forward_batched",
       description=f"forward_batched agrees with a per-sample loop and is ≥ {SPEEDUP_MIN:g}× faster "
                   f"on {SPEEDUP_SHAPE[0]} inputs (timed on this machine)",
       cases=_speedup_cases, reference=forward_reference, run=_forward_run, judge=_speedup_judge,
       timing=Timing(baseline=per_sample_reference, fresh=_fresh_batches, own_clock="forward_per_sample"))


# --------------------------------------------------------------------------------------
# train_mnist_mlp: ≥ 90 % on held-out images (bonus)
# --------------------------------------------------------------------------------------

MNIST_MIN_ACCURACY = 0.90
MNIST_CHECK = dict(n_train=10000, n_test=2000, epochs=3)


def _mnist_cases(rng: np.random.Generator) -> list[Case]:
    X, y = load_mnist("train", dtype=np.float32)
    X_te, y_te = load_mnist("test", dtype=np.float32)
    tr = rng.choice(len(X), MNIST_CHECK["n_train"], replace=False)
    te = rng.choice(len(X_te), MNIST_CHECK["n_test"], replace=False)
    # uint8 pixels (4× smaller to send); the run scales them back to [0, 1] float32
    as_u8 = lambda a: np.round(a * 255).astype(np.uint8)  # noqa: E731
    return [Case(args=(as_u8(X[tr]), y[tr], as_u8(X_te[te]), MNIST_CHECK["epochs"], int(rng.integers(2**31))),
                 secret={"y_test": y_te[te]},
                 label=f"{MNIST_CHECK['n_train']} training images, {MNIST_CHECK['epochs']} epochs, "
                       f"{MNIST_CHECK['n_test']} held-out test images")]


def _mnist_run(fn: Callable, args: tuple) -> Any:
    X8, y, X_te8, epochs, seed = args
    X, X_te = X8.astype(np.float32) / 255, X_te8.astype(np.float32) / 255
    out = fn(X, y, epochs=epochs, seed=seed)
    model = out[0] if isinstance(out, (tuple, list)) and out else out
    if model is None:
        return {"problem": "train_mnist_mlp returned None — return (model, history)"}
    if not hasattr(model, "forward"):
        return {"problem": f"the first value returned is a {type(model).__name__}, expected the trained model"}
    scores = model.predict(X_te) if hasattr(model, "predict") else model.forward(X_te, training=False)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (len(X_te), 10):
        return {"problem": f"the trained model outputs shape {scores.shape} for {len(X_te)} images, expected ({len(X_te)}, 10)"}
    if not np.all(np.isfinite(scores)):
        return {"problem": "the trained model outputs NaN/inf — the training diverged (learning rate too high?)"}
    return {"pred": scores.argmax(axis=1)}


def _mnist_judge(case: Case, output: Any) -> str | None:
    acc, problem = held_out_accuracy(output, case.secret["y_test"], "images")
    if problem:
        return problem
    if acc < MNIST_MIN_ACCURACY:
        return (f"held-out accuracy {acc:.1%} is below {MNIST_MIN_ACCURACY:.0%} after training on "
                f"{MNIST_CHECK['n_train']} images for {MNIST_CHECK['epochs']} epochs — is the loss going "
                "down? (learning rate, labels matching their images, float32 inputs in [0, 1])")
    return None


define(name="train_mnist_mlp", description=f"your pipeline trained on {MNIST_CHECK['n_train']} MNIST images for "
                   f"{MNIST_CHECK['epochs']} epochs classifies held-out digits with ≥ {MNIST_MIN_ACCURACY:.0%} accuracy",
       cases=_mnist_cases, run=_mnist_run, judge=_mnist_judge)


# --------------------------------------------------------------------------------------
# Questions: predictions made before the experiment (mlcourse.checks.questions)
# --------------------------------------------------------------------------------------

number("answer_mlp_parameters", answer=203_530, rtol=1e-9,
       explain="784·256 weights + 256 biases in the first layer, 256·10 + 10 in the second: "
               "200,704 + 256 + 2,560 + 10 = 203,530.",
       wrong={203_264: "203,264 counts the weights only; each of the 256 + 10 units has a bias too.",
              1_050: "1,050 = 784 + 256 + 10 counts the units, not the connections between them.",
              2_007_040: "784·256·10 multiplies the sizes; each layer only connects to the next, so the "
                         "layers' counts add."})

number("answer_mnist_megabytes", answer=172.48, rtol=0.02,
       explain="55,000 images × 784 pixels × 4 bytes (float32) = 172,480,000 bytes ≈ 172 MB.",
       wrong={43.12: "43 MB is the uint8 file's size (1 byte a pixel); load_mnist converts to float32, 4 bytes.",
              344.96: "345 MB is float64 (8 bytes a pixel); load_mnist gives float32.",
              0.1725: "that is megabytes per 1,000 images; the training set has 55,000."})


# --------------------------------------------------------------------------------------
# input_gradient: what the network looks at (saliency), by the student's own backprop
# --------------------------------------------------------------------------------------

@grader_side
def input_gradient_reference(params: dict, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂ logit[n, y_n] / ∂ X[n] for relu(X W1 + b1) W2 + b2: X (N, D), y (N,) → (N, D)."""
    z = X @ params["W1"] + params["b1"]
    dh = params["W2"][:, y].T                  # (N, H): row n is W2's column y_n
    return (dh * (z > 0)) @ params["W1"].T


def _saliency_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d, h, c in [(5, 12, 8, 4), (3, 20, 16, 10)]:
        params = mlp_params(rng, d, h, c)
        X, y = rng.standard_normal((n, d)), rng.integers(0, c, n)
        if n == 5:  # a blank image and zero biases (as initialised): z = 0 exactly, ReLU's kink
            X[0], params["b1"][: h // 2] = 0.0, 0.0
        label = f"{n} inputs, sizes ({d}, {h}, {c})" + (", input 0 blank and half of b1 zero" if n == 5 else "")
        cases.append(Case(args=(params, X, y), label=label))
    return cases


@grader_side
def _saliency_hypotheses(params: dict, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """What classic mistakes give on (params, X, y), keyed by the sentence that names each."""
    W1, b1, W2 = params["W1"], params["b1"], params["W2"]
    dh = W2[:, y].T
    z = X @ W1 + b1
    onehot = np.eye(W2.shape[1])[y]
    probs = np.exp(forward_reference(X, params) - forward_reference(X, params).max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return {"it is the gradient of the cross-entropy loss; the saliency asks how the *score* of the label "
            "changes: seed with the one-hot row, not with P − Y": (((probs - onehot) @ W2.T) * (z > 0)) @ W1.T,
            "wrong only where z = X W1 + b1 is exactly 0 (the blank input 0, whose biases are 0): ReLU's "
            "derivative at 0 is 0 in this course, as in activation_backward — mask with (z > 0)":
                (dh * (z >= 0)) @ W1.T,
            "the ReLU mask is taken from X W1 without + b1: z = X W1 + b1": (dh * (X @ W1 > 0)) @ W1.T,
            "the ReLU mask is taken from X W1 − b1: the bias is added, z = X W1 + b1": (dh * (X @ W1 - b1 > 0)) @ W1.T}


def _saliency_judge(case: Case, got: Any) -> str | None:
    params, X, y = case.args
    expected = case.expected
    problem = compare_array("the input gradient", got, expected, rtol=1e-6, atol=1e-9)
    if not problem or "differs" not in problem:
        return problem
    z = X @ params["W1"] + params["b1"]
    onehot = np.eye(params["W2"].shape[1])[y]
    if same_values(got, (onehot @ params["W2"].T) @ params["W1"].T):
        return ("it ignores the ReLU: the gradient only flows back through units that were active, "
                "multiply by (z > 0) with z = X W1 + b1")
    for message, value in case.hypotheses.items():
        if same_values(got, value):
            return message
    if np.all(np.asarray(got) == 0):
        return ("it is 0 for every pixel of every image, although the label's score depends on the pixels "
                "here: the backward pass must start from 1 at each image's label score (a one-hot row)")
    if same_values(got, np.abs(expected)):
        return "it is the absolute value: return the signed gradient (the figure takes |·| itself)"
    if same_values(got, (params["W2"].sum(axis=1)[None, :] * (z > 0)) @ params["W1"].T):
        return ("it is the gradient of the sum of all ten scores: seed the backward pass with the one-hot "
                "row of each image's own label y_n")
    return problem


define(name="input_gradient",
       description="∂ score of each image's label / ∂ its pixels, through the ReLU network, by hand",
       cases=_saliency_cases, reference=input_gradient_reference, hypotheses=_saliency_hypotheses,
       judge=_saliency_judge)
