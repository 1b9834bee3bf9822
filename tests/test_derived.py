"""Derived tables: stored with every snapshot, computed in memory when a snapshot lacks them,
never read when written by other SQL, and added to an unchanged snapshot without changing it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from asi_me.cli import main as cli_main
from asi_me.data import derived
from asi_me.data.derived import DERIVED, DERIVED_DIR, derived_path
from asi_me.data.snapshot import current_folder, store_derived
from asi_me.data.store import Store
from tests.conftest import write_tables


def observation(code: str, on: date, value: float, dimension: str = "total", dimension_value: str = "all") -> dict:
    return {
        "indicator_code": code, "period_on": on, "dimension": dimension,
        "dimension_value": dimension_value, "value": value, "status": "final",
    }


OBSERVATIONS = [
    observation("I2", date(2021, 1, 31), 7.0),
    observation("I1", date(2021, 2, 28), 3.0),
    observation("I1", date(2021, 1, 31), 2.0),
    observation("I1", date(2021, 1, 31), 1.5, "region", "Europe"),
    observation("I1", date(2021, 1, 31), 0.5, "region", "Asia"),
]


def totals(store: Store) -> list[tuple]:
    frame = store.query("select indicator_code, period_on, value from indicator_totals")
    return [(r.indicator_code, r.period_on.date(), r.value) for r in frame.itertuples()]


EXPECTED = [("I1", date(2021, 1, 31), 2.0), ("I1", date(2021, 2, 28), 3.0), ("I2", date(2021, 1, 31), 7.0)]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return write_tables(tmp_path / "data", indicator_observations=OBSERVATIONS)


def test_a_new_snapshot_stores_every_derived_table_and_the_store_reads_it(data_dir) -> None:
    folder = current_folder(data_dir)
    for name in DERIVED:
        assert derived_path(folder, name).is_file()
    store = Store(folder)
    try:
        # Only headline rows, ordered by indicator and period (the region rows are left out).
        assert totals(store) == EXPECTED
    finally:
        store.close()


def test_a_snapshot_without_derived_files_is_served_the_same_and_derive_stores_them(data_dir, capsys) -> None:
    folder = current_folder(data_dir)
    for path in (folder / DERIVED_DIR).iterdir():
        path.unlink()
    store = Store(folder)
    try:
        assert totals(store) == EXPECTED
    finally:
        store.close()
    assert cli_main(["--data-dir", str(data_dir), "derive"]) == 0
    assert "indicator_totals (3 rows)" in capsys.readouterr().out
    assert derived_path(folder, "indicator_totals").is_file()


def test_a_file_written_by_other_sql_is_never_read_and_is_removed(data_dir, monkeypatch) -> None:
    folder = current_folder(data_dir)
    old_file = derived_path(folder, "indicator_totals")
    changed = derived.derived_sql("indicator_totals").replace("dimension = 'total'", "dimension = 'region'")
    monkeypatch.setattr(derived, "derived_sql", lambda name: changed)
    store = Store(folder)
    try:
        # The new SQL's result (region rows), computed in memory, not the stored totals.
        frame = store.query("select value from indicator_totals order by value")
        assert frame["value"].tolist() == [0.5, 1.5]
    finally:
        store.close()
    # An unchanged re-write of the same data stores the new table and drops the stale file.
    write_tables(data_dir, indicator_observations=OBSERVATIONS)
    assert current_folder(data_dir) == folder
    assert not old_file.exists()
    assert derived_path(folder, "indicator_totals").is_file()
    assert len(list((folder / DERIVED_DIR).glob("*.parquet"))) == len(DERIVED)


def test_derived_tables_are_not_part_of_the_snapshot_identity(data_dir) -> None:
    folder = current_folder(data_dir)
    manifest = (folder / "manifest.json").read_text()
    for path in (folder / DERIVED_DIR).iterdir():
        path.unlink()
    write_tables(data_dir, indicator_observations=OBSERVATIONS)
    assert current_folder(data_dir) == folder
    assert (folder / "manifest.json").read_text() == manifest
    assert "indicator_totals" not in manifest


def test_the_committed_demo_stores_every_derived_table_of_the_current_sql() -> None:
    """Otherwise every fresh clone computes them at start and an identical re-ingest adds files."""
    from asi_me.settings import REPO_ROOT

    folder = current_folder(REPO_ROOT / "data")
    missing = [name for name in DERIVED if not derived_path(folder, name).is_file()]
    assert not missing, f"data/ lacks stored derived tables {missing}: run `python -m asi_me derive` and commit data/."
    stale = sorted(p.name for p in (folder / DERIVED_DIR).glob("*.parquet")) != sorted(
        derived_path(folder, name).name for name in DERIVED
    )
    assert not stale, "data/ holds derived files of older SQL: run `python -m asi_me derive` and commit data/."


def test_derived_files_are_cut_into_row_groups_a_query_can_skip(tmp_path, monkeypatch) -> None:
    # The register's first rows read the first row group(s) of the facts, stored in register order.
    import itertools
    import shutil

    import pyarrow.parquet as pq

    monkeypatch.setattr(derived, "ROW_GROUP_ROWS", 100)
    monkeypatch.setattr(derived, "_LAYOUT", "row_group_rows=100")
    folder = tmp_path / "snapshot"
    shutil.copytree(current_folder(Path(__file__).resolve().parent.parent / "data"), folder,
                    ignore=shutil.ignore_patterns(DERIVED_DIR))
    store_derived(folder)  # written and recorded: the Store reads only recorded derived files
    facts = pq.ParquetFile(derived_path(folder, "certification_facts"))
    rows = facts.metadata.num_rows
    assert rows == 710
    assert facts.metadata.num_row_groups == 8  # ceil(710 / 100)
    column = facts.schema_arrow.get_field_index("register_order")
    bounds = [(facts.metadata.row_group(i).column(column).statistics.min,
               facts.metadata.row_group(i).column(column).statistics.max) for i in range(8)]
    assert all(low <= high < next_low for (low, high), (next_low, _) in itertools.pairwise(bounds))
    store = Store(folder)
    plan = store.query("explain analyze select * from certification_facts order by register_order limit 50")
    assert "Row Groups Scanned: 1 / 8" in plan.iloc[0, 1]
    store.close()
