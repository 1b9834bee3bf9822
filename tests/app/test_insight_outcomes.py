"""Each monthly M&E Insight names the Theory-of-Change outcome it reports on and opens it."""

from __future__ import annotations

from urllib.parse import parse_qs

from asi_me.data.snapshot import current_id
from asi_me.filters import Filters, Viewer
from asi_me.queries import outcomes
from tests.app.conftest import assert_clean
from tests.app.test_four_questions import _keyed


def test_each_insight_names_its_outcome_and_a_link_opens_it(open_app, demo_dir, demo_store):
    insights = outcomes.me_insights(demo_store, Viewer.public(), Filters())
    assert insights["toc_node_id"].notna().all() and insights["toc_node_id"].nunique() > 1
    at = open_app(demo_dir, params={"region": "Asia"})
    assert_clean(at)
    (table,) = [t.value for t in at.dataframe if "Reports on (Theory of change)" in t.value.columns]
    named = dict(zip(table["Code"], table["Reports on (Theory of change)"], strict=True))
    assert named == dict(zip(insights["indicator_code"], insights["toc_node_label"], strict=True))

    (block,) = _keyed(at.main, "insight_outcomes")
    links = list(block.get("page_link"))
    opened: dict[str, str] = {}
    for link in links:
        assert link.proto.page == "toc"
        query = parse_qs(link.proto.query_string)
        assert query["region"] == ["Asia"] and query["v"] == [current_id(demo_dir)]
        (node,) = query["node"]
        for code in link.proto.label.rsplit("(", 1)[1].rstrip(")").split(", "):
            opened[code] = node
    # Every insight's code is on exactly the link that opens its own node.
    assert opened == dict(zip(insights["indicator_code"], insights["toc_node_id"], strict=True))


def test_the_link_opens_the_explorer_on_that_outcome_with_the_insight_among_its_indicators(open_app, demo_dir,
                                                                                           demo_store):
    insights = outcomes.me_insights(demo_store, Viewer.public(), Filters())
    row = insights.iloc[-1]
    home = open_app(demo_dir)
    (block,) = _keyed(home.main, "insight_outcomes")
    (link,) = [link for link in block.get("page_link")
               if parse_qs(link.proto.query_string)["node"] == [row["toc_node_id"]]]
    at = open_app(demo_dir, page="pages/toc.py", params=parse_qs(link.proto.query_string))
    assert_clean(at)
    assert at.selectbox(key="toc_node").value == row["toc_node_id"]
    assert row["indicator_code"] in [o.split(" · ")[0] for o in at.selectbox(key="toc_indicator").options]
    assert row["toc_node_label"] in [s.value for s in at.header]
