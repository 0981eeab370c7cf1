"""What the browser tests share (conftest.py holds only their fixtures)."""
from __future__ import annotations

import socket
import time
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
