"""The site for someone who wants to run the course (book/student.py): the student edition
downloads from the landing page and from every chapter, with the two lines that start it;
display equations fit a 390 px phone or scroll inside their own box; long helper code is
folded behind a toggle; search snippets show no raw TeX."""
from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import urljoin
from urllib.request import urlopen

import pytest

from .conftest import SCREENSHOTS
from .test_site import CHAPTERS, SITE, context, open_page, site  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

ZIP = "mlcourse-student.zip"
PHONE = {"width": 390, "height": 844}
# Every element that sticks out of the viewport must sit inside a box that scrolls sideways.
JS_OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const scrolls = (el) => { for (let a = el.parentElement; a; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (['auto', 'scroll'].includes(s.overflowX) && a.getBoundingClientRect().right <= width + 1) return true;
    } return false; };
    // The chapter's text (not the off-canvas sidebars); MathJax's assistive MathML is hidden.
    const main = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
    return [...main.querySelectorAll('*')].filter(el => {
        if (el.closest('mjx-assistive-mml')) return false;
        const st = getComputedStyle(el);
        if (st.visibility === 'hidden' || st.opacity === '0') return false;  // e.g. the ¶ heading links
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.right > width + 1 && !scrolls(el);
    }).map(el => el.tagName.toLowerCase() + '.' + el.className.toString().slice(0, 40)).slice(0, 10);
}"""


def _zip_ok(url: str) -> str:
    """The wheel's file name in the edition zip at ``url``."""
    with urlopen(url, timeout=30) as r:  # noqa: S310 - 127.0.0.1 only
        data = r.read()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
    wheels = [n.rsplit("/", 1)[-1] for n in names if n.endswith(".whl")]
    assert "mlcourse-student/README.md" in names and len(wheels) == 1, names[:10]
    return wheels[0]


def test_landing_page_offers_the_edition_with_the_two_lines_that_start_it(context, site):  # noqa: F811
    page, problems = open_page(context, urljoin(site, "intro.html"))
    link = page.locator(f"a[href='{ZIP}']").first
    assert link.is_visible()
    text = page.locator("main").inner_text()
    assert f"unzip {ZIP} && cd mlcourse-student" in text and "make lab" in text
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == ZIP
    wheel = _zip_ok(urljoin(site, ZIP))
    assert f"%pip install {wheel}" in text  # Colab / any Jupyter: the line each notebook's first cell gives
    assert not problems, problems


@pytest.mark.parametrize("chapter", [p.stem for p in CHAPTERS])
def test_chapter_page_downloads_the_edition_folds_helpers_and_fits_a_phone(browser, site, chapter):  # noqa: F811
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, device_scale_factor=2)
    try:
        page, problems = open_page(ctx, urljoin(site, f"chapters/{chapter}.html"))
        link = page.locator(f"a[href='../{ZIP}']").first
        assert link.count() and f"open notebooks/{chapter}.ipynb" in re.sub(r"\s+", " ", page.locator("main").inner_text()).replace("`", "")
        _zip_ok(urljoin(site, f"chapters/../{ZIP}"))
        overflow = page.evaluate(JS_OVERFLOW)
        assert not overflow, f"{chapter}: elements wider than a 390 px screen without a scroll box: {overflow}"
        folded = (SITE / "_sources" / "chapters" / f"{chapter}.ipynb").read_text(encoding="utf-8").count('"hide-input"')
        toggles = page.locator(".cell.tag_hide-input details, .cell.tag_hide-input .toggle-details, .tag_hide-input button")
        if folded:
            assert page.locator(".cell.tag_hide-input").count() == folded
            hidden = page.evaluate("""() => [...document.querySelectorAll('.cell.tag_hide-input .cell_input')]
                .filter(e => e.offsetHeight > 0 && !e.closest('details:not([open])')).length""")
            assert hidden == 0, f"{chapter}: folded helper code is shown"
            assert toggles.count() >= 1
        if chapter.startswith("04"):
            page.screenshot(path=str(SCREENSHOTS / "site_ch04_390px.png"), full_page=False)
        assert not problems, problems
    finally:
        ctx.close()


def test_search_snippets_hold_no_raw_tex(context, site):  # noqa: F811
    page, _ = open_page(context, urljoin(site, "search.html?q=gradient"))
    page.wait_for_selector("#search-results li, ul.search li", timeout=60_000)
    page.wait_for_function("() => [...document.querySelectorAll('ul.search li p.context, ul.search li p')]"
                           ".filter(p => p.textContent.trim()).length > 0", timeout=60_000)
    snippets = page.evaluate("() => [...document.querySelectorAll('ul.search li')].map(li => li.innerText)")
    assert snippets
    raw = [s for s in snippets if re.search(r"\\\(|\\\[|\$\$|\\frac|\\partial|\\mathbb", s)]
    assert not raw, f"search snippets show TeX: {raw[:3]}"
    page.screenshot(path=str(SCREENSHOTS / "site_search_gradient.png"))
