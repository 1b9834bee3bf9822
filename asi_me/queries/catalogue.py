"""The Data screen's catalogue: every table and published aggregate, its rows, data
version, last ingest and source files, and what each role may download.

Download rights: the secretariat may download every table; a member the public tables,
its own rows of member-linked tables and the published aggregates; the public only the
public tables (TableSpec.is_public) and the published aggregates. Published aggregates
are always computed for a public viewer, so they pass the disclosure policy whoever
downloads them ("anything exported for publication passes the same policy").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import read_log
from asi_me.data.store import Store, frame_of_arrow
from asi_me.data.vocab import Role
from asi_me.filters import Filters, Viewer
from asi_me.publish.datasets import DATASETS, PublishedDataset
from asi_me.publish.gate import gated_table, is_gated
from asi_me.publish.numbers import round_frame
from asi_me.queries.certifications import run_query

PUBLIC = Viewer.public()


# Every published aggregate is a declared published dataset (asi_me.publish.datasets).
PUBLISHED_AGGREGATES: dict[str, PublishedDataset] = DATASETS


# Tables whose rows belong to one member company, and the id column that says which.
_MEMBER_SCOPE: dict[str, tuple[str, str]] = {
    "members": ("member_id", "member_id"),
    "facilities": ("member_id", "member_id"),
    "certifications": ("facility_id", "facility_ids"),
    "audits": ("certification_id", "certification_ids"),
    "audit_findings": ("audit_id", "audit_ids"),
    "coc_reports": ("facility_id", "facility_ids"),
    "smelter_emissions": ("facility_id", "facility_ids"),
}


def download_scope(viewer: Viewer, name: str) -> str | None:
    """What of `name` the viewer may download: "all rows", "your company's rows" or None."""
    if name in PUBLISHED_AGGREGATES:
        return "all rows"
    spec = TABLES[name]
    if spec.is_secretariat_only and not viewer.sees_everything:
        return None
    if viewer.sees_everything or spec.is_public:
        return "all rows"
    if viewer.role is Role.MEMBER and name in _MEMBER_SCOPE:
        return "your company's rows"
    return None


def data_dir_of(store: Store) -> Path:
    """The data folder (holding CURRENT and the ingest log) of a store's snapshot."""
    return store.folder.parent.parent


def _last_ingests(store: Store) -> dict[str, dict[str, Any]]:
    """Per table, the latest successful ingest log entry that supplied it."""
    latest: dict[str, dict[str, Any]] = {}
    for entry in read_log(data_dir_of(store)):
        if entry.get("command") != "ingest" or not entry.get("ok"):
            continue
        for table in entry.get("rows") or {}:
            latest[table] = entry
    return latest


def table_catalogue(store: Store, viewer: Viewer) -> pd.DataFrame:
    """One row per table and published aggregate: title, kind, rows, data version (snapshot
    id), snapshot date, last ingest time, source files, whether public, and what this role
    may download (download_scope; is_downloadable)."""
    ingests = _last_ingests(store)
    rows: list[dict[str, Any]] = []
    for name, spec in TABLES.items():
        if spec.is_secretariat_only and not viewer.sees_everything:
            continue  # the risk register: other roles are not told it exists
        info = store.manifest.tables.get(name, {})
        entry = ingests.get(name, {})
        sources = list(info.get("sources") or []) or list(entry.get("files") or [])
        scope = download_scope(viewer, name)
        rows.append({
            "name": name,
            "title": spec.title,
            "kind": "table",
            "rows": int(info.get("rows", 0)),
            "is_public": spec.is_public,
            "data_version": store.snapshot_id,
            "snapshot_created_at": store.manifest.created_at,
            "last_ingest_at": entry.get("at"),
            "source_files": "; ".join(sources) if sources else (store.manifest.note or None),
            "download_scope": scope,
            "is_downloadable": scope is not None,
        })
    for name, aggregate in PUBLISHED_AGGREGATES.items():
        rows.append({
            "name": name,
            "title": aggregate.title,
            "kind": "published aggregate",
            "rows": None,
            "is_public": True,
            "data_version": store.snapshot_id,
            "snapshot_created_at": store.manifest.created_at,
            "last_ingest_at": None,
            "source_files": "computed from the tables above",
            "download_scope": "all rows",
            "is_downloadable": True,
        })
    frame = pd.DataFrame(rows)
    frame["rows"] = frame["rows"].astype("Int64")
    return frame


