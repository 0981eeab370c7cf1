"""A class of two on `make hub`, driven in headless Chromium from login to returned feedback.

`make hub` starts JupyterHub on 127.0.0.1 for a roster of two throw-away accounts
(``mlct-ana``, ``mlct-ben``); each student logs in with the password the hub generated,
lands (through the nbgitpuller link) in JupyterLab with the edition in ``~/mlcourse``,
solves chapter 01's first exercise, runs its check (✅) and saves. The instructor releases
an update of chapter 02; each student follows the nbgitpuller link again: chapter 02 is
updated, chapter 01's work is untouched. `make hub-grade ASSIGNMENT=ch01` collects, grades
and returns; each student reads their own feedback in their server, and code run in their
own kernel cannot read the other's home or feedback. At the end `make hub-stop` stops the
hub, the proxy and both servers by PID; the test checks every PID is gone, then deletes
the accounts it made and the hub's folder.
"""
from __future__ import annotations

import csv
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

from .support import ROOT, SCREENSHOTS, free_port, wait_for_state

pytestmark = pytest.mark.browser

STUDENTS = ("mlct-ana", "mlct-ben")
EDITION = "mlcourse"          # the folder in every home
NOTEBOOKS = f"{EDITION}/notebooks"
CH01 = "01_linear_regression.ipynb"
CH02 = "02_gradient_descent_and_features.ipynb"
EXERCISE = "predict"
ASSIGNMENT = "ch01"
UPDATE = "Update from your instructor: a clarification of this chapter."
FIGURES = ROOT / "_build" / "hub-figures.json"


