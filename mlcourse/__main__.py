"""The student's commands (``mlcourse …`` once the wheel is installed, or ``python -m mlcourse …``).

    mlcourse lab [FOLDER]                 open the course in JupyterLab
    mlcourse progress [FOLDER]            every chapter × exercise: ✅ / ❌ why / not started, and points
    mlcourse submit --name NAME [FOLDER]  one zip named for you: notebooks + validation report

FOLDER defaults to ``notebooks/`` when it exists here, else the current folder. None of
these commands writes to a notebook.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

KERNEL_CONFIG = 'c.InteractiveShellApp.extensions = ["mlcourse.friendly"]\n'


def lab(argv: list[str]) -> int:
    """JupyterLab on FOLDER; its kernels load mlcourse.friendly before any cell runs (any cell
    run before the imports then says which cell to run). Extra arguments go to JupyterLab."""
    from .report import default_folder  # lazy: each command loads only what it needs

    folder = default_folder(argv[0] if argv and not argv[0].startswith("-") else None)
    extra = argv[1:] if argv and not argv[0].startswith("-") else argv
    env = dict(os.environ)
    if "IPYTHONDIR" not in env:  # a course-local IPython profile, never the user's own
        env["IPYTHONDIR"] = str(ipython_dir(folder.resolve().parent / ".ipython"))
    root = ["--allow-root"] if hasattr(os, "getuid") and os.getuid() == 0 else []
    return subprocess.call([sys.executable, "-m", "jupyterlab", str(folder), *root, *extra], env=env)


def ipython_dir(path: Path) -> Path:
    """An IPython directory whose kernels load ``mlcourse.friendly`` (written once, kept)."""
    config = path / "profile_default" / "ipython_kernel_config.py"
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(KERNEL_CONFIG, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help") or argv[0] not in ("lab", "progress", "submit"):
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help", "help") else 2
    command, rest = argv[0], argv[1:]
    if command == "lab":
        return lab(rest)
    if command == "progress":
        from .report import main as progress_main  # lazy: see lab()

        return progress_main(rest)
    from .submit import main as submit_main  # lazy: see lab()

    return submit_main(rest)


if __name__ == "__main__":
    sys.exit(main())
