"""``make mutants``: plant typical student bugs into every solution block and run its check.

For every ``### BEGIN SOLUTION`` block of ``solutions/*.ipynb`` this makes the mutants of
:mod:`qa.mutate`, loads the chapter's definitions with the mutated cell in place of the
original, and runs the checks the notebook calls after that block. Each mutant runs in a
forked child process with a time limit (a mutant can loop forever), so a crash or a hang
costs one mutant, never the run. Every mutant gets one outcome:

* ``silent``     — every check passed: the bug goes unnoticed (unless the allow-list
                   ``qa/equivalent_mutants.toml`` says, with a reason, that it is no bug);
* ``generic``    — rejected, but the message only says *what* differs (an element, a shape);
* ``diagnosed``  — rejected with a message that names a cause (a hypothesis the check tested);
* ``exception``  — the mutant itself raised; the check names the exception and the student's
                   line (counted as diagnosed: the line is the cause);
* ``timeout``    — the mutant ran longer than the limit (the grader's own limit catches it);
* ``raised``     — the *check* crashed: a traceback instead of a verdict (always a defect).

Usage: ``python -m qa.mutants [--chapters 03 09] [--jobs 2] [--timeout 60]``; it prints one
line per exercise and the totals, writes every mutant's message to ``_build/mutants/``, and
exits non-zero when the targets are missed (0 silent outside the allow-list, 0 raised,
≥ 90 % of the caught mutants diagnosed).
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # children are forked: one BLAS thread each

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

try:
    import tomllib  # noqa: E402
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]  # noqa: E402

import nbformat  # noqa: E402

from mlcourse.notebook import definitions  # noqa: E402

from mlcourse.checks.core import UNEXPECTED_FORM  # noqa: E402

from .mutate import Mutant, mutants  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ALLOW_LIST = Path(__file__).with_name("equivalent_mutants.toml")
OUTCOMES = ("silent", "generic", "diagnosed", "exception", "timeout", "raised")

# Messages that say what differs without naming a cause. Everything else a check says when
# it rejects is a diagnosis (a tested hypothesis, a shape hint, a named convention).
_GENERIC = [re.compile(p) for p in (
    r"differs at index .*: got .*, expected .*\(max relative error",
    r"differs: got .*, expected .*\(max relative error",
    r"differs from the reference",
    r"has shape \([^)]*\), expected \([^)]*\)(\s*\(case \d+ of \d+: .*\))?$",
    r"the check could not run your function",
)]
_CHECK_CALL = re.compile(r"^check\(\s*\"(\w+)\"\s*,\s*(.+?)\)\s*;?\s*$", re.M)


@dataclass
class Block:
    """One solution cell: where it is, what it defines and which checks judge it."""

    notebook: Path
    cell: int            # index among all cells
    name: str            # the first function or class it defines
    checks: list[tuple[str, str]]  # (check name, expression for the function) in order


@dataclass
class Outcome:
    block: str
    mutant: Mutant
    outcome: str
    check: str = ""
    message: str = ""
    allowed: str = ""  # the allow-list's reason when a silent mutant is a reviewed equivalent


@dataclass
class Summary:
    counts: Counter = field(default_factory=Counter)

    def caught(self) -> int:
        return sum(self.counts[k] for k in ("generic", "diagnosed", "exception", "timeout", "raised"))


def blocks(chapters: list[str] | None = None) -> list[Block]:
    """Every solution cell of ``solutions/*.ipynb`` with the checks called after it."""
    out: list[Block] = []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        if chapters and path.name[:2] not in chapters:
            continue
        nb = nbformat.read(path, as_version=4)
        current: Block | None = None
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if "### BEGIN SOLUTION" in cell.source:
                names = re.findall(r"^(?:def|class) (\w+)", cell.source, re.M)
                current = Block(path, i, names[0] if names else f"cell{i}", [])
                out.append(current)
            elif current is not None:
                current.checks += _CHECK_CALL.findall(cell.source)
    return [b for b in out if b.checks]


def load_allow_list(path: Path = ALLOW_LIST) -> dict[tuple[str, str], str]:
    """(block name, mutant key) → the reviewed reason why that mutant is no bug."""
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {(e["block"], e["mutant"]): e["reason"] for e in data.get("equivalent", [])}


def classify(status: str, message: str) -> str:
    """The outcome for a check result's ``status`` and ``message``."""
    if UNEXPECTED_FORM.split("{")[0] in message:
        return "raised"  # the judge crashed on the output and the framework covered for it
    if status == "pass":
        return "silent"
    if status == "error":
        return "exception"
    if status == "not_implemented":
        return "generic"
    return "generic" if any(p.search(message) for p in _GENERIC) else "diagnosed"


# --- running one mutant (in a forked child) -----------------------------------------------

def _run_job(source: str, checks: list[tuple[str, str]]) -> dict:
    from mlcourse.checks import evaluate, get_check

    ns: dict = {"__name__": "__mutant__"}
    exec(compile(source, "<mutant>", "exec"), ns)
    for name, expr in checks:
        try:
            fn = eval(expr, ns)
        except Exception as exc:  # the mutant broke a definition the check call needs
            return {"status": "error", "check": name, "message": f"{type(exc).__name__}: {exc}"}
        try:
            result = evaluate(get_check(name), fn)
        except Exception:
            return {"status": "raised", "check": name, "message": traceback.format_exc(limit=-3)}
        if not result.passed:
            return {"status": str(result.status), "check": name, "message": result.message}
    return {"status": "pass", "check": ",".join(n for n, _ in checks), "message": ""}


def _fork(source: str, checks: list[tuple[str, str]]) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: quiet, run, report, exit without cleanup
        os.close(read_fd)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            result = _run_job(source, checks)
        except BaseException:
            result = {"status": "error", "check": "", "message": traceback.format_exc(limit=-2)}
        data = json.dumps(result).encode()
        with os.fdopen(write_fd, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(write_fd)
    return pid, read_fd


def _mutated_source(nb: nbformat.NotebookNode, cell: int, source: str) -> str:
    original = nb.cells[cell].source
    nb.cells[cell].source = source
    try:
        text, _ = definitions(nb)
    finally:
        nb.cells[cell].source = original
    return text


def run(chapters: list[str] | None, jobs: int, timeout: float, progress: bool = True) -> list[Outcome]:
    """Run every mutant of the chosen chapters; returns one Outcome per mutant."""
    import mlcourse.checks.core as core  # imported once here, inherited by every fork

    core.all_checks()
    allow = load_allow_list()
    work: list[tuple[Block, Mutant, str]] = []
    notebooks: dict[Path, nbformat.NotebookNode] = {}
    for block in blocks(chapters):
        if block.notebook not in notebooks:
            notebooks[block.notebook] = nbformat.read(block.notebook, as_version=4)
            # Run the chapter's own definitions once here, so its imports (matplotlib …) are
            # loaded before the forks and every child starts warm.
            exec(compile(definitions(notebooks[block.notebook])[0], str(block.notebook), "exec"),
                 {"__name__": "__warmup__"})
        nb = notebooks[block.notebook]
        for m in mutants(nb.cells[block.cell].source):
            work.append((block, m, _mutated_source(nb, block.cell, m.source)))
    results: list[Outcome | None] = [None] * len(work)
    running: dict[int, tuple[int, int, float, bytearray]] = {}  # fd → (index, pid, deadline, data)
    nxt = done = 0
    while done < len(work):
        while nxt < len(work) and len(running) < jobs:
            block, m, src = work[nxt]
            pid, fd = _fork(src, block.checks)
            running[fd] = (nxt, pid, time.monotonic() + timeout, bytearray())
            nxt += 1
        ready, _, _ = select.select(list(running), [], [], 0.5)
        now = time.monotonic()
        for fd in list(running):
            index, pid, deadline, data = running[fd]
            finished = False
            if fd in ready:
                chunk = os.read(fd, 1 << 16)
                if chunk:
                    data.extend(chunk)
                    continue
                finished = True
            elif now > deadline:
                os.kill(pid, signal.SIGKILL)
                finished = True
            if not finished:
                continue
            os.close(fd)
            os.waitpid(pid, 0)
            del running[fd]
            block, m, _ = work[index]
            if data:
                r = json.loads(data.decode())
                outcome = "raised" if r["status"] == "raised" else classify(r["status"], r["message"])
                o = Outcome(block.name, m, outcome, r["check"], r["message"])
            elif now > deadline:
                o = Outcome(block.name, m, "timeout", message=f"ran longer than {timeout:g} s")
            else:
                o = Outcome(block.name, m, "raised", message="the child process died without a verdict")
            if o.outcome == "silent" and (block.name, m.key) in allow:
                o.outcome, o.allowed = "equivalent", allow[(block.name, m.key)]
            results[index] = o
            done += 1
            if progress and done % 50 == 0:
                print(f"  … {done}/{len(work)} mutants", file=sys.stderr, flush=True)
    return [r for r in results if r is not None]


# --- reporting ----------------------------------------------------------------------------

def summarise(results: list[Outcome]) -> tuple[dict[str, Counter], Counter]:
    per: dict[str, Counter] = {}
    for r in results:
        per.setdefault(r.block, Counter())[r.outcome] += 1
    total: Counter = Counter()
    for c in per.values():
        total.update(c)
    return per, total


def table(results: list[Outcome]) -> str:
    """The summary table (Markdown): one row per exercise and the totals."""
    per, total = summarise(results)
    cols = ("silent", "equivalent", "generic", "diagnosed", "exception", "timeout", "raised")
    lines = ["| exercise | mutants | " + " | ".join(cols) + " | diagnosed % |",
             "|---|---:|" + "---:|" * len(cols) + "---:|"]

    def row(name: str, c: Counter) -> str:
        caught = sum(c[k] for k in ("generic", "diagnosed", "exception", "timeout", "raised"))
        pct = 100.0 * (c["diagnosed"] + c["exception"]) / caught if caught else 100.0
        return (f"| {name} | {sum(c.values())} | " + " | ".join(str(c[k]) for k in cols)
                + f" | {pct:.0f} |")
    for name, c in per.items():
        lines.append(row(name, c))
    lines.append(row("**all**", total))
    return "\n".join(lines)


def targets_met(results: list[Outcome]) -> list[str]:
    """The targets missed (empty when all are met)."""
    _, total = summarise(results)
    caught = sum(total[k] for k in ("generic", "diagnosed", "exception", "timeout", "raised"))
    diagnosed = total["diagnosed"] + total["exception"]
    missed = []
    if total["silent"]:
        missed.append(f"{total['silent']} silent mutant(s) outside the allow-list")
    if total["raised"]:
        missed.append(f"{total['raised']} check crash(es)")
    if caught and diagnosed / caught < 0.9:
        missed.append(f"only {100 * diagnosed / caught:.1f} % of the caught mutants diagnosed (target 90 %)")
    return missed


def write_details(results: list[Outcome], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows = [{"block": r.block, "operator": r.mutant.operator, "line": r.mutant.line, "mutant": r.mutant.key,
             "outcome": r.outcome, "check": r.check, "message": r.message, "allowed": r.allowed}
            for r in results]
    (out / "mutants.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    with open(out / "mutants.md", "w", encoding="utf-8") as f:
        f.write(table(results) + "\n\n")
        for r in results:
            f.write(f"- **{r.outcome}** `{r.block}` line {r.mutant.line}: `{r.mutant.key}`\n"
                    f"  {r.message.splitlines()[0] if r.message else r.allowed}\n")


def stale_allow_entries(results: list[Outcome], chapters: list[str] | None) -> list[tuple[str, str]]:
    """Allow-list entries that match no silent mutant any more (only for a full run)."""
    if chapters:
        return []
    used = {(r.block, r.mutant.key) for r in results if r.outcome == "equivalent"}
    return [k for k in load_allow_list() if k not in used]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m qa.mutants", description=__doc__.split("\n\n")[0])
    p.add_argument("--chapters", nargs="*", help="two-digit chapter numbers (default: all)")
    p.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant (default 60)")
    p.add_argument("--out", type=Path, default=ROOT / "_build" / "mutants")
    args = p.parse_args(argv)
    start = time.monotonic()
    results = run(args.chapters, args.jobs, args.timeout)
    write_details(results, args.out)
    print(table(results))
    print(f"\n{len(results)} mutants in {time.monotonic() - start:.0f} s with {args.jobs} job(s); "
          f"details in {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}/mutants.md")
    for block, key in stale_allow_entries(results, args.chapters):
        print(f"allow-list entry matches no silent mutant (remove it?): {block}: {key}")
    missed = targets_met(results)
    for m in missed:
        print(f"target missed: {m}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