def download_scope_or_raise(viewer: Viewer, name: str) -> str:
    """download_scope, or KeyError for an unknown name and PermissionError when the role may not have it."""
    if name not in TABLES and name not in PUBLISHED_AGGREGATES:
        known = ", ".join([*TABLES, *PUBLISHED_AGGREGATES])
        raise KeyError(f"There is no table or published aggregate named {name!r}; choose one of {known}.")
    scope = download_scope(viewer, name)
    if scope is None:
        raise PermissionError(
            f"The table {name!r} is not public, so a {viewer.role} viewer cannot download it; "
            "download the published aggregates instead, or log in with a role that may see it."
        )
    return scope


def table_rows_sql(store: Store, viewer: Viewer, name: str) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters selecting the rows of table `name` this viewer may download:
    a whole table in its stored order, a member's own rows in key order. The member
    firewall is a bound `where` clause, so DuckDB picks a member's rows rather than
    pandas after loading the whole table.

    Raises KeyError for an unknown table and PermissionError when the role may not have it,
    and PermissionError for a table this viewer may only have through the disclosure gate.
    """
    if name not in TABLES:
        known = ", ".join([*TABLES, *PUBLISHED_AGGREGATES])
        raise KeyError(f"There is no table or published aggregate named {name!r}; choose one of {known}.")
    scope = download_scope_or_raise(viewer, name)
    if is_gated(viewer, name):
        raise PermissionError(f"The table {name!r} holds company magnitudes: serve it through the disclosure "
                              "gate (asi_me.publish.gate.gated_table), never from the snapshot as stored.")
    # the name and the id column are keys of the contract, never free text from a user
    if scope == "all rows":
        return f"select * from {name}", {}
    # a member's rows in key order: DuckDB may run the id filter as a parallel join, which
    # does not keep the stored order
    column, id_list = _MEMBER_SCOPE[name]
    order = ", ".join(TABLES[name].key)
    if id_list == "member_id":
        return (f"select * from {name} where {column} = $member_id order by {order}",
                {"member_id": viewer.member_id})
    own = run_query(store, "cert_member_records", {"member_id": viewer.member_id}).iloc[0][id_list]
    return (f"select * from {name} where list_contains($ids::varchar[], {column}) order by {order}",
            {"ids": [str(i) for i in own]})


def table_for_download(
    store: Store, viewer: Viewer, name: str, filters: Filters | None = None, *, indicator_codes: list[str] | None = None
) -> pd.DataFrame:
    """The rows of a table or published aggregate this viewer may download.

    Raises KeyError for an unknown name and PermissionError when the role may not have it.
    Filters apply to published aggregates (as of, region, ...); tables come whole, or only
    the rows of some `indicator_codes` where the table has that column.
    """
    if name in PUBLISHED_AGGREGATES:
        return PUBLISHED_AGGREGATES[name].published(store, filters)
    if is_gated(viewer, name):
        download_scope_or_raise(viewer, name)
        return _rounded_table(store, gated_table(store, viewer, name, codes=indicator_codes))
    sql, params = table_rows_sql(store, viewer, name)
    if indicator_codes is not None and "indicator_code" in TABLES[name].columns:
        sql, params = f"select * from ({sql}) where list_contains($only, indicator_code)", {**params,
                                                                                           "only": indicator_codes}
    batches = list(store.record_batches(sql, params))
    if not batches:
        return store.query(sql, params)  # no rows: DuckDB's own empty frame keeps the column types
    return _rounded_table(store, frame_of_arrow(pa.Table.from_batches(batches)))


def indicator_units(store: Store) -> dict[str, str]:
    """Indicator code -> its declared unit (what an observation's value is rounded to)."""
    units = store.query("select indicator_code, unit from indicators")
    return dict(zip(units["indicator_code"].astype(str), units["unit"].astype(str), strict=True))


def _rounded_table(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """A table as downloaded: indicator values rounded to their unit's precision, every other
    float column stripped of float noise only (asi_me.publish.numbers)."""
    row_units = None
    if "unit" not in frame.columns and "indicator_code" in frame.columns:
        row_units = frame["indicator_code"].astype(str).map(indicator_units(store))
    return round_frame(frame, row_units=row_units, by_name=False)


QUERY_FUNCTIONS = [table_catalogue, table_for_download]
