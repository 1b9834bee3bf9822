"""Theory-of-change explorer: the ToC as a clickable column graph; a node's indicators with
definition, level, ISEAL flag, baseline, target, latest value and on-track status; a series
by disaggregation with baseline and target lines; and the evidence behind the node.
The selected node and indicator live in the URL (?node=, ?indicator=, ?dim=)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from asi_me.data.vocab import Dimension, label
from asi_me.queries.outcomes import version_breaks
from asi_me.queries.toc import (
    evidence_findings,
    indicator_evidence,
    indicator_series,
    node_indicators,
    toc_assumptions,
    toc_graph,
)
from asi_me.ui import cache, widgets
from asi_me.ui.context import is_phone, page_context
from asi_me.ui.palette import MISSING
from asi_me.ui.tables import display_frame
from asi_me.ui.toc_graph import COLUMN_TITLES, build_indicator_series, build_toc_figure, status_text

LEVELS = {
    "1": "Level 1: members' and certification data ASI holds",
    "2": "Level 2: case studies, surveys and collaborations",
    "3": "Level 3: independent evaluations",
}
NODE_COLUMNS = {
    "node_id": "Node",
    "label": "Name",
    "node_type": "Type",
    "impact_area": "Impact area",
    "n_indicators": "Indicators",
    "worst_status_label": "Worst indicator status",
}
INDICATOR_COLUMNS = {
    "indicator_code": "Code",
    "name": "Indicator",
    "level": "Level",
    "unit": "Unit",
    "baseline_value": "Baseline",
    "target_value": "Target",
    "latest_value": "Latest",
    "track_status_label": "Status",
}


def _sync(param: str, value: str | None) -> None:
    if value:
        if st.query_params.get(param) != value:
            st.query_params[param] = value
    elif param in st.query_params:
        del st.query_params[param]


def _on_graph_select() -> None:
    """A click on a node opens it (the selectbox below follows)."""
    state = st.session_state.get("toc_graph")
    points = state.selection.points if state is not None else []
    traces = st.session_state.get("toc_trace_ids", {})
    for point in points:
        node = point.get("customdata")
        if isinstance(node, list | tuple):
            node = node[0] if node else None
        if not isinstance(node, str):
            ids = traces.get(point.get("curve_number"), [])
            index = point.get("point_index", point.get("point_number"))
            node = ids[index] if isinstance(index, int) and index < len(ids) else None
        if node:
            st.session_state["toc_node"] = node
            st.session_state.pop("toc_indicator", None)
            return


def _value(value: object, unit: str) -> str:
    if value is None or pd.isna(value):
        return MISSING
    number = float(value)
    text = f"{number:,.0f}" if number.is_integer() or abs(number) >= 100 else f"{number:,.2f}".rstrip("0").rstrip(".")
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def _date(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%b %Y}"


def _indicator_detail(ind: pd.Series, viewer, filters, minimum: int) -> None:
    unit = str(ind["unit"])
    st.markdown(f"### {ind['indicator_code']} · {ind['name']}")
    st.markdown(ind["definition"])
    tiles = st.columns([1, 1, 1, 1.5])
    tiles[0].metric(
        "Baseline",
        _value(ind["baseline_value"], unit),
        border=True,
        help=f"Measured {_date(ind['baseline_on'])}" if _date(ind["baseline_on"]) else None,
    )
    tiles[1].metric(
        "Target",
        _value(ind["target_value"], unit),
        border=True,
        help=f"To reach by {_date(ind['target_on'])}" if _date(ind["target_on"]) else None,
    )
    latest_note = _date(ind["latest_period_on"])
    if str(ind.get("latest_status")) == "provisional":
        latest_note += " (provisional)"
    tiles[2].metric("Latest value", _value(ind["latest_value"], unit), border=True, help=latest_note or None)
    tiles[3].metric(
        "Status",
        status_text(ind["track_status"]),
        border=True,
        help="On track when the latest value is at or beyond the straight line from baseline to "
        "target at that date (within 5% of target for 'maintain' indicators).",
    )
    cci = (
        f"Yes: {ind['iseal_cci_area']}"
        if bool(ind["is_iseal_cci"]) and isinstance(ind["iseal_cci_area"], str)
        else ("Yes" if bool(ind["is_iseal_cci"]) else "No")
    )
    facts = pd.DataFrame(
        {
            "Field": [
                "Unit",
                "Level",
                "Data source",
                "Frequency",
                "ISEAL Common Core Indicator",
                "Desired direction",
                "Latest period",
            ],
            "Value": [
                unit,
                LEVELS.get(str(ind["level"]), str(ind["level"])),
                str(ind["data_source"]),
                label(ind["frequency"]),
                cci,
                label(ind["direction"]),
                latest_note or "no value yet",
            ],
        }
    )
    st.dataframe(facts, hide_index=True, key=f"toc_facts_{ind['indicator_code']}")

    code = str(ind["indicator_code"])
    available: dict[str, pd.DataFrame] = {}
    for dimension in Dimension:
        frame = cache.cached(indicator_series, viewer, code, dimension.value, filters)
        if not frame.empty:
            available[dimension.value] = frame
    if not available:
        widgets.empty_state(f"No values of {code} have been recorded up to the as-of date yet.")
        return
    dims = list(available)
    wanted = st.query_params.get("dim")
    if st.session_state.get("toc_dim") not in dims:
        st.session_state["toc_dim"] = wanted if wanted in dims else dims[0]
    dim = (
        st.segmented_control(
            "Break down by", dims, format_func=lambda d: "Total" if d == "total" else label(d), key="toc_dim"
        )
        or dims[0]
    )
    _sync("dim", dim if dim != dims[0] else None)
    series = available[dim]
    widgets.figure_card(
        f"{ind['name']} ({unit}) by {'total' if dim == 'total' else label(dim).lower()}",
        series[["period_on", "dimension", "dimension_value", "value", "status"]],
        lambda: st.plotly_chart(
            build_indicator_series(
                series,
                unit=unit,
                baseline_value=ind["baseline_value"],
                baseline_on=ind["baseline_on"],
                target_value=ind["target_value"],
                target_on=ind["target_on"],
                version_marks=cache.cached(version_breaks, viewer, filters),
            ),
            key=f"toc_series_{code}_{dim}",
            config={"displaylogo": False},
        ),
        key=f"toc_series_{code}_{dim}",
        source=str(ind["data_source"]),
        min_reporters=minimum,
        note="Dashed line: baseline; dotted line: target. Hollow markers are provisional values. Thin vertical lines "
        "mark new standard versions: figures either side are not comparable.",
    )


def _evidence(evidence: pd.DataFrame) -> None:
    st.markdown("### Evidence: evaluations and Stories of Change")
    if evidence.empty:
        widgets.empty_state("No evaluation or Story of Change is linked to this part of the Theory of Change yet.")
        return
    for row in evidence.itertuples(index=False):
        with st.container(border=True):
            when = _date(row.completed_on) or (f"started {_date(row.started_on)}" if _date(row.started_on) else "")
            st.markdown(
                f"**{row.title}**  \n{row.kind_label} · {row.status_label}"
                + (f" · {when}" if when else "")
                + (f" · {row.author}" if isinstance(row.author, str) else "")
            )
            st.caption(row.summary)
            if isinstance(row.url, str) and row.url:
                st.link_button("Read it", row.url, icon=":material/open_in_new:", type="tertiary")


def _graph_card(figure: object, graph_table: pd.DataFrame, minimum: int) -> None:
    widgets.figure_card(
        "Theory of Change",
        graph_table,
        lambda: st.plotly_chart(
            figure,
            key="toc_graph",
            on_select=_on_graph_select,
            selection_mode="points",
            config={"displaylogo": False, "displayModeBar": False},
            alt="Theory of Change graph: strategies, outputs, short- and medium-term outcomes, long-term impacts.",
        ),
        key="toc_nodes",
        source="ASI M&E Plan and Theory of Change.",
        min_reporters=minimum,
        titles=NODE_COLUMNS,
        note="Shapes mark the node type (■ strategy, ◆ output, ● short-term, ⬢ medium-term outcome, ★ impact); "
        "the selected node's causal path stays dark.",
    )


def _node_list(nodes: pd.DataFrame) -> None:
    """The Theory of Change as a list per level, each node with its worst indicator status (phones)."""
    st.markdown("**Theory of Change**: each level's nodes, with the worst status of their indicators. "
                "Pick a node below to see its indicators.")
    for level, group in nodes.groupby("node_type_label", sort=False):
        with st.expander(f"{level} ({len(group)})"):
            st.markdown("\n".join(
                f"- {row.label}" + (f" · *{row.worst_status_label}*" if isinstance(row.worst_status_label, str)
                                   and row.worst_status_label else "")
                for row in group.itertuples()))


def _findings(findings: pd.DataFrame, assumptions: pd.DataFrame) -> None:
    """What evaluations found about this node, and the assumptions it rests on ("are these the right things?")."""
    if findings.empty and assumptions.empty:
        return
    st.markdown("#### What the evidence found, and the assumptions behind this node")
    for row in findings.itertuples(index=False):
        with st.container(border=True):
            st.badge(str(row.bearing_label), color="green" if row.bearing == "confirms" else "orange")
            about = f" ({row.indicator_code} · {row.indicator_name})" if isinstance(row.indicator_code, str) else ""
            st.markdown(f"{row.finding}{about}")
            st.caption(str(row.evidence_title))
    for row in assumptions.itertuples(index=False):
        with st.container(border=True):
            st.badge(f"Assumption: {row.status_label}", color={"questioned": "orange", "holds": "green"}.get(
                row.status, "gray"))
            st.markdown(str(row.assumption))
            if isinstance(row.evidence_title, str):
                st.caption(f"Tested by: {row.evidence_title}")


@st.fragment
def _explorer(graph, ctx) -> None:
    """The graph, the node picker and the node's indicators and evidence: picking a node reruns this part only."""
    viewer, filters, minimum = ctx.viewer, ctx.filters, ctx.min_reporters
    nodes, edges = graph.nodes, graph.edges
    ids, names, types = graph.node_ids, graph.labels, graph.node_types
    wanted = st.query_params.get("node")
    if "toc_node" not in st.session_state:
        st.session_state["toc_node"] = wanted if wanted in ids else None
    elif st.session_state["toc_node"] not in [*ids, None]:
        st.session_state["toc_node"] = None
    selected = st.session_state.get("toc_node")

    height = 560 if ctx.presenting else 640
    # Built once per snapshot, viewer, filters and selection (about 100 ms of plotly work).
    figure = cache.cached_view(
        "toc_graph",
        (repr(viewer), repr(filters), selected, height),
        lambda: build_toc_figure(
            nodes,
            edges,
            selected,
            indicator_counts=graph.indicator_counts,
            node_status=graph.worst_statuses,
            height=height,
        ),
    )
    st.session_state["toc_trace_ids"] = {
        i: list(trace.customdata) for i, trace in enumerate(figure.data) if trace.customdata is not None
    }
    graph_table = nodes[list(NODE_COLUMNS)]
    if is_phone():  # five columns of labels cannot be read on a phone: the same nodes as a list
        _node_list(nodes)
    else:
        _graph_card(figure, graph_table, minimum)

    with st.container(key="controls_toc_picker"):
        st.selectbox(
            "Node",
            ids,
            key="toc_node",
            placeholder="Pick a node of the Theory of Change",
            format_func=lambda n: f"{COLUMN_TITLES.get(types[n], label(types[n]))} · {names[n]}",
            help="Keyboard-friendly alternative to clicking the graph.",
        )
    selected = st.session_state.get("toc_node")
    _sync("node", selected)
    if not selected:
        _sync("indicator", None)
        widgets.empty_state("Pick a node in the graph or the list above to see its indicators and evidence.")
        return

    node = graph.node(selected) or {}
    st.header(names[selected])
    area = f" · impact area: {label(node['impact_area'])}" if isinstance(node.get("impact_area"), str) else ""
    st.caption(f"{label(node['node_type'])}{area}")
    if isinstance(node.get("description"), str):
        st.markdown(node["description"])

    indicators = cache.cached(node_indicators, viewer, selected, filters)
    if indicators.empty:
        widgets.empty_state(
            "No indicator measures this node directly; see the evidence below and the nodes it links to."
        )
    else:
        listing = indicators.assign(track_status_label=[status_text(s) for s in indicators["track_status"]])
        shown = display_frame(listing[list(INDICATOR_COLUMNS)], titles=INDICATOR_COLUMNS, min_reporters=minimum)
        st.dataframe(shown, hide_index=True, key=f"toc_ind_table_{selected}")
        _indicator_section(indicators, viewer, filters, minimum)
    if indicators.empty:
        _sync("indicator", None)
    _evidence(cache.cached(indicator_evidence, viewer, None, selected))
    _findings(cache.cached(evidence_findings, viewer, selected), cache.cached(toc_assumptions, viewer, selected))


