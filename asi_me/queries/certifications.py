"""Certification queries: the public register, map points and cells, country aggregates,
per-certification detail, growth replay and smelter emissions, behind the member firewall.

The register of certified facilities is public (ASI publishes it). Workers, audit findings
and emissions per facility are not: only the secretariat and the owning member see them.
Certification status on a date is defined once, in queries/cert_status_macro.sql.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import defaultdict
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from asi_me.data.store import Store, sql_text
from asi_me.data.vocab import CertificationStatus, Role, countries, label
from asi_me.filters import Filters, Viewer
from asi_me.publish.policy import Cell, DisclosurePolicy, Relation, company_volumes, mark, policy_applies, protect_cells

# Best first: a facility with several certifications shows the best status on the map.
STATUS_RANK: dict[str, int] = {s.value: i for i, s in enumerate(CertificationStatus)}
VALID_STATUSES = (CertificationStatus.CERTIFIED.value, CertificationStatus.PROVISIONAL.value)
GHG_THRESHOLD_T_PER_T = 8.0  # PS criterion 5: scope 1+2 t CO2e per t aluminium for smelters
# Grid cell sizes (degrees) tried in order until the map has few enough markers.
_CELL_SIZES = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 45.0, 90.0, 180.0, 360.0)

_macro_lock = threading.Lock()
_stores_with_macros: weakref.WeakSet[Store] = weakref.WeakSet()
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


def ensure_macros(store: Store) -> None:
    """Define the shared SQL macros (certification status on a date) once per store."""
    if store in _stores_with_macros:
        return
    with _macro_lock:
        if store not in _stores_with_macros:
            store.query(sql_text("cert_status_macro"))
            _stores_with_macros.add(store)


def run_query(store: Store, name: str, params: dict[str, Any]) -> pd.DataFrame:
    """Run queries/<name>.sql binding only the parameters it names (DuckDB rejects extras)."""
    ensure_macros(store)
    wanted = set(_PARAM.findall(sql_text(name)))
    missing = wanted - params.keys()
    if missing:
        raise KeyError(f"Query {name!r} needs parameters {sorted(missing)} that were not given.")
    return store.run(name, {k: v for k, v in params.items() if k in wanted})


def run_arrow_query(store: Store, name: str, params: dict[str, Any]) -> pd.DataFrame:
    """`run_query` for many rows: fetched as Arrow and converted once (strings without a copy
    per value), with the same dtypes as DuckDB's own conversion (dates as datetime64[us])."""
    ensure_macros(store)
    wanted = set(_PARAM.findall(sql_text(name)))
    missing = wanted - params.keys()
    if missing:
        raise KeyError(f"Query {name!r} needs parameters {sorted(missing)} that were not given.")
    table = store.query_arrow(sql_text(name), {k: v for k, v in params.items() if k in wanted})
    for i, column in enumerate(table.schema):
        if pa.types.is_date32(column.type):
            table = table.set_column(i, column.name, table.column(i).cast(pa.timestamp("us")))
    # List columns (activities, external certifications) stay Arrow-backed: making a Python
    # list per row cost 40 of the whole register's 130 ms at 100x. Each value still reads as a
    # list of strings; tables and CSVs join them (asi_me/ui/tables.py, asi_me/publish/exports.py).
    return table.to_pandas(types_mapper=_arrow_lists)


def _arrow_lists(kind: pa.DataType) -> pd.ArrowDtype | None:
    return pd.ArrowDtype(kind) if pa.types.is_list(kind) or pa.types.is_large_list(kind) else None


def filter_params(store: Store, filters: Filters | None) -> dict[str, Any]:
    """The shared filter parameters plus the resolved as-of date and period bounds."""
    filters = filters or Filters()
    return {
        **filters.sql_params(),
        "as_of": store.as_of(filters.as_of),
        "period_from": filters.period_from,
        "period_to": filters.period_to,
    }


def owns(viewer: Viewer, member_id: object) -> bool:
    """Whether the viewer may see this member's non-public detail."""
    return viewer.sees_everything or (viewer.role is Role.MEMBER and viewer.member_id == member_id)


