"""The class's hub without a browser: roster, safe collection, feedback return, cgroup limits.

The collection tests build a fake student home owned by a uid that no account uses, as
root (skipped otherwise): links, FIFOs, a classmate's file and a folder someone else made
must be skipped (returning feedback is grading/returns.py's, tested in
tests/test_grading_class.py). The limit tests run a process inside a student's cgroups and watch the
kernel enforce them (skipped where cgroups cannot be written).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from classroom import accounts, collect, limits
from classroom.accounts import Student

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (another uid owns the fake home)")
UID = 61_234  # not in /etc/passwd (checked below)


def test_roster_reads_names_and_rejects_bad_ones(tmp_path: Path) -> None:
    r = tmp_path / "roster.csv"
    r.write_text("Name,Username,email\nAna,ana,a@x\nBen,ben_2,b@x\n")
    assert accounts.read_roster(r) == ["ana", "ben_2"]
    r.write_text("name,email\nAna,a@x\n")
    with pytest.raises(ValueError, match="needs a header row with a column named one of username"):
        accounts.read_roster(r)
    r.write_text("username\nana\nRoot; rm -rf /\n")
    with pytest.raises(ValueError, match="line 3: 'Root; rm -rf /' is not a usable account name"):
        accounts.read_roster(r)
    r.write_text("student\nana\nana\n")
    with pytest.raises(ValueError, match="line 3: 'ana' is listed twice"):
        accounts.read_roster(r)


def test_an_existing_user_is_never_taken_over() -> None:
    with pytest.raises(ValueError, match="'root' already exists on this machine"):
        accounts.lookup("root")


def test_assignment_chapters() -> None:
    assert collect.assignment_chapters("ch01") == ["01_linear_regression"]
    with pytest.raises(ValueError, match="no assignment '../x'; the rubric declares: "):
        collect.assignment_chapters("../x")


@pytest.fixture
def fake_home(tmp_path: Path):
    """A home owned by root for now (the tests hand it over); its parent is traversable by anyone."""
    import pwd
    import shutil
    import tempfile

    with pytest.raises(KeyError):
        pwd.getpwuid(UID)
    base = Path(tempfile.mkdtemp(prefix="mlct-home-"))
    os.chmod(base, 0o755)
    home = base / "home"
    home.mkdir()
    yield Student("fake", UID, UID, home)
    shutil.rmtree(base)


def _own(path: Path, uid: int = UID) -> Path:
    os.lchown(path, uid, uid)
    return path


@ROOT_ONLY
def test_collect_takes_only_the_students_own_regular_files(fake_home: Student, tmp_path: Path) -> None:
    home = _own(fake_home.home)
    ed = home / "mlcourse"
    ed.mkdir()
    _own(ed)
    (ed / "01_a.ipynb").write_text("mine")
    _own(ed / "01_a.ipynb")
    (tmp_path / "classmate.ipynb").write_text("someone else's")
    (ed / "01_b.ipynb").symlink_to(tmp_path / "classmate.ipynb")
    _own(ed / "01_b.ipynb")
    (ed / "01_c.ipynb").write_text("root's file")          # not owned by the student
    os.mkfifo(ed / "01_d.ipynb")                              # would hang a plain read
    _own(ed / "01_d.ipynb")
    (ed / "sub").mkdir()
    _own(ed / "sub")
    (ed / "sub" / "01_e.ipynb").write_text("nested, mine")
    _own(ed / "sub" / "01_e.ipynb")
    (ed / "planted").mkdir()                                   # a folder the student does not own
    (ed / "planted" / "01_f.ipynb").write_text("planted")
    _own(ed / "planted" / "01_f.ipynb")
    (ed / "linked").symlink_to(tmp_path)
    _own(ed / "linked")
    (ed / "01_g.ipynb").write_text("not in the assignment")
    _own(ed / "01_g.ipynb")
    dest = tmp_path / "dest"
    names = {f"01_{c}.ipynb" for c in "abcdef"}
    t0 = time.monotonic()
    skipped = collect.collect_home(fake_home, "mlcourse", names, dest)
    assert time.monotonic() - t0 < 30  # the FIFO did not block
    got = {str(p.relative_to(dest)): p.read_text() for p in dest.rglob("*") if p.is_file()}
    assert got == {"01_a.ipynb": "mine", "sub/01_e.ipynb": "nested, mine"}
    text = "\n".join(skipped)
    assert "01_b.ipynb skipped (a link)" in text
    assert "01_c.ipynb skipped (not owned by fake)" in text
    assert "01_d.ipynb skipped (not a regular file)" in text
    assert "~/mlcourse/planted is not the student's folder" in text


@ROOT_ONLY
def test_collect_refuses_an_edition_folder_that_is_a_link(fake_home: Student, tmp_path: Path) -> None:
    _own(fake_home.home)
    other = tmp_path / "other"
    other.mkdir()
    (other / "01_a.ipynb").write_text("another student's")
    (fake_home.home / "mlcourse").symlink_to(other)
    _own(fake_home.home / "mlcourse")
    dest = tmp_path / "dest"
    assert collect.collect_home(fake_home, "mlcourse", {"01_a.ipynb"}, dest) == \
        ["fake: ~/mlcourse is not a folder the student owns"]
    assert not dest.exists()


LIMITED = pytest.mark.skipif(os.geteuid() != 0 or limits.version() is None,
                             reason="needs root and writable cgroups (v1 or v2)")


def _run_in_group(group: limits.Group, code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], preexec_fn=lambda: limits.join(group),
                          capture_output=True, text=True, timeout=timeout)


@LIMITED
def test_memory_limit_is_enforced_by_the_kernel() -> None:
    group = limits.create("mlct-limit-test", 64 << 20, 1.0)
    try:
        assert group.version is not None, group.why_not
        ok = _run_in_group(group, "b = bytearray(16 << 20); print('fine')")
        assert ok.returncode == 0 and "fine" in ok.stdout
        proc = _run_in_group(group, "b = bytearray(512 << 20); b[::4096] = b'x' * len(b[::4096]); print('escaped')")
        assert proc.returncode == -signal.SIGKILL and "escaped" not in proc.stdout
        assert limits.usage(group)["oom_kills"] >= 1
    finally:
        limits.remove("mlct-limit-test")
    assert not any(d.exists() for d in group.paths.values())


@LIMITED
def test_cpu_limit_throttles_a_busy_loop() -> None:
    group = limits.create("mlct-cpu-test", 256 << 20, 0.2)
    try:
        code = ("import resource, time\nt = time.monotonic()\nwhile time.monotonic() - t < 1.5: pass\n"
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_utime)")
        proc = _run_in_group(group, code)
        assert proc.returncode == 0, proc.stderr
        assert limits.usage(group)["throttled"] > 0
        # 1.5 s of wall time at 0.2 CPU: about 0.3 s of CPU (start-up included); far below 1.5 s
        assert float(proc.stdout) < 0.9
    finally:
        limits.remove("mlct-cpu-test")
