"""Grade one submission: every chapter notebook in its own sandbox, every verdict here.

For each chapter of the manifest the student's notebook is copied into a fresh sandbox
(grading.sandbox); the worker loads its definitions; then for every exercise and every
seed (public 0 + hidden ones) the grader makes the cases, sends only ``args`` to the
worker, and judges the plain data that comes back with the check's own ``assess`` — in
this process. ``Case.secret`` and ``Case.expected`` never leave it.
"""
from __future__ import annotations

import re
import threading
import time
from typing import Any

from mlcourse.checks import get_check

from . import wire
from .config import Exercise, Rubric
from .sandbox import Limits, Sandbox, SandboxError, UidPool
from .submissions import Submission

MAX_RESTARTS = 3  # crashed/hung workers restarted per notebook before giving up on it
NOT_IMPLEMENTED = "not implemented yet — replace `raise NotImplementedError()` with your code"


class CaseCache:
    """Cases per (check, seed), made once and shared by every submission (and thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cases: dict[tuple[str, int], list[tuple[Any, Any]]] = {}

    def get(self, check: str, seed: int) -> list[tuple[Any, Any]]:
        with self._lock:
            key = (check, seed)
            if key not in self._cases:
                cases = get_check(check).make_cases(seed)
                self._cases[key] = [(c, wire.to_plain(tuple(c.args))) for c in cases]
            return self._cases[key]


def clean(text: Any, n: int = 400) -> str:
    """A student-controlled string made safe to show: printable, one line, at most ``n`` chars."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return text if len(text) <= n else text[: n - 1] + "…"


_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?:e[-+]?\d+)?|(?<![\w.])-?\d+e[-+]?\d+")


def redact(problem: str) -> str:
    """A hidden case's symptom without its values (shapes and indices stay)."""
    return _NUMBER.sub("…", problem)


def result(ex: Exercise, status: str, message: str, passed: bool = False) -> dict:
    return {"chapter": ex.chapter, "function": ex.function, "check": ex.check, "rubric": ex.rubric,
            "max": ex.points, "points": ex.points if passed else 0.0, "status": status, "message": message}


class _Broken(Exception):
    """The sandbox is gone (crash/timeout/garbage); the current exercise already has its verdict."""

    def __init__(self, verdict: dict, error: SandboxError) -> None:
        self.verdict, self.error = verdict, error


def _grade_exercise(sb: Sandbox, ex: Exercise, rubric: Rubric, cache: CaseCache) -> dict:
    fn = f"`{ex.function}`"
    try:
        chk = get_check(ex.check)
    except KeyError:
        return result(ex, "grader_error", "could not be graded: the grader does not know this check "
                                          "(your instructor sees the details)")
    n_hidden = 0
    for seed in rubric.seeds(ex):
        try:
            cases = cache.get(ex.check, seed)
        except Exception as exc:  # noqa: BLE001 — a bug in a check, not the student's
            r = result(ex, "grader_error", "could not be graded because of a problem in the grader "
                                           "(your instructor sees the details)")
            r["grader_error"] = f"make_cases({seed}): {type(exc).__name__}: {clean(exc)}"
            return r
        for i, (case, args) in enumerate(cases):
            frame = wire.pack({"d": [["op", "call"], ["check", ex.check], ["function", ex.function],
                                     ["args", args]]})
            try:
                reply = sb.request_frame(frame, f"running {fn}")
            except SandboxError as err:
                raise _Broken(result(ex, err.kind, f"{fn}: {err.message}"), err) from None
            status = reply.get("status")
            if status == "not_implemented":
                return result(ex, "not_implemented", f"{fn}: {NOT_IMPLEMENTED}")
            if status == "missing":
                return result(ex, "missing_function", f"no function {fn} in {ex.notebook} — did you rename "
                                                      "it or delete its cell?")
            if status == "error":
                return result(ex, "error", f"{fn} raised {clean(reply.get('message', 'an exception'))}")
            if status == "unencodable":
                return result(ex, "fail", f"{fn} returned {clean(reply.get('message', 'something'))}; "
                                          "return NumPy arrays, numbers, or tuples/lists of them")
            if status == "too_large":
                return result(ex, "fail", f"{fn} returned more data than the grader accepts "
                                          f"({sb.limits.reply_mb} MB)")
            if status != "ok" or "value" not in reply:
                sb.kill()
                raise _Broken(result(ex, "garbled", f"{fn}: the process running your notebook sent a "
                                                    "reply the grader does not understand"),
                              SandboxError("garbled", "invalid reply"))
            try:
                problem = chk.assess(case, reply["value"])
            except Exception:  # noqa: BLE001 — the judge could not read what came back
                problem = (f"returned a value of an unexpected form ({type(reply['value']).__name__}) — "
                           "check what your function returns")
            if problem:
                problem = clean(problem, 600)
                if seed == 0:
                    where = (f" (case {i + 1} of {len(cases)}: {case.label})"
                             if case.label and len(cases) > 1 else "")
                    return result(ex, "fail", f"{fn}: {problem}{where}")
                return result(ex, "fail", f"{fn} passes the public check but not the grader's hidden "
                                          f"test cases: {redact(problem)}")
            if seed != 0:
                n_hidden += 1
    extra = f" and {n_hidden} hidden test case{'s' if n_hidden != 1 else ''}" if n_hidden else ""
    return result(ex, "pass", f"{fn}: passed the public check{extra}", passed=True)