class CertificationDetail(BaseModel):
    """What the map's detail panel shows for one certification."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    certification: dict[str, Any]
    audits: pd.DataFrame
    findings_summary: pd.DataFrame | None = None
    findings: pd.DataFrame | None = None
    workers: int | None = None
    is_owner_view: bool = False


class FacilitiesWithoutCoordinates(BaseModel):
    """Facilities shown in the register that cannot be placed on the map."""

    model_config = ConfigDict(frozen=True)

    count: int
    names: list[str] | None = None  # None when the role may only see the count


class SmelterEmissions(BaseModel):
    """Smelter GHG intensity: per-smelter rows the viewer may see, and published aggregates."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    threshold_t_per_t: float = GHG_THRESHOLD_T_PER_T
    smelters: pd.DataFrame
    by_region: pd.DataFrame
    filters_not_applied: list[str] = []  # URL names of active filters the aggregates ignore

    @property
    def note(self) -> str | None:
        """A sentence saying which filters the published aggregates ignore, and why."""
        if not self.filters_not_applied:
            return None
        return (
            f"The {', '.join(self.filters_not_applied)} filter(s) do not apply to these aggregates: they are "
            "published for the world and each region only, so that no company's smelters can be worked out "
            "by subtracting one selection from another."
        )


def certification_register(store: Store, viewer: Viewer, filters: Filters | None = None) -> pd.DataFrame:
    """The register of certifications as of the filter date, one row per certification.

    Every filter applies: country/region and activity of the facility, standard, version,
    membership class of the member and status on the as-of date. The register is public
    for every role; it carries no workers, findings or volumes, and facility_id/member_id
    only on the viewer's own rows (all rows for the secretariat). The whole register is for
    downloads and the member and secretariat views; a page that shows its first rows uses
    `certification_register_page`.
    """
    return hide_internal_ids(_register(store, filters), viewer)


def _register(store: Store, filters: Filters | None) -> pd.DataFrame:
    frame = run_arrow_query(store, "cert_register", filter_params(store, filters))
    return _with_status_label(frame)


def _with_status_label(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns="register_order")  # the sort key, not part of the register
    # label() once per distinct status, not once per row (71,000 rows at 100x)
    labels = {status: label(status) for status in frame["status"].dropna().unique()}
    frame["status_label"] = frame["status"].map(labels)
    return frame


class RegisterPage(BaseModel):
    """The first rows of the register and how many rows and countries the whole of it holds."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    rows: pd.DataFrame  # the first `limit` rows of certification_register, same columns and order
    total: int  # rows of the whole filtered register
    countries: int  # distinct countries in the whole filtered register


def certification_register_page(
    store: Store, viewer: Viewer, filters: Filters | None = None, limit: int = 500
) -> RegisterPage:
    """The first `limit` rows of `certification_register` (same order, columns and hidden ids)
    with the register's row and country counts, for a page that shows only the first rows:
    the rest never leaves DuckDB."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}.")
    params = filter_params(store, filters)
    rows = _with_status_label(run_arrow_query(store, "cert_register_head", {**params, "row_limit": limit}))
    counts = run_query(store, "cert_register_counts", params)
    return RegisterPage(
        rows=hide_internal_ids(rows, viewer),
        total=int(counts["certifications"].iloc[0]),
        countries=int(counts["countries"].iloc[0]),
    )


# The register columns a viewer can sort by on the server (queries/cert_register_sorted_page.sql).
REGISTER_SORT_COLUMNS: tuple[str, ...] = (
    "certification_id", "facility_name", "member_name", "country", "country_name", "region", "standard",
    "standard_version", "certification_type", "status", "scope", "auditing_firm_name", "issued_on", "expires_on",
    "status_changed_on",
)


# Status sorts as its text does (what a reader sorting the whole register gets); the SQL sorts
# on each status's place in this list instead of comparing text.
_STATUSES_IN_TEXT_ORDER: list[str] = sorted(s.value for s in CertificationStatus)


