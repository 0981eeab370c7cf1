"""The rendered course site (``make site`` → _build/html) in a real browser, offline.

Every page is served from 127.0.0.1 and opened in headless Chromium. A page passes when it
logs no console error, every request it makes succeeds and stays on 127.0.0.1, every
image has loaded, MathJax has typeset all of its math (no raw ``$…$`` / ``\\(`` left, no
TeX errors), and none of the solution code appears in it. The navigation must reach every
chapter in order. A screenshot of each page goes to _build/screenshots/.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urljoin, urlparse

import nbformat
import pytest

from authoring.chapters import source_digest
from authoring.release import solution_blocks, student_version

from .support import ROOT, SCREENSHOTS

pytestmark = pytest.mark.browser

SITE = ROOT / "_build" / "html"
# Which solutions the site is built from (overridable only to test this test).
SOLUTIONS = Path(os.environ.get("MLCOURSE_SITE_SOLUTIONS", ROOT / "solutions"))
CHAPTERS = sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
PAGES = ["intro.html", *[f"chapters/{p.stem}.html" for p in CHAPTERS], "instructors.html"]

# Raw TeX a reader would see if MathJax had not run: \( \[ or $…$ holding TeX syntax.
RAW_MATH = re.compile(r"\\\(|\\\[|\$\$|\$[^$\n]*[\\^_{][^$\n]*\$")


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _lines(text: str) -> set[str]:
    return {_normalise(line) for line in text.splitlines()}


def _public_lines() -> set[str]:
    """Every line students are given: the sources of all student notebooks."""
    return {line for p in CHAPTERS for c in student_version(nbformat.read(p, as_version=4)).cells
            for line in _lines(c.source)}


def _secret_lines(path: Path, public: set[str]) -> list[str]:
    """Lines of the notebook's solution code (>= 10 characters) that appear in no student
    notebook (so generic lines such as ``for _ in range(epochs):`` do not count)."""
    return sorted({line for block in solution_blocks(nbformat.read(path, as_version=4))
                   for line in _lines(block) if len(line) >= 10 and line not in public})


@pytest.fixture(scope="module")
def site(serve) -> str:
    if not (SITE / "intro.html").exists():
        pytest.fail(f"{SITE} has no site: run `make site` (or `make site-only`) before the browser tests")
    return serve(SITE)


@pytest.fixture(scope="module")
def secrets() -> dict[str, list[str]]:
    """Solution-only code of every chapter, by chapter name."""
    public = _public_lines()
    found = {p.stem: _secret_lines(p, public) for p in CHAPTERS}
    assert any(found.values()) or not found, "found no solution code in any chapter"
    return found


@pytest.fixture
def context(browser, site):
    """A fresh browser context that refuses (and records) any request leaving 127.0.0.1."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.external_requests = []

    def guard(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            ctx.external_requests.append(route.request.url)
            route.abort()

    ctx.route("**/*", guard)
    yield ctx
    ctx.close()


def open_page(context, url: str):
    """Load url; return (page, problems) after MathJax has finished and the network is idle."""
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
    page.wait_for_load_state("networkidle")
    page.evaluate("""async () => {
        if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
        await Promise.all([...document.images].map(img => {
            img.loading = 'eager';
            return img.decode().catch(() => null);
        }));
    }""")
    page.wait_for_load_state("networkidle")
    return page, problems


def test_site_manifest_is_up_to_date():
    """The site was built from the chapters that exist now."""
    manifest = ROOT / "_build" / "site.json"  # written by authoring/site.py
    assert manifest.exists(), "no _build/site.json: run `make site`"
    info = json.loads(manifest.read_text())
    assert info["chapters"] == [p.name for p in CHAPTERS], (
        "the site is out of date with solutions/ (chapters added or removed): run `make site`")
    changed = [p.name for p in CHAPTERS if info.get("sources", {}).get(p.name) != source_digest(p)]
    assert not changed, f"the site is out of date with solutions/ (edited since: {changed}): run `make site`"


def test_javascript_is_vendored():
    """MathJax, require.js and the ipywidgets HTML manager are served from the site itself."""
    vendor = SITE / "_vendor"
    for f in ("mathjax/tex-mml-chtml.js", "mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
              "requirejs/require.js", "html-manager/embed-amd.js"):
        assert (vendor / f).is_file(), f"{f} is missing from {vendor}"
    static = SITE / "_static"
    assert not list(static.rglob("tex-mml-chtml.js")) and not list(static.rglob("embed-amd.js")), (
        "vendored JavaScript must not be in _static/ (Jupyter Book would load it on every page)")


def test_no_page_references_the_internet():
    """No script, style sheet, image or frame in any built page comes from another host."""
    bad = []
    for page in SITE.rglob("*.html"):
        if "_vendor" in page.parts:
            continue
        html = page.read_text(encoding="utf-8")
        for m in re.finditer(r"<(script|link|img|iframe)\b[^>]*?\b(?:src|href)=\"((?:https?:)?//[^\"]+)\"", html):
            bad.append(f"{page.relative_to(SITE)}: <{m.group(1)}> {m.group(2)}")
    assert not bad, "pages load from the internet:\n" + "\n".join(bad)


def test_downloadable_notebooks_hold_no_solution(secrets):
    """The page sources offered for download (_sources/) are the student-facing notebooks."""
    for name, lines in secrets.items():
        src = SITE / "_sources" / "chapters" / f"{name}.ipynb"
        if src.exists():
            shown = _lines("\n".join(c.source for c in nbformat.read(src, as_version=4).cells))
            leaked = [line for line in lines if line in shown]
            assert not leaked, f"{src.relative_to(ROOT)} contains solution code: {leaked[:5]}"


@pytest.mark.parametrize("path", PAGES)
def test_page(context, site, secrets, path):
    assert (SITE / path).exists(), f"{path} was not built: run `make site`"
    page, problems = open_page(context, urljoin(site, path))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / (path.replace("/", "__").removesuffix(".html") + ".png")),
                    full_page=True)

    assert not problems, f"{path}:\n" + "\n".join(problems)
    assert not context.external_requests, f"{path} requested other hosts: {context.external_requests}"

    broken = page.evaluate("""() => [...document.images]
        .filter(img => !(img.complete && img.naturalWidth > 0))
        .map(img => img.getAttribute('src').slice(0, 80))""")
    assert not broken, f"{path}: images not loaded: {broken}"

    # Widgets saved with their state are drawn by the (vendored) ipywidgets HTML manager.
    views = page.evaluate("""() => document.querySelectorAll(
        'script[type="application/vnd.jupyter.widget-view+json"]').length""")
    if views:
        try:
            page.wait_for_function(f"() => document.querySelectorAll('.jupyter-widgets').length >= {views}",
                                   timeout=15_000)
        except Exception:  # playwright's TimeoutError
            pytest.fail(f"{path}: {views} saved widget(s) were not drawn by the ipywidgets HTML manager")

    math = page.evaluate("""() => {
        const marked = [...document.querySelectorAll('.math')];
        const text = (() => {
            const body = document.querySelector('main') || document.body;
            const copy = body.cloneNode(true);
            copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight, textarea')
                .forEach(e => e.remove());
            return copy.textContent;
        })();
        return {
            marked: marked.length,
            typeset: marked.filter(e => e.querySelector('mjx-container')).length,
            containers: document.querySelectorAll('mjx-container').length,
            errors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
            text: text,
        };
    }""")
    raw = RAW_MATH.findall(math["text"])
    assert not raw, f"{path}: math left as raw TeX: {raw[:5]}"
    assert not math["errors"], f"{path}: MathJax could not typeset: {math['errors'][:5]}"
    assert math["typeset"] == math["marked"], (
        f"{path}: MathJax typeset {math['typeset']} of {math['marked']} formulas")
    if path.startswith("chapters/") or path == "intro.html":
        source = (SITE / "_sources" / path).with_suffix(".ipynb" if path.startswith("chapters/") else ".md")
        if source.exists() and "$" in source.read_text(encoding="utf-8"):
            assert math["containers"] > 0, f"{path}: has math in its source but no MathJax output"

    # Whole lines (whitespace-normalised) of the code blocks and of all text, hidden or not.
    shown = _lines(page.evaluate("""() => [...document.querySelectorAll('pre')].map(e => e.textContent)
        .concat([document.body.innerText, document.body.textContent]).join('\\n')"""))
    for name, lines in secrets.items():
        leaked = [line for line in lines if line in shown]
        assert not leaked, f"{path} shows solution code of {name}: {leaked[:5]}"
    page.close()


