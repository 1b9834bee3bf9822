"""Outcomes dashboard queries: the published tiles with their trends, members by class,
certificates over time (with standard-version breaks), NC closure by PS principle and
the monthly M&E Insights indicators."""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict

from asi_me.data.store import Store, sql_text
from asi_me.data.vocab import (
    PS_PRINCIPLES,
    STANDARD_OF_VERSION,
    VERSION_EFFECTIVE_ON,
    country_name,
    label,
)
from asi_me.filters import Filters, Viewer
from asi_me.publish import prepared
from asi_me.publish.policy import DisclosurePolicy
from asi_me.publish.protection import protect_system
from asi_me.publish.workers_system import CompanyWorkers as _CompanyWorkers
from asi_me.publish.workers_system import day_slice, workers_date_system
from asi_me.queries.certifications import (
    WORLD,
    GeoKey,
    apply_disclosure_policy,
    ensure_macros,
    filter_params,
    month_ends,
    run_query,
)

GroupBy = Literal["standard", "standard_version", "status", "activity", "country"]
GROUP_BY: tuple[str, ...] = ("standard", "standard_version", "status", "activity", "country")
# ASI issued its first certificates in 2018 (seed 003); series of certificates start there.
CERTIFICATION_START = date(2018, 1, 1)


class SeriesPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    on_date: date
    value: float


class Tile(BaseModel):
    """One published figure of the outcomes dashboard at the as-of date."""

    model_config = ConfigDict(frozen=True)

    code: str
    label: str
    value: float
    unit: str
    definition: str
    since: date
    source: str
    value_month_ago: float | None
    value_year_ago: float | None
    change_month: float | None
    change_year: float | None
    secondary_label: str | None = None
    secondary_value: float | None = None
    series: list[SeriesPoint]
    is_suppressed: bool = False
    suppression_note: str | None = None  # e.g. "suppressed (fewer than 5 reporters)"; the value is then NaN


