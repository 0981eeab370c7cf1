"""One control group per sandbox: memory and process caps for all its processes together.

RLIMIT_AS caps each process; four processes of one notebook could still hold four times
``--memory``. A cgroup counts them together, and it lists every process of the sandbox, so
clean-up kills exactly those (nothing a student daemonised escapes by changing session).

Cgroup v2 is used when the grader's cgroup can delegate the memory controller; otherwise
the v1 ``memory`` and ``pids`` hierarchies (as on hosts that mount v1 controllers plus
``unified``). Without either (not root, no cgroupfs), :func:`create` returns None and the
grader says so in results.json: memory is then capped per process only.
"""
from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from pathlib import Path

BASE = Path("/sys/fs/cgroup")
_names = itertools.count()
_lock = threading.Lock()


def _own(controller: str | None) -> str | None:
    """This process's cgroup path in ``controller``'s v1 hierarchy (None: the v2 one)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if (controller is None and names == "") or (controller is not None and controller in names.split(",")):
            return path
    return None


def _write(path: Path, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


class Group:
    """A cgroup (v1: one per controller directory) that holds every process of one sandbox."""

    def __init__(self, dirs: list[Path], kind: str) -> None:
        self.dirs, self.kind = dirs, kind

    @property
    def procs_files(self) -> list[str]:
        """Files the worker writes its pid into (``cgroup.procs`` of every directory)."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            try:
                found |= {int(p) for p in (d / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                pass
        return found

    def oom_killed(self) -> bool:
        """True if the kernel killed a process of this group for lack of memory."""
        for d in self.dirs:
            for name in ("memory.events", "memory.oom_control"):
                try:
                    for line in (d / name).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill" and int(value) > 0:
                            return True
                except (OSError, ValueError):
                    continue
        return False

    def kill(self, timeout: float = 10.0) -> bool:
        """Kill every process in the group; True once it is empty (then it is removed)."""
        end = time.monotonic() + timeout
        if self.kind == "cgroup v2" and (self.dirs[0] / "cgroup.kill").exists():
            try:
                _write(self.dirs[0] / "cgroup.kill", "1")
            except OSError:
                pass
        while True:
            left = self.pids()
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if not left or time.monotonic() > end:
                break
            time.sleep(0.01)
        for d in self.dirs:
            try:
                d.rmdir()
            except OSError:
                pass
        return not left


def _v2_parent() -> Path | None:
    own = _own(None)
    if own is None or not (BASE / "cgroup.controllers").exists():
        unified = BASE / "unified"
        if own is None or not (unified / "cgroup.controllers").exists():
            return None
        root = unified
    else:
        root = BASE
    parent = root / own.lstrip("/")
    try:
        if "memory" not in (parent / "cgroup.controllers").read_text().split():
            return None
    except OSError:
        return None
    return parent


def _v2_delegate(parent: Path) -> Path | None:
    """A child of the grader's v2 cgroup in which memory and pids are enabled for children."""
    sub = parent / "mlcourse-grader"
    try:
        if "memory" in (parent / "cgroup.subtree_control").read_text().split() and sub.is_dir():
            return sub if "memory" in (sub / "cgroup.subtree_control").read_text().split() else None
        # "No internal processes": the grader moves itself into a leaf first.
        leaf = parent / "mlcourse-grader-self"
        leaf.mkdir(exist_ok=True)
        _write(leaf / "cgroup.procs", str(os.getpid()))
        _write(parent / "cgroup.subtree_control", "+memory +pids")
        sub.mkdir(exist_ok=True)
        _write(sub / "cgroup.subtree_control", "+memory +pids")
        return sub
    except OSError:
        return None


_v2: list = []  # [delegated parent or None], decided once


def _sweep(parent: Path) -> None:
    """Remove empty groups left by a grader that was killed (its pid is gone)."""
    for d in parent.glob("mlgrade-*-*"):
        pid = d.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            try:
                d.rmdir()
            except OSError:
                pass


def create(memory_mb: int, processes: int) -> Group | None:
    """A fresh cgroup capping ``memory_mb`` (no swap) and ``processes``, or None."""
    if os.geteuid() != 0:
        return None
    with _lock:
        if not _v2:
            parent = _v2_parent()
            _v2.append(_v2_delegate(parent) if parent is not None else None)
            for controller in ("memory", "pids"):
                own = _own(controller)
                if own is not None:
                    _sweep(BASE / controller / own.lstrip("/"))
            if _v2[0] is not None:
                _sweep(_v2[0])
        name = f"mlgrade-{os.getpid()}-{next(_names)}"
    limit = str(memory_mb << 20)
    if _v2[0] is not None:
        d = _v2[0] / name
        try:
            d.mkdir()
            _write(d / "memory.max", limit)
            for optional, value in (("memory.swap.max", "0"), ("pids.max", str(processes))):
                if (d / optional).exists():
                    _write(d / optional, value)
            return Group([d], "cgroup v2")
        except OSError:
            Group([d], "cgroup v2").kill(0)
    dirs = []
    try:
        for controller in ("memory", "pids"):
            own = _own(controller)
            if own is None or not (BASE / controller).is_dir():
                if controller == "memory":
                    return None
                continue
            d = BASE / controller / own.lstrip("/") / name
            d.mkdir()
            dirs.append(d)
            if controller == "memory":
                _write(d / "memory.limit_in_bytes", limit)
                if (d / "memory.memsw.limit_in_bytes").exists():
                    try:
                        _write(d / "memory.memsw.limit_in_bytes", limit)
                    except OSError:  # swap accounting off
                        pass
            else:
                _write(d / "pids.max", str(processes))
        return Group(dirs, "cgroup v1")
    except OSError:
        Group(dirs, "cgroup v1").kill(0)
        return None
