"""Grading a class: assignments, a roster, late work, LMS exports and feedback returned.

The fixture class (tests/fixtures/grading/class_fixture.py): a roster of six, one student
who never submits, one folder not in the roster, two assignments, one late submission.
Each assignment is graded once (one grader run each, shared by the tests below) and its
gradebook.csv, canvas.csv, moodle.csv and grades.csv must equal the checked-in files in
tests/fixtures/grading/class/expected/<assignment>/ byte for byte.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from grading import assignments as asg
from grading import config, roster
from grading.returns import return_feedback

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "grading"
sys.path.insert(0, str(FIXTURES))
import class_fixture  # noqa: E402

CHECKS = ["--checks", str(FIXTURES / "checks_fixture.py")]
ASSIGNMENTS = ("a1", "a2")
EXPORTED = ("gradebook.csv", "canvas.csv", "moodle.csv", "grades.csv")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("class")
    returned = base / "homes"
    returned.mkdir()
    logs = {}
    class_fixture.build_a1(base / "a1")
    class_fixture.build_a2(base / "a2")
    for a in ASSIGNMENTS:
        cmd = [sys.executable, "-m", "grading", str(base / a), "--out", str(base / f"out_{a}"), "--quiet",
               "--assignment", a, "--workers", "2", "--return-to", str(returned), *CHECKS, *class_fixture.ARGS]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        logs[a] = proc.stderr
    return {"base": base, "returned": returned, "logs": logs}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_gradebook_and_lms_files_are_exactly_the_expected_ones(graded, assignment: str) -> None:
    out = graded["base"] / f"out_{assignment}"
    for name in EXPORTED:
        expected = (class_fixture.EXPECTED / assignment / name).read_text(encoding="utf-8")
        assert (out / name).read_text(encoding="utf-8") == expected, f"{assignment}/{name}"


def test_roster_ids_kept_missing_student_and_unknown_folder_listed(graded) -> None:
    with open(graded["base"] / "out_a1" / "gradebook.csv", newline="", encoding="utf-8") as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    assert "ben.smith@uni.edu" in rows and rows["ben.smith@uni.edu"]["a1"] == "4"  # the zip, id kept exactly
    assert rows["femi"]["status"] == "no submission" and rows["femi"]["a1"] == "0"
    assert rows["zed"]["status"] == "not in roster" and rows["zed"]["a1"] == "10"
    assert (rows["dara"]["a1.late_days"], rows["dara"]["a1.penalty"], rows["dara"]["a1"]) == ("2", "2", "8")
    for a in ASSIGNMENTS:
        assert "not in the roster" in graded["logs"][a] and "zed" in graded["logs"][a]
        assert "without a submission" in graded["logs"][a] and "femi" in graded["logs"][a]
        for lms in ("canvas.csv", "moodle.csv"):
            assert "zed" not in (graded["base"] / f"out_{a}" / lms).read_text(encoding="utf-8")


def test_feedback_goes_to_each_students_own_folder(graded) -> None:
    homes = graded["returned"]
    files = sorted(str(p.relative_to(homes)) for p in homes.rglob("*") if p.is_file())
    submitted = ["ana.lopez@uni.edu", "ben.smith@uni.edu", "chen", "dara", "eve", "zed"]
    assert files == sorted(f"{s}/feedback/{a}/feedback.{ext}" for s in submitted for a in ASSIGNMENTS
                           for ext in ("html", "md"))
    for s in submitted:
        for a in ASSIGNMENTS:
            text = (homes / s / "feedback" / a / "feedback.md").read_text(encoding="utf-8")
            assert f"feedback for {s}" in text.splitlines()[0]
            others = [o for o in submitted if o != s and o not in s]
            assert not any(f"feedback for {o}" in text for o in others)
    for a in ASSIGNMENTS:  # the grader's own copy: one per submission, named by the roster's id
        names = sorted(p.name for p in (graded["base"] / f"out_{a}" / "feedback" / a).iterdir())
        assert names == sorted(f"{s}.{ext}" for s in submitted for ext in ("html", "md"))


def test_late_work_and_polish_in_the_feedback(graded) -> None:
    homes = graded["returned"]
    dara = (homes / "dara" / "feedback" / "a1" / "feedback.md").read_text(encoding="utf-8")
    assert "**Score: 8 / 10**" in dara and "2 days after the due date" in dara and "−2 points" in dara
    assert "Before the late penalty: 10." in dara
    ana = (homes / "ana.lopez@uni.edu" / "feedback" / "a1" / "feedback.md").read_text(encoding="utf-8")
    assert "on time" in ana and "Late" not in ana
    chen = (homes / "chen" / "feedback" / "a2" / "feedback.md").read_text(encoding="utf-8")
    assert chen.count("91_fixture.ipynb` is not in your submission") == 1 and "`scale`" not in chen
    ben = (homes / "ben.smith@uni.edu" / "feedback" / "a1" / "feedback.html").read_text(encoding="utf-8")
    assert "<code>row_means</code>" in ben and "`" not in ben
    for page in homes.rglob("feedback.*"):
        text = page.read_text(encoding="utf-8")
        assert " 0 / 0" not in text and "Traceback" not in text


# --- the model, without grading -----------------------------------------------------------

def _assignment(policy: str, per_day: float = 0.0) -> asg.Assignment:
    due = datetime(2026, 12, 1, 23, 59, tzinfo=timezone.utc)
    return asg.Assignment(id="a", title="A", items=("x",), due=due, late=asg.LatePolicy(policy, per_day))


@pytest.mark.parametrize("policy, per_day, hours_late, days, penalty", [
    ("none", 0, 30, 2, 0.0),
    ("penalty", 10, 0.01, 1, 2.0),      # a started day counts
    ("penalty", 10, 24, 1, 2.0),
    ("penalty", 25, 24 * 7, 7, 35.0),   # never below 0: the score takes it (see below)
    ("penalty", 10, -1, 0, 0.0),         # on time
])
def test_late_penalty_per_started_day(policy, per_day, hours_late, days, penalty) -> None:
    from datetime import timedelta

    a = _assignment(policy, per_day)
    late = asg.lateness(a, a.due + timedelta(hours=hours_late), 20.0)
    assert (late.days, late.penalty) == (days, penalty)
    item = config.Item("x", "X", 20.0, "required", ("01",), True)
    scored = asg.score(a, {"x": item}, {"x": 15.0}, late)
    assert scored["points"] == max(0.0, 15.0 - penalty)


def test_cutoff_scores_zero_after_the_due_date() -> None:
    from datetime import timedelta

    a = _assignment("cutoff")
    item = config.Item("x", "X", 20.0, "required", ("01",), True)
    late = asg.lateness(a, a.due + timedelta(minutes=1), 20.0)
    assert asg.score(a, {"x": item}, {"x": 20.0}, late)["points"] == 0
    on_time = asg.lateness(a, a.due, 20.0)
    assert asg.score(a, {"x": item}, {"x": 20.0}, on_time)["points"] == 20


@pytest.mark.parametrize("snippet, words", [
    ('[[assignment]]\nid = "a"\nchapters = ["01"]\ndue = 2026-12-01T23:59:00\n', "UTC offset"),
    ('[[assignment]]\nid = "a b"\nchapters = ["01"]\n', "letters, digits"),
    ('[[assignment]]\nid = "a"\nchapters = ["77"]\n', "no rubric item"),
    ('[late]\npolicy = "sometimes"\n', "none, penalty, cutoff"),
    ('[late]\npolicy = "penalty"\n', "per_day"),
])
def test_rubric_file_errors_name_the_problem(tmp_path: Path, snippet: str, words: str) -> None:
    item = '[[item]]\nid = "x"\ndescription = "X"\npoints = 1\ncategory = "required"\nchapters = ["01"]\n'
    (tmp_path / "rubric.toml").write_text(item + snippet, encoding="utf-8")
    (tmp_path / "ex.toml").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match=words):
        config.load(tmp_path / "rubric.toml", tmp_path / "ex.toml")


def test_the_shipped_assignments_and_the_110_point_course() -> None:
    rubric = config.load()
    ids = [a.id for a in rubric.assignments]
    assert ids == ["course"] + [f"ch{n:02d}" for n in range(1, 14)] + ["practice"]
    items = {i.id: i for i in rubric.items}
    course = rubric.assignment("course")
    assert sum(items[i].points for i in course.items) == 110
    assert asg.maxima(course, items) == (100, 100, 10)
    assert rubric.assignment("ch10").items == ("house_prices",) and items["house_prices"].category == "extra"
    assert rubric.assignment("ch11").items == ("autograd",) and items["autograd"].category == "extra"
    assert rubric.assignment("ch12").items == ("normalisation",) and items["normalisation"].category == "extra"
    assert rubric.assignment("ch13").items == ("diagnosing_tuning",) and items["diagnosing_tuning"].category == "extra"
    assert not {"house_prices", "autograd", "normalisation", "diagnosing_tuning"} & set(course.items)
    practice = rubric.assignment("practice")  # predictions, derivations, extensions: across chapters
    assert not set(practice.items) & set(course.items)
    for chapter, points in (("10_house_prices", 10), ("11_autograd", 10), ("12_normalization", 5),
                            ("13_diagnosing_and_tuning", 5)):
        mine = [e for e in rubric.exercises if e.chapter == chapter and e.rubric not in practice.items]
        assert mine and sum(e.points for e in mine) == points
    # every chapter's assignment holds exactly the items of that chapter
    for a in rubric.assignments[1:-1]:
        assert {i for i in a.items} == {i.id for i in rubric.items if a.id[2:] in i.chapters}


def test_roster_errors_and_names(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("id,name\nann,Ann\nann,Ann again\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        roster.read(path)
    path.write_text("email,name\na@b,Ann\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no 'id' column"):
        roster.read(path)
    path.write_text("id,name\n../x,Ann\n", encoding="utf-8")
    with pytest.raises(ValueError, match="folder name"):
        roster.read(path)
    path.write_text('id,name\na@b.edu,"Lopez, Ana"\nc,Chen Wei\n', encoding="utf-8")
    ana, chen = roster.read(path)
    assert ana.id == "a@b.edu" and ana.first_last() == ("Ana", "Lopez") and chen.first_last() == ("Chen", "Wei")


def test_return_never_follows_a_link_into_another_students_folder(tmp_path: Path) -> None:
    homes = tmp_path / "homes"
    (homes / "ana" / "feedback").mkdir(parents=True)
    (homes / "eve").mkdir()
    (homes / "eve" / "feedback").symlink_to(homes / "ana" / "feedback")   # planted by eve
    problem = return_feedback(homes, "eve", "a1", {"feedback.md": "eve's"})
    assert problem and "a link" in problem
    assert not (homes / "ana" / "feedback" / "a1").exists()
    # a link planted as the file itself is replaced, not written through
    (homes / "bob" / "feedback" / "a1").mkdir(parents=True)
    target = homes / "ana" / "secret.md"
    target.write_text("ana's", encoding="utf-8")
    (homes / "bob" / "feedback" / "a1" / "feedback.md").symlink_to(target)
    assert return_feedback(homes, "bob", "a1", {"feedback.md": "bob's"}) is None
    assert target.read_text(encoding="utf-8") == "ana's"
    assert (homes / "bob" / "feedback" / "a1" / "feedback.md").read_text(encoding="utf-8") == "bob's"
    for bad in ("..", ".", "a/b", ""):
        assert return_feedback(homes, bad, "a1", {"feedback.md": "x"})
    assert sorted(os.listdir(homes)) == ["ana", "bob", "eve"]


@pytest.mark.parametrize("value, words", [
    ("abcdef", "is a string"), (np.array(["a", "b"]), "is an array of strings"),
    (["x", "y"], "is a list of strings"), ([None, 1.0], "is a list of Python objects"),
])
def test_messages_name_a_wrong_type_in_the_students_words(value, words: str) -> None:
    from mlcourse.checks.compare import compare_array

    message = compare_array("y", value, np.zeros(2))
    assert words in message and "<U" not in message and "object" not in message.split(words)[0]


def test_feedback_shows_each_exercise_once_and_no_zero_of_zero() -> None:
    """Chapter 08's forward_batched is checked twice (correct: 0 points; faster: 5 points)."""
    from grading import feedback
    from grading.gradebook import Row

    rubric = config.load()
    a = rubric.assignment("ch08")
    def verdict(function, check, rubric_id, pts, status="pass", message=None):
        return {"chapter": "08_mnist_mlp", "function": function, "check": check, "rubric": rubric_id, "max": pts,
                "points": pts if status == "pass" else 0.0, "status": status,
                "message": message or f"`{function}`: passed the public check"}
    speed = [verdict("forward_per_sample", "forward_per_sample", "bonus_speedup", 0),
             verdict("forward_batched", "forward_batched", "bonus_speedup", 0),
             verdict("forward_batched", "batched_speedup", "bonus_speedup", 5, "fail",
                     "`forward_batched`: only 1.2× faster than <per sample>, at least 3× needed")]
    mnist = [verdict("read_idx", "read_idx", "bonus_mnist_90", 0),
             verdict("train_mnist_mlp", "train_mnist_mlp", "bonus_mnist_90", 5)]
    result = {"student": "s", "notes": [], "notebooks": {"08_mnist_mlp": {"status": "graded", "file": "08_mnist_mlp.ipynb"}},
              "items": {i.id: {"points": 0.0, "max": i.points, "note": "", "exercises": []} for i in rubric.items}}
    result["items"]["bonus_speedup"].update(exercises=speed, note="all of this item's exercises must pass")
    result["items"]["bonus_mnist_90"].update(exercises=mnist, points=5.0)
    row = Row(id="s", status="graded", result=result)
    items = {i.id: i for i in rubric.items}
    row.scores[a.id] = asg.score(a, items, {"bonus_mnist_90": 5.0}, asg.Late(0, 0.0, ""))
    md, page = feedback.render(row, a, rubric)
    assert md.count("`forward_batched`") == 1 and md.count("`read_idx`") == 1
    assert " 0 / 0" not in md and "no points of its own" in md
    assert "**Score: 5 / 10**" in md
    assert "&lt;per sample&gt;" in page and "<code>forward_batched</code>" in page and "`" not in page


def test_declared_points_scale_the_score_and_bonus_adds_on_top() -> None:
    core = config.Item("x", "X", 10.0, "required", ("01",), True)
    bonus = config.Item("b", "B", 5.0, "bonus", ("01",), True)
    items = {"x": core, "b": bonus}
    a = asg.Assignment(id="a", title="A", items=("x", "b"), points=100.0)
    assert asg.maxima(a, items) == (100.0, 10.0, 5.0)
    scored = asg.score(a, items, {"x": 4.0, "b": 5.0}, asg.Late(0, 0.0, ""))
    assert (scored["points"], scored["max"], scored["bonus"]) == (90.0, 100.0, 50.0)
    only_bonus = asg.Assignment(id="o", title="O", items=("b",))
    assert asg.maxima(only_bonus, items)[0] == 5.0  # an all-bonus assignment is out of its bonus points
