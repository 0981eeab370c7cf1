"""Grading beyond one machine: one job per student, then one merge.

    python -m grading job SUBMISSIONS --parts PARTS [--student ID | --index N] [grading options]
    python -m grading merge PARTS --out OUT --submissions SUBMISSIONS [the same grading options]

``job`` grades one student of SUBMISSIONS exactly as a local run would (the same
``cli.prepare`` and ``cli.grade_all``, restricted to that student) and writes the raw
results to ``PARTS/<id>.json``. The student is named with ``--student``, or picked by
position in the sorted student ids with ``--index``, which defaults to the array index the
scheduler sets: ``SLURM_ARRAY_TASK_ID`` (Slurm job arrays) or ``JOB_COMPLETION_INDEX``
(Kubernetes Indexed Jobs). A part is written under a hidden name and renamed, so a job
killed half-way leaves no part behind.

``merge`` prepares the same run over SUBMISSIONS (rubric, assignments, roster, submission
times), reads every part and calls ``cli.finish`` — the function a local run ends with — so
the gradebook, feedback, results.json, LMS exports and returned feedback are byte-identical
to one local run, whatever order the jobs finished in (rows are sorted by id). It names
every student without a part and writes nothing (exit 3); parts graded with other settings,
another rubric or other assignments are refused (exit 2).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mlcourse.safe_text import for_json

from . import cli
from .submissions import discover

INDEX_VARIABLES = ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX")
MISSING = 3
PART_FORMAT = 1


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
                                description="grade one student into PARTS/<id>.json (one task of a job array)")
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
        p.error("--out/--only are set by the job itself (PARTS/<id>.json)")
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
    opts = cli.parse_args([str(args.submissions), "--out", str(args.parts / sid), "--only", sid, *rest])
    if opts.return_to is not None:
        p.error("--return-to belongs to the merge: a job only grades")
    run = cli.prepare(opts, out=False)
    if isinstance(run, int):
        return run
    results, meta, elapsed = cli.grade_all(run)
    args.parts.mkdir(parents=True, exist_ok=True)
    part = {"format": PART_FORMAT, "student": sid, "settings": meta, "grading": _fingerprint(run),
            "results": results}
    tmp = args.parts / f".{sid}.incomplete-{os.getpid()}"
    tmp.write_text(for_json(part) + "\n", encoding="utf-8")
    os.replace(tmp, args.parts / f"{sid}.json")  # atomic: a part is complete or absent
    print(f"part {sid} ({elapsed:.1f} s) → {args.parts / f'{sid}.json'}", file=sys.stderr)
    return 0


def _fingerprint(run: "cli.Run") -> dict:
    """What must be the same in every part and in the merge: the graded exercises and assignments."""
    return {"exercises": [[e.chapter, e.function, e.check, e.rubric, e.points, list(run.rubric.seeds(e))]
                          for e in run.rubric.exercises],
            "assignments": [a.id for a in run.chosen]}


def merge(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m grading merge",
                                description="parts → the gradebook, feedback and results.json of one local run")
    p.add_argument("parts", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--submissions", type=Path, required=True,
                   help="the staged submissions the jobs graded: every student there must have a part")
    args, rest = p.parse_known_args(argv)
    if not args.parts.is_dir():
        print(f"error: parts folder {args.parts} does not exist", file=sys.stderr)
        return 2
    run = cli.prepare(cli.parse_args([str(args.submissions), "--out", str(args.out), *rest]), out=False)
    if isinstance(run, int):
        return run
    expected = [s.id for s in run.subs]
    results, settings, problems, found = [], None, [], set()
    for path in sorted(args.parts.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            part = json.loads(path.read_text(encoding="utf-8"))
            sid = part["student"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{path.name}: not a readable part ({exc})")
            continue
        if part.get("format") != PART_FORMAT or part.get("grading") != _fingerprint(run):
            problems.append(f"{sid}: graded with another rubric, manifest or assignment")
        got = part.get("settings") or {}
        if settings is None:  # the isolation in force is the jobs' machine's, the rest is the options'
            settings = cli.settings(run, str(got.get("isolation")))
        if got != settings:
            diff = ", ".join(f"{k} {got.get(k)!r} ≠ {v!r}" for k, v in settings.items() if got.get(k) != v)
            problems.append(f"{sid}: graded with other settings ({diff})")
        if sid not in expected:
            problems.append(f"{sid}: not a student of {args.submissions}")
        found.add(sid)
        results.extend(part.get("results", []))
    if problems:
        print("error: " + "\n       ".join(problems), file=sys.stderr)
        return 2
    missing = [i for i in expected if i not in found]
    if missing:
        print(f"missing parts ({len(missing)} of {len(expected)}): {', '.join(missing)} — "
              "re-run their jobs (`python -m grading job … --student ID`); nothing was written", file=sys.stderr)
        return MISSING
    run.out.mkdir(parents=True, exist_ok=True)
    os.chmod(run.out, 0o700)
    written = cli.finish(run, results, settings)
    print(f"merged {len(results)} part{'s' if len(results) != 1 else ''} → {run.out}/gradebook.csv"
          + "".join(f", {p.name}" for p in written), file=sys.stderr)
    return 0
