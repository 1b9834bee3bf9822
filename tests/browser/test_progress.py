"""Feedback while waiting, in Chromium: the map's growth replay shows a progress bar with the
month it has reached and can be stopped; the board pack is prepared in the background with a
bar naming its step, then downloads as a PDF, while the page stays usable."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

if TYPE_CHECKING:  # fixtures come from conftest.py; these names are for reading only
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser

MONTH = re.compile(r"Replaying growth: end of \w{3} \d{4}, month (\d+) of (\d+)")


def _month(app: AppPage) -> tuple[int, int] | None:
    bar = app.main.get_by_text(MONTH)
    if not bar.count():
        return None
    found = MONTH.search(bar.first.inner_text())
    return (int(found.group(1)), int(found.group(2))) if found else None


def test_the_replay_shows_how_far_it_has_got_and_stops_on_request(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(demo_server, width=1400, height=900)
    app.open(demo_server.page_url("map"), heading="Certification map")
    app.main.get_by_role("button", name="Replay growth", exact=True).click()
    expect(app.main.get_by_text(MONTH)).to_be_visible(timeout=30_000)
    expect(app.main.locator('[data-testid="stProgress"]')).to_be_visible()
    first = _month(app)
    assert first is not None and 1 <= first[0] <= first[1] and first[1] > 3, first
    app.page.wait_for_function(  # the bar moves on by itself
        """(first) => { const t = document.querySelector('[data-testid="stMain"] [data-testid="stProgress"]');
                        const m = t && t.innerText.match(/month (\\d+) of/);
                        return m && Number(m[1]) > first; }""",
        arg=first[0], timeout=30_000,
    )
    later = _month(app)
    assert later is not None and later[0] < later[1], "the replay ended before it could be stopped"
    app.main.get_by_role("button", name="Stop", exact=True).click()
    expect(app.main.get_by_text(MONTH)).to_have_count(0, timeout=20_000)
    expect(app.main.get_by_role("button", name="Replay growth", exact=True)).to_be_visible()
    app.wait_until_idle()
    app.assert_healthy()


def test_the_board_pack_is_prepared_with_its_progress_then_downloads(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(demo_server, width=1400, height=900)
    app.open(demo_server.page_url("", region="Europe"), heading="Outcomes dashboard")
    app.main.get_by_role("button", name="Prepare board pack (PDF)", exact=True).click()
    bar = app.main.locator('[data-testid="stProgress"]')
    expect(bar).to_be_visible(timeout=20_000)
    expect(bar).to_contain_text(re.compile(r"Preparing the board pack: .+ \(\d+ s\)"))
    steps = {bar.inner_text()}
    download = app.main.get_by_role("button", name="Download board pack (PDF)", exact=True)
    for _ in range(240):  # the bar moves through its steps until the button replaces it
        if download.count():
            break
        if bar.count():
            steps.add(bar.inner_text())
        app.page.wait_for_timeout(500)
    expect(download).to_be_visible(timeout=5_000)
    assert len(steps) >= 2, f"the bar never moved on: {steps}"
    expect(bar).to_have_count(0)
    with app.page.expect_download(timeout=30_000) as event:
        download.click()
    pdf = event.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    assert event.value.suggested_filename.startswith("asi-board-pack-")
    app.wait_until_idle()
    app.assert_healthy()


def test_a_figure_being_worked_out_shows_a_spinner_saying_what_it_waits_for(
    cold_demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    """A filtered Theory of Change no one has asked for takes seconds to score: meanwhile a
    spinner in plain words with a seconds counter stands where the figures will be."""
    app = new_app_page(cold_demo_server, width=1400, height=900)
    app.page.goto(cold_demo_server.page_url("toc", region="Africa"), wait_until="commit")
    spinner = app.page.locator('[data-testid="stSpinner"]').filter(has_text="Scoring the Theory of Change…")
    expect(spinner).to_be_visible(timeout=60_000)
    app.wait_until_idle()
    expect(app.page.locator('[data-testid="stSpinner"]')).to_have_count(0)
    app.expect_heading("Theory of change")
    app.assert_healthy()
