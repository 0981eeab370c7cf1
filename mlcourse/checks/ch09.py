"""Checks for chapter 09 (CNN basics): convolution by loops and by im2col, its backward pass,
max-pooling forward and backward.

Conventions the chapter fixes (they are those of ``mlcourse.conv`` and of every DL library):

* arrays are NCHW: x (N, C, H, W), W (F, C, kh, kw), b (F,), out (N, F, OH, OW) with
  OH = (H + 2·padding − kh) // stride + 1 (likewise OW);
* "convolution" is cross-correlation: the kernel is *not* flipped;
* ``im2col(x, kh, kw, stride, padding)`` → (N·OH·OW, C·kh·kw): row n·OH·OW + i·OW + j is the
  receptive field of output position (i, j) of image n, flattened in (c, p, q) order — the
  order of ``W.reshape(F, -1)``;
* max pooling sends each window's gradient to one position, the first maximum in row-major
  order (the one ``np.argmax`` picks), and adds up where windows overlap.

The references below are plain loops, deliberately independent of ``mlcourse.conv``. When a
result is wrong, the judges compare it with the classic mistakes (a flipped kernel, a
missing bias, padding or stride ignored, the wrong im2col order, a reshape without a
transpose, overwritten instead of accumulated gradients, ties sent to every maximum, …) to
name the symptom.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable

import numpy as np

from .compare import compare_array, compare_outputs
from .core import Case, changed_inputs, define, grader_side
from .helpers import held_out_accuracy, same_values
from .questions import choice, number


def _shape_of(got: Any) -> tuple | None:
    try:
        return np.asarray(got).shape
    except Exception:
        return None


def _size(n: int, k: int, stride: int, padding: int) -> int:
    return (n + 2 * padding - k) // stride + 1


def _run_sizes(fn: Any, args: tuple) -> Any:
    """Call fn(*args) in the student's process; name a float output size and in-place changes.

    ``1 + (H − k) / stride`` is a float in Python 3 (it was an int in Python 2, which much of the
    code students find online still assumes): np.zeros / range then raise a TypeError.
    """
    before = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    try:
        out = fn(*args)
    except TypeError as exc:
        text = str(exc)
        if "float" in text and ("integer" in text or "index" in text or "slice" in text):
            return {"problem": f"raised TypeError: {text} — an output size is a float: the size uses floor "
                               "division, OH = (H + 2·padding − kh) // stride + 1 (// rounds down when the "
                               "sizes do not divide evenly; / gives a float)"}
        raise
    changed = changed_inputs(fn, before, args)
    return {"problem": changed} if changed else out


def _mixed_sizes(got: tuple, n: int, c: int, oh: int, ow: int, oh_from_w: int, ow_from_h: int) -> str | None:
    """The sentence when an output shape took its height from W or its width from H (else None)."""
    if len(got) != 4 or got[:2] != (n, c) or got[2:] == (oh, ow):
        return None
    if got[2:] in ((ow_from_h, oh_from_w)[::-1], (oh, ow_from_h), (oh_from_w, ow), (oh_from_w, ow_from_h)):
        return (f"has shape {got}, expected {(n, c, oh, ow)}: height and width are mixed up — OH comes "
                "from H (and kh), OW from W (and kw)")
    return None


def _pad(x: np.ndarray, p: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x


_SIZE_RULE = "(H + 2·padding − kh) // stride + 1"


def _size_problem(name: str, got: tuple, expected: tuple, spatial: tuple, pool: bool = False) -> str | None:
    """The sentence for an output whose height or width breaks the size rule (else None).

    ``spatial`` = ((H, kh, stride, padding), (W, kw, stride, padding)) give expected[-2:]. States
    the rule with the case's numbers (a verified fact about the student's shape); names a cause
    only when exactly one classic variant of the rule gives the student's size.
    """
    if len(got) != len(expected) or got[:-2] != expected[:-2] or got == expected:
        return None
    parts = []
    for axis, (dim, (n, k, s, p)) in enumerate(zip(("OH", "OW"), spatial)):
        g, e = got[len(got) - 2 + axis], expected[len(expected) - 2 + axis]
        if g == e:
            continue
        rule = (f"(H − size) // stride + 1" if pool else _SIZE_RULE)
        rule = rule.replace("H", ("H", "W")[axis]).replace("kh", ("kh", "kw")[axis])
        numbers = f"({n} − {k}) // {s} + 1" if pool else f"({n} + 2·{p} − {k}) // {s} + 1"
        named = [why for why, v in _size_variants(n, k, s, p).items() if v == g]
        cause = f" — {g} is what {named[0]} gives" if len(named) == 1 else ""
        parts.append(f"{dim} = {g}, expected {rule} = {numbers} = {e}{cause}")
    return f"{name} has shape {got}, expected {expected}: " + "; ".join(parts)


def _size_variants(n: int, k: int, s: int, p: int) -> dict[str, int]:
    """The classic wrong output sizes for one axis (each differing from the right one): the rule
    changed that way → the size it gives. A match on one number is a fact worth saying ("2 is what
    the rule without its + 1 gives"), not proof of the cause, so messages say it that way."""
    variants = {"the rule without its + 1 (the window at offset 0 is an output position too)": (n + 2 * p - k) // s,
                "the rule without the stride": n + 2 * p - k + 1}
    if p:
        variants["the rule without the padding"] = (n - k) // s + 1
        variants["the rule with the padding on one side only (it is added on both: 2·padding)"] = (n + p - k) // s + 1
    if (n + 2 * p - k) % s:
        variants["the rule rounding up (// rounds down: a window must fit entirely)"] = -(-(n + 2 * p - k) // s) + 1
    right = _size(n, k, s, p)
    return {why: v for why, v in variants.items() if v != right}


def _only_last(got: Any, expected: np.ndarray, axes: tuple[str, ...], rtol: float = 1e-6,
               atol: float = 1e-9) -> str | None:
    """When every wrong element lies in the last slice along one axis: that fact (else None).

    ``axes`` names each axis ("image", "output row" …). "all 0" is added when that slice is 0.
    """
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if g.shape != expected.shape or g.ndim != len(axes):
        return None
    with np.errstate(all="ignore"):
        bad = ~np.isclose(g, expected, rtol=rtol, atol=atol)
    if not bad.any():
        return None
    for axis, what in enumerate(axes):
        size = g.shape[axis]
        if size < 2:
            continue
        rest = np.delete(bad, size - 1, axis=axis)
        if rest.any():
            continue
        last = np.take(g, size - 1, axis=axis)
        zero = " (it is all 0, as if never written)" if np.all(last == 0) else ""
        return (f"only the last {what} (index {size - 1} of axis {axis}) is wrong{zero}; every other {what} is "
                f"right — does the loop over the {what}s run over all {size} of them?")
    return None


def _all_zero(name: str, got: Any, expected: np.ndarray) -> str | None:
    """'name is all 0' when it is (and the expected array is not), else None."""
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if g.shape == expected.shape and g.size and not np.any(g) and np.any(expected):
        return f"{name} is all 0: no value was ever written into it (or every contribution was lost)"
    return None


# --------------------------------------------------------------------------------------
# Reference convolution (and its classic variants, to name mistakes)
# --------------------------------------------------------------------------------------

@grader_side
def _conv_ref(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int, padding: int,
              flip: bool = False, window_step: int | None = None) -> np.ndarray:
    """out (N, F, OH, OW). flip: true convolution; window_step: where window (i, j) starts."""
    n, _, h, w = x.shape
    f, _, kh, kw = W.shape
    xp = _pad(x, padding)
    oh, ow = _size(h, kh, stride, padding), _size(w, kw, stride, padding)
    K = W[:, :, ::-1, ::-1] if flip else W
    step = stride if window_step is None else window_step
    out = np.empty((n, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * step:i * step + kh, j * step:j * step + kw]
            out[:, :, i, j] = np.tensordot(patch, K, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def _conv_cases(rng: np.random.Generator) -> list[Case]:
    def make(n: int, c: int, h: int, w: int, f: int, kh: int, kw: int, stride: int, padding: int) -> Case:
        x = rng.standard_normal((n, c, h, w))
        W = rng.standard_normal((f, c, kh, kw))
        b = rng.standard_normal(f)
        label = (f"x {x.shape}, W {W.shape}, stride={stride}, padding={padding}")
        return Case(args=(x, W, b, stride, padding), batch=n, label=label)

    return [make(2, 3, 5, 5, 4, 3, 3, 1, 0),
            make(2, 2, 6, 5, 3, 3, 3, 1, 1),
            make(2, 2, 7, 8, 2, 3, 2, 2, 1),  # non-square kernel, stride 2
            make(1, 2, 6, 8, 2, 3, 3, 2, 0)]  # sizes that do not divide evenly: (6 − 3) / 2 = 1.5


def _conv_shape_hint(got: tuple, x: np.ndarray, W: np.ndarray, stride: int, padding: int) -> str | None:
    n, _, h, w = x.shape
    f, kh, kw = W.shape[0], W.shape[2], W.shape[3]
    expected = (n, f, _size(h, kh, stride, padding), _size(w, kw, stride, padding))
    if got == expected:
        return None
    if padding and got == (n, f, _size(h, kh, stride, 0), _size(w, kw, stride, 0)):
        return (f"out has shape {got}, expected {expected}: the padding was ignored — pad H and W "
                f"with `padding` zeros on each side (np.pad) before sliding the window")
    if stride > 1 and got == (n, f, _size(h, kh, 1, padding), _size(w, kw, 1, padding)):
        return (f"out has shape {got}, expected {expected}: the stride was ignored — "
                "OH = (H + 2·padding − kh) // stride + 1, and window (i, j) starts at (i·stride, j·stride)")
    if len(got) == 4 and got[:2] == (n, f) and got[2:] == expected[2:][::-1]:
        return (f"out has shape {got}, expected {expected}: height and width are swapped "
                "(kh goes with H, kw with W)")
    mixed = _mixed_sizes(got, n, f, expected[2], expected[3], _size(w, kh, stride, padding), _size(h, kw, stride, padding))
    if mixed:
        return f"out {mixed}"
    return _size_problem("out", got, expected, ((h, kh, stride, padding), (w, kw, stride, padding)))


_CONV_AXES = ("image", "filter", "output row", "output column")


@grader_side
def _conv_hypotheses(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int, padding: int) -> dict:
    """What each classic mistake of a convolution outputs on these inputs: {"named": message → out}."""
    n, c = x.shape[:2]
    kh, kw = W.shape[2:]
    ref = _conv_ref(x, W, b, stride, padding)
    nobias = ref - b[:, None, None]
    out = {
        "out has no bias: add b[f] to every output position of filter f": nobias,
        "out is a true convolution with the kernel flipped: deep-learning layers compute the cross-correlation, "
        "Σ W[f, c, p, q] · x[n, c, i·stride + p, j·stride + q] — do not flip W":
            _conv_ref(x, W, b, stride, padding, flip=True),
        "out subtracts the bias: out = Σ W · x + b[f], not − b[f]": nobias - b[:, None, None],
        "out is the bias alone, b[f] at every position: the sum of window · kernel products is missing":
            np.broadcast_to(b[:, None, None], ref.shape),
        f"out averages the window · kernel products (np.mean over C·kh·kw = {c * kh * kw} of them): a convolution "
        "sums them, out = Σ W · x + b": nobias / (c * kh * kw) + b[:, None, None],
        "out does not use the kernel: it is the plain sum of each window plus b — multiply the window by W[f] "
        "before summing": _conv_ref(x, np.ones_like(W), b, stride, padding),
        "out does not use x: every position of filter f gets ΣW[f] + b[f] — multiply the window of x by W[f] "
        "before summing": np.broadcast_to((W.sum(axis=(1, 2, 3)) + b)[:, None, None], ref.shape),
        "out is filled in the wrong order: out[n, f, i, j] belongs to row i (height) and column j (width)":
            ref.transpose(0, 1, 3, 2).reshape(ref.shape),
    }
    if n > 1:
        out["out[m] holds the output of image m − 1 (and out[0] that of an all-zero image): x was padded or "
            "shifted along the batch axis — pad only H and W, ((0, 0), (0, 0), (p, p), (p, p))"] = \
            _conv_ref(np.concatenate([np.zeros_like(x[:1]), x[:-1]]), W, b, stride, padding)
    if stride > 1:
        out["out has the right shape but window (i, j) starts at (i, j): with a stride it starts at "
            "(i·stride, j·stride)"] = _conv_ref(x, W, b, stride, padding, window_step=1)
    return {"named": out}


def _conv_judge(case: Case, got: Any) -> str | None:
    x, W, b, stride, padding = case.args
    shape = _shape_of(got)
    if isinstance(shape, tuple):
        hint = _conv_shape_hint(shape, x, W, stride, padding)
        if hint:
            return hint
    problem = compare_array("out", got, case.expected, rtol=1e-6, atol=1e-9, batch=case.batch)
    if problem and "differs" in problem:
        for why, variant in case.hypotheses["named"].items():
            if same_values(got, variant):
                return why
        where = _only_last(got, case.expected, _CONV_AXES)
        return (f"out: {where}" if where else None) or _all_zero("out", got, case.expected) or problem
    return problem


define(name="conv2d_naive", description="a convolution layer by loops, x (N, C, H, W) → (N, F, OH, OW), with stride and padding",
       cases=_conv_cases, reference=_conv_ref, hypotheses=_conv_hypotheses, judge=_conv_judge, run=_run_sizes)


# --------------------------------------------------------------------------------------
# im2col and the convolution as one matrix product
# --------------------------------------------------------------------------------------

@grader_side
def _im2col_ref(x: np.ndarray, kh: int, kw: int, stride: int, padding: int,
                cols: str = "cpq", rows: str = "nij") -> np.ndarray:
    """(N·OH·OW, C·kh·kw); cols / rows give other (wrong) orders, to name them."""
    n, _, h, w = x.shape
    xp = _pad(x, padding)
    oh, ow = _size(h, kh, stride, padding), _size(w, kw, stride, padding)
    out = {}
    for m in range(n):
        for i in range(oh):
            for j in range(ow):
                win = xp[m, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                out[m, i, j] = (win if cols == "cpq" else win.transpose(1, 2, 0)).ravel()
    order = {"nij": lambda k: k, "ijn": lambda k: (k[1], k[2], k[0]), "nji": lambda k: (k[0], k[2], k[1])}
    keys = sorted(out, key=order[rows])
    return np.array([out[k] for k in keys])


def _im2col_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(args=(rng.standard_normal((2, 3, 4, 5)), 3, 3, 1, 0), batch=2,
                 label="x (2, 3, 4, 5), 3×3 windows, stride=1, padding=0"),
            Case(args=(rng.standard_normal((2, 2, 5, 4)), 2, 3, 1, 1), batch=2,
                 label="x (2, 2, 5, 4), 2×3 windows, stride=1, padding=1"),
            Case(args=(rng.standard_normal((1, 2, 7, 7)), 3, 3, 2, 1), batch=1,
                 label="x (1, 2, 7, 7), 3×3 windows, stride=2, padding=1"),
            Case(args=(rng.standard_normal((2, 1, 6, 7)), 3, 2, 2, 0), batch=2,
                 label="x (2, 1, 6, 7), 3×2 windows, stride=2, padding=0: sizes that do not divide evenly, "
                       "OH = (6 − 3) // 2 + 1 = 2")]


def _im2col_judge(case: Case, got: Any) -> str | None:
    x, kh, kw, stride, padding = case.args
    n, c, h, w = x.shape
    oh, ow = _size(h, kh, stride, padding), _size(w, kw, stride, padding)
    expected_shape = (n * oh * ow, c * kh * kw)
    shape = _shape_of(got)
    if padding and shape == (n * _size(h, kh, stride, 0) * _size(w, kw, stride, 0), c * kh * kw):
        return (f"cols has shape {shape}, expected {expected_shape}: the padding was ignored — "
                "pad x with np.pad before cutting out the windows")
    if stride > 1 and shape == (n * _size(h, kh, 1, padding) * _size(w, kw, 1, padding), c * kh * kw):
        return (f"cols has shape {shape}, expected {expected_shape}: the stride was ignored — "
                "there are OH·OW windows per image, starting at (i·stride, j·stride)")
    if shape == (n, oh * ow, c * kh * kw) or shape == (n, oh, ow, c * kh * kw):
        return (f"cols has shape {shape}, expected the 2-D {expected_shape}: one row per window of "
                "every image — reshape to (N·OH·OW, C·kh·kw)")
    if shape is not None and len(shape) == 2 and shape[1] == c * kh * kw and shape[0] != n * oh * ow:
        return _im2col_rows_problem(shape, expected_shape, x.shape, kh, kw, stride, padding)
    problem = compare_array("cols", got, case.expected, rtol=1e-12, atol=1e-12)
    if problem and "differs" in problem:
        if same_values(got, case.hypotheses["channel last"]):
            return ("each row holds the right numbers in the wrong order: a window must be flattened "
                    "channel first, (c, p, q) — x[n, :, rows, cols].ravel() — to line up with "
                    "W.reshape(F, C·kh·kw)")
        if n > 1 and same_values(got, case.hypotheses["position first"]):
            return ("the rows are in the wrong order: image first, then position — row "
                    "n·OH·OW + i·OW + j holds window (i, j) of image n")
        if oh > 1 and ow > 1 and same_values(got, case.hypotheses["column by column"]):
            return "the window positions are walked column by column: go row by row (i outer, j inner)"
        where = _only_last(np.reshape(got, (n, oh, ow, -1)), case.expected.reshape(n, oh, ow, -1),
                           ("image", "output row", "output column", "column of cols"), rtol=1e-12, atol=1e-12)
        if where:
            return f"cols (seen as (N, OH, OW, C·kh·kw)): {where}"
    return problem


def _im2col_rows_problem(got: tuple, expected: tuple, xshape: tuple, kh: int, kw: int, stride: int,
                         padding: int) -> str:
    """cols has the wrong number of rows: the size rule with the case's numbers, and the one classic
    wrong OH or OW that gives the student's row count, if exactly one does."""
    n, _, h, w = xshape
    oh, ow = _size(h, kh, stride, padding), _size(w, kw, stride, padding)
    named = [f"{got[0]} = {n}·{v}·{ow} is the count with OH = {v}, what {why} gives"
             for why, v in _size_variants(h, kh, stride, padding).items() if n * v * ow == got[0]]
    named += [f"{got[0]} = {n}·{oh}·{v} is the count with OW = {v}, what {why} gives"
              for why, v in _size_variants(w, kw, stride, padding).items() if n * oh * v == got[0]]
    cause = f" — {named[0]}" if len(named) == 1 else ""
    return (f"cols has {got[0]} rows, expected N·OH·OW = {n}·{oh}·{ow} = {expected[0]}, one per window, with "
            f"OH = (H + 2·padding − kh) // stride + 1 = ({h} + 2·{padding} − {kh}) // {stride} + 1 = {oh} and "
            f"OW = ({w} + 2·{padding} − {kw}) // {stride} + 1 = {ow}{cause}")


@grader_side
def _im2col_hypotheses(x: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> dict:
    return {"channel last": _im2col_ref(x, kh, kw, stride, padding, cols="pqc"),
            "position first": _im2col_ref(x, kh, kw, stride, padding, rows="ijn"),
            "column by column": _im2col_ref(x, kh, kw, stride, padding, rows="nji")}


define(name="im2col", description="every receptive field as one row: x (N, C, H, W) → cols (N·OH·OW, C·kh·kw)",
       cases=_im2col_cases, reference=_im2col_ref, hypotheses=_im2col_hypotheses, judge=_im2col_judge, run=_run_sizes)


def _conv_im2col_judge(case: Case, got: Any) -> str | None:
    x, W, b, stride, padding = case.args
    n, f = x.shape[0], W.shape[0]
    oh, ow = case.expected.shape[2:]
    shape = _shape_of(got)
    if shape in ((n * oh * ow, f), (f, n * oh * ow)):
        return (f"out has shape {shape}, the shape of the matrix product: reshape it to (N, OH, OW, F) "
                "and move the filter axis forward, .transpose(0, 3, 1, 2) → (N, F, OH, OW)")
    if shape == (n, oh, ow, f):
        return (f"out has shape {shape} (N, OH, OW, F): move the filter axis forward with "
                ".transpose(0, 3, 1, 2) → (N, F, OH, OW)")
    problem = _conv_judge(case, got)
    if problem and "differs" in problem:
        flat = case.expected.transpose(0, 2, 3, 1).reshape(-1, f)  # (N·OH·OW, F), the product
        if same_values(got, flat.reshape(n, f, oh, ow)):
            return ("out has the right shape but scrambled values: the product's rows are (n, i, j) and "
                    "its columns are filters, so reshape to (N, OH, OW, F) first, then "
                    ".transpose(0, 3, 1, 2) — a reshape alone cannot move an axis")
        if same_values(got, case.hypotheses["W reshaped (C·kh·kw, F)"]):
            return ("W.reshape(C·kh·kw, F) mixes the filters up (W's first axis is the filter): use "
                    "W.reshape(F, -1), one filter per row, and multiply by its transpose")
        if same_values(got, flat.T.reshape(n, f, oh, ow)):
            return ("out has the right shape but scrambled values: (F, N·OH·OW) reshapes to "
                    "(F, N, OH, OW), then .transpose(1, 0, 2, 3)")
    return problem


@grader_side
def _conv_im2col_hypotheses(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int, padding: int) -> dict:
    n, f = x.shape[0], W.shape[0]
    oh, ow = _size(x.shape[2], W.shape[2], stride, padding), _size(x.shape[3], W.shape[3], stride, padding)
    cols = _im2col_ref(x, W.shape[2], W.shape[3], stride, padding)
    wrong_w = (cols @ W.reshape(-1, f) + b).reshape(n, oh, ow, f).transpose(0, 3, 1, 2)
    return {**_conv_hypotheses(x, W, b, stride, padding), "W reshaped (C·kh·kw, F)": wrong_w}


define(name="conv2d_im2col", description="the convolution as one matrix product, im2col(x) @ W.reshape(F, -1).T + b → (N, F, OH, OW)",
       cases=_conv_cases, reference=_conv_ref, hypotheses=_conv_im2col_hypotheses, judge=_conv_im2col_judge,
       run=_run_sizes)


# --------------------------------------------------------------------------------------
# conv2d_backward
# --------------------------------------------------------------------------------------

@grader_side
def _conv_backward_ref(dout: np.ndarray, x: np.ndarray, W: np.ndarray, stride: int, padding: int,
                       accumulate: bool = True, crop: bool = True) -> tuple:
    n, c, h, w = x.shape
    f, _, kh, kw = W.shape
    _, _, oh, ow = dout.shape
    xp = _pad(x, padding)
    dxp = np.zeros_like(xp)
    dW = np.zeros_like(W)
    for i in range(oh):
        for j in range(ow):
            r, s = i * stride, j * stride
            g = dout[:, :, i, j]  # (N, F)
            dW += np.tensordot(g, xp[:, :, r:r + kh, s:s + kw], axes=([0], [0]))
            contrib = np.tensordot(g, W, axes=([1], [0]))  # (N, C, kh, kw)
            if accumulate:
                dxp[:, :, r:r + kh, s:s + kw] += contrib
            else:
                dxp[:, :, r:r + kh, s:s + kw] = contrib
    dx = dxp[:, :, padding:padding + h, padding:padding + w] if crop else dxp
    return dx, dW, dout.sum(axis=(0, 2, 3))


@grader_side
def _conv_backward_hypotheses(dout: np.ndarray, x: np.ndarray, W: np.ndarray, stride: int, padding: int) -> dict:
    """dx under the classic mistakes of the backward pass: "overwritten dx", "padded dx" (not cropped)
    and "named": message → dx."""
    n, f, oh, ow = dout.shape
    out = {}
    if oh > 1:
        d = dout.copy()
        d[:, :, -1] = 0
        out[f"dx lacks the gradient of the last row of output positions (i = OH − 1 = {oh - 1}): it equals dx "
            f"computed with dout[:, :, {oh - 1}] = 0 — the loop over i must cover range(OH)"] = \
            _conv_backward_ref(d, x, W, stride, padding)[0]
    if ow > 1:
        d = dout.copy()
        d[:, :, :, -1] = 0
        out[f"dx lacks the gradient of the last column of output positions (j = OW − 1 = {ow - 1}): it equals dx "
            f"computed with dout[:, :, :, {ow - 1}] = 0 — the loop over j must cover range(OW)"] = \
            _conv_backward_ref(d, x, W, stride, padding)[0]
    if f > 1:
        scrambled = dout.reshape(n, oh, ow, f).transpose(0, 3, 1, 2)
        out["dx equals the gradient for a scrambled dout: dout.reshape(-1, F) reads the memory in (F, OH, OW) "
            "order, so its rows are not positions and its columns are not filters — move F last first, "
            "dout.transpose(0, 2, 3, 1).reshape(-1, F)"] = _conv_backward_ref(scrambled, x, W, stride, padding)[0]
    return {"overwritten dx": _conv_backward_ref(dout, x, W, stride, padding, accumulate=False)[0],
            "padded dx": _conv_backward_ref(dout, x, W, stride, padding, crop=False)[0], "named": out}


def _crop_problem(dx: Any, full: np.ndarray, x: np.ndarray, padding: int) -> str | None:
    """dx is a wrong crop of the padded input's gradient ``full``: which rows/columns it holds (else None)."""
    h, w = x.shape[2:]
    try:
        got = np.asarray(dx, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if got.ndim != 4 or got.shape[:2] != x.shape[:2]:
        return None
    if got.shape == x.shape and same_values(got, full[:, :, padding:padding + h, padding:padding + w]):
        return None
    gh, gw = got.shape[2:]
    for r in range(full.shape[2] - gh + 1):
        for c in range(full.shape[3] - gw + 1):
            if same_values(got, full[:, :, r:r + gh, c:c + gw]):
                return (f"dx is rows {r}:{r + gh}, columns {c}:{c + gw} of the padded input's gradient (shape "
                        f"{full.shape[2:]}); the input's own pixels are rows p:p + H = {padding}:{padding + h} and "
                        f"columns p:p + W = {padding}:{padding + w} — crop dx_padded[:, :, p:p + H, p:p + W]")
    return None


def _coverage(xshape: tuple, k: tuple, stride: int, padding: int) -> np.ndarray:
    """(H, W): how many receptive fields use each pixel of x (at least 1, to divide by)."""
    h, w = xshape[2:]
    count = np.zeros((h + 2 * padding, w + 2 * padding))
    for i in range(_size(h, k[0], stride, padding)):
        for j in range(_size(w, k[1], stride, padding)):
            count[i * stride:i * stride + k[0], j * stride:j * stride + k[1]] += 1
    return np.maximum(count[padding:padding + h, padding:padding + w], 1)


def _conv_backward_cases(rng: np.random.Generator) -> list[Case]:
    def make(n: int, c: int, h: int, w: int, f: int, k: int, stride: int, padding: int, kw: int | None = None,
             note: str = "") -> Case:
        kw = k if kw is None else kw
        x = rng.standard_normal((n, c, h, w))
        W = rng.standard_normal((f, c, k, kw))
        dout = rng.standard_normal((n, f, _size(h, k, stride, padding), _size(w, kw, stride, padding)))
        return Case(args=(dout, x, W, stride, padding), batch=n,
                    label=f"x {x.shape}, W {W.shape}, stride={stride}, padding={padding}{note}")

    return [make(2, 3, 5, 5, 4, 3, 1, 0), make(3, 2, 5, 6, 3, 3, 1, 1), make(2, 2, 7, 6, 2, 3, 2, 1),
            make(1, 2, 6, 8, 3, 3, 2, 0, kw=2, note=": one image, a 3×2 kernel, sizes that do not divide evenly "
                                                    "(the last row of x is in no window)")]


def _conv_backward_judge(case: Case, got: Any) -> str | None:
    dout, x, W, stride, padding = case.args
    dx_e, dW_e, db_e = case.expected
    if isinstance(got, (tuple, list)) and len(got) == 3:
        dx, dW, db = got
        sx, sb = _shape_of(dx), _shape_of(db)
        if padding == 0 and sx is not None and len(sx) == 4 and sx[:2] == x.shape[:2] and sx[2:] == (0, 0):
            return (f"dx has shape {sx}, expected {x.shape}: with padding = 0, dx_pad[:, :, pad:-pad, pad:-pad] "
                    "is empty (−0 is 0, so the slice is 0:0) — crop with pad:pad + H and pad:pad + W instead")
        if sx is not None and len(sx) == 4 and sx[:2] == x.shape[:2] and 0 in sx[2:]:
            what, bounds = (("rows", f"p:p + H = {padding}:{padding + x.shape[2]}") if sx[2] == 0
                            else ("columns", f"p:p + W = {padding}:{padding + x.shape[3]}"))
            return (f"dx has shape {sx}, expected {x.shape}: it has 0 {what} — the slice that crops its {what} is "
                    f"empty (its end is not after its start); crop {what} {bounds}")
        if padding and sx == (x.shape[0], x.shape[1], x.shape[2] + 2 * padding, x.shape[3] + 2 * padding):
            return (f"dx has shape {sx}, expected {x.shape}: it still includes the padding — "
                    "crop it off, dx_padded[:, :, p:p + H, p:p + W]")
        crop = _crop_problem(dx, case.hypotheses["padded dx"], x, padding)
        if crop:
            return crop
        if sb in ((dout.shape[1], dout.shape[2], dout.shape[3]), (dout.shape[1], 1, 1), (1, dout.shape[1], 1, 1)):
            return (f"db has shape {sb}, expected {db_e.shape}: the bias of filter f is added at every "
                    "image and every position, so sum dout over axes (0, 2, 3)")
        if sb != db_e.shape:
            for k in (1, 2, 3):
                for axes in itertools.combinations(range(4), k):
                    if axes != (0, 2, 3) and same_values(db, dout.sum(axis=axes)):
                        return (f"db has shape {sb}, expected {db_e.shape}: it is dout summed over axes {axes}; the "
                                "bias of filter f is added at every image and every position, so sum dout over "
                                "axes (0, 2, 3)")
        if _shape_of(dx) == dx_e.shape and not same_values(dx, dx_e):
            for why, variant in case.hypotheses["named"].items():
                if same_values(dx, variant):
                    return why
            zero = _all_zero("dx", dx, dx_e)
            if zero:
                return zero
        if _shape_of(dW) == dW_e.shape and _shape_of(dx) == dx_e.shape and not same_values(dx, dx_e) \
                and same_values(dx, case.hypotheses["overwritten dx"]):
            return ("dx is wrong where receptive fields overlap: a pixel of x is used by several output "
                    "positions, so its gradient is the sum of their contributions — accumulate with +=, "
                    "don't overwrite")
        if _shape_of(dx) == dx_e.shape and not same_values(dx, dx_e) \
                and same_values(dx, dx_e / _coverage(x.shape, W.shape[2:], stride, padding)):
            return ("dx averages the contributions of overlapping receptive fields: a pixel used by several "
                    "output positions gets the *sum* of their gradients — col2im adds (+=), it does not average")
        if _shape_of(db) == db_e.shape and not same_values(db, db_e):
            count = dout.shape[0] * dout.shape[2] * dout.shape[3]
            if same_values(db, db_e / count):
                return ("db is a mean over images and positions; it must be the sum — the 1/N of the mean "
                        "loss is already inside dout")
    return compare_outputs(("dx", "dW", "db"), got, case.expected, rtol=1e-6, atol=1e-9, batch=case.batch)


define(name="conv2d_backward", description="dx (N, C, H, W), dW (F, C, kh, kw) and db (F,) of a convolution with stride and padding",
       cases=_conv_backward_cases, reference=_conv_backward_ref, hypotheses=_conv_backward_hypotheses,
       judge=_conv_backward_judge, run=_run_sizes)


# --------------------------------------------------------------------------------------
# Max pooling
# --------------------------------------------------------------------------------------

@grader_side
def _windows(x: np.ndarray, size: int, stride: int, window_step: int | None = None):
    """(i, j, row slice, col slice) of every pooling window."""
    step = stride if window_step is None else window_step
    _, _, h, w = x.shape
    for i in range(_size(h, size, stride, 0)):
        for j in range(_size(w, size, stride, 0)):
            yield i, j, slice(i * step, i * step + size), slice(j * step, j * step + size)


@grader_side
def _maxpool_ref(x: np.ndarray, size: int, stride: int, mode: str = "max",
                 window_step: int | None = None) -> np.ndarray:
    n, c, h, w = x.shape
    out = np.empty((n, c, _size(h, size, stride, 0), _size(w, size, stride, 0)))
    for i, j, rs, cs in _windows(x, size, stride, window_step):
        win = x[:, :, rs, cs]
        out[:, :, i, j] = win.max(axis=(2, 3)) if mode == "max" else win.mean(axis=(2, 3))
    return out


def _maxpool_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(args=(rng.standard_normal((2, 3, 4, 4)), 2, 2), batch=2,
                 label="x (2, 3, 4, 4), 2×2 windows, stride 2"),
            Case(args=(rng.standard_normal((2, 2, 5, 7)), 2, 2), batch=2,
                 label="x (2, 2, 5, 7), 2×2 windows, stride 2 (odd sizes: the last row/column is dropped)"),
            Case(args=(rng.standard_normal((1, 2, 5, 5)), 3, 2), batch=1,
                 label="x (1, 2, 5, 5), 3×3 windows, stride 2 (overlapping)")]


def _maxpool_judge(case: Case, got: Any) -> str | None:
    x, size, stride = case.args
    n, c, h, w = x.shape
    expected = case.expected.shape
    shape = _shape_of(got)
    if shape is not None and shape != expected:
        if stride != size and shape == (n, c, _size(h, size, size, 0), _size(w, size, size, 0)):
            return (f"out has shape {shape}, expected {expected}: the windows moved by `size` instead of "
                    "`stride` — OH = (H − size) // stride + 1")
        if shape == (n, c, _size(h, size, 1, 0), _size(w, size, 1, 0)):
            return (f"out has shape {shape}, expected {expected}: the stride was ignored — "
                    "OH = (H − size) // stride + 1")
        mixed = _mixed_sizes(shape, n, c, expected[2], expected[3], _size(w, size, stride, 0), _size(h, size, stride, 0))
        if mixed:
            return f"out {mixed}"
        sizes = _size_problem("out", shape, expected, ((h, size, stride, 0), (w, size, stride, 0)), pool=True)
        if sizes:
            return sizes
    problem = compare_array("out", got, case.expected, rtol=1e-9, atol=1e-12)
    if problem and "differs" in problem:
        if same_values(got, case.hypotheses["mean"]):
            return "out averages each window: max pooling keeps the largest value of each window"
        if stride > 1 and same_values(got, case.hypotheses["window step 1"]):
            return "window (i, j) starts at (i, j): it starts at (i·stride, j·stride)"
        if same_values(got, np.maximum(case.expected, 0)):
            return "out is clipped at 0: max pooling takes the maximum of the window even when it is negative"
        named = [why for why, variant in case.hypotheses["named"].items() if same_values(got, variant)]
        if len(named) == 1:  # two mistakes that give the same output here: name neither
            return named[0]
        where = _only_last(got, case.expected, ("image", "channel", "output row", "output column"))
        return (f"out: {where}" if where else None) or _not_the_max(got, case.expected, x, size, stride) or problem
    return problem


@grader_side
def _pool_windows(x: np.ndarray, oh: int, ow: int, rows: tuple, cols: tuple, reduce: Any) -> np.ndarray | None:
    """reduce over windows x[..., a·i + b : c·i + d, …] with rows = (a, b, c, d) (cols likewise)."""
    out = np.empty(x.shape[:2] + (oh, ow))
    with np.errstate(all="ignore"):
        for i in range(oh):
            for j in range(ow):
                win = x[:, :, rows[0] * i + rows[1]:rows[2] * i + rows[3], cols[0] * j + cols[1]:cols[2] * j + cols[3]]
                if win.shape[2] == 0 or win.shape[3] == 0:
                    return None
                out[:, :, i, j] = reduce(win)
    return out


@grader_side
def _maxpool_hypotheses(x: np.ndarray, size: int, stride: int) -> dict:
    """What max pooling outputs under each classic mistake: "mean", "window step 1", and "named":
    message → out."""
    oh, ow = _size(x.shape[2], size, stride, 0), _size(x.shape[3], size, stride, 0)
    s = stride
    right = (s, 0, s, size)
    slices = {  # (a, b, c, d): the window's rows are a·i + b : c·i + d
        (s, 0, s, size - 1): "end one short, {v}·stride + size − 1: the end of a slice is exclusive, "
                             "so {v}·stride + size already stops after the last {what}",
        (s, 1, s, size): "start one late, at {v}·stride + 1",
        (1, 0, s, size): "start at {v} instead of {v}·stride",
        (s, 0, 1, size): "end at {v} + size instead of {v}·stride + size",
        (0, s, s, size): "start at stride for every {v} (the factor {v} is missing)",
        (s, 0, 0, s + size): "end at stride + size for every {v} (the factor {v} is missing)",
    }
    out = {"out is the minimum of each window: max pooling keeps the largest value":
           _pool_windows(x, oh, ow, right, right, lambda win: win.min(axis=(2, 3)))}
    if x.shape[0] * x.shape[1] > 1:
        out["every image and channel got the same value at (i, j), the maximum over all images and channels: "
            "reduce over the window's axes only, .max(axis=(2, 3))"] = \
            _pool_windows(x, oh, ow, right, right, lambda win: win.max())
    for axis, (v, what) in enumerate((("i", "row"), ("j", "column"))):
        for bounds, why in slices.items():
            rows, cols = (bounds, right) if axis == 0 else (right, bounds)
            variant = _pool_windows(x, oh, ow, rows, cols, lambda win: win.max(axis=(2, 3)))
            if variant is not None:
                out[f"out is the max over windows whose {what}s {why.format(v=v, what=what)} — window (i, j) "
                    f"spans {what}s {v}·stride to {v}·stride + size − 1, x[..., {v}·stride:{v}·stride + size]"] = variant
    return {"mean": _maxpool_ref(x, size, stride, mode="mean"),
            "window step 1": _maxpool_ref(x, size, stride, window_step=1),
            "named": {why: v for why, v in out.items() if v is not None}}


def _not_the_max(got: Any, ref: np.ndarray, x: np.ndarray, size: int, stride: int) -> str | None:
    """A verified fact about the first wrong output: not a value of its window, or not its largest."""
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if g.shape != ref.shape:
        return None
    bad = np.argwhere(~np.isclose(g, ref, rtol=1e-9, atol=1e-12))
    if not len(bad):
        return None
    m, ch, i, j = (int(v) for v in bad[0])
    rs, cs = f"{i * stride}:{i * stride + size}", f"{j * stride}:{j * stride + size}"
    win = x[m, ch, i * stride:i * stride + size, j * stride:j * stride + size]
    where = f"out[{m}, {ch}, {i}, {j}] = {g[m, ch, i, j]:.4g}"
    if not np.isclose(win, g[m, ch, i, j], rtol=1e-9, atol=1e-12).any():
        return (f"{where} is not a value of its window x[{m}, {ch}, {rs}, {cs}] at all (whose maximum is "
                f"{win.max():.4g}): each output must be its window's largest value ({len(bad)} outputs are wrong)")
    return (f"{where} is a value of its window x[{m}, {ch}, {rs}, {cs}] but not the largest ({win.max():.4g}) "
            f"({len(bad)} outputs are wrong)")


define(name="maxpool_forward", description="the maximum of every size×size window, x (N, C, H, W) → (N, C, OH, OW)",
       cases=_maxpool_cases, reference=_maxpool_ref, hypotheses=_maxpool_hypotheses, judge=_maxpool_judge,
       run=_run_sizes)


@grader_side
def _maxpool_backward_ref(dout: np.ndarray, x: np.ndarray, size: int, stride: int, route: str = "first",
                          accumulate: bool = True) -> np.ndarray:
    """route: "first" (argmax), "last", "all" (every tied max), "min", "spread" (whole window), "mean"."""
    n, c = x.shape[:2]
    dx = np.zeros_like(x, dtype=np.float64)
    for i, j, rs, cs in _windows(x, size, stride):
        win = x[:, :, rs, cs].reshape(n, c, -1)
        if route == "first":
            mask = np.arange(size * size) == win.argmax(axis=-1)[..., None]
        elif route == "last":
            mask = np.arange(size * size) == (size * size - 1 - win[..., ::-1].argmax(axis=-1))[..., None]
        elif route == "min":
            mask = np.arange(size * size) == win.argmin(axis=-1)[..., None]
        elif route == "all":
            mask = win == win.max(axis=-1, keepdims=True)
        elif route == "spread":
            mask = np.ones_like(win, dtype=bool)
        else:
            mask = np.full(win.shape, 1.0 / (size * size))
        g = (mask * dout[:, :, i, j][..., None]).reshape(n, c, size, size)
        if accumulate:
            dx[:, :, rs, cs] += g
        else:
            dx[:, :, rs, cs] = g
    return dx


def _maxpool_backward_cases(rng: np.random.Generator) -> list[Case]:
    def make(x: np.ndarray, size: int, stride: int, label: str) -> Case:
        oh, ow = _size(x.shape[2], size, stride, 0), _size(x.shape[3], size, stride, 0)
        dout = rng.standard_normal((x.shape[0], x.shape[1], oh, ow))
        return Case(args=(dout, x, size, stride), batch=x.shape[0], label=label)

    overlap = rng.standard_normal((1, 2, 5, 5))
    overlap[:, :, 2, 2] = 3.0 + rng.random((1, 2))  # the shared pixel is the max of all 4 windows
    ties = rng.integers(0, 3, (2, 2, 4, 4)).astype(np.float64)
    ties[0, 0, :2, :2] = 0.0  # at least one window of equal values, as after a ReLU
    ties[1, 1, 2:, 2:] = [[2.0, 1.0], [2.0, 2.0]]
    return [make(rng.standard_normal((2, 3, 4, 4)), 2, 2, "x (2, 3, 4, 4), 2×2 windows, stride 2"),
            make(overlap, 3, 2, "x (1, 2, 5, 5), 3×3 windows, stride 2: the centre pixel is the max of "
                                "all four overlapping windows"),
            make(ties, 2, 2, "x (2, 2, 4, 4) of small integers, 2×2 windows, stride 2: windows with ties"),
            make(rng.standard_normal((1, 2, 4, 6)), 2, 2, "x (1, 2, 4, 6): a non-square output of 2 × 3 windows"),
            make(rng.standard_normal((1, 1, 5, 7)), 2, 2, "x (1, 1, 5, 7): sizes that do not divide evenly, "
                                                          "OH = (5 − 2) // 2 + 1 = 2")]


def _maxpool_backward_judge(case: Case, got: Any) -> str | None:
    dout, x, size, stride = case.args
    shape = _shape_of(got)
    if shape == dout.shape:
        return (f"dx has shape {shape}, the shape of dout: the gradient wrt the input has the input's "
                f"shape {x.shape}; route each dout value back to its window's maximum")
    problem = compare_array("dx", got, case.expected, rtol=1e-9, atol=1e-12)
    if problem and "differs" in problem:
        h = case.hypotheses
        if same_values(got, h["all"]):
            return ("in a window with a tie, the gradient went to every position holding the maximum: "
                    "send it to one — the first in row-major order, the one np.argmax picks")
        if same_values(got, h["last"]):
            return ("in a window with a tie, the gradient went to the last maximum: send it to the first, "
                    "the one np.argmax picks")
        if same_values(got, h["spread"]):
            return ("dout reached every position of its window: only the position of the maximum "
                    "influenced the output, so only it gets the gradient (the others get 0)")
        if same_values(got, h["mean"]):
            return ("dout is spread evenly over the window (that is average pooling's backward): max pooling "
                    "sends it all to the maximum")
        if same_values(got, h["overwritten"]):
            return ("where windows overlap (stride < size) one pixel can be the maximum of several windows: "
                    "add their gradients (+=) instead of overwriting")
        if same_values(got, h["min"]):
            return "the gradient went to each window's minimum (argmin): max pooling sends it to the maximum"
        if same_values(got, h["inverted"]):
            return ("dout went to every position of its window except the maximum — the mask is inverted: "
                    "only the (first) maximum gets the gradient")
        if not same_values(dout, 1.0) and same_values(got, h["dout 1"]):
            return ("dx holds 1 at each window's maximum instead of that window's dout: multiply the mask by "
                    "dout[:, :, i, j] (chain rule)")
        for axis, what in enumerate(("row", "column")):
            last = dout.shape[2 + axis] - 1
            if last > 0 and same_values(got, h[f"last {what} dropped"]):
                return (f"the windows of the last output {what} ({'ij'[axis]} = {last}) sent no gradient: dx equals "
                        f"the gradient with those dout values set to 0 — the loop must cover all {last + 1} output "
                        f"{what}s")
        zero = _all_zero("dx", got, case.expected)
        if zero:
            return zero
    return problem


@grader_side
def _maxpool_backward_hypotheses(dout: np.ndarray, x: np.ndarray, size: int, stride: int) -> dict:
    ref = _maxpool_backward_ref
    out = {**{r: ref(dout, x, size, stride, route=r) for r in ("all", "last", "spread", "mean", "min")},
           "overwritten": ref(dout, x, size, stride, accumulate=False),
           "inverted": ref(dout, x, size, stride, route="spread") - ref(dout, x, size, stride),
           "dout 1": ref(np.ones_like(dout), x, size, stride)}
    for axis, what in enumerate(("row", "column")):
        d = dout.copy()
        (d[:, :, -1] if axis == 0 else d[:, :, :, -1])[...] = 0
        out[f"last {what} dropped"] = ref(d, x, size, stride)
    return out


define(name="maxpool_backward", description="dx (N, C, H, W): each window's gradient to the position of its maximum, summed where "
                   "windows overlap",
       cases=_maxpool_backward_cases, reference=_maxpool_backward_ref, hypotheses=_maxpool_backward_hypotheses,
       judge=_maxpool_backward_judge, run=_run_sizes)


# --------------------------------------------------------------------------------------
# Questions: predictions made before the experiment (mlcourse.checks.questions)
# --------------------------------------------------------------------------------------

number("answer_conv_output_size", answer=14, rtol=1e-9,
       explain="OH = ⌊(H + 2P − k)/s⌋ + 1 = ⌊(28 + 4 − 5)/2⌋ + 1 = ⌊13.5⌋ + 1 = 14.",
       wrong={12: "12 = ⌊(28 − 5)/2⌋ + 1 leaves out the padding: add 2P = 4 to the height first.",
              13: "13 = ⌊27/2⌋ forgets the + 1: a window at offset 0 is an output position too.",
              14.5: "the window must fit entirely, so the division is rounded down: ⌊13.5⌋ + 1 = 14.",
              28: "padding 2 keeps the size of a 5×5 convolution only with stride 1; stride 2 halves it."})

number("answer_conv_parameters", answer=2_432, rtol=1e-9,
       explain="each of the 32 filters spans all 3 input channels: 3·5·5 = 75 weights plus one bias, "
               "so 32·76 = 2,432 — independent of the image size.",
       wrong={2_400: "2,400 counts the weights only; every filter has a bias too (+32).",
              832: "832 = 32·(5·5 + 1) forgets that a filter spans all 3 input channels: 3·5·5 weights each.",
              76: "76 is one filter; the layer has 32.",
              2_408_448: "the same filter slides over every position — the count does not depend on the "
                         "image size (that is weight sharing)."})

choice("answer_shifted_digits", answer="a",
       explain="both lose accuracy, the MLP about twice as much (measured on held-out digits shifted by 3 "
               "pixels: the CNN from ~98 % to ~75 %, the MLP from ~96 % to ~45 %): convolutions and pooling "
               "tolerate small moves, the Flatten → Dense head does not.",
       wrong={"b": "a convolution is translation *equivariant* — its feature maps move with the input — and "
                   "pooling adds only a little invariance; the Dense head after Flatten still reads positions, "
                   "so the CNN loses accuracy too.",
              "c": "the MLP has no notion of neighbouring pixels: a moved stroke lands on inputs whose weights "
                   "never saw it, so it loses far more than the CNN.",
              "d": "3 pixels is a large move for a 28×28 digit whose strokes are 2–3 pixels wide: most ink "
                   "lands on different pixels."})


# --------------------------------------------------------------------------------------
# layer_shapes: every layer's output shape and parameter count, from an architecture spec
# --------------------------------------------------------------------------------------

def _describe_layer(layer: tuple) -> str:
    op = layer[0]
    if op == "conv":
        return f"('conv', {layer[1]} filters, {layer[2]}×{layer[2]}, stride {layer[3]}, padding {layer[4]})"
    if op == "pool":
        return f"('pool', size {layer[1]}, stride {layer[2]})"
    if op == "dense":
        return f"('dense', {layer[1]} units)"
    return f"({op!r},)"


@grader_side
def _layer_shapes_ref(spec: list, input_shape: tuple) -> list:
    """[(output shape without the batch axis, number of parameters), …], one per layer (grader side)."""
    shape, out = tuple(input_shape), []
    for layer in list(spec):
        params = 0
        if layer[0] == "conv":
            _, f, k, s, p = layer
            params = f * (shape[0] * k * k + 1)
            shape = (f, _size(shape[1], k, s, p), _size(shape[2], k, s, p))
        elif layer[0] == "pool":
            _, k, s = layer
            shape = (shape[0], _size(shape[1], k, s, 0), _size(shape[2], k, s, 0))
        elif layer[0] == "flatten":
            shape = (int(np.prod(shape, dtype=np.int64)),)
        elif layer[0] == "dense":
            params = (shape[0] + 1) * layer[1]
            shape = (int(layer[1]),)
        out.append((shape, params))
    return out


def _layer_shapes_cases(rng: np.random.Generator) -> list[Case]:
    f1, f2 = int(rng.integers(4, 17)), int(rng.integers(8, 33))
    mnist = [("conv", f1, 3, 1, 1), ("relu",), ("pool", 2, 2), ("flatten",), ("dense", 10)]
    # colour, not square, sizes that do not divide evenly ((32 − 5)/2 = 13.5), a second block,
    # overlapping pooling and a hidden dense layer
    colour = [("conv", f1, 5, 2, 0), ("relu",), ("pool", 2, 2), ("conv", f2, 3, 1, 1), ("relu",),
              ("pool", 3, 2), ("flatten",), ("dense", int(rng.integers(16, 65))), ("relu",), ("dense", 10)]
    padded = [("conv", f2, 3, 1, 2), ("relu",), ("pool", 2, 2), ("conv", f1, 3, 2, 1), ("flatten",), ("dense", 5)]
    return [Case(args=(mnist, (1, 28, 28)), label=f"the chapter's CNN on MNIST, input (1, 28, 28): {mnist}"),
            Case(args=(colour, (3, 32, 39)), label=f"colour images (3, 32, 39): {colour}"),
            # width 23: the pooling's (25 − 2)/2 and the strided conv's (12 − 3 + 2)/2 do not divide
            # evenly on the width side either
            Case(args=(padded, (2, 17, 23)), label=f"input (2, 17, 23): {padded}")]


def _layer_shapes_run(fn: Callable, args: tuple) -> Any:
    spec, input_shape = args
    got = fn([tuple(layer) for layer in spec], tuple(input_shape))
    try:
        rows = [(tuple(float(v) for v in shape), float(params)) for shape, params in got]
    except (TypeError, ValueError):
        return {"problem": f"layer_shapes returned {type(got).__name__} {str(got)[:80]}: expected a list of "
                           "(shape, parameter count) pairs, one per layer, e.g. [((8, 28, 28), 80), …]"}
    return [(tuple(int(v) if v.is_integer() else v for v in shape), int(p) if p.is_integer() else p)
            for shape, p in rows]


def _layer_shape_hint(layer: tuple, shape_in: tuple, got: tuple, expected: tuple) -> str | None:
    """Why a layer's output shape is wrong, when a tested mistake reproduces it (else None)."""
    if len(got) == 3 and got == (expected[1], expected[2], expected[0]) and expected[0] != expected[1]:
        return ("it is channels-last (H, W, C): the course stores images channels-first, (C, H, W) — "
                "the number of feature maps comes first")
    if any(isinstance(v, float) for v in got):
        return ("its sizes are not whole numbers: a window must fit entirely inside the (padded) input, "
                "so the division is rounded down (//)")
    op, (c, h, w) = layer[0], (shape_in + (0, 0, 0))[:3]
    if op == "conv":
        _, f, k, s, p = layer
        variants = {"the padding was ignored: add 2·padding to H and W before the window slides":
                        (f, _size(h, k, s, 0), _size(w, k, s, 0)),
                    "the stride was ignored: the window moves `stride` pixels at a time, so divide by it":
                        (f, _size(h, k, 1, p), _size(w, k, 1, p)),
                    "the + 1 is missing: the window at offset 0 is an output position too":
                        (f, (h + 2 * p - k) // s, (w + 2 * p - k) // s),
                    "the division was rounded up; the window must fit entirely, so round down (//)":
                        (f, -(-(h + 2 * p - k) // s) + 1, -(-(w + 2 * p - k) // s) + 1),
                    "the channel count is the input's: a convolution outputs one map per filter":
                        (c, expected[1], expected[2])}
    elif op == "pool":
        _, k, s = layer
        variants = {"the stride was ignored: the window moves `stride` pixels at a time":
                        (c, _size(h, k, 1, 0), _size(w, k, 1, 0)),
                    "the windows moved by `size` instead of `stride`": (c, _size(h, k, k, 0), _size(w, k, k, 0)),
                    "the division was rounded up; a window must fit entirely, so round down (//)":
                        (c, -(-(h - k) // s) + 1, -(-(w - k) // s) + 1)}
    elif op == "flatten":
        variants = {"it is the input's shape: Flatten makes one vector of C·H·W numbers per image": tuple(shape_in)}
    else:
        variants = {"an element-wise layer keeps its input's shape": tuple(shape_in)} if op == "relu" else {}
    for cause, variant in variants.items():
        if variant != tuple(expected) and got == variant:
            return cause
    return None


def _layer_params_hint(layer: tuple, shape_in: tuple, got: Any, expected: int) -> str | None:
    """Why a layer's parameter count is wrong, when a tested mistake reproduces it (else None)."""
    op = layer[0]
    if op in ("relu", "pool", "flatten"):
        what = {"relu": "it applies max(0, x) to each value", "pool": "it only takes the maximum of each window",
                "flatten": "it only reshapes"}[op]
        return f"a {op} layer has no parameters — {what}"
    if op == "conv":
        _, f, k, _, _ = layer
        c = shape_in[0]
        variants = {f * c * k * k: "the biases are missing: every filter has one bias (+F)",
                    f * (k * k + 1): "each filter spans all C input channels: C·k·k weights, not k·k"}
        out_positions = _size(shape_in[1], k, layer[3], layer[4]) * _size(shape_in[2], k, layer[3], layer[4])
        variants[expected * out_positions] = ("the same filter is used at every output position (weight "
                                              "sharing): the count does not depend on the image size")
    elif op == "dense":
        units, d = layer[1], shape_in[0] if len(shape_in) == 1 else int(np.prod(shape_in))
        variants = {d * units: "the biases are missing: every unit has one bias (+units)",
                    d * units + d: "there is one bias per output unit, not per input"}
    else:
        variants = {}
    return variants.get(got) if got != expected else None


def _layer_shapes_judge(case: Case, got: Any) -> str | None:
    spec, input_shape = case.args
    expected = case.expected
    if not isinstance(got, list) or len(got) != len(spec):
        n = len(got) if isinstance(got, list) else "no"
        return f"got {n} (shape, parameters) pairs for a spec of {len(spec)} layers: one pair per layer"
    shape_in = tuple(input_shape)
    for i, (layer, (shape, params), (e_shape, e_params)) in enumerate(zip(spec, got, expected)):
        where = f"layer {i} {_describe_layer(layer)}, input {shape_in}"
        if tuple(shape) != tuple(e_shape):
            hint = _layer_shape_hint(layer, shape_in, tuple(shape), tuple(e_shape))
            return f"{where}: output shape {tuple(shape)}, expected {tuple(e_shape)}" + (f" — {hint}" if hint else "")
        if params != e_params:
            hint = _layer_params_hint(layer, shape_in, params, e_params)
            return f"{where}: {params} parameters, expected {e_params}" + (f" — {hint}" if hint else "")
        shape_in = tuple(e_shape)
    return None


define(name="layer_shapes",
       description="each layer's output shape (C, H, W) or (D,) and parameter count, for any conv/relu/pool/"
                   "flatten/dense spec",
       cases=_layer_shapes_cases, reference=_layer_shapes_ref, run=_layer_shapes_run, judge=_layer_shapes_judge)


# --------------------------------------------------------------------------------------
# cnn_loss: the student's own CNN, conv → ReLU → max-pool → flatten → dense → softmax
# cross-entropy, forward and backward, every intermediate gradient
# --------------------------------------------------------------------------------------

# The gradients cnn_loss returns, in backward order, and the layer each one's step belongs to:
# the first wrong one names the layer to look at.
CNN_ORDER = ("scores", "W2", "b2", "p1", "a1", "z1", "W1", "b1")
CNN_STEP = {"scores": "the softmax cross-entropy (loss from scores)",
            "W2": "the dense layer (scores = flat @ W2 + b2)", "b2": "the dense layer (scores = flat @ W2 + b2)",
            "p1": "the dense layer and the flatten (flat = p1.reshape(N, -1))",
            "a1": "the max-pooling layer (p1 = maxpool(a1, 2, 2), your maxpool_backward)",
            "z1": "the ReLU (a1 = max(0, z1))",
            "W1": "the convolution (z1 = conv(X, W1, b1), stride 1, padding 1, your conv2d_backward)",
            "b1": "the convolution (z1 = conv(X, W1, b1), stride 1, padding 1, your conv2d_backward)"}


@grader_side
def _cnn_loss_ref(params: dict, X: np.ndarray, y: np.ndarray) -> dict:
    """{"scores", "loss", "grads": {name: array}} by the plain-loop references (grader side)."""
    n = len(y)
    z1 = _conv_ref(X, params["W1"], params["b1"], 1, 1)
    a1 = z1 * (z1 > 0)
    p1 = _maxpool_ref(a1, 2, 2)
    scores = p1.reshape(n, -1) @ params["W2"] + params["b2"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    probs = np.exp(log_probs)
    loss = float(-np.mean(log_probs[np.arange(n), y]))
    g = {"scores": (probs - np.eye(scores.shape[1])[y]) / n}
    g["W2"], g["b2"] = p1.reshape(n, -1).T @ g["scores"], g["scores"].sum(axis=0)
    g["p1"] = (g["scores"] @ params["W2"].T).reshape(p1.shape)
    g["a1"] = _maxpool_backward_ref(g["p1"], a1, 2, 2)
    g["z1"] = g["a1"] * (z1 > 0)
    _, g["W1"], g["b1"] = _conv_backward_ref(g["z1"], X, params["W1"], 1, 1)
    return {"scores": scores, "loss": loss, "grads": g}


@grader_side
def _cnn_loss_hypotheses(params: dict, X: np.ndarray, y: np.ndarray) -> dict:
    """{"a1 routed by z1": d_a1 with the pooling gradient routed by z1 instead of a1}: in a window the
    ReLU made all zeros the two pick different positions, but the ReLU's mask then zeroes both —
    an equally valid d_a1, not a mistake."""
    z1 = _conv_ref(X, params["W1"], params["b1"], 1, 1)
    d_p1 = _cnn_loss_ref(params, X, y)["grads"]["p1"]
    return {"a1 routed by z1": _maxpool_backward_ref(d_p1, z1, 2, 2)}


def _cnn_loss_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, c, h, w, f, k in [(4, 1, 6, 6, 3, 4), (3, 2, 6, 8, 2, 3)]:
        params = {"W1": rng.standard_normal((f, c, 3, 3)) / 3, "b1": rng.standard_normal(f) * 0.1,
                  "W2": rng.standard_normal((f * (h // 2) * (w // 2), k)) / 3, "b2": rng.standard_normal(k) * 0.1}
        X, y = rng.standard_normal((n, c, h, w)), rng.integers(0, k, n)
        cases.append(Case(args=(params, X, y), batch=n,
                          label=f"X {X.shape}, {f} filters 3×3, {k} classes"))
    # One bright image whose class-0 score is in the thousands and one blank image whose scores are
    # just b2: exp() of an unshifted score, or of a score shifted by the row's minimum, overflows, and
    # shifting by the maximum of the whole batch underflows the blank row to 0/0. Only the per-row
    # maximum shift is exact here.
    f, k = 2, 3
    W2 = -np.abs(rng.standard_normal((f * 2 * 2, k))) * 20
    W2[:, 0] *= -1
    params = {"W1": np.abs(rng.standard_normal((f, 1, 3, 3))), "b1": np.full(f, -0.1), "W2": W2,
              "b2": rng.standard_normal(k)}
    X = np.stack([np.abs(rng.standard_normal((1, 4, 4))) * 3, np.zeros((1, 4, 4))])
    y = np.array([0, int(rng.integers(0, k))])
    cases.append(Case(args=(params, X, y), batch=2, label="a bright and a blank image, scores in the thousands "
                                                          "(a softmax that is exact only when each row is "
                                                          "shifted by its own maximum)"))
    return cases


def _cnn_loss_run(fn: Callable, args: tuple) -> Any:
    params, X, y = args
    mine = {k: np.array(v, copy=True) for k, v in params.items()}
    scores = fn(mine, X.copy())
    if not isinstance(scores, np.ndarray) or scores.shape != (len(y), params["b2"].size):
        return {"problem": f"cnn_loss(params, X) without labels returned {type(scores).__name__} of shape "
                           f"{np.shape(scores)}: expected the scores, an array ({len(y)}, {params['b2'].size})"}
    out = fn(mine, X.copy(), y.copy())
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], dict)):
        return {"problem": f"cnn_loss returned {type(out).__name__}: expected (loss, grads), grads a dict "
                           f"with the keys {list(CNN_ORDER)}"}
    loss, grads = out
    if any(not np.array_equal(mine[k], params[k]) for k in params):
        return {"problem": "cnn_loss changed the params it was given: compute the gradients, leave the "
                           "update to the training loop"}
    try:
        loss = float(loss)
    except (TypeError, ValueError):
        return {"problem": f"the loss is a {type(loss).__name__} of shape {np.shape(loss)}: it must be one number, "
                           "the mean over the batch"}
    return {"scores": scores, "loss": loss, "grads": {str(k): np.asarray(v) for k, v in grads.items()}}


def _cnn_loss_judge(case: Case, got: dict) -> str | None:
    params, X, y = case.args
    n, expected = len(y), case.expected
    problem = compare_array("the scores cnn_loss(params, X) returns", got["scores"], expected["scores"],
                            rtol=1e-6, atol=1e-9, batch=n)
    if problem:
        return f"{problem} (the forward pass: conv → ReLU → max-pool → flatten → dense)"
    loss, e_loss = got["loss"], expected["loss"]
    if not np.isclose(loss, e_loss, rtol=1e-6, atol=1e-9):
        if np.isclose(loss, n * e_loss, rtol=1e-6):
            return f"the loss is {loss:.6g}, expected {e_loss:.6g}: it is the sum over the {n} images; the loss is their mean"
        if loss < 0:
            return f"the loss is negative ({loss:.6g}) although a cross-entropy is ≥ 0; expected {e_loss:.6g}"
        return f"the loss is {loss:.6g}, expected {e_loss:.6g}; the scores are right, so look at the softmax cross-entropy"
    grads = got["grads"]
    missing = [k for k in CNN_ORDER if k not in grads]
    if missing:
        return f"grads has no {', '.join(repr(k) for k in missing)}; expected one gradient per name: {list(CNN_ORDER)}"
    for i, key in enumerate(CNN_ORDER):
        g, e = grads[key], expected["grads"][key]
        if key == "a1" and np.shape(g) == e.shape and same_values(g, case.hypotheses["a1 routed by z1"]):
            continue  # routed by z1: the same subgradient once the ReLU has zeroed the dead windows
        problem = compare_array(f"grads[{key!r}]", g, e, rtol=1e-6, atol=1e-9, batch=n)
        if problem is None:
            continue
        known = None
        if key == "scores" and same_values(g, e * n):
            known = "it is N times too large: the loss is a mean over the batch, so its gradient carries 1/N"
        elif key == "p1" and np.shape(g) == (n, e[0].size):
            known = f"it is still flat: reshape it back to p1's shape {e.shape} before the pooling's backward pass"
        elif key == "z1" and same_values(g, grads["a1"]):
            known = "it equals d_a1: the ReLU passes the gradient only where z1 > 0"
        elif key == "z1" and same_values(g, grads["a1"] * (np.asarray(grads["a1"]) > 0)):
            known = ("it is max(0, d_a1): the ReLU's backward pass keeps the gradient where its *input* z1 > 0, "
                     "whatever the gradient's sign")
        elif key in ("W1", "b1") and same_values(g, e * n):
            known = "it is N times too large: d_z1 already carries the 1/N of the mean loss"
        above = (f" (d_{CNN_ORDER[i - 1]} and everything above it are right)" if i else "")
        return f"{problem}{' — ' + known if known else ''}. The first wrong layer is {CNN_STEP[key]}{above}"
    return None


define(name="cnn_loss",
       description="your CNN's loss and the gradient of every intermediate and parameter (conv → ReLU → "
                   "max-pool → dense → softmax cross-entropy), each matching the reference",
       cases=_cnn_loss_cases, reference=_cnn_loss_ref, hypotheses=_cnn_loss_hypotheses, run=_cnn_loss_run,
       judge=_cnn_loss_judge)


# --------------------------------------------------------------------------------------
# train_my_cnn: the student's CNN, trained by their own cnn_loss, judged on held-out digits
# --------------------------------------------------------------------------------------

MY_CNN_MIN_ACCURACY = 0.87
MY_CNN_CHECK = dict(n_train=3000, n_held_out=1000)


def _my_cnn_cases(rng: np.random.Generator) -> list[Case]:
    from ..data import load_mnist  # noqa: PLC0415 — the MNIST parse is cached; import only when needed

    X, y = load_mnist("train", flatten=False)
    picked = rng.choice(len(X), MY_CNN_CHECK["n_train"] + MY_CNN_CHECK["n_held_out"], replace=False)
    tr, held = picked[:MY_CNN_CHECK["n_train"]], picked[MY_CNN_CHECK["n_train"]:]
    as_u8 = lambda a: np.round(a * 255).astype(np.uint8)  # noqa: E731 — 4× smaller to send
    return [Case(args=(as_u8(X[tr]), y[tr], as_u8(X[held]), int(rng.integers(2**31))), secret={"y_test": y[held]},
                 label=f"{MY_CNN_CHECK['n_train']} training digits, {MY_CNN_CHECK['n_held_out']} held-out digits")]


def _my_cnn_run(fn: Callable, args: tuple) -> Any:
    from .. import nn  # noqa: PLC0415

    X8, y, held8, seed = args
    X, held = X8.astype(np.float32) / 255, held8.astype(np.float32) / 255
    params = fn(X, y, seed=seed)
    if not isinstance(params, dict) or not {"W1", "b1", "W2", "b2"} <= set(params):
        return {"problem": f"train_my_cnn returned {type(params).__name__}: expected the trained params, a dict "
                           "with 'W1', 'b1', 'W2' and 'b2'"}
    W1, W2 = np.asarray(params["W1"]), np.asarray(params["W2"])
    if W1.ndim != 4 or W1.shape[1:] != (1, 3, 3) or W2.shape != (W1.shape[0] * 14 * 14, 10):
        return {"problem": f"params['W1'] has shape {W1.shape} and params['W2'] {W2.shape}: expected (F, 1, 3, 3) "
                           f"and (F·14·14, 10) for the chapter's CNN on 28×28 digits"}
    if not all(np.all(np.isfinite(np.asarray(params[k], dtype=np.float64))) for k in ("W1", "b1", "W2", "b2")):
        return {"problem": "the trained params hold NaN/inf — the training diverged (learning rate too high?)"}
    model = nn.Sequential([nn.Conv2D(1, W1.shape[0], kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2D(2),
                           nn.Flatten(), nn.Dense(W2.shape[0], 10)])
    for layer, (w, b) in ((model[0], ("W1", "b1")), (model[4], ("W2", "b2"))):
        layer.params["W"][...], layer.params["b"][...] = params[w], params[b]
    with np.errstate(all="ignore"):  # huge but finite weights: report the outcome, not a warning
        scores = model.predict(held.astype(np.float64), batch_size=500)
    if not np.all(np.isfinite(scores)):
        return {"problem": "the trained CNN outputs NaN/inf — the training diverged (learning rate too high?)"}
    return {"pred": scores.argmax(axis=1)}


def _my_cnn_judge(case: Case, output: Any) -> str | None:
    acc, problem = held_out_accuracy(output, case.secret["y_test"], "digits")
    if problem:
        return problem
    if acc < MY_CNN_MIN_ACCURACY:
        return (f"held-out accuracy {acc:.1%} is below {MY_CNN_MIN_ACCURACY:.0%} after training on "
                f"{MY_CNN_CHECK['n_train']} digits — is the training loss going down? (learning rate, "
                "initial weight scale, labels matching their images)")
    return None


define(name="train_my_cnn",
       description=f"your CNN, trained by your cnn_loss on {MY_CNN_CHECK['n_train']} MNIST digits, classifies "
                   f"held-out digits with ≥ {MY_CNN_MIN_ACCURACY:.0%} accuracy",
       cases=_my_cnn_cases, run=_my_cnn_run, judge=_my_cnn_judge)
