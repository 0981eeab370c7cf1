"""The verified relations of mlcourse.checks.relations, as compare_array says them.

Each relation has a wrong output that triggers it and a near miss that must not: a relation is
said only when it explains every element.
"""
from __future__ import annotations

import numpy as np
import pytest

from mlcourse.checks import compare_array

E = np.arange(1.0, 13.0).reshape(3, 4)   # expected: (3, 4), all nonzero, no ties
SQ = np.arange(1.0, 10.0).reshape(3, 3) ** 1.5
RNG = np.random.default_rng(0)


def _noise(shape, scale=0.3):
    return np.random.default_rng(1).uniform(0.5, 1.5, shape) * scale


def _generic(msg: str) -> bool:
    return "max relative error" in msg


@pytest.mark.parametrize("got, expected, batch, said, near_miss", [
    # one value everywhere (zero, or any constant)
    (np.zeros_like(E), E, None, "zero in every element", np.where(E == 7, 1e-3, 0.0)),
    (np.ones_like(E), E, None, "1 in every element, expected values from 1 to 12", np.where(E == 7, 2.0, 1.0)),
    # sign flipped
    (-E, E, None, "sign flipped", -E + np.eye(3, 4) * 0.1),
    # one factor for all elements; the batch size named
    (3 * E, E, None, "constant factor of 3 in every element", 3 * E + _noise(E.shape)),
    (3 * E, E, 3, "sum where a mean is expected", 3 * E * (1 + 1e-3 * np.arange(12).reshape(3, 4))),
    (E / 4, E, 4, "mean where a sum is expected", E / 4 + _noise(E.shape, 0.01)),
    # one offset for all elements
    (E + 0.5, E, None, "off by the same amount (0.5)", E + 0.5 + _noise(E.shape, 0.1)),
    # transposed (square: same shape)
    (SQ.T, SQ, None, "equals the expected g transposed", SQ.T + np.eye(3) * 0.2),
    # reversed / rows permuted / values at other positions
    (E[::-1], E, None, "reverse order along axis 0", E[::-1] + _noise(E.shape, 0.05)),
    (E[[1, 2, 0]], E, None, "expected rows, in another order", E[[1, 1, 0]]),
    (E.ravel()[[1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10]].reshape(3, 4)[[2, 0, 1]], E, None,
     "expected values, at the wrong positions", E.ravel()[::-1].reshape(3, 4) * 1.01),
    # clipped / saturating at a plateau
    (np.clip(E, None, 9.0), E, None, "stops at 9", np.where(E > 11, 9.0, E)),
    (np.clip(E - 6, 0, None), E - 6, None, "stops at 0", np.where(E - 6 < -4, 0.0, E - 6)),
    # zero where a nonzero value is expected
    (np.where(E % 5 == 0, 0.0, E), E, None, "is 0 at 2 of 12 positions", np.where(E % 5 == 0, 0.5, E)),
    # right except a slice
    (E + np.array([1.0, 0, 0, 0]), E, None, "only in column 0 of 4", E + np.array([1.0, 0.5, 0, 0]) * E),
    (E * np.array([[1.0], [2.0], [3.0]]), E, None, "in every row after the first",
     E * np.array([[1.1], [2.0], [3.0]])),
    (np.r_[1.0, 2.0, 30.0, 40.0, 50.0], np.r_[1.0, 2.0, 3.0, 4.0, 5.0], None, "in elements 2 to 4 (the first 2 are right)",
     np.r_[1.5, 2.0, 30.0, 40.0, 50.0]),
    (E + (E == 6), E, None, "only in one element", E + (E == 6) + (E == 1)),
])
def test_each_relation_is_said_only_when_it_explains_every_element(got, expected, batch, said, near_miss):
    msg = compare_array("g", got, expected, batch=batch)
    assert said in msg, msg
    miss = compare_array("g", near_miss, expected, batch=batch)
    assert miss is not None and said not in miss, miss


@pytest.mark.parametrize("got, expected, batch, said, near_miss", [
    (E.T, E, None, "equals the expected g transposed", E.T + 0.1 * (E.T == 1)),
    (E[None], E, None, "extra axis of length 1", E[None] * 1.1),
    (E[:, 0], E[:, :1], None, "an axis of length 1 is missing", E[:, 0] + 1),
    (E.reshape(4, 3), E, None, "values are right and in order (row by row)", E.reshape(4, 3)[::-1]),
    (E.T.reshape(2, 6), E, None, "arranged differently", E.T.reshape(2, 6) + 13),
    (E, E.sum(axis=0), 3, "summing yours over the batch axis (axis 0)", E * 1.2),
    (E, E.mean(axis=1), None, "averaging yours over axis 1", E + _noise(E.shape)),
    (np.float64(E.sum()), E, None, "it is the sum of the expected array", np.float64(E.sum() + 1)),
    (E, np.float64(E.mean()), None, "the mean of your array is the expected value", E * 1.5),
])
def test_shape_relations_are_verified_on_the_values(got, expected, batch, said, near_miss):
    msg = compare_array("g", got, expected, batch=batch)
    assert said in msg, msg
    miss = compare_array("g", near_miss, expected, batch=batch)
    assert "has shape" in miss and said not in miss, miss


def test_an_unexplained_shape_gets_no_guess():
    """No "did you forget to sum over the batch axis?" for values it does not hold (issue 14)."""
    msg = compare_array("db", np.ones((5, 4)), np.arange(4.0), batch=5)
    assert msg == "db has shape (5, 4), expected (4,)"


def test_an_unstructured_difference_stays_a_plain_first_mismatch():
    got = E + RNG.uniform(0.5, 1.0, E.shape)
    msg = compare_array("g", got, E)
    assert _generic(msg) and msg.startswith("g differs at index (0, 0)")


def test_a_relation_leaves_differs_in_the_message_for_the_judges():
    """Judges test their own hypotheses when the message contains "differs"; a slice or
    permutation relation keeps the word, so a judge's sharper diagnosis still comes first."""
    for got in (E[::-1], E + (E == 6), np.clip(E, None, 9.0)):
        assert "g differs" in compare_array("g", got, E)


def test_a_constant_output_is_not_called_clipped():
    msg = compare_array("std", np.ones(4), np.array([7.0, 476.4, 1.0, 0.0057]))
    assert "clipped" not in msg and "1 in every element" in msg


def test_a_slice_is_named_only_when_it_is_a_minority_or_a_prefix_or_suffix():
    e = np.arange(1.0, 9.0)
    assert "only in elements 3, 5 of 8" in compare_array("g", e + np.isin(np.arange(8), [3, 5]), e)
    assert "max relative error" in compare_array("g", e + np.isin(np.arange(8), [1, 3, 5, 6, 7]) * e, e)


def test_leftover_memory_is_named_and_not_called_clipped():
    got = np.full(E.shape, 6.9e-310)
    got[0, 0] = 1e-311
    msg = compare_array("cols", got, E, rtol=1e-6, atol=1e-9)
    assert "never written" in msg and "clipped" not in msg
    near_miss = got.copy()
    near_miss[0, 0] = 1e-3  # one real value: not leftover memory
    assert "never written" not in compare_array("cols", near_miss, E, rtol=1e-6, atol=1e-9)
