"""Pure chart builders: DataFrame in, Altair chart out. No Streamlit here.

Every builder takes the frame a query function returned (column names given as
arguments), draws nothing for empty or suppressed values, and keeps series
distinguishable without colour: lines carry point shapes, bars carry text labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from asi_me.data.vocab import STANDARD_OF_VERSION, VERSION_EFFECTIVE_ON, label
from asi_me.publish.numbers import format_day
from asi_me.ui.palette import (
    BLUE,
    CATEGORY_COLORS,
    D3_AXIS_FORMAT,
    D3_DATE,
    D3_FORMAT,
    DOWN,
    GREY,
    MISSING_CATEGORY,
    UP,
    VERMILLION,
    category_scale,
    time_axis,
)

FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"


def _labelled(frame: pd.DataFrame, column: str | None) -> tuple[pd.DataFrame, list[str]]:
    """Add `<column>_label` with vocabulary labels; return frame and label order."""
    if column is None or column not in frame.columns:
        return frame, []
    out = frame.copy()
    out[f"{column}_label"] = out[column].map(lambda v: label(v) if pd.notna(v) else MISSING_CATEGORY)
    order = list(dict.fromkeys(out[f"{column}_label"].tolist()))
    return out, order


def _temporal(frame: pd.DataFrame, x: str) -> pd.DataFrame:
    out = frame.copy()
    out[x] = pd.to_datetime(out[x])
    return out


VersionMarks = Sequence[str] | pd.DataFrame | None

# Above this many marks a chart draws on one canvas instead of an SVG element per mark: a monthly
# stacked bar chart at 100x has over a thousand bars, and every redraw (a filter change) replaced
# each of them in the page (about 6,800 DOM changes). Hover tooltips and the Table tab stay.
CANVAS_FROM_MARKS = 300


def _drawn_on_canvas(chart: alt.TopLevelMixin, marks: int) -> alt.TopLevelMixin:
    """`chart`, told to draw on a canvas when it has at least CANVAS_FROM_MARKS marks."""
    if marks < CANVAS_FROM_MARKS:
        return chart
    return chart.properties(usermeta={"embedOptions": {"renderer": "canvas"}})


def version_changes(standards: Sequence[str] | None = None) -> pd.DataFrame:
    """Dates where a new standard version took effect (breaks in comparability): `on`, the
    versions' short names (`text`, e.g. "PS V2 · CoC V1") and a sentence (`detail`)."""
    rows = [
        {"on": pd.Timestamp(on), "version": str(version.value)}
        for version, on in VERSION_EFFECTIVE_ON.items()
        if not standards or STANDARD_OF_VERSION[version].value in standards
    ]
    return _marker_rows(pd.DataFrame(rows, columns=["on", "version"]))


def _marker_rows(versions: pd.DataFrame) -> pd.DataFrame:
    """One row per date from rows of (`on`, `version`): versions effective on one date share a marker."""
    if versions.empty:
        return pd.DataFrame(columns=["on", "text", "detail", "version"])
    out = versions.assign(
        on=pd.to_datetime(versions["on"]),
        short=versions["version"].map(lambda v: label(v).split(" (")[0]),  # "PS V2 (2017)" -> "PS V2"
    )
    out["sentence"] = [f"{label(v)} took effect on {format_day(on)}." for v, on in zip(out["version"], out["on"],
                                                                                      strict=True)]
    grouped = out.groupby("on", as_index=False).agg(
        text=("short", " · ".join), detail=("sentence", " ".join), version=("version", ",".join))
    grouped["detail"] += " Figures either side are not comparable."
    return grouped


def version_markers(start: object, end: object, marks: VersionMarks = None) -> pd.DataFrame:
    """The standard-version changes to mark on a series running from `start` to `end`
    (inclusive): `on`, a short label `text` and a sentence `detail`, one row per date.

    `marks` is None for every standard's versions (asi_me.data.vocab.VERSION_EFFECTIVE_ON),
    a list of standards ("PS", "CoC"; empty for none), or a frame of breaks with
    `standard_version` and `effective_on` as outcomes.version_breaks returns (which follows
    the standard and version filters). Every series builder draws these markers.
    """
    if isinstance(marks, pd.DataFrame):
        changes = _marker_rows(marks.rename(columns={"standard_version": "version", "effective_on": "on"})[
            ["on", "version"]]) if not marks.empty else _marker_rows(pd.DataFrame(columns=["on", "version"]))
    elif marks is not None and len(marks) == 0:
        changes = _marker_rows(pd.DataFrame(columns=["on", "version"]))
    else:
        changes = version_changes(marks)
    if changes.empty or start is None or end is None or pd.isna(start) or pd.isna(end):
        return changes.head(0)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    return changes[(changes["on"] >= lo) & (changes["on"] <= hi)].reset_index(drop=True)


