"""The checks against a corpus of student implementations (tests/corpus, modelled on public code).

No correct implementation may be rejected, no known bug accepted, and a convention the course
enforces on purpose must be named in the message. See tests/corpus/__init__.py for how the
entries were written and what each verdict means.
"""
from __future__ import annotations

import pytest

from mlcourse.checks import evaluate, get_check
from tests.corpus import load

ENTRIES = load()
HIDDEN_SEEDS = (0, 1, 2)  # the public seed and two more, as the grader adds hidden ones


def test_the_corpus_is_large_and_broad():
    assert len(ENTRIES) >= 150
    assert len({e.check for e in ENTRIES}) >= 12
    assert len({e.id for e in ENTRIES}) == len(ENTRIES), "two entries share a name"
    for verdict in ("correct", "buggy"):
        assert sum(e.verdict == verdict for e in ENTRIES) >= 40


@pytest.mark.parametrize("e", [e for e in ENTRIES if e.verdict == "correct"], ids=lambda e: e.id)
def test_correct_code_is_accepted(e):
    for seed in HIDDEN_SEEDS:
        result = evaluate(get_check(e.check), e.fn, seed=seed)
        assert result.passed, f"correct code (as in {e.seen}) rejected with seed {seed}: {result.message}"


@pytest.mark.parametrize("e", [e for e in ENTRIES if e.verdict != "correct"], ids=lambda e: e.id)
def test_known_bugs_and_broken_conventions_are_rejected_with_the_cause(e):
    result = evaluate(get_check(e.check), e.fn)
    assert not result.passed, f"{e.verdict} code (as in {e.seen}: {e.note}) passed the check"
    for word in e.says:
        assert word in result.message, f"{word!r} not in: {result.message}"
