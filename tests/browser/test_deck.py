"""Board mode as slides, in Chromium at 1280×720: every slide fits the projector (no element
runs past the viewport or under the footer), the arrow keys and buttons move between slides
with the slide number in the URL, and a filter changed on a slide changes its figures.
Screenshots of each slide go to docs/screenshots/deck-<n>-<slide>.png."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from asi_me.settings import REPO_ROOT
from asi_me.ui.deck import SLIDES

if TYPE_CHECKING:  # fixtures come from conftest.py; these names are for reading only
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"

# Every visible element of the slide and its header: its box must lie inside the viewport and
# above the footer (the footer is fixed at the bottom, so content under it is hidden).
OVERFLOW_JS = """() => {
    const footer = document.querySelector('.asi-footer');
    const limit = footer ? footer.getBoundingClientRect().top : innerHeight;
    const out = [];
    for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
        if (el.closest('.asi-footer') || el.closest('[data-testid="stPopoverBody"]')) continue;
        const r = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        if (!r.width || !r.height || style.visibility === 'hidden' || style.display === 'none') continue;
        const bottom = r.bottom - parseFloat(style.paddingBottom || '0');  // a container's padding is not content
        if (bottom > limit + 1 || r.right > innerWidth + 1 || r.left < -1 || r.top < -1) {
            out.push(`${el.tagName.toLowerCase()}.${(el.className && el.className.baseVal !== undefined
                ? el.className.baseVal : el.className || '').toString().slice(0, 60)} `
                + `[${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)}]`);
        }
    }
    return {overflow: out.slice(0, 8), count: out.length,
            scroll: [document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]};
}"""


def _slide_param(app: AppPage) -> str | None:
    return parse_qs(urlsplit(app.page.url).query).get("slide", [None])[0]


def _members(app: AppPage) -> str:
    return app.main.locator('.asi-tile[data-label="Members"]').first.get_attribute("data-value") or ""


def test_every_slide_fits_a_projector_and_the_keys_move_between_them(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(demo_server, width=1280, height=720)
    app.open(demo_server.page_url("", present="1", slide="1"), heading=SLIDES[0].title)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for number, slide in enumerate(SLIDES, start=1):
        app.expect_heading(slide.title)
        app.wait_until_idle()
        app.assert_healthy()
        assert _slide_param(app) == str(number)
        expect(app.page.locator(".asi-footer")).to_contain_text("Viewing as Public")
        expect(app.main.locator(".asi-deck-count")).to_have_text(f"{number} / {len(SLIDES)}")
        app.page.wait_for_timeout(500)  # let charts take their final size
        found = app.page.evaluate(OVERFLOW_JS)
        assert found["count"] == 0, f"slide {number} ({slide.key}) overflows: {found}"
        assert found["scroll"] == [1280, 720], f"slide {number} scrolls: {found['scroll']}"
        app.page.screenshot(path=str(SCREENSHOTS / f"deck-{number}-{slide.key}.png"))
        if number < len(SLIDES):
            app.page.locator("body").press("ArrowRight")
            app.wait_until_idle()
    # Back with the left arrow and the on-screen button.
    app.page.locator("body").press("ArrowLeft")
    app.wait_until_idle()
    app.expect_heading(SLIDES[-2].title)
    app.main.get_by_role("button", name="Back").click()
    app.wait_until_idle()
    app.expect_heading(SLIDES[-3].title)
    assert _slide_param(app) == str(len(SLIDES) - 2)


def test_a_filter_changed_on_a_slide_changes_its_figures_and_the_link_reopens_the_slide(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(demo_server, width=1280, height=720)
    app.open(demo_server.page_url("", present="1"), heading=SLIDES[0].title)
    everyone = _members(app)
    app.main.get_by_role("button", name="Filters").click()
    region = app.page.locator('[data-testid="stPopoverBody"] [data-testid="stMultiSelect"]').filter(
        has_text="Region").first
    region.click()
    app.page.get_by_role("option", name="Europe").click()
    app.page.keyboard.press("Escape")
    app.wait_until_idle()
    app.expect_heading(SLIDES[0].title)  # the same slide, filtered
    europe = _members(app)
    assert europe and europe != everyone
    expect(app.page.locator(".asi-footer")).to_contain_text("Region: Europe")
    assert parse_qs(urlsplit(app.page.url).query).get("region") == ["Europe"]

    # The URL reopens the same slide with the same filter.
    again = new_app_page(demo_server, width=1280, height=720)
    again.open(app.page.url, heading=SLIDES[0].title)
    assert _members(again) == europe
    app.assert_healthy()