class DashboardTiles(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    data_as_of: date | None
    tiles: list[Tile]

    def tile(self, code: str) -> Tile:
        return next(t for t in self.tiles if t.code == code)

    def to_frame(self) -> pd.DataFrame:
        """The tiles as a table, for the table view and the CSV download."""
        keys = ["code", "label", "value", "unit", "value_month_ago", "value_year_ago", "change_month",
                "change_year", "secondary_label", "secondary_value", "since", "definition", "source",
                "is_suppressed", "suppression_note"]
        return pd.DataFrame([{k: getattr(t, k) for k in keys} for t in self.tiles], columns=keys)


@dataclass(frozen=True)
class _TileSpec:
    code: str
    label: str
    unit: str
    since: date
    source: str
    definition: str
    query: str
    column: str
    secondary_label: str | None = None
    secondary_column: str | None = None


_CRM = "Membership applications (CRM)"
_ELEMENTAL = "elementAl assurance platform"
_EDUCATIONAL = "educationAl learning platform"
_GOVERNANCE = "Governance records"

TILES: tuple[_TileSpec, ...] = (
    _TileSpec("members", "Members", "members", date(2015, 6, 1), _CRM,
              "Organisations that were ASI members on the date: joined on or before it and not yet left.",
              "outcomes_member_spells", "members"),
    _TileSpec("ps_certificates", "PS certificates", "certificates", CERTIFICATION_START, _ELEMENTAL,
              "Certificates issued against the ASI Performance Standard since the first one in 2018, counted "
              "the way ASI publishes them: every certificate issued, including recertifications. The second "
              "figure counts those valid on the date (certified or provisional).",
              "outcomes_certificate_segments", "ps_issued", "currently valid", "ps_valid"),
    _TileSpec("coc_certificates", "CoC certificates", "certificates", CERTIFICATION_START, _ELEMENTAL,
              "Certificates issued against the ASI Chain of Custody Standard since 2018, including "
              "recertifications. The second figure counts those valid on the date.",
              "outcomes_certificate_segments", "coc_issued", "currently valid", "coc_valid"),
    _TileSpec("certified_countries", "Countries with a valid certification", "countries",
              CERTIFICATION_START, _ELEMENTAL,
              "Countries with at least one facility holding a valid (certified or provisional) ASI certificate "
              "on the date.", "outcomes_certificate_segments", "countries_valid"),
    _TileSpec("ps_external_share", "PS certifications leveraging external certifications", "%",
              CERTIFICATION_START, _ELEMENTAL,
              "Share of valid Performance Standard certifications whose audit recognised one or more external "
              "certifications (for example ISO 14001).", "outcomes_certificate_segments", "ps_external_share"),
    _TileSpec("auditing_firms", "Accredited auditing firms", "firms", date(2017, 1, 1), _ELEMENTAL,
              "Auditing firms holding ASI accreditation on the date; the second figure is the number of "
              "countries they operate in.", "outcomes_auditing_firm_spells", "auditing_firms",
              "countries they operate in", "auditor_countries"),
    _TileSpec("auditors_trained", "Auditors trained", "people", date(2017, 1, 1), _EDUCATIONAL,
              "Auditors who completed at least one ASI educationAl course since 2017 (each person once).",
              "outcomes_training_firsts", "auditors_trained"),
    _TileSpec("members_stakeholders_trained", "Members and stakeholders trained", "people", date(2017, 1, 1),
              _EDUCATIONAL,
              "Staff of members and other stakeholders who completed at least one ASI educationAl course since "
              "2017 (each person once).", "outcomes_training_firsts", "members_stakeholders_trained"),
    _TileSpec("ipaf_meetings", "IPAF meetings", "meetings", date(2015, 1, 1), _GOVERNANCE,
              "Meetings of the Indigenous Peoples Advisory Forum held since 2015.",
              "outcomes_meetings_on_dates", "ipaf_meetings"),
    _TileSpec("ps_workers", "People working in PS-certified facilities", "people", CERTIFICATION_START, _ELEMENTAL,
              "People working at facilities that held a valid Performance Standard certificate on the date.",
              "outcomes_certificate_segments", "ps_workers"),
    _TileSpec("board_meetings", "Board meetings", "meetings", date(2016, 1, 1), _GOVERNANCE,
              "Meetings of the ASI Board since its inception in 2016.", "outcomes_meetings_on_dates",
              "board_meetings"),
    _TileSpec("standards_committee_meetings", "Standards Committee meetings", "meetings", date(2016, 1, 1),
              _GOVERNANCE, "Meetings of the ASI Standards Committee since its inception in 2016.",
              "outcomes_meetings_on_dates", "standards_committee_meetings"),
)


def _shift_months(on: date, months: int) -> date:
    """The same day `months` earlier, clipped to the month's last day (31 Mar - 1 month = 29 Feb)."""
    return (pd.Timestamp(on) - pd.DateOffset(months=months)).date()


def _series_window(store: Store, filters: Filters | None, since: date) -> tuple[date, date, date]:
    params = filter_params(store, filters)
    as_of: date = params["as_of"]
    start = max(since, params["period_from"]) if params["period_from"] else since
    end = min(as_of, params["period_to"]) if params["period_to"] else as_of
    return as_of, start, end


def dashboard_tiles(store: Store, viewer: Viewer, filters: Filters | None = None) -> DashboardTiles:
    """Every published tile at the as-of date, a month and a year earlier, with the change
    and a monthly series (month ends from the tile's start, or the period start, to the as-of
    date or the period end). Country/region, activity, standard, version, status and
    membership-class filters apply to the certificate tiles; class and country/region to
    members; country/region to auditing firms and training; none to governance meetings.
    All tiles are published aggregates, so every role sees the same figures, except the
    workers tile: it adds up each company's workforce, so for everyone but the secretariat
    it passes the disclosure policy (see `protected_workers`)."""
    params = filter_params(store, filters)
    as_of: date = params["as_of"]
    anchors = {as_of, _shift_months(as_of, 1), _shift_months(as_of, 12)}
    dates = sorted(anchors | set(month_ends(date(2015, 1, 1), as_of)))
    columns = _tile_columns(store, params, dates)
    months = _month_sets(store, filters)
    tiles = [_tile(spec, columns[spec.query], as_of, months(spec.since)) for spec in TILES]
    if not viewer.sees_everything:
        tiles = [_protected_workers_tile(t, store, filters, dates) if t.code == "ps_workers" else t for t in tiles]
    return DashboardTiles(as_of=as_of, data_as_of=store.data_as_of, tiles=tiles)


def _tile_columns(store: Store, params: dict[str, Any], dates: list[date]) -> dict[str, dict[str, dict[date, object]]]:
    """Every tile query's columns on each date: query -> column -> date -> value (unprotected)."""
    columns: dict[str, dict[str, dict[date, object]]] = {}
    for query in dict.fromkeys(spec.query for spec in TILES):
        if query in _COUNTED_IN_PYTHON:
            columns[query] = _COUNTED_IN_PYTHON[query](store, params, dates)
            continue
        frame = run_query(store, query, {**params, "dates": dates})
        on_dates = frame.pop("on_date").dt.date.tolist()
        columns[query] = {name: dict(zip(on_dates, frame[name].tolist(), strict=True)) for name in frame.columns}
    return columns


def tile_figures_on(
    store: Store, figures: list[tuple[str, str]], dates: list[date]
) -> dict[tuple[str, str], dict[date, float | None]]:
    """The unfiltered value of tile figures on each date, as the dashboard computes them: each
    figure is (tile code, "value" or "secondary"). Only for figures every role sees alike (not
    the workers tile, which is protected for everyone but the secretariat)."""
    specs = {spec.code: spec for spec in TILES}
    params = filter_params(store, Filters())
    columns = _tile_columns(store, params, sorted(set(dates)))
    out: dict[tuple[str, str], dict[date, float | None]] = {}
    for code, part in figures:
        spec = specs[code]
        if code == "ps_workers":
            raise ValueError("The workers tile is protected per viewer; take it from dashboard_tiles.")
        column = spec.column if part == "value" else spec.secondary_column
        if column is None:
            raise ValueError(f"Tile {code!r} has no {part} figure.")
        values = columns[spec.query][column]
        out[(code, part)] = {on: _number(values.get(on)) if on >= spec.since else None for on in dates}
    return out


# The certificate figures that count certificates, and the segment flags a certificate's
# segment must have to count in each (queries/outcomes_certificate_segments.sql). A
# certificate has at most one segment covering a date, so each counts once.
CERTIFICATE_COUNTS: dict[str, tuple[str, ...]] = {
    "ps_issued": ("is_ps",),
    "coc_issued": ("is_coc",),
    "ps_valid": ("is_ps", "is_valid"),
    "coc_valid": ("is_coc", "is_valid"),
}


def certificates_counted(flags: dict[str, np.ndarray], figure: str) -> np.ndarray:
    """Which segments a certificate figure (a key of CERTIFICATE_COUNTS) counts, from their flags."""
    mask = np.ones(len(next(iter(flags.values()))), dtype=bool)
    for name in CERTIFICATE_COUNTS[figure]:
        mask &= flags[name]
    return mask


def tile_query_rows(store: Store, code: str, filters: Filters | None) -> pa.Table:
    """The rows a tile counts (its segments or spells) under the filter bar, as the tile reads them."""
    spec = next(s for s in TILES if s.code == code)
    return _arrow_query(store, spec.query, filter_params(store, filters))


def tile_figure_on(
    store: Store, code: str, part: Literal["value", "secondary"], filters: Filters | None, dates: list[date]
) -> dict[date, float | None]:
    """One tile figure (its value or secondary figure) under the filter bar on each date,
    computed exactly as the dashboard computes it. Not for the workers tile (protected per viewer)."""
    spec = next(s for s in TILES if s.code == code)
    if code == "ps_workers":
        raise ValueError("The workers tile is protected per viewer; take it from dashboard_tiles.")
    column = spec.column if part == "value" else spec.secondary_column
    if column is None:
        raise ValueError(f"Tile {code!r} has no {part} figure.")
    wanted = sorted(set(dates))
    params = filter_params(store, filters)
    if spec.query in _COUNTED_IN_PYTHON:
        values = _COUNTED_IN_PYTHON[spec.query](store, params, wanted)[column]
    else:
        frame = run_query(store, spec.query, {**params, "dates": wanted})
        values = dict(zip(frame["on_date"].dt.date.tolist(), frame[column].tolist(), strict=True))
    return {on: _number(values.get(on)) for on in dates}


def _certificate_counts(store: Store, params: dict[str, Any], dates: list[date]) -> dict[str, dict[date, object]]:
    """The certificate tiles on each date, by column: issued (cumulative) and valid PS and
    CoC certificates, valid PS leveraging external certifications and its share, countries
    with a valid certification, and people working in facilities with a valid PS one.

    Each figure counts the filtered status segments (queries/outcomes_certificate_segments.sql)
    that cover a date, start <= date < end; countries and facilities count once however many
    of their segments overlap, so their segments are first merged into disjoint intervals.
    """
    segments = _arrow_query(store, "outcomes_certificate_segments", params)
    # dates as day numbers: comparisons on int64 are cheaper than on datetime64
    requested = np.array(dates, dtype="datetime64[D]").astype("int64")
    grid = np.unique(requested)
    size = len(grid)
    starts = pc.cast(segments.column("segment_start"), pa.int32()).to_numpy()
    ends = pc.cast(pc.fill_null(segments.column("segment_end"), date.max), pa.int32()).to_numpy()
    # segment i covers the grid dates at positions first[i] .. last[i] - 1
    first = np.searchsorted(grid, starts, side="left")
    last = np.searchsorted(grid, ends, side="left")
    flag = {name: segments.column(name).to_numpy(zero_copy_only=False).astype(bool)
            for name in ("is_ps", "is_coc", "is_valid", "is_leveraging_external")}
    ps_valid = flag["is_ps"] & flag["is_valid"]

    def covering(mask: np.ndarray) -> np.ndarray:
        return _running(first, last, mask.astype("float64"), size)

    def merged(keys: np.ndarray, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return _covered_once(keys[mask], first[mask], last[mask], None if weights is None else weights[mask], size)

    figures = {
        **{name: covering(certificates_counted(flag, name)) for name in CERTIFICATE_COUNTS},
        "countries_valid": merged(segments.column("country_key").to_numpy(), flag["is_valid"]),
        "ps_valid_leveraging": covering(ps_valid & flag["is_leveraging_external"]),
        "ps_workers": merged(segments.column("facility_key").to_numpy(), ps_valid,
                             segments.column("workers").to_numpy().astype("float64")),
    }
    position = np.searchsorted(grid, requested)
    out: dict[str, dict[date, object]] = {
        name: dict(zip(dates, np.rint(values[position]).astype("int64").tolist(), strict=True))
        for name, values in figures.items()
    }
    out["ps_external_share"] = {
        on: 100 * out["ps_valid_leveraging"][on] / valid if (valid := out["ps_valid"][on]) > 0 else float("nan")
        for on in dates
    }
    return out


def _member_counts(store: Store, params: dict[str, Any], dates: list[date]) -> dict[str, dict[date, object]]:
    """Members on each date: the spells (joined on or before, not yet left) covering it,
    summed over the membership classes that have a positive count."""
    spells = _arrow_query(store, "outcomes_member_spells", params)
    grid, position = _grid(dates)
    first, last = _positions(grid, spells.column("joined_on"), spells.column("left_on"))
    classes, _ = _codes(spells.column("membership_class"))
    total = np.zeros(len(grid))
    for membership_class in np.unique(classes):
        # a class whose leavers outnumber its joiners on a date (inconsistent dates) counts 0 there
        total += np.maximum(_running(first, last, (classes == membership_class).astype("float64"), len(grid)), 0)
    return {"members": _by_date(dates, total[position])}


def _firm_counts(store: Store, params: dict[str, Any], dates: list[date]) -> dict[str, dict[date, object]]:
    """Accredited auditing firms on each date and the countries they operate in (distinct)."""
    spells = _arrow_query(store, "outcomes_auditing_firm_spells", params)
    grid, position = _grid(dates)
    first, last = _positions(grid, spells.column("accredited_on"), spells.column("accreditation_ended_on"))
    covers = (np.arange(len(grid)) >= first[:, None]) & (np.arange(len(grid)) < last[:, None])
    figures = {}
    for name, column in (("auditing_firms", "auditing_firm_id"), ("auditor_countries", "country")):
        values = spells.column(column)
        keys, _ = _codes(pc.fill_null(values, ""))
        known = values.is_valid().to_numpy(zero_copy_only=False)  # count(distinct) skips nulls
        distinct = np.zeros((int(keys.max(initial=-1)) + 1, len(grid)), dtype=bool)
        np.logical_or.at(distinct, keys[known], covers[known])
        figures[name] = _by_date(dates, distinct.sum(axis=0)[position])
    return figures


def _training_counts(store: Store, params: dict[str, Any], dates: list[date]) -> dict[str, dict[date, object]]:
    """People trained (first completion on or before each date), auditors and the others."""
    firsts = _arrow_query(store, "outcomes_training_firsts", params)
    grid, position = _grid(dates)
    first, last = _positions(grid, firsts.column("first_on"), None)
    groups, names = _codes(firsts.column("audience_group"))
    people = firsts.column("people").to_numpy().astype("float64")
    return {
        f"{group}_trained": _by_date(
            dates, _running(first, last, people * (groups == (names.index(group) if group in names else -1)),
                            len(grid))[position]
        )
        for group in ("auditors", "members_stakeholders")
    }


# Tile queries whose rows are intervals (or first dates): the counts on every date are
# running sums over them in numpy, cheaper than a window and an asof join per query.
_COUNTED_IN_PYTHON: dict[str, Callable[[Store, dict[str, Any], list[date]], dict[str, dict[date, object]]]] = {
    "outcomes_certificate_segments": _certificate_counts,
    "outcomes_member_spells": _member_counts,
    "outcomes_auditing_firm_spells": _firm_counts,
    "outcomes_training_firsts": _training_counts,
}


def _grid(dates: list[date]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct dates as sorted day numbers, and where each requested date is among them."""
    requested = np.array(dates, dtype="datetime64[D]").astype("int64")
    grid = np.unique(requested)
    return grid, np.searchsorted(grid, requested)


def _positions(
    grid: np.ndarray, starts: pa.ChunkedArray, ends: pa.ChunkedArray | None
) -> tuple[np.ndarray, np.ndarray]:
    """For intervals start <= date < end (end null: open), the first grid position each
    covers and the one after its last."""
    first = np.searchsorted(grid, pc.cast(starts, pa.int32()).to_numpy(), side="left")
    if ends is None:
        return first, np.full(len(first), len(grid))
    last = np.searchsorted(grid, pc.cast(pc.fill_null(ends, date.max), pa.int32()).to_numpy(), side="left")
    return first, last


def _by_date(dates: list[date], values: np.ndarray) -> dict[date, object]:
    return dict(zip(dates, np.rint(values).astype("int64").tolist(), strict=True))


def _arrow_query(store: Store, name: str, params: dict[str, Any]) -> pa.Table:
    """queries/<name>.sql as an Arrow table, binding only the parameters it names."""
    ensure_macros(store)
    sql = sql_text(name)
    wanted = set(re.findall(r"\$([a-z_][a-z0-9_]*)", sql))
    return store.query_arrow(sql, {k: v for k, v in params.items() if k in wanted})


def _running(first: np.ndarray, last: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    """Per grid position, the total weight (or count) of intervals first <= position < last."""
    change = np.bincount(first, weights, minlength=size + 1) - np.bincount(last, weights, minlength=size + 1)
    return np.cumsum(change[:size])


def _covered_once(
    keys: np.ndarray, first: np.ndarray, last: np.ndarray, weights: np.ndarray | None, size: int
) -> np.ndarray:
    """Like `_running`, but each key (a facility, a country) counts once, with the weight of
    its first interval, at the positions any of its intervals covers: its intervals are
    merged where they overlap or touch before counting."""
    rows, island_first, island_last = _islands(keys, first, last, size)
    if rows.size == 0:
        return np.zeros(size)
    return _running(island_first, island_last, None if weights is None else weights[rows], size)


@lru_cache(maxsize=256)
def _month_ends(start: date, end: date) -> frozenset[date]:
    return frozenset(month_ends(start, end))


def _month_sets(store: Store, filters: Filters | None) -> Callable[[date], frozenset[date]]:
    """The month ends a tile starting on `since` shows a series for, under these filters."""

    def months(since: date) -> frozenset[date]:
        _, start, end = _series_window(store, filters, since)
        return _month_ends(start, end)

    return months


def _missing(value: object) -> bool:
    # pd.isna for the scalars a column's tolist() gives (None, pd.NA, NaN), without its overhead
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _number(value: object) -> float | None:
    return None if _missing(value) else round(float(value), 1)


def _tile(spec: _TileSpec, columns: dict[str, dict[date, object]], as_of: date, months: frozenset[date]) -> Tile:
    """One tile from its query's columns (value by date)."""
    values = columns[spec.column]
    now = _number(values.get(as_of))
    month_ago = _number(values.get(_shift_months(as_of, 1))) if _shift_months(as_of, 1) >= spec.since else None
    year_ago = _number(values.get(_shift_months(as_of, 12))) if _shift_months(as_of, 12) >= spec.since else None
    series = [SeriesPoint(on_date=on, value=_number(v)) for on, v in values.items() if on in months and not _missing(v)]
    return Tile(
        code=spec.code,
        label=spec.label,
        value=now if now is not None else float("nan"),
        unit=spec.unit,
        definition=spec.definition,
        since=spec.since,
        source=spec.source,
        value_month_ago=month_ago,
        value_year_ago=year_ago,
        change_month=None if now is None or month_ago is None else round(now - month_ago, 1),
        change_year=None if now is None or year_ago is None else round(now - year_ago, 1),
        secondary_label=spec.secondary_label,
        secondary_value=_number(columns[spec.secondary_column].get(as_of)) if spec.secondary_column else None,
        series=series,
    )


def workers_cell(filters: Filters | None) -> tuple[GeoKey, list[str]]:
    """The geographic cell the protected workers tile shows for these filters, and the URL
    names of the active filters that do not apply to it.

    Only the world or one region: a country's workforce is in most countries one or two
    companies' (asi_me.publish.workers_system), and a list of regions or a combination
    with class, activity, standard, version or status would let a visitor subtract two
    selections down to one company.
    """
    filters = filters or Filters()
    ignored = [p for p in ("country", "activity", "standard", "version", "class", "status") if p in filters.active]
    if len(filters.regions) == 1:
        return ("region", filters.regions[0]), ignored
    if len(filters.regions) > 1:
        ignored.insert(0, "region")
    return ("world", WORLD), ignored


def protected_workers(
    store: Store, filters: Filters | None, dates: list[date], policy: DisclosurePolicy | None = None
) -> tuple[GeoKey, list[str], pd.DataFrame]:
    """People working in PS-certified facilities as the public may see them, on each date.

    Each company's workers in a cell are its contribution. The cells of the world, the
    regions and the countries form one view protected together (certifications.
    protect_geography): a cell is hidden when fewer than min_reporters companies or a
    dominant one are in it, when its complement within its parent fails that check, or
    when it could be worked out from the others. Returns the cell (`workers_cell`), the
    filters ignored and a frame indexed by on_date with ps_workers (NaN where hidden) and
    suppression_note.
    """
    key, ignored = workers_cell(filters)
    _, frame = protected_workers_for(store, key, dates, policy)
    return key, ignored, frame


# Protected workers cells per store (one snapshot), policy and date. The cells of a date
# depend on nothing else (no filter: the filters only pick a cell), and protecting every
# cell of the hierarchy on every month end costs seconds at 100x, so each date is protected
# once per snapshot and process.
_Cells = dict[GeoKey, tuple[float, str | None]]
_EPOCH = date(1970, 1, 1)  # day numbers count from here
_worker_cells: weakref.WeakKeyDictionary[Store, dict[tuple[DisclosurePolicy, date], _Cells]] = (
    weakref.WeakKeyDictionary()
)
_worker_cells_lock = threading.Lock()


def _protected_worker_cells(
    store: Store, policy: DisclosurePolicy, dates: list[date]
) -> dict[date, _Cells]:
    """Value and note of every world, region and country cell of the workers tile on each date."""
    with _worker_cells_lock:
        known = _worker_cells.setdefault(store, {})
        missing = [on for on in dates if (policy, on) not in known]
    if missing and (policy, None) not in known:
        # Every published date at once, prepared when the snapshot was published (or now, once).
        every = _prepared_worker_cells(store, policy)
        with _worker_cells_lock:
            known.update({(policy, on): cells for on, cells in every.items()})
            known[(policy, None)] = {}
            missing = [on for on in dates if (policy, on) not in known]
    if missing:
        found: dict[date, _Cells] = {on: {} for on in missing}
        found.update(_worker_cells_by_date(_company_workers_on_dates(store, missing), policy))
        with _worker_cells_lock:
            known.update({(policy, on): cells for on, cells in found.items()})
    return {on: known[(policy, on)] for on in dates}


def _prepared_worker_cells(store: Store, policy: DisclosurePolicy) -> dict[date, _Cells]:
    """The cells of every date the workers figures are published for (`worker_dates`), kept
    on disk per snapshot and policy (asi_me.publish.prepared)."""

    def build() -> dict[str, list[list[object]]]:
        dates = worker_dates(store)
        found: dict[date, _Cells] = {on: {} for on in dates}
        found.update(_worker_cells_by_date(_company_workers_on_dates(store, dates), policy))
        return {on.isoformat(): [[kind, name, value, note] for (kind, name), (value, note) in cells.items()]
                for on, cells in found.items()}

    body = prepared.document(store, "workers-cells", [policy], build)
    return {date.fromisoformat(on): {(kind, name): (float(value), note) for kind, name, value, note in rows}
            for on, rows in body.items()}


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Integer codes and the values they stand for."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    return encoded.indices.to_numpy(zero_copy_only=False), [str(v) for v in encoded.dictionary.to_pylist()]


def _company_workers_on_dates(store: Store, dates: list[date]) -> _CompanyWorkers:
    """The facilities covered by a valid PS certificate on each date, from their spells
    (queries/outcomes_ps_worker_spells.sql): a facility's overlapping or touching spells
    are merged first, so it is covered at most once per date."""
    spells = _arrow_query(store, "outcomes_ps_worker_spells", {})
    grid, _ = _grid(dates)
    first, last = _positions(grid, spells.column("segment_start"), spells.column("segment_end"))
    rows, island_first, island_last = _islands(spells.column("facility_key").to_numpy(), first, last, len(grid))
    counts = island_last - island_first
    row = np.repeat(rows, counts)
    step = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    position = np.repeat(island_first, counts) + step
    order = np.argsort(position, kind="stable")
    row = row[order]
    companies, _ = _codes(spells.column("member_id"))
    countries_at, country_names = _codes(spells.column("country"))
    regions_at, region_names = _codes(spells.column("region"))
    return _CompanyWorkers(grid[position[order]], companies[row], countries_at[row], country_names, regions_at[row],
                           region_names, spells.column("workers").to_numpy().astype("float64")[row])


def _islands(keys: np.ndarray, first: np.ndarray, last: np.ndarray, size: int) -> tuple[np.ndarray, ...]:
    """Each key's intervals first <= position < last merged where they overlap or touch:
    the row of each merged interval's first interval, its first position and the one after
    its last (empty intervals dropped)."""
    rows = np.flatnonzero(first < last)
    if rows.size == 0:
        return rows, rows, rows
    base = int(keys[rows].min())
    rows = rows[np.argsort((keys[rows].astype("int64") - base) * (size + 2) + first[rows], kind="stable")]
    keys, first, last = keys[rows], first[rows], last[rows]
    # running maximum of `last` within each key: keys sort ascending, so an offset per key
    # keeps every earlier key's values below the current one's
    offset = (keys.astype("int64") - base) * (size + 2)
    reach = np.maximum.accumulate(offset + last) - offset
    opens = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]) | (first[1:] > reach[:-1])])
    return rows[opens], first[opens], np.maximum.reduceat(last, opens)


