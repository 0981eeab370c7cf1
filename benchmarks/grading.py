"""How fast does the autograder grade? N copies of the solutions, with 1 and 2 workers.

    .venv/bin/python benchmarks/grading.py [-n 4] [--run-notebooks]

Prints seconds per submission (target: one complete submission ≤ 60 s on 2 cores) and
checks that both runs give the same gradebook.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def grade(subs: Path, out: Path, workers: int, run_notebooks: bool) -> float:
    cmd = [sys.executable, "-m", "grading", str(subs), "--out", str(out), "--workers", str(workers), "--quiet"]
    if run_notebooks:
        cmd.append("--run-notebooks")
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=4, help="copies of the solutions to grade (default 4)")
    parser.add_argument("--run-notebooks", action="store_true", help="also run every notebook top to bottom")
    args = parser.parse_args()
    chapters = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    print(f"{args.n} submissions of {len(chapters)} chapters each "
          f"({', '.join(p.stem[:2] for p in chapters)}){' + top-to-bottom runs' if args.run_notebooks else ''}")
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        for i in range(args.n):
            (subs / f"student{i:03d}").mkdir(parents=True)
            for p in chapters:
                shutil.copy(p, subs / f"student{i:03d}" / p.name)
        books = []
        for workers in (1, 2):
            out = Path(tmp) / f"out{workers}"
            dt = grade(subs, out, workers, args.run_notebooks)
            books.append((out / "gradebook.csv").read_text())
            print(f"  {workers} worker{'s' if workers > 1 else ' '}: {dt:6.1f} s in all, "
                  f"{dt / args.n:5.1f} s per submission (throughput)")
        print(f"  same gradebook with 1 and 2 workers: {books[0] == books[1]}")
        import csv
        import io

        totals = [row["course"] for row in csv.DictReader(io.StringIO(books[0]))]
        print(f"  course totals: {', '.join(sorted(set(totals)))}")


if __name__ == "__main__":
    main()