def certification_register_sorted_page(
    store: Store,
    viewer: Viewer,
    filters: Filters | None = None,
    *,
    sort_by: str = "issued_on",
    descending: bool = False,
    page: int = 1,
    page_rows: int = 500,
) -> RegisterPage:
    """Page `page` (from 1) of `page_rows` rows of `certification_register` sorted on the
    server over every row by `sort_by` (REGISTER_SORT_COLUMNS; empty values last, ties in
    register order), with the register's row and country counts. Only the page leaves DuckDB."""
    if sort_by not in REGISTER_SORT_COLUMNS:
        raise ValueError(f"Cannot sort the register by {sort_by!r}; choose one of {', '.join(REGISTER_SORT_COLUMNS)}.")
    if page < 1 or page_rows < 1:
        raise ValueError(f"page and page_rows must be at least 1, got {page} and {page_rows}.")
    params = filter_params(store, filters)
    rows = run_arrow_query(store, "cert_register_sorted_page", {
        **params, "sort_by": sort_by, "descending": descending, "row_limit": page_rows,
        "row_offset": (page - 1) * page_rows, "status_order": _STATUSES_IN_TEXT_ORDER})
    counts = run_query(store, "cert_register_counts", params)
    return RegisterPage(
        rows=hide_internal_ids(_with_status_label(rows.drop(columns="rank_key")), viewer),
        total=int(counts["certifications"].iloc[0]),
        countries=int(counts["countries"].iloc[0]),
    )


def hide_internal_ids(frame: pd.DataFrame, viewer: Viewer) -> pd.DataFrame:
    """Blank member_id and facility_id on rows the viewer does not own.

    The register is public by name (facility, company, certificate number), but the
    internal CRM and elementAl identifiers are not: they are what links a row to the
    confidential tables, so only the owner and the secretariat receive them.
    """
    if viewer.sees_everything or frame.empty:
        return frame
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    foreign = out["member_id"] != (viewer.member_id or "")
    is_all_foreign = bool(foreign.all())
    for column in ("member_id", "facility_id"):
        if column not in out.columns:
            continue
        if is_all_foreign:  # the public: no row is theirs, so skip boxing every id as an object
            out[column] = pd.Series([None] * len(out), index=out.index, dtype=object)
        else:
            out[column] = out[column].astype(object).where(~foreign, None)
    return out


def facility_points(
    store: Store, viewer: Viewer, filters: Filters | None = None, max_points: int = 3000
) -> pd.DataFrame:
    """Map markers for certified facilities as of the filter date (the time slider moves as_of).

    One row per facility with coordinates: latitude, longitude, status (best of its
    certifications), standard_key (PS, CoC or both), its certification_ids (";"-joined, to
    link to the register) and n_facilities = 1; facility_id and member_id only for the
    owner and the secretariat (see `hide_internal_ids`). When there are
    more than `max_points` facilities, markers become grid cells instead: the smallest
    cell size (degrees) giving at most `max_points` cells, each at the mean position of
    its facilities, with n_facilities, the dominant status and standard, and is_cell true.
    The grid is computed in SQL (queries/cert_facility_points.sql), so at most `max_points`
    rows (or the four 360-degree cells) leave DuckDB.
    """
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}.")
    params = {**filter_params(store, filters), "max_points": max_points, "cell_sizes": list(_CELL_SIZES)}
    markers = run_query(store, "cert_facility_points", params)
    if markers["is_cell"].any():
        return markers[_CELL_COLUMNS].reset_index(drop=True)
    return hide_internal_ids(markers[_POINT_COLUMNS].reset_index(drop=True), viewer)


_POINT_COLUMNS = [
    "facility_id", "member_id", "facility_name", "member_name", "country", "country_name", "region",
    "latitude", "longitude", "status", "standard_key", "certificates", "certification_ids",
    "n_facilities", "is_cell", "cell_deg",
]
_CELL_COLUMNS = ["latitude", "longitude", "n_facilities", "status", "standard_key", "is_cell", "cell_deg"]


def country_aggregates(store: Store, viewer: Viewer, filters: Filters | None = None) -> pd.DataFrame:
    """Per country, for the choropleth: facilities with a valid certification, valid
    certificates by standard, all certifications shown, region and the centroid (mean of
    facility coordinates) as of the filter date."""
    del viewer  # counts of the public register: the same for every role
    return run_query(store, "cert_country_aggregates", filter_params(store, filters))


