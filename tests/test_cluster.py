"""Grading as one job per student (`python -m grading job`) and one merge (`grading merge`).

A small fixture class (a full, a partial, an unsolved and a zipped submission of the fixture
chapter) is graded once locally and once as separate job processes; the merged gradebook,
feedback and results.json must be byte-identical to the local run whichever order the jobs
finished in, a missing part must be named, and the Slurm array script's own per-task
command must grade the student its SLURM_ARRAY_TASK_ID designates.
"""
from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from grading.cluster import pick_student

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "grading"
sys.path.insert(0, str(FIXTURES))
import corpus  # noqa: E402  (tests/fixtures/grading/corpus.py)

OPTIONS = ["--timeout", "5", "--notebook-timeout", "60", "--memory", "1024", "--hidden-seeds", "1",
           "--manifest", str(FIXTURES / "exercises.toml"), "--checks", str(FIXTURES / "checks_fixture.py")]
SLURM = ROOT / "deploy" / "slurm" / "grade.sbatch"


def run(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "grading", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def same_tree(a: Path, b: Path) -> list[str]:
    """Relative paths whose bytes differ (or exist on one side only)."""
    files = lambda root: {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}  # noqa: E731
    fa, fb = files(a), files(b)
    diff = sorted(fa ^ fb)
    diff += [f for f in sorted(fa & fb) if not filecmp.cmp(a / f, b / f, shallow=False)]
    return diff


@pytest.fixture(scope="module")
def fixture_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("cluster")
    subs = base / "subs"
    sol, stub = corpus.solution(), corpus.stub()
    partial = corpus.with_function(sol, "scale", "def scale(x, c):\n    return x + c\n")
    for sid, nb in {"ana": sol, "ben": partial, "cleo": stub}.items():
        (subs / sid).mkdir(parents=True)
        nbformat.write(nb, subs / sid / corpus.NAME)
    with zipfile.ZipFile(subs / "dan.zip", "w") as z:
        z.writestr(f"work/{corpus.NAME}", nbformat.writes(sol))
    run(str(subs), "--out", str(base / "local"), "--quiet", *OPTIONS)
    return base, subs, ["ana", "ben", "cleo", "dan"]


def test_jobs_in_any_order_then_merge_equal_one_local_run(fixture_class) -> None:
    base, subs, ids = fixture_class
    assert run("job", str(subs), "--list").stdout.split() == ids
    for order, parts in ((ids, base / "parts_a"), (ids[::-1], base / "parts_b")):
        for sid in order:  # each job its own process, as on a cluster
            run("job", str(subs), "--parts", str(parts), "--student", sid, *OPTIONS)
        assert sorted(p.name for p in parts.iterdir()) == ids  # no incomplete leftovers
        out = parts.with_name(parts.name + "_merged")
        run("merge", str(parts), "--out", str(out), "--submissions", str(subs), *OPTIONS)
        assert same_tree(base / "local", out) == []
    # the parts themselves are independent of order, so any interleaving gives the same merge
    assert same_tree(base / "parts_a", base / "parts_b") == []
    book = (base / "local" / "gradebook.csv").read_text()
    assert re.search(r"^ana,.*,25,", book, re.M) and re.search(r"^ben,.*,15,", book, re.M)


def test_merge_names_the_missing_parts_and_writes_nothing(fixture_class, tmp_path) -> None:
    base, subs, ids = fixture_class
    parts = tmp_path / "parts"
    shutil.copytree(base / "parts_a", parts)
    shutil.rmtree(parts / "ben")
    shutil.rmtree(parts / "dan")
    proc = run("merge", str(parts), "--out", str(tmp_path / "out"), "--submissions", str(subs), *OPTIONS,
               check=False)
    assert proc.returncode == 3
    assert "missing parts (2 of 4): ben, dan" in proc.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_merge_refuses_parts_graded_with_other_settings(fixture_class, tmp_path) -> None:
    base, subs, _ = fixture_class
    parts = tmp_path / "parts"
    shutil.copytree(base / "parts_a", parts)
    run("job", str(subs), "--parts", str(parts), "--student", "ben", *OPTIONS[2:])  # other --timeout
    proc = run("merge", str(parts), "--out", str(tmp_path / "out"), *OPTIONS, check=False)
    assert proc.returncode == 2 and "ben: graded with other settings" in proc.stderr


def test_pick_student_by_array_index() -> None:
    ids = ["ana", "ben", "cleo"]
    assert pick_student(ids, None, None, {"SLURM_ARRAY_TASK_ID": "1"}) == "ben"
    assert pick_student(ids, None, None, {"JOB_COMPLETION_INDEX": "2"}) == "cleo"
    assert pick_student(ids, None, 0, {"SLURM_ARRAY_TASK_ID": "2"}) == "ana"  # --index wins
    with pytest.raises(ValueError, match="out of range: there are 3"):
        pick_student(ids, None, None, {"SLURM_ARRAY_TASK_ID": "3"})
    with pytest.raises(ValueError, match="SLURM_ARRAY_TASK_ID='x': expected a whole number"):
        pick_student(ids, None, None, {"SLURM_ARRAY_TASK_ID": "x"})
    with pytest.raises(ValueError, match="--student ID"):
        pick_student(ids, None, None, {})


def test_slurm_array_task_grades_the_student_of_its_index(fixture_class, tmp_path) -> None:
    """deploy/slurm/grade.sbatch run as Slurm runs a task: a bash script with SLURM_ARRAY_TASK_ID set."""
    base, subs, ids = fixture_class
    assert "python -m grading job" in SLURM.read_text()
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "2", "MLCOURSE_REPO": str(ROOT), "SUBMISSIONS": str(subs),
           "PARTS": str(tmp_path / "parts"), "GRADING_OPTIONS": " ".join(OPTIONS)}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    proc = subprocess.run(["bash", str(SLURM)], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [p.name for p in (tmp_path / "parts").iterdir()] == [ids[2]]
    assert same_tree(base / "parts_a" / ids[2], tmp_path / "parts" / ids[2]) == []


def test_kubernetes_indexed_job_commands_grade_by_completion_index(fixture_class, tmp_path) -> None:
    """The Job manifests' own commands, run here with the paths of the fixture class."""
    import yaml

    base, subs, ids = fixture_class
    where = {"/grading/submissions": str(subs), "/grading/parts": str(tmp_path / "parts"),
             "/grading/out": str(tmp_path / "out")}

    def command(manifest: str) -> list[str]:
        doc = yaml.safe_load((ROOT / "deploy" / "kubernetes" / manifest).read_text())
        cmd = doc["spec"]["template"]["spec"]["containers"][0]["command"]
        return [sys.executable if c == "python" else where.get(c, c) for c in cmd] + OPTIONS

    for index in (3, 0, 2, 1):  # pods finish in any order
        env = {**os.environ, "JOB_COMPLETION_INDEX": str(index)}
        proc = subprocess.run(command("grade-job.yaml"), cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert (tmp_path / "parts" / ids[index] / "results.json").exists()
    proc = subprocess.run(command("merge-job.yaml"), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert same_tree(base / "local", tmp_path / "out") == []


@pytest.mark.skipif(shutil.which("sbatch") is None, reason="no Slurm here (sbatch not on PATH)")
def test_a_real_slurm_array_run(fixture_class, tmp_path) -> None:
    base, subs, ids = fixture_class
    env = {**os.environ, "MLCOURSE_REPO": str(ROOT), "SUBMISSIONS": str(subs), "PARTS": str(tmp_path / "parts"),
           "OUT": str(tmp_path / "out"), "GRADING_OPTIONS": " ".join(OPTIONS)}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    proc = subprocess.run(["bash", str(ROOT / "deploy" / "slurm" / "submit.sh")], env=env, capture_output=True,
                          text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert same_tree(base / "local", tmp_path / "out") == []