def _version_layer(frame: pd.DataFrame, x: str, marks: VersionMarks) -> alt.LayerChart | None:
    """Thin dashed rules, each with a short label, where a standard version took effect
    within the frame's dates (see `version_markers`)."""
    if frame.empty:
        return None
    dates = pd.to_datetime(frame[x])
    shown = version_markers(dates.min(), dates.max(), marks)
    if shown.empty:
        return None
    base = alt.Chart(shown)
    rule = base.mark_rule(color=GREY, strokeDash=[4, 3], strokeWidth=1).encode(
        x=alt.X("on:T"), tooltip=[alt.Tooltip("detail:N", title="Standard version change")]
    )
    # Written left of the rule: version changes sit mid-series, where the left has room.
    text = base.mark_text(align="right", dx=-4, dy=2, baseline="top", color="#444", fontSize=11).encode(
        x="on:T", y=alt.value(0), text="text:N"
    )
    return rule + text


def time_series(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    series: str | None = None,
    y_title: str = "",
    x_title: str = "",
    version_marks: VersionMarks = None,
    step: bool = False,
    height: int = 280,
    percent: bool = False,
) -> alt.LayerChart | alt.Chart:
    """Lines over time, one per `series` value, with point shapes and a rule at each
    standard-version change in the period (`version_marks`: see `version_markers`)."""
    data = _temporal(frame.dropna(subset=[y]), x)
    data, _ = _labelled(data, series)
    kind = "share" if percent else "count"
    encoding: dict = {
        "x": alt.X(f"{x}:T", title=x_title or None, axis=alt.Axis(**time_axis(data[x]))),
        "y": alt.Y(f"{y}:Q", title=y_title or None, axis=alt.Axis(format=D3_AXIS_FORMAT[kind])),
        "tooltip": [alt.Tooltip(f"{x}:T", title="Date", format=D3_DATE),
                    alt.Tooltip(f"{y}:Q", title=y_title or y, format=D3_FORMAT[kind])],
    }
    if series:
        scale = category_scale(series, data[series].tolist())
        encoding["color"] = alt.Color(
            f"{series}_label:N", title=None, scale=alt.Scale(domain=scale.domain, range=scale.colors),
            legend=_legend(scale.present, symbolType="stroke"),
        )
        encoding["tooltip"].insert(0, alt.Tooltip(f"{series}_label:N", title=label(series)))
        shape = alt.Shape(f"{series}_label:N", scale=alt.Scale(domain=scale.domain, range=scale.shapes), legend=None)
    else:
        encoding["color"] = alt.value(BLUE)
        shape = alt.value("circle")
    base = alt.Chart(data)
    line = base.mark_line(interpolate="step-after" if step else "linear", strokeWidth=2).encode(**encoding)
    points = base.mark_point(filled=True, size=28).encode(**{**encoding, "shape": shape})
    chart: alt.LayerChart | alt.Chart = line + points
    rules = _version_layer(data, x, version_marks)
    if rules is not None:
        chart = chart + rules
    return _drawn_on_canvas(chart.properties(height=height).configure_axis(labelFont=FONT, titleFont=FONT),
                            2 * len(data))


def _legend(present: list[str], **extra: object) -> alt.Legend:
    """A legend under the chart listing only the categories shown, in as many columns as fit."""
    longest = max((len(p) for p in present), default=0)
    return alt.Legend(orient="bottom", columns=2 if longest > 24 else 3, labelLimit=320, values=present, **extra)


