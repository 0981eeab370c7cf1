"""Confine the current process before it runs student code (Linux; best effort).

Called by the worker as its very first act, while it still runs only trusted code and has
no threads. What it does depends on what the machine allows, and it reports what it
managed (the grader records that in results.json):

* always: resource limits — address space (memory), CPU seconds, size of any file
  written, open files, no core dumps;
* as root: a private mount namespace in which the repository (solutions, tests, .git,
  data, the instructor's files), the submissions folder and any ``--hide`` path are
  replaced by empty directories — only the Python installation, the ``mlcourse`` and
  ``grading`` packages (and ``data/`` when whole notebooks run) stay visible — plus a
  network namespace with no interfaces; then it drops to an unprivileged uid of its own
  (one per parallel worker slot, so students cannot signal or read each other),
  no supplementary groups, and ``no_new_privs``.

Nothing here is a security boundary against a kernel exploit; see grading/README.md.
"""
from __future__ import annotations

import ctypes
import os
import resource
import stat

CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWIPC = 0x00020000, 0x40000000, 0x08000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def _ancestors(path: str) -> list[str]:
    parts, out = path.strip("/").split("/"), []
    for i in range(len(parts)):
        out.append("/" + "/".join(parts[:i]))
    return out  # "/", "/a", "/a/b", … (excluding path itself)


def _overlays(needed: list[str], private: list[str]) -> dict[str, set[str]]:
    """{directory to cover with an empty tmpfs: names of children to bind back into it}."""
    plan: dict[str, set[str]] = {}

    def keep(parent: str, path: str) -> None:
        child = path[len(parent):].strip("/").split("/")[0]
        plan.setdefault(parent, set()).add(child)

    for path in needed:
        for anc in _ancestors(path):
            # A directory the unprivileged uid cannot traverse (e.g. /root holding pyenv).
            if anc != "/" and not os.stat(anc).st_mode & stat.S_IXOTH:
                keep(anc, path)
            # Every level between a private root and what is needed below it is covered
            # too: /work bound back whole as "wt" would show every other checkout in /work/wt.
            for root in private:
                if anc == root or anc.startswith(root.rstrip("/") + "/"):
                    keep(anc, path)
    for root in private:
        plan.setdefault(root, set())
    return plan


def _cover(directory: str, children: set[str]) -> None:
    """Mount an empty tmpfs on ``directory``, then bind ``children`` (its old entries) back."""
    fds = {}
    for name in sorted(children):
        fds[name] = os.open(os.path.join(directory, name), os.O_PATH)
    _mount("tmpfs", directory, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=64k")
    for name, fd in fds.items():
        target = os.path.join(directory, name)
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            os.mkdir(target)
        else:
            open(target, "w").close()
        _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
        os.close(fd)


def _hide(path: str) -> None:
    if os.path.isdir(path):
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=000,size=4k")
    elif os.path.exists(path):
        _mount("/dev/null", path, None, MS_BIND)


# Shared writable places of the host: each sandbox gets empty ones of its own (nothing it
# writes there outlives it, nothing of the host's — unix sockets under /run included — is
# reachable). /run holds a fresh world-writable lock/ (what /run/lock, /var/lock point to).
FRESH = {"/tmp": "mode=1777,size=64m", "/dev/shm": "mode=1777,size=64m", "/var/tmp": "mode=1777,size=64m",
         "/run": "mode=755,size=1m", "/dev/mqueue": None}


def _fresh(needed: list[str]) -> list[str]:
    """Mount empty tmpfs over the host's shared writable folders; returns those covered."""
    done = []
    for path, options in FRESH.items():
        real = os.path.realpath(path)
        if not os.path.isdir(real) or real in done or any(n == real or n.startswith(real + "/") for n in needed):
            continue
        if options is None:  # POSIX message queues: this IPC namespace's own
            try:
                _mount("mqueue", real, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)
                done.append(real)
            except OSError:
                pass
            continue
        _mount("tmpfs", real, "tmpfs", MS_NOSUID | MS_NODEV, options)
        if real == "/run":
            os.mkdir("/run/lock", 0o1777)
            os.chmod("/run/lock", 0o1777)
        done.append(real)
    # /dev/log is the host's syslog socket when it is not a link into /run.
    if os.path.exists("/dev/log") and stat.S_ISSOCK(os.lstat("/dev/log").st_mode):
        _mount("/dev/null", "/dev/log", None, MS_BIND)
        done.append("/dev/log")
    return done


def namespaces(needed: list[str], private: list[str], hide: list[str]) -> list[str]:
    """Private mount + network namespaces showing only ``needed``; returns what was done."""
    done = []
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
    done.append("network namespace without interfaces")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    needed = [os.path.realpath(p) for p in needed if os.path.exists(p)]
    for path in hide:
        real = os.path.realpath(path)
        if os.path.exists(real) and not any(n == real or n.startswith(real + "/") for n in needed):
            _hide(real)
    private = [os.path.realpath(p) for p in private if os.path.isdir(p)]
    fresh = _fresh(needed)
    for directory, children in sorted(_overlays(needed, private).items(), key=lambda kv: kv[0].count("/")):
        if directory not in fresh:
            _cover(directory, children)
    done.append("private mount namespace (repository, submissions and hidden paths not visible)")
    done.append(f"empty private {', '.join(fresh)} (no host unix sockets, nothing left behind)")
    return done


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` for good (no groups, no way back, no setuid escalation)."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(no_new_privs)")


def limits(memory_mb: int, cpu_seconds: int, file_mb: int, processes: int | None) -> None:
    """Hard resource limits (the process can lower them further but never raise them)."""
    def cap(which: int, value: int) -> None:
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))

    cap(resource.RLIMIT_AS, memory_mb << 20)
    cap(resource.RLIMIT_CPU, cpu_seconds)
    cap(resource.RLIMIT_FSIZE, file_mb << 20)
    cap(resource.RLIMIT_NOFILE, 256)
    cap(resource.RLIMIT_CORE, 0)
    if processes is not None:  # per uid: only meaningful when the uid is ours alone
        cap(resource.RLIMIT_NPROC, processes)


def confine(cfg: dict) -> list[str]:
    """Apply ``cfg`` (sent by the grader) to this process; returns the measures in force."""
    done: list[str] = []
    dropped = False
    if cfg.get("uid") is not None and os.geteuid() == 0:
        spaced = False
        if cfg.get("namespaces"):
            try:
                done += namespaces(cfg["needed"], cfg["private"], cfg["hide"])
                spaced = True
            except OSError as exc:
                done.append(f"no namespaces ({exc})")
        needed = [os.path.realpath(p) for p in cfg["needed"] if os.path.exists(p)]
        if spaced or not _overlays(needed, []):
            drop_privileges(cfg["uid"], cfg["gid"])
            dropped = True
            done.append("an unprivileged uid of its own, no groups, no_new_privs")
        else:  # the interpreter lives where an unprivileged uid cannot reach it
            done.append("still root: Python is not reachable by an unprivileged uid without namespaces")
    limits(cfg["memory_mb"], cfg["cpu_seconds"], cfg["file_mb"], cfg.get("processes") if dropped else None)
    done.append(f"limits: {cfg['memory_mb']} MB memory, {cfg['cpu_seconds']} s CPU, "
                f"{cfg['file_mb']} MB per file, 256 open files")
    return done
