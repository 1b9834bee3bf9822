"""The theory-of-change graph layout and indicator series, on tiny frames."""

from __future__ import annotations

import pandas as pd

from asi_me.ui.toc_graph import (
    COLUMN_ORDER,
    build_indicator_series,
    build_toc_figure,
    connected_nodes,
    selected_node_id,
    status_text,
    toc_layout,
)


def graph() -> tuple[pd.DataFrame, pd.DataFrame]:
    nodes = pd.DataFrame(
        {
            "node_id": ["I1", "S1", "S2", "O1", "O2", "ST1", "MT1"],
            "label": ["Standards", "Credible program", "Growing membership", "Audits", "Members", "Uptake", "Trust"],
            "node_type": [
                "long_term_impact",
                "strategy",
                "strategy",
                "output",
                "output",
                "short_term_outcome",
                "medium_term_outcome",
            ],
            "impact_area": ["standards", None, None, None, None, None, None],
        }
    )
    edges = pd.DataFrame(
        {
            "source_node_id": ["S1", "S2", "O1", "O2", "ST1", "MT1"],
            "target_node_id": ["O2", "O1", "ST1", "ST1", "MT1", "I1"],
        }
    )
    return nodes, edges


def test_layout_puts_every_node_type_in_its_column_in_order() -> None:
    nodes, edges = graph()
    laid = toc_layout(nodes, edges).set_index("node_id")
    assert list(COLUMN_ORDER) == ["strategy", "output", "short_term_outcome", "medium_term_outcome", "long_term_impact"]
    for node_id, row in laid.iterrows():
        assert row["x"] == COLUMN_ORDER.index(row["node_type"]), node_id
    assert laid.loc["S1", "x"] < laid.loc["O1", "x"] < laid.loc["ST1", "x"] < laid.loc["MT1", "x"] < laid.loc["I1", "x"]


def test_layout_orders_a_column_by_its_parents_to_avoid_crossings() -> None:
    nodes, edges = graph()
    laid = toc_layout(nodes, edges).set_index("node_id")
    # S1 is above S2; O2 comes from S1 and O1 from S2, so O2 sits above O1.
    assert laid.loc["S1", "y"] < laid.loc["S2", "y"]
    assert laid.loc["O2", "y"] < laid.loc["O1", "y"]


def test_selected_node_path_covers_upstream_and_downstream() -> None:
    _, edges = graph()
    assert connected_nodes(edges, "ST1") == {"ST1", "O1", "O2", "S1", "S2", "MT1", "I1"}
    assert connected_nodes(edges, "O1") == {"O1", "S2", "ST1", "MT1", "I1"}


def test_figure_has_one_clickable_trace_per_node_type_carrying_node_ids() -> None:
    nodes, edges = graph()
    fig = build_toc_figure(nodes, edges, "O1", indicator_counts={"O1": 2}, node_status={"O1": "off_track"})
    traces = [t for t in fig.data if t.customdata is not None]
    assert [t.name for t in traces] == [
        "Strategies",
        "Outputs",
        "Short-term outcomes",
        "Medium-term outcomes",
        "Long-term impacts",
    ]
    assert sorted(i for t in traces for i in t.customdata) == sorted(nodes["node_id"])
    outputs = traces[1]
    assert "2 indicators" in " ".join(outputs.hovertext)
    assert "Off track" in " ".join(outputs.hovertext)
    assert selected_node_id([{"customdata": "O1"}]) == "O1"
    assert selected_node_id([{"x": 1}]) is None


def test_status_has_an_icon_and_words() -> None:
    assert status_text("on_track") == "✓ On track"
    assert status_text("off_track") == "⚠ Off track"
    assert status_text(None) == "… No data yet"


def test_series_draws_one_line_per_group_with_baseline_and_target() -> None:
    series = pd.DataFrame(
        {
            "period_on": pd.to_datetime(["2022-01-01", "2023-01-01", "2022-01-01", "2023-01-01"]),
            "dimension_value": ["Europe", "Europe", "Asia", "Asia"],
            "value": [10.0, 12.0, 5.0, 6.0],
            "status": ["final", "provisional", "final", "final"],
        }
    )
    fig = build_indicator_series(
        series,
        unit="%",
        baseline_value=8.0,
        baseline_on=pd.Timestamp("2021-12-31"),
        target_value=20.0,
        target_on=pd.Timestamp("2027-12-31"),
    )
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["Europe", "Asia"]
    assert list(lines[0].y) == [10.0, 12.0]
    assert lines[0].marker.symbol[1].endswith("-open")  # provisional value is hollow
    texts = [a.text for a in fig.layout.annotations]
    assert "Baseline 8% (Dec 2021)" in texts
    assert "Target 20% (Dec 2027)" in texts
