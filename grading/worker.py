"""The student's side of grading: one process per notebook, started by grading.sandbox.

    python -I -m grading.worker        (stdin/stdout: frames of grading.wire)

The worker first reads its configuration and confines itself (grading.confine) while it
still runs only trusted code; then it moves the protocol to private file descriptors,
points fd 0 at /dev/null and fds 1 and 2 at ``output.log`` in its (temporary) working
directory, and serves requests:

* ``{"op": "load", "notebook": name}`` — execute the notebook's definitions (imports,
  functions, classes, literal constants: mlcourse.notebook) statement by statement;
* ``{"op": "call", "check": c, "function": f, "args": [...]}`` — ``get_check(c).call(f, args)``
  and send back the plain output (or what went wrong);
* ``{"op": "run"}`` — execute every cell top to bottom in an IPython shell (nbval-lax
  style), sending ``{"cell": i}`` before each cell and a summary at the end.

Nothing a worker says is trusted: the grader validates every frame and judges every output
itself. This module must import nothing heavy before :func:`grading.confine.confine`.
"""
from __future__ import annotations

import json
import os
import signal
import sys

from mlcourse.safe_text import one_line  # plain Python (mlcourse's package import loads nothing heavy)

REFERENCE_FIELDS = ("reference", "judge", "cases")
WORKER_FAILED = 70  # exit status when the worker's own code breaks (see grading.sandbox)
WORKER_OUT_OF_MEMORY = 71  # ... because memory ran out


def _read_config(fd: int) -> dict:
    head = os.read(fd, 8)
    n = int.from_bytes(head, "big")
    body = b""
    while len(body) < n:
        chunk = os.read(fd, n - len(body))
        if not chunk:
            raise SystemExit(3)
        body += chunk
    return json.loads(body)  # plain JSON: written by the grader (trusted)


def _redirect_output() -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)  # fd 2 is the log the grader opened for us (never reopened by name)
    os.close(null)
    # Past the file-size limit a write fails with an error instead of killing the process,
    # so "printing gigabytes" becomes an OSError in the student's code.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


