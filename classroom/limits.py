"""CPU, memory and process-count limits of one student's server, enforced by the kernel's cgroups.

One group per student, ``mlcourse-hub/<name>``, under the hub's own group of each controller:

- cgroup v2 (``/sys/fs/cgroup`` is a cgroup2 mount): ``memory.max``, ``memory.swap.max = 0``,
  ``cpu.max`` and ``pids.max`` of ``/sys/fs/cgroup/mlcourse-hub/<name>``;
- cgroup v1 (one hierarchy per controller, as on this machine): ``memory.limit_in_bytes``
  (and ``memory.memsw.limit_in_bytes`` where swap accounting exists), ``cpu.cfs_quota_us``
  over ``cpu.cfs_period_us``, and ``pids.max`` — each in its controller's hierarchy;
- neither writable (not root, or a container without cgroup access): :func:`create`
  returns a group with no paths and the reason; the hub logs it and runs the server unlimited.

The server's first process joins every group before it drops privileges (the spawner's
pre-exec hook), so the kernels it starts inherit the limits: a student who allocates more
than the limit has their kernel killed by the kernel's OOM killer, not the machine's other
students; a busy loop gets at most ``cpus`` CPUs; a fork bomb stops at ``pids.max``.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
GROUP = "mlcourse-hub"
PERIOD_US = 100_000
PIDS_MAX = 512


@dataclass
class Group:
    """A student's cgroups: one directory per controller hierarchy (v1) or one (v2)."""

    name: str
    version: str | None            # "v1", "v2" or None (not enforced)
    paths: dict[str, Path] = field(default_factory=dict)  # controller → directory
    why_not: str = ""

    def procs_files(self) -> list[str]:
        return sorted({str(p / "cgroup.procs") for p in self.paths.values()})

    def pids(self) -> set[int]:
        out: set[int] = set()
        for f in self.procs_files():
            try:
                out.update(int(x) for x in Path(f).read_text().split())
            except OSError:
                pass
        return out


def version(root: Path = ROOT) -> str | None:
    if (root / "cgroup.controllers").exists():
        return "v2"
    if (root / "memory" / "memory.limit_in_bytes").exists() and (root / "cpu" / "cpu.cfs_quota_us").exists():
        return "v1"
    return None


def _own(controller: str) -> str:
    """This process's group path in ``controller``'s v1 hierarchy ('' for v2's single one)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return path.lstrip("/")
    return ""


def _dirs(name: str, root: Path = ROOT) -> tuple[str | None, dict[str, Path]]:
    v = version(root)
    if v == "v2":
        return v, {c: root / GROUP / name for c in ("memory", "cpu", "pids")}
    if v == "v1":
        return v, {c: root / c / _own(c) / GROUP / name for c in ("memory", "cpu", "pids") if (root / c).is_dir()}
    return None, {}


def _write(path: Path, value: str | int) -> None:
    path.write_text(f"{value}\n")


def create(name: str, memory_bytes: int, cpus: float, root: Path = ROOT) -> Group:
    """Make (or reset) ``name``'s groups with these limits; a Group with ``why_not`` when impossible."""
    v, dirs = _dirs(name, root)
    if v is None:
        return Group(name, None, why_not=f"no cgroup v1 memory+cpu hierarchies or cgroup v2 under {root}")
    try:
        if v == "v2":
            parent = root / GROUP
            parent.mkdir(exist_ok=True)
            for d in (root, parent):  # controllers must be enabled down the tree
                _write(d / "cgroup.subtree_control", "+memory +cpu +pids")
            g = dirs["memory"]
            g.mkdir(exist_ok=True)
            _write(g / "memory.max", memory_bytes)
            if (g / "memory.swap.max").exists():
                _write(g / "memory.swap.max", 0)
            _write(g / "cpu.max", f"{int(cpus * PERIOD_US)} {PERIOD_US}")
            _write(g / "pids.max", PIDS_MAX)
        else:
            for d in dirs.values():
                d.mkdir(parents=True, exist_ok=True)
            m = dirs["memory"]
            _write(m / "memory.limit_in_bytes", memory_bytes)
            if (m / "memory.memsw.limit_in_bytes").exists():  # no swapping around the limit
                _write(m / "memory.memsw.limit_in_bytes", memory_bytes)
            _write(dirs["cpu"] / "cpu.cfs_period_us", PERIOD_US)
            _write(dirs["cpu"] / "cpu.cfs_quota_us", int(cpus * PERIOD_US))
            if "pids" in dirs:
                _write(dirs["pids"] / "pids.max", PIDS_MAX)
    except OSError as exc:
        return Group(name, None, why_not=f"cannot set up cgroups ({exc})")
    return Group(name, v, dirs)


def join(group: Group, pid: int | None = None) -> None:
    """Move ``pid`` (default: this process) into every group. Safe between fork and exec."""
    text = str(os.getpid() if pid is None else pid)
    for f in group.procs_files():
        with open(f, "w") as fh:
            fh.write(text)


def usage(group: Group) -> dict:
    """Memory now and at peak (bytes), CPU seconds used and times throttled; {} when not enforced."""
    out: dict = {}
    m, c = group.paths.get("memory"), group.paths.get("cpu")
    try:
        if group.version == "v1":
            out["memory"] = int((m / "memory.usage_in_bytes").read_text())
            out["memory_peak"] = int((m / "memory.max_usage_in_bytes").read_text())
            out["oom_kills"] = int(dict(line.split() for line in (m / "memory.oom_control").read_text().splitlines())
                                   .get("oom_kill", 0))
            stat = dict(line.split() for line in (c / "cpu.stat").read_text().splitlines())
            out["throttled"] = int(stat.get("nr_throttled", 0))
        elif group.version == "v2":
            out["memory"] = int((m / "memory.current").read_text())
            peak = m / "memory.peak"
            out["memory_peak"] = int(peak.read_text()) if peak.exists() else None
            events = dict(line.split() for line in (m / "memory.events").read_text().splitlines())
            out["oom_kills"] = int(events.get("oom_kill", 0))
            stat = dict(line.split() for line in (c / "cpu.stat").read_text().splitlines())
            out["throttled"] = int(stat.get("nr_throttled", 0))
            out["cpu_seconds"] = int(stat.get("usage_usec", 0)) / 1e6
    except (OSError, ValueError):
        pass
    return out


def remove(name: str, root: Path = ROOT, grace: float = 5.0) -> list[int]:
    """Kill (by PID) whatever still runs in ``name``'s groups, then remove them; returns the PIDs killed."""
    v, dirs = _dirs(name, root)
    group = Group(name, v, {c: d for c, d in dirs.items() if d.is_dir()})
    killed: list[int] = []
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        pids = group.pids()
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, sig)
                killed.append(pid)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while group.pids() and time.monotonic() < deadline:
            time.sleep(0.1)
    for d in set(group.paths.values()):
        for empty in (d, d.parent):  # the student's group, then mlcourse-hub/ once it is empty
            try:
                empty.rmdir()
            except OSError:
                break
    return sorted(set(killed))