def stacked_bars(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    series: str,
    y_title: str = "",
    x_title: str = "",
    temporal: bool = True,
    height: int = 280,
    version_marks: VersionMarks = None,
) -> alt.LayerChart | alt.Chart:
    """Bars per period stacked by `series`; segments carry a pattern-free colour plus a tooltip.
    Over time, a rule marks each standard-version change in the period (see `version_markers`)."""
    data = frame.dropna(subset=[y])
    if temporal:
        data = _temporal(data, x)
    data, _ = _labelled(data, series)
    scale = category_scale(series, data[series].tolist() if series in data else [])
    x_enc = (alt.X(f"{x}:T", title=x_title or None, axis=alt.Axis(**time_axis(data[x]))) if temporal
             else alt.X(f"{x}:O", title=x_title or None, axis=alt.Axis(labelAngle=0)))
    chart = (
        alt.Chart(data)
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=x_enc,
            y=alt.Y(f"sum({y}):Q", title=y_title or None, axis=alt.Axis(format=D3_AXIS_FORMAT["count"])),
            color=alt.Color(
                f"{series}_label:N", title=None, scale=alt.Scale(domain=scale.domain, range=scale.colors),
                legend=_legend(scale.present),
            ),
            order=alt.Order(f"{series}_label:N"),
            tooltip=[
                alt.Tooltip(f"{x}:T", title=x_title or "Period", format=D3_DATE) if temporal
                else alt.Tooltip(f"{x}:O", title=x_title or "Period"),
                alt.Tooltip(f"{series}_label:N", title=label(series)),
                alt.Tooltip(f"{y}:Q", title=y_title or y, format=D3_FORMAT["count"]),
            ],
        )
    )
    layered: alt.LayerChart | alt.Chart = chart
    if temporal:
        rules = _version_layer(data, x, version_marks)
        if rules is not None:
            layered = chart + rules
    return _drawn_on_canvas(layered.properties(height=height).configure_axis(labelFont=FONT, titleFont=FONT),
                            len(data))


def ranked_bars(
    frame: pd.DataFrame,
    *,
    category: str,
    value: str,
    value_title: str = "",
    category_title: str = "",
    percent: bool = False,
    sort: Sequence[str] | None = None,
    height: int | None = None,
    color: str = BLUE,
    highlight: str | None = None,
) -> alt.LayerChart:
    """Horizontal bars with the value written at the end of each bar (readable without colour).

    `highlight` names a boolean column whose rows are drawn in vermillion and marked in text.
    """
    data = frame.dropna(subset=[value]).copy()
    data, _ = _labelled(data, category) if category in {"membership_class", "activity", "standard"} else (data, [])
    cat = f"{category}_label" if f"{category}_label" in data.columns else category
    fmt = D3_FORMAT["share"] if percent else D3_FORMAT["count"]
    axis_fmt = D3_AXIS_FORMAT["share"] if percent else D3_AXIS_FORMAT["count"]
    y_sort = list(sort) if sort else "-x"
    bar_color: alt.ColorValue | alt.Color = alt.value(color)
    if highlight and highlight in data.columns:
        bar_color = alt.condition(f"datum.{highlight}", alt.value(VERMILLION), alt.value(color))
    base = alt.Chart(data).encode(
        y=alt.Y(f"{cat}:N", title=category_title or None, sort=y_sort,
                axis=alt.Axis(labelLimit=260, labelOverlap=False)),
        x=alt.X(f"{value}:Q", title=value_title or None, axis=alt.Axis(format=axis_fmt)),
        tooltip=[alt.Tooltip(f"{cat}:N", title=category_title or "Category"),
                 alt.Tooltip(f"{value}:Q", title=value_title or value, format=fmt)],
    )
    bars = base.mark_bar().encode(color=bar_color)
    text = base.mark_text(align="left", dx=4, color="#222").encode(text=alt.Text(f"{value}:Q", format=fmt))
    rows = max(len(data), 1)
    # every bar keeps its label: at least 24 px a row, whatever height is asked for
    return (bars + text).properties(height=max(height, 24 * rows) if height else max(120, 28 * rows))


def sparkline(frame: pd.DataFrame, *, x: str, y: str, color: str = BLUE, height: int = 48) -> alt.LayerChart:
    """A small trend line without axes, for KPI tiles; the last point is marked."""
    data = _temporal(frame.dropna(subset=[y]), x)
    base = alt.Chart(data).encode(
        x=alt.X(f"{x}:T", axis=None),
        y=alt.Y(f"{y}:Q", axis=None, scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip(f"{x}:T", title="Date", format=D3_DATE),
                 alt.Tooltip(f"{y}:Q", title="Value", format=",.4~g")],
    )
    line = base.mark_line(color=color, strokeWidth=2)
    last = base.transform_window(rank="rank()", sort=[alt.SortField(x, order="descending")]).transform_filter(
        "datum.rank == 1"
    ).mark_point(color=color, filled=True, size=30)
    return (line + last).properties(height=height).configure_view(strokeWidth=0)


EVIDENCE_STATUS_COLORS: dict[str, str] = CATEGORY_COLORS["evaluation_status"]


