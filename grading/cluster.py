"""Grading beyond one machine: one job per student, then one merge.

    python -m grading job SUBMISSIONS --parts PARTS [--student ID | --index N] [grading options]
    python -m grading merge PARTS --out OUT [--submissions SUBMISSIONS] [grading options]

``job`` grades one student of SUBMISSIONS exactly as a local run would (it *is* a local
run restricted to that student, ``--only ID``) into ``PARTS/<id>/``. The student is named
with ``--student``, or picked by position in the sorted list of student ids with
``--index``, which defaults to the array index the scheduler sets: ``SLURM_ARRAY_TASK_ID``
(Slurm job arrays) or ``JOB_COMPLETION_INDEX`` (Kubernetes indexed Jobs). A part appears
only once it is complete (written to a hidden folder, then renamed), so a job killed
half-way leaves no part behind.

``merge`` reads every part and writes the gradebook, feedback and results.json through
the same function as a local run (``cli.write_outputs``): rows are sorted by id and
nothing depends on when a part was written, so the result is byte-identical to one local
run, whatever order the jobs finished in. With ``--submissions`` it names every student
whose part is missing and writes nothing (exit 3); parts graded with other settings or
another rubric are refused (exit 2).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from . import cli
from .submissions import discover

INDEX_VARIABLES = ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX")
MISSING = 3


def _rubric_doc(rubric) -> list[dict]:
    return [{"id": i.id, "description": i.description, "points": i.points, "category": i.category,
             "chapters": list(i.chapters), "partial": i.partial} for i in rubric.items]


def pick_student(ids: list[str], student: str | None, index: int | None,
                 env: dict[str, str] | None = None) -> str:
    """The student id a job grades; ValueError naming the argument when there is none."""
    env = os.environ if env is None else env
    if student is not None:
        if student not in ids:
            raise ValueError(f"--student {student!r}: no such submission (there are {len(ids)})")
        return student
    if index is None:
        for var in INDEX_VARIABLES:
            if env.get(var, "").strip():
                try:
                    index = int(env[var])
                except ValueError:
                    raise ValueError(f"{var}={env[var]!r}: expected a whole number") from None
                break
        else:
            raise ValueError("name the student: --student ID, --index N, or run as an array task "
                             f"({' or '.join(INDEX_VARIABLES)} set)")
    if not 0 <= index < len(ids):
        raise ValueError(f"index {index} is out of range: there are {len(ids)} submissions (0…{len(ids) - 1})")
    return ids[index]


def job(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m grading job",
                                description="grade one student into PARTS/<id>/ (one task of a job array)")
    p.add_argument("submissions", type=Path)
    p.add_argument("--parts", type=Path, help="folder of the parts (one sub-folder per student); required "
                                              "unless --list")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--student", help="the student id to grade")
    who.add_argument("--index", type=int, help="position in the sorted student ids (default: "
                                               f"${INDEX_VARIABLES[0]} or ${INDEX_VARIABLES[1]})")
    p.add_argument("--list", action="store_true", help="print the student ids, one a line, index order, and stop")
    args, rest = p.parse_known_args(argv)
    if "--out" in rest or "--only" in rest:
        p.error("--out/--only are set by the job itself (PARTS/<id>)")
    if not args.submissions.is_dir():
        print(f"error: submissions folder {args.submissions} does not exist", file=sys.stderr)
        return 2
    ids = [s.id for s in discover(args.submissions)[0]]
    if args.list:
        print("\n".join(ids))
        return 0
    if args.parts is None:
        p.error("--parts is required")
    try:
        sid = pick_student(ids, args.student, args.index)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.parts.mkdir(parents=True, exist_ok=True)
    final = args.parts / sid
    tmp = args.parts / f".{sid}.incomplete-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    code = cli.main([str(args.submissions), "--out", str(tmp), "--only", sid, "--quiet", *rest])
    if code != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        return code
    if final.exists():  # a re-run replaces the older part
        shutil.rmtree(final)
    os.rename(tmp, final)
    print(f"part {sid} → {final}", file=sys.stderr)
    return 0


def merge(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m grading merge",
                                description="parts → the gradebook, feedback and results.json of one local run")
    p.add_argument("parts", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--submissions", type=Path, default=None,
                   help="the staged submissions: every student there must have a part")
    args, rest = p.parse_known_args(argv)
    opts = cli.parse_args([str(args.submissions or args.parts), "--out", str(args.out), *rest])
    try:
        rubric, _ = cli.load_rubric(opts)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.parts.is_dir():
        print(f"error: parts folder {args.parts} does not exist", file=sys.stderr)
        return 2
    results, settings, problems = [], None, []
    for part in sorted(d for d in args.parts.iterdir() if d.is_dir() and not d.name.startswith(".")):
        try:
            doc = json.loads((part / "results.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{part.name}: unreadable results.json ({exc})")
            continue
        if doc.get("rubric") != _rubric_doc(rubric):
            problems.append(f"{part.name}: graded with another rubric")
        if settings is None:
            settings = doc.get("settings")
        elif doc.get("settings") != settings:
            problems.append(f"{part.name}: graded with other settings ({doc.get('settings')} ≠ {settings})")
        results.extend(doc.get("students", []))
    if problems:
        print("error: " + "\n       ".join(problems), file=sys.stderr)
        return 2
    ids = [r["student"] for r in results]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        print(f"error: more than one part for {', '.join(duplicated)}", file=sys.stderr)
        return 2
    if args.submissions is not None:
        expected = [s.id for s in discover(args.submissions)[0]]
        missing = [i for i in expected if i not in set(ids)]
        if missing:
            print(f"missing parts ({len(missing)} of {len(expected)}): {', '.join(missing)} — "
                  "re-run their jobs (`python -m grading job … --student ID`); nothing was written",
                  file=sys.stderr)
            return MISSING
        unknown = sorted(set(ids) - set(expected))
        if unknown:
            print(f"error: parts for students not in {args.submissions}: {', '.join(unknown)}", file=sys.stderr)
            return 2
    if settings is None:
        print(f"error: no parts in {args.parts}", file=sys.stderr)
        return MISSING
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    cli.write_outputs(out, rubric, results, settings)
    print(f"merged {len(results)} part{'s' if len(results) != 1 else ''} → {out}/gradebook.csv", file=sys.stderr)
    return 0
