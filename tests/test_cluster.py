"""Grading as one job per student (`python -m grading job`) and one merge (`grading merge`).

The fixture class of the assignment tests (tests/fixtures/grading/class_fixture.py: a roster
of six, one student without a submission, one folder not in the roster, a late submission, a
zip) is graded for assignment a1 once locally and once as separate job processes; the merged
gradebook, LMS exports, feedback, results.json and the feedback returned into the students'
folders must be byte-identical to the local run whichever order the jobs finished in, a
missing part must be named, and the Slurm array script and the Kubernetes Job's own
commands must grade the student their array index designates.
"""
from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grading.cluster import pick_student

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "grading"
sys.path.insert(0, str(FIXTURES))
import class_fixture  # noqa: E402  (tests/fixtures/grading/class_fixture.py)

OPTIONS = ["--timeout", "5", "--notebook-timeout", "60", "--memory", "1024", "--assignment", "a1",
           "--checks", str(FIXTURES / "checks_fixture.py"), *class_fixture.ARGS]
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
    subs = class_fixture.build_a1(base / "subs")
    (base / "homes_local").mkdir()
    run(str(subs), "--out", str(base / "local"), "--quiet", "--return-to", str(base / "homes_local"), *OPTIONS)
    ids = run("job", str(subs), "--list").stdout.split()
    assert len(ids) == 6
    for sid in ids:  # each job its own process, as on a cluster
        run("job", str(subs), "--parts", str(base / "parts_a"), "--student", sid, *OPTIONS)
    return base, subs, ids


def test_jobs_in_any_order_then_merge_equal_one_local_run(fixture_class) -> None:
    base, subs, ids = fixture_class
    for sid in ids[::-1]:  # the same jobs finishing in the opposite order
        run("job", str(subs), "--parts", str(base / "parts_b"), "--student", sid, *OPTIONS)
    for parts in (base / "parts_a", base / "parts_b"):
        assert sorted(p.name for p in parts.iterdir()) == sorted(f"{i}.json" for i in ids)  # nothing incomplete
        out, homes = parts.with_name(parts.name + "_merged"), parts.with_name(parts.name + "_homes")
        homes.mkdir()
        run("merge", str(parts), "--out", str(out), "--submissions", str(subs), "--return-to", str(homes), *OPTIONS)
        assert same_tree(base / "local", out) == []
        assert same_tree(base / "homes_local", homes) == []
    # the parts themselves do not depend on the order, so any interleaving merges the same
    assert same_tree(base / "parts_a", base / "parts_b") == []
    local = base / "local"
    assert {"gradebook.csv", "canvas.csv", "moodle.csv", "grades.csv"} <= {p.name for p in local.iterdir()}
    for name in ("gradebook.csv", "canvas.csv", "moodle.csv", "grades.csv"):  # and it is the right answer
        assert (local / name).read_text() == (class_fixture.EXPECTED / "a1" / name).read_text(), name


def test_merge_names_the_missing_parts_and_writes_nothing(fixture_class, tmp_path) -> None:
    base, subs, ids = fixture_class
    parts = tmp_path / "parts"
    shutil.copytree(base / "parts_a", parts)
    (parts / f"{ids[1]}.json").unlink()
    (parts / f"{ids[3]}.json").unlink()
    proc = run("merge", str(parts), "--out", str(tmp_path / "out"), "--submissions", str(subs), *OPTIONS,
               check=False)
    assert proc.returncode == 3
    assert f"missing parts (2 of {len(ids)}): {ids[1]}, {ids[3]}" in proc.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_merge_refuses_parts_graded_with_other_settings(fixture_class, tmp_path) -> None:
    base, subs, ids = fixture_class
    parts = tmp_path / "parts"
    shutil.copytree(base / "parts_a", parts)
    run("job", str(subs), "--parts", str(parts), "--student", ids[0], *OPTIONS[2:])  # another --timeout
    proc = run("merge", str(parts), "--out", str(tmp_path / "out"), "--submissions", str(subs), *OPTIONS,
               check=False)
    assert proc.returncode == 2 and f"{ids[0]}: graded with other settings" in proc.stderr
    assert not (tmp_path / "out").exists()


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
    assert [p.name for p in (tmp_path / "parts").iterdir()] == [f"{ids[2]}.json"]
    assert filecmp.cmp(base / "parts_a" / f"{ids[2]}.json", tmp_path / "parts" / f"{ids[2]}.json", shallow=False)


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

    for index in (3, 0, 5, 2, 4, 1):  # pods finish in any order
        env = {**os.environ, "JOB_COMPLETION_INDEX": str(index)}
        proc = subprocess.run(command("grade-job.yaml"), cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert (tmp_path / "parts" / f"{ids[index]}.json").exists()
    proc = subprocess.run(command("merge-job.yaml"), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert same_tree(base / "local", tmp_path / "out") == []


def _slurm() -> str | None:
    """Why no real Slurm run is possible here, or None when a controller answers."""
    if shutil.which("sbatch") is None:
        return "no Slurm here (sbatch not on PATH)"
    try:
        ok = subprocess.run(["sinfo", "--noheader", "--responding"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return "sbatch exists but sinfo does not answer"
    if ok.returncode != 0 or not ok.stdout.strip():
        return f"sbatch exists but no Slurm controller or node responds ({ok.stderr.strip()[:200]})"
    return None


NO_SLURM = _slurm()


@pytest.mark.skipif(NO_SLURM is not None, reason=str(NO_SLURM))
def test_a_real_slurm_array_run(fixture_class, tmp_path) -> None:
    base, subs, ids = fixture_class
    env = {**os.environ, "MLCOURSE_REPO": str(ROOT), "SUBMISSIONS": str(subs), "PARTS": str(tmp_path / "parts"),
           "OUT": str(tmp_path / "out"), "GRADING_OPTIONS": " ".join(OPTIONS)}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    proc = subprocess.run(["bash", str(ROOT / "deploy" / "slurm" / "submit.sh")], env=env, capture_output=True,
                          text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert same_tree(base / "local", tmp_path / "out") == []
