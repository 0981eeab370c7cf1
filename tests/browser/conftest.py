"""Shared set-up of the real-browser tests: Debian's Chromium driven by Python Playwright.

Never a browser downloaded by Playwright (`playwright install`): the tests launch
/usr/bin/chromium, which `make test` installs via .ci/ensure-chromium. When Chromium or
Playwright is missing the tests skip, and the session ends with a banner saying so.
"""
from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from .support import SCREENSHOTS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

_skipped_for: list[str] = []


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return "Debian's chromium is not installed (run `bash .ci/ensure-chromium` as root, or `sudo apt-get install chromium`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[site]')"
    return None


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (Playwright Browser) shared by the session."""
    why = _missing()
    if why:
        _skipped_for.append(why)
        pytest.skip(f"BROWSER TESTS SKIPPED: {why}")
    from playwright.sync_api import sync_playwright

    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # this session's screenshots only
    SCREENSHOTS.mkdir(parents=True)
    pw = sync_playwright().start()
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
    try:
        yield b
    finally:
        b.close()
        pw.stop()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture(scope="session")
def serve():
    """serve(folder) → base URL of a static HTTP server for folder on 127.0.0.1 (random port)."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def pytest_terminal_summary(terminalreporter) -> None:
    if _skipped_for:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        terminalreporter.write_line(f"!!! THE BROWSER TESTS WERE SKIPPED: {_skipped_for[0]}", red=True, bold=True)
        terminalreporter.write_line("!!! CI must run them: `make test` installs chromium when it runs as root.",
                                    red=True, bold=True)
        terminalreporter.write_line(bar, red=True, bold=True)
