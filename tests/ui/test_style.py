"""One chart style: every chart builder, drawn twice on the demo data with different
dates and filters, gives each category the same colour, and the colour the rest of the
app gives it; every time axis shows years."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pandas as pd
import pytest

from asi_me.data.store import Store
from asi_me.data.vocab import CertificationStatus, MembershipClass, label, stage_label
from asi_me.filters import Filters, Viewer
from asi_me.queries import certifications, coc, outcomes, toc
from asi_me.settings import REPO_ROOT
from asi_me.ui import charts
from asi_me.ui.map_charts import facility_layer_frame
from asi_me.ui.palette import CATEGORY_COLORS, category_color, category_scale, format_date, format_number
from asi_me.ui.sankey import build_sankey
from asi_me.ui.toc_graph import build_indicator_series

PUBLIC = Viewer.public()
# Two views a visitor can pick: early years worldwide, recent years in one region and class.
EARLY = Filters(as_of=date(2019, 6, 30), period_from=date(2016, 1, 1), period_to=date(2019, 6, 30))
RECENT = Filters(period_from=date(2023, 1, 1), regions=("Europe",),
                 membership_classes=("production_transformation", "civil_society", "industrial_users"))


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    opened = Store.open_current(REPO_ROOT / "data")
    yield opened
    opened.close()


def _colour_scale(spec: Any) -> dict[str, str]:
    """Category -> colour from every colour scale with an explicit domain in a Vega-Lite spec."""
    found: dict[str, str] = {}
    if isinstance(spec, dict):
        color = spec.get("color")
        if isinstance(color, dict) and isinstance(color.get("scale"), dict):
            scale = color["scale"]
            if "domain" in scale and "range" in scale:
                found.update(zip(scale["domain"], scale["range"], strict=True))
        for value in spec.values():
            found.update(_colour_scale(value))
    elif isinstance(spec, list):
        for value in spec:
            found.update(_colour_scale(value))
    return found


def _time_axes(spec: Any) -> list[dict]:
    """The axis of every temporal x encoding in a Vega-Lite spec."""
    axes: list[dict] = []
    if isinstance(spec, dict):
        x = spec.get("x")
        if isinstance(x, dict) and x.get("type") == "temporal" and "axis" in x:
            axes.append(x["axis"])
        for value in spec.values():
            axes += _time_axes(value)
    elif isinstance(spec, list):
        for value in spec:
            axes += _time_axes(value)
    return axes


def _same_colours(first: dict[str, str], second: dict[str, str], shown: set[str]) -> None:
    both = set(first) & set(second)
    assert shown <= both, f"categories without a fixed colour: {shown - both}"
    changed = {c: (first[c], second[c]) for c in both if first[c] != second[c]}
    assert not changed, f"colours changed with the filters: {changed}"


def test_membership_classes_keep_their_colours_whatever_the_dates_and_filters(store: Store) -> None:
    frames = [outcomes.members_by_class(store, PUBLIC, f) for f in (EARLY, RECENT)]
    assert set(frames[0]["membership_class"]) != set(frames[1]["membership_class"])  # the two views differ
    specs = [charts.stacked_bars(f, x="month_on", y="members", series="membership_class").to_dict()
             for f in frames]
    colours = [_colour_scale(s) for s in specs]
    shown = {label(c) for f in frames for c in f["membership_class"]}
    _same_colours(colours[0], colours[1], shown)
    for code in MembershipClass:
        assert colours[0][label(code)] == category_color(code.value)
    # the legend lists only the classes in the chart
    legend_values = [s["layer"][0]["encoding"]["color"]["legend"]["values"] if "layer" in s else
                     s["encoding"]["color"]["legend"]["values"] for s in specs]
    assert set(legend_values[1]) == {label(c) for c in frames[1]["membership_class"]}


@pytest.mark.parametrize("by", ["standard", "activity", "standard_version", "status"])
def test_certificate_series_keep_their_colours(store: Store, by: str) -> None:
    frames = [outcomes.certificates_over_time(store, PUBLIC, f, by=by).rename(columns={"group_value": by})
              for f in (EARLY, RECENT)]
    specs = [charts.time_series(f, x="month_on", y="certificates_valid", series=by).to_dict() for f in frames]
    colours = [_colour_scale(s) for s in specs]
    shown = {label(c) for f in frames for c in f[by].dropna()}
    _same_colours(colours[0], colours[1], shown)
    for code in {str(c) for f in frames for c in f[by].dropna()}:
        assert colours[0][label(code)] == category_color(code)


def test_every_time_axis_shows_years(store: Store) -> None:
    long = outcomes.members_by_class(store, PUBLIC, EARLY)
    short = long[long["month_on"] >= long["month_on"].max() - pd.Timedelta(days=150)]
    for frame in (long, short):
        specs = [charts.stacked_bars(frame, x="month_on", y="members", series="membership_class").to_dict(),
                 charts.time_series(frame, x="month_on", y="members", series="membership_class").to_dict()]
        for spec in specs:
            axes = _time_axes(spec)
            assert axes, "no time axis found"
            assert all("%Y" in axis["format"] for axis in axes), axes


def test_evaluation_statuses_keep_their_colours(store: Store) -> None:
    evidence = toc.evidence_list(store, PUBLIC)
    halves = [evidence.iloc[: len(evidence) // 2], evidence.iloc[len(evidence) // 2:]]
    colours = [_colour_scale(charts.timeline(h, start="started_on", end="completed_on", name="title",
                                             status="status").to_dict()) for h in halves]
    _same_colours(colours[0], colours[1], {str(s) for h in halves for s in h["status"]})
    assert colours[0] == CATEGORY_COLORS["evaluation_status"]


def test_coc_stages_keep_their_colours_and_names_from_year_to_year(store: Store) -> None:
    years = coc.coc_years(store)
    figures = [build_sankey(coc.coc_stage_flows(store, PUBLIC, year)) for year in (years[0], years[-1])]
    nodes = [dict(zip(f.data[0].node.label, f.data[0].node.color, strict=True)) for f in figures]
    stages = [stage_label(code) for code in CATEGORY_COLORS["stage"]]
    for code, name in zip(CATEGORY_COLORS["stage"], stages, strict=True):
        colours = {n[name] for n in nodes if name in n}
        assert colours == {category_color(code, "stage")}, (name, colours)
    # the stage table names the stages as the Sankey does
    summary = coc.coc_stage_summary(store, PUBLIC, years[-1])
    assert set(summary["stage_label"]) <= set(stages)


def test_map_statuses_keep_their_colours_at_any_date(store: Store) -> None:
    frames = [facility_layer_frame(certifications.facility_points(store, PUBLIC, Filters(as_of=on)))
              for on in (date(2019, 12, 31), date(2025, 6, 30))]
    seen: dict[str, set[tuple[int, ...]]] = {}
    for frame in frames:
        filled = frame[frame["standard_key"] != "CoC"]
        for status, fill in zip(filled["status"], filled["fill_color"], strict=True):
            seen.setdefault(str(status), set()).add(tuple(fill[:3]))
    assert len(seen) >= 2
    for status, colours in seen.items():
        if status in {s.value for s in CertificationStatus}:
            hex_colour = category_color(status, "status")
            assert colours == {tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))}, status


def test_indicator_series_keep_their_colours_per_region(store: Store) -> None:
    series = [toc.indicator_series(store, PUBLIC, "OP-01", "region", f) for f in (EARLY, Filters())]
    figures = [build_indicator_series(s, unit="count") for s in series]
    colours = [{t.name: t.line.color for t in f.data if t.line is not None and t.line.color} for f in figures]
    shown = set(colours[0]) & set(colours[1])
    assert shown
    for name in shown:
        assert colours[0][name] == colours[1][name], name
    for figure in figures:  # the year on every tick of the time axis
        assert "%Y" in figure.layout.xaxis.tickformat


def test_an_unknown_category_has_a_colour_of_its_own_that_the_data_does_not_move() -> None:
    alone = category_scale("country", ["DE"])
    among = category_scale("country", ["AU", "BR", "DE", "ZA"])
    colour = dict(zip(alone.domain, alone.colors, strict=True))[label("DE")]
    assert dict(zip(among.domain, among.colors, strict=True))[label("DE")] == colour


def test_one_format_per_kind_of_figure() -> None:
    assert format_number(27.0, "percent") == "27.0%"
    assert format_number(0.688, "share") == "68.8%"
    assert format_number(1234567.4, "tonnes") == "1,234,567"
    assert format_number(None, "count") == "—"
    assert format_number(float("nan"), "count") == "—"
    assert format_date(pd.Timestamp("2024-03-31")) == "2024-03-31"
    assert format_date(pd.NaT) == "—"


def test_every_bar_of_a_ranked_chart_has_its_label_and_room_for_it(store: Store) -> None:
    countries = certifications.country_aggregates(store, PUBLIC, Filters()).head(20)
    spec = charts.ranked_bars(countries, category="country_name", value="certified_facilities", height=420).to_dict()
    assert spec["height"] >= 24 * len(countries)
    first = spec["layer"][0]
    axis = (first["encoding"] if "encoding" in first else spec["encoding"])["y"]["axis"]
    assert axis["labelOverlap"] is False  # no label is dropped to make room
    text = [layer for layer in spec["layer"]
            if (layer["mark"] if isinstance(layer["mark"], str) else layer["mark"].get("type")) == "text"]
    assert text, "the bars carry their values"
