"""The theory-of-change explorer in Streamlit's AppTest: every role, demo and empty data,
node and indicator from the URL, and the keyboard picker."""

from __future__ import annotations

import pytest

from asi_me.filters import Viewer
from asi_me.queries.toc import indicator_status
from asi_me.ui.toc_graph import status_text

PAGE = "pages/toc.py"
ROLES = ("public", "member", "secretariat")


def assert_clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("dataset", ["demo", "empty"])
def test_every_role_opens_the_explorer_without_error(open_app, demo_dir, empty_dir, demo_member, role, dataset) -> None:
    data_dir = demo_dir if dataset == "demo" else empty_dir
    at = open_app(data_dir, page=PAGE, role=role, member=demo_member if role == "member" else None)
    assert_clean(at)
    if dataset == "demo":
        assert len(at.get("plotly_chart")) == 1  # the graph, nothing selected yet
        assert "Pick a node" in " ".join(i.value for i in at.info)
    else:
        assert "has not been loaded" in " ".join(i.value for i in at.info)


def test_node_and_indicator_in_the_url_reopen_the_same_view(open_app, demo_dir, demo_store) -> None:
    status = indicator_status(demo_store, Viewer.public())
    ind = status.loc[status["track_status"] == "off_track"].iloc[0]
    at = open_app(demo_dir, page=PAGE, params={"node": ind["toc_node_id"], "indicator": ind["indicator_code"]})
    assert_clean(at)
    assert at.selectbox(key="toc_node").value == ind["toc_node_id"]
    assert at.selectbox(key="toc_indicator").value == ind["indicator_code"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Status"] == status_text("off_track") == "⚠ Off track"
    text = " ".join(m.value for m in at.markdown)
    assert f"### {ind['indicator_code']} · {ind['name']}" in text
    assert "Evidence: evaluations and Stories of Change" in text
    assert at.query_params["node"] == ind["toc_node_id"]
    assert at.query_params["indicator"] == ind["indicator_code"]


def test_picking_a_node_with_the_keyboard_list_opens_it_and_updates_the_link(open_app, demo_dir, demo_store) -> None:
    status = indicator_status(demo_store, Viewer.public())
    node = str(status["toc_node_id"].iloc[-1])
    at = open_app(demo_dir, page=PAGE)
    at.selectbox(key="toc_node").set_value(node).run()
    assert_clean(at)
    assert at.query_params["node"] == node
    codes = set(status.loc[status["toc_node_id"] == node, "indicator_code"])
    assert at.selectbox(key="toc_indicator").value in codes
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # the graph and the indicator series


def test_a_node_in_the_url_that_does_not_exist_falls_back_to_the_picker(open_app, demo_dir) -> None:
    at = open_app(demo_dir, page=PAGE, params={"node": "NOPE"})
    assert_clean(at)
    assert at.selectbox(key="toc_node").value is None
    assert "node" not in at.query_params
