"""A real server on a data folder whose only snapshot is damaged: every screen, opened by URL in
Chromium, shows the app's own explanation, never Streamlit's error box or a figure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, expect

from asi_me.data.snapshot import current_id, write_snapshot
from asi_me.data.vocab import Role
from asi_me.ui.screens import SCREENS
from asi_me.ui.widgets import VISITOR_NO_DATA_HINT
from tests.browser.conftest import start_server, stop_server, warm_up
from tests.integrity import demo_tables, flip_byte

if TYPE_CHECKING:  # fixtures come from conftest.py; these names are for reading only
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def damaged_server(browser: Browser, artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        StreamlitServer]:
    data_dir = tmp_path_factory.mktemp("damaged-data")
    write_snapshot(data_dir, demo_tables(), note="demo: the only snapshot, damaged")
    flip_byte(data_dir / "snapshots" / str(current_id(data_dir)) / "members.parquet")
    server = start_server(data_dir, artifacts / "server-damaged.log")
    try:
        warm_up(server, browser)
        yield server
    finally:
        stop_server(server)


def test_every_screen_explains_that_the_data_failed_its_check(
    damaged_server: StreamlitServer, new_app_page: Callable[..., AppPage]
) -> None:
    app = new_app_page(damaged_server)
    for screen in (s for s in SCREENS if Role.PUBLIC in s.roles):
        path = "" if screen.default else screen.url_path
        app.open(damaged_server.page_url(path), heading=screen.title)
        app.assert_healthy()
        message = app.main.locator('[data-testid="stAlertContentInfo"]').first
        expect(message).to_contain_text("No figures can be shown: the data failed its integrity check.")
        expect(message).to_contain_text(VISITOR_NO_DATA_HINT)  # a visitor is not told which file broke
        expect(message).not_to_contain_text("members.parquet")
        assert app.main.locator('[data-testid="stAlertContentError"]').count() == 0
        assert app.main.locator(".asi-tile").count() == 0
        app.screenshot(f"damaged-{screen.url_path}")
