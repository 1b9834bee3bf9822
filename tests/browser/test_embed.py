"""The embed view: `?embed=1&chart=KEY` shows that one chart with its source line and a link
back to the full view, with no console error; the chart's Embed control gives that URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

if TYPE_CHECKING:  # fixtures come from conftest.py; these names are for reading only
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser


def test_an_embedded_chart_shows_alone_with_its_source_and_a_link_back(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(demo_server, width=900, height=520)
    app.open(demo_server.page_url("", embed="1", chart="members-by-class", region="Europe"))
    app.assert_healthy()
    card = app.page.locator(".st-key-asi_chart_members-by-class")
    expect(card).to_be_visible()
    credit = card.locator(".asi-embed-credit")
    expect(credit).to_contain_text("Members by membership class")
    expect(credit).to_contain_text("Source: Membership applications (CRM)")
    back = credit.get_by_role("link", name="Open in the ASI M&E Explorer")
    href = back.get_attribute("href") or ""
    assert "region=Europe" in href and "chart=" not in href and "embed" not in href
    box = card.bounding_box()
    assert box is not None and box["x"] <= 1 and box["y"] <= 1 and box["width"] >= 880  # over the whole frame
    chart = card.locator('[data-testid="stVegaLiteChart"]').first
    expect(chart).to_be_visible()
    assert (chart.bounding_box() or {}).get("height", 0) > 150
    # Nothing else of the page shows above it: the title of the screen is covered.
    assert app.page.evaluate("""() => {
        const h1 = document.querySelector('[data-testid="stMain"] h1').getBoundingClientRect();
        const top = document.elementFromPoint(h1.left + 5, h1.top + 5);
        return !!top && !!top.closest('.st-key-asi_chart_members-by-class');
    }""")
