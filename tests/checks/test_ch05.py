"""Chapter 05 checks: realistic wrong versions fail with a named symptom."""
from __future__ import annotations

import functools
import numpy as np
import pytest

from mlcourse.checks import get_check
from mlcourse.nn import CrossEntropyLoss
from tests.support import fails_with, load_solution_functions, passes

SOL = load_solution_functions("05")


fails = functools.partial(fails_with, status="fail")  # a wrong answer, not a crash


# --- schedules ------------------------------------------------------------------------------

def test_step_decay_wrong_versions():
    assert "integer division" in fails("step_decay", lambda lr0, e, drop=0.5, every=10: lr0 * drop ** (e / every))
    assert "drops one epoch early" in fails(
        "step_decay", lambda lr0, e, drop=0.5, every=10: lr0 * drop ** ((e + 1) // every))
    assert "subtracts" in fails("step_decay", lambda lr0, e, drop=0.5, every=10: lr0 - drop * (e // every))


def test_exponential_decay_wrong_versions():
    assert "kept" in fails("exponential_decay", lambda lr0, e, rate=0.96: lr0 * (1 - rate) ** e)
    assert "one epoch ahead" in fails("exponential_decay", lambda lr0, e, rate=0.96: lr0 * rate ** (e + 1))
    assert "e^(−rate·epoch)" in fails("exponential_decay", lambda lr0, e, rate=0.96: lr0 * np.exp(-rate * e))
    assert "single number" in fails("exponential_decay", lambda lr0, e, rate=0.96: lr0 * rate ** np.arange(e + 1))


def test_inverse_time_decay_wrong_versions():
    assert "brackets" in fails("inverse_time_decay", lambda lr0, e, decay=0.1: lr0 / 1 + decay * e)
    assert "exponential decay" in fails("inverse_time_decay", lambda lr0, e, decay=0.1: lr0 / (1 + decay) ** e)
    assert "forget `return`" in fails("inverse_time_decay", lambda lr0, e, decay=0.1: None)


# --- accuracy and confusion matrix ------------------------------------------------------------

def test_accuracy_wrong_versions():
    assert "sum where a mean" in fails("accuracy", lambda t, p: float(np.sum(t == p)))
    assert "percentage" in fails("accuracy", lambda t, p: 100 * float(np.mean(t == p)))
    assert "error rate" in fails("accuracy", lambda t, p: float(np.mean(t != p)))
    assert "one value per sample" in fails("accuracy", lambda t, p: t == p)


def _cm(t, p, k):
    m = np.zeros((k, k), dtype=int)
    np.add.at(m, (t, p), 1)
    return m


def test_confusion_matrix_wrong_versions():
    assert "swapped" in fails("confusion_matrix", lambda t, p, k: _cm(p, t, k))
    assert "use num_classes" in fails("confusion_matrix",
                                      lambda t, p, k: _cm(t, p, int(max(t.max(), p.max())) + 1))
    assert "normalised per row" in fails(
        "confusion_matrix", lambda t, p, k: _cm(t, p, k) / np.maximum(_cm(t, p, k).sum(1, keepdims=True), 1))

    def fancy_index(t, p, k):  # M[t, p] += 1 drops repeated pairs: only records whether a pair occurs
        m = np.zeros((k, k), dtype=int)
        m[t, p] += 1
        return m

    assert "whether" in fails("confusion_matrix", fancy_index)


# --- train_epoch ----------------------------------------------------------------------------

def make_train_epoch(kind: str):
    accuracy = SOL["accuracy"]

    def train_epoch(model, loss_fn, X, y, batch_size, lr, rng):
        n = len(X)
        if kind == "x_y_apart":
            X, y = X[rng.permutation(n)], y[rng.permutation(n)]
            order = np.arange(n)
        else:
            order = np.arange(n) if kind == "no_shuffle" else rng.permutation(n)
        stop = n - n % batch_size if kind == "drop_last" else n
        total, correct, losses = 0.0, 0.0, []
        for start in range(0, stop, batch_size):
            idx = order[start:start + batch_size - (1 if kind == "short" else 0)]
            logits = model.forward(X[idx], training=True)
            loss = loss_fn.forward(logits, y[idx])
            losses.append(loss)
            model.backward(loss_fn.backward())
            for name in model.params:
                if kind == "rebind":
                    model.params[name] = model.params[name] - lr * model.grads[name]
                elif kind == "ascent":
                    model.params[name] += lr * model.grads[name]
                elif kind == "no_lr":
                    model.params[name] -= model.grads[name]
                else:
                    model.params[name] -= lr * model.grads[name]
            total += loss * len(idx)
            correct += (1.0 if kind == "sizes" else accuracy(y[idx], logits.argmax(axis=1))) * \
                (1 if kind == "unweighted_acc" else len(idx))
        if kind == "unweighted":
            return float(np.mean(losses)), correct / n
        if kind == "last_batch":
            return losses[-1], correct / n
        if kind == "percent":
            return total / n, 100 * correct / n
        if kind == "total":
            return total, correct / n
        if kind == "count":
            return total / n, correct
        return total / n, correct / n
    return train_epoch


@pytest.mark.parametrize("kind, words", [
    ("no_shuffle", "without shuffling"),
    ("x_y_apart", "two different orders"),
    ("drop_last", "last, smaller batch was skipped"),
    ("rebind", "weights did not change"),
    ("ascent", "up* the gradient"),
    ("unweighted", "weight each batch's loss by its size"),
    ("last_batch", "last batch only"),
    ("percent", "percentage"),
    # issue 14: these used to get only "differs at index (0,)"
    ("no_lr", "the update ignores lr"),
    ("short", "batches of batch_size − 1 samples"),
    ("total", "is Σ loss_b·len_b without dividing by N"),
    ("count", "is the number of right predictions, not the fraction"),
    ("unweighted_acc", "is Σ accuracy_b / N"),
    ("sizes", "adds the batch sizes, not the right predictions"),
])
def test_train_epoch_wrong_versions(kind, words):
    assert words in fails("train_epoch", make_train_epoch(kind))


def test_train_epoch_bad_return_is_named():
    def returns_loss_only(model, loss_fn, X, y, batch_size, lr, rng):
        SOL["train_epoch"](model, loss_fn, X, y, batch_size, lr, rng)
        return 0.5
    assert "expected 2" in fails("train_epoch", returns_loss_only)


# --- train, learning_curve ------------------------------------------------------------------

def make_train(kind: str):
    train_epoch, evaluate_ = SOL["train_epoch"], SOL["evaluate"]

    def train(model, X, y, epochs, batch_size, lr, seed=0, X_val=None, y_val=None, schedule=None):
        rng = np.random.default_rng(seed)
        loss_fn = CrossEntropyLoss()
        h = {"loss": [], "accuracy": [], "lr": [], "val_loss": [], "val_accuracy": []}
        for epoch in range(epochs):
            if kind == "rng_every_epoch":
                rng = np.random.default_rng(seed)
            if schedule is None or kind == "ignore_schedule":
                lr_e = lr
            else:
                lr_e = schedule(epoch + 1 if kind == "schedule_ahead" else epoch)
            if kind == "val_before" and X_val is not None:
                vl, va = evaluate_(model, loss_fn, X_val, y_val)
                h["val_loss"].append(vl)
                h["val_accuracy"].append(va)
            loss, acc = train_epoch(model, loss_fn, X, y, batch_size, lr_e, rng)
            h["loss"] += [loss, loss] if kind == "twice" else [loss]
            h["accuracy"].append(acc)
            h["lr"].append(lr_e)
            if X_val is not None and kind != "val_before":
                Xe, ye = (X, y) if kind == "val_on_train" else (X_val, y_val)
                vl, va = evaluate_(model, loss_fn, Xe, ye)
                h["val_loss"].append(vl)
                h["val_accuracy"].append(100 * va if kind == "val_percent" else va)
        if kind == "no_val_loss":
            del h["val_loss"]
        if kind == "history_only":
            return h
        return model, h
    return train


@pytest.mark.parametrize("kind, words", [
    ("rng_every_epoch", "same order every epoch"),
    ("ignore_schedule", "learning rate never changed"),
    ("schedule_ahead", "one epoch ahead"),
    ("twice", "one per epoch"),
    ("history_only", "expected 2: (model, history)"),
])
def test_train_wrong_versions(kind, words):
    assert words in fails("train", make_train(kind))


@pytest.mark.parametrize("kind, words", [
    ("val_before", "*before* each epoch's updates"),
    ("val_on_train", "*training* data"),
    ("val_percent", "percentage"),
    ("no_val_loss", "no 'val_loss'"),
])
def test_learning_curve_wrong_versions(kind, words):
    assert words in fails("learning_curve", make_train(kind))


def test_iris_80_fails_when_nothing_is_learned():
    def no_training(model, X, y, epochs, batch_size, lr, seed=0, X_val=None, y_val=None, schedule=None):
        return model, {"loss": [], "accuracy": [], "lr": []}

    def ascent(model, X, y, epochs, batch_size, lr, seed=0, X_val=None, y_val=None, schedule=None):
        # gradient *ascent*: the loss grows and the predictions get worse than chance
        return SOL["train"](model, X, y, epochs, batch_size, -lr, seed)

    assert "below the required 80 %" in fails("iris_80", no_training)
    message = fails("iris_80", ascent)
    assert "below the required 80 %" in message or "diverged" in message


def test_iris_80_secret_labels_stay_out_of_args():
    chk = get_check("iris_80")
    for case in chk.make_cases(0):
        assert "y_test" in case.secret
        assert all(not (isinstance(a, np.ndarray) and a.shape == case.secret["y_test"].shape
                        and np.array_equal(a, case.secret["y_test"])) for a in case.args)


# --- your own layers: MyDense and MySequential ---------------------------------------------

def _dense_variant(forward=None, backward=None, params=None):
    base = SOL["MyDense"]

    class Variant(base):
        pass

    if forward:
        Variant.forward = forward
    if backward:
        Variant.backward = backward
    if params:
        Variant.params = property(params, lambda self, v: setattr(self, "_p", v))
    return Variant


def test_my_layers_pass():
    assert passes("my_dense", SOL["MyDense"])
    assert passes("my_sequential", SOL["MySequential"])


def test_my_dense_mistakes():
    def mean_grads(self, dout):
        self.grads["W"] = self.x.T @ dout / len(dout)
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T

    assert "mean where a sum is expected" in fails("my_dense", _dense_variant(backward=mean_grads))

    def no_dx(self, dout):
        self.grads["W"], self.grads["b"] = self.x.T @ dout, dout.sum(axis=0)

    assert "backward returned None" in fails("my_dense", _dense_variant(backward=no_dx))
    assert "store the parameter gradients" in fails(
        "my_dense", _dense_variant(backward=lambda self, dout: dout @ self.params["W"].T))

    class Copies(SOL["MyDense"]):
        def __init__(self, W, b):
            self.W, self.b, self.grads, self.x = W, b, {}, None

        @property
        def params(self):
            return {"W": self.W.copy(), "b": self.b.copy()}

    assert "own arrays (not copies)" in fails("my_dense", Copies)
    assert "forward(x) equals x @ W: the bias b is missing" in fails("my_dense", _dense_variant(
        forward=lambda self, x, training=False: (setattr(self, "x", x), x @ self.params["W"])[1]))


def _sequential_variant(**methods):
    return type("Variant", (SOL["MySequential"],), methods)


def test_my_sequential_mistakes():
    flat = _sequential_variant(params=property(lambda self: {k: v for l in self.layers for k, v in l.params.items()}))
    assert "collide" in fails("my_sequential", flat)

    def same_order(self, dout):
        for layer in self.layers:
            dout = layer.backward(dout)
        return dout

    assert "backward raised ValueError" in fails("my_sequential", _sequential_variant(backward=same_order))
    first_only = _sequential_variant(forward=lambda self, x, training=False: self.layers[0].forward(x, training))
    assert "stops after the first layer" in fails("my_sequential", first_only)
    copies = _sequential_variant(params=property(lambda self: {f"{i}.{k}": v.copy() for i, l in enumerate(self.layers)
                                                               for k, v in l.params.items()}))
    assert "params holds copies" in fails("my_sequential", copies)
    no_dx = _sequential_variant(backward=lambda self, dout: [dout := l.backward(dout) for l in reversed(self.layers)]
                                and None)
    assert "backward returned None" in fails("my_sequential", no_dx)


# --- issue 14: schedules, confusion matrix and MyDense slips that used to get only "differs" --

def test_schedule_that_never_decays_or_ignores_decay_is_named():
    assert "never decays" in fails("step_decay", lambda lr0, epoch, drop, every: lr0)
    assert "never decays" in fails("exponential_decay", lambda lr0, epoch, rate: lr0)
    assert "ignores decay" in fails("inverse_time_decay", lambda lr0, epoch, decay: lr0 / (1 + epoch))


def test_confusion_matrix_that_miscounts_is_named():
    def counts(add):
        def confusion_matrix(y_true, y_pred, k):
            m = np.zeros((k, k), dtype=int)
            for t, p in zip(y_true[:add], y_pred[:add]):
                m[t, p] += 1
            return m
        return confusion_matrix

    assert "sum to 29, but there are 30 samples" in fails("confusion_matrix", counts(-1))
    assert "counts every sample twice" in fails("confusion_matrix", lambda t, p, k: 2 * _cm(t, p, k))


def test_my_dense_bias_slips_are_named():
    def axis1(self, dout):
        self.grads["W"], self.grads["b"] = self.x.T @ dout, dout.sum(axis=1)
        return dout @ self.params["W"].T

    assert "sums dout over the units (axis=1)" in fails("my_dense", _dense_variant(backward=axis1))
