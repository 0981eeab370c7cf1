"""The autograder: rubric consistency, real chapters, and a corpus of hostile submissions.

The grader always runs as a subprocess (``python -m grading``), as an instructor runs it;
the fixture chapter's checks (tests/fixtures/grading/checks_fixture.py) are registered only
in those runs. Runs are shared per module so the file stays within a few minutes.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grading import config, wire
from authoring.release import BEGIN, END
from grading.submissions import discover, file_key, safe_id

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "grading"
sys.path.insert(0, str(FIXTURES))
import corpus  # noqa: E402  (tests/fixtures/grading/corpus.py)

ISOLATED = os.geteuid() == 0
FIXTURE_ARGS = ["--manifest", str(FIXTURES / "exercises.toml"), "--checks", str(FIXTURES / "checks_fixture.py")]


def grade(subs: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "grading", str(subs), "--out", str(out), "--quiet", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


def existing_chapters() -> set[str]:
    return {p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")}


# ---------------------------------------------------------------------------------------
# the rubric and the manifest
# ---------------------------------------------------------------------------------------

def test_rubric_is_the_course_rubric() -> None:
    rubric = config.load()
    points = {i.id: i.points for i in rubric.items if i.category != "extra"}
    assert points == {"linear_regression": 10, "network_built": 15, "backprop": 20, "training_loop": 10,
                      "iris_80": 5, "activations": 10, "normalisation_split": 5, "learning_curve": 5, "xor": 10,
                      "adam": 3, "dropout": 3, "cnn_basics": 4, "bonus_mnist_90": 5, "bonus_speedup": 5}
    by_cat = {c: sum(i.points for i in rubric.items if i.category == c) for c in config.CATEGORIES}
    assert {c: p for c, p in by_cat.items() if c != "extra"} == {"required": 60, "standard": 30, "advanced": 10,
                                                                  "bonus": 10}
    # chapters 10 to 13, the predictions, the derivations and the extensions are graded as items of
    # their own, outside the 110 points (the last three span chapters: only "practice" has them)
    assert {i.id: i.chapters for i in rubric.items if i.category == "extra"} == {
        "house_prices": ("10",), "autograd": ("11",), "normalisation": ("12",), "diagnosing_tuning": ("13",),
        "derivations": (), "predictions": (), "extensions": ()}
    practice = next(a for a in rubric.assignments if a.id == "practice")
    assert set(practice.items) == {"derivations", "predictions", "extensions"}
    assert not any(set(practice.items) & set(a.items) for a in rubric.assignments if a.id != "practice")


def test_manifest_points_add_up_and_checks_exist() -> None:
    from mlcourse.checks import all_checks

    rubric = config.load()
    checks = all_checks()
    have = existing_chapters()
    for ex in rubric.exercises:
        assert ex.check in checks, f"exercises.toml: no check {ex.check!r} ({ex.chapter})"
        assert ex.chapter[:2] == checks[ex.check].chapter, f"{ex.check} is a check of chapter {checks[ex.check].chapter}"
    for item in rubric.items:
        mine = [e for e in rubric.exercises if e.rubric == item.id]
        chapters = {e.chapter for e in mine}
        if mine and chapters <= have and all(any(c.startswith(n) for c in have) for n in item.chapters):
            assert sum(e.points for e in mine) == pytest.approx(item.points), f"{item.id}: exercise points"


# ---------------------------------------------------------------------------------------
# the protocol and the submission folder (no subprocess)
# ---------------------------------------------------------------------------------------

def test_wire_round_trip_keeps_shapes_and_dtypes() -> None:
    value = {"w": np.arange(6, dtype=np.float32).reshape(2, 3).T, "b": np.array(0.5), "n": np.int64(3),
             "losses": [1.0, float("nan")], "pair": (np.zeros((0, 2)), None, True, "ok")}
    back = wire.loads(wire.dumps(value)[wire.HEADER:], 1 << 20)
    assert back["w"].dtype == np.float32 and back["w"].shape == (3, 2) and np.array_equal(back["w"], value["w"])
    assert back["b"].shape == () and back["n"].dtype == np.int64 and np.isnan(back["losses"][1])
    assert isinstance(back["pair"], tuple) and back["pair"][0].shape == (0, 2)
    assert type(wire.loads(wire.dumps(np.zeros(3).view(np.matrix))[wire.HEADER:], 1 << 20)) is np.ndarray


@pytest.mark.parametrize("body", [
    b'{"a": "AAAA", "dtype": "|O8", "shape": [1]}',            # object dtype
    b'{"a": "AAAA", "dtype": "<f8", "shape": [5]}',            # size does not match the data
    b'{"a": "AAAA", "dtype": "<f8", "shape": [-1]}',
    b'{"evil": "__import__(\'os\')"}',                          # unknown tag
    b'{"d": [[1, 2]]}',                                         # non-string key
    b"[" * 5000 + b"]" * 5000,                                  # too deep
    b"\xff\xfe",                                                 # not UTF-8
])
def test_wire_rejects_what_is_not_plain_data(body: bytes) -> None:
    with pytest.raises(wire.ProtocolError):
        wire.loads(body, 1 << 20)


def test_wire_refuses_objects_on_the_sending_side() -> None:
    for value in (object(), lambda: 1, np.array([object()]), {1: 2}):
        with pytest.raises(wire.Unencodable):
            wire.dumps(value)
    with pytest.raises(wire.TooLarge):
        wire.dumps(np.zeros(1000), limit=100)


def test_student_ids_are_safe_file_names() -> None:
    assert safe_id("../../etc/passwd") == "etc_passwd"
    assert safe_id("=cmd|' evil") == "cmd_evil"
    assert safe_id("Ana María") == "Ana_Mar_a"
    assert safe_id("...") == "student"
    assert file_key("alice") == "alice" and re.fullmatch(r"alice-[0-9a-f]{8}", file_key("-alice"))
    assert file_key("-alice") == file_key("-alice") != file_key("_alice")  # stable, distinct


def by_key_distinct(ids: list[str]) -> bool:
    from grading.submissions import file_keys

    return len(set(file_keys(ids).values())) == len(ids)


def test_discover_reads_folders_and_zips_safely(tmp_path: Path) -> None:
    expected = corpus.build(tmp_path / "subs", isolated=False)
    subs, warnings = discover(tmp_path / "subs")
    ids = [s.id for s in subs]
    assert ids == sorted(expected) and len(set(ids)) == len(ids)  # the names, exactly
    assert any("'-alice', 'alice'" in w for w in warnings)
    assert by_key_distinct(ids)
    by_id = {s.id: s for s in subs}
    assert by_id["zip_ok"].find("90_fixture") == ("90_fixture.ipynb", "")
    assert by_id["zip_traversal"].files == {} and any("unsafe path" in p for p in by_id["zip_traversal"].problems)
    assert by_id["zip_bomb"].files == {} and any("larger than" in p for p in by_id["zip_bomb"].problems)
    assert by_id["linker"].files == {}
    assert not list(tmp_path.rglob("escaped.ipynb")) and not Path("/tmp/absolute_escape.ipynb").exists()


# The hostile corpus (one --workers 2 run with canaries) is tests/test_grading_corpus.py.


@pytest.mark.skipif(not ISOLATED, reason="uids of their own need a grader running as root")
def test_two_pools_never_share_a_uid() -> None:
    from grading.uids import UidPool

    first, second = UidPool(3), UidPool(3)
    a, b = [first.acquire() for _ in range(3)], [second.acquire() for _ in range(3)]
    assert len(set(a) | set(b)) == 6, (a, b)


@pytest.mark.skipif(not ISOLATED, reason="uids of their own need a grader running as root")
def test_two_graders_at_once_do_not_kill_each_others_workers(tmp_path: Path) -> None:
    # Each grader kills everything its uid runs after every student; with a shared uid,
    # one grader's clean-up killed the other's worker mid-notebook (seen as SIGKILL crashes).
    runs = []
    for g in ("a", "b"):
        subs = tmp_path / g
        for k in range(4):
            (subs / f"s{k}").mkdir(parents=True)
            nbformat.write(corpus.solution(), subs / f"s{k}" / corpus.NAME)
        cmd = [sys.executable, "-m", "grading", str(subs), "--out", str(tmp_path / f"out_{g}"), "--quiet",
               "--workers", "1", *FIXTURE_ARGS]
        runs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in runs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
    for g in ("a", "b"):
        totals = {sid: row["course"] for sid, row in gradebook(tmp_path / f"out_{g}").items()}
        assert totals == {f"s{k}": "30" for k in range(4)}, totals


# ---------------------------------------------------------------------------------------
# "runs top to bottom" (separate from the points)
# ---------------------------------------------------------------------------------------

def test_run_notebooks_reports_the_first_failing_cell(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    good = corpus.solution()
    broken = corpus.with_cell(good, "undefined_name + 1", at=4)
    hang = corpus.with_cell(good, "while True:\n    pass", at=3)
    for sid, nb in {"good": good, "unsolved": corpus.stub(), "broken": broken, "hangs": hang}.items():
        (subs / sid).mkdir(parents=True)
        nbformat.write(nb, subs / sid / corpus.NAME)
    grade(subs, tmp_path / "out", "--run-notebooks", "--cell-timeout", "8", "--workers", "2", *FIXTURE_ARGS)
    runs = {s["student"]: s["notebooks"]["90_fixture"]["runs"]
            for s in json.loads((tmp_path / "out" / "results.json").read_text())["students"]}
    assert runs["good"]["status"] == "ok"
    assert runs["unsolved"]["status"] == "ok"  # the stubs' cells are tagged raises-exception (nbval-lax)
    assert runs["broken"]["status"] == "failed" and runs["broken"]["cell"] == 4
    assert "NameError" in runs["broken"]["message"]
    assert runs["hangs"]["status"] == "timeout" and runs["hangs"]["cell"] == 3
    assert gradebook(tmp_path / "out")["broken"]["course"] == "30"  # points do not depend on it


# ---------------------------------------------------------------------------------------
# the real chapters: solutions get full marks, released notebooks 0
# ---------------------------------------------------------------------------------------

def _break(nb: nbformat.NotebookNode, function: str, body: str) -> nbformat.NotebookNode:
    """``nb`` with the solution block of ``function`` replaced by ``body``."""
    for cell in nb.cells:
        lines = cell.source.splitlines()
        defs = [i for i, line in enumerate(lines) if line.startswith(f"def {function}(")]
        if cell.cell_type == "code" and defs:
            start = next(i for i in range(defs[0], len(lines)) if lines[i].strip() == BEGIN)
            end = next(i for i in range(start, len(lines)) if lines[i].strip() == END)
            indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
            cell.source = "\n".join(lines[: start + 1] + [indent + b for b in body.splitlines()] + lines[end:])
            return nb
    raise KeyError(function)


@pytest.fixture(scope="module")
def course_run(tmp_path_factory: pytest.TempPathFactory):
    rubric = config.load()
    have = existing_chapters() & set(rubric.chapters())
    if not have:
        pytest.skip("no chapter of grading/exercises.toml exists in solutions/ yet")
    base = tmp_path_factory.mktemp("course")
    subs = base / "subs"
    for sid in ("solutions", "released"):
        (subs / sid).mkdir(parents=True)
        for chapter in have:
            src = ROOT / sid.replace("released", "notebooks") / f"{chapter}.ipynb"
            if src.exists():
                shutil.copy(src, subs / sid / src.name)
    partial = None
    if "03_activations_and_losses" in have:  # a real partial: relu wrong, softmax not done
        nb = nbformat.read(ROOT / "solutions" / "03_activations_and_losses.ipynb", as_version=4)
        nb = _break(_break(nb, "relu", "return np.abs(x)"), "softmax", "raise NotImplementedError()")
        (subs / "partial").mkdir()
        nbformat.write(nb, subs / "partial" / "03_activations_and_losses.ipynb")
        partial = 10 - 0.5 - 1.5
    grade(subs, base / "out", "--workers", "2")
    results = {s["student"]: s for s in json.loads((base / "out" / "results.json").read_text())["students"]}
    return rubric, have, results, partial, gradebook(base / "out")


def test_solutions_score_full_marks_on_every_existing_chapter(course_run) -> None:
    rubric, have, results, _, _ = course_run
    sol = results["solutions"]
    for item in rubric.items:
        mine = [e for e in rubric.exercises if e.rubric == item.id]
        if mine and {e.chapter for e in mine} <= have:
            failing = [v["message"] for v in sol["items"][item.id]["exercises"] if v["status"] != "pass"]
            assert not failing, f"{item.id}: {failing}"
            assert sol["items"][item.id]["points"] == pytest.approx(sum(e.points for e in mine))
    every_item_graded = all(any(e.rubric == i.id for e in rubric.exercises) for i in rubric.items)
    if every_item_graded and {e.chapter for e in rubric.exercises} <= have:
        assert sol["total"] == pytest.approx(110) == sum(i.points for i in rubric.items if i.category != "extra")


def test_released_notebooks_score_zero_with_not_implemented(course_run) -> None:
    rubric, have, results, _, _ = course_run
    rel = results["released"]
    assert rel["total"] == 0
    for item in rel["items"].values():
        for v in item["exercises"]:
            if (ROOT / "notebooks" / f"{v['chapter']}.ipynb").exists():
                assert v["status"] == "not_implemented" and "not implemented" in v["message"], v


def test_a_real_partial_submission_gets_exactly_its_points(course_run) -> None:
    _, _, results, partial, _ = course_run
    if partial is None:
        pytest.skip("chapter 03 does not exist yet")
    items = results["partial"]["items"]
    assert items["activations"]["points"] == pytest.approx(partial)
    messages = " ".join(v["message"] for v in items["activations"]["exercises"])
    assert "`relu`" in messages and "`softmax`: not implemented" in messages
    assert results["partial"]["total"] == pytest.approx(partial)


def test_gradebook_has_a_column_per_assignment_and_chapters_10_11_as_extra_items(course_run) -> None:
    rubric, have, _, _, book = course_run
    sol = book["solutions"]
    if {e.chapter for e in rubric.exercises} <= have:
        assert sol["course"] == "110"  # the original rubric's total, unchanged by the extra chapters
    for chapter, item, points in (("10", "house_prices", "10"), ("11", "autograd", "10"), ("12", "normalisation", "5"),
                                  ("13", "diagnosing_tuning", "5")):
        if any(c.startswith(chapter) for c in have):
            assert (sol[f"ch{chapter}"], sol[f"ch{chapter}.{item}"]) == (points, points)
            assert book["released"][f"ch{chapter}"] == "0"
            assert f"course.{item}" not in sol
    for a in rubric.assignments:
        assert a.id in sol and all(f"{a.id}.{i}" in sol for i in a.items)
