"""The map's own controls rerun only the map, and the rest of the page stays in step with it.

Switching "Country totals" or "Smelter emissions" reruns the map's fragment only (Streamlit
reports a fragment run as finished, not a page run): the register below is not run again.
Moving the month slider changes what the register and tiles count, so it reruns the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import WebSocket, expect
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

if TYPE_CHECKING:
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser

PAGE_RUN = ForwardMsg.FINISHED_SUCCESSFULLY
FRAGMENT_RUN = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


def _watch_runs(app: AppPage) -> list[int]:
    """How each script run the server finishes ends (page run or fragment run), in order."""
    finished: list[int] = []

    def on_socket(socket: WebSocket) -> None:
        def on_frame(payload: bytes | str) -> None:
            if isinstance(payload, bytes):
                message = ForwardMsg.FromString(payload)
                if message.WhichOneof("type") == "script_finished":
                    finished.append(message.script_finished)

        socket.on("framereceived", on_frame)

    app.page.on("websocket", on_socket)
    return finished


def _toggle(app: AppPage, name: str) -> None:
    app.main.get_by_text(name, exact=True).click()
    app.page.wait_for_timeout(300)
    app.wait_until_idle()


def test_map_toggles_rerun_only_the_map_and_the_month_reruns_the_page(
    demo_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(demo_server)
    runs = _watch_runs(app)
    app.open(demo_server.page_url("map", role="public"), heading="Certification map")
    app.assert_healthy()
    by_country = app.main.get_by_text(re.compile(r"Facilities with a valid certification, by country"))
    expect(by_country.first).to_be_visible()
    register = app.main.get_by_role("heading", name="Register")
    expect(register).to_be_visible()

    # "Country totals" off: the chart by country goes, with a fragment run only.
    runs.clear()
    _toggle(app, "Country totals")
    expect(by_country).to_have_count(0)
    assert runs and all(r == FRAGMENT_RUN for r in runs), f"switching country totals ran {runs}"
    expect(app.page.locator('[data-testid="stDeckGlJsonChart"] canvas').first).to_be_visible()
    expect(register).to_be_visible()

    # "Smelter emissions" on: the emissions section appears below the map, again in the fragment.
    runs.clear()
    _toggle(app, "Smelter emissions")
    expect(app.main.get_by_role("heading", name=re.compile("Smelter GHG intensity"))).to_be_visible()
    assert runs and all(r == FRAGMENT_RUN for r in runs), f"switching emissions ran {runs}"

    # The month slider: the register counts certifications by that month, so the page reruns.
    tile = app.main.locator('[data-testid="stMetric"]').filter(has_text="Certifications in the register")
    before = tile.inner_text()
    runs.clear()
    slider = app.main.get_by_role("slider").first
    slider.focus()
    for _ in range(24):
        slider.press("ArrowLeft")
    app.page.wait_for_timeout(500)
    app.wait_until_idle()
    assert PAGE_RUN in runs, f"moving the month ran only {runs}"
    assert tile.inner_text() != before, "the register's tile did not follow the month"
    assert "month=" in app.page.url
    app.assert_healthy()
