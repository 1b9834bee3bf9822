"""Properties of the disclosure policy on random CoC datasets, and the member firewall.

For public and member viewers, on any dataset:
- no visible CoC cell has fewer than 5 reporting companies (unless nobody reported)
  or one company above 25 %, recomputed here from the raw lines;
- no suppressed cell can be recomputed from the visible figures of the same view by
  the view's relations (node input = its in-links, node output = its out-links incl.
  attrition / final products, share of global, share of source, attrition %, year
  over year), solved here by repeated substitution;
- a member never receives another member's rows from any query function in asi_me.
"""

from __future__ import annotations

import io
import math
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from unittest import mock

import pandas as pd
import pytest
from conftest import QUERY_MODULES, call_query, coc_line, facility, make_store, member, query_functions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from asi_me.data.vocab import COC_INPUT_SOURCE, CocStage, region_of
from asi_me.filters import Filters, Viewer
from asi_me.publish.policy import DisclosurePolicy
from asi_me.queries import coc
from asi_me.settings import REPO_ROOT

POLICY = DisclosurePolicy(5, 0.25)
PAIRS = list(COC_INPUT_SOURCE)
YEARS = (2019, 2020)
COUNTRIES = ("DE", "BR")
AGGREGATES_ONLY = {
    "coc_years",
    "coc_stage_summary",
    "coc_stage_flows",
    "coc_year_over_year",
    "coc_reporting_summary",
    "quality_flags",
    "quality_indicator_outliers",
    "quality_coc_reports_received",
}


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    n_companies = draw(st.integers(1, 9))
    members, facilities, lines = [], [], []
    for c in range(n_companies):
        member_id = f"M{c}"
        members.append(member(member_id))
        for f in range(draw(st.integers(1, 2))):
            facility_id = f"F{c}x{f}"
            facilities.append(facility(facility_id, member_id, country=draw(st.sampled_from(COUNTRIES))))
            for year in YEARS:
                for stage, material in draw(st.lists(st.sampled_from(PAIRS), max_size=4, unique=True)):
                    volume = st.one_of(st.just(0), st.integers(1, 1000))
                    lines.append(
                        coc_line(facility_id, stage.value, material.value, draw(volume), draw(volume), year=year)
                    )
    return {"members": members, "facilities": facilities, "coc_reports": lines}


def _company_lines(data: dict[str, list[dict[str, Any]]], filters: Filters | None) -> pd.DataFrame:
    facilities = pd.DataFrame(data["facilities"])[["facility_id", "member_id", "country"]]
    lines = pd.DataFrame(data["coc_reports"])
    if lines.empty:
        return pd.DataFrame(columns=["facility_id", "stage", "material", "input_t", "output_t", "member_id"])
    lines = lines.merge(facilities, on="facility_id")
    if filters and filters.countries:
        lines = lines[lines["country"].isin(filters.countries)]
    if filters and filters.regions:
        lines = lines[[region_of(c) in filters.regions for c in lines["country"]]]
    return lines


def _passes_primary(volumes: pd.Series) -> bool:
    positive = volumes[volumes > 0]
    if positive.empty:
        return True
    return len(positive) >= POLICY.min_reporters and positive.max() / positive.sum() <= POLICY.max_dominance + 1e-9


def _check_primary(lines: pd.DataFrame, summary: pd.DataFrame, flows: pd.DataFrame) -> None:
    for row in summary.itertuples():
        if row.is_suppressed:
            # the input shows only where it is zero and the published links already say so
            assert math.isnan(row.output_t) and (math.isnan(row.input_t) or row.input_t == 0) and row.suppression_note
            continue
        at = lines[lines["stage"] == row.stage]
        by_company = at.groupby("member_id")[["input_t", "output_t"]].sum()
        assert _passes_primary(by_company.sum(axis=1)), f"{row.stage} shown with too few reporters"
        assert _passes_primary(by_company["input_t"]) and _passes_primary(by_company["output_t"]), row.stage
        if not pd.isna(row.reporters):
            assert row.reporters == 0 or row.reporters >= POLICY.min_reporters
    for row in flows[flows["kind"].isin(["origin", "stage"])].itertuples():
        if row.is_suppressed:
            assert math.isnan(row.value_t) and row.suppression_note
            continue
        at = lines[(lines["stage"] == row.target) & (lines["material"] == row.material)]
        assert _passes_primary(at.groupby("member_id")["input_t"].sum()), f"link into {row.target} shown"


def _relations() -> list[tuple[tuple, list[tuple]]]:
    """total = sum(parts) for the figures of one year (keys as in the check below)."""
    out: list[tuple[tuple, list[tuple]]] = []
    for stage in CocStage:
        out.append((("in", stage.value), [("link", s.value, m.value) for (s, m) in PAIRS if s == stage]))
        downstream = [("link", s.value, m.value) for (s, m), src in COC_INPUT_SOURCE.items() if src == stage]
        tail = ("attr", stage.value) if downstream else ("final", stage.value)
        out.append((("out", stage.value), [*downstream, tail]))
    return out


