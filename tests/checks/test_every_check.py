"""Every registered check, generically: the solution passes on seeds 0–2 (seed 0 is the public
one, 1 and 2 stand for the grader's hidden ones), the released stub says "not implemented".

The per-chapter files next to this one hold only each check's catalogue of realistic mistakes.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from grading import config
from mlcourse.checks import Check, Status, all_checks, evaluate
from tests.support import assert_same_in_stored_mode, load_solution_functions, load_student_functions

SEEDS = (0, 1, 2)
CHECKS = sorted(all_checks().values(), key=lambda c: (c.chapter, c.name))


def _seeds(chk: Check) -> tuple[int, ...]:
    """Seeds 0–2, or only the public seed where the grader runs no hidden case (slow training,
    timings: ``hidden_seeds = []`` in grading/exercises.toml)."""
    graded = [e for e in config.load().exercises if e.check == chk.name]
    return (0,) if graded and all(e.hidden_seeds == () for e in graded) else SEEDS


@pytest.mark.parametrize("chk", CHECKS, ids=lambda c: f"{c.chapter}-{c.name}")
def test_solution_passes(chk: Check) -> None:
    solution = load_solution_functions(chk.chapter)[chk.function]
    for seed in _seeds(chk):
        result = evaluate(chk, solution, seed=seed)
        assert result.passed, f"seed {seed}: {result.message}"
        if seed == 0:  # the student edition (stored cases, no grader-side code) says the same
            assert_same_in_stored_mode(chk.name, solution, result)
        # a question explains its answer instead of the generic verdict (Check.passed_message)
        assert ("public checks passed" in result.message) != bool(chk.passed_message), result.message


@pytest.mark.parametrize("chk", CHECKS, ids=lambda c: f"{c.chapter}-{c.name}")
def test_released_stub_is_not_implemented(chk: Check) -> None:
    result = evaluate(chk, load_student_functions(chk.chapter)[chk.function])
    assert result.status is Status.NOT_IMPLEMENTED, result.message
    assert_same_in_stored_mode(chk.name, load_student_functions(chk.chapter)[chk.function], result)
    assert "not implemented yet" in result.message and not result.passed


def test_every_chapter_with_checks_has_its_catalogue_of_mistakes() -> None:
    here = Path(__file__).parent
    for chapter in sorted({c.chapter for c in CHECKS}):
        assert (here / f"test_ch{chapter}.py").exists(), f"chapter {chapter}: no tests/checks/test_ch{chapter}.py"