@st.fragment
def _indicator_section(indicators: pd.DataFrame, viewer, filters, minimum: int) -> None:
    """The indicator picker and its detail: picking an indicator reruns this part only."""
    codes = [str(c) for c in indicators["indicator_code"]]
    wanted_ind = st.query_params.get("indicator")
    if st.session_state.get("toc_indicator") not in codes:
        st.session_state["toc_indicator"] = wanted_ind if wanted_ind in codes else codes[0]
    ind_names = dict(zip(codes, indicators["name"].astype(str), strict=True))
    code = st.selectbox("Indicator", codes, key="toc_indicator", format_func=lambda c: f"{c} · {ind_names[c]}")
    _sync("indicator", code)
    _indicator_detail(indicators.iloc[codes.index(code)], viewer, filters, minimum)


def main() -> None:
    ctx = page_context()
    viewer, filters = ctx.viewer, ctx.filters
    st.caption(
        "How ASI's strategies lead to outputs, outcomes and its long-term impacts on Standards, Uptake and "
        "Reputation. Click a node (or pick it below) to see the indicators that measure it and the evidence."
    )
    graph = cache.cached(toc_graph, viewer, filters) if ctx.has_data else None
    if graph is None or graph.nodes.empty:
        widgets.empty_state(
            "The Theory of Change has not been loaded, so there is nothing to explore.",
            hint="Load the toc_nodes, toc_edges and indicators tables with `python -m asi_me ingest PATH`.",
        )
        return
    _explorer(graph, ctx)


main()