def _solve(known: dict[tuple, float], unknown: set[tuple], equations: list[tuple[tuple, list[tuple]]],
           ratios: list[tuple[tuple, tuple, tuple]]) -> set[tuple]:
    """Everything recoverable by substitution: sums with one unknown, ratios a = b * c with one unknown."""
    values = dict(known)
    changed = True
    while changed:
        changed = False
        for total, parts in equations:
            missing = [k for k in (total, *parts) if k not in values]
            if len(missing) != 1:
                continue
            (m,) = missing
            if m == total:
                values[m] = sum(values[p] for p in parts)
            else:
                values[m] = values[total] - sum(values[p] for p in parts if p != m)
            changed = True
        for a, b, c in ratios:  # a = b * c
            missing = [k for k in (a, b, c) if k not in values]
            if len(missing) != 1:
                continue
            (m,) = missing
            if m == a:
                values[a] = values[b] * values[c]
            elif m == b and values[c]:
                values[b] = values[a] / values[c]
            elif m == c and values[b]:
                values[c] = values[a] / values[b]
            else:
                continue
            changed = True
    return {k for k in unknown if k in values}


def _check_not_derivable(
    store, viewer: Viewer, year: int, filters: Filters | None, summary: pd.DataFrame, flows: pd.DataFrame
) -> None:
    yoy = coc.coc_year_over_year(store, viewer, year, filters, policy=POLICY)
    known: dict[tuple, float] = {}
    hidden: set[tuple] = set()

    def put(key: tuple, value: float, is_hidden: bool) -> None:
        if is_hidden:
            hidden.add(key)
        elif not pd.isna(value):
            known[key] = float(value)

    ratios: list[tuple[tuple, tuple, tuple]] = []
    for row in summary.itertuples():
        put(("in", row.stage), row.input_t, row.is_suppressed and pd.isna(row.input_t))
        put(("out", row.stage), row.output_t, row.is_suppressed)
        if not pd.isna(row.attrition_t) or row.attrition_is_suppressed:
            put(("attr", row.stage), row.attrition_t, row.attrition_is_suppressed)
        put(("pct", row.stage), row.attrition_pct, row.attrition_is_suppressed)
        ratios.append((("attr", row.stage), ("out", row.stage), ("pct", row.stage)))
        put(("global", row.stage), row.global_t, False)
        put(("share_global", row.stage), row.share_of_global, row.is_suppressed)
        ratios.append((("out", row.stage), ("global", row.stage), ("share_global", row.stage)))
    for row in flows.itertuples():
        key = {
            "origin": ("link", row.target, row.material),
            "stage": ("link", row.target, row.material),
            "attrition": ("attr", row.source),
            "final": ("final", row.source),
        }[row.kind]
        put(key, row.value_t, row.is_suppressed)
        if row.kind != "origin":
            share = ("share", *key)
            put(share, row.share_of_source, row.is_share_suppressed)
            ratios.append((key, ("out", row.source), share))
    equations = _relations()
    for row in yoy.itertuples():
        put(("out", row.stage), row.output_t, row.is_suppressed)
        put(("previous", row.stage), row.previous_output_t, row.previous_is_suppressed)
        put(("change", row.stage), row.change_t, row.change_is_suppressed)
        put(("change_pct", row.stage), row.change_pct, row.change_is_suppressed)
        equations.append((("out", row.stage), [("previous", row.stage), ("change", row.stage)]))
        ratios.append((("change", row.stage), ("previous", row.stage), ("change_pct", row.stage)))
    # A figure shown in one frame and hidden in another would be a leak by itself.
    assert not hidden & set(known), f"shown and hidden at once: {hidden & set(known)}"
    derivable = _solve(known, hidden, equations, ratios)
    assert not derivable, f"suppressed figures recoverable by subtraction: {sorted(derivable)}"


def _assert_only_own_rows(result: Any, member_id: str, own_facilities: set[str], where: str) -> None:
    """Walk a query result and fail on any row naming another member or its facility."""
    if isinstance(result, pd.DataFrame):
        if "member_id" in result.columns:
            others = set(result["member_id"].dropna()) - {member_id}
            assert not others, f"{where} returned rows of other members {sorted(others)[:3]}"
        if "facility_id" in result.columns:
            others = set(result["facility_id"].dropna()) - own_facilities
            assert not others, f"{where} returned other members' facilities {sorted(others)[:3]}"
    elif isinstance(result, BaseModel):
        _assert_only_own_rows(result.model_dump(), member_id, own_facilities, where)
    elif isinstance(result, dict):
        for key, value in result.items():
            if key == "member_id" and value is not None:
                assert value == member_id, f"{where} returned member {value}"
            elif key == "facility_id" and value is not None:
                assert value in own_facilities, f"{where} returned facility {value}"
            else:
                _assert_only_own_rows(value, member_id, own_facilities, where)
    elif isinstance(result, bytes) and result[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(result)) as archive:
            for name in archive.namelist():
                if name.endswith(".csv"):
                    frame = pd.read_csv(archive.open(name), dtype=str)
                    _assert_only_own_rows(frame, member_id, own_facilities, f"{where}: {name}")
    elif isinstance(result, list | tuple):
        for item in result:
            _assert_only_own_rows(item, member_id, own_facilities, where)