class Worker:
    def __init__(self, proto_in: int, proto_out: int, measures: list[str], cfg: dict) -> None:
        import types  # after confine(): see the module docstring

        import numpy as np  # noqa: F401  (trusted imports happen before any student code)

        from mlcourse.checks import all_checks  # after confine(): see the module docstring

        for name, source in cfg.get("extra_checks", []):  # check files given to the grader (e.g. test fixtures)
            module = types.ModuleType(name)
            module.__package__ = "mlcourse.checks"
            sys.modules[name] = module
            exec(compile(source, name, "exec"), module.__dict__)

        from . import wire  # after confine(): see the module docstring

        self.wire = wire
        self.inp, self.out = proto_in, proto_out
        self.ns: dict = {"__name__": "__main__"}
        self.checks = all_checks()
        self.limit = int(cfg.get("reply_mb", 64)) << 20
        self.request_id = None
        # To grade, the student's process needs only how to *call* a function: the references,
        # case generators and judges stay with the grader. (Running the whole notebook needs
        # them: its check cells print the public verdicts, as in Jupyter.)
        self.watch = None
        if not cfg.get("run_mode"):
            for chk in self.checks.values():
                for name in REFERENCE_FIELDS:
                    setattr(chk, name, None)
            from .owncode import Watch  # after confine(): see the module docstring

            self.watch = Watch(cfg.get("allowed", []))  # own code only (grading.owncode)
        self.send({"ready": True, "measures": measures})

    def send(self, message: dict) -> None:
        self.wire.send_blocking(self.out, {**message, "id": self.request_id})

    def serve(self) -> None:
        import builtins  # after confine(): see the module docstring

        saved = dict(builtins.__dict__)
        while True:
            # Whatever the student's code did to the builtins (isinstance = …), undo it so the
            # worker's own code keeps working; numpy and mlcourse patches only hurt the student.
            builtins.__dict__.clear()
            builtins.__dict__.update(saved)
            req = self.wire.recv_blocking(self.inp)
            op = req.get("op")
            self.request_id = req.get("id")  # echoed in the reply (see Sandbox.request_frame)
            if op == "load":
                self.send(self.load(req["cells"]))
            elif op in ("call", "calls"):
                frame = self.call(req) if op == "call" else self.calls(req)
                view = memoryview(frame)
                while view:
                    view = view[os.write(self.out, view):]
            elif op == "run":
                self.run_notebook(req["notebook"])
            else:
                return

    # -- load ------------------------------------------------------------------------
    def load(self, cells: list) -> dict:
        """Execute the definitions of ``cells``: the notebook's code cells as the Python IPython
        runs (the grader transformed them with IPython's input transformer: mlcourse.notebook)."""
        import ast  # after confine(): see the module docstring
        import linecache  # after confine(): see the module docstring

        from mlcourse.notebook import _keep  # after confine()

        self.ns["get_ipython"] = _NoShell  # what transformed magics call inside a function
        problems = []
        for i, source in enumerate(cells, 1):
            if type(source) is not str:
                continue
            try:
                tree = ast.parse(source)
            except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                problems.append(f"code cell {i} is not valid Python ({_syntax(exc)}); it was skipped")
                continue
            name = f"<code cell {i}>"
            linecache.cache[name] = (len(source), None, source.splitlines(True), name)
            for stmt in tree.body:
                if not _keep(stmt):
                    continue
                try:
                    code = compile(ast.Module([stmt], []), name, "exec")
                    exec(code, self.ns)
                except BaseException as exc:  # noqa: BLE001 — SystemExit too: it is the student's
                    problems.append(f"code cell {i}: {one_line(_describe(exc))}")
        names = sorted(k for k, v in list(self.ns.items())
                       if isinstance(k, str) and not k.startswith("__") and callable(v))
        return {"ok": True, "problems": problems[:20], "names": names[:2000]}

    # -- call ------------------------------------------------------------------------
    def call(self, req: dict) -> bytes:
        """The reply frame for one call of the student's function."""
        from mlcourse.checks.core import Status  # after confine(): see the module docstring

        rid = self.request_id
        dumps = lambda message, limit=None: self.wire.dumps({**message, "id": rid}, limit)  # noqa: E731
        fn = self.ns.get(req["function"])
        if fn is None:
            return dumps({"status": "missing"})
        # BaseException: SystemExit and KeyboardInterrupt raised by the student's code are the student's
        same = self.watch.is_course_code(fn) if self.watch is not None else None
        if same:
            return dumps({"status": "not_own_code", "used": [same]})
        got = self._attempt(self.checks[req["check"]], fn, tuple(req["args"]))
        used = self.watch.taken() if self.watch is not None else []
        if used:
            return dumps({"status": "not_own_code", "used": used})
        if got.status is Status.NOT_IMPLEMENTED:
            return dumps({"status": "not_implemented"})
        if got.status is Status.ERROR:
            return dumps({"status": "error", "message": one_line(got.detail)})
        try:
            frame = dumps({"status": "ok", "value": got.value}, self.limit)
        except self.wire.TooLarge:
            return dumps({"status": "too_large"})
        except self.wire.Unencodable as exc:
            return dumps({"status": "unencodable", "message": one_line(str(exc))})
        except (MemoryError, OverflowError):
            return dumps({"status": "too_large"})
        except BaseException as exc:  # noqa: BLE001 — a hostile object's methods may raise anything
            return dumps({"status": "unencodable",
                          "message": f"converting the result raised {type(exc).__name__}"})
        return frame if len(frame) <= self.limit else dumps({"status": "too_large"})

    def _attempt(self, chk, fn, args):
        from mlcourse.checks.core import attempt  # after confine(): see the module docstring

        if self.watch is not None:
            self.watch.active = True
        try:
            return attempt(chk, fn, args, catch=BaseException)
        finally:
            if self.watch is not None:
                self.watch.active = False

    def calls(self, req: dict) -> bytes:
        """The reply frame for one timed round: the outputs on the round's fresh inputs.

        The grader times this whole request with its own clock; nothing measured here counts.
        """
        from mlcourse.checks.core import Status, digest, fresh_inputs  # after confine(): see the module docstring

        rid = self.request_id
        fn, chk = self.ns.get(req["function"]), self.checks[req["check"]]
        if fn is None or chk.timing is None:
            return self.wire.dumps({"status": "missing", "id": rid})
        values, seed = [], int(req["seed"])
        for args in fresh_inputs(chk.timing, tuple(req["args"]), seed):
            got = self._attempt(chk, fn, args)
            if got.status is not Status.PASS or (self.watch is not None and self.watch.taken()):
                return self.wire.dumps({"status": "error", "id": rid})
            values.append(got.value)
        try:
            return self.wire.dumps({"status": "ok", "values": digest(values, seed), "id": rid})
        except BaseException:  # noqa: BLE001 — anything the student's values do on conversion
            return self.wire.dumps({"status": "error", "id": rid})

    # -- run the whole notebook ------------------------------------------------------
    def run_notebook(self, notebook: str) -> None:
        from IPython.core.interactiveshell import InteractiveShell  # after confine(): see the module docstring

        shell = InteractiveShell.instance(colors="nocolor")
        shell.history_manager.enabled = False
        cells = _code_cells(notebook, with_tags=True)
        for i, (source, tags) in enumerate(cells, 1):
            self.send({"cell": i})
            result = shell.run_cell(source, store_history=False, silent=False)
            err = result.error_before_exec or result.error_in_exec
            if err is not None and "raises-exception" not in tags:
                self.send({"done": True, "ok": False, "cell": i, "cells": len(cells),
                           "error": one_line(_describe(err))})
                return
        self.send({"done": True, "ok": True, "cells": len(cells)})