def timeline(
    frame: pd.DataFrame,
    *,
    start: str,
    end: str,
    name: str,
    status: str,
    today: pd.Timestamp | None = None,
    height: int | None = None,
) -> alt.LayerChart:
    """Horizontal bars from `start` to `end` (open ones run to `today`), one per row,
    with the status written after each bar so it does not rely on colour."""
    data = frame.copy()
    data[start] = pd.to_datetime(data[start])
    data[end] = pd.to_datetime(data[end])
    data = data.dropna(subset=[start])
    data[end] = data[end].fillna(today if today is not None else pd.Timestamp.today().normalize())
    data["status_text"] = data[status].map(label)
    statuses = list(EVIDENCE_STATUS_COLORS)  # the whole vocabulary: a status keeps its colour
    base = alt.Chart(data).encode(
        y=alt.Y(f"{name}:N", title=None, sort=alt.EncodingSortField(field=start, order="ascending"),
                axis=alt.Axis(labelLimit=320)),
        tooltip=[alt.Tooltip(f"{name}:N", title="Title"), alt.Tooltip("status_text:N", title="Status"),
                 alt.Tooltip(f"{start}:T", title="Started", format=D3_DATE),
                 alt.Tooltip(f"{end}:T", title="Completed / today", format=D3_DATE)],
    )
    bars = base.mark_bar(height=12, cornerRadius=2).encode(
        x=alt.X(f"{start}:T", title=None, axis=alt.Axis(**time_axis(pd.concat([data[start], data[end]])))),
        x2=f"{end}:T",
        color=alt.Color(f"{status}:N", title=None, legend=None,
                        scale=alt.Scale(domain=statuses, range=[EVIDENCE_STATUS_COLORS[s] for s in statuses])),
    )
    text = base.mark_text(align="left", dx=4, fontSize=11, color="#333").encode(x=f"{end}:T", text="status_text:N")
    return (bars + text).properties(height=height or max(120, 24 * len(data)))


def received_vs_expected(
    frame: pd.DataFrame, *, period: str, expected: str, received: str, height: int = 240,
    version_marks: VersionMarks = None,
) -> alt.LayerChart:
    """Bars of what was received with a tick at what was expected and "13 of 14" written
    above, per period (a year): the gap reads without relying on colour. A rule marks each
    year in which a standard version took effect (see `version_markers`)."""
    data = frame.copy()
    data[period] = data[period].astype(str)
    data["text"] = [f"{int(r)} of {int(e)}" for r, e in zip(data[received], data[expected], strict=True)]
    base = alt.Chart(data).encode(x=alt.X(f"{period}:O", title=None, axis=alt.Axis(labelAngle=0)))
    bars = base.mark_bar(color=BLUE, width={"band": 0.6}).encode(
        y=alt.Y(f"{received}:Q", title="Reports"),
        tooltip=[alt.Tooltip(f"{period}:O", title="Year"), alt.Tooltip(f"{received}:Q", title="Received"),
                 alt.Tooltip(f"{expected}:Q", title="Expected")],
    )
    ticks = base.mark_tick(color=VERMILLION, thickness=3, size=36).encode(y=f"{expected}:Q")
    text = base.mark_text(dy=-10, color="#222").encode(y=f"{expected}:Q", text="text:N")
    chart = bars + ticks + text
    years = pd.to_numeric(data[period], errors="coerce").dropna()
    if not years.empty:
        shown = version_markers(pd.Timestamp(int(years.min()), 1, 1), pd.Timestamp(int(years.max()), 12, 31),
                                version_marks)
        shown = shown.assign(year=shown["on"].dt.year.astype(str))
        if not shown.empty:
            marks = alt.Chart(shown.drop(columns="on"))
            chart += marks.mark_rule(color=GREY, strokeDash=[4, 3], strokeWidth=1).encode(
                x=alt.X("year:O"), tooltip=[alt.Tooltip("detail:N", title="Standard version change")])
            chart += marks.mark_text(align="left", dx=4, baseline="top", color="#444", fontSize=11).encode(
                x="year:O", y=alt.value(0), text="text:N")
    return chart.properties(height=height)