@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=datasets())
def test_public_and_member_views_never_show_or_leak_a_small_or_dominated_cell(data):
    # Durability is irrelevant for throwaway test snapshots; skipping fsync keeps this fast.
    with tempfile.TemporaryDirectory() as tmp, mock.patch("os.fsync"):
        store = make_store(Path(tmp), **data)
        try:
            viewers = [Viewer.public(), Viewer.member(data["members"][0]["member_id"])]
            # A member's aggregates run the public code path, so one year each is enough
            # for the member and for a filtered view.
            cases = [
                (viewers[0], None, 2019),
                (viewers[0], None, 2020),
                # One region is the finest filter the public gets (DE is in Europe).
                (viewers[0], Filters(regions=("Europe",)), 2020),
                (viewers[1], None, 2020),
            ]
            for viewer, filters, year in cases:
                lines = _company_lines(data, filters)
                at_year = lines[lines["reporting_year"] == year] if len(lines) else lines
                summary = coc.coc_stage_summary(store, viewer, year, filters, policy=POLICY)
                flows = coc.coc_stage_flows(store, viewer, year, filters, policy=POLICY)
                _check_primary(at_year, summary, flows)
                if summary["reporters"].isna().sum() == 1:
                    # One masked count is recoverable from the totals unless they are masked too.
                    totals = coc.coc_reporting_summary(store, viewer, year, filters, policy=POLICY)
                    assert totals["reporting_companies"].isna().all(), "one masked count, total shown"
                _check_not_derivable(store, viewer, year, filters, summary, flows)
                counts = coc.coc_mass_balance(store, viewer, year, filters, policy=POLICY)
                if viewer.role == "public":
                    hidden_nodes = set(summary[summary["is_suppressed"]]["stage"])
                    assert set(counts[counts["is_suppressed"]]["stage"]) == hidden_nodes
            member_viewer = viewers[1]
            own = {f["facility_id"] for f in data["facilities"] if f["member_id"] == member_viewer.member_id}
            for fn in query_functions():
                # Row-returning CoC and quality functions; the aggregates were checked above.
                row_functions = ("asi_me.queries.coc", "asi_me.queries.quality")
                if fn.__module__ not in row_functions or fn.__name__ in AGGREGATES_ONLY:
                    continue
                result = call_query(fn, store, member_viewer)
                _assert_only_own_rows(result, member_viewer.member_id, own, fn.__name__)
        finally:
            store.close()


# --- the member firewall over every query module, on the demo snapshot ---------------------


def _demo_store():
    from asi_me.data.snapshot import current_id
    from asi_me.data.store import Store

    data_dir = REPO_ROOT / "data"
    if current_id(data_dir) is None:
        pytest.skip("data/ has no snapshot yet: run `python -m asi_me demo` to write the demo dataset.")
    return Store.open_current(data_dir)


def _functions() -> Iterable[Any]:
    return query_functions()


@pytest.mark.parametrize("fn", _functions(), ids=lambda fn: f"{fn.__module__.split('.')[-1]}.{fn.__name__}")
def test_a_member_never_receives_another_members_rows(fn):
    store = _demo_store()
    try:
        facilities = store.query("select facility_id, member_id from facilities")
        # Members with the most facilities are the likeliest to pull in shared rows.
        busiest = facilities["member_id"].value_counts().index[:2].tolist()
        ids = store.query(
            "select (select min(node_id) from toc_nodes) as node_id,"
            " (select min(indicator_code) from indicators) as indicator_code"
        ).iloc[0]
        for member_id in busiest:
            own = set(facilities[facilities["member_id"] == member_id]["facility_id"])
            # Ask for another member's certificate: its detail must not name that member.
            foreign_certificate = store.query(
                "select min(c.certification_id) as id from certifications as c"
                " join facilities as f using (facility_id) where f.member_id <> $m",
                {"m": member_id},
            ).id[0]
            values = {
                "certification_id": foreign_certificate,
                "node_id": ids["node_id"],
                "indicator_code": ids["indicator_code"],
            }
            try:
                result = call_query(fn, store, Viewer.member(member_id), **values)
            except TypeError as exc:
                pytest.skip(f"cannot call {fn.__name__} without more arguments: {exc}")
            _assert_only_own_rows(result, member_id, own, f"{fn.__module__}.{fn.__name__}")
    finally:
        store.close()


def test_query_modules_register_their_functions():
    names = {fn.__module__ for fn in query_functions()}
    assert {"asi_me.queries.coc", "asi_me.queries.quality"} <= names
    assert all(name.removeprefix("asi_me.") in QUERY_MODULES for name in names)
