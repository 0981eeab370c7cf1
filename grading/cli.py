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
from pathlib import Path

from mlcourse.checks import Status

from . import config
from .grade import CaseCache, grade_submission, result, score
from .report import write_all
from .sandbox import Limits, UidPool
from .submissions import discover


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m grading", description=__doc__.split("\n\n")[0])
    p.add_argument("submissions", type=Path, help="folder with one sub-folder (or <id>.zip) per student")
    p.add_argument("--out", type=Path, required=True, help="where gradebook.csv, feedback/ and results.json go")
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
    p.add_argument("--no-isolation", action="store_true",
                   help="skip namespaces and the uid switch (only limits and timeouts; for debugging)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
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
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)  # the grades are nobody else's business (and no worker's)
    subs, warnings = discover(args.submissions)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    limits = Limits(call_timeout=args.timeout, cell_timeout=args.cell_timeout,
                    notebook_timeout=args.notebook_timeout, memory_mb=args.memory,
                    hide=[str(args.submissions.resolve()), str(out), *(str(h.resolve()) for h in args.hide)],
                    isolate=not args.no_isolation, extra_checks=extra)
    uids = UidPool(0 if args.no_isolation else args.workers)
    cache = CaseCache()
    started = time.perf_counter()
    results = []
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        futures = {pool.submit(_grade_one, s, rubric, limits, uids, cache, args.run_notebooks): s
                   for s in subs}
        progress = _progress(len(subs), args.quiet)
        for fut in as_completed(futures):
            results.append(fut.result())
            progress.update(1)
        progress.close()
    elapsed = time.perf_counter() - started
    isolation = "uid + namespaces (root)" if uids.enabled else (
        "limits only (--no-isolation)" if args.no_isolation else "limits only (not root)")
    meta = {"hidden_seeds": list(rubric.hidden_seeds), "timeout": args.timeout, "cell_timeout": args.cell_timeout,
            "notebook_timeout": args.notebook_timeout, "memory_mb": args.memory,
            "run_notebooks": args.run_notebooks, "isolation": isolation,
            "sandbox_uids": sorted(uids.used)}
    write_all(out, rubric, results, meta)
    print(f"graded {len(results)} submission{'s' if len(results) != 1 else ''} in {elapsed:.1f} s "
          f"({args.workers} worker{'s' if args.workers != 1 else ''}) → {out}/gradebook.csv", file=sys.stderr)
    return 0


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
    from tqdm import tqdm

    return tqdm(total=total, desc="grading", unit="submission", disable=quiet, file=sys.stderr)