def waterfall(frame: pd.DataFrame, *, step: str, kind: str, start: str, end: str, change: str,
              value_title: str = "", height: int | None = None) -> alt.LayerChart:
    """A horizontal waterfall: a bar for the first and last totals and, between them, one
    floating bar per change (from `start` to `end` of each row, in the frame's order), with
    the signed change written beside each so entries and exits read without colour."""
    data = frame.copy()
    data["label"] = [f"{v:+,}" if k in ("entered", "left") else f"{v:,}"
                     for k, v in zip(data[kind], data[change], strict=True)]
    data["low"] = data[[start, end]].min(axis=1)
    data["high"] = data[[start, end]].max(axis=1)
    colours = alt.Scale(domain=["start", "entered", "left", "end"], range=[GREY, UP, DOWN, GREY])
    base = alt.Chart(data).encode(
        y=alt.Y(f"{step}:N", sort=list(data[step]), title=None, axis=alt.Axis(labelLimit=260)),
        tooltip=[alt.Tooltip(f"{step}:N", title="Step"), alt.Tooltip(f"{change}:Q", title="Change", format="+,")],
    )
    bars = base.mark_bar().encode(
        x=alt.X("low:Q", title=value_title or None, axis=alt.Axis(format=",.0f")),
        x2="high:Q",
        color=alt.Color(f"{kind}:N", scale=colours, legend=None),
    )
    text = base.mark_text(align="left", dx=4, color="#222").encode(x="high:Q", text="label:N")
    return (bars + text).properties(height=height or max(120, 30 * len(data)))


def risk_matrix(frame: pd.DataFrame) -> alt.LayerChart:
    """The 5 x 5 likelihood x consequence heat map: each cell coloured by its severity band and
    labelled with its number of risks (blank when none), likelihood 5 at the top."""
    from asi_me.ui.palette import SEVERITY_COLOR  # noqa: PLC0415 - the one chart that uses it

    data = frame.assign(count_text=frame["risks"].map(lambda n: str(int(n)) if n else ""))
    bands = list(SEVERITY_COLOR)
    base = alt.Chart(data).encode(
        x=alt.X("consequence:O", title="Consequence (1 insignificant – 5 severe)", sort=[1, 2, 3, 4, 5],
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("likelihood:O", title="Likelihood (1 rare – 5 almost certain)", sort=[5, 4, 3, 2, 1]),
    )
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("severity:N", title="Severity", scale=alt.Scale(domain=bands,
                        range=[SEVERITY_COLOR[b] for b in bands]),
                        legend=alt.Legend(orient="bottom", labelExpr="upper(slice(datum.label, 0, 1)) + "
                                          "slice(datum.label, 1)")),
        tooltip=[
            alt.Tooltip("likelihood:O", title="Likelihood"), alt.Tooltip("consequence:O", title="Consequence"),
            alt.Tooltip("rating:Q", title="Rating"), alt.Tooltip("severity_label:N", title="Severity"),
            alt.Tooltip("risks:Q", title="Risks"), alt.Tooltip("risk_ids:N", title="Which"),
        ],
    )
    text = base.mark_text(fontSize=20, fontWeight="bold", color="black", font=FONT).encode(text="count_text:N")
    return alt.layer(cells, text).properties(height=340)


def risk_rating_history(frame: pd.DataFrame) -> alt.LayerChart:
    """Each risk's rating (likelihood x consequence, 1-25) at every revision of the plan, one line
    per risk, with the severity bands' thresholds drawn as rules."""
    data = _temporal(frame, "revised_on").assign(
        risk=lambda f: f["risk_id"] + " " + f["title"],
    )
    # Twenty lines are hard to tell apart: a click on the legend brings one risk forward.
    picked = alt.selection_point(fields=["risk"], bind="legend")
    lines = alt.Chart(data).mark_line(point=True).encode(
        opacity=alt.condition(picked, alt.value(1.0), alt.value(0.15)),
        x=alt.X("revised_on:T", title="Revision adopted", axis=alt.Axis(format="%b %Y")),
        y=alt.Y("rating:Q", title="Rating (likelihood × consequence)", scale=alt.Scale(domain=[0, 25])),
        color=alt.Color("risk:N", title="Risk", legend=alt.Legend(orient="right", labelLimit=260)),
        tooltip=[
            alt.Tooltip("risk:N", title="Risk"), alt.Tooltip("revision:Q", title="Revision"),
            alt.Tooltip("revised_on:T", title="Adopted", format="%-d %B %Y"),
            alt.Tooltip("likelihood:Q", title="Likelihood"), alt.Tooltip("consequence:Q", title="Consequence"),
            alt.Tooltip("rating:Q", title="Rating"), alt.Tooltip("severity_label:N", title="Severity"),
        ],
    ).add_params(picked)
    thresholds = pd.DataFrame({"rating": [5, 10, 20], "text": ["medium from 5", "high from 10", "extreme from 20"]})
    rules = alt.Chart(thresholds).mark_rule(strokeDash=[4, 4], color=GREY).encode(y="rating:Q")
    words = alt.Chart(thresholds).mark_text(align="left", dx=4, dy=-6, color=GREY, font=FONT).encode(
        y="rating:Q", text="text:N", x=alt.value(0),
    )
    return alt.layer(rules, words, lines).properties(height=340)