def country_records(store: Store, viewer: Viewer, country: str, filters: Filters | None = None) -> pd.DataFrame:
    """The certifications behind one country's figures in `country_aggregates` (same date and
    filters): every certification valid on the as-of date in `country`, register columns, in
    register order. Their distinct facilities are the country's certified_facilities, and per
    standard they are its ps_certificates and coc_certificates.

    Record-level, so only for the secretariat (every row) and a member (its own rows only);
    the public gets no rows: its record-level view is the public register itself.
    """
    if country not in countries():
        raise ValueError(f"{country[:40]!r} is not a country code; pick a country on the map or in its table.")
    params = {**filter_params(store, filters), "country": country}
    if viewer.role is Role.PUBLIC:
        return _with_status_label(run_arrow_query(store, "cert_country_records", params).head(0))
    rows = _with_status_label(run_arrow_query(store, "cert_country_records", params))
    if not viewer.sees_everything:
        rows = rows.loc[rows["member_id"].eq(viewer.member_id).fillna(False).astype(bool)].reset_index(drop=True)
    return rows


def certification_detail(
    store: Store, viewer: Viewer, certification_id: str, filters: Filters | None = None
) -> CertificationDetail | None:
    """Scope, dates, status on the as-of date, auditor, external certifications and audit
    history of one certification (None if unknown). Findings (summary by rating and detail)
    and workers only for the secretariat and the member that owns the facility."""
    as_of = store.as_of((filters or Filters()).as_of)
    row = run_query(store, "cert_detail", {"certification_id": certification_id, "as_of": as_of})
    if row.empty:
        return None
    record = row.iloc[0].to_dict()
    is_owner = owns(viewer, record["member_id"])
    workers = record.pop("workers")
    audits = run_query(store, "cert_audit_history", {"certification_id": certification_id})
    summary = findings = None
    if is_owner:
        findings = run_query(store, "cert_findings", {"certification_id": certification_id})
        summary = (
            findings.groupby(["audit_id", "rating"]).size().unstack(fill_value=0).reset_index()
            if not findings.empty
            else pd.DataFrame({"audit_id": pd.Series(dtype="str")})
        )
    for column in ("external_certifications", "activities"):
        value = record[column]
        record[column] = [] if value is None else [str(v) for v in value]
    if not is_owner:
        record["member_id"] = record["facility_id"] = None
    return CertificationDetail(
        certification=record,
        audits=audits,
        findings_summary=summary,
        findings=findings,
        workers=int(workers) if is_owner and workers is not None else None,
        is_owner_view=is_owner,
    )


def facilities_without_coordinates(
    store: Store, viewer: Viewer, filters: Filters | None = None
) -> FacilitiesWithoutCoordinates:
    """Facilities in the filtered register that have no coordinates. The secretariat sees
    their names, a member the names of its own, the public only the count."""
    missing = run_query(store, "cert_without_coordinates", filter_params(store, filters))
    names: list[str] | None = None
    if viewer.role is not Role.PUBLIC:
        mine = missing if viewer.sees_everything else missing[missing["member_id"] == viewer.member_id]
        names = sorted(mine["facility_name"].tolist())
    return FacilitiesWithoutCoordinates(count=len(missing), names=names)


def growth_replay(store: Store, viewer: Viewer, filters: Filters | None = None) -> pd.DataFrame:
    """Monthly counts for the map's time slider: certifications shown, valid certificates
    and facilities with a valid certification at each month end (the last month ends at the
    as-of date). The slider then sets filters.as_of and calls facility_points."""
    del viewer
    params = filter_params(store, filters)
    dates = month_ends(params["period_from"] or date(2018, 1, 1), params["as_of"])
    frame = run_query(store, "cert_growth_replay", {**params, "dates": dates})
    return frame.rename(columns={"on_date": "month_on"})


