"""The course site in a real browser: headless Chromium (Debian's) driven by Playwright.

The site is the session's (tests/site_fixture.py), served on 127.0.0.1. Every request
for another host is aborted, so what shows came from the site itself: the figures, and
the widgets drawn from their saved state by the widget manager in lessons/static/.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from autograders.course import assignment_names
from autograders.release.lessons import lesson_title
from autograders.release.site import wheel_name
from evalib.course import install_cell_source
from site_fixture import LESSON_NAMES

pytestmark = pytest.mark.slow

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
from browser import launch, require_chromium  # noqa: E402

CHROMIUM = require_chromium()
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = launch(p, CHROMIUM)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def offline_page(browser):
    """A page that may load 127.0.0.1, files and inline data only; ``page.blocked`` lists what it was refused."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    blocked: list[str] = []
    errors: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("data:", "blob:", "file:")) or urlparse(url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.blocked, page.errors = blocked, errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


def _figures_and_widget(page, expected_figures: int, shot: Path) -> None:
    page.wait_for_load_state("load")
    try:
        page.wait_for_selector(".jp-OutputArea-output .widget-dropdown select")
        page.wait_for_function("() => [...document.querySelectorAll('.jp-OutputArea-output .jupyter-widgets img')]"
                               ".some(img => img.complete && img.naturalWidth > 50)")
    except sync_api.Error as exc:
        page.screenshot(path=str(shot), full_page=True)
        pytest.fail(f"no widget drawn from the saved state ({exc.message.splitlines()[0]}); screenshot {shot}; "
                    f"page errors {page.errors}; refused {page.blocked}")
    sizes = page.eval_on_selector_all(".jp-OutputArea-output img[src^='data:image/png']",
                                      "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight, i.complete])")
    assert len(sizes) == expected_figures
    assert all(done and w >= 100 and h >= 100 for w, h, done in sizes), sizes
    assert not page.errors
    assert not [u for u in page.blocked if "jupyter-widgets" in u or "require" in u or "mathjax" in u.lower()], page.blocked
    page.screenshot(path=str(shot), full_page=True)


def test_a_lesson_page_shows_its_figures_and_widgets_without_internet(course_site, offline_page, tmp_path):
    name = LESSON_NAMES[0]
    executed = nbformat.read(course_site.lessons / f"{name}.ipynb", as_version=4)
    assert "widgets" in executed.metadata, "lesson 1 saves no widget state"
    figures = sum("image/png" in o.get("data", {}) for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    offline_page.goto(f"{course_site.url}/lessons/{name}.html")
    _figures_and_widget(offline_page, figures, tmp_path / "served.png")
    # The same page opened from disk, as `make demo`'s build/lessons pages are.
    offline_page.goto((course_site.root / "lessons" / f"{name}.html").as_uri())
    _figures_and_widget(offline_page, figures, tmp_path / "file.png")


def test_the_index_leads_to_a_lesson_and_downloads_an_assignment(course_site, offline_page, tmp_path):
    page = offline_page
    page.goto(f"{course_site.url}/index.html")
    name = LESSON_NAMES[0]
    title = lesson_title(nbformat.read(course_site.lessons / f"{name}.ipynb", as_version=4))
    page.get_by_role("link", name=title, exact=True).click()
    page.wait_for_url(f"**/lessons/{name}.html")
    assert page.locator("h1").first.inner_text().strip().rstrip("¶") == title
    page.locator("nav.course-nav a").click()  # the page's link back to the index
    page.wait_for_url("**/index.html")

    assignment = assignment_names()[0]
    with page.expect_download() as info:
        page.locator(f'a[href="assignments/{assignment}.ipynb"]').click()
    download = info.value
    assert download.suggested_filename == f"{assignment}.ipynb"
    nb = nbformat.read(download.path(), as_version=4)
    assert nb.cells[1].source == install_cell_source(f"{course_site.url}/wheels/{wheel_name()}")
    assert "### BEGIN SOLUTION" not in nb.cells[2].source

    wheel = page.request.get(f"{course_site.url}/wheels/{wheel_name()}")
    assert wheel.status == 200 and wheel.body()[:2] == b"PK"
    assert not page.errors