def _worker_cells_by_date(table: _CompanyWorkers, policy: DisclosurePolicy) -> dict[date, _Cells]:
    """The world, region and country cells of every date, protected by what the public and
    each member could prove about them (asi_me.publish.workers_system). Dates whose
    facilities, companies and workers are those of an earlier date share its result."""
    out: dict[date, _Cells] = {}
    seen: dict[bytes, _Cells] = {}
    for day in np.unique(table.days).tolist():
        on = _EPOCH + timedelta(days=int(day))
        at = day_slice(table, on)  # the table is sorted by day: a slice, not a mask over every row
        order = np.lexsort((table.workers[at], table.countries_at[at], table.companies[at]))
        signature = b"".join(a[at][order].tobytes() for a in (table.companies, table.countries_at, table.workers))
        if signature not in seen:
            system = workers_date_system(table, on, policy)
            notes = protect_system(system, policy.protection_level, policy.note_complementary)
            seen[signature] = {key: (figure.value, notes.get(key)) for key, figure in system.figures.items()}
        out[on] = seen[signature]
    return out


def protected_worker_cells(store: Store, policy: DisclosurePolicy, dates: list[date]) -> dict[date, _Cells]:
    """Value and note of every world, region and country cell of the workers figures on each date."""
    return _protected_worker_cells(store, policy, dates)


