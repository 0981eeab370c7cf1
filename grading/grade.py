"""Grade one submission: every chapter notebook in its own sandbox, every verdict here.

For each chapter of the manifest the student's notebook is copied into a fresh sandbox
(grading.sandbox); the worker loads its definitions; then for every exercise and every
seed (public 0 + hidden ones) the grader makes the cases, sends only ``args`` to the
worker, and judges the plain data that comes back with the check's own ``assess`` — in
this process. ``Case.secret`` and ``Case.expected`` never leave it.
"""
from __future__ import annotations

import json
import re
import threading
import time
from typing import Any, Callable

from mlcourse.checks.core import NOT_IMPLEMENTED, PUBLIC_SEED, Call, Case, Result, Status, get_check, run_check
from mlcourse.notebook import code_cells
from mlcourse.safe_text import one_line

from . import wire
from .config import Exercise, Rubric
from .sandbox import Limits, Sandbox, SandboxError
from .submissions import Submission, exact_name
from .uids import UidPool

_BROKEN = (Status.TIMEOUT, Status.CRASHED, Status.GARBLED)  # the student's process failed
MAX_RESTARTS = 3  # crashed/hung workers restarted per notebook before giving up on it


class CaseCache:
    """Cases per (check, seed), made once and shared by every submission (and thread), with the
    plain-data form of each case's ``args`` (what is sent to the worker)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cases: dict[tuple[str, int], list[Case]] = {}
        self._plain: dict[int, Any] = {}  # id(case) → its args as plain data

    def get(self, check: str, seed: int) -> list[Case]:
        with self._lock:
            key = (check, seed)
            if key not in self._cases:
                cases = get_check(check).make_cases(seed)
                self._plain.update((id(c), wire.to_plain(tuple(c.args))) for c in cases)
                self._cases[key] = cases
            return self._cases[key]

    def plain_args(self, case: Case) -> Any:
        return self._plain[id(case)]


_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?:e[-+]?\d+)?|(?<![\w.])-?\d+e[-+]?\d+")


def redact(problem: str) -> str:
    """A hidden case's symptom without its values (shapes and indices stay)."""
    return _NUMBER.sub("…", problem)


def result(ex: Exercise, status: Status, message: str, passed: bool = False) -> dict:
    return {"chapter": ex.chapter, "function": ex.function, "check": ex.check, "rubric": ex.rubric,
            "max": ex.points, "points": ex.points if passed else 0.0, "status": status.value, "message": message}


class _Broken(Exception):
    """The sandbox is gone (crash/timeout/garbage); the current exercise already has its verdict."""

    def __init__(self, verdict: dict, error: SandboxError) -> None:
        self.verdict, self.error = verdict, error


class _CasesFailed(Exception):
    """Making the cases raised: a bug in a check, not the student's."""


def _remote_call(sb: Sandbox, ex: Exercise, cache: CaseCache) -> Callable[[Case], Call]:
    """How the grader calls the student's function: a request to the sandboxed worker."""
    fn = f"`{ex.function}`"

    def call(case: Case) -> Call:
        frame = wire.request_frame(op="call", check=ex.check, function=ex.function, args=cache.plain_args(case))
        try:
            reply = sb.request_frame(frame, f"running {fn}")
        except SandboxError as err:
            raise _Broken(result(ex, Status(err.kind), f"{fn}: {err.message}"), err) from None
        status = reply.get("status")
        if status == "not_implemented":
            return Call(Status.NOT_IMPLEMENTED, detail=NOT_IMPLEMENTED)
        if status == "missing":
            return Call(Status.MISSING_FUNCTION,
                        detail=f"no function {fn} in {ex.notebook} — did you rename it or delete its cell?")
        if status == "error":
            return Call(Status.ERROR, detail=one_line(reply.get("message", "an exception")))
        if status == "not_own_code":
            used = reply.get("used")
            names = ", ".join(one_line(u, 80) for u in used[:5]) if isinstance(used, list) else "?"
            return Call(Status.NOT_OWN_CODE, detail=f"calls the course's own implementation ({names}) instead of "
                                                    "code of your own — it scores 0; write it yourself")
        if status == "unencodable":
            return Call(Status.FAIL, detail=f"returned {one_line(reply.get('message', 'something'))}; "
                                            "return NumPy arrays, numbers, or tuples/lists of them")
        if status == "too_large":
            return Call(Status.FAIL, detail=f"returned more data than the grader accepts ({sb.limits.reply_mb} MB)")
        if status != "ok" or "value" not in reply:
            sb.kill()
            raise _Broken(result(ex, Status.GARBLED, f"{fn}: the process running your notebook sent a "
                                                     "reply the grader does not understand"),
                          SandboxError("garbled", "invalid reply"))
        return Call(value=reply["value"])

    return call


