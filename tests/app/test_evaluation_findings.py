"""Are these the right things to do? The Evaluations screen's findings, each linked to the
ToC outcome and indicator it confirms or questions, and the ToC's assumptions."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from asi_me.data.snapshot import current_id
from asi_me.filters import Viewer
from asi_me.queries import toc
from asi_me.ui.questions import FINDINGS_SECTION
from tests.app.conftest import ROLES, assert_clean
from tests.app.test_four_questions import _keyed

PAGE = "pages/evaluations.py"


def _link(at, key: str):
    (block,) = _keyed(at.main, key)
    (link,) = block.get("page_link")
    return link


@pytest.mark.parametrize("role", ROLES)
def test_each_finding_opens_the_outcome_and_indicator_it_bears_on(open_app, demo_dir, demo_store, demo_member, role):
    at = open_app(demo_dir, page=PAGE, role=role, member=demo_member if role == "member" else None,
                  params={"section": FINDINGS_SECTION, "region": "Europe"})
    assert_clean(at)
    findings = toc.evidence_findings(demo_store, Viewer.public())
    assert len(findings) >= 2 and set(findings["bearing"]) == {"confirms", "questions"}
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Findings that confirm"] == str((findings["bearing"] == "confirms").sum())
    assert metrics["Findings that question"] == str((findings["bearing"] == "questions").sum())
    badges = " ".join(m.value for m in at.markdown)
    for row in findings.itertuples(index=False):
        link = _link(at, f"finding_link_{row.evidence_id}_{row.finding_no}")
        assert link.proto.page == "toc"
        query = parse_qs(link.proto.query_string)
        assert query["node"] == [row.toc_node_id]
        assert query.get("indicator") == ([row.indicator_code] if isinstance(row.indicator_code, str) else None)
        assert query["region"] == ["Europe"] and query["v"] == [current_id(demo_dir)]
        assert link.proto.label == (f"{row.indicator_code} · {row.indicator_name}"
                                    if isinstance(row.indicator_code, str) else "Open in the Theory of change")
        (named,) = _keyed(at.main, f"finding_link_{row.evidence_id}_{row.finding_no}")
        assert [c.value for c in named.get("caption")] == [f"{row.toc_node_type_label}: {row.toc_node_label}"]
        assert row.finding in badges
    questioned = toc.toc_assumptions(demo_store, Viewer.public())
    assert metrics["Assumptions questioned"] == str((questioned["status"] == "questioned").sum())
    for row in questioned.itertuples(index=False):
        assert parse_qs(_link(at, f"assumption_link_{row.assumption_id}").proto.query_string)["node"] == [
            row.toc_node_id]


def test_a_finding_link_opens_the_explorer_on_its_indicator_even_after_another_node(open_app, demo_dir, demo_store):
    findings = toc.evidence_findings(demo_store, Viewer.public())
    row = findings.loc[findings["indicator_code"].notna()].iloc[-1]
    other = next(n for n in toc.toc_graph(demo_store, Viewer.public()).node_ids if n != row["toc_node_id"])
    at = open_app(demo_dir, page="pages/toc.py", params={"node": other})
    assert at.selectbox(key="toc_node").value == other
    at.query_params["section"] = FINDINGS_SECTION  # the findings are built only in their open tab
    at.switch_page(PAGE).run()
    link = _link(at, f"finding_link_{row['evidence_id']}_{row['finding_no']}")
    for key in list(at.query_params):
        del at.query_params[key]
    for key, values in parse_qs(link.proto.query_string).items():
        at.query_params[key] = values
    at.switch_page("pages/toc.py").run()
    assert_clean(at)
    assert at.selectbox(key="toc_node").value == row["toc_node_id"]
    assert at.selectbox(key="toc_indicator").value == row["indicator_code"]


def test_an_empty_snapshot_explains_there_are_no_findings(open_app, empty_dir):
    at = open_app(empty_dir, page=PAGE, params={"section": FINDINGS_SECTION})
    assert_clean(at)
    messages = " ".join(i.value for i in at.info)
    assert "No findings of evaluations or Stories of Change" in messages
    assert "No assumptions of the Theory of Change" in messages


def test_the_explorer_shows_what_the_evidence_found_about_the_selected_node(open_app, demo_dir, demo_store):
    findings = toc.evidence_findings(demo_store, Viewer.public())
    assumptions = toc.toc_assumptions(demo_store, Viewer.public())
    node = findings["toc_node_id"].value_counts().index[0]
    at = open_app(demo_dir, page="pages/toc.py", params={"node": node})
    assert_clean(at)
    text = " ".join(m.value for m in at.markdown)
    mine = findings.loc[findings["toc_node_id"] == node]
    assert all(f in text for f in mine["finding"])
    assert all(a in text for a in assumptions.loc[assumptions["toc_node_id"] == node, "assumption"])
    assert not any(f in text for f in findings.loc[findings["toc_node_id"] != node, "finding"])


def test_only_the_open_section_is_built(open_app, demo_dir, demo_store):
    evidence = open_app(demo_dir, page=PAGE)
    assert_clean(evidence)
    labels = [m.label for m in evidence.metric]
    assert "Evaluations completed" in labels and "Findings that confirm" not in labels
    findings = open_app(demo_dir, page=PAGE, params={"section": FINDINGS_SECTION})
    assert_clean(findings)
    labels = [m.label for m in findings.metric]
    assert "Findings that confirm" in labels and "Evaluations completed" not in labels
    # the findings' table is sent once its section is opened, and a link reopens it
    assert not any("Bearing" in t.value.columns for t in findings.dataframe)
    table = open_app(demo_dir, page=PAGE, params={"section": FINDINGS_SECTION, "findings_table": "true"})
    assert_clean(table)
    shown = next(t.value for t in table.dataframe if "Bearing" in t.value.columns)
    assert len(shown) == len(toc.evidence_findings(demo_store, Viewer.public()))
