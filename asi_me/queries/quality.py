"""Data-quality flags for the Data screen: detail for the secretariat, counts for the public.

One function per flag. The secretariat gets the flagged rows with the entity named;
a member gets only its own facilities' rows; the public gets counts. Counts that
touch CoC volumes (mass-balance failures, implausible yields) are counted only over
stage-years the public CoC view publishes, so a hidden stage cannot be inferred
from a quality count. The public's counts of reports received against expected and
of late reports are world totals whatever the country, region or class filter: with
one country selected they would say whether a named facility reported, or was late.
Masking counts below the minimum number of companies was the alternative, but a
masked filtered count next to a visible unfiltered one can still be subtracted, and
every further filter combination would need protecting; world totals cannot leak by
filtering at all. `quality_flags` sums every flag up in one table.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from typing import Any

import pandas as pd

from asi_me.data.store import Store, sql_text
from asi_me.data.vocab import Role, stage_label
from asi_me.filters import Filters, Viewer
from asi_me.publish.policy import DisclosurePolicy, policy_applies
from asi_me.publish.protection import NO_REPORTS
from asi_me.queries.coc import (
    STAGES,
    coc_stage_flows,
    coc_stage_summary,
    coc_year_view,
    coc_years,
    mass_balance_lines,
    public_filters,
    yield_factor_params,
)

# Robust z-score above which an observation is an outlier (Iglewicz and Hoaglin).
OUTLIER_Z = 3.5
# The indicator_outliers derived table keeps observations beyond this z-score (its SQL says
# 3.5 too): thresholds from here up read it, a lower one scores every observation.
SCORED_BEYOND_Z = 3.5
# A line whose output per tonne of input exceeds this multiple of the stage's yield
# factor is implausible even with a carried-forward stock.
MAX_YIELD_MULTIPLE = 1.5
# Tonnes below which a flow counts as zero (rounding of summed report lines).
FLOW_TOLERANCE_T = 0.05


def _params(viewer: Viewer, filters: Filters | None) -> dict[str, Any]:
    params = (filters or Filters()).sql_params()
    return {
        "countries": params["countries"],
        "regions": params["regions"],
        "membership_classes": params["membership_classes"],
        # Only a member is ever restricted to its own facilities here.
        "member_id": viewer.member_id if viewer.role is Role.MEMBER else None,
    }


WORLD_COUNTS_NOTE = (
    "Counts of CoC reports received and of late reports are shown for all countries, regions and membership "
    "classes together: by filter they could name whether one company reported (ASI Antitrust Compliance Policy)."
)


def world_counts_note(viewer: Viewer, filters: Filters | None, *, for_publication: bool = False) -> str | None:
    """The note a screen shows when the public's report counts ignore the active place or class filters."""
    filters = filters or Filters()
    filtered = bool(filters.countries or filters.regions or filters.membership_classes)
    return WORLD_COUNTS_NOTE if filtered and not _detail(viewer, for_publication) else None


def _count_filters(viewer: Viewer, filters: Filters | None, for_publication: bool) -> Filters | None:
    """The filters report counts use: none for the public (world totals only, see the module docstring)."""
    return filters if _detail(viewer, for_publication) else None


def _detail(viewer: Viewer, for_publication: bool) -> bool:
    """Whether this viewer gets rows (own rows for a member) rather than counts."""
    return viewer.role is not Role.PUBLIC and not for_publication


# Published stage-years per snapshot, filters and policy: they depend on nothing else, and
# every public CoC count asks for them (two per quality_flags call).
_PUBLISHED: OrderedDict[tuple[str, Filters | None, DisclosurePolicy], frozenset[tuple[int, str]]] = OrderedDict()
_PUBLISHED_SIZE = 64
_PUBLISHED_LOCK = threading.Lock()


def _published_stage_years(
    store: Store, filters: Filters | None, policy: DisclosurePolicy
) -> frozenset[tuple[int, str]]:
    """(reporting year, stage) pairs whose output the public CoC view publishes under these filters."""
    key = (store.snapshot_id, filters, policy)
    with _PUBLISHED_LOCK:
        if key in _PUBLISHED:
            _PUBLISHED.move_to_end(key)
            return _PUBLISHED[key]
    published: set[tuple[int, str]] = set()
    for year in coc_years(store):
        view = coc_year_view(store, year, filters, policy)
        published.update((year, s.value) for s in STAGES if not view.protection.is_hidden(("out", s.value)))
    with _PUBLISHED_LOCK:
        _PUBLISHED[key] = frozenset(published)
        while len(_PUBLISHED) > _PUBLISHED_SIZE:
            _PUBLISHED.popitem(last=False)
    return frozenset(published)


