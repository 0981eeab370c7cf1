"""Inline feedback for the exercises: ``check("dense_forward", dense_forward)``.

Each chapter's checks live in ``chNN.py`` next to this file and are registered with
:func:`define`; the notebook and the autograder use the same definitions and the same
evaluation (:func:`run_check`). How to add a check: README.md next to this file.
"""
from .compare import compare_array, compare_outputs
from .cell import check
from .core import (Call, Case, Check, Result, Status, all_checks, attempt, define, describe_exception, evaluate,
                   get_check, run_check)

__all__ = ["Call", "Case", "Check", "Result", "Status", "all_checks", "attempt", "check", "compare_array",
           "compare_outputs", "define", "describe_exception", "evaluate", "get_check", "run_check"]

from .. import friendly as _friendly

_friendly.install()  # one-line "finish `f` (section n) first" messages in a notebook's kernel
