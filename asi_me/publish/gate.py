"""The disclosure gate: what of a stored table a viewer other than the secretariat is served.

Tables that hold no company magnitude (the Theory of Change, indicators' metadata,
governance meetings, auditing firms, evidence, IAI's global totals) are served as stored.
A table that does hold one is never served as stored to anyone but the secretariat:
it is served as the rows it may have as stored (streamed) plus the rows rebuilt from the
protected cells (today the indicator observations, see asi_me.publish.indicators). Every
download route (a table's CSV, the zip, the workbook, the data API) asks `is_gated` before
it streams a table from the snapshot. `gated_batches` streams the stored rows in runs of
indicator codes, each sorted on its own, so a whole-table download never sorts the table at once.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from asi_me.data.store import Store
from asi_me.filters import Viewer
from asi_me.publish import indicators, prepared
from asi_me.publish.policy import DisclosurePolicy
from asi_me.queries import coc, outcomes
from asi_me.queries.register_indicators import TOTAL, is_register_indicator, with_register_totals

_ORDER = "order by indicator_code, period_on, dimension, dimension_value"


def _split_codes(store: Store) -> tuple[list[str], list[str]]:
    """Indicator codes published as stored (programme figures) and company-magnitude codes."""
    units = store.query("select indicator_code, unit from indicators order by indicator_code")
    kinds = {code: indicators.sensitivity(code, unit) for code, unit in units.itertuples(index=False, name=None)}
    programme = [c for c, k in kinds.items() if k == "programme"]
    return programme, [c for c, k in kinds.items() if k == "company_magnitude"]


def _indicator_protected(store: Store, viewer: Viewer, policy: DisclosurePolicy) -> pd.DataFrame:
    """The observations of every company-magnitude indicator, rebuilt from protected cells,
    and the headline rows of the indicators the register answers, rebuilt from it."""
    programme, magnitude = _split_codes(store)
    observed = store.query(f"select * from indicator_observations where list_contains($codes, indicator_code) "
                           f"{_ORDER}", {"codes": magnitude})
    protected = indicators.observations_for(store, viewer, observed, {c: None for c in magnitude}, policy)
    answered = [c for c in programme if is_register_indicator(c)]
    headline = store.query(
        f"select *, cast(null as varchar) as suppression_note from indicator_observations "
        f"where list_contains($codes, indicator_code) and dimension = '{TOTAL}' {_ORDER}", {"codes": answered})
    headline = with_register_totals(store, headline)
    if len(headline):
        headline["period_on"] = pd.to_datetime(headline["period_on"]).dt.date
    parts = [p for p in (protected, headline[protected.columns] if len(headline) else headline) if len(p)]
    if not parts:
        return protected
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)


def _indicator_stored_sql(store: Store) -> tuple[str, dict[str, object]]:
    """The stored rows of programme indicators (served as they are), with an empty note; the
    headline rows of the indicators the register answers are rebuilt instead."""
    programme, _ = _split_codes(store)
    answered = [c for c in programme if is_register_indicator(c)]
    return (f"select *, cast(null as varchar) as suppression_note from indicator_observations "
            f"where list_contains($codes, indicator_code) "
            f"and not (list_contains($answered, indicator_code) and dimension = '{TOTAL}') {_ORDER}",
            {"codes": programme, "answered": answered})


@dataclass(frozen=True)
class GatedTable:
    """How a table holding company magnitudes reaches a non-secretariat viewer: the rows it
    may have as stored (streamed from the snapshot) and the rows rebuilt from protected cells."""

    stored_sql: Callable[[Store], tuple[str, dict[str, object]]]
    protected: Callable[[Store, Viewer, DisclosurePolicy], pd.DataFrame]


# Tables that carry company magnitudes, and how a non-secretariat viewer gets them.
GATED_TABLES: dict[str, GatedTable] = {
    "indicator_observations": GatedTable(_indicator_stored_sql, _indicator_protected),
}

_memo: weakref.WeakKeyDictionary[Store, dict[tuple[str, DisclosurePolicy], pd.DataFrame]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def is_gated(viewer: Viewer, name: str) -> bool:
    """Whether `name` must be rebuilt through the gate for this viewer."""
    return name in GATED_TABLES and not viewer.sees_everything


def protected_rows(store: Store, viewer: Viewer, name: str, policy: DisclosurePolicy | None = None) -> pd.DataFrame:
    """The rows of table `name` rebuilt from protected cells (the same for the public and every
    member: published aggregates only). Built once per snapshot and policy, and kept on disk
    (asi_me.publish.prepared)."""
    policy = policy or DisclosurePolicy.from_settings()
    with _lock:
        known = _memo.setdefault(store, {})
        if (name, policy) in known:
            return known[(name, policy)]
    frame = prepared.frame(store, f"gate-{name}", [policy],
                           lambda: GATED_TABLES[name].protected(store, Viewer.public(), policy))
    with _lock:
        known[(name, policy)] = frame
    return frame


# Stored rows sorted at once by one query, at most: the stored rows of a gated table stream in
# their order (`_ORDER`) a run of indicator codes at a time, so DuckDB's sort holds about this
# many rows, not the whole table (sorting the 8.3 million stored observations at once took 0.9 GB at
# 100x; runs of 250,000 rows, one query each, hold about 150 MB and take no longer).
SORT_ROWS = 250_000


def _code_runs(store: Store, sql: str, params: dict[str, object]) -> Iterator[list[str]]:
    """The indicator codes of the rows `sql` selects, in order, cut into consecutive runs of
    about SORT_ROWS rows (a code with more rows is a run of its own)."""
    counts = store.query(f"select indicator_code, count(*) as n from ({sql}) group by indicator_code "
                         "order by indicator_code", params)
    run: list[str] = []
    rows = 0
    for code, n in counts.itertuples(index=False, name=None):
        if run and rows + n > SORT_ROWS:
            yield run
            run, rows = [], 0
        run.append(code)
        rows += int(n)
    if run:
        yield run


def gated_batches(store: Store, viewer: Viewer, name: str, batch_rows: int) -> Iterator[pa.RecordBatch | pa.Table]:
    """Table `name` as a non-secretariat viewer may have it, batch by batch: the stored rows it
    may have stream from the snapshot, then the rebuilt rows.

    The stored rows come in their order (`_ORDER`, led by the indicator code) a run of codes
    at a time: each run is sorted on its own, and the runs follow each other in code order,
    so the rows and their order are those of the one sorted query, with a bounded sort."""
    sql, params = GATED_TABLES[name].stored_sql(store)
    unsorted = sql.removesuffix(_ORDER)  # sorted per run below (DuckDB keeps an inner sort: it would sort it all)
    for codes in _code_runs(store, unsorted, params):
        yield from store.record_batches(
            f"select * from ({unsorted}) where list_contains($run, indicator_code) {_ORDER}",
            {**params, "run": codes}, batch_rows)
    protected = protected_rows(store, viewer, name)
    if len(protected):
        yield pa.Table.from_pandas(protected, preserve_index=False)


def gated_row_count(store: Store, viewer: Viewer, name: str) -> int:
    sql, params = GATED_TABLES[name].stored_sql(store)
    stored = int(store.query(f"select count(*) from ({sql})", params).iloc[0, 0])
    return stored + len(protected_rows(store, viewer, name))


def gated_table(
    store: Store, viewer: Viewer, name: str, policy: DisclosurePolicy | None = None, *, codes: list[str] | None = None
) -> pd.DataFrame:
    """Table `name` as a non-secretariat viewer may have it, whole or for some indicator
    `codes` (the zip, the workbook and the table CSV stream it with `gated_batches`)."""
    sql, params = GATED_TABLES[name].stored_sql(store)
    if codes is not None:
        sql, params = f"select * from ({sql}) where list_contains($only, indicator_code)", {**params, "only": codes}
    stored = store.query(sql, params)
    protected = protected_rows(store, viewer, name, policy)
    if codes is not None:
        protected = protected[protected["indicator_code"].isin(codes)]
    if stored.empty:
        return protected.reset_index(drop=True)
    frame = pd.concat([stored, protected], ignore_index=True) if len(protected) else stored
    return frame.reset_index(drop=True)


def prepare(store: Store, policy: DisclosurePolicy | None = None) -> None:
    """Compute, and keep on disk (asi_me.publish.prepared), every protected figure that depends
    only on the snapshot and the policy: every CoC year's joint protection, each month end's
    workforce cells and the rows of every gated table. The ingest calls it when it publishes a
    snapshot, so that the first visitor of a new snapshot, or of a restarted server, reads them
    instead of waiting for them.
    Removes the prepared figures of snapshots that no longer exist."""
    policy = policy or DisclosurePolicy.from_settings()
    for year in coc.coc_years(store):
        coc.coc_year_view(store, year, None, policy)
    outcomes.protected_worker_cells(store, policy, outcomes.worker_dates(store))
    for name in GATED_TABLES:
        protected_rows(store, Viewer.public(), name, policy)
    prepared.remove_stale(store.folder.parent.parent)
