"""Pure builders for the theory-of-change explorer: the ToC graph and indicator series.

The graph is laid out in columns by node type (strategies on the left, long-term
impacts on the right) and drawn with plotly scatter traces, so Streamlit's
``on_select`` reports a clicked node. Node type is carried by column, marker shape
and a column heading, never by colour alone. Indicator series carry the baseline and
target as labelled reference lines (as DHIS2 does), provisional values as hollow
markers.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

from asi_me.data.vocab import TocNodeType, label
from asi_me.ui.charts import VersionMarks, version_markers
from asi_me.ui.palette import (
    BLUE,
    BLUISH_GREEN,
    GREY,
    ORANGE,
    REDDISH_PURPLE,
    VERMILLION,
    category_color,
    plotly_time_axis,
)

COLUMN_ORDER: tuple[str, ...] = tuple(t.value for t in TocNodeType)
COLUMN_TITLES: dict[str, str] = {
    TocNodeType.STRATEGY: "Strategies",
    TocNodeType.OUTPUT: "Outputs",
    TocNodeType.SHORT_TERM_OUTCOME: "Short-term outcomes",
    TocNodeType.MEDIUM_TERM_OUTCOME: "Medium-term outcomes",
    TocNodeType.LONG_TERM_IMPACT: "Long-term impacts",
}
NODE_STYLE: dict[str, tuple[str, str]] = {  # node type -> (colour, plotly marker symbol)
    TocNodeType.STRATEGY: (BLUE, "square"),
    TocNodeType.OUTPUT: (ORANGE, "diamond"),
    TocNodeType.SHORT_TERM_OUTCOME: (BLUISH_GREEN, "circle"),
    TocNodeType.MEDIUM_TERM_OUTCOME: (REDDISH_PURPLE, "hexagon"),
    TocNodeType.LONG_TERM_IMPACT: (VERMILLION, "star"),
}
# Status words with an icon, so on/off track never rests on colour.
STATUS_ICONS: dict[str, str] = {"on_track": "✓", "off_track": "⚠", "no_target": "○", "no_data": "…"}
TRACK_WORDS: dict[str, str] = {
    "on_track": "On track",
    "off_track": "Off track",
    "no_target": "No target set",
    "no_data": "No data yet",
}
LABEL_WIDTH = 26  # characters per line of a node label
DENSE_SERIES = 24  # more points than this per line: draw the line without a marker per value


def status_text(status: object) -> str:
    """An indicator status as icon and words, e.g. "⚠️ Off track"."""
    key = str(status) if isinstance(status, str) else "no_data"
    return f"{STATUS_ICONS.get(key, '')} {TRACK_WORDS.get(key, key)}".strip()


def column_of(node_type: str) -> int:
    """The column (0 = strategies) a node type is drawn in; unknown types go last."""
    try:
        return COLUMN_ORDER.index(str(node_type))
    except ValueError:
        return len(COLUMN_ORDER)


def toc_layout(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """x (column by node type) and y (0 top .. 1 bottom) for every node.

    Within a column nodes are ordered by the mean position of the upstream nodes
    they link from (one barycentre pass, left to right), which keeps most links short
    and uncrossed; ties keep the input order. Columns are spread over the full height.
    """
    out = nodes.copy()
    if out.empty:
        return out.assign(x=pd.Series(dtype="float64"), y=pd.Series(dtype="float64"), column=pd.Series(dtype="int64"))
    out["column"] = [column_of(t) for t in out["node_type"]]
    out["order_in"] = range(len(out))
    position: dict[str, float] = {}
    upstream: dict[str, list[str]] = {}
    for src, dst in zip(edges.get("source_node_id", []), edges.get("target_node_id", []), strict=True):
        upstream.setdefault(str(dst), []).append(str(src))
    ys: dict[str, float] = {}
    for column in sorted(out["column"].unique()):
        members = out.loc[out["column"] == column]
        keys = []
        for node_id, order_in in zip(members["node_id"], members["order_in"], strict=True):
            parents = [position[p] for p in upstream.get(str(node_id), []) if p in position]
            keys.append((sum(parents) / len(parents) if parents else float("inf"), order_in, str(node_id)))
        keys.sort()
        n = len(keys)
        for rank, (_, _, node_id) in enumerate(keys):
            y = 0.5 if n == 1 else rank / (n - 1)
            ys[node_id] = y
            position[node_id] = y
    out["x"] = out["column"].astype("float64")
    out["y"] = [ys[str(n)] for n in out["node_id"]]
    return out.drop(columns=["order_in"])


def _wrap(text: object, width: int = LABEL_WIDTH) -> str:
    return "<br>".join(textwrap.wrap(str(text), width=width)) or str(text)


def connected_nodes(edges: pd.DataFrame, node_id: str | None) -> set[str]:
    """The node, everything upstream of it and everything downstream of it (its causal path)."""
    if not node_id or edges.empty:
        return {node_id} if node_id else set()
    down: dict[str, list[str]] = {}
    up: dict[str, list[str]] = {}
    for src, dst in zip(edges["source_node_id"], edges["target_node_id"], strict=True):
        down.setdefault(str(src), []).append(str(dst))
        up.setdefault(str(dst), []).append(str(src))
    seen = {node_id}
    for graph in (down, up):
        frontier = [node_id]
        while frontier:
            current = frontier.pop()
            for nxt in graph.get(current, []):
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
    return seen


def build_toc_figure(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    selected: str | None = None,
    *,
    indicator_counts: dict[str, int] | None = None,
    node_status: dict[str, str] | None = None,
    height: int = 640,
) -> go.Figure:
    """The ToC as a column graph: one scatter trace per node type (clickable), edges as lines.

    The selected node and its causal path are drawn in full; the rest is dimmed. Each
    point's customdata holds its node_id so a page can read the selection.
    """
    laid = toc_layout(nodes, edges)
    path = connected_nodes(edges, selected) if selected else set()
    fig = go.Figure()
    pos = {
        str(n): (x, y) for n, x, y in zip(laid.get("node_id", []), laid.get("x", []), laid.get("y", []), strict=True)
    }
    for is_on_path in (False, True):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for src, dst in zip(edges.get("source_node_id", []), edges.get("target_node_id", []), strict=True):
            if str(src) not in pos or str(dst) not in pos:
                continue
            on_path = bool(path) and str(src) in path and str(dst) in path
            if on_path != is_on_path:
                continue
            (x0, y0), (x1, y1) = pos[str(src)], pos[str(dst)]
            xs += [x0, (x0 + x1) / 2, x1, None]
            ys += [y0, (y0 + y1) / 2, y1, None]
        if xs:
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    line={"color": "#444444" if is_on_path else "#c8c8c8", "width": 2 if is_on_path else 1},
                    opacity=1.0 if (is_on_path or not path) else 0.5,
                    hoverinfo="skip",
                    showlegend=False,
                    name="links on the selected path" if is_on_path else "links",
                )
            )
    counts = indicator_counts or {}
    for node_type in [*COLUMN_ORDER, *sorted(set(laid.get("node_type", [])) - set(COLUMN_ORDER))]:
        part = laid.loc[laid["node_type"] == node_type] if not laid.empty else laid
        if part.empty:
            continue
        colour, symbol = NODE_STYLE.get(node_type, (GREY, "circle"))
        ids = [str(n) for n in part["node_id"]]
        is_sel = [n == selected for n in ids]
        dim = [bool(path) and n not in path for n in ids]
        texts = [f"<b>{_wrap(lbl)}</b>" if s else _wrap(lbl) for lbl, s in zip(part["label"], is_sel, strict=True)]
        hover = []
        for n, lbl, area in zip(ids, part["label"], part.get("impact_area", [None] * len(part)), strict=True):
            k = counts.get(n, 0)
            worst = (node_status or {}).get(n)
            worst_text = f" · {STATUS_ICONS.get(worst, '')} worst: {TRACK_WORDS.get(worst, worst)}" if worst else ""
            area_text = f"<br>Impact area: {label(area)}" if isinstance(area, str) and area else ""
            hover.append(
                f"<b>{_wrap(lbl, 40)}</b><br>{label(node_type)}{area_text}<br>"
                f"{k} indicator{'s' if k != 1 else ''}{worst_text}<br>Click to open"
            )
        fig.add_trace(
            go.Scatter(
                x=part["x"],
                y=part["y"],
                mode="markers+text",
                name=COLUMN_TITLES.get(node_type, label(node_type)),
                marker={
                    "symbol": symbol,
                    "size": [22 if s else 15 for s in is_sel],
                    "color": colour,
                    "opacity": [0.35 if d else 1.0 for d in dim],
                    "line": {
                        "color": ["#000000" if s else "#ffffff" for s in is_sel],
                        "width": [3 if s else 1 for s in is_sel],
                    },
                },
                text=texts,
                textposition="middle right",
                textfont={"size": 12, "color": ["#9a9a9a" if d else "#1e1e1e" for d in dim]},
                customdata=ids,
                hovertext=hover,
                hoverinfo="text",
                showlegend=True,
            )
        )
    for column, node_type in enumerate(COLUMN_ORDER):
        fig.add_annotation(
            x=column,
            y=-0.115,
            xref="x",
            yref="y",
            text=f"<b>{COLUMN_TITLES[node_type]}</b>",
            showarrow=False,
            xanchor="left",
            font={"size": 13, "color": "#1e1e1e"},
        )
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        plot_bgcolor="white",
        paper_bgcolor="white",
        xaxis={"visible": False, "range": [-0.1, len(COLUMN_ORDER) - 0.05], "fixedrange": True},
        yaxis={"visible": False, "range": [1.06, -0.15], "fixedrange": True},
        legend={"orientation": "h", "yanchor": "top", "y": -0.01, "x": 0, "title": {"text": "Node type: "}},
        clickmode="event+select",
        dragmode=False,
        hoverlabel={"align": "left"},
    )
    return fig


def selected_node_id(points: Iterable[dict]) -> str | None:
    """The node_id of the first clicked point in a plotly selection event, if any."""
    for point in points:
        data = point.get("customdata")
        if isinstance(data, list | tuple):
            data = data[0] if data else None
        if isinstance(data, str) and data:
            return data
    return None


def build_indicator_series(
    series: pd.DataFrame,
    *,
    unit: str,
    baseline_value: float | None = None,
    baseline_on: object = None,
    target_value: float | None = None,
    target_on: object = None,
    height: int = 340,
    version_marks: VersionMarks = None,
) -> go.Figure:
    """An indicator's values over time, one line per disaggregation value.

    Expects period_on, dimension_value, value and optionally status ('provisional' draws a
    hollow marker). Baseline and target are labelled horizontal reference lines; the
    target date, when known, gets a marker so "by when" is visible. A thin vertical rule
    with a short label marks each standard-version change within the series' dates
    (`version_marks`: see charts.version_markers).
    """
    fig = go.Figure()
    data = series.dropna(subset=["value"]).copy() if not series.empty else series
    groups = list(dict.fromkeys(data["dimension_value"])) if not data.empty else []
    symbols = ("circle", "square", "diamond", "triangle-up", "cross", "triangle-down", "star", "hexagon")
    for i, group in enumerate(groups):
        part = data.loc[data["dimension_value"] == group].sort_values("period_on")
        provisional = [str(s) == "provisional" for s in part["status"]] if "status" in part else [False] * len(part)
        colour = BLUE if str(group) == "all" else category_color(group)  # fixed per value, whatever is shown
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(part["period_on"]),
                y=part["value"],
                # Dense monthly series read better as lines; markers then mark provisional values only.
                mode="lines+markers",
                name="All" if str(group) == "all" else label(group),
                line={"color": colour, "width": 2},
                marker={
                    "symbol": [symbols[i % len(symbols)] + ("-open" if p else "") for p in provisional],
                    "size": [8 if (p or len(part) <= DENSE_SERIES) else 0 for p in provisional],
                    "color": colour,
                },
                customdata=["provisional" if p else "final" for p in provisional],
                hovertemplate="%{x|%b %Y}: %{y:,.4~g} " + unit + " (%{customdata})<extra>%{fullData.name}</extra>",
            )
        )
    for value, on, words, dash in (
        (baseline_value, baseline_on, "Baseline", "dash"),
        (target_value, target_on, "Target", "dot"),
    ):
        if value is None or pd.isna(value):
            continue
        when = f" ({pd.Timestamp(on):%b %Y})" if on is not None and not pd.isna(on) else ""
        fig.add_hline(
            y=float(value),
            line={"color": "#333333" if words == "Baseline" else VERMILLION, "dash": dash, "width": 1.5},
            annotation_text=f"{words} {float(value):,.4g}{'%' if unit == '%' else ' ' + unit}{when}",
            annotation_position="top left",
            annotation_font={"size": 12},
        )
        if words == "Target" and on is not None and not pd.isna(on):
            fig.add_trace(
                go.Scatter(
                    x=[pd.Timestamp(on)],
                    y=[float(value)],
                    mode="markers",
                    name="Target date",
                    marker={"symbol": "x-thin-open", "size": 14, "color": VERMILLION, "line": {"width": 2}},
                    hovertemplate=f"Target {float(value):,.4g} {unit} by %{{x|%b %Y}}<extra></extra>",
                )
            )
    if not data.empty:
        dates = pd.to_datetime(data["period_on"])
        for marker in version_markers(dates.min(), dates.max(), version_marks).itertuples(index=False):
            # A shape and an annotation, not add_vline(annotation_text=...), which fails on date axes.
            fig.add_shape(type="line", xref="x", yref="paper", x0=marker.on, x1=marker.on, y0=0, y1=1,
                          line={"color": "#777777", "dash": "dash", "width": 1}, name="version change")
            fig.add_annotation(x=marker.on, xref="x", y=1, yref="paper", text=marker.text, showarrow=False,
                               xanchor="right", yanchor="top", font={"size": 11, "color": "#444444"},
                               hovertext=marker.detail)
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        plot_bgcolor="white",
        yaxis={"title": {"text": unit}, "gridcolor": "#eeeeee", "zeroline": False},
        xaxis={"gridcolor": "#f3f3f3",
               **plotly_time_axis(data["period_on"] if not data.empty else pd.Series(dtype="datetime64[ns]"))},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="closest",
    )
    return fig