def worker_dates(store: Store) -> list[date]:
    """The dates the workers figures are published for: every month end from the first
    PS certification to the data's as-of date, and that date."""
    as_of = store.as_of(None)
    return sorted({*month_ends(CERTIFICATION_START, as_of), as_of})


def company_workers(store: Store, dates: list[date]) -> _CompanyWorkers:
    """Each covered facility's company, place and workers on each date (see _company_workers_on_dates)."""
    return _company_workers_on_dates(store, dates)


def protected_workers_for(
    store: Store, key: GeoKey, dates: list[date], policy: DisclosurePolicy | None = None
) -> tuple[GeoKey, pd.DataFrame]:
    """The protected workers of one world, region or country cell on each date."""
    policy = policy or DisclosurePolicy.from_settings()
    cells = _protected_worker_cells(store, policy, sorted(set(dates)))
    on_dates = sorted(set(dates))
    shown = [cells[on].get(key, (0.0, None)) for on in on_dates]
    frame = pd.DataFrame(
        {
            "ps_workers": np.array([float("nan") if note else value for value, note in shown], dtype="float64"),
            "suppression_note": pd.array([note for _, note in shown], dtype=object),
        },
        index=pd.Index(on_dates, dtype=object, name="on_date"),
    )
    return key, frame


def _primary_note(volumes: np.ndarray, policy: DisclosurePolicy, above: float = 0.0) -> str | None:
    """The policy's primary note for a cell with these company volumes (those above `above` count)."""
    positive = volumes[volumes > above]
    if positive.size == 0:
        return None
    return policy.primary_note_of(int(positive.size), float(positive.max()), float(positive.sum()))


