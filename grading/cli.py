"""``python -m grading SUBMISSIONS_DIR --out OUT_DIR`` — grade every submission into a gradebook.

See grading/README.md for the submission layout, the outputs and the security model.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from mlcourse.checks import Status

from . import config, roster
from .exports import FORMATS
from .grade import CaseCache, grade_submission, result, score
from .gradebook import build_rows
from .report import write_all
from .returns import return_all
from .sandbox import Limits
from .submissions import discover
from .submitted import MANIFEST, folder_name, submission_times
from .uids import UidPool


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m grading", description=__doc__.split("\n\n")[0])
    p.add_argument("submissions", type=Path, help="folder with one sub-folder (or <id>.zip) per student")
    p.add_argument("--out", type=Path, required=True, help="where gradebook.csv, feedback/ and results.json go")
    p.add_argument("--assignment", action="append", default=[], metavar="ID",
                   help="grade only this assignment of the rubric (repeatable; default: every assignment)")
    p.add_argument("--roster", type=Path, default=None,
                   help="roster.csv (id, name, email, section, LMS ids) mapping submission folders to students")
    p.add_argument("--export", action="append", default=[], choices=FORMATS,
                   help="also write an LMS import file: canvas.csv, moodle.csv or grades.csv (repeatable)")
    p.add_argument("--return-to", type=Path, default=None, metavar="DIR",
                   help="also put each student's feedback into DIR/<id>/feedback/<assignment>/")
    p.add_argument("--workers", type=int, default=1, help="submissions graded in parallel (default 1)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds for one call of a student's function (default 60)")
    p.add_argument("--cell-timeout", type=float, default=300.0,
                   help="seconds for one cell with --run-notebooks (default 300, as nbval in make test)")
    p.add_argument("--notebook-timeout", type=float, default=600.0,
                   help="seconds for everything done with one notebook (default 600)")
    p.add_argument("--memory", type=int, default=4096, help="memory cap per notebook process in MB (default 4096)")
    p.add_argument("--run-notebooks", action=argparse.BooleanOptionalAction, default=False,
                   help="also execute every notebook top to bottom and report whether it runs cleanly "
                        "(slow: about a minute per chapter; default off)")
    p.add_argument("--hidden-seeds", type=str, default=None,
                   help="comma-separated seeds of the hidden test cases (default: rubric.toml [grader])")
    p.add_argument("--hide", type=Path, action="append", default=[],
                   help="a path student code must not see (hidden data, …); repeatable")
    p.add_argument("--rubric", type=Path, default=config.RUBRIC, help=argparse.SUPPRESS)
    p.add_argument("--manifest", type=Path, default=config.MANIFEST, help=argparse.SUPPRESS)
    p.add_argument("--checks", type=Path, action="append", default=[], help=argparse.SUPPRESS)
    # first sandbox uid tried (tests use their own range to tell their sandboxes' leftovers apart)
    p.add_argument("--uid-base", type=int, default=64000, help=argparse.SUPPRESS)
    p.add_argument("--no-isolation", action="store_true",
                   help="skip namespaces and the uid switch (only limits and timeouts; for debugging)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--only", metavar="ID", default=None, help=argparse.SUPPRESS)  # `python -m grading job`
    return p.parse_args(argv)


@dataclass
class Run:
    """Everything decided before grading: shared by a local run, `grading job` and `grading merge`."""

    args: argparse.Namespace
    rubric: config.Rubric        # the chosen assignments' part of the rubric: what is graded
    full_rubric: config.Rubric
    chosen: list[config.Assignment]
    students: list | None        # the roster, if any
    owner: dict[str, str]
    times: dict
    subs: list
    out: Path
    limits: Limits


def prepare(args: argparse.Namespace, out: bool = True) -> Run | int:
    """Check the arguments, read the rubric, roster and submissions; an exit code on error.

    ``args.only`` keeps one submission (a job); ``out=False`` leaves the output folder alone.
    """
    if not args.submissions.is_dir():
        print(f"error: submissions folder {args.submissions} does not exist", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        extra = config.load_check_modules(args.checks)
        rubric = config.load(args.rubric, args.manifest)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.hidden_seeds is not None:
        rubric.hidden_seeds = tuple(int(s) for s in args.hidden_seeds.split(",") if s.strip())
    try:
        chosen = _assignments(rubric, args.assignment, args.manifest)
        students = roster.read(args.roster) if args.roster is not None else None
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.return_to is not None and not args.return_to.is_dir():
        print(f"error: --return-to {args.return_to} is not a folder", file=sys.stderr)
        return 2
    full_rubric, rubric = rubric, rubric.only(chosen)
    out_dir = args.out.resolve()
    if out:
        out_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(out_dir, 0o700)  # the grades are nobody else's business (and no worker's)
    subs, warnings = discover(args.submissions)
    instructor_files = {MANIFEST, args.roster.name if args.roster else None}
    for w in warnings:
        if not any(w.startswith(f"skipped {name}:") for name in instructor_files if name):
            print(f"warning: {w}", file=sys.stderr)
    try:
        times, time_warnings = submission_times(args.submissions, subs)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for w in time_warnings:
        print(f"warning: {w}", file=sys.stderr)
    owner = _match_roster(students, subs) if students is not None and args.only is None else {}
    if args.only is not None:
        subs = [s for s in subs if s.id == args.only]
        if not subs:
            print(f"error: no submission with student id {args.only!r} in {args.submissions}", file=sys.stderr)
            return 2
    limits = Limits(call_timeout=args.timeout, cell_timeout=args.cell_timeout,
                    notebook_timeout=args.notebook_timeout, memory_mb=args.memory,
                    hide=[str(args.submissions.resolve()), str(out_dir), *(str(h.resolve()) for h in args.hide),
                          *([str(args.roster.resolve())] if args.roster else []),
                          *([str(args.return_to.resolve())] if args.return_to else [])],
                    isolate=not args.no_isolation, extra_checks=extra)
    return Run(args, rubric, full_rubric, chosen, students, owner, times, subs, out_dir, limits)


def grade_all(run: Run) -> tuple[list[dict], dict, float]:
    """Grade every submission of ``run``: (results, settings, seconds)."""
    args = run.args
    uids = UidPool(0 if args.no_isolation else args.workers, base=args.uid_base)
    cache = CaseCache()
    started = time.perf_counter()
    results = []
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        futures = {pool.submit(_grade_one, s, run.rubric, run.limits, uids, cache, args.run_notebooks): s
                   for s in run.subs}
        progress = _progress(len(run.subs), args.quiet)
        for fut in as_completed(futures):
            results.append(fut.result())
            progress.update(1)
        progress.close()
    elapsed = time.perf_counter() - started
    isolation = "uid + namespaces (root)" if uids.enabled else (
        "limits only (--no-isolation)" if args.no_isolation else "limits only (not root)")
    return results, settings(run, isolation), elapsed


def settings(run: Run, isolation: str) -> dict:
    """The grading settings recorded in results.json (and checked by `grading merge`)."""
    args = run.args
    return {"hidden_seeds": list(run.rubric.hidden_seeds), "timeout": args.timeout, "cell_timeout": args.cell_timeout,
            "notebook_timeout": args.notebook_timeout, "memory_mb": args.memory,
            "run_notebooks": args.run_notebooks, "isolation": isolation}


def finish(run: Run, results: list[dict], meta: dict) -> list[Path]:
    """Gradebook, feedback, exports and returned feedback from the results: how a local run and
    `grading merge` both end, whatever order the results come in."""
    args = run.args
    rows = build_rows(results, run.full_rubric, run.chosen, run.students, run.owner, run.times)
    written = write_all(run.out, run.full_rubric, run.chosen, rows, meta, args.export,
                        has_roster=run.students is not None)
    if args.return_to is not None:
        returned, problems = return_all(args.return_to, rows, run.chosen, run.full_rubric)
        for problem in problems:
            print(f"warning: {problem}", file=sys.stderr)
        print(f"returned {returned} feedback folder{'s' if returned != 1 else ''} to {args.return_to}/<id>/feedback/",
              file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> int:
    run = prepare(parse_args(argv))
    if isinstance(run, int):
        return run
    results, meta, elapsed = grade_all(run)
    written = finish(run, results, meta)
    print(f"graded {len(results)} submission{'s' if len(results) != 1 else ''} "
          f"({', '.join(a.id for a in run.chosen)}) in {elapsed:.1f} s "
          f"({run.args.workers} worker{'s' if run.args.workers != 1 else ''}) → {run.out}/gradebook.csv"
          + "".join(f", {p.name}" for p in written), file=sys.stderr)
    return 0


def _assignments(rubric: config.Rubric, wanted: list[str], manifest: Path) -> list[config.Assignment]:
    """The assignments to grade: those asked for, else every one that has exercises."""
    try:
        chosen = [rubric.assignment(a) for a in dict.fromkeys(wanted)] or rubric.assignments
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    graded = {e.rubric for e in rubric.exercises}
    empty = [a.id for a in chosen if not graded & set(a.items)]
    if empty and wanted:
        raise ValueError(f"no exercise of {manifest} belongs to assignment {', '.join(empty)}")
    return [a for a in chosen if a.id not in empty]


def _match_roster(students: list[roster.Student], subs: list) -> dict[str, str]:
    """{submission id: roster id}; says who has no submission and which folders are unknown."""
    owner, missing, strangers = roster.match(students, {s.id: folder_name(s) for s in subs})
    if missing:
        print(f"roster: {len(missing)} without a submission (a 'no submission' row each): "
              f"{', '.join(missing)}", file=sys.stderr)
    if strangers:
        print(f"roster: {len(strangers)} submission{'s' if len(strangers) != 1 else ''} not in the roster "
              f"(graded, in gradebook.csv as 'not in roster', left out of LMS exports): "
              f"{', '.join(strangers)}", file=sys.stderr)
    return owner


def _grade_one(sub, rubric, limits, uids, cache, run_notebooks) -> dict:
    """grade_submission, except that a bug in the grader costs one row, not the whole run."""
    try:
        return grade_submission(sub, rubric, limits, uids, cache, run_notebooks)
    except Exception:  # noqa: BLE001
        print(f"grader error while grading {sub.id}:\n{traceback.format_exc()}", file=sys.stderr)
        verdicts = [result(e, Status.GRADER_ERROR, f"`{e.function}`: could not be graded because of a problem in "
                                              "the grader (your instructor has the details)") for e in rubric.exercises]
        row = score(sub, rubric, verdicts, {})
        row["notes"].insert(0, "grader error: see the grader's log")
        return row


def _progress(total: int, quiet: bool):
    return tqdm(total=total, desc="grading", unit="submission", disable=quiet, file=sys.stderr)
