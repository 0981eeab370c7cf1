"""Chapter 05 checks: realistic wrong versions fail with a named symptom."""
from __future__ import annotations

import functools
import numpy as np
import pytest

from mlcourse.checks import get_check
from mlcourse.nn import CrossEntropyLoss
from tests.support import fails_with, load_solution_functions

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
            idx = order[start:start + batch_size]
            logits = model.forward(X[idx], training=True)
            loss = loss_fn.forward(logits, y[idx])
            losses.append(loss)
            model.backward(loss_fn.backward())
            for name in model.params:
                if kind == "rebind":
                    model.params[name] = model.params[name] - lr * model.grads[name]
                elif kind == "ascent":
                    model.params[name] += lr * model.grads[name]
                else:
                    model.params[name] -= lr * model.grads[name]
            total += loss * len(idx)
            correct += accuracy(y[idx], logits.argmax(axis=1)) * len(idx)
        if kind == "unweighted":
            return float(np.mean(losses)), correct / n
        if kind == "last_batch":
            return losses[-1], correct / n
        if kind == "percent":
            return total / n, 100 * correct / n
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
