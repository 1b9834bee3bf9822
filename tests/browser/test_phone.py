"""The public visitor on a phone (390×844, a phone's User-Agent): every page opens with the menu
closed, nothing is wider than the screen (tables and charts scroll or fit inside their card),
tiles stand two per row, the menu closes after a choice. Screenshots of each page go to
docs/screenshots/phone-<page>.png."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from asi_me.data.vocab import Role
from asi_me.settings import REPO_ROOT
from asi_me.ui.screens import SCREENS

if TYPE_CHECKING:  # fixtures come from conftest.py; these names are for reading only
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser

PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/156.0 Mobile Safari/537.36")
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
PUBLIC_SCREENS = [s for s in SCREENS if Role.PUBLIC in s.roles]

# Elements whose right edge passes the screen, unless an ancestor that scrolls or clips keeps
# them inside it (a table's own scroller, say).
TOO_WIDE_JS = """() => {
    const inside = (el) => {
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
            const o = getComputedStyle(a).overflowX;
            if (o !== 'visible' && a.getBoundingClientRect().right <= innerWidth + 1) return true;
        }
        return false;
    };
    const out = [];
    for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
        const r = el.getBoundingClientRect();
        if (r.width && r.right > innerWidth + 1 && !inside(el)) {
            out.push(`${el.tagName.toLowerCase()} ${(el.getAttribute('data-testid') || el.getAttribute('class') || '')
                .slice(0, 50)} right=${Math.round(r.right)}`);
        }
    }
    return {tooWide: out.slice(0, 8), scrollWidth: document.scrollingElement.scrollWidth};
}"""


@pytest.fixture
def phone(new_app_page: Callable[..., AppPage], demo_server: StreamlitServer) -> AppPage:
    return new_app_page(demo_server, width=390, height=844, is_mobile=True, has_touch=True, user_agent=PHONE_UA)


def _sidebar_closed(app: AppPage) -> None:
    sidebar = app.page.locator('[data-testid="stSidebar"]')
    expect(sidebar).to_have_attribute("data-collapsed", "true")


def test_every_public_page_fits_a_phone(phone: AppPage, demo_server: StreamlitServer) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for screen in PUBLIC_SCREENS:
        phone.open(demo_server.page_url("" if screen.default else screen.url_path), heading=screen.title)
        phone.assert_healthy()
        _sidebar_closed(phone)
        found = phone.page.evaluate(TOO_WIDE_JS)
        assert found["scrollWidth"] <= 390 and not found["tooWide"], f"{screen.title}: {found}"
        if screen.default:
            tiles = phone.main.locator(".asi-tile")
            first, third = tiles.nth(0).bounding_box(), tiles.nth(2).bounding_box()
            second = tiles.nth(1).bounding_box()
            assert first and second and third
            assert abs(first["y"] - second["y"]) < 2 and third["y"] > first["y"] + first["height"] - 1  # two a row
        if screen.url_path == "toc":
            expect(phone.main.get_by_text("each level's nodes")).to_be_visible()  # the list, not the graph
        phone.page.screenshot(path=str(SCREENSHOTS / f"phone-{screen.url_path}.png"))


def test_the_menu_closes_after_a_choice_and_the_filters_are_at_the_top(
    phone: AppPage, demo_server: StreamlitServer
) -> None:
    phone.open(demo_server.page_url(), heading="Outcomes dashboard")
    bar = phone.main.locator(".st-key-asi_phone_bar")
    expect(bar).to_be_visible()
    box = bar.bounding_box()
    assert box is not None and box["y"] < 120  # at the top of the screen
    bar.locator('[data-testid="stSelectbox"]').click()
    phone.page.get_by_role("option", name="Certification map").click()
    phone.wait_until_idle()
    phone.expect_heading("Certification map")
    expect(phone.page.get_by_role("listbox")).to_have_count(0)  # the menu closed
    _sidebar_closed(phone)

    phone.main.get_by_role("button", name="Filters").click()
    region = phone.page.locator('[data-testid="stPopoverBody"] [data-testid="stMultiSelect"]').filter(
        has_text="Region").first
    region.click()
    phone.page.get_by_role("option", name="Europe").click()
    phone.page.keyboard.press("Escape")
    phone.wait_until_idle()
    expect(phone.main.locator('[aria-label="Active filters"]')).to_contain_text("Region: Europe")
    phone.expect_heading("Certification map")
    phone.assert_healthy()