def test_navigation_reaches_every_chapter(browser, site):
    """The sidebar links every page, and "next" walks intro → chapters in order → instructors.

    Links only: JavaScript is off here, which makes the walk fast (each page is checked with
    JavaScript by test_page).
    """
    ctx = browser.new_context(java_script_enabled=False)
    ctx.route("**/*", lambda route: route.continue_() if urlparse(route.request.url).hostname == "127.0.0.1"
              else route.abort())
    page = ctx.new_page()
    page.goto(urljoin(site, "intro.html"), wait_until="domcontentloaded")
    sidebar = page.eval_on_selector_all("nav.bd-docs-nav a.reference.internal", "els => els.map(a => a.href)")
    sidebar = {urlparse(u).path.lstrip("/") for u in sidebar}
    missing = [p for p in PAGES[1:] if p not in sidebar]
    assert not missing, f"the sidebar does not link {missing} (links: {sorted(sidebar)})"

    # The landing page's chapter map links every chapter too.
    linked = page.eval_on_selector_all("main table a.reference.internal", "els => els.map(a => a.href)")
    linked = {urlparse(u).path.lstrip("/") for u in linked}
    assert {p for p in PAGES if p.startswith("chapters/")} <= linked, f"chapter map links {sorted(linked)}"

    walked = ["intro.html"]
    for _ in range(len(PAGES) + 2):
        nxt = page.query_selector("a.right-next")
        if nxt is None:
            break
        response = page.goto(nxt.evaluate("a => a.href"), wait_until="domcontentloaded")
        assert response is not None and response.ok, f"'next' from {walked[-1]} leads to a broken page"
        walked.append(urlparse(page.url).path.lstrip("/"))
    assert walked == PAGES, f"following 'next' from the landing page visits {walked}, expected {PAGES}"
    ctx.close()
