"""Questions with checked answers: a prediction the student commits to before an experiment.

The notebook asks the question in its markdown and gives the student a function to fill in
with their prediction, before the cell that runs the experiment::

    def answer_initial_loss():
        # YOUR CODE HERE          (the student writes e.g.  return 2.3  or  return "b")
        raise NotImplementedError()

    check("answer_initial_loss", answer_initial_loss)

A question is an ordinary check (one case, no arguments), so the notebook, the grader and
the released edition treat it like every other exercise: a stub is "not implemented", the
grader calls the function in the student's process and judges the returned value here.
After a wrong answer the verdict names the misconception when the answer is a known wrong
one (the catalogue ``wrong``), then explains the right answer; after a right one it explains
it too, so the student learns why, not only that.

Two kinds:

* :func:`choice` — the student returns a letter ``"a"``, ``"b"``, …; every wrong option has
  its own explanation.
* :func:`number` — the student returns a number; right within a relative tolerance; known
  wrong numbers (each with the mistake that produces it) are recognised within the same
  tolerance.
"""
from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable

from .core import Case, Check, define

_LETTERS = "abcdefgh"


@dataclass(frozen=True)
class Question:
    """What the judge needs: the right answer, its explanation and the catalogue of wrong ones.

    ``wrong`` maps a wrong letter (choice) or a wrong number (number) to the sentence that
    names the mistake behind it.
    """

    kind: str  # "choice" | "number"
    answer: Any
    explain: str
    wrong: dict
    options: tuple[str, ...] = ()
    rtol: float = 0.05
    atol: float = 1e-12


QUESTIONS: dict[str, Question] = {}


def _run(fn: Callable, args: tuple) -> Any:
    """Call the student's answer function (in their process) and return plain data."""
    value = fn()
    if value is None:
        return {"problem": "returned None — write `return` and your answer"}
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return {"problem": f"returned {value}; expected a letter or a number"}
    try:
        return float(value)
    except (TypeError, ValueError):
        return {"problem": f"returned a {type(value).__name__}; expected a letter (a string) or a number"}


def _letter(got: Any) -> str | None:
    if not isinstance(got, str):
        return None
    text = got.strip().lower().strip("().[] ")
    return text if len(text) == 1 else None


def _judge_choice(q: Question, got: Any) -> str | None:
    options = ", ".join(f'"{o}"' for o in q.options)
    if isinstance(got, float):
        return f"returned the number {got:g}; this question wants one of the letters {options}"
    letter = _letter(got)
    if letter is None or letter not in q.options:
        return f"returned {got!r}; expected one of the letters {options}"
    if letter == q.answer:
        return None
    return f"not ({letter}): {q.wrong[letter]} The answer is ({q.answer}): {q.explain}"


def _judge_number(q: Question, got: Any) -> str | None:
    if isinstance(got, str):
        return f"returned the text {got!r}; this question wants a number (e.g. return 0.5)"
    if not math.isfinite(got):
        return f"returned {got}; expected a finite number"
    if math.isclose(got, q.answer, rel_tol=q.rtol, abs_tol=q.atol):
        return None
    for value, why in q.wrong.items():
        if math.isclose(got, value, rel_tol=q.rtol, abs_tol=q.atol):
            return f"{got:.4g} is not it: {why} {_the_answer(q)}: {q.explain}"
    return f"{got:.4g} is not it. {_the_answer(q)}: {q.explain}"


def _the_answer(q: Question) -> str:
    return f"The answer is {q.answer:g}" if q.rtol < 1e-6 and q.answer == round(q.answer) \
        else f"The answer is about {q.answer:.3g}"


def _calling_chapter() -> str:
    """NN of the chNN.py module that called choice() or number() (two frames up)."""
    caller = sys._getframe(2).f_globals.get("__name__", "")
    found = re.search(r"(?:^|\.)ch(\d\d)$", caller)
    if not found:
        raise ValueError("a question outside a chNN.py module needs chapter=...")
    return found.group(1)


def _define(name: str, chapter: str, q: Question, description: str) -> Check:
    QUESTIONS[name] = q
    judge = _judge_choice if q.kind == "choice" else _judge_number
    return define(name=name, chapter=chapter, function=name, description=description,
                  cases=lambda rng: [Case(args=())], run=_run,
                  judge=lambda case, got: judge(q, got),  # {"problem": …} from _run is reported by assess
                  passed_message=f"right — {q.explain}")


def choice(name: str, answer: str, explain: str, wrong: dict[str, str], description: str = "your prediction",
           chapter: str | None = None) -> Check:
    """A multiple-choice question: options ``answer`` and the keys of ``wrong`` (letters a, b, …).

    ``explain`` says why ``answer`` is right; ``wrong[letter]`` names the mistake behind each
    wrong option. ``chapter`` defaults to NN of the calling ``chNN.py``. Returns the registered
    check (its name is also the notebook function's).
    """
    options = tuple(sorted({answer, *wrong}))
    if options != tuple(_LETTERS[:len(options)]):
        raise ValueError(f"question {name!r}: options must be the letters a, b, … without gaps; got {options}")
    return _define(name, chapter or _calling_chapter(), Question("choice", answer, explain, dict(wrong), options), description)


def number(name: str, answer: float, explain: str, wrong: dict[float, str], rtol: float = 0.05,
           atol: float = 1e-12, description: str = "your prediction", chapter: str | None = None) -> Check:
    """A numeric question: right within relative tolerance ``rtol`` (or absolute ``atol``) of ``answer``.

    ``wrong`` maps numbers a realistic mistake gives to the sentence naming that mistake; they
    must be further than ``rtol`` from the answer (and from each other) to be told apart.
    """
    for value in wrong:
        if math.isclose(value, answer, rel_tol=2 * rtol, abs_tol=2 * atol):
            raise ValueError(f"question {name!r}: wrong answer {value} is within tolerance of the answer {answer}")
    return _define(name, chapter or _calling_chapter(), Question("number", float(answer), explain, dict(wrong), rtol=rtol, atol=atol), description)