def _make(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run(["make", "--no-print-directory", "-s", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"make {' '.join(args)}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def _chapter(name: str) -> str:
    """CH02's real name may change: the released notebook whose name starts with its number."""
    hits = sorted((ROOT / "notebooks").glob(name[:3] + "*.ipynb"))
    assert hits, f"no released notebook {name[:3]}*"
    return hits[0].name


@pytest.fixture(scope="module")
def hub(tmp_path_factory, browser):  # browser first: skip before creating accounts when it is missing
    if os.geteuid() != 0:
        pytest.skip("the hub test creates local accounts: it runs as root (as in CI)")
    from classroom import accounts, limits

    accounts.remove(list(STUDENTS))  # left over by an interrupted run; never a real user (MARK)
    work = tmp_path_factory.mktemp("hub")
    roster = work / "roster.csv"
    roster.write_text("username,name\n" + "".join(f"{n},{n[5:].title()}\n" for n in STUDENTS))
    hub_dir = Path(f"/srv/mlcourse-hub-test-{os.getpid()}")
    port = free_port()
    common = [f"HUB_DIR={hub_dir}"]
    figures: dict = {}
    t0 = time.monotonic()
    try:
        started = _make("hub", f"ROSTER={roster}", f"PORT={port}", *common,
                        "HUB_ARGS=--server-arg=--LabApp.expose_app_in_browser=True")
        link = started.stdout.split("The students' nbgitpuller link (first copy, then updates): ")[1].split()[0]
        figures["make_hub_seconds"] = round(time.monotonic() - t0, 2)
        settings = json.loads((hub_dir / "private" / "settings.json").read_text())
        figures.update(json.loads((hub_dir / "private" / "timings.json").read_text()))
        with open(hub_dir / "private" / "passwords.csv", newline="") as f:
            passwords = {r["username"]: r["password"] for r in csv.DictReader(f)}
        yield {"base": f"http://127.0.0.1:{port}", "link": link, "dir": hub_dir, "settings": settings, "passwords": passwords,
               "common": common, "figures": figures, "work": work}
    finally:
        pids = {}
        for name in ("jupyterhub", "proxy"):
            try:
                pids[name] = int((hub_dir / "private" / f"{name}.pid").read_text())
            except (OSError, ValueError):
                pass
        for name in STUDENTS:
            for pid in limits.Group(name, None, limits._dirs(name)[1]).pids():
                pids[f"{name}:{pid}"] = pid
        stop = subprocess.run(["make", "-s", "hub-stop", *common], cwd=ROOT, capture_output=True, text=True)
        left = {k: p for k, p in pids.items() if _alive(p)}
        removed = accounts.remove(list(STUDENTS))
        shutil.rmtree(hub_dir, ignore_errors=True)
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        FIGURES.write_text(json.dumps(figures, indent=1) + "\n")
        print(f"\nhub figures: {json.dumps(figures)}")
        assert stop.returncode == 0, stop.stderr
        assert not left, f"still running after make hub-stop: {left}"
        assert sorted(removed) == sorted(STUDENTS)


def _login(browser, hub, name: str):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    page.goto(hub["base"] + "/hub/login", wait_until="load")
    page.fill("#username_input", name)
    page.fill("#password_input", hub["passwords"][name])
    page.click("#login_submit")
    # spawn → nbgitpuller's page pulls the edition → JupyterLab in ~/mlcourse
    page.wait_for_url(f"**/user/{name}/lab/tree/{EDITION}**", timeout=240_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.serviceManager", timeout=120_000)
    return ctx, page


def _pull(hub, page, name: str) -> None:
    """Follow the nbgitpuller link, as a student clicking it in the course's announcement."""
    link = hub["link"]
    assert link.startswith(f"{hub['base']}/hub/user-redirect/git-pull?repo=")
    page.goto(link, wait_until="load")
    page.wait_for_url(f"**/user/{name}/lab/tree/{EDITION}**", timeout=120_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.serviceManager", timeout=120_000)


JS_STATE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.sessionContext || !panel.sessionContext.session) return null;
    const kernel = panel.sessionContext.session.kernel;
    const cells = [];
    for (let i = 0; i < panel.content.model.cells.length; i++) {
        const c = panel.content.model.cells.get(i);
        cells.push({type: c.type, source: c.sharedModel.getSource(),
                    count: c.type === 'code' ? c.executionCount : null,
                    text: c.type === 'code' ? c.outputs.toJSON().map(o => o.text || (o.ename ? o.ename + ': ' + o.evalue : '')).join('') : ''});
    }
    return {status: kernel ? kernel.status : 'none', dirty: panel.context.model.dirty, cells: cells};
}"""


def _wait(page, predicate, timeout: float, what: str):
    return wait_for_state(page, JS_STATE, predicate, timeout, what)


def _solve_and_check(page, solution: str) -> str:
    """Put the solution into the exercise cell, run everything above the check and the check; save."""
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:open', {path: arguments[0]})"
                  .replace("arguments[0]", json.dumps(f"{NOTEBOOKS}/{CH01}")))
    state = _wait(page, lambda s: s["status"] == "idle", 120, "chapter 01's kernel")
    src = [c["source"] for c in state["cells"]]
    ex = next(i for i, s in enumerate(src) if s.startswith(f"def {EXERCISE}("))
    chk = next(i for i, s in enumerate(src) if f'check("{EXERCISE}"' in s)
    page.evaluate("""([ex, chk, solution]) => {
        const panel = window.jupyterapp.shell.currentWidget;
        panel.content.model.cells.get(ex).sharedModel.setSource(solution);
        panel.content.activeCellIndex = chk;
        return window.jupyterapp.commands.execute('notebook:run-all-above');
    }""", [ex, chk, solution])
    _wait(page, lambda s: s["status"] == "idle" and all(c["count"] for c in s["cells"][:chk] if c["type"] == "code"),
          180, "the cells above the check to run")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")
    state = _wait(page, lambda s: s["status"] == "idle" and s["cells"][chk]["count"], 120, "the check cell")
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    _wait(page, lambda s: not s["dirty"], 60, "the notebook to be saved")
    return state["cells"][chk]["text"]


def _run_in_own_kernel(page, code: str) -> str:
    """Run ``code`` in a new kernel of the student's own server; its printed output."""
    return page.evaluate("""async (code) => {
        const k = await window.jupyterapp.serviceManager.kernels.startNew({name: 'python3'});
        let out = '';
        const future = k.requestExecute({code: code});
        future.onIOPub = (msg) => {
            if (msg.header.msg_type === 'stream') out += msg.content.text;
            if (msg.header.msg_type === 'error') out += msg.content.ename + ': ' + msg.content.evalue;
        };
        await future.done;
        await k.shutdown();
        return out;
    }""", code)


PROBE = """
import json, pathlib
me, other = {me!r}, {other!r}
out = {{}}
for label, path in [("own", f"/home/{{me}}/feedback/{a}/feedback.md"), ("other_home", f"/home/{{other}}"),
                    ("other_feedback", f"/home/{{other}}/feedback/{a}/feedback.md"),
                    ("other_ch01", f"/home/{{other}}/mlcourse/notebooks/{ch01}")]:
    p = pathlib.Path(path)
    try:
        out[label] = "ok: " + (p.read_text()[:200] if p.is_file() or label != "other_home" else str(sorted(x.name for x in p.iterdir())))
    except OSError as exc:
        out[label] = type(exc).__name__
out["friendly"] = "mlcourse.friendly" in get_ipython().extension_manager.loaded
print(json.dumps(out))
"""


def test_a_class_of_two_on_the_hub(browser, hub) -> None:
    ch02 = _chapter(CH02)
    solution_nb = nbformat.read(ROOT / "solutions" / CH01, as_version=4)
    solution = next(c.source for c in solution_nb.cells if c.source.startswith(f"def {EXERCISE}("))
    pages = {}
    try:
        # 1. each student logs in, finds the edition in their home, solves one exercise, runs its check
        for name in STUDENTS:
            t0 = time.monotonic()
            ctx, page = _login(browser, hub, name)
            hub["figures"][f"{name}_first_login_seconds"] = round(time.monotonic() - t0, 2)
            pages[name] = (ctx, page)
            home = Path(f"/home/{name}")
            assert (home / NOTEBOOKS / CH01).stat().st_uid == (home / EDITION).stat().st_uid == home.stat().st_uid
            assert not (home / EDITION / "wheels").exists()  # installed on the hub, not copied into homes
            for entry in ("notebooks", "README.md"):  # the edition, as JupyterLab's file browser shows it
                page.locator(".jp-DirListing-item", has_text=entry).first.wait_for(state="visible", timeout=60_000)
            verdict = _solve_and_check(page, solution)
            assert f"✅ `{EXERCISE}`" in verdict, verdict
            page.screenshot(path=str(SCREENSHOTS / f"hub-{name}-check.png"))
            saved = nbformat.read(home / NOTEBOOKS / CH01, as_version=4)
            assert any(c.source == solution for c in saved.cells), "the solved exercise was not saved in the home"
        from classroom import limits
        for name in STUDENTS:  # both servers and their chapter-01 kernels are running now
            use = limits.usage(limits.Group(name, limits.version(), limits._dirs(name)[1]))
            hub["figures"][f"{name}_server_memory_mb"] = round(use.get("memory", 0) / 2**20, 1)
            hub["figures"][f"{name}_server_memory_peak_mb"] = round((use.get("memory_peak") or 0) / 2**20, 1)

        # 2. the instructor releases an update of chapter 02; both students pull it
        from classroom import edition

        stage = edition.stage(hub["work"] / "edition")
        nb2 = nbformat.read(stage / "notebooks" / ch02, as_version=4)
        nb2.cells.insert(1, nbformat.v4.new_markdown_cell(UPDATE))
        nbformat.write(nb2, stage / "notebooks" / ch02)
        subprocess.run([sys.executable, "-m", "classroom", "--hub-dir", str(hub["dir"]), "release", "--from",
                        str(stage)], cwd=ROOT, check=True, capture_output=True)
        for name, (ctx, page) in pages.items():
            _pull(hub, page, name)
            home = Path(f"/home/{name}")
            assert UPDATE in (home / NOTEBOOKS / ch02).read_text(), f"{name} did not get the update of {ch02}"
            saved = nbformat.read(home / NOTEBOOKS / CH01, as_version=4)
            assert any(c.source == solution for c in saved.cells), f"the pull lost {name}'s chapter 01 work"

        # 3. the instructor collects, grades and returns assignment 01
        t0 = time.monotonic()
        _make("hub-grade", f"ASSIGNMENT={ASSIGNMENT}", *hub["common"])
        hub["figures"]["collect_grade_return_seconds"] = round(time.monotonic() - t0, 2)
        book = {r["id"]: r for r in csv.DictReader(open(hub["dir"] / "private" / "graded" / ASSIGNMENT / "gradebook.csv"))}
        assert set(book) == set(STUDENTS)
        for name in STUDENTS:
            assert float(book[name][ASSIGNMENT]) > 0, book[name]

        # 4. each student sees their own feedback, and nothing of the other's
        for me, other in (STUDENTS, STUDENTS[::-1]):
            ctx, page = pages[me]
            page.goto(f"{hub['base']}/user/{me}/files/feedback/{ASSIGNMENT}/feedback.html", wait_until="load")
            text = page.inner_text("body")
            assert f"feedback for {me}" in text.lower(), text[:1000]
            assert re.search(rf"✅ [\d.]+ / [\d.]+ — {EXERCISE}\b", text), text[:1000]  # the solved exercise
            assert re.search(r"❌ 0 / [\d.]+ — mse_loss", text), text[:1000]  # and what is still to do
            page.screenshot(path=str(SCREENSHOTS / f"hub-{me}-feedback.png"))
            page.goto(f"{hub['base']}/user/{me}/lab/tree/{EDITION}", wait_until="load")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.serviceManager", timeout=120_000)
            probe = json.loads(_run_in_own_kernel(page, PROBE.format(me=me, other=other, ch01=CH01, a=ASSIGNMENT)).strip())
            assert probe["own"].startswith("ok: ") and f"feedback for {me}" in probe["own"].lower(), probe
            assert probe["other_home"] == probe["other_feedback"] == probe["other_ch01"] == "PermissionError", probe
            assert probe["friendly"] is True, "the hub's kernels load mlcourse.friendly, as `mlcourse lab` does"
            home = os.stat(f"/home/{me}")
            assert home.st_mode & 0o077 == 0 and os.stat(f"/home/{me}/feedback/{ASSIGNMENT}/feedback.md").st_uid == home.st_uid
    finally:
        for ctx, _ in pages.values():
            ctx.close()