def _public_stage_counts(
    store: Store, counts: dict[tuple[int, str], int], filters: Filters | None, policy: DisclosurePolicy
) -> pd.DataFrame:
    """Flagged lines per reporting year and stage (`counts`), over published stage-years only;
    a published stage-year without flagged lines counts 0."""
    rows = [
        {"reporting_year": year, "stage": stage, "stage_label": stage_label(stage),
         "lines": counts.get((year, stage), 0)}
        for year, stage in sorted(_published_stage_years(store, filters, policy))
    ]
    frame = pd.DataFrame(rows, columns=["reporting_year", "stage", "stage_label", "lines"])
    frame["lines"] = frame["lines"].astype("int64")
    return frame


def _lines_per_stage_year(
    years: pd.Series, stages: pd.Series, lines: pd.Series | None = None
) -> dict[tuple[int, str], int]:
    """Flagged lines per (reporting year, stage): one per row, or the given `lines` per row."""
    keys = [(int(y), str(s)) for y, s in zip(years, stages, strict=True)]
    if lines is None:
        return dict(Counter(keys))
    return {key: int(n) for key, n in zip(keys, lines, strict=True)}


def _year_counts(store: Store, viewer: Viewer, filters: Filters | None, for_publication: bool) -> pd.DataFrame:
    """Per reporting year: reports expected, received, missing, received unexpected, and late.

    Counted over this viewer's rows: a member's own facilities, world totals for the public.
    """
    counted_as = viewer if _detail(viewer, for_publication) else Viewer.public()
    return store.run("quality_coc_year_counts", _params(counted_as, _count_filters(viewer, filters, for_publication)))