def grade_notebook(chapter: str, exercises: list[Exercise], notebook: bytes, rubric: Rubric,
                   limits: Limits, uid: int | None, cache: CaseCache) -> tuple[list[dict], dict]:
    """Verdicts for ``exercises`` of one chapter notebook, and a report on the notebook."""
    name = f"{chapter}.ipynb"
    deadline = time.monotonic() + limits.notebook_timeout
    report: dict = {"load_problems": [], "isolation": [], "incidents": []}
    verdicts: list[dict] = []
    sb: Sandbox | None = None
    restarts, fatal = 0, None
    try:
        for ex in exercises:
            if fatal is not None:
                verdicts.append(result(ex, fatal[0], f"`{ex.function}`: not graded — {fatal[1]}"))
                continue
            if sb is None:
                try:
                    sb = Sandbox(notebook, name, limits, uid, deadline=deadline)
                    loaded = sb.request({"op": "load", "notebook": name}, "loading your notebook's definitions")
                    if restarts == 0:
                        report["isolation"] = sb.measures
                        problems = loaded.get("problems")
                        report["load_problems"] = [clean(p) for p in problems[:20]] if isinstance(problems, list) else []
                except SandboxError as err:
                    if sb is not None:
                        report["incidents"].append(clean(sb.log_tail(), 600))
                        sb.close()
                        sb = None
                    fatal = (err.kind, err.message)
                    verdicts.append(result(ex, err.kind, f"`{ex.function}`: not graded — {err.message}"))
                    continue
            try:
                verdicts.append(_grade_exercise(sb, ex, rubric, cache))
            except _Broken as broken:
                verdicts.append(broken.verdict)
                report["incidents"].append(clean(sb.log_tail(), 600))
                sb.close()
                sb = None
                restarts += 1
                if restarts > MAX_RESTARTS or time.monotonic() >= deadline:
                    fatal = (broken.error.kind, "the notebook's process failed too often, or its time ran out")
    finally:
        if sb is not None:
            sb.close()
    return verdicts, report


def run_notebook(chapter: str, notebook: bytes, limits: Limits, uid: int | None) -> dict:
    """Does the notebook run top to bottom (nbval-lax style)? Informational, no points."""
    name = f"{chapter}.ipynb"
    cell = 0
    try:
        with Sandbox(notebook, name, limits, uid, run_mode=True) as sb:
            for msg in sb.stream({"op": "run", "notebook": name}, "running the notebook"):
                if "cell" in msg and not msg.get("done"):
                    cell = int(msg["cell"]) if type(msg["cell"]) is int else cell
                    continue
                if msg.get("done"):
                    if msg.get("ok") is True:
                        return {"status": "ok", "message": "runs top to bottom without errors"}
                    return {"status": "failed", "cell": cell,
                            "message": f"code cell {cell} raised {clean(msg.get('error', 'an error'))}"}
    except SandboxError as err:
        where = f"in code cell {cell}: " if cell else ""
        return {"status": err.kind, "cell": cell, "message": f"{where}{err.message}"}
    return {"status": "failed", "message": "the run ended without a result"}


