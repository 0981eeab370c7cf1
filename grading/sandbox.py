"""Run one student notebook in a confined worker process and talk to it.

A :class:`Sandbox` is a temporary directory holding only a copy of one notebook, plus a
``python -I -m grading.worker`` process started in it: new session (so the whole process
group can be killed), a scrubbed environment, and the limits of grading.confine. Every
request has a wall-clock deadline (per call, and for the whole notebook); a worker that
exits, hangs, or sends anything but valid frames raises :class:`SandboxError` with a
message meant for the student, and is killed with everything it started.
"""
from __future__ import annotations

import functools
import glob
import json
import os
import secrets
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import grading
import mlcourse

from . import cgroups, wire
from .uids import reap

ROOT = Path(__file__).resolve().parent.parent


# Where people and services keep files (other courses, other checkouts of this one, the
# instructor's home): covered in the worker's mount namespace; what Python needs is bound back.
PRIVATE_ROOTS = ("/home", "/root", "/work", "/srv", "/mnt", "/media", "/var/tmp", "/opt")


@dataclass
class Limits:
    """How much a student's notebook may use (command-line options of grading.cli)."""

    call_timeout: float = 60.0       # one call of a student's function
    cell_timeout: float = 300.0      # one cell when a notebook runs top to bottom
    notebook_timeout: float = 600.0  # everything done with one notebook
    memory_mb: int = 4096
    file_mb: int = 16                # any file written, including the captured output
    reply_mb: int = 64               # one reply from the worker
    hide: list[str] = field(default_factory=list)  # paths student code must not see
    isolate: bool = True             # namespaces and a uid of its own, when running as root
    extra_checks: list = field(default_factory=list)  # (module name, source) of extra check files


