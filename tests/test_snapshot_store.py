"""Snapshots are content-addressed and atomic; the store reads only the current one."""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa
import pytest

from asi_me.data.snapshot import NoSnapshotError, current_id, current_manifest, write_snapshot
from asi_me.data.store import Store


def _members(n: int) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "member_id": f"M{i:03d}",
                "name": f"Member {i}",
                "membership_class": "civil_society",
                "country": "DE",
                "joined_on": date(2016, 1, i + 1),
                "left_on": None,
            }
            for i in range(n)
        ]
    )


def test_same_content_gives_same_snapshot_and_changes_nothing(tmp_path):
    first, changed = write_snapshot(tmp_path, {"members": _members(3)})
    assert changed
    again, changed_again = write_snapshot(tmp_path, {"members": _members(3)})
    assert (again, changed_again) == (first, False)
    other, changed_other = write_snapshot(tmp_path, {"members": _members(4)})
    assert changed_other and other != first
    assert current_id(tmp_path) == other


def test_manifest_records_rows_hashes_and_data_as_of(tmp_path):
    write_snapshot(tmp_path, {"members": _members(3)}, sources={"members": ["crm.csv"]})
    manifest = current_manifest(tmp_path)
    assert manifest.tables["members"]["rows"] == 3
    assert manifest.tables["members"]["sources"] == ["crm.csv"]
    assert len(manifest.tables["members"]["sha256"]) == 64
    assert manifest.tables["coc_reports"]["rows"] == 0
    assert manifest.data_as_of == "2016-01-03"


def test_store_reads_views_binds_values_and_cannot_read_other_files(tmp_path):
    write_snapshot(tmp_path, {"members": _members(3)})
    store = Store.open_current(tmp_path)
    assert store.query("select count(*) as n from members where country = $c", {"c": "DE"}).n[0] == 3
    assert store.query("select count(*) as n from members where country = $c", {"c": "DE' or 1=1 --"}).n[0] == 0
    assert store.query("select region from countries where country = 'NO'").region[0] == "Europe"
    with pytest.raises(duckdb.PermissionException):
        store.query("select * from read_csv('/etc/passwd')")
    with pytest.raises(duckdb.Error):
        store.query("set enable_external_access = true")


def test_missing_snapshot_says_how_to_make_one(tmp_path):
    with pytest.raises(NoSnapshotError, match="python -m asi_me demo"):
        Store.open_current(tmp_path)


def test_every_query_runs_inside_the_wait_hook(tmp_path):
    # The app gives its page-run slot to another session while DuckDB works (asi_me/ui/process.py).
    from contextlib import contextmanager

    from asi_me.data import store as store_module

    write_snapshot(tmp_path, {"members": _members(3)})
    store = Store.open_current(tmp_path)
    entered: list[str] = []

    @contextmanager
    def hook():
        entered.append("in")
        yield

    previous = store_module._wait_hook
    store_module.set_wait_hook(hook)
    try:
        assert store.query("select count(*) as n from members").n[0] == 3
        assert store.query_arrow("select count(*) as n from members").column("n")[0].as_py() == 3
        assert entered == ["in", "in"]
    finally:
        store_module.set_wait_hook(previous)


def test_a_result_fetched_through_arrow_has_the_dtypes_of_duckdbs_own_conversion(tmp_path):
    # CoC lines and whole-table downloads go through Arrow (less memory); callers see the same frame.
    write_snapshot(tmp_path, {"members": _members(3)})
    store = Store.open_current(tmp_path)
    sql = ("select member_id, joined_on, left_on, 2.5 as share, 7 as n, "
           "case when member_id = 'M000' then null else member_id = 'M001' end as is_first "
           "from members order by member_id")
    direct = store.query(sql)
    from asi_me.data.store import frame_of_arrow

    via_arrow = frame_of_arrow(store.query_arrow(sql))
    assert dict(via_arrow.dtypes) == dict(direct.dtypes)
    assert via_arrow["joined_on"].tolist() == direct["joined_on"].tolist()
    assert via_arrow["is_first"].tolist()[1:] == [True, False]
    assert via_arrow["is_first"].isna().tolist() == [True, False, False]


def test_a_snapshot_written_before_a_table_existed_opens_with_that_table_empty(tmp_path, monkeypatch):
    import asi_me.data.snapshot as snapshot
    from asi_me.data.contract import TABLES

    # A snapshot kept from an earlier version (a pinned link's v=) has no file for tables added since.
    older = {name: spec for name, spec in TABLES.items() if name not in {"evidence_findings", "toc_assumptions"}}
    monkeypatch.setattr(snapshot, "TABLES", older)
    write_snapshot(tmp_path, {"members": _members(2)})
    monkeypatch.undo()
    folder = tmp_path / "snapshots" / current_id(tmp_path)
    assert not (folder / "evidence_findings.parquet").exists()
    store = Store.open_current(tmp_path)
    try:
        assert store.query("select count(*) as n from members").n[0] == 2
        findings = store.query("select * from evidence_findings")
        assert findings.empty and list(findings.columns) == list(TABLES["evidence_findings"].columns)
        assert store.query("select count(*) as n from toc_assumptions").n[0] == 0
    finally:
        store.close()
