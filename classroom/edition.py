"""The student edition as a git repository the hub's students pull from with nbgitpuller.

``stage(dest)`` lays out what the hub publishes: the student edition (``make edition``,
authoring/edition.py) without its ``wheels/`` and ``Makefile`` — on the hub that wheel is
already installed in every student's environment (``make hub-env``), so the commands are
``mlcourse progress`` / ``mlcourse submit`` in a terminal — i.e. ``notebooks/`` and the
edition's ``README.md``.

``publish(source, repo)`` makes the repository's ``main`` branch hold exactly the files of
``source`` (one commit per release, none when nothing changed). The repository is a bare
one in the hub's folder, readable by everyone on the machine and written only by root;
students' servers clone it by its ``file://`` URL — no network, no git server. nbgitpuller
then merges each release into the student's copy, keeping the student's version of any
file both sides changed (``git merge -Xours`` after committing the student's work), so a
release never overwrites a student's work.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

BRANCH = "main"
AUTHOR = ["-c", "user.name=mlcourse instructor", "-c", "user.email=instructor@localhost"]


def _git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(["git", *AUTHOR, *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.strip()[-1000:]}")
    return proc.stdout.strip()


HUB_PARTS = ("notebooks", "README.md")  # of the edition tree; wheels/ and Makefile stay out


def stage(dest: Path) -> Path:
    """Build the student edition and copy the part the hub publishes into ``dest`` (replaced)."""
    from authoring import edition as student_edition  # lazy: only staging builds the edition

    student_edition.build()
    tree = student_edition.OUT / student_edition.NAME
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for part in HUB_PARTS:
        src = tree / part
        shutil.copytree(src, dest / part) if src.is_dir() else shutil.copy2(src, dest / part)
    return dest


def url(repo: Path) -> str:
    return f"file://{repo}"


def pull_path(repo_url: str, folder: str, branch: str = BRANCH) -> str:
    """nbgitpuller's path (below a user's server): clone or merge ``repo_url`` into ~/``folder``, open it in Lab.

    The link to hand out is ``https://HUB/hub/user-redirect/`` + this path.
    """
    return (f"git-pull?repo={quote(repo_url, safe='')}&branch={branch}&targetpath={folder}"
            f"&urlpath={quote(f'lab/tree/{folder}', safe='')}")


def publish(source: Path, repo: Path, message: str = "Release of the student edition") -> str:
    """Commit ``source``'s files as the new state of ``repo``'s main branch; returns the commit id."""
    if not source.is_dir():
        raise ValueError(f"edition source {source} is not a folder")
    repo.parent.mkdir(parents=True, exist_ok=True)
    if not (repo / "HEAD").exists():
        _git("init", "--quiet", "--bare", f"--initial-branch={BRANCH}", str(repo))
    work = repo.with_name(repo.name.removesuffix(".git") + ".work")
    if not (work / ".git").exists():
        shutil.rmtree(work, ignore_errors=True)
        _git("clone", "--quiet", str(repo), str(work))
        _git("checkout", "--quiet", "-B", BRANCH, cwd=work)
    for entry in work.iterdir():  # the release is exactly ``source``: removed files go too
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    shutil.copytree(source, work, dirs_exist_ok=True, symlinks=False,
                    ignore=shutil.ignore_patterns(".git", ".ipynb_checkpoints", "__pycache__"))
    _git("add", "--all", cwd=work)
    if _git("status", "--porcelain", cwd=work):
        _git("commit", "--quiet", "-m", message, cwd=work)
        _git("push", "--quiet", "origin", f"{BRANCH}:{BRANCH}", cwd=work)
    for dirpath, dirnames, filenames in os.walk(repo):  # readable by the students' git
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
    return _git("rev-parse", BRANCH, cwd=work)


def trust(names: list[str], repo: Path) -> None:
    """Let each student's git read ``repo`` though root owns it (git's ``safe.directory``, in ~/.gitconfig).

    Done as the student (``runuser``), so nothing is written into a home as root.
    """
    for name in names:
        cmd = ["runuser", "-u", name, "--", "git", "config", "--global"]
        have = subprocess.run([*cmd, "--get-all", "safe.directory"], capture_output=True, text=True,
                              cwd="/").stdout.split("\n")
        if str(repo) not in have:
            subprocess.run([*cmd, "--add", "safe.directory", str(repo)], check=True, capture_output=True, cwd="/")