def _remote_round(sb: Sandbox, ex: Exercise, cache: CaseCache) -> Callable[[Case, int], Any]:
    """One timed round of a check with ``timing``: the worker calls the student's function on
    the fresh inputs of ``seed``; the grader's clock (core.measure) times this request."""
    fn = f"`{ex.function}`"

    def run_many(case: Case, seed: int) -> Any:
        frame = wire.request_frame(op="calls", check=ex.check, function=ex.function,
                                   args=cache.plain_args(case), seed=seed)
        try:
            reply = sb.request_frame(frame, f"timing {fn}")
        except SandboxError as err:
            raise _Broken(result(ex, Status(err.kind), f"{fn}: {err.message}"), err) from None
        return reply.get("values") if reply.get("status") == "ok" else None

    return run_many


def feedback_line(fn: str, r: Result) -> str:
    """The verdict of ``r`` as the student's feedback says it; ``fn`` is "`function`"."""
    if r.passed:
        extra = f" and {r.hidden} hidden test case{'s' if r.hidden != 1 else ''}" if r.hidden else ""
        return f"{fn}: passed the public check{extra}"
    if r.judged:
        problem = one_line(r.detail, 600)
        if r.seed == PUBLIC_SEED:
            return f"{fn}: {problem}{r.where}"
        return f"{fn} passes the public check but not the grader's hidden test cases: {redact(problem)}"
    if r.status is Status.NOT_IMPLEMENTED:
        return f"{fn}: {r.detail}"
    if r.status is Status.MISSING_FUNCTION:
        return r.detail
    return f"{fn} {r.detail}"  # "raised …", "returned …"


def _grade_exercise(sb: Sandbox, ex: Exercise, rubric: Rubric, cache: CaseCache) -> dict:
    try:
        chk = get_check(ex.check)
    except KeyError:
        return result(ex, Status.GRADER_ERROR, "could not be graded: the grader does not know this check "
                                               "(your instructor sees the details)")

    def cases(seed: int) -> list[Case]:
        try:
            return cache.get(ex.check, seed)
        except Exception as exc:  # noqa: BLE001 — a bug in a check, not the student's
            raise _CasesFailed(f"make_cases({seed}): {type(exc).__name__}: {one_line(exc)}") from None

    try:
        r = run_check(chk, _remote_call(sb, ex, cache), rubric.seeds(ex), cases, _remote_round(sb, ex, cache))
    except _CasesFailed as exc:
        v = result(ex, Status.GRADER_ERROR, "could not be graded because of a problem in the grader "
                                            "(your instructor sees the details)")
        v["grader_error"] = str(exc)
        return v
    return result(ex, r.status, feedback_line(f"`{ex.function}`", r), passed=r.passed)


