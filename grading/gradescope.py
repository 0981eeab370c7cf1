"""A Gradescope autograder for one assignment: ``make gradescope ASSIGNMENT=ch01``.

``python -m grading.gradescope build --assignment ch01 --out autograder.zip`` writes the zip
Gradescope's "Autograder Specifications" ask for (gradescope-autograders.readthedocs.io,
specs): ``setup.sh`` and ``run_autograder`` at the root of the archive, which Gradescope
extracts to ``/autograder/source``. ``setup.sh`` runs once while the image is built (Ubuntu,
as root) and installs the course package; ``run_autograder`` runs for every submission,
grades ``/autograder/submission`` with this grader (sandbox, hidden cases and all) and
writes ``/autograder/results/results.json``: ``score``, ``output`` and one entry in
``tests`` per exercise (``name``, ``score``, ``max_score``, ``status``, ``output``).

The bundle holds the course package (``mlcourse/``, ``grading/``), ``data/`` and the
project metadata — never ``solutions/``, notebooks or tests. Late work is left to
Gradescope's own due dates and late policies. The ``/autograder`` root and the Python
are configurable (``MLCOURSE_AUTOGRADER_ROOT``, ``MLCOURSE_PYTHON``) so that tests can
run the bundle in a simulated layout in a temporary folder.
"""
from __future__ import annotations

import argparse
import os
import stat
import sys
import time
import zipfile
from pathlib import Path

from mlcourse.safe_text import for_json

from . import assignments as asg
from . import config
from .feedback import exercises
from .grade import CaseCache, grade_submission
from .gradebook import fmt
from .sandbox import Limits
from .submissions import Submission, _from_folder
from .uids import UidPool

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ("mlcourse", "grading", "data")
BUNDLED_FILES = ("pyproject.toml", "README.md")
EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed entry times: the same sources give the same zip

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while building the autograder image (Ubuntu).
set -euo pipefail
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
/autograder/venv/bin/python -m pip install -e /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission (as root, working directory /autograder).
# It grades /autograder/submission and writes /autograder/results/results.json.
set -uo pipefail
AUTOGRADER="${{MLCOURSE_AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{MLCOURSE_PYTHON:-$AUTOGRADER/venv/bin/python}}"
cd "$AUTOGRADER"
exec "$PYTHON" -I -m grading.gradescope run --root "$AUTOGRADER" --assignment {assignment}
"""


def _files() -> list[tuple[str, Path]]:
    out = [(name, ROOT / name) for name in BUNDLED_FILES if (ROOT / name).is_file()]
    for top in BUNDLED:
        for path in sorted((ROOT / top).rglob("*")):
            rel = path.relative_to(ROOT)
            if path.is_file() and not path.is_symlink() and "__pycache__" not in rel.parts \
                    and not any(p.startswith(".") for p in rel.parts) and path.suffix not in (".pyc", ".ipynb"):
                out.append((rel.as_posix(), path))
    return out


def build(assignment: str, out: Path) -> Path:
    """Write the autograder zip for ``assignment`` (an id of grading/rubric.toml) to ``out``."""
    config.load().assignment(assignment)  # fails with the list of known ids
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER.format(assignment=assignment))):
            info = zipfile.ZipInfo(name, EPOCH)
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
        for name, path in _files():
            info = zipfile.ZipInfo(name, EPOCH)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_STORED if path.suffix == ".gz" else zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())
    return out


def results(result: dict, rubric: config.Rubric, assignment: config.Assignment) -> dict:
    """Gradescope's results.json for one graded submission of ``assignment``."""
    items = {i.id: i for i in rubric.items}
    earned_all = {i: result["items"][i]["note"] == "" for i in assignment.items}
    verdicts = [v for i in assignment.items for v in result["items"][i]["exercises"]]
    verdicts.sort(key=lambda v: v["chapter"])  # chapter order, manifest order within a chapter
    tests = []
    for e in exercises(verdicts, items, earned_all):
        nb = result["notebooks"].get(e["chapter"], {})
        message = e["message"]
        if nb.get("status") in ("missing", "invalid"):
            message = nb.get("message") or message
        tests.append({"name": f"{e['chapter']} · {e['function']}", "score": e["points"], "max_score": e["max"],
                      "status": "passed" if e["ok"] else "failed", "output": message, "output_format": "md"})
    earned = {i: result["items"][i]["points"] for i in assignment.items}
    scored = asg.score(assignment, items, earned, asg.Late(0, 0.0, ""))
    lines = [f"{assignment.title}: {fmt(scored['points'])} / {fmt(scored['max'])}"]
    for chapter, nb in sorted(result["notebooks"].items()):
        if nb.get("message"):
            lines.append(f"{chapter}: {nb['message']}")
        lines += [f"{chapter}: while loading your definitions: {p}" for p in nb.get("load_problems", [])]
    lines += [n for n in result["notes"] if not any(n.startswith(f"{c}: ") for c in result["notebooks"])]
    return {"score": scored["points"], "output": "\n\n".join(lines), "output_format": "md",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def run(root: Path, assignment_id: str, timeout: float = 60.0) -> dict:
    """Grade ``root/submission`` for one assignment; write ``root/results/results.json``."""
    started = time.perf_counter()
    rubric = config.load()
    assignment = rubric.assignment(assignment_id)
    graded = rubric.only([assignment])
    sub = Submission(id="submission", source="submission/")
    _from_folder(sub, root / "submission")
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    limits = Limits(call_timeout=timeout, hide=[str(results_dir), str(root / "submission")])
    uids = UidPool(1)
    result = grade_submission(sub, graded, limits, uids, CaseCache())
    doc = results(result, rubric, assignment)
    doc["execution_time"] = round(time.perf_counter() - started, 1)
    (results_dir / "results.json").write_text(for_json(doc) + "\n", encoding="utf-8")
    return doc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m grading.gradescope", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write autograder.zip for one assignment")
    b.add_argument("--assignment", required=True, help="an assignment id of grading/rubric.toml")
    b.add_argument("--out", type=Path, default=Path("_build/autograder.zip"))
    r = sub.add_parser("run", help="(inside Gradescope) grade /autograder/submission")
    r.add_argument("--root", type=Path, default=Path(os.environ.get("MLCOURSE_AUTOGRADER_ROOT", "/autograder")))
    r.add_argument("--assignment", required=True)
    args = p.parse_args(argv)
    try:
        if args.command == "build":
            path = build(args.assignment, args.out)
            print(f"wrote {path} ({path.stat().st_size >> 10} KB) for assignment {args.assignment}; "
                  "upload it as the assignment's autograder (Gradescope: Configure Autograder → Zip file upload)",
                  file=sys.stderr)
        else:
            doc = run(args.root, args.assignment)
            print(f"score {fmt(doc['score'])}, {len(doc['tests'])} tests → {args.root}/results/results.json")
    except (KeyError, ValueError, OSError) as exc:
        print(f"error: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
