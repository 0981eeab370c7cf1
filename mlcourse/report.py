"""Your progress: every chapter × exercise — ✅, ❌ with the one-line reason, or not started —
and the points the public checks would give, read from your *saved* notebooks.

    mlcourse progress [FOLDER]       # in a terminal (`make progress` in the student edition)
    mlcourse.progress()              # in a notebook cell: the same table (calls report())

The chapters are checked in a fresh Python process, so a kernel with stale definitions cannot
mislead it: what counts is what the notebook file says (save first!). Only the notebook's
definitions run (imports, functions, classes, constants — ``mlcourse.notebook``), never its
training cells, and the checks are the public ones the notebook's check cells run; the
autograder adds hidden cases, so its score can be lower, never higher.
"""
from __future__ import annotations

import argparse
import importlib.resources
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .notebook import fingerprint
from .safe_text import for_html

COURSE_FILE = "course.json"  # written into the wheel by the edition build (no hidden seeds)
CHAPTER_TIMEOUT = 600  # seconds for one chapter's checks (Iris/MNIST training checks included)
MARK = {"pass": "✅", "fail": "❌", "not_started": "·"}
CORE = ("required", "standard", "advanced")  # the core rubric; bonus and extra items are shown apart


@dataclass
class Row:
    """One exercise of one chapter."""

    chapter: str
    check: str
    function: str
    rubric: str
    max: float
    status: str = "not_started"  # "pass" | "fail" | "not_started"
    reason: str = ""
    points: float = 0.0


@dataclass
class Report:
    """The table, the points per rubric item and in total; shows itself as HTML in JupyterLab."""

    folder: str
    rows: list[Row]
    items: list[dict]
    seconds: float = 0.0
    totals: dict = field(default_factory=dict)

    def _repr_html_(self) -> str:
        return render_html(self)

    def __str__(self) -> str:
        return render_text(self)


def course() -> dict:
    """{"items": rubric items, "exercises": graded exercises} — the points, no hidden seeds.

    The wheel carries them as ``mlcourse/course.json``; a development checkout reads the
    instructors' rubric itself (grading/rubric.toml and exercises.toml).
    """
    packaged = importlib.resources.files(__package__).joinpath(COURSE_FILE)
    if packaged.is_file():
        return json.loads(packaged.read_text(encoding="utf-8"))
    from authoring.edition import course_metadata  # development checkout only

    return course_metadata()


def check_chapter(path: Path, exercises: list[dict]) -> list[Row]:
    """Run the public check of every exercise on the definitions of the notebook ``path``."""
    import nbformat  # lazy: only the per-chapter child process needs these

    from .checks import Status, evaluate, get_check  # lazy: see above
    from .notebook import definitions  # lazy: see above

    rows = [Row(e["chapter"], e["check"], e["function"], e["rubric"], float(e["points"])) for e in exercises]
    if not path.is_file():
        for r in rows:
            r.reason = f"no notebook {path.name} in {path.parent}"
        return rows
    try:
        source, problems = definitions(nbformat.read(path, as_version=4))
        ns: dict[str, Any] = {"__name__": path.stem}
        exec(compile(source, str(path), "exec"), ns)  # noqa: S102 - the student's own code, on their machine
    except Exception as exc:  # a notebook that does not even define its functions
        for r in rows:
            r.status, r.reason = "fail", f"the notebook's definitions failed: {type(exc).__name__}: {exc}"[:300]
        return rows
    for r in rows:
        fn = ns.get(r.function)
        if fn is None:
            r.status, r.reason = "fail", f"the notebook defines no `{r.function}`" + (f" ({problems[0]})" if problems else "")
            continue
        result = evaluate(get_check(r.check), fn)
        if result.passed:
            r.status = "pass"
        elif result.status is Status.NOT_IMPLEMENTED:
            r.status = "not_started"
        else:
            r.status, r.reason = "fail", f"{result.detail}{result.where}"
    return rows