def _place(key: GeoKey) -> str:
    kind, name = key
    return "the world" if kind == "world" else country_name(name) if kind == "country" else name


def _protected_workers_tile(tile: Tile, store: Store, filters: Filters | None, dates: list[date]) -> Tile:
    """The workers tile recomputed through the disclosure policy, with its note in the definition."""
    spec = next(s for s in TILES if s.code == "ps_workers")
    as_of = store.as_of((filters or Filters()).as_of)
    key, ignored, frame = protected_workers(store, filters, dates)
    values = dict(zip(frame.index, frame["ps_workers"].tolist(), strict=True))
    protected = _tile(spec, {"ps_workers": values}, as_of, _month_sets(store, filters)(spec.since))
    note = frame["suppression_note"].get(as_of)
    note = None if note is None or pd.isna(note) else str(note)
    policy = DisclosurePolicy.from_settings()
    words = [spec.definition,
             f"Shown for {_place(key)}: published for the world or one region only (never by country), and only where "
             f"at least {policy.min_reporters} companies are represented and none holds more than "
             f"{policy.max_dominance * 100:g}%, so that no company's workforce can be worked out by subtracting "
             "one selection from another."]
    if ignored:
        words.append(f"The {', '.join(ignored)} filter(s) do not apply to this figure.")
    if note:
        words.append(f"On {as_of:%Y-%m-%d} the figure for {_place(key)} is {note}.")
    return protected.model_copy(update={"definition": " ".join(words), "is_suppressed": bool(note),
                                        "suppression_note": note})


