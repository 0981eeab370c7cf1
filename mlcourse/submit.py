"""Make a submission: one zip named for you, with your notebooks and their validation report.

    mlcourse submit --name "Ada Lovelace" [FOLDER]     # `make submit NAME="Ada Lovelace"`

writes ``Ada_Lovelace.zip`` (next to FOLDER) holding ``notebooks/NN_topic.ipynb`` — every
chapter notebook, exactly as saved — and ``validation.txt``/``validation.json``: the progress
table of ``mlcourse progress`` at the moment you submitted. Hand in that one file. Nothing in
FOLDER is changed.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from dataclasses import asdict
from pathlib import Path

from .report import default_folder, render_text, report


def file_name(name: str) -> str:
    """``Ada Lovelace`` → ``Ada_Lovelace``: letters, digits, ``.``, ``_`` and ``-`` only."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", name.strip()).strip("._-")[:80]
    if not text:
        raise ValueError(f"name: expected your name (letters or digits), got {name!r}")
    return text


def submit(folder: str | Path, name: str, out: str | Path | None = None) -> Path:
    """Write the submission zip for the notebooks in ``folder``; return its path."""
    folder = Path(folder).resolve()
    notebooks = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no chapter notebooks (NN_topic.ipynb) in {folder}")
    rep = report(folder)
    target = Path(out) if out else folder.parent / f"{file_name(name)}.zip"
    if target.resolve().parent == folder and target.suffix == ".ipynb":
        raise ValueError("out: the submission is a .zip, never a notebook")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for nb in notebooks:
            z.write(nb, f"notebooks/{nb.name}")
        z.writestr("validation.txt", f"Submitted by {name}\n\n{render_text(rep)}\n")
        z.writestr("validation.json", json.dumps({"name": name, **asdict(rep)}, ensure_ascii=False, indent=1))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlcourse submit", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", default=None, help="the folder with your notebooks (default: notebooks/ or .)")
    parser.add_argument("--name", required=True, help='your name as your instructor knows it, e.g. "Ada Lovelace"')
    parser.add_argument("--out", help="where to write the zip (default: <your name>.zip beside the folder)")
    args = parser.parse_args(argv)
    try:
        path = submit(default_folder(args.folder), args.name, args.out)
    except (ValueError, FileNotFoundError) as exc:
        print(f"mlcourse submit: {exc}", file=sys.stderr)
        return 2
    with zipfile.ZipFile(path) as z:
        print(z.read("validation.txt").decode("utf-8"))
    print(f"\nWrote {path} — hand in this one file.")
    return 0
