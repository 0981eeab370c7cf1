"""Inline feedback for the exercises: ``check("dense_forward", dense_forward)``.

Each chapter's checks live in ``chNN.py`` next to this file and are registered with
:func:`define`; the notebook and the autograder use the same definitions.
"""
from .compare import compare_array, compare_outputs
from .core import Case, Check, Result, all_checks, check, define, describe_exception, evaluate, get_check

__all__ = ["Case", "Check", "Result", "all_checks", "check", "compare_array", "compare_outputs",
           "define", "describe_exception", "evaluate", "get_check"]

from .. import friendly as _friendly

_friendly.install()  # one-line "finish `f` (section n) first" messages in a notebook's kernel