def members_by_class(store: Store, viewer: Viewer, filters: Filters | None = None) -> pd.DataFrame:
    """Members per membership class at each month end (the last one the as-of date), from
    mid-2015 or the period start; long format with a label column."""
    del viewer
    params = filter_params(store, filters)
    _, start, end = _series_window(store, filters, date(2015, 6, 1))
    frame = run_query(store, "outcomes_members_on_dates", {**params, "dates": month_ends(start, end)})
    frame = frame.rename(columns={"on_date": "month_on"})
    frame["membership_class_label"] = frame["membership_class"].map(label)
    return frame


def certificates_over_time(
    store: Store, viewer: Viewer, filters: Filters | None = None, by: GroupBy = "standard"
) -> pd.DataFrame:
    """Certificates at each month end from 2018 (or the period start), grouped by `by`:
    certificates_issued (cumulative) and certificates_valid. With by="activity" a certificate
    counts once per activity of its facility, so groups can sum to more than the total.

    is_version_break marks, in each series a standard version change applies to (every
    version of that standard, the standard, or every group for other groupings), the first
    month on or after the date the version took effect: values before and after it are not
    comparable. A series that starts after the change (e.g. PS V3 certificates, first issued
    in 2023) is marked at its first month. version_note says which version. Changes before
    the start of the chart are not marked.
    """
    del viewer
    if by not in GROUP_BY:
        raise ValueError(f"Cannot group certificates by {by!r}; choose one of {', '.join(GROUP_BY)}.")
    params = filter_params(store, filters)
    _, start, end = _series_window(store, filters, CERTIFICATION_START)
    frame = run_query(store, "outcomes_certificates_by_group", {**params, "dates": month_ends(start, end),
                                                                "group_by": by})
    frame = frame.rename(columns={"on_date": "month_on"})
    frame["group_label"] = frame["group_value"].map(country_name if by == "country" else label)
    frame["month_on"] = pd.to_datetime(frame["month_on"])
    frame = frame.merge(_break_notes(frame, version_breaks(store, Viewer.public(), filters), by, start),
                        on=["month_on", "group_value"], how="left")
    frame["is_version_break"] = frame["version_note"].notna()
    return frame