def _validate(data: bytes) -> str | None:
    """None when ``data`` is notebook JSON the grader can use, else what is wrong with it."""
    import json

    try:
        nb = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return "is not text (UTF-8) — is it really a .ipynb notebook?"
    except (ValueError, RecursionError) as exc:
        return f"is not valid notebook JSON ({clean(exc, 120)}) — was it edited outside Jupyter?"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return "is valid JSON but not a notebook (no list of cells)"
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or not isinstance(cell.get("source", ""), (str, list)):
            return "has a malformed cell"
    if nb.get("nbformat") != 4:
        return f"has notebook format {clean(nb.get('nbformat'), 10)}; save it with a current Jupyter (format 4)"
    return None


def grade_submission(sub: Submission, rubric: Rubric, limits: Limits, uids: UidPool, cache: CaseCache,
                     run_notebooks: bool = False) -> dict:
    """Everything about one student: verdicts per exercise, points per item, notebook reports."""
    verdicts: list[dict] = []
    notebooks: dict[str, dict] = {}
    uid = uids.acquire()
    try:
        for chapter in rubric.chapters():
            exercises = [e for e in rubric.exercises if e.chapter == chapter]
            nb = notebooks[chapter] = {"file": None, "status": "graded", "message": "",
                                       "runs": {"status": "not_run", "message": "not checked (--run-notebooks)"}}
            found = sub.find(chapter)
            if found is None:
                nb.update(status="missing", message=f"{chapter}.ipynb is missing from the submission")
                nb["runs"] = {"status": "missing", "message": "missing"}
                verdicts += [result(e, "missing_notebook", f"`{e.function}`: {chapter}.ipynb is not in your "
                                                          "submission") for e in exercises]
                continue
            fname, note = found
            nb["file"] = fname
            if note:
                nb["message"] = note
            try:
                data = sub.read(fname)
            except (OSError, ValueError) as exc:
                data, problem = b"", clean(exc)
            else:
                problem = _validate(data)
            if problem:
                nb.update(status="invalid", message=f"{fname} {problem}")
                nb["runs"] = {"status": "invalid", "message": "not a valid notebook"}
                verdicts += [result(e, "invalid_notebook", f"`{e.function}`: {fname} {problem}") for e in exercises]
                continue
            ex_verdicts, report = grade_notebook(chapter, exercises, data, rubric, limits, uid, cache)
            verdicts += ex_verdicts
            nb.update(report)
            if run_notebooks:
                nb["runs"] = run_notebook(chapter, data, limits, uid)
    finally:
        uids.release(uid)
    return score(sub, rubric, verdicts, notebooks)


def score(sub: Submission, rubric: Rubric, verdicts: list[dict], notebooks: dict) -> dict:
    """Points per rubric item from the verdicts (partial items add up, others are all or nothing)."""
    items = {}
    for item in rubric.items:
        mine = [v for v in verdicts if v["rubric"] == item.id]
        if not mine:
            pts, note = 0.0, "no exercise is graded for this item yet"
        elif item.partial:
            pts, note = sum(v["points"] for v in mine), ""
        else:
            ok = all(v["status"] == "pass" for v in mine)
            pts = sum(v["max"] for v in mine) if ok else 0.0
            note = "" if ok else "all of this item's exercises must pass"
        items[item.id] = {"points": round(min(pts, item.points), 4), "max": item.points, "note": note,
                          "exercises": mine}
    # the course total (bonus included); extra chapters are graded as items of their own
    total = round(sum(items[i.id]["points"] for i in rubric.items if i.category != "extra"), 4)
    notes = []
    for chapter, nb in notebooks.items():
        if nb["status"] != "graded":
            notes.append(f"{chapter}: {nb['status']}")
        elif any(v["status"] in ("timeout", "crashed", "garbled") for v in verdicts if v["chapter"] == chapter):
            kinds = sorted({v["status"] for v in verdicts if v["chapter"] == chapter
                            and v["status"] in ("timeout", "crashed", "garbled")})
            notes.append(f"{chapter}: {'/'.join(kinds)}")
        if any(v["status"] == "grader_error" for v in verdicts if v["chapter"] == chapter):
            notes.append(f"{chapter}: grader error")
    notes += sub.problems
    return {"student": sub.id, "source": sub.source, "total": total, "items": items, "notebooks": notebooks,
            "notes": notes}
