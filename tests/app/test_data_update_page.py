"""Data › Update walked in AppTest: upload, report, preview with tile deltas, publish, roll back."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import current_folder, current_id, read_log, read_table, write_snapshot
from tests.app.conftest import assert_clean

PAGE = "pages/data_update.py"


@pytest.fixture
def own_demo(tmp_path, demo_dir) -> Path:
    """The demo rows with their source recorded as the committed demo's are, so an update of them is still
    the demo (where the role switch this test uses is allowed)."""
    target = tmp_path / "data"
    source = current_folder(demo_dir)
    write_snapshot(target, {name: read_table(source, name) for name in TABLES},
                   sources={name: ["demo"] for name in TABLES}, note="demo")
    return target


def _certifications_csv(data_dir: Path, rows: int = 6) -> bytes:
    facilities = pq.read_table(current_folder(data_dir) / "facilities.parquet").column("facility_id").to_pylist()
    lines = ["certification_id,facility_id,standard,standard_version,certification_type,status,issued_on,"
             "expires_on,scope,auditing_firm_id"]
    lines += [f"PS-UP-{i},{facilities[i]},Performance Standard,PS V3 (2022),Full,Certified,2026-09-01,2029-09-01,"
              f"Whole site,AF01" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _frame(at, *columns: str):
    """The table on screen that has these columns."""
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert found, f"no table with columns {columns}"
    return found[0]


def _ps_tile(data_dir: Path) -> float:
    from asi_me.data.store import Store
    from asi_me.data.vocab import Role
    from asi_me.filters import Filters, Viewer
    from asi_me.queries.outcomes import dashboard_tiles

    store = Store.open_current(data_dir)
    try:
        return dashboard_tiles(store, Viewer(Role.PUBLIC), Filters()).tile("ps_certificates").value
    finally:
        store.close()


def test_only_the_secretariat_gets_the_update_screen(open_app, own_demo):
    for role in ("public", "member"):
        at = open_app(own_demo, role=role, member="M0001" if role == "member" else None)
        assert "Data › Update" not in [link.label for link in at.get("page_link")]
    at = open_app(own_demo, role="secretariat")
    assert "Data › Update" in [link.label for link in at.get("page_link")]


def test_upload_report_preview_publish_and_roll_back(open_app, own_demo):
    published = current_id(own_demo)
    public_before = _ps_tile(own_demo)
    at = open_app(own_demo, role="secretariat", page=PAGE)
    assert_clean(at)

    # Upload with one bad row: the report names it and nothing can be published.
    bad = _certifications_csv(own_demo).replace(b"PS V3 (2022)", b"PS-2019", 1)
    at.file_uploader(key="update_files").set_value([("certifications.csv", bad, "text/csv")]).run()
    at.button(key="update_check").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "1 error: nothing can be published until they are fixed (or use quarantine)."]
    report = _frame(at, "file", "column", "rule", "count")
    assert list(report[["file", "column", "rule", "count"]].itertuples(index=False, name=None)) == [
        ("certifications.csv", "standard_version", "vocabulary", 1)]
    assert not [b for b in at.button if b.key == "update_publish"]

    # The good file: a preview of rows and tiles; the public still sees the published snapshot.
    at.file_uploader(key="update_files").set_value(
        [("certifications.csv", _certifications_csv(own_demo), "text/csv")]).run()
    at.button(key="update_check").click().run()
    assert_clean(at)
    changes = _frame(at, "table", "added", "changed", "removed")
    assert list(changes[["table", "added", "changed", "removed"]].itertuples(index=False, name=None)) == [
        ("certifications", 6, 0, 0)]
    tiles = _frame(at, "code", "before", "after", "change").set_index("code")
    assert tiles.loc["ps_certificates", "change"] == 6
    assert tiles.loc["members", "change"] == 0
    assert current_id(own_demo) == published
    assert _ps_tile(own_demo) == public_before

    # Publish: the new snapshot is current and the public figure moves by the previewed six.
    at.button(key="update_publish").click().run()
    assert_clean(at)
    new = current_id(own_demo)
    assert new != published
    assert any(new in s.value for s in at.success)
    assert _ps_tile(own_demo) == public_before + 6
    history = _frame(at, "snapshot_id", "is_current", "files")
    assert history.loc[history["is_current"], "snapshot_id"].tolist() == [new]
    assert history.loc[history["is_current"], "files"].tolist() == ["certifications.csv"]

    # Roll back to the earlier snapshot.
    at.selectbox(key="update_rollback_target").set_value(published).run()
    at.button(key="update_rollback").click().run()
    assert_clean(at)
    assert current_id(own_demo) == published
    assert _ps_tile(own_demo) == public_before
    actions = [(e["command"], e.get("user")) for e in read_log(own_demo)[-4:]]
    assert actions == [("prepare", "secretariat (no login)"), ("prepare", "secretariat (no login)"),
                       ("publish", "secretariat (no login)"), ("roll back", "secretariat (no login)")]