def _break_notes(frame: pd.DataFrame, breaks: pd.DataFrame, by: str, start: date) -> pd.DataFrame:
    """(month_on, group_value, version_note) of the first month of each series on or after
    each version change that falls inside the chart (effective after `start`)."""
    rows: list[dict[str, object]] = []
    for brk in breaks.itertuples(index=False):
        if brk.effective_on <= start:
            continue
        effective = pd.Timestamp(brk.effective_on)
        for group, months in frame.groupby("group_value", sort=True)["month_on"]:
            applies = (
                str(group).split("-")[0] == brk.standard if by == "standard_version"
                else group == brk.standard if by == "standard"
                else True
            )
            after = months[months >= effective]
            if applies and not after.empty:
                rows.append({"month_on": after.min(), "group_value": group, "version_note": brk.note})
    out = pd.DataFrame(rows, columns=["month_on", "group_value", "version_note"])
    out = out.astype({"month_on": frame["month_on"].dtype, "group_value": frame["group_value"].dtype})
    return out.groupby(["month_on", "group_value"], as_index=False)["version_note"].agg(" ".join)


def version_breaks(store: Store, viewer: Viewer, filters: Filters | None = None) -> pd.DataFrame:
    """The months in which a standard version took effect (vocab.VERSION_EFFECTIVE_ON), within
    the standard/version filters: series are not comparable across these months."""
    del store, viewer
    filters = filters or Filters()
    rows = []
    for version, effective in VERSION_EFFECTIVE_ON.items():
        standard = STANDARD_OF_VERSION[version].value
        if filters.standards and standard not in filters.standards:
            continue
        if filters.versions and version.value not in filters.versions:
            continue
        on = date.fromisoformat(effective)
        rows.append({
            "standard": standard,
            "standard_version": version.value,
            "effective_on": on,
            "month_on": pd.Timestamp(on).to_period("M").to_timestamp(how="end").normalize(),
            "note": f"{label(version.value)} took effect on {on:%Y-%m-%d}; earlier figures are not comparable.",
        })
    return pd.DataFrame(rows, columns=["standard", "standard_version", "effective_on", "month_on", "note"])


