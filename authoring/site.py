"""Build the course site into ``_build/html`` from the executed solution notebooks.

    python -m authoring.site --executed _build/executed       # what `make site` runs

The build is a list of small, named steps (:data:`STEPS`), each in a module of its own:

1. ``execute`` (authoring.chapters): find the chapters and make sure each has an executed
   copy from the nbval run that validated it (a stale one is executed again; a cell that
   raised fails the build).
2. ``pages`` (authoring.pages): a page per chapter — the student version of the code with the
   outputs of the complete run.
3. ``landing`` (authoring.landing): the landing and instructors' pages (chapter map, rubric)
   and the table of contents.
4. ``vendor`` (authoring.vendor): MathJax, require.js and the widgets manager served locally.
5. ``sphinx`` (authoring.sphinx): Sphinx with warnings as errors.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import chapters, landing, pages, sphinx, vendor
from .common import BUILD, SOLUTIONS, STAGE, VENDOR_URL, BuildError, log


@dataclass
class Build:
    """What the steps share: the inputs, and what earlier steps produced."""

    executed: Path
    out: Path
    solutions: Path = SOLUTIONS
    execute_missing: bool = True
    stage: Path = STAGE
    chapters: list[Path] = field(default_factory=list)
    info: list[tuple[str, str, str]] = field(default_factory=list)  # (file, title, summary) per chapter
    vendor_site: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def execute(b: Build) -> None:
    b.chapters = chapters.find_chapters(b.solutions)
    stale = chapters.stale_chapters(b.chapters, b.executed)
    if not stale:
        return
    if not b.execute_missing:
        raise BuildError("no up-to-date executed copy in " f"{b.executed} of: "
                         + ", ".join(p.name for p in stale) + " (run `make notebooks`)")
    chapters.execute_chapters(stale, b.executed)
    still = chapters.stale_chapters(stale, b.executed)
    if still:
        raise BuildError("after nbval, the executed copy in " f"{b.executed} of "
                         + ", ".join(p.name for p in still) + " is missing, recorded an error, or "
                         "differs from the solution (was the chapter edited while nbval ran?)")


def stage_pages(b: Build) -> None:
    b.info = pages.stage_chapters(b.chapters, b.executed, b.stage)


def stage_landing(b: Build) -> None:
    landing.stage_landing(b.stage, b.info)


def vendor_assets(b: Build) -> None:
    b.vendor_site = vendor.vendor()
    sphinx.write_config(b.stage, b.vendor_site)


def run_sphinx(b: Build) -> None:
    sphinx.sphinx_build(b.stage, b.out, BUILD / "doctrees")


STEPS: list[tuple[str, Callable[[Build], None]]] = [
    ("execute", execute),
    ("pages", stage_pages),
    ("landing", stage_landing),
    ("vendor", vendor_assets),
    ("sphinx", run_sphinx),
]


def build(executed: Path, out: Path, execute_missing: bool = True, solutions: Path = SOLUTIONS) -> dict:
    """Run :data:`STEPS` in order; write and return the summary (``_build/site.json``)."""
    b = Build(executed=executed, out=out, solutions=solutions, execute_missing=execute_missing)
    for name, step in STEPS:
        t = time.perf_counter()
        step(b)
        b.seconds[name] = time.perf_counter() - t
    s = b.seconds
    total = sum(s.values())
    pages_built = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")
                         if not p.relative_to(out).as_posix().startswith((VENDOR_URL, "_")))
    summary = {"chapters": [n for n, _, _ in b.info], "pages": pages_built,
               # of the executed copies the pages were made from (= the solutions at staging time)
               "sources": {p.name: chapters.source_digest(executed / p.name) for p in b.chapters},
               "seconds": {"execute": round(s["execute"], 1),
                           "stage_and_vendor": round(s["pages"] + s["landing"] + s["vendor"], 1),
                           "sphinx": round(s["sphinx"], 1), "total": round(total, 1)}}
    (BUILD / "site.json").write_text(json.dumps(summary, indent=2) + "\n")
    log(f"built {len(pages_built)} pages ({len(b.info)} chapters) into {out} in {total:.1f} s "
        f"(sphinx {s['sphinx']:.1f} s)")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executed", type=Path, default=BUILD / "executed",
                        help="folder of executed solution notebooks (nbval --save-executed)")
    parser.add_argument("--out", type=Path, default=BUILD / "html", help="where the site goes")
    parser.add_argument("--no-execute", action="store_true",
                        help="fail instead of executing chapters whose executed copy is missing or stale")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        build(args.executed.resolve(), args.out.resolve(), execute_missing=not args.no_execute,
              solutions=args.solutions.resolve())
    except BuildError as exc:
        print(f"[book] ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