def grade_notebook(chapter: str, exercises: list[Exercise], notebook: bytes, rubric: Rubric,
                   limits: Limits, uid: int | None, cache: CaseCache) -> tuple[list[dict], dict]:
    """Verdicts for ``exercises`` of one chapter notebook, and a report on the notebook."""
    name = f"{chapter}.ipynb"
    deadline = time.monotonic() + limits.notebook_timeout
    cells = code_cells(json.loads(notebook.decode("utf-8")))  # IPython's transformer, here in the grader
    report: dict = {"load_problems": [], "isolation": [], "incidents": []}
    verdicts: list[dict] = []
    sb: Sandbox | None = None
    restarts, fatal = 0, None
    try:
        for ex in exercises:
            if fatal is not None:
                verdicts.append(result(ex, Status(fatal[0]), f"`{ex.function}`: not graded — {fatal[1]}"))
                continue
            if sb is None:
                try:
                    sb = Sandbox(notebook, name, limits, uid, deadline=deadline)
                    loaded = sb.request({"op": "load", "notebook": name, "cells": cells},
                                        "loading your notebook's definitions")
                    if restarts == 0:
                        report["isolation"] = sb.measures
                        problems = loaded.get("problems")
                        report["load_problems"] = [one_line(p) for p in problems[:20]] if isinstance(problems, list) else []
                except SandboxError as err:
                    if sb is not None:
                        report["incidents"].append(one_line(sb.log_tail(), 600))
                        sb.close()
                        sb = None
                    fatal = (err.kind, err.message)
                    verdicts.append(result(ex, Status(err.kind), f"`{ex.function}`: not graded — {err.message}"))
                    continue
            try:
                verdicts.append(_grade_exercise(sb, ex, rubric, cache))
            except _Broken as broken:
                verdicts.append(broken.verdict)
                report["incidents"].append(one_line(sb.log_tail(), 600))
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
                            "message": f"code cell {cell} raised {one_line(msg.get('error', 'an error'))}"}
    except SandboxError as err:
        where = f"in code cell {cell}: " if cell else ""
        return {"status": err.kind, "cell": cell, "message": f"{where}{err.message}"}
    return {"status": "failed", "message": "the run ended without a result"}


def _validate(data: bytes) -> str | None:
    """None when ``data`` is notebook JSON the grader can use, else what is wrong with it."""
    try:
        nb = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return "is not text (UTF-8) — is it really a .ipynb notebook?"
    except (ValueError, RecursionError) as exc:
        return f"is not valid notebook JSON ({one_line(exc, 120)}) — was it edited outside Jupyter?"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return "is valid JSON but not a notebook (no list of cells)"
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or not isinstance(cell.get("source", ""), (str, list)):
            return "has a malformed cell"
    version = nb.get("nbformat")
    if isinstance(version, str):
        return (f"has the text {one_line(repr(version), 20)} as its nbformat where Jupyter writes the number 4 — "
                "was it edited outside Jupyter? Open it in Jupyter and save it again")
    if version != 4 or type(version) is not int:
        return f"has notebook format {one_line(version, 10)}; save it with a current Jupyter (format 4)"
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
                verdicts += [result(e, Status.MISSING_NOTEBOOK, f"`{e.function}`: {chapter}.ipynb is not in your "
                                                          "submission") for e in exercises]
                continue
            fname, note = found
            nb["file"] = exact_name(fname)
            if note:
                nb["message"] = note
            if fname in sub.shared:
                why = (f"{exact_name(fname)} is the same file (a hard link) as {sub.shared[fname]}; it scores 0 "
                       "until your instructor decides whose work it is")
                nb.update(status="shared", message=why)
                nb["runs"] = {"status": "shared", "message": "not run (shared file)"}
                verdicts += [result(e, Status.SHARED_FILE, f"`{e.function}`: {why}") for e in exercises]
                sub.problems.append(f"{chapter}: the same file as {sub.shared[fname]} (0 until an instructor decides)")
                continue
            try:
                data = sub.read(fname)
            except (OSError, ValueError) as exc:
                data, problem = b"", one_line(exc)
            else:
                problem = _validate(data)
            if problem:
                shown = exact_name(fname)
                nb.update(status="invalid", message=f"{shown} {problem}")
                nb["runs"] = {"status": "invalid", "message": "not a valid notebook"}
                verdicts += [result(e, Status.INVALID_NOTEBOOK, f"`{e.function}`: {shown} {problem}") for e in exercises]
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
            ok = all(v["status"] == Status.PASS for v in mine)
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
        elif any(v["status"] in _BROKEN for v in verdicts if v["chapter"] == chapter):
            kinds = sorted({v["status"] for v in verdicts if v["chapter"] == chapter
                            and v["status"] in _BROKEN})
            notes.append(f"{chapter}: {'/'.join(kinds)}")
        if any(v["status"] == Status.GRADER_ERROR for v in verdicts if v["chapter"] == chapter):
            notes.append(f"{chapter}: grader error")
    notes += sub.problems
    return {"student": sub.id, "source": sub.source, "total": total, "items": items, "notebooks": notebooks,
            "notes": notes}