def nc_closure_by_principle(store: Store, viewer: Viewer, filters: Filters | None = None) -> pd.DataFrame:
    """Per PS principle 1-11: non-conformances found in PS audits (from the period start to
    the as-of date), how many were followed up at a next audit, and the share closed (or
    downgraded) there. Findings are confidential per company, so each principle passes the
    disclosure policy with each company's NC count as its contribution: for the public and
    members a principle with NCs from too few companies, or dominated by one, is hidden."""
    params = filter_params(store, filters)
    frame = run_query(store, "outcomes_nc_closure_by_principle", params)
    frame.insert(1, "principle_label", frame["principle"].map(PS_PRINCIPLES))
    frame["closed_share"] = frame["closed_share"].astype("Float64")
    contributions = [
        dict(zip(map(str, keys.tolist()), map(float, counts.tolist()), strict=True))
        for keys, counts in zip(frame.pop("company_keys"), frame.pop("company_nonconformances"), strict=True)
    ]
    return apply_disclosure_policy(
        frame,
        contributions,
        ["nonconformances", "major_nonconformances", "followed_up", "closed_at_next_audit", "closed_share"],
        viewer,
    )


def me_insights(store: Store, viewer: Viewer, filters: Filters | None = None) -> pd.DataFrame:
    """The monthly M&E Insights: for each level-1 indicator measured monthly, its latest
    headline value on or before the as-of date, the previous period's value and the change,
    and the Theory-of-Change node it reports on (`toc_node_id`, `toc_node_label`, `toc_node_type`)."""
    del viewer
    return run_query(store, "outcomes_me_insights", filter_params(store, filters))


QUERY_FUNCTIONS = [
    dashboard_tiles,
    members_by_class,
    certificates_over_time,
    version_breaks,
    nc_closure_by_principle,
    me_insights,
]
