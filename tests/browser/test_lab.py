"""A chapter's live widget in a real JupyterLab, driven by headless Chromium.

JupyterLab runs on 127.0.0.1 (random port, empty token) with throw-away config, runtime,
data, settings and workspace folders, on a copy of a solution notebook that has an
``mlcourse.widgets.interact`` control (the fastest such chapter; a small fixture notebook
only when no chapter has one). The test runs all cells once the kernel is idle, checks
that the slider rendered, moves it with the keyboard and waits for the figure to be
redrawn by the kernel. The server is stopped by its PID (and its process group) at the end,
and any kernel it leaves behind is killed by PID.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from .support import ROOT, SCREENSHOTS, descendants, free_port, get, stop, wait_for_state, wait_until_serving

pytestmark = pytest.mark.browser

FIXTURE = ROOT / "tests" / "fixtures" / "widget_lab.ipynb"
TIMINGS = ROOT / "_build" / "executed" / "timings.json"
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"


def _has_widget(path: Path) -> bool:
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    return "mlcourse.widgets" in code and "interact(" in code


def widget_notebook() -> Path:
    """The solution notebook with an interact control that ran fastest under nbval.

    MLCOURSE_LAB_NOTEBOOK=path picks another one (e.g. to try a chapter being written).
    """
    if os.environ.get("MLCOURSE_LAB_NOTEBOOK"):
        return Path(os.environ["MLCOURSE_LAB_NOTEBOOK"]).resolve()
    chapters = [p for p in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")) if _has_widget(p)]
    if not chapters:
        return FIXTURE
    timings = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    return min(chapters, key=lambda p: (timings.get(f"solutions/{p.name}", float("inf")), p.name))


@pytest.fixture
def lab(tmp_path, browser):  # browser first: skip before starting anything when it is missing
    """(base URL, notebook name) of a JupyterLab serving a copy of a widget notebook."""
    source = widget_notebook()
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:  # start from a clean notebook, as a student would
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, work / source.name)
    (work / "data").symlink_to(ROOT / "data")  # chapters that read ../data or data/ find it
    home = tmp_path / "jupyter"
    settings = home / "settings"
    # No news pop-up; every cell in the DOM (no windowing), so the widget is easy to find.
    for plugin, values in {"@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
                           "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"}}.items():
        f = settings / f"{plugin}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    env = {k: v for k, v in os.environ.items() if k != "MLCOURSE_STATIC"}
    env.update(JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), IPYTHONDIR=str(home / "ipython"))
    port = free_port()
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--port-retries=0", "--allow-root", "--IdentityProvider.token=", "--ServerApp.password=",
         f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=None", "--LabApp.extension_manager=readonly", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    children: list[int] = []
    try:
        wait_until_serving(proc, base + "api/status", tmp_path / "lab.log")
        yield base, source.name
    finally:
        children.extend(descendants(proc.pid))
        stop(proc, children)
        log.close()
        assert proc.poll() is not None, f"JupyterLab (pid {proc.pid}) is still running"


JS_NOTEBOOK = """() => {
    const app = window.jupyterapp;
    const panel = app && app.shell.currentWidget;
    if (!panel || !panel.sessionContext || !panel.content) return null;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const cells = [];
    for (let i = 0; i < panel.content.model.cells.length; i++) {
        const c = panel.content.model.cells.get(i);
        if (c.type !== 'code') continue;
        const outputs = c.outputs.toJSON();
        cells.push({count: c.executionCount,
                    errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)});
    }
    return {status: kernel ? kernel.status : 'none', cells: cells};
}"""


def _wait(page, predicate, timeout: float, what: str):
    """Poll JS_NOTEBOOK until predicate(state) holds."""
    return wait_for_state(page, JS_NOTEBOOK, predicate, timeout, what)


def test_widget_round_trip_in_jupyterlab(browser, lab):
    base, name = lab
    status, html = get(base + "lab")
    assert status == 200 and WIDGETS_EXTENSION in html, (
        f"JupyterLab does not load the ipywidgets front end ({WIDGETS_EXTENSION}); "
        "is jupyterlab_widgets installed in the environment?")

    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    external: list[str] = []

    def guard(route):
        if urlparse(route.request.url).hostname in ("127.0.0.1", None) or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    ctx.route("**/*", guard)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{base}lab/tree/{name}", wait_until="load")
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                               "&& window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
        _wait(page, lambda s: s["status"] == "idle", 90, "the kernel to be idle")

        t0 = time.monotonic()
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        state = _wait(page, lambda s: s["status"] == "idle" and all(c["count"] for c in s["cells"])
                      or any(c["errors"] for c in s["cells"]), 240, "all cells to run")
        ran = time.monotonic() - t0
        errs = [e for c in state["cells"] for e in c["errors"]]
        assert not errs, f"{name}: cells raised in JupyterLab: {errs}"

        interact = page.locator(".widget-interact").first
        interact.wait_for(state="visible", timeout=30_000)
        slider = interact.locator(".widget-slider .noUi-handle").first
        slider.wait_for(state="visible", timeout=30_000)
        readout = interact.locator(".widget-slider .widget-readout").first
        image = interact.locator(".jp-OutputArea-output img").first
        image.wait_for(state="visible", timeout=30_000)
        before_value, before_src = readout.inner_text(), image.get_attribute("src")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        interact.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "lab_widget_before.png"))

        # Move the slider one step with the keyboard (like a person using the arrow keys).
        slider.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("([el, v]) => el.innerText !== v", arg=[readout.element_handle(), before_value],
                               timeout=10_000)
        after_value = readout.inner_text()
        # The kernel redraws the figure: a new image replaces the old one.
        page.wait_for_function(
            "([root, src]) => { const img = root.querySelector('.jp-OutputArea-output img');"
            " return img && img.complete && img.naturalWidth > 0 && img.getAttribute('src') !== src; }",
            arg=[interact.element_handle(), before_src], timeout=60_000)
        page.screenshot(path=str(SCREENSHOTS / "lab_widget_after.png"))
        print(f"\n{name}: ran all cells in {ran:.1f} s in JupyterLab; slider {before_value} → {after_value}, "
              "figure redrawn by the kernel")
    finally:
        ctx.close()
    assert not external, f"JupyterLab requested other hosts: {external}"
    assert not errors, f"uncaught exceptions in JupyterLab: {errors}"
