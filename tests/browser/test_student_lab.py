"""The student's JupyterLab, started by the student's own command (``mlcourse lab``), driven by
headless Chromium: on a blank released chapter a check cell run before the imports and then
Run All show only one-line messages (no traceback), the XOR playground's widget callback
says which exercise to finish, and ``mlcourse.progress()`` renders its table."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from .support import ROOT, SCREENSHOTS, descendants, free_port, stop, wait_for_state, wait_until_serving

pytestmark = pytest.mark.browser

CHAPTER = "04_mlp_backprop.ipynb"  # the backprop chapter: stubs, uses-exercise cells and a widget
FRIENDLY = re.compile(r"(finish `[\w.]+` \(section \d+\) first"
                      r"|`\w+` is not defined yet: run the chapter's first code cell \(the imports\) first"
                      r"|`\w+` is not defined: the cell that makes it stopped — finish .* first"
                      r"|this cell needs `\w+` complete, but the cell that makes it stopped — finish .* first)")

JS_STATE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.sessionContext || !panel.content) return null;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const cells = [];
    for (let i = 0; i < panel.content.model.cells.length; i++) {
        const c = panel.content.model.cells.get(i);
        if (c.type !== 'code') continue;
        const outs = c.outputs.toJSON();
        cells.push({count: c.executionCount, source: c.sharedModel.getSource().slice(0, 80),
                    errors: outs.filter(o => o.output_type === 'error').map(o => o.traceback.join('\\n')),
                    text: outs.filter(o => o.output_type === 'stream').map(o => o.text).join('')});
    }
    return {status: kernel ? kernel.status : 'none', cells: cells};
}"""


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.fixture
def student_lab(tmp_path, browser):
    """(base URL) of JupyterLab started with `python -m mlcourse lab` on a folder holding a
    blank released chapter and a notebook that calls mlcourse.progress()."""
    work = tmp_path / "course" / "notebooks"
    work.mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / CHAPTER, work / CHAPTER)
    progress = nbformat.read(work / CHAPTER, as_version=4)  # same kernel metadata as a chapter
    progress.cells = [nbformat.v4.new_code_cell("import mlcourse\nmlcourse.progress('.')")]
    nbformat.write(progress, work / "progress.ipynb")
    home = tmp_path / "jupyter"
    settings = home / "settings"
    for plugin, values in {"@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
                           "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"}}.items():
        f = settings / f"{plugin}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    env = {k: v for k, v in os.environ.items() if k not in ("MLCOURSE_STATIC", "IPYTHONDIR")}
    env.update(JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    port = free_port()
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlcourse", "lab", str(work), "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--port-retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=work.parent, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    children: list[int] = []
    try:
        wait_until_serving(proc, base + "api/status", tmp_path / "lab.log")
        assert (work.parent / ".ipython" / "profile_default" / "ipython_kernel_config.py").exists()
        yield base
    finally:
        children.extend(descendants(proc.pid))
        stop(proc, children)
        log.close()


def _open(browser, url: str):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(url, wait_until="load")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext", timeout=90_000)
    return ctx, page


def _wait(page, predicate, timeout: float, what: str):
    return wait_for_state(page, JS_STATE, predicate, timeout, what, poll_ms=500)


def test_blank_chapter_run_all_shows_only_one_line_messages(browser, student_lab):
    ctx, page = _open(browser, f"{student_lab}lab/tree/{CHAPTER}")
    try:
        _wait(page, lambda s: s["status"] == "idle", 90, "the kernel to be idle")
        # A check cell first, as after a kernel restart: it imports `check` itself and says which
        # cell to run (no kernel extension needed, as in Colab).
        state = page.evaluate(JS_STATE)
        first_check = next(i for i, c in enumerate(state["cells"]) if "\ncheck(" in c["source"])
        before_uses = next(i for i, c in enumerate(state["cells"]) if c["source"].startswith("rng = np."))
        for k in (first_check, before_uses):
            page.evaluate("""(k) => { const p = window.jupyterapp.shell.currentWidget;
                const codes = p.content.widgets.filter(w => w.model.type === 'code');
                p.content.activeCellIndex = p.content.widgets.indexOf(codes[k]);
                return window.jupyterapp.commands.execute('notebook:run-cell'); }""", k)
            state = _wait(page, lambda s: s["cells"][k]["count"], 60, f"code cell {k}")
        assert state["cells"][first_check]["errors"] == []
        assert state["cells"][first_check]["text"] == ("❌ `dense_forward`: `dense_forward` is not defined yet: "
                                                      "run the cell that defines it (section 1) first\n")
        # Any other cell run before the imports: the kernel extension `mlcourse lab` loads says so.
        [before_imports] = state["cells"][before_uses]["errors"]
        assert _plain(before_imports) == "`np` is not defined yet: run the chapter's first code cell (the imports) first"
        page.evaluate("""(k) => { const p = window.jupyterapp.shell.currentWidget;
            const codes = p.content.widgets.filter(w => w.model.type === 'code');
            codes[k].node.scrollIntoView({block: 'center'}); }""", first_check)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "student_lab_check_cell_first.png"))

        t0 = time.monotonic()
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        state = _wait(page, lambda s: s["status"] == "idle" and all(c["count"] for c in s["cells"])
                      and s["cells"][first_check]["count"] > 1, 300, "Run All to reach the last cell")
        errors = [_plain(e) for c in state["cells"] for e in c["errors"]]
        assert errors, "a blank chapter has cells that need unfinished exercises"
        bad = [e for e in errors if "\n" in e or not FRIENDLY.fullmatch(e)]
        assert not bad, f"tracebacks or unexpected messages after Run All: {bad}"
        assert any("finish `dense_backward` (section 2) first" == e for e in errors)
        # The XOR playground's widget callback says which exercise to finish, in one line.
        widget_text = page.locator(".widget-interact .jp-OutputArea-output").first
        widget_text.wait_for(state="visible", timeout=60_000)
        assert re.fullmatch(r"finish `\w+` \(section \d+\) first", widget_text.inner_text().strip())
        widget_text.scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "student_lab_playground_finish_first.png"))
        print(f"\nRun All on blank {CHAPTER}: {len(errors)} one-line messages, {time.monotonic() - t0:.1f} s")
    finally:
        ctx.close()


def test_progress_renders_in_jupyterlab(browser, student_lab):
    ctx, page = _open(browser, f"{student_lab}lab/tree/progress.ipynb")
    try:
        _wait(page, lambda s: s["status"] == "idle", 90, "the kernel to be idle")
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        table = page.locator(".mlcourse-progress table")
        table.wait_for(state="visible", timeout=300_000)
        from mlcourse.report import course

        assert table.locator("tbody tr").count() == len(course()["exercises"])
        summary = page.locator(".mlcourse-progress p").inner_text()
        assert "Points the public checks would give: 0 / 100" in summary and "not started" in summary
        page.screenshot(path=str(SCREENSHOTS / "student_lab_progress.png"))
    finally:
        ctx.close()
