"""Project-wide pytest set-up.

* Fixture notebooks under tests/ (hostile submissions and the like) are data, never
  collected by nbval.
* ``--save-executed DIR``: while nbval runs a notebook, keep every cell's outputs and write
  the executed notebook to DIR (plus ``timings.json``), so the site is built from the run
  that validated the course instead of executing every chapter a second time.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

collect_ignore_glob = ["tests/fixtures/*", "_build/*", ".venv/*"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--save-executed", default=None, metavar="DIR",
                     help="write notebooks executed by nbval (with outputs) to DIR")


_started: dict[str, float] = {}
_files: dict[str, object] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    parent = getattr(item, "parent", None)
    is_cell = hasattr(item, "test_outputs") and hasattr(item, "cell")
    if is_cell:
        _started.setdefault(str(parent.fspath), time.perf_counter())
    outcome = yield
    if is_cell:
        cell = item.cell
        cell.outputs = list(item.test_outputs or [])
        cell.execution_count = item.cell_num + 1
        for out in cell.outputs:
            if out.get("output_type") == "execute_result":
                out["execution_count"] = cell.execution_count
        _files[str(parent.fspath)] = parent
        parent._mlcourse_elapsed = time.perf_counter() - _started[str(parent.fspath)]


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = session.config.getoption("--save-executed")
    if not target or not _files:
        return
    import nbformat

    out = Path(target)
    out.mkdir(parents=True, exist_ok=True)
    timings = {}
    tpath = out / "timings.json"
    if tpath.exists():
        timings = json.loads(tpath.read_text())
    for path, parent in sorted(_files.items()):
        p = Path(path)
        key = f"{p.parent.name}/{p.name}"
        timings[key] = round(getattr(parent, "_mlcourse_elapsed", 0.0), 1)
        if p.parent.name == "solutions":
            nbformat.write(parent.nb, out / p.name)
    tpath.write_text(json.dumps(timings, indent=2, sort_keys=True) + "\n")