def quality_coc_reports_received(
    store: Store, viewer: Viewer, filters: Filters | None = None, *, for_publication: bool = False
) -> pd.DataFrame:
    """CoC reports expected vs received per reporting year (counts of facilities, every role).

    A member sees the counts for its own facilities only; the public (and a publication
    export) gets world totals, whatever the country, region or class filter.
    """
    rows = _year_counts(store, viewer, filters, for_publication)
    columns = ["reporting_year", "expected", "received", "missing", "received_unexpected"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    return rows[columns].astype("int64")


def quality_coc_reports_missing(
    store: Store, viewer: Viewer, filters: Filters | None = None, *, for_publication: bool = False
) -> pd.DataFrame:
    """Facility-years with a valid CoC certification but no report: all (secretariat), own (member), none (public)."""
    columns = ["reporting_year", "facility_id", "facility_name", "member_id", "member_name", "country"]
    if not _detail(viewer, for_publication):
        return pd.DataFrame(columns=columns)
    rows = store.run("quality_coc_expected", _params(viewer, filters))
    return rows[rows["is_expected"] & ~rows["is_received"]][columns].reset_index(drop=True)


def quality_late_reports(
    store: Store, viewer: Viewer, filters: Filters | None = None, *, for_publication: bool = False
) -> pd.DataFrame:
    """Reports submitted after their due date: rows with days late (secretariat, member's own), counts per year.

    The public's counts are world totals, whatever the country, region or class filter.
    """
    if _detail(viewer, for_publication):
        rows = store.run("quality_late_reports", _params(viewer, filters))
        return rows[rows["is_late"]].drop(columns=["is_late"]).reset_index(drop=True)
    rows = _year_counts(store, viewer, filters, for_publication)
    rows = rows[rows["reports"] > 0]
    if rows.empty:
        return pd.DataFrame(columns=["reporting_year", "reports", "late"]).astype("int64")
    return rows[["reporting_year", "reports", "late"]].reset_index(drop=True).astype("int64")


def quality_mass_balance_failures(
    store: Store,
    viewer: Viewer,
    filters: Filters | None = None,
    *,
    for_publication: bool = False,
    policy: DisclosurePolicy | None = None,
) -> pd.DataFrame:
    """Lines whose output exceeds input x yield factor + carried forward: rows, or public counts per stage-year."""
    member_id = viewer.member_id if viewer.role is Role.MEMBER else None
    if _detail(viewer, for_publication):
        lines = mass_balance_lines(store, None, filters, member_id=member_id)
        return lines[~lines["is_balanced"].astype(bool)].reset_index(drop=True)
    # Counted over the CoC view the public may see: one region or class at most.
    filters = public_filters(filters)[0]
    place = _params(Viewer.public(), filters)
    params = {k: place[k] for k in ("countries", "regions", "membership_classes")} | yield_factor_params()
    counts = store.run("quality_mass_balance_counts", params)
    per_stage_year = _lines_per_stage_year(counts["reporting_year"], counts["stage"], counts["lines"])
    return _public_stage_counts(store, per_stage_year, filters, policy or DisclosurePolicy.from_settings())


def quality_missing_coordinates(
    store: Store, viewer: Viewer, filters: Filters | None = None, *, for_publication: bool = False
) -> pd.DataFrame:
    """Facilities without coordinates: the list (secretariat, member's own) or one count."""
    params = _params(viewer if not for_publication else Viewer.public(), filters)
    if _detail(viewer, for_publication):
        return store.run("quality_missing_coordinates", params)
    count = int(store.run("quality_missing_coordinate_count", params)["facilities"].iloc[0])
    return pd.DataFrame({"facilities": [count]}, dtype="int64")


def quality_indicator_outliers(
    store: Store, viewer: Viewer, threshold: float = OUTLIER_Z, *, for_publication: bool = False
) -> pd.DataFrame:
    """Indicator observations more than `threshold` robust z-scores from their series.

    Indicator observations are published aggregates, so every role gets the rows.
    """
    try:
        threshold = float(threshold)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Outlier threshold {threshold!r} is not a number; give e.g. 3.5.") from exc
    if threshold < SCORED_BEYOND_Z:
        return store.run("quality_indicator_outliers_all", {"threshold": threshold})
    # Many rows at scale: Arrow hands the strings to pandas without a copy per value.
    frame = store.query_arrow(sql_text("quality_indicator_outliers"), {"threshold": threshold}).to_pandas(
        date_as_object=False
    )
    return frame.astype({"period_on": "datetime64[us]"})


def _indicator_outlier_count(store: Store, threshold: float = OUTLIER_Z) -> int:
    """How many observations `quality_indicator_outliers` lists, without fetching them."""
    if threshold < SCORED_BEYOND_Z:
        return len(store.run("quality_indicator_outliers_all", {"threshold": threshold}))
    return int(store.run("quality_indicator_outlier_count", {"threshold": threshold})["outliers"].iloc[0])


def quality_coc_yield_outliers(
    store: Store,
    viewer: Viewer,
    filters: Filters | None = None,
    *,
    for_publication: bool = False,
    policy: DisclosurePolicy | None = None,
) -> pd.DataFrame:
    """CoC lines with implausible yields: rows (secretariat, member's own) or public counts per stage-year."""
    if not _detail(viewer, for_publication):
        # Counted over the CoC view the public may see: one region or class at most.
        filters = public_filters(filters)[0]
    params = {
        **_params(viewer if _detail(viewer, for_publication) else Viewer.public(), filters),
        **yield_factor_params(),
        "threshold": OUTLIER_Z,
        "max_ratio": MAX_YIELD_MULTIPLE,
    }
    rows = store.run("quality_coc_yields", params)
    if _detail(viewer, for_publication):
        return rows
    per_stage_year = _lines_per_stage_year(rows["reporting_year"], rows["stage"])
    return _public_stage_counts(store, per_stage_year, filters, policy or DisclosurePolicy.from_settings())


FLOW_PROBLEM_COLUMNS = ["reporting_year", "check", "source", "target", "link", "value_t", "explanation"]
NEGATIVE_FLOW = "negative flow"
FLOW_FROM_NO_REPORTS = "flow from a stage with no reports"


def quality_coc_flow_problems(
    store: Store,
    viewer: Viewer,
    filters: Filters | None = None,
    *,
    for_publication: bool = False,
    year: int | None = None,
) -> pd.DataFrame:
    """The CoC flows a Sankey cannot honestly draw, as this viewer sees them (every year, or
    one): a negative flow, and a flow out of a stage that has no reports that year (its
    receivers report material from it that nobody reported putting out). Checked on the
    flows the viewer is served, so a public count says nothing a published flow does not."""
    rows = []
    for at in [year] if year is not None else coc_years(store):
        flows = coc_stage_flows(store, viewer, at, filters, for_publication=for_publication)
        summary = coc_stage_summary(store, viewer, at, filters, for_publication=for_publication)
        silent = set(summary.loc[summary["reporters_label"] == NO_REPORTS, "stage"])
        for flow in flows.itertuples(index=False):
            value = flow.value_t
            if pd.isna(value):
                continue
            link = f"{flow.source_label} → {flow.target_label}"
            if value < -FLOW_TOLERANCE_T:
                rows.append((at, NEGATIVE_FLOW, flow.source, flow.target, link, float(value),
                             f"{link} is {value:,.1f} t in {at}: a flow cannot be negative. {flow.source_label} "
                             "reported putting out less than the next stages report receiving from it; check "
                             f"the {flow.source_label.lower()} reports and the receiving stages' input lines."))
            if flow.source in silent and abs(value) > FLOW_TOLERANCE_T and flow.kind != "attrition":
                rows.append((at, FLOW_FROM_NO_REPORTS, flow.source, flow.target, link, float(value),
                             f"No {flow.source_label.lower()} reports for {at}, yet {flow.target_label.lower()} "
                             f"reports receiving {value:,.1f} t from it. The reports of {flow.source_label.lower()} "
                             "may be missing, or the receiving lines name the wrong source material."))
    return pd.DataFrame(rows, columns=FLOW_PROBLEM_COLUMNS).astype({"value_t": "float64"})


def quality_flags(
    store: Store,
    viewer: Viewer,
    filters: Filters | None = None,
    *,
    for_publication: bool = False,
    policy: DisclosurePolicy | None = None,
) -> pd.DataFrame:
    """One row per data-quality flag: what it is, how many, and whether this viewer can list them."""
    policy = policy or DisclosurePolicy.from_settings()
    detail = _detail(viewer, for_publication)
    received = quality_coc_reports_received(store, viewer, filters, for_publication=for_publication)
    late = quality_late_reports(store, viewer, filters, for_publication=for_publication)
    failures = quality_mass_balance_failures(store, viewer, filters, for_publication=for_publication, policy=policy)
    coordinates = quality_missing_coordinates(store, viewer, filters, for_publication=for_publication)
    outliers = _indicator_outlier_count(store)
    yields = quality_coc_yield_outliers(store, viewer, filters, for_publication=for_publication, policy=policy)
    flows = quality_coc_flow_problems(store, viewer, filters, for_publication=for_publication)
    counted_note = "" if detail else " (counted over published CoC stages only)"
    world_only = world_counts_note(viewer, filters, for_publication=for_publication)
    world_note = " (all countries, regions and classes)" if world_only else ""
    rows = [
        (
            "coc_reports_missing",
            "CoC reports expected but not received" + world_note,
            int(received["missing"].sum()) if len(received) else 0,
            detail,
        ),
        (
            "late_reports",
            "CoC reports submitted after the due date" + world_note,
            len(late) if detail else int(late["late"].sum()),
            detail,
        ),
        (
            "mass_balance_failures",
            "CoC report lines failing the mass balance" + counted_note,
            len(failures) if detail else int(failures["lines"].sum()),
            detail,
        ),
        (
            "missing_coordinates",
            "Facilities without coordinates (all facilities, certified or not)",
            len(coordinates) if detail else int(coordinates["facilities"].iloc[0]),
            detail,
        ),
        (
            "coc_flow_problems",
            "CoC flows that are negative or leave a stage with no reports" + counted_note,
            len(flows),
            detail,
        ),
        ("indicator_outliers", f"Indicator observations beyond {OUTLIER_Z:g} robust z-scores", outliers, True),
        (
            "coc_yield_outliers",
            "CoC report lines with an implausible yield" + counted_note,
            len(yields) if detail else int(yields["lines"].sum()),
            detail,
        ),
    ]
    frame = pd.DataFrame(rows, columns=["flag", "description", "count", "is_detail_available"])
    frame["count"] = frame["count"].astype("int64")
    frame["is_own_only"] = viewer.role is Role.MEMBER and not for_publication
    frame["is_publication_view"] = policy_applies(viewer, for_publication)
    return frame


QUERY_FUNCTIONS = [
    quality_coc_reports_received,
    quality_coc_reports_missing,
    quality_late_reports,
    quality_mass_balance_failures,
    quality_missing_coordinates,
    quality_indicator_outliers,
    quality_coc_yield_outliers,
    quality_coc_flow_problems,
    quality_flags,
]