def score(rows: list[Row], items: list[dict]) -> dict:
    """Points per row (in place) and totals: an all-or-nothing item (``partial`` false) earns
    its points only when every one of its exercises passes."""
    by_item = {i["id"]: i for i in items}
    for r in rows:
        item = by_item.get(r.rubric, {"partial": True})
        mates = [m for m in rows if m.rubric == r.rubric]
        earned = r.status == "pass" and (item.get("partial", True) or all(m.status == "pass" for m in mates))
        r.points = r.max if earned else 0.0
    groups: dict[str, list[float]] = {}  # category group → [points, max]
    for item in items:
        group = "core" if item.get("category", "required") in CORE else item["category"]
        got = sum(r.points for r in rows if r.rubric == item["id"])
        g = groups.setdefault(group, [0.0, 0.0])
        g[0], g[1] = round(g[0] + got, 2), g[1] + float(item["points"])
    core = groups.pop("core", [0.0, 0.0])
    return {"points": core[0], "max": core[1], "other": groups,
            "passed": sum(r.status == "pass" for r in rows), "failed": sum(r.status == "fail" for r in rows),
            "not_started": sum(r.status == "not_started" for r in rows), "exercises": len(rows)}


def _total_line(t: dict) -> str:
    other = ", ".join(f"+ {_points(p)} / {_points(m)} {name}" for name, (p, m) in t["other"].items())
    return f"{_points(t['points'])} / {_points(t['max'])}" + (f" ({other})" if other else "")


