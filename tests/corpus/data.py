"""One-hot encoding and accuracy as students write them (see the package docstring)."""
import numpy as np

from . import entry

ARNAV = "arnavg115/agml:snn/utils.py"
AKASH = "Akash-nath29/MLP_Network_from_scratch:functions/functions.py"
YIHZHU = "yihzhuuu/-AI_FRAMEWORK-PROJECT:A2-CNN/utils.py"


@entry("one_hot", "correct", AKASH, note="np.eye(num_classes)[y]")
def one_hot_eye(y, num_classes):
    return np.eye(num_classes)[y]


@entry("one_hot", "correct", ARNAV, note="zeros, then fancy indexing with arange")
def one_hot_fancy(y, num_classes):
    out = np.zeros((len(y), num_classes))
    out[np.arange(len(y)), y] = 1
    return out


@entry("one_hot", "buggy", ARNAV, says=("",), note="num_classes = y.max() + 1 instead of the argument")
def one_hot_from_max(y, num_classes):
    out = np.zeros((y.size, y.max() + 1))
    out[np.arange(y.size), y] = 1
    return out


@entry("one_hot", "buggy", ARNAV, says=("transpose",), note="returns one_hot.T (classes × samples)")
def one_hot_transposed(y, num_classes):
    out = np.zeros((y.size, num_classes))
    out[np.arange(y.size), y] = 1
    return out.T


@entry("one_hot", "correct", YIHZHU, note="a loop over the samples")
def one_hot_loop(y, num_classes):
    out = np.zeros((y.shape[0], num_classes))
    for i in range(y.shape[0]):
        out[i][int(y[i])] = 1
    return out


@entry("one_hot", "buggy", AKASH, says=("",), note="out[:, y] = 1 sets whole columns")
def one_hot_columns(y, num_classes):
    out = np.zeros((len(y), num_classes))
    out[:, y] = 1
    return out


# --- accuracy --------------------------------------------------------------------------------------

@entry("accuracy", "correct", YIHZHU, note="np.mean(y_pred == y_true), as float")
def accuracy_mean(y_true, y_pred):
    return float(np.mean(np.asarray(y_pred) == np.asarray(y_true)))


@entry("accuracy", "correct", ARNAV, note="sum of matches / N")
def accuracy_sum(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.sum(y_pred == y_true) / y_true.size)


@entry("accuracy", "buggy", AKASH, says=("",), note="argmax of labels that are already integers")
def accuracy_argmax_labels(y_true, y_pred):
    return float(np.mean(np.argmax(np.atleast_2d(y_true), axis=1) == np.argmax(np.atleast_2d(y_pred), axis=1)))


@entry("accuracy", "buggy", ARNAV, says=("",), note="count of matches, not divided by N")
def accuracy_count(y_true, y_pred):
    return float(np.sum(np.asarray(y_true) == np.asarray(y_pred)))
