"""What the browser tests share (conftest.py holds only their fixtures)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "_build" / "screenshots"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_state(page, js: str, predicate, timeout: float, what: str, poll_ms: int = 400):
    """Evaluate ``js`` in ``page`` until ``predicate(state)`` holds; the state, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(js)
        if state and predicate(state):
            return state
        page.wait_for_timeout(poll_ms)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; last state: {str(state)[:1500]}")


def get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    """(HTTP status, body) of a GET on a loopback URL."""
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - 127.0.0.1 only
        return r.status, r.read().decode("utf-8", "replace")


def descendants(pid: int) -> list[int]:
    """PIDs of every process below ``pid`` (kernels run in sessions of their own)."""
    try:
        import psutil  # optional: without it only the process group is stopped
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except Exception:
        return []


def stop(proc: subprocess.Popen, children: list[int]) -> None:
    """Terminate the server's process group, then any kernel (own session) still alive."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the group we created with start_new_session
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    for pid in children:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            time.sleep(0.5)


def wait_until_serving(proc: subprocess.Popen, url: str, log: Path, timeout: float = 90) -> None:
    """Poll ``url`` until it answers 200; fail with the end of ``log`` if ``proc`` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if get(url)[0] == 200:
                return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the server did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.5)