def report(folder: str | os.PathLike = ".", timeout: float = CHAPTER_TIMEOUT) -> Report:
    """Check every chapter's saved notebook in ``folder`` in one fresh process (a notebook left
    exactly as released is "not started" without running anything)."""
    t0 = time.monotonic()
    folder = Path(folder).resolve()
    meta = course()
    rows: dict[str, list[Row]] = {}
    jobs = []
    for chapter in dict.fromkeys(e["chapter"] for e in meta["exercises"]):
        exercises = [e for e in meta["exercises"] if e["chapter"] == chapter]
        path = folder / f"{chapter}.ipynb"
        if not path.is_file() or untouched(path):  # nothing of the student's to run
            rows[chapter] = check_chapter(path, exercises) if not path.is_file() else \
                [Row(e["chapter"], e["check"], e["function"], e["rubric"], float(e["points"])) for e in exercises]
        else:
            jobs.append({"path": str(path), "exercises": exercises})
    if jobs:
        env = {**os.environ, "MLCOURSE_STATIC": "1", "MPLBACKEND": "Agg"}
        proc = subprocess.Popen([sys.executable, "-m", "mlcourse.report", "--chapters"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder, env=env)
        try:
            out, err = proc.communicate(json.dumps({"jobs": jobs, "timeout": timeout}), timeout=timeout * len(jobs) + 60)
            why = (err.strip().splitlines() or ["the checks' process stopped without a result"])[-1]
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            why = f"the checks did not finish in {timeout:.0f} s (an endless loop?)"
        for line in out.split("\n"):  # not splitlines(): it splits at the marker's \x1e too
            if line.startswith(_RESULT):
                done = json.loads(line[len(_RESULT):])
                rows[done["chapter"]] = [Row(**r) for r in done["rows"]]
        for job in jobs:
            for e in job["exercises"]:
                if e["chapter"] not in rows:
                    rows[e["chapter"]] = [Row(x["chapter"], x["check"], x["function"], x["rubric"], float(x["points"]),
                                              "fail", why[:300]) for x in job["exercises"]]
    ordered = [r for chapter in dict.fromkeys(e["chapter"] for e in meta["exercises"]) for r in rows[chapter]]
    rep = Report(str(folder), ordered, meta["items"], round(time.monotonic() - t0, 1))
    rep.totals = score(ordered, meta["items"])
    return rep


_RESULT = "\x1emlcourse-chapter "  # marks our lines among whatever the student's code prints


def untouched(path: Path) -> bool:
    """True when the notebook's cells are exactly those it was released with."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        return fingerprint(nb.get("cells", [])) == nb["metadata"]["mlcourse"]["released"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _run_jobs(spec: dict) -> None:
    """The fresh process: every chapter in turn, one result line each, each chapter bounded
    by an alarm (POSIX) so one endless loop does not cost the other chapters."""
    timeout = int(spec.get("timeout", CHAPTER_TIMEOUT))

    def stop(signum: int, frame: Any) -> None:
        raise TimeoutError(f"the checks did not finish in {timeout} s (an endless loop?)")

    alarm = hasattr(signal, "SIGALRM")
    if alarm:
        signal.signal(signal.SIGALRM, stop)
    for job in spec["jobs"]:
        path, exercises = Path(job["path"]), job["exercises"]
        if alarm:
            signal.alarm(timeout)
        try:
            rows = check_chapter(path, exercises)
        except TimeoutError as exc:
            rows = [Row(e["chapter"], e["check"], e["function"], e["rubric"], float(e["points"]), "fail", str(exc))
                    for e in exercises]
        finally:
            if alarm:
                signal.alarm(0)
        print(_RESULT + json.dumps({"chapter": exercises[0]["chapter"], "rows": [asdict(r) for r in rows]},
                                   ensure_ascii=False), flush=True)


def _points(x: float) -> str:
    return f"{x:g}"


def render_text(rep: Report) -> str:
    """The table as plain text (the terminal and the submission's validation report)."""
    t = rep.totals
    w = max(len(r.chapter) for r in rep.rows)
    f = max(len(r.function) for r in rep.rows)
    lines = [f"Progress of {rep.folder}", ""]
    for r in rep.rows:
        reason = {"pass": "done", "not_started": "not started"}.get(r.status, r.reason)
        lines.append(f"{MARK[r.status]} {r.chapter:<{w}}  {r.function:<{f}}  "
                     f"{_points(r.points):>4}/{_points(r.max):<4} {reason}")
    lines += ["", f"{t['passed']} of {t['exercises']} exercises pass their public checks, {t['failed']} fail, "
              f"{t['not_started']} not started.",
              f"Points the public checks would give: {_total_line(t)}. The autograder also runs hidden cases."]
    return "\n".join(lines)


def render_html(rep: Report) -> str:
    """The same table for JupyterLab."""
    t = rep.totals
    body = []
    for r in rep.rows:
        reason = {"pass": "done", "not_started": "not started"}.get(r.status, r.reason)
        body.append(f"<tr class='mlc-{r.status}'><td>{for_html(r.chapter)}</td><td><code>{for_html(r.function)}"
                    f"</code></td><td>{MARK[r.status]} {for_html(reason)}</td>"
                    f"<td style='text-align:right'>{_points(r.points)} / {_points(r.max)}</td></tr>")
    return (f"<div class='mlcourse-progress'><p><b>Points the public checks would give: {for_html(_total_line(t))}</b> — {t['passed']} of {t['exercises']} exercises pass, {t['failed']} fail, "
            f"{t['not_started']} not started (saved notebooks in {for_html(rep.folder)}, checked in "
            f"{rep.seconds:g} s).</p><table><thead><tr><th>chapter</th><th>exercise</th><th>status</th>"
            f"<th>points</th></tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlcourse progress", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", default=None, help="the folder with your notebooks (default: notebooks/ or .)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--chapters", action="store_true", help=argparse.SUPPRESS)  # the worker: jobs on stdin
    args = parser.parse_args(argv)
    if args.chapters:
        _run_jobs(json.loads(sys.stdin.read()))
        return 0
    rep = report(default_folder(args.folder))
    print(json.dumps({**asdict(rep)}, ensure_ascii=False, indent=1) if args.json else render_text(rep))
    return 0


def default_folder(folder: str | None) -> Path:
    """``folder``, else ``notebooks/`` when it exists here, else the current folder."""
    if folder:
        return Path(folder)
    return Path("notebooks") if Path("notebooks").is_dir() else Path(".")


if __name__ == "__main__":
    sys.exit(main())
