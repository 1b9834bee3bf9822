"""Widgets that change one part of a screen rerun that part only (the frame, with its filter bar
and "Copy link", is not sent again), and the "Copy link" box still gives the address that
reopens the view: picking a Theory of Change node, switching the CoC Sankey to percentages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import WebSocket, expect

if TYPE_CHECKING:  # fixtures come from conftest.py; these names are for reading only
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser

FRAME_MARK = b"Copy link"  # the frame's popover label: every full run sends it again


def _count_frame_runs(app: AppPage) -> list[int]:
    """A one-item counter of server messages that redraw the frame (a full page run)."""
    runs = [0]

    def watch(socket: WebSocket) -> None:
        def received(payload: bytes | str) -> None:
            if isinstance(payload, bytes) and FRAME_MARK in payload:
                runs[0] += 1

        socket.on("framereceived", received)

    app.page.on("websocket", watch)
    return runs


def _shared_link(app: AppPage) -> str:
    app.main.get_by_role("button", name="Copy link").click()
    box = app.page.get_by_role("textbox", name="Link to this view")
    expect(box).to_be_visible()
    link = box.input_value()
    app.page.keyboard.press("Escape")
    return link


@pytest.fixture(params=["streamlit_run", "asgi"])
def server(request: pytest.FixtureRequest) -> StreamlitServer:
    """The app under `streamlit run app.py` and as production serves it (with its Content-Security-Policy)."""
    return request.getfixturevalue("demo_server" if request.param == "streamlit_run" else "asgi_demo_server")


def test_picking_a_toc_node_reruns_the_explorer_only_and_the_link_reopens_it(
    server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(server)
    runs = _count_frame_runs(app)
    app.open(server.page_url("toc", region="Europe"), heading="Theory of change")
    assert runs[0] >= 1, "the first run draws the frame"
    runs[0] = 0

    picker = app.main.locator(".st-key-controls_toc_picker")
    picker.get_by_role("combobox").click()
    if not app.page.get_by_role("option").count():  # the first click may land while the list is being built
        picker.get_by_role("combobox").press("ArrowDown")
    option = app.page.get_by_role("option").nth(2)
    name = option.inner_text().split(" · ", 1)[1]
    option.click()
    expect(app.main.get_by_role("heading", name=name)).to_be_visible(timeout=30_000)
    app.wait_until_idle()
    app.page.wait_for_function("() => new URLSearchParams(window.location.search).has('node')")
    node = app.page.evaluate("() => new URLSearchParams(window.location.search).get('node')")
    assert runs[0] == 0, "picking a node reran the whole page, not only the explorer"
    app.assert_healthy()

    link = _shared_link(app)
    assert parse_qs(urlsplit(link).query)["node"] == [node]
    assert parse_qs(urlsplit(link).query)["region"] == ["Europe"]

    again = new_app_page(server).open(link, heading="Theory of change")
    expect(again.main.get_by_role("heading", name=name)).to_be_visible(timeout=30_000)
    expect(again.main.locator(".st-key-controls_toc_picker").get_by_role("combobox")).to_have_value(
        re.compile(re.escape(name)))
    again.assert_healthy()


def test_the_coc_percent_toggle_redraws_the_sankey_only_and_the_link_reopens_it(
    server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(server)
    runs = _count_frame_runs(app)
    app.open(server.page_url("coc_flow"), heading="CoC material flow")
    expect(app.main.get_by_text("ASI CoC material flow").first).to_contain_text("(tonnes)")
    runs[0] = 0

    app.main.locator(".st-key-controls_coc_unit").get_by_role("radio", name="% of source stage output").click()
    expect(app.main.get_by_text("ASI CoC material flow").first).to_contain_text("(% of source stage output)")
    app.wait_until_idle()
    app.page.wait_for_function("() => new URLSearchParams(window.location.search).get('unit') === 'pct'")
    assert runs[0] == 0, "the unit toggle reran the whole page, not only the Sankey card"
    app.assert_healthy()

    link = _shared_link(app)
    assert parse_qs(urlsplit(link).query)["unit"] == ["pct"]
    again = new_app_page(server).open(link, heading="CoC material flow")
    expect(again.main.get_by_text("ASI CoC material flow").first).to_contain_text("(% of source stage output)")
    again.assert_healthy()