class _NoShell:
    """``get_ipython()`` in a graded function: magics and shell escapes do nothing there."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None


def _code_cells(notebook: str, with_tags: bool = False) -> list:
    """The code cells of a format-4 notebook (the grader checked the format already)."""
    with open(notebook, encoding="utf-8") as f:
        nb = json.load(f)
    out = []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = src if isinstance(src, str) else "".join(src)
        tags = list(cell.get("metadata", {}).get("tags", []) or [])
        out.append((src, tags) if with_tags else src)
    return out


def _describe(exc: BaseException) -> str:
    """One line naming the exception and the student's own line — never a grader frame.

    The traceback is cut below the worker's own frames (``grading/``), so a call with the
    wrong number of arguments reads "TypeError: add_arrays() takes 1 positional argument but
    2 were given", not the worker's line that made the call.
    """
    from mlcourse.checks import describe_exception  # after confine(): see the module docstring

    here = os.path.dirname(os.path.abspath(__file__))
    tb = exc.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(here + os.sep):
        tb = tb.tb_next
    return describe_exception(exc.with_traceback(tb))


def _syntax(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: {exc.msg}"
    return type(exc).__name__


def main() -> None:
    proto_in, proto_out = os.dup(0), os.dup(1)  # non-inheritable: child processes never get them
    cfg = _read_config(proto_in)
    from .confine import confine  # after confine(): see the module docstring

    measures = confine(cfg)
    _redirect_output()
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
    sys.stdin = open(0, encoding="utf-8", closefd=False)
    try:
        Worker(proto_in, proto_out, measures, cfg).serve()
    except MemoryError:
        os._exit(WORKER_OUT_OF_MEMORY)
    except BaseException:  # noqa: BLE001 — the worker's own code failed (student patched it?)
        os._exit(WORKER_FAILED)
    os._exit(0)


if __name__ == "__main__":
    main()