class SandboxError(Exception):
    """The worker crashed, hung or misbehaved; ``kind`` is timeout/crashed/garbled/..."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def _exit_message(code: int | None) -> tuple[str, str]:
    """(what happened to the worker, a hint) for its exit status."""
    if code is None:
        return "stopped responding", ""
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        why = {signal.SIGKILL: "it may have run out of memory, or your code killed its own process",
               signal.SIGXCPU: "it used up its CPU time",
               signal.SIGSEGV: "a crash inside the interpreter, e.g. runaway recursion or ctypes"}
        return f"was killed by {name}", why.get(sig, "")
    if code == 70:  # grading.worker.WORKER_FAILED
        return "failed in the grader's own code", ("the notebook's code may have changed Python, numpy or "
                                                   "mlcourse, or used up the memory")
    if code == 71:  # grading.worker.WORKER_OUT_OF_MEMORY
        return "ran out of memory in the grader's own code", ("large constants, arrays or caches at the top "
                                                              "level of your notebook count too")
    return f"exited with code {code}", "does your code call sys.exit(), exit(), quit() or os._exit()? Remove it"


def _font_cache() -> list[str]:
    # matplotlib builds a font list on first import (seconds); reuse the grader's.
    home = Path.home()
    found = []
    for d in (os.environ.get("MPLCONFIGDIR"), home / ".cache" / "matplotlib", home / ".matplotlib"):
        if d:
            found += glob.glob(str(Path(d) / "fontlist-*.json"))
    return found[:2]


@functools.lru_cache(maxsize=None)
def _released_imports(name: str) -> list[str]:
    """What the released notebook ``name`` imports from mlcourse (allowed in the exercises)."""
    from .owncode import released_imports  # lazy: only a sandbox for grading needs it

    return released_imports(ROOT / "notebooks" / name)


class Sandbox:
    """One worker process for one notebook; use as a context manager."""

    def __init__(self, notebook: bytes, name: str, limits: Limits, uid: int | None,
                 run_mode: bool = False, deadline: float | None = None) -> None:
        self.limits, self.uid, self.name = limits, uid, name
        self.deadline = deadline if deadline is not None else time.monotonic() + limits.notebook_timeout
        self.dir = Path(tempfile.mkdtemp(prefix="mlgrade-"))
        self.proc: subprocess.Popen | None = None
        self.measures: list[str] = []
        self._log: int | None = None  # the output log, opened by the grader before any student code ran
        # Memory and processes of the whole sandbox (needs root and a cgroup hierarchy).
        self.group = cgroups.create(limits.memory_mb, 64) if uid is not None else None
        try:
            self._prepare(notebook, run_mode)
            self._start(run_mode)
        except BaseException:
            self.close()
            raise

    # -- set-up ------------------------------------------------------------------------
    def _prepare(self, notebook: bytes, run_mode: bool) -> None:
        (self.dir / self.name).write_bytes(notebook)
        for sub in ("home", "tmp", "home/.matplotlib"):
            (self.dir / sub).mkdir(exist_ok=True)
        if run_mode:
            for f in _font_cache():
                shutil.copy(f, self.dir / "home" / ".matplotlib")
        os.chmod(self.dir, 0o700)
        if self.uid is not None:
            for p in [self.dir, *self.dir.rglob("*")]:
                os.chown(p, self.uid, self.uid, follow_symlinks=False)

    def _env(self) -> dict[str, str]:
        home = str(self.dir / "home")
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": str(self.dir / "tmp"),
                "MPLCONFIGDIR": str(self.dir / "home" / ".matplotlib"), "MPLBACKEND": "Agg",
                "MLCOURSE_STATIC": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1", "TQDM_DISABLE": "1",
                "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "JUPYTER_PLATFORM_DIRS": "1"}

    def _config(self, run_mode: bool) -> dict:
        needed = [sys.base_prefix, sys.prefix, *site.getsitepackages(), str(self.dir),
                  *mlcourse.__path__, *grading.__path__]
        if run_mode:  # the notebooks load the course data
            needed.append(os.environ.get("MLCOURSE_DATA") or str(ROOT / "data"))
        lim = self.limits
        return {"uid": self.uid, "gid": self.uid, "namespaces": lim.isolate, "needed": needed,
                "private": [str(ROOT), tempfile.gettempdir(), *PRIVATE_ROOTS], "hide": list(lim.hide), "memory_mb": lim.memory_mb,
                "cpu_seconds": int(lim.notebook_timeout + 30),
                "file_mb": lim.file_mb, "processes": 64, "extra_checks": list(lim.extra_checks),
                "run_mode": run_mode, "reply_mb": lim.reply_mb, "allowed": _released_imports(self.name)}

    def _start(self, run_mode: bool) -> None:
        # The worker's stdout and stderr: a file the grader opens now, before any student code
        # runs, and later reads only through this descriptor — whatever the student puts at
        # that path afterwards (a link to a root-only file, a FIFO) is never opened by root.
        self._log = os.open(self.dir / "output.log", os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND
                            | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        if self.uid is not None:
            os.fchown(self._log, self.uid, self.uid)
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "grading.worker"], cwd=self.dir, env=self._env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            start_new_session=True, close_fds=True)
        self._join_group()
        for f in (self.proc.stdin, self.proc.stdout):
            os.set_blocking(f.fileno(), False)
        body = json.dumps(self._config(run_mode)).encode()
        # Starting runs only trusted code (imports), which a busy machine can make slow.
        start_timeout = max(self.limits.call_timeout, 30.0)
        self._send_raw(len(body).to_bytes(wire.HEADER, "big") + body, start_timeout)
        hello = self._recv(start_timeout, "starting")
        if not isinstance(hello, dict) or hello.get("ready") is not True:
            raise self._fail("garbled", "sent an invalid first message")
        self.measures = [str(m) for m in hello.get("measures", [])][:10]
        mb = self.limits.memory_mb
        self.measures.append(f"memory: {mb} MB for all processes of the notebook together, at most 64 processes "
                             f"({self.group.kind})" if self.group is not None else
                             f"memory: {mb} MB per process (no cgroup: not capped per sandbox)")

    def _join_group(self) -> None:
        # The worker is still blocked reading its configuration: no student code has run.
        if self.group is None:
            return
        try:
            for procs in self.group.procs_files:
                with open(procs, "w") as f:
                    f.write(str(self.proc.pid))
        except OSError:
            self.group.kill(0)
            self.group = None

    # -- talking ---------------------------------------------------------------------
    def _deadline(self, timeout: float) -> float:
        return min(time.monotonic() + timeout, self.deadline)

    def _send_raw(self, frame: bytes, timeout: float) -> None:
        try:
            wire.send(self.proc.stdin.fileno(), frame, self._deadline(timeout))
        except wire.Timeout:
            raise self._fail("timeout", "stopped reading input (timed out)") from None
        except wire.Closed:
            raise self._died() from None

    def _recv(self, timeout: float, doing: str) -> Any:
        deadline = self._deadline(timeout)
        try:
            return wire.recv(self.proc.stdout.fileno(), deadline, self.limits.reply_mb << 20)
        except wire.Timeout:
            whole = deadline >= self.deadline - 1e-3
            limit = self.limits.notebook_timeout if whole else timeout
            what = "the whole notebook" if whole else ("one cell" if doing == "running the notebook" else "one call")
            raise self._fail("timeout", f"timed out while {doing} (more than {limit:g} s for {what}) — "
                                        "an infinite loop, or far too slow?") from None
        except wire.Closed:
            raise self._died(doing) from None
        except wire.ProtocolError as exc:
            raise self._fail("garbled", f"sent a garbled reply while {doing} ({exc}) — does your code write "
                                        "to the grader's pipes?") from None

    def _died(self, doing: str = "starting") -> SandboxError:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        if self.out_of_memory():
            return SandboxError("crashed", f"the process running your notebook ran out of memory while {doing} "
                                           f"(--memory {self.limits.memory_mb} MB for all its processes together)")
        what, hint = _exit_message(code)
        return SandboxError("crashed", f"the process running your notebook {what} while {doing}"
                                       + (f" — {hint}" if hint else ""))

    def _fail(self, kind: str, message: str) -> SandboxError:
        self.kill()
        return SandboxError(kind, message)

    def request(self, message: dict, doing: str, timeout: float | None = None) -> Any:
        """Send ``message`` (a dict of plain data) and return the decoded reply."""
        return self.request_frame(wire.dumps(message), doing, timeout)

    def request_frame(self, frame: bytes, doing: str, timeout: float | None = None) -> Any:
        """Send one request frame (a tagged dict, see wire.pack) and return the reply to *it*.

        Every request carries a fresh random id that its reply must echo: a frame the
        student's code writes into the pipe in advance, or a reply left over from an earlier
        request, is never taken for the answer to this one.
        """
        timeout = self.limits.call_timeout if timeout is None else timeout
        if self.proc is None or self.proc.poll() is not None:
            raise SandboxError("crashed", "the process running your notebook had already stopped")
        nonce = secrets.token_hex(8)
        body = frame[wire.HEADER:]
        assert body.startswith(b'{"d":['), "request_frame takes frames of tagged dicts"
        body = b'{"d":[["id",' + f'"{nonce}"'.encode() + b"]," + body[len(b'{"d":['):]
        self._send_raw(len(body).to_bytes(wire.HEADER, "big") + body, timeout)
        reply = self._recv(timeout, doing)
        if not isinstance(reply, dict):
            raise self._fail("garbled", f"sent a garbled reply while {doing}")
        if reply.get("id") != nonce:
            raise self._fail("garbled", f"sent a reply that does not answer the grader's request while {doing} — "
                                        "does your code write to the grader's pipes?")
        return reply

    def stream(self, message: dict, doing: str) -> Iterator[Any]:
        """Send ``message``, then yield replies, each within the per-cell timeout."""
        self._send_raw(wire.dumps(message), self.limits.call_timeout)
        while True:
            reply = self._recv(self.limits.cell_timeout, doing)
            if not isinstance(reply, dict):
                raise self._fail("garbled", f"sent a garbled reply while {doing}")
            yield reply

    # -- tear-down ---------------------------------------------------------------------
    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def log_tail(self, n: int = 600) -> str:
        """The end of what the worker printed (for the instructor's eyes only)."""
        if self._log is None:
            return ""
        try:
            size = os.fstat(self._log).st_size
            return os.pread(self._log, n, max(0, size - n)).decode("utf-8", "replace")
        except OSError:
            return ""

    def out_of_memory(self) -> bool:
        """True if the kernel killed a process of this sandbox for exceeding its memory."""
        return self.group is not None and self.group.oom_killed()

    def close(self) -> None:
        """Kill every process of the sandbox, then delete its folder (in that order: a
        process still writing into the folder would make the deletion fail)."""
        if self.proc is not None:
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            self.kill()
            try:  # the rest of the group, e.g. a child the student left running
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.group is not None:  # everything the notebook started, whatever its session
            self.group.kill()
        if self.uid is not None:  # and anything else running as its uid
            reap(self.uid)
        if self._log is not None:
            os.close(self._log)
            self._log = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
