"""What a person checks by eye: a link that keeps its filters, presentation mode on a
projector, the map drawn offline and the CoC Sankey with its suppressed stages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from asi_me.data.store import Store
from asi_me.filters import Viewer

# Imported when the tests are collected, before any server starts, so both run the same code.
from asi_me.queries.coc import coc_drawable, coc_stage_flows, coc_years
from asi_me.ui.sankey import node_label

if TYPE_CHECKING:  # fixtures come from conftest.py; these names are for reading only
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser

# A board-pack view: German PS-certified operations in February 2021.
FILTER_PARAMS = {"country": "DE", "standard": "PS", "as_of": "2021-02-28"}
# How asi_me.ui.filter_bar.describe words them, worked out by hand.
FILTER_PHRASES = ("As of 28 February 2021", "Country: Germany", "Standard: Performance Standard")


def _sidebar_widget(app: AppPage, test_id: str, label: str) -> object:
    return app.page.locator(f'[data-testid="stSidebar"] [data-testid="{test_id}"]').filter(has_text=label).first


def _assert_filters_active(app: AppPage) -> None:
    chips = app.main.locator('[aria-label="Active filters"]')
    for phrase in FILTER_PHRASES:
        expect(chips).to_contain_text(phrase)
    expect(_sidebar_widget(app, "stMultiSelect", "Country")).to_contain_text("Germany")
    expect(_sidebar_widget(app, "stMultiSelect", "Standard")).to_contain_text("Performance Standard")
    expect(_sidebar_widget(app, "stDateInput", "As of").locator("input")).to_have_value("2021-02-28")
    query = parse_qs(urlsplit(app.page.url).query)
    assert {k: query.get(k) for k in FILTER_PARAMS} == {k: [v] for k, v in FILTER_PARAMS.items()}


def test_a_filtered_link_reopens_with_its_filters_after_a_reload(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(demo_server).open(demo_server.page_url("", **FILTER_PARAMS), heading="Outcomes dashboard")
    app.assert_healthy()
    _assert_filters_active(app)

    app.page.reload(wait_until="domcontentloaded")
    app.wait_until_idle()
    app.expect_heading("Outcomes dashboard")
    _assert_filters_active(app)

    # Moving to another screen by the menu keeps the filters too (they live in the frame).
    app.page.locator('[data-testid="stSidebar"] a').filter(has_text="Certification map").first.click()
    app.wait_until_idle()
    app.expect_heading("Certification map")
    _assert_filters_active(app)
    app.assert_healthy()


def test_presentation_mode_fits_a_projector(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(demo_server, width=1280, height=720)
    app.open(demo_server.page_url("", present="1", **FILTER_PARAMS), heading="Outcomes at a glance")
    app.assert_healthy()

    expect(app.page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    expect(app.page.locator('[data-testid="stExpandSidebarButton"]')).to_be_hidden()
    footer = app.page.locator(".asi-footer")
    expect(footer).to_be_visible()
    for phrase in (*FILTER_PHRASES, "Figures as of 28 February 2021"):
        expect(footer).to_contain_text(phrase)
    box = footer.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 720, "the footer is below the projector's screen"
    app.screenshot("presentation-outcomes", full_page=False)


# Okabe-Ito colours the map draws facilities, countries and emissions in (asi_me/ui/palette.py).
MAP_COLOURS = [(0, 158, 115), (230, 159, 0), (213, 94, 0), (204, 121, 167), (0, 114, 178), (86, 180, 233)]


def test_map_draws_its_layers_without_internet(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(demo_server).open(demo_server.page_url("map", role="public"), heading="Certification map")
    app.assert_healthy()
    canvas = app.page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    expect(canvas).to_be_visible(timeout=20_000)
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    # deck.gl draws after the script has finished; poll until coloured facility dots appear.
    coloured = 0
    for _ in range(20):
        coloured = app.pixels_near(canvas, MAP_COLOURS)
        if coloured >= 50:
            break
        app.page.wait_for_timeout(250)
    assert coloured >= 50, f"the map canvas shows only {coloured} pixels in the facility colours"
    app.assert_healthy()
    # No basemap style, tiles or fonts from the internet: the outlines ship with the app.
    assert app.external_requests == []
    app.screenshot("map-canvas")


def _coc_years_to_check(data_dir: Path) -> list[tuple[int, list[str]]]:
    """Reporting years to open, each with the suppression lines the query layer says the public sees.

    The first two years where the policy withholds links and some link can be drawn, and the
    latest year.
    """
    store = Store.open_current(data_dir)
    try:
        years = coc_years(store)
        checks: list[tuple[int, list[str]]] = []
        for year in years:
            if len(checks) == 2 and year != years[-1]:
                continue
            flows = coc_stage_flows(store, Viewer.public(), year)
            if not coc_drawable(flows):
                continue
            hidden = flows[flows["is_suppressed"].fillna(False).astype(bool)]
            lines = [
                f"{node_label(row.source)} → {node_label(row.target)}: {row.suppression_note}"
                for row in hidden.itertuples()
            ]
            if lines or year == years[-1]:
                checks.append((year, lines))
    finally:
        store.close()
    return checks


def test_a_year_with_no_publishable_flow_says_so(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    store = Store.open_current(demo_server.data_dir)
    try:
        quiet = [y for y in coc_years(store) if not coc_drawable(coc_stage_flows(store, Viewer.public(), y))]
    finally:
        store.close()
    assert quiet, "the demo's first reporting years have too few companies for any flow to be published"
    app = new_app_page(demo_server).open(
        demo_server.page_url("coc_flow", role="public", year=str(quiet[0])), heading="CoC material flow"
    )
    app.assert_healthy()
    expect(app.main.get_by_text(f"No flow of {quiet[0]} can be published", exact=False)).to_be_visible()
    app.assert_healthy()


def test_coc_sankey_marks_the_stages_the_policy_withholds(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    checks = _coc_years_to_check(demo_server.data_dir)
    assert any(lines for _, lines in checks), "the demo data has no CoC year with a suppressed stage to show"
    for year, lines in checks:
        app = new_app_page(demo_server).open(
            demo_server.page_url("coc_flow", role="public", year=str(year)), heading="CoC material flow"
        )
        app.assert_healthy()
        sankey = app.main.locator('[data-testid="stPlotlyChart"]').filter(has=app.page.locator("g.sankey")).first
        expect(sankey.locator(".sankey-node").first).to_be_visible(timeout=20_000)
        assert sankey.locator(".sankey-link").count() >= 1, f"the {year} Sankey draws no link"
        drawn = sankey.text_content() or ""
        for line in lines:
            assert line in drawn, f"the {year} Sankey does not mark the withheld link {line!r}"
        if lines:
            expect(sankey.get_by_text("suppressed", exact=False).first).to_be_visible()
        else:
            assert "suppressed" not in drawn, f"the {year} Sankey marks a link as suppressed; the policy hides none"
        app.assert_healthy()
        app.screenshot(f"coc-sankey-{year}")
