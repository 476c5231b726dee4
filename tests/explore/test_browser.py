"""The explorer page in Debian's chromium driven by Playwright (no browser download): move a regularised slider
and check that the decoded heart's re-measured attribute moves the right way; scrub a sequence; take a screenshot.

Skipped when /usr/bin/chromium or playwright is absent. ``ECHOLATENT_SCREENSHOT=docs/img/explorer.png`` also
saves the screenshot there (``ECHOLATENT_SCREENSHOT_RESULTS=OUT`` serves that results folder for it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from echolatent.explore.results_view import ResultsView
from echolatent.explore.server import Explorer

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    yield page
    page.close()


def lv_area_shown(page) -> float:
    return float(page.get_attribute("#attr-lv_area", "data-value"))


def move_slider(page, dim: int, value: float) -> None:
    """Set slider ``dim`` and wait for the page to show the decode that followed."""
    decodes = int(page.get_attribute("body", "data-decodes"))
    page.fill(f"#z{dim}", f"{value:.4f}")
    page.wait_for_function(f"Number(document.body.dataset.decodes) > {decodes} && document.body.dataset.busy === '0'",
                           timeout=15000)


def test_lv_area_slider_moves_the_measured_lv_area(page, server, shipped_view) -> None:
    page.goto(server.url)
    page.wait_for_selector("body[data-ready='1']", timeout=20000)
    dim = shipped_view.model.config.attributes.index("lv_area")
    assert page.text_content(f"label[for='z{dim}']").endswith("lv_area")
    reference = lv_area_shown(page)
    start = float(page.input_value(f"#z{dim}"))
    move_slider(page, dim, start + 1.5)
    bigger = lv_area_shown(page)
    move_slider(page, dim, start - 1.5)
    smaller = lv_area_shown(page)
    assert smaller < reference < bigger
    assert float(page.get_attribute("#status", "data-ms")) < 1000  # server-side decode + measure of one frame


def test_buttons_and_sequence_viewer(page, server, tmp_path: Path) -> None:
    page.goto(server.url)
    page.wait_for_selector("body[data-ready='1']", timeout=20000)
    first = page.input_value("#z3")
    page.click("#sample-range")
    page.wait_for_function(f"document.getElementById('z3').value !== '{first}'", timeout=15000)
    page.click("#reset")
    page.wait_for_function(f"document.getElementById('z3').value === '{first}'", timeout=15000)
    assert page.is_visible("#viewer")
    page.fill("#frame", "2")
    assert page.text_content("#frame-label") == "3 / 4"
    page.wait_for_function("document.getElementById('frame-post').complete && "
                           "document.getElementById('frame-post').naturalWidth > 0", timeout=15000)
    assert "t=2" in page.get_attribute("#frame-pred", "src")
    shot = tmp_path / "explorer.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_documentation_screenshot(page, server, shipped_view, serve, tmp_path: Path) -> None:
    results = os.environ.get("ECHOLATENT_SCREENSHOT_RESULTS")
    explorer = Explorer(shipped_view, ResultsView(results)) if results else server.explorer
    with serve(explorer) as running:
        page.goto(running.url)
        page.wait_for_selector("body[data-ready='1']", timeout=20000)
        move_slider(page, 0, float(page.input_value("#z0")) + 1.0)
        if results:
            page.fill("#frame", "5")
            page.wait_for_timeout(500)
        shot = tmp_path / "explorer.png"
        page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("ECHOLATENT_SCREENSHOT"):  # regenerate docs/img/explorer.png on request
        target = Path(os.environ["ECHOLATENT_SCREENSHOT"])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


def test_map_panel_places_the_slider_code(page, server, shipped_view, tmp_path: Path) -> None:
    """The map panel draws the dataset and moves the current code's mark as a slider moves, by the PCA loading."""
    page.goto(server.url)
    page.wait_for_selector("body[data-ready='1']", timeout=20000)
    assert page.is_visible("#map-panel") and page.is_visible("#map-track-legend")
    assert "LV area (mm²)" in page.inner_text("#map-colour")
    assert page.text_content("td:has(+ #attr-lv_area)") == "lv_area (px²)"
    dim = shipped_view.model.config.attributes.index("lv_area")
    axes = server.explorer.map.pca.components
    before = (float(page.get_attribute("#map", "data-x")), float(page.get_attribute("#map", "data-y")))
    assert before == pytest.approx(server.explorer.map.place(shipped_view.reference), abs=1e-4)
    z_before = np.array(page.evaluate("state.z"))
    move_slider(page, dim, z_before[dim] + 1.5)
    z_after = np.array(page.evaluate("state.z"))
    after = (float(page.get_attribute("#map", "data-x")), float(page.get_attribute("#map", "data-y")))
    step = z_after - z_before
    assert np.count_nonzero(step) == 1 and step[dim] == pytest.approx(1.5, abs=0.05)
    assert np.subtract(after, before) == pytest.approx(axes[:, dim] * step[dim], abs=1e-4)  # moved by the loading
    page.select_option("#map-colour", "lv_orientation")
    shot = tmp_path / "map_panel.png"
    page.locator("#map-panel").screenshot(path=str(shot))
    assert shot.stat().st_size > 5_000
