"""Data › Update walked in Chromium on a real server: upload an export, read the report, see the
preview with its tile deltas, publish, roll back. A public visitor's dashboard, open in another
browser context throughout, changes only when the secretariat publishes (and back on roll back)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest
from playwright.sync_api import Browser, expect

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import current_folder, current_id, read_table, write_snapshot
from asi_me.settings import REPO_ROOT
from tests.browser.conftest import start_server, stop_server, warm_up

if TYPE_CHECKING:  # fixtures come from conftest.py; these names are for reading only
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser

PS_TILE = '.asi-tile[data-label="PS certificates"]'


@pytest.fixture(scope="module")
def update_server(browser: Browser, artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[StreamlitServer, Path]]:
    """A server on a private copy of the demo (an update of it is still the demo, so the role
    switch these tests use stays available)."""
    data_dir = tmp_path_factory.mktemp("update-data")
    source = current_folder(REPO_ROOT / "data")
    write_snapshot(data_dir, {name: read_table(source, name) for name in TABLES},
                   sources={name: ["demo"] for name in TABLES}, note="demo")
    server = start_server(data_dir, artifacts / "server-update.log")
    try:
        warm_up(server, browser)
        yield server, data_dir
    finally:
        stop_server(server)


def _six_certifications(data_dir: Path, path: Path) -> Path:
    facilities = pq.read_table(current_folder(data_dir) / "facilities.parquet").column("facility_id").to_pylist()
    lines = ["certification_id,facility_id,standard,standard_version,certification_type,status,issued_on,"
             "expires_on,scope,auditing_firm_id"]
    lines += [f"PS-BR-{i},{facilities[i]},Performance Standard,PS V3 (2022),Full,Certified,2026-09-01,2029-09-01,"
              "Whole site,AF01" for i in range(6)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _ps_tile(app: AppPage, server: StreamlitServer) -> int:
    app.open(server.page_url(), heading="Outcomes dashboard")
    value = app.main.locator(PS_TILE).first.get_attribute("data-value") or ""
    return int(value.replace(",", ""))


def test_upload_report_preview_publish_and_roll_back(
    update_server: tuple[StreamlitServer, Path], new_app_page: Callable[..., AppPage], tmp_path: Path,
) -> None:
    server, data_dir = update_server
    published = current_id(data_dir)
    visitor = new_app_page(server)
    before = _ps_tile(visitor, server)

    staff = new_app_page(server)
    staff.open(server.page_url("data_update", role="secretariat"), heading="Data › Update")
    staff.assert_healthy()
    check = staff.main.get_by_role("button", name="Check and preview")
    expect(check).to_be_disabled()  # nothing to check before a file is chosen

    # A file with one refused value: the report names it and offers no Publish.
    bad = _six_certifications(data_dir, tmp_path / "certifications.csv")
    bad.write_text(bad.read_text(encoding="utf-8").replace("PS V3 (2022)", "PS-2019", 1), encoding="utf-8")
    staff.main.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
    expect(check).to_be_enabled()
    check.click()
    staff.wait_until_idle()
    expect(staff.main.get_by_text("1 error: nothing can be published")).to_be_visible()
    expect(staff.main.get_by_role("button", name="Publish snapshot")).to_have_count(0)
    staff.screenshot("update-report")

    # The good file: replace the upload and check again.
    staff.main.get_by_role("button", name="Remove certifications.csv").click()
    staff.wait_until_idle()
    expect(check).to_be_disabled()
    (tmp_path / "good").mkdir()
    good = _six_certifications(data_dir, tmp_path / "good" / "certifications.csv")
    staff.main.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(good))
    check.click()
    staff.wait_until_idle()
    expect(staff.main.get_by_text("Preview: what publishing changes")).to_be_visible()
    expect(staff.main.get_by_text("Dashboard tiles as of today")).to_be_visible()
    publish = staff.main.get_by_role("button", name="Publish snapshot")
    expect(publish).to_have_count(1)
    staff.assert_healthy()
    staff.screenshot("update-preview")

    # Before publishing, the public still sees the published snapshot.
    assert current_id(data_dir) == published
    assert _ps_tile(visitor, server) == before

    publish.click()
    staff.wait_until_idle()
    expect(staff.main.get_by_text("is published: every screen now shows it")).to_be_visible()
    new = current_id(data_dir)
    assert new != published
    assert _ps_tile(visitor, server) == before + 6  # the six certifications the preview counted

    # Roll back: the visitor's figure returns.
    rollback = staff.main.get_by_role("button", name="Roll back")
    expect(rollback).to_be_visible()
    target = staff.main.get_by_label("Roll back to")
    target.click()
    staff.page.get_by_role("option", name=published).click()
    staff.wait_until_idle()
    rollback.click()
    staff.wait_until_idle()
    expect(staff.main.get_by_text(f"Snapshot {published} is published")).to_be_visible(timeout=30_000)
    assert current_id(data_dir) == published
    assert _ps_tile(visitor, server) == before
    staff.assert_healthy()
    visitor.assert_healthy()
