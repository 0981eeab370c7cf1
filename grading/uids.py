"""Unprivileged uids for the grader's workers, one per parallel slot (grader runs as root).

Each concurrently running worker gets a uid no other process uses, so student code can
neither read another student's temporary files nor signal another student's worker.
"""
from __future__ import annotations

import fcntl
import glob
import os
import pwd
import queue
import stat
import subprocess
import tempfile
import time
import weakref
from pathlib import Path


class UidPool:
    """Unused uids for workers (only when the grader runs as root; else ``acquire`` → None).

    Each concurrently running worker gets a uid no other process uses, so student code can
    neither read another student's temporary files nor signal another student's worker.
    A uid is taken only if no account has it, no process runs as it, and its lock file
    can be locked: the lock (held until this grader exits) keeps two graders running at
    the same time on one machine from sharing a uid, which would let one grader's clean-up
    (``kill -1`` as that uid) kill the other's workers.
    """

    def __init__(self, size: int, base: int = 64000) -> None:
        self.q: queue.Queue = queue.Queue()
        self.enabled = os.geteuid() == 0 and size > 0
        self._locks: list[int] = []  # open lock-file descriptors: the uids stay ours until exit
        weakref.finalize(self, _close_all, self._locks)  # ... or until this pool is dropped
        lock_dir = _uid_lock_dir() if self.enabled else None
        uid = base
        while self.enabled and self.q.qsize() < size:
            if not _uid_has_account(uid) and not _uid_has_processes(uid) and self._lock(lock_dir, uid):
                self.q.put(uid)
            uid += 1
        self._next = uid

    def _lock(self, lock_dir: Path, uid: int) -> bool:
        fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another grader holds it
            os.close(fd)
            return False
        self._locks.append(fd)
        return True

    def acquire(self) -> int | None:
        if not self.enabled:
            return None
        return self.q.get()

    def release(self, uid: int | None) -> None:
        """Give ``uid`` back, once no process runs as it (else a fresh uid takes its place)."""
        if uid is None:
            return
        if not reap(uid):  # e.g. zombies nobody reaps: they would count against the next student
            uid = self._fresh(uid + 1)
        self.q.put(uid)

    def _fresh(self, start: int) -> int:
        lock_dir = _uid_lock_dir()
        uid = max(start, self._next)
        while _uid_has_account(uid) or _uid_has_processes(uid) or not self._lock(lock_dir, uid):
            uid += 1
        self._next = uid + 1
        return uid


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)
    fds.clear()


def _uid_lock_dir() -> Path:
    """A root-only directory for the uid lock files (created if missing)."""
    base = Path("/run") if os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
    path = base / "mlcourse-grader-uids"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    # Anyone could have created it first in a shared /tmp: trust it only if it is ours.
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o077:
        raise RuntimeError(f"{path}: expected a directory owned by root with mode 0700; "
                           "remove it and run the grader again")
    return path


def _uid_has_account(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


def _uid_has_processes(uid: int) -> bool:
    """True if any process (that this grader can see) runs as ``uid``."""
    for status in glob.glob("/proc/[0-9]*/status"):
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if uid in {int(v) for v in line.split()[1:]}:
                            return True
                        break
        except OSError:  # the process ended meanwhile
            continue
    return False


def _kill_uid(uid: int) -> None:
    # kill(-1) as that uid ends every process it owns (anything a student daemonised), in one
    # system call: a process cannot fork its way out of it.
    try:
        subprocess.run(["/bin/sh", "-c", "kill -9 -1 2>/dev/null; true"], user=uid, group=uid,
                       extra_groups=[], timeout=10, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.SubprocessError):
        pass


def reap(uid: int, timeout: float = 5.0) -> bool:
    """Kill every process of ``uid``; True once none is left (zombies included)."""
    end = time.monotonic() + timeout
    while _uid_has_processes(uid):
        if time.monotonic() > end:
            return False
        _kill_uid(uid)
        time.sleep(0.02)
    return True