def smelter_emissions(store: Store, viewer: Viewer, filters: Filters | None = None) -> SmelterEmissions:
    """Scope 1+2 GHG intensity of smelters against the PS threshold of 8 t CO2e/t Al, for the
    latest year on or before the as-of date.

    `smelters` holds per-smelter rows (all filters apply) only for the secretariat (all) or
    a member (its own). `by_region` holds per-region counts above and at-or-below the
    threshold and the median, plus an "All regions" row. For the secretariat every filter
    applies and hidden cells are only flagged. For everyone else the aggregates are
    computed over ALL smelters on a fixed hierarchy, the world and each region, protected
    as one view (asi_me.publish.policy.protect_cells, each company's smelter count as its
    contribution): country and class filters do not apply, or subtracting two selections
    (all regions minus all countries but one) would give one company's smelters. A region
    filter only picks rows of that view. `filters_not_applied` names the filters ignored.
    A hidden region is marked, never shown as 0, and its median is hidden with it.
    """
    filters = filters or Filters()
    params = filter_params(store, filters)
    everything = _smelter_rows(store, {**params, **Filters().sql_params()})
    # the public sees no smelter rows, so only the secretariat and members need the filtered ones
    if viewer.role is Role.PUBLIC:
        rows = everything.iloc[0:0]
    elif any(p in filters.active for p in ("region", "country", "class")):
        rows = _smelter_rows(store, params)
    else:
        rows = everything
    visible = rows if viewer.sees_everything else rows[rows["member_id"] == (viewer.member_id or "\0")]
    ignored = [p for p in ("activity", "standard", "version", "status") if p in filters.active]
    if viewer.sees_everything:
        by_region = _emissions_table(rows, None)
        contributions = [company_volumes(part.assign(n=1.0), "n") for part in _region_parts(rows)]
        by_region = apply_disclosure_policy(
            by_region, contributions, list(_EMISSION_FIGURES), viewer,
            total_row=len(by_region) - 1 if len(by_region) else None,
        )
    else:
        ignored = [p for p in ("country", "class") if p in filters.active] + ignored
        notes = protect_geography(everything, None, DisclosurePolicy.from_settings(), with_countries=False)
        by_region = _emissions_table(everything, notes)
        if filters.regions:
            by_region = by_region[by_region["region"].isin(filters.regions)].reset_index(drop=True)
    by_region["filters_not_applied"] = ", ".join(ignored) or None
    return SmelterEmissions(smelters=visible.reset_index(drop=True), by_region=by_region,
                            filters_not_applied=ignored)


_EMISSION_FIGURES = ("smelters", "above_threshold", "at_or_below_threshold", "median_t_per_t")


def _smelter_rows(store: Store, params: dict[str, Any]) -> pd.DataFrame:
    rows = run_query(store, "cert_smelter_emissions", params)
    rows["is_above_threshold"] = rows["ghg_intensity_t_per_t"] > GHG_THRESHOLD_T_PER_T
    return rows


def _region_parts(rows: pd.DataFrame) -> list[pd.DataFrame]:
    """The smelters of each region (sorted), then all of them; none when there are none."""
    if rows.empty:
        return []
    region = rows["region"].fillna("Unknown region").astype(str)
    return [rows[region == r] for r in sorted(region.unique())] + [rows]


def _emissions_table(rows: pd.DataFrame, notes: dict[GeoKey, tuple[float, str | None]] | None) -> pd.DataFrame:
    """One row per region and an "All regions" row; with `notes` (from protect_geography),
    hidden rows are blanked (median included) and marked for the public."""
    region = rows["region"].fillna("Unknown region").astype(str)
    names = [*sorted(region.unique()), WORLD] if len(rows) else []
    table = pd.DataFrame(
        [
            {
                "region": name,
                "smelters": len(part),
                "above_threshold": int(part["is_above_threshold"].sum()),
                "at_or_below_threshold": int((~part["is_above_threshold"]).sum()),
                "median_t_per_t": float(part["ghg_intensity_t_per_t"].median()),
            }
            for name, part in zip(names, _region_parts(rows), strict=True)
        ],
        columns=["region", *_EMISSION_FIGURES],
    )
    if notes is None:
        return table
    keys: list[GeoKey] = [("world", WORLD) if n == WORLD else ("region", n) for n in names]
    return mark(table, list(_EMISSION_FIGURES), [notes[k][1] for k in keys], True)


