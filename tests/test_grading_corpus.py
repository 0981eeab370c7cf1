"""The hostile corpus, graded once with ``--workers 2`` as root would grade a class.

tests/fixtures/grading/corpus.py holds ~60 broken and hostile submissions of the fixture
chapters next to honest ones (the solution, the blank release, partial students, a student
whose cells use magics). One run grades them all while the test watches from outside:

* a root-only canary file and a canary in the grader's environment: never in any output;
* a world-writable unix socket on the host (under /run): never connected to;
* nothing new left in /tmp, /dev/shm, /run/lock, /var/tmp by a sandbox, and no process of
  a sandbox uid alive after the run.

Every student must get exactly the expected points and feedback naming the problem.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import sys
import threading
from pathlib import Path

import pytest

from tests.test_grading import FIXTURE_ARGS, FIXTURES, ISOLATED, grade, gradebook

sys.path.insert(0, str(FIXTURES))
import corpus  # noqa: E402  (tests/fixtures/grading/corpus.py)

LEFTOVER_DIRS = ("/tmp", "/dev/shm", "/run/lock", "/var/tmp")
# Sandbox uids of this run only (other graders on the machine start at 64000): what they
# leave behind, or leave running, is this run's.
UID_BASE = 64500
LIMITS = ["--timeout", "6", "--notebook-timeout", "40", "--memory", "600", "--hidden-seeds", "1",
          "--uid-base", str(UID_BASE)]


class SocketCanary:
    """A world-writable unix socket on the host that counts who connects to it."""

    def __init__(self, path: Path) -> None:
        self.path, self.hits = path, 0
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(str(path))
        os.chmod(path, 0o777)
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()
        self.path.unlink(missing_ok=True)


def _entries(uids: set[int]) -> set[str]:
    """Entries of the shared temporary folders owned by ``uids``."""
    found = set()
    for d in LEFTOVER_DIRS:
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for name in names:
            path = os.path.join(d, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if st.st_uid in uids:  # sandboxes' files (their folders are chowned to their uid too)
                found.add(path)
    return found


def _sandbox_processes(uids: set[int]) -> list[str]:
    left = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid = int(re.search(r"^Uid:\s+(\d+)", status.read_text(), re.M).group(1))
        except (OSError, AttributeError):
            continue
        if uid in uids:
            left.append(status.parent.name)
    return left


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("hostile")
    token = secrets.token_hex(16)
    canary = base / "root-only-canary.txt"
    canary.write_text(f"CANARY-FILE-{token}\n")
    os.chmod(canary, 0o600)
    expected = corpus.build(base / "subs", isolated=ISOLATED, canary=str(canary))
    before = _entries(set(range(UID_BASE, UID_BASE + 100)))
    sock_dir = Path("/run") if os.access("/run", os.W_OK) else base
    canary_socket = SocketCanary(sock_dir / f"mlcourse-canary-{token[:8]}.sock")
    os.environ["MLCOURSE_TEST_CANARY"] = f"CANARY-ENV-{token}"
    try:
        proc = grade(base / "subs", base / "out", "--workers", "2", *LIMITS, *FIXTURE_ARGS)
    finally:
        del os.environ["MLCOURSE_TEST_CANARY"]
        canary_socket.close()
    results = json.loads((base / "out" / "results.json").read_text(encoding="utf-8"))
    return base, expected, results, token, canary_socket.hits, before, proc


def _students(results: dict) -> dict[str, dict]:
    return {s["student"]: s for s in results["students"]}


def test_every_student_has_a_row_and_exactly_the_expected_points(run) -> None:
    base, expected, results, *_ = run
    students = _students(results)
    assert set(students) == set(expected)
    got = {sid: s["total"] for sid, s in students.items()}
    assert got == {sid: total for sid, (total, _) in expected.items()}
    assert len(gradebook(base / "out")) == len(expected)
    assert len(expected) >= 60


def test_feedback_names_the_problem(run) -> None:
    base, expected, results, *_ = run
    for sid, s in _students(results).items():
        text = (base / "out" / "feedback" / "course" / f"{s['feedback']}.md").read_text(encoding="utf-8")
        plain = text.replace("\\", "")
        for word in expected[sid][1]:
            assert word in plain, f"{sid!r}: {word!r} not in its feedback"


def test_the_partial_student_gets_exactly_its_points(run) -> None:
    base, _, results, *_ = run
    items = _students(results)["partial"]["items"]
    points = {k: items[k]["points"] for k in ("linear_regression", "activations", "iris_80", "bonus_speedup")}
    assert points == {"linear_regression": 4, "activations": 10, "iris_80": 0, "bonus_speedup": 5}


def test_no_canary_is_read_or_reached(run) -> None:
    base, _, _, token, hits, *_ = run
    assert hits == 0, "a sandbox connected to the host's unix socket"
    for path in (base / "out").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert token.encode() not in data, f"a canary leaked into {path.name}"
            assert b"MLCOURSE_TEST_CANARY" not in data and b"PATH=/" not in data, path.name


@pytest.mark.skipif(not ISOLATED, reason="uids of their own need a grader running as root")
def test_nothing_is_left_behind(run) -> None:
    _, _, results, _, _, before, _ = run
    uids = set(range(UID_BASE, UID_BASE + 100))
    assert not _sandbox_processes(uids), "processes of sandbox uids still running"
    assert not (_entries(uids) - before), "files left in the shared temporary folders"


def test_feedback_escapes_every_student_string(run) -> None:
    base, _, results, *_ = run
    for s in results["students"]:
        md = (base / "out" / "feedback" / "course" / f"{s['feedback']}.md").read_text(encoding="utf-8")
        html = (base / "out" / "feedback" / "course" / f"{s['feedback']}.html").read_text(encoding="utf-8")
        assert "<img" not in md and "<img" not in html, s["student"]
        assert not any(line.startswith("# Total") for line in md.splitlines()), s["student"]
        assert "feedback for" in md.splitlines()[0]


def test_ids_are_the_names_and_collisions_stay_apart(run) -> None:
    base, _, results, *_ = run
    students = _students(results)
    assert students["alice"]["total"] == corpus.FULL and students["-alice"]["total"] == 0
    keys = [s["feedback"] for s in results["students"]]
    assert len(set(keys)) == len(keys) and students["alice"]["feedback"] == "alice"
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._@+-]*", k) for k in keys), keys
    for sid in ("hard_victim", "hard_linker"):
        assert any("same file" in n for n in students[sid]["notes"]), students[sid]["notes"]


def test_feedback_never_shows_grader_internals(run) -> None:
    base, *_ = run
    for path in (base / "out" / "feedback").rglob("*.*"):
        text = path.read_text(encoding="utf-8")
        assert "Traceback" not in text and "grading/" not in text and "chk.call" not in text, path.name
        assert "mlcourse/checks" not in text and "site-packages" not in text, path.name
        for line in text.splitlines():  # hidden cases are described without their values
            if "hidden test cases" in line:
                assert not re.search(r"\d\.\d", line.split("hidden test cases")[1]), line


def test_results_say_which_limits_were_in_force(run) -> None:
    _, _, results, *_ = run
    good = _students(results)["good"]["notebooks"]["90_fixture"]["isolation"]
    assert any("memory" in m for m in good), good
    if ISOLATED:
        assert any("together" in m and "cgroup" in m for m in good), good


def test_no_forged_files_and_nothing_escapes(run) -> None:
    base, *_ = run
    assert sorted(p.name for p in (base / "out").iterdir()) == ["feedback", "gradebook.csv", "results.json"]
    assert "forge_files,110" not in (base / "out" / "gradebook.csv").read_text(encoding="utf-8")
    for stray in ("/tmp/gradebook.csv", "/tmp/results.json"):  # (another grader on the machine is not ours)
        assert not (os.path.exists(stray) and UID_BASE <= os.lstat(stray).st_uid < UID_BASE + 100), stray
    assert not list(base.rglob("escaped.ipynb"))


SAME_WITH_ONE_WORKER = ("good", "partial", "unsolved", "honest_magics", "-alice", "alice", "hard_victim",
                        "hard_linker", "hardcoded_public", "os_exit_in_function")


def test_workers_1_gives_the_same_rows_and_feedback(run, tmp_path: Path) -> None:
    base, _, results, *_ = run
    subs = tmp_path / "subs"
    subs.mkdir()
    for sid in SAME_WITH_ONE_WORKER:
        shutil.copytree(base / "subs" / sid, subs / sid)
    (subs / "hard_linker" / corpus.NAME).unlink()  # copying broke the hard link: make it again
    os.link(subs / "hard_victim" / corpus.NAME, subs / "hard_linker" / corpus.NAME)
    grade(subs, tmp_path / "out", "--workers", "1", *LIMITS, *FIXTURE_ARGS)
    one = _students(json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8")))
    two = _students(results)
    for sid in SAME_WITH_ONE_WORKER:
        assert one[sid]["total"] == two[sid]["total"], sid
        key = two[sid]["feedback"]
        assert (tmp_path / "out" / "feedback" / "course" / f"{key}.md").read_text(encoding="utf-8") == \
            (base / "out" / "feedback" / "course" / f"{key}.md").read_text(encoding="utf-8"), sid
