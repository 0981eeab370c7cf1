"""Questions with checked answers (mlcourse/checks/questions.py): every question in every chapter.

For each question: the solution notebook's answer passes; every answer in its catalogue of
realistic wrong ones fails, naming that mistake *and* explaining the right answer; answers of
the wrong kind are told so; the released stub is "not implemented"; the grader knows it.
"""
from __future__ import annotations

import pytest

from grading import config
from mlcourse.checks import all_checks, evaluate, get_check
from mlcourse.checks.questions import QUESTIONS, choice, number
from tests.support import fails_with, load_solution_functions, load_student_functions, passes

all_checks()  # registers every chapter's questions
NAMES = sorted(QUESTIONS)


def _chapter(name: str) -> str:
    return get_check(name).chapter


def test_every_chapter_asks_at_least_two_questions():
    per_chapter = {f"{n:02d}": 0 for n in range(1, 14)}
    for name in NAMES:
        per_chapter[_chapter(name)] = per_chapter.get(_chapter(name), 0) + 1
    assert all(count >= 2 for count in per_chapter.values()), per_chapter


@pytest.mark.parametrize("name", NAMES)
def test_the_solutions_answer_passes_and_explains(name):
    message = passes(name, load_solution_functions(_chapter(name))[name])
    assert "right — " in message and QUESTIONS[name].explain in message


@pytest.mark.parametrize("name", NAMES)
def test_every_catalogued_wrong_answer_fails_naming_its_mistake(name):
    q = QUESTIONS[name]
    assert len(q.wrong) >= 3, f"{name}: a catalogue of at least three realistic wrong answers"
    for answer, why in q.wrong.items():
        message = fails_with(name, lambda a=answer: a, why, q.explain)
        assert message.index(why) < message.index(q.explain), "the mistake first, then the right answer"
    if q.kind == "choice":  # letters are read leniently: "B", "(b)", " b "
        passes(name, lambda: f"({q.answer.upper()}) ")


@pytest.mark.parametrize("name", NAMES)
def test_answers_of_the_wrong_kind_are_named(name):
    q = QUESTIONS[name]
    assert "write `return`" in fails_with(name, lambda: None)
    assert "expected a letter" in fails_with(name, lambda: [1, 2])
    if q.kind == "choice":
        assert "wants one of the letters" in fails_with(name, lambda: 2)
        assert "expected one of the letters" in fails_with(name, lambda: "z")
    else:
        assert "wants a number" in fails_with(name, lambda: "b")
        assert "expected a finite number" in fails_with(name, lambda: float("nan"))
        assert "is not it. The answer is" in fails_with(name, lambda: q.answer * 7.77 + 1.23)


@pytest.mark.parametrize("name", NAMES)
def test_the_released_stub_is_not_implemented(name):
    fn = load_student_functions(_chapter(name))[name]
    assert evaluate(get_check(name), fn).status == "not_implemented"


def test_every_question_is_graded_lightly_in_an_item_of_its_own():
    rubric = config.load()
    item = rubric.item("predictions")
    assert item.category == "extra" and item.partial
    graded = {e.check: e for e in rubric.exercises if e.rubric == "predictions"}
    assert sorted(graded) == NAMES
    for name, e in graded.items():
        assert e.function == name and e.points == 0.25 and e.hidden_seeds == ()
    assert item.points == pytest.approx(sum(e.points for e in graded.values()))


def test_a_numeric_answer_is_judged_within_its_tolerance():
    q = QUESTIONS["answer_initial_loss"]
    passes("answer_initial_loss", lambda: 2.3)  # ln 10 = 2.3026: rounding is fine
    assert q.explain in fails_with("answer_initial_loss", lambda: 2.0)


def test_a_catalogue_that_cannot_be_told_apart_is_refused():
    with pytest.raises(ValueError, match="within tolerance"):
        number("q_bad", answer=1.0, explain="", wrong={1.02: "too close"}, chapter="99")
    with pytest.raises(ValueError, match="letters a, b"):
        choice("q_bad2", answer="a", explain="", wrong={"c": "a gap at b"}, chapter="99")