def apply_disclosure_policy(
    frame: pd.DataFrame,
    contributions: list[dict[str, float]],
    value_columns: list[str],
    viewer: Viewer,
    total_row: int | None = None,
) -> pd.DataFrame:
    """Mark (and, for everyone but the secretariat, blank) rows the antitrust policy hides.

    `contributions[i]` is the per-company amount behind row i (asi_me.publish.policy counts
    companies with a positive amount and checks dominance). With `total_row`, that row is
    the sum of the others, and complementary suppression keeps hidden rows underivable.
    Adds is_suppressed, suppression_note, would_be_suppressed and publication_note.
    """
    policy = DisclosurePolicy.from_settings()
    keys = list(range(len(frame)))
    cells = {k: Cell(float(sum(c.values())), c) for k, c in zip(keys, contributions, strict=True)}
    relations = (
        [Relation(total_row, tuple(k for k in keys if k != total_row))] if total_row is not None and len(keys) > 1
        else []
    )
    protection = protect_cells(cells, relations, policy)
    return mark(frame.reset_index(drop=True), value_columns, [protection.note(k) for k in keys],
                policy_applies(viewer))


WORLD = "All regions"
GeoKey = tuple[str, str]  # ("world", "All regions"), ("region", "Europe") or ("country", "DE")


def protect_geography(
    rows: pd.DataFrame,
    value: str | None,
    policy: DisclosurePolicy,
    *,
    with_countries: bool,
    company: str = "member_id",
) -> dict[GeoKey, tuple[float, str | None]]:
    """Value and note (None where published) of every cell of a fixed geographic hierarchy.

    The cells are the world, each region and, with `with_countries`, each country; `rows`
    holds one line per company contribution with `region`, `country` and `value` (None
    counts lines, e.g. smelters). They form ONE view: a visitor can request any of them
    through the filters, so they are protected together with asi_me.publish.policy.protect_cells
    (world = sum of regions, region = sum of its countries). Contributions are per company.
    A cell is also hidden when its complement within its parent (world minus region,
    region minus country) fails the primary check: showing both would publish that
    complement by subtraction, and protect_cells only guards single hidden cells.
    """
    # plain dicts, not pandas: this runs once per date of a monthly series
    amounts = [1.0] * len(rows) if value is None else rows[value].astype("float64").tolist()
    regions_of = rows["region"].astype(object).where(rows["region"].notna(), "Unknown region").tolist()
    volumes: dict[GeoKey, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    country_region: dict[str, str] = {}
    world: GeoKey = ("world", WORLD)
    for who, region, country, amount in zip(
        rows[company].astype(str).tolist(), regions_of, rows["country"].astype(str).tolist(), amounts, strict=True
    ):
        for key in (world, ("region", str(region)), ("country", country)):
            volumes[key][who] += amount
        country_region[country] = str(region)

    def cell(key: GeoKey) -> Cell:
        return Cell(float(sum(volumes[key].values())), dict(volumes[key]))

    def complement_fails(key: GeoKey, parent: GeoKey) -> bool:
        rest = {who: v - volumes[key].get(who, 0.0) for who, v in volumes[parent].items()}
        return policy.primary_note({who: v for who, v in rest.items() if v > 1e-9}) is not None

    cells: dict[GeoKey, Cell] = {world: cell(world)}
    relations: list[Relation] = []
    forced: dict[GeoKey, str] = {}
    regions = sorted(set(country_region.values()))
    for region in regions:
        key = ("region", region)
        cells[key] = cell(key)
        if complement_fails(key, world):
            forced[key] = policy.note_complementary
        if not with_countries:
            continue
        members = sorted(c for c, r in country_region.items() if r == region)
        for country in members:
            cells[("country", country)] = cell(("country", country))
            if complement_fails(("country", country), key):
                forced[("country", country)] = policy.note_complementary
        relations.append(Relation(key, tuple(("country", c) for c in members)))
    relations.append(Relation(world, tuple(("region", r) for r in regions)))
    protection = protect_cells(cells, relations, policy, forced=forced)
    return {key: (c.value, protection.note(key)) for key, c in cells.items()}


def month_ends(start: date, end: date) -> list[date]:
    """Last day of each month from start's month to end's month; the last one is `end` itself."""
    if start > end:
        return [end]
    out = [d.date() for d in pd.date_range(start, end, freq="ME")]
    if not out or out[-1] != end:
        out = [d for d in out if d < end] + [end]
    return out


QUERY_FUNCTIONS = [
    certification_register,
    certification_register_page,
    certification_register_sorted_page,
    facility_points,
    country_aggregates,
    country_records,
    certification_detail,
    facilities_without_coordinates,
    growth_replay,
    smelter_emissions,
]
