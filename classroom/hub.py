"""Start and stop the class's JupyterHub on this machine (``make hub`` / ``make hub-stop``).

``up``: accounts from the roster, the edition published to the hub's git repository, the
settings file, then ``jupyterhub`` in the background (its own session; PID in
``private/jupyterhub.pid``) until ``/hub/health`` answers. ``down``: the hub is stopped by
its PID (it stops the students' servers and its proxy itself), then whatever is left — the
proxy's PID from its pid file, anything still inside a student's cgroup — is killed by PID.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import accounts, edition, limits

REPO = Path(__file__).resolve().parent.parent
HUB_DIR = Path(os.environ.get("MLCOURSE_HUB_DIR", "/srv/mlcourse-hub"))
HUB_ENV = Path(os.environ.get("MLCOURSE_HUB_ENV", "/opt/mlcourse-hub"))
EDITION_DIR = "mlcourse"   # the folder the edition lands in, in every home (notebooks in notebooks/)


@dataclass
class Paths:
    root: Path

    @property
    def private(self) -> Path:     # root only: database, secrets, passwords, logs, grading
        return self.root / "private"

    @property
    def repo(self) -> Path:        # world-readable: the edition students pull
        return self.root / f"{EDITION_DIR}.git"

    @property
    def settings(self) -> Path:
        return self.private / "settings.json"

    @property
    def pid(self) -> Path:
        return self.private / "jupyterhub.pid"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def default_edition(paths: Paths) -> Path:
    """The edition to publish: the student edition's notebooks and README (classroom.edition.stage)."""
    return edition.stage(paths.private / "edition-stage")


def up(roster: Path, paths: Paths, port: int = 8000, mem: str = "1G", cpus: float = 1.0,
       source: Path | None = None, server_args: list[str] | None = None, timeout: float = 120) -> dict:
    """Start the hub; returns {url, pid, seconds, students, passwords, edition_url}."""
    started = time.monotonic()
    singleuser = HUB_ENV / "venv" / "bin" / "jupyterhub-singleuser"
    proxy = REPO / "node_modules" / ".bin" / "configurable-http-proxy"
    for need, how in ((singleuser, "make hub-env"), (proxy, "make hub-proxy")):
        if not os.access(need, os.X_OK):
            raise RuntimeError(f"{need} is missing: run `{how}` (or just `make hub`)")
    old = _read_pid(paths.pid)
    if old and _alive(old):
        raise RuntimeError(f"a hub is already running from {paths.root} (pid {old}); stop it with `make hub-stop`")
    names = accounts.read_roster(roster)
    paths.root.mkdir(parents=True, exist_ok=True)
    os.chmod(paths.root, 0o755)
    paths.private.mkdir(exist_ok=True)
    os.chmod(paths.private, 0o700)
    students = accounts.ensure(names, paths.private / "passwords.csv")
    commit = edition.publish(source or default_edition(paths), paths.repo, "First release of the student edition")
    edition.trust(names, paths.repo)
    settings = {
        "repo": str(REPO), "private": str(paths.private), "students": names,
        "port": port, "hub_port": free_port(), "proxy_api_port": free_port(),
        "proxy": str(proxy), "proxy_token": secrets.token_hex(32), "singleuser": str(singleuser),
        "mem_limit": mem, "cpu_limit": cpus,
        "edition_url": edition.url(paths.repo), "branch": edition.BRANCH, "edition_dir": EDITION_DIR,
        "server_args": server_args or [],
    }
    fd = os.open(paths.settings, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(settings, f, indent=1)
    env = {**os.environ, "MLCOURSE_HUB_SETTINGS": str(paths.settings)}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    log = open(paths.private / "hub.log", "ab")
    launched = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(REPO / "classroom" / "jupyterhub_config.py")],
                            cwd=paths.private, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    paths.pid.write_text(f"{proc.pid}\n")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/hub/health", timeout=2) as r:  # noqa: S310 — loopback
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            down(paths)
            tail = (paths.private / "hub.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"JupyterHub did not start (see {paths.private / 'hub.log'}):\n{tail}")
        time.sleep(0.2)
    timings = {"up_seconds": round(time.monotonic() - started, 2),
               "jupyterhub_seconds": round(time.monotonic() - launched, 2)}
    (paths.private / "timings.json").write_text(json.dumps(timings) + "\n")
    return {"url": url, "pid": proc.pid, **timings, "commit": commit,
            "students": [s.name for s in students], "passwords": str(paths.private / "passwords.csv"),
            "edition_url": settings["edition_url"],
            "link": f"{url}/hub/user-redirect/{edition.pull_path(settings['edition_url'], EDITION_DIR)}"}


def _stop_pid(pid: int | None, grace: float) -> bool:
    """SIGTERM, then SIGKILL after ``grace`` s; True if a live process was signalled."""
    if not pid or not _alive(pid):
        return False
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _alive(pid):
            return True
    return True


def down(paths: Paths) -> list[str]:
    """Stop the hub, its proxy and every student's server by PID; returns what was stopped."""
    stopped = []
    settings = json.loads(paths.settings.read_text()) if paths.settings.exists() else {"students": []}
    proxy_pid = _read_pid(paths.private / "proxy.pid")  # read first: the hub removes it on exit
    hub_pid = _read_pid(paths.pid)
    if _stop_pid(hub_pid, grace=30):
        stopped.append(f"jupyterhub {hub_pid}")
    if _stop_pid(proxy_pid, grace=5):
        stopped.append(f"configurable-http-proxy {proxy_pid}")
    for name in settings["students"]:
        left = limits.remove(name)
        if left:
            stopped.append(f"{name}'s processes {left}")
    paths.pid.unlink(missing_ok=True)
    return stopped
