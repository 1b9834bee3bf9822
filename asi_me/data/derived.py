"""Derived tables: facts that depend only on a snapshot, computed once when it is written.

Each name in DERIVED is `queries/derived_<name>.sql`, a parameter-free select over the base
tables (and the `countries` reference table) with a deterministic order. `write_snapshot`
stores each one as `snapshots/<id>/derived/<name>-<key>.parquet`, where the key is a hash
of the SQL text: a snapshot written by an older version of the code is never read with a
stale result, because the Store computes any derived table whose file is missing in memory
when it opens the snapshot. Query SQL reads a derived table by its name, like a base table.

Derived tables are caches of the snapshot, not part of it: they are not in the manifest and
do not change the snapshot id.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from functools import cache
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from asi_me.data.contract import TABLES
from asi_me.settings import QUERIES_DIR

log = logging.getLogger(__name__)

DERIVED: tuple[str, ...] = (
    "indicator_totals",
    "certification_facts",
    "smelter_emission_facts",
    "coc_facility_years",
    "indicator_outliers",
    "coc_line_checks",
    "certification_segments",
    "ps_nonconformances",
    "training_firsts",
)
DERIVED_DIR = "derived"
COUNTRIES_CSV = Path(__file__).resolve().parent.parent / "reference" / "countries.csv"


@cache
def derived_sql(name: str) -> str:
    """The select that computes derived table `name`."""
    if name not in DERIVED:
        raise KeyError(f"{name!r} is not a derived table; known: {', '.join(DERIVED)}.")
    return (QUERIES_DIR / f"derived_{name}.sql").read_text(encoding="utf-8")


# Rows per Parquet row group of a derived file. DuckDB scans row groups in parallel and skips
# those whose min/max statistics rule them out: the register's first 500 rows (the facts are
# stored in register order) read one group of 71,000 instead of all of them. Part of the key,
# so files written with another layout are rewritten.
ROW_GROUP_ROWS = 16_384
_LAYOUT = f"row_group_rows={ROW_GROUP_ROWS}"


def derived_key(name: str) -> str:
    """A short hash of the SQL and file layout, so a file written otherwise is never read."""
    return hashlib.sha256((derived_sql(name) + _LAYOUT).encode("utf-8")).hexdigest()[:12]


def derived_path(folder: Path, name: str) -> Path:
    return folder / DERIVED_DIR / f"{name}-{derived_key(name)}.parquet"


def quote(path: Path) -> str:
    return str(path).replace("'", "''")


def attach_base_tables(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """A view per contract table over the snapshot's Parquet files, plus the countries table."""
    for name in TABLES:
        # Identifiers come from the contract, never from a user; paths are quoted literals.
        path = folder / f"{name}.parquet"
        if not path.is_file():
            # A snapshot written before the contract had this table: it holds no rows of it.
            from asi_me.data.snapshot import arrow_schema  # noqa: PLC0415 - snapshot imports this module

            con.register(f"_empty_{name}", arrow_schema(TABLES[name]).empty_table())
            con.execute(f"create table {name} as select * from _empty_{name}")
            con.unregister(f"_empty_{name}")
            continue
        con.execute(f"create view {name} as select * from read_parquet('{quote(path)}')")
    con.execute(
        "create table countries as select * from read_csv("
        f"'{quote(COUNTRIES_CSV)}', header = true, all_varchar = true)"
    )


def attach_derived_tables(con: duckdb.DuckDBPyConnection, folder: Path) -> list[str]:
    """A view per derived table over its file, or a table computed now when the file is missing.

    Returns the names computed in memory (a snapshot written before they existed).
    """
    computed: list[str] = []
    for name in DERIVED:
        path = derived_path(folder, name)
        if path.is_file():
            con.execute(f"create view {name} as select * from read_parquet('{quote(path)}')")
        else:
            con.execute(f"create table {name} as {derived_sql(name)}")
            computed.append(name)
    if computed:
        log.warning(
            "Snapshot %s has no stored %s; computed in memory. Re-run the ingest (or `python -m asi_me "
            "derive`) to store them.", folder.name, ", ".join(computed),
        )
    return computed


def write_derived(folder: Path) -> dict[str, int]:
    """Write every derived table of the snapshot in `folder` that is missing; remove stale ones.

    Each file is written under a temporary name, fsynced and renamed, so a reader sees either
    no file (and computes the table) or the whole file. Returns rows per table written.
    """
    target = folder / DERIVED_DIR
    target.mkdir(exist_ok=True)
    wanted = {derived_path(folder, name).name for name in DERIVED}
    written: dict[str, int] = {}
    missing = [name for name in DERIVED if not derived_path(folder, name).is_file()]
    if missing:
        con = duckdb.connect(":memory:")
        try:
            attach_base_tables(con, folder)
            for name in missing:
                table = con.sql(derived_sql(name)).to_arrow_table()
                final = derived_path(folder, name)
                tmp = target / f".{final.name}.{uuid.uuid4().hex}"
                pq.write_table(table, tmp, compression="zstd", write_page_checksum=True, write_statistics=True,
                               row_group_size=ROW_GROUP_ROWS)
                with tmp.open("rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, final)
                written[name] = table.num_rows
        finally:
            con.close()
    for path in target.iterdir():
        if path.name not in wanted and path.suffix == ".parquet":
            path.unlink()
    return written
