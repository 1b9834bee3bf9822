"""Theory-of-change queries: graph, on-track rule on constructed indicators, series and evidence."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from conftest import make_store

from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.queries import toc

PUBLIC = Viewer.public()


def indicator(code: str, node: str, **overrides) -> dict:
    row = {
        "indicator_code": code, "name": f"Indicator {code}", "definition": "Definition.", "unit": "%",
        "level": "1", "data_source": "elementAl", "frequency": "annual", "is_iseal_cci": False,
        "iseal_cci_area": None, "direction": "increase", "baseline_value": None, "baseline_on": None,
        "target_value": None, "target_on": None, "toc_node_id": node,
    }
    return row | overrides


def observation(code: str, on: date, value: float, dimension: str = "total", dimension_value: str = "all") -> dict:
    return {"indicator_code": code, "period_on": on, "dimension": dimension, "dimension_value": dimension_value,
            "value": value, "status": "final"}


@pytest.fixture
def store(tmp_path) -> Store:
    # ST-1 rises from 40 (2020-01-01) to 80 (2024-01-01): on 2022-01-01 the line is at 60.
    return make_store(
        tmp_path,
        toc_nodes=[
            {"node_id": "S1", "label": "Standards setting", "node_type": "strategy", "impact_area": None},
            {"node_id": "O1", "label": "Certified entities improve", "node_type": "short_term_outcome",
             "impact_area": "standards"},
            {"node_id": "L1", "label": "Standards impact", "node_type": "long_term_impact", "impact_area": "standards"},
        ],
        toc_edges=[{"source_node_id": "S1", "target_node_id": "O1"}, {"source_node_id": "O1", "target_node_id": "L1"}],
        indicators=[
            indicator("ST-1", "O1", baseline_value=40.0, baseline_on=date(2020, 1, 1), target_value=80.0,
                      target_on=date(2024, 1, 1), is_iseal_cci=True, iseal_cci_area="Certification and verification"),
            indicator("ST-2", "O1", direction="decrease", target_value=5.0),
            indicator("ST-3", "S1"),
        ],
        indicator_observations=[
            observation("ST-1", date(2021, 1, 1), 55.0),
            observation("ST-1", date(2022, 1, 1), 58.0),
            observation("ST-1", date(2022, 1, 1), 70.0, "region", "Europe"),
            observation("ST-1", date(2022, 1, 1), 30.0, "region", "Asia"),
            observation("ST-2", date(2022, 1, 1), 4.0),
        ],
        evidence=[
            {"evidence_id": "E1", "kind": "evaluation", "title": "Outcome evaluation", "status": "completed",
             "started_on": date(2021, 1, 1), "completed_on": date(2022, 3, 1), "author": "Evaluator",
             "summary": "Findings.", "url": None, "toc_node_ids": ["O1", "L1"]},
            {"evidence_id": "E2", "kind": "story_of_change", "title": "A story", "status": "completed",
             "started_on": None, "completed_on": date(2021, 6, 1), "author": None, "summary": "Story.",
             "url": None, "toc_node_ids": ["S1"]},
            {"evidence_id": "E3", "kind": "evaluation", "title": "Planned evaluation", "status": "planned",
             "started_on": None, "completed_on": None, "author": None, "summary": "Plan.", "url": None,
             "toc_node_ids": ["L1"]},
        ],
        evidence_findings=[
            {"evidence_id": "E1", "finding_no": 1, "finding": "Entities improved.", "toc_node_id": "O1",
             "indicator_code": "ST-1", "bearing": "confirms"},
            {"evidence_id": "E1", "finding_no": 2, "finding": "Impact not yet visible.", "toc_node_id": "L1",
             "indicator_code": None, "bearing": "questions"},
        ],
        toc_assumptions=[
            {"assumption_id": "A1", "toc_node_id": "L1", "assumption": "Markets reward it.", "status": "untested",
             "evidence_id": None},
            {"assumption_id": "A2", "toc_node_id": "O1", "assumption": "Audits are consistent.",
             "status": "questioned", "evidence_id": "E1"},
        ],
    )


def test_straight_line_rule_on_a_constructed_indicator():
    args = ("increase", 40.0, date(2020, 1, 1), 80.0, date(2024, 1, 1))
    # half-way (2022-01-01 is 731 of 1461 days) the line is at 60.01
    assert toc.expected_value(40.0, date(2020, 1, 1), 80.0, date(2024, 1, 1), date(2022, 1, 1)) == pytest.approx(
        40 + 40 * 731 / 1461
    )
    late = date(2025, 1, 1)

    def status(*rule, value, on=late):
        return toc.track_status(*rule, latest_value=value, latest_on=on)

    assert status(*args, value=61.0, on=date(2022, 1, 1)) == "on_track"
    assert status(*args, value=58.0, on=date(2022, 1, 1)) == "off_track"
    assert status(*args, value=79.0) == "off_track"  # target date passed: 80 is expected
    assert status(*args, value=40.0, on=date(2019, 6, 1)) == "on_track"  # before the baseline: hold at 40
    assert status("decrease", 10.0, date(2020, 1, 1), 0.0, date(2030, 1, 1), value=4.0) == "on_track"  # line at 5
    assert status("decrease", None, None, 5.0, None, value=6.0) == "off_track"  # no baseline: the target itself
    assert status("maintain", None, None, 100.0, None, value=96.0) == "on_track"
    assert status("maintain", None, None, 100.0, None, value=94.0) == "off_track"
    assert status("increase", None, None, None, None, value=5.0) == "no_target"
    assert status("increase", None, None, 5.0, None, value=None, on=None) == "no_data"


def test_indicator_status_uses_latest_value_at_as_of(store):
    frame = toc.indicator_status(store, PUBLIC, Filters(as_of=date(2022, 12, 31))).set_index("indicator_code")
    assert frame.loc["ST-1", "latest_value"] == 58.0  # the total, not a region
    assert frame.loc["ST-1", "track_status"] == "off_track"  # 58 < 60.0
    assert frame.loc["ST-1", "expected_value"] == pytest.approx(40 + 40 * 731 / 1461)
    assert frame.loc["ST-2", "track_status"] == "on_track"
    assert frame.loc["ST-3", "track_status"] == "no_data"
    assert bool(frame.loc["ST-1", "is_iseal_cci"]) and frame.loc["ST-1", "iseal_cci_area"].startswith("Cert")
    # In 2021 ST-1 was 55 against a line at 50: on track then.
    earlier = toc.indicator_status(store, PUBLIC, Filters(as_of=date(2021, 6, 30))).set_index("indicator_code")
    assert earlier.loc["ST-1", "track_status"] == "on_track"
    assert earlier.loc["ST-2", "track_status"] == "no_data"



def test_an_as_of_date_before_the_first_observation_gives_no_data_without_a_trajectory_value(store):
    # ST-1 has a baseline (2020) and a target (2024) but no value until 2021-01-01.
    frame = toc.indicator_status(store, PUBLIC, Filters(as_of=date(2020, 6, 30))).set_index("indicator_code")
    assert frame["track_status"].to_dict() == {"ST-1": "no_data", "ST-2": "no_data", "ST-3": "no_data"}
    assert frame["expected_value"].isna().all()
    assert toc.toc_graph(store, PUBLIC, Filters(as_of=date(2020, 6, 30))).worst_statuses == {
        "S1": "no_data", "O1": "no_data"
    }

def test_graph_levels_counts_and_worst_status(store):
    graph = toc.toc_graph(store, PUBLIC, Filters(as_of=date(2022, 12, 31)))
    nodes = graph.nodes.set_index("node_id")
    assert nodes["level_order"].to_dict() == {"S1": 0, "O1": 2, "L1": 4}
    assert nodes.loc["O1", "n_indicators"] == 2
    assert nodes.loc["O1", "worst_status"] == "off_track"  # ST-1 off track beats ST-2 on track
    assert nodes.loc["S1", "worst_status"] == "no_data"
    assert pd.isna(nodes.loc["L1", "worst_status"]) and nodes.loc["L1", "n_indicators"] == 0
    assert len(graph.edges) == 2
    assert toc.node_indicators(store, PUBLIC, "O1")["indicator_code"].tolist() == ["ST-1", "ST-2"]


def test_graph_lookups_the_page_uses(store):
    graph = toc.toc_graph(store, PUBLIC, Filters(as_of=date(2022, 12, 31)))
    assert graph.node_ids == ["S1", "O1", "L1"]
    assert graph.labels["O1"] == "Certified entities improve"
    assert graph.node_types == {"S1": "strategy", "O1": "short_term_outcome", "L1": "long_term_impact"}
    assert graph.indicator_counts == {"S1": 1, "O1": 2, "L1": 0}
    assert graph.worst_statuses == {"S1": "no_data", "O1": "off_track"}  # L1 has no indicator
    labels = graph.nodes["worst_status_label"]
    assert labels.iloc[:2].tolist() == ["No data", "Off track"] and pd.isna(labels.iloc[2])
    assert graph.node("L1")["impact_area"] == "standards"
    assert graph.node("NOPE") is None
    assert graph.node(None) is None


def test_series_by_dimension_and_filters(store):
    total = toc.indicator_series(store, PUBLIC, "ST-1", "total", Filters(as_of=date(2022, 12, 31)))
    assert total["value"].tolist() == [55.0, 58.0]
    regions = toc.indicator_series(store, PUBLIC, "ST-1", "region", Filters(as_of=date(2022, 12, 31)))
    assert regions["dimension_value"].tolist() == ["Asia", "Europe"]
    europe = toc.indicator_series(store, PUBLIC, "ST-1", "region", Filters(regions=("Europe",)))
    assert europe["value"].tolist() == [70.0]
    later = toc.indicator_series(store, PUBLIC, "ST-1", "total", Filters(period_from=date(2021, 6, 1)))
    assert later["value"].tolist() == [58.0]
    with pytest.raises(ValueError, match="Cannot break indicator ST-1 down by 'member_id'"):
        toc.indicator_series(store, PUBLIC, "ST-1", "member_id")


def test_evidence_linked_to_node_or_indicator(store):
    assert toc.indicator_evidence(store, PUBLIC, node_id="L1")["evidence_id"].tolist() == ["E1", "E3"]
    assert toc.indicator_evidence(store, PUBLIC, indicator_code="ST-3")["evidence_id"].tolist() == ["E2"]
    assert toc.indicator_evidence(store, PUBLIC, indicator_code="NOPE").empty
    assert toc.evidence_list(store, PUBLIC)["evidence_id"].tolist() == ["E1", "E2", "E3"]
    assert toc.evidence_list(store, PUBLIC, kind="evaluation", status="planned")["evidence_id"].tolist() == ["E3"]
    assert toc.evidence_list(store, PUBLIC, kind="story_of_change")["kind_label"].tolist() == ["Story of Change"]
    with pytest.raises(ValueError, match="Evaluation status 'done' is unknown"):
        toc.evidence_list(store, PUBLIC, status="done")


def test_evidence_list_narrows_by_outcome_kind_and_status_and_names_the_outcomes(store):
    # E1 evidences O1 and L1, E2 evidences S1, E3 evidences L1.
    assert toc.evidence_list(store, PUBLIC, node_id="L1")["evidence_id"].tolist() == ["E1", "E3"]
    assert toc.evidence_list(store, PUBLIC, "evaluation", "completed", "L1")["evidence_id"].tolist() == ["E1"]
    assert toc.evidence_list(store, PUBLIC, "story_of_change", node_id="L1").empty
    assert toc.evidence_list(store, PUBLIC, node_id="NOPE").empty
    listing = toc.evidence_list(store, PUBLIC)
    assert listing["outcomes"].tolist() == [
        "Certified entities improve; Standards impact", "Standards setting", "Standards impact"
    ]
    assert listing["toc_node_labels"].iloc[0] == ["Certified entities improve", "Standards impact"]


def test_evidence_by_outcome_counts_each_kind_per_node_by_name(store):
    frame = toc.evidence_by_outcome(store, PUBLIC)
    assert frame[["node_id", "label", "evaluations", "stories_of_change", "items"]].to_dict("records") == [
        {"node_id": "O1", "label": "Certified entities improve", "evaluations": 1, "stories_of_change": 0,
         "items": 1},
        {"node_id": "L1", "label": "Standards impact", "evaluations": 2, "stories_of_change": 0, "items": 2},
        {"node_id": "S1", "label": "Standards setting", "evaluations": 0, "stories_of_change": 1, "items": 1},
    ]


def test_evidence_counts_split_evaluations_by_status(store):
    counts = toc.evidence_counts(store, PUBLIC)
    assert (counts.evaluations_completed, counts.evaluations_ongoing, counts.evaluations_planned) == (1, 0, 1)
    assert counts.stories_of_change == 1
    assert counts.total == 3


def test_evidence_queries_on_an_empty_register(tmp_path):
    empty = make_store(tmp_path)
    assert toc.evidence_list(empty, PUBLIC).empty
    assert toc.evidence_by_outcome(empty, PUBLIC).empty
    assert toc.evidence_counts(empty, PUBLIC).total == 0


def test_findings_name_the_node_and_indicator_they_confirm_or_question(store):
    findings = toc.evidence_findings(store, PUBLIC)
    assert findings[["finding_no", "toc_node_label", "indicator_name", "bearing_label"]].astype(object).where(
        findings[["finding_no", "toc_node_label", "indicator_name", "bearing_label"]].notna(), None
    ).values.tolist() == [
        [1, "Certified entities improve", "Indicator ST-1", "Confirms"],
        [2, "Standards impact", None, "Questions"],
    ]
    assert findings["evidence_title"].tolist() == ["Outcome evaluation"] * 2
    assert toc.evidence_findings(store, PUBLIC, node_id="L1")["finding_no"].tolist() == [2]
    assert toc.evidence_findings(store, PUBLIC, bearing="confirms")["toc_node_id"].tolist() == ["O1"]
    with pytest.raises(ValueError, match="confirms or questions"):
        toc.evidence_findings(store, PUBLIC, bearing="1; drop table x")


def test_assumptions_list_questioned_ones_first_with_what_tested_them(store):
    assumptions = toc.toc_assumptions(store, PUBLIC)
    assert assumptions["assumption_id"].tolist() == ["A2", "A1"]
    assert assumptions["status_label"].tolist() == ["Questioned", "Not yet tested"]
    assert assumptions["evidence_title"].iloc[0] == "Outcome evaluation"
    assert toc.toc_assumptions(store, PUBLIC, node_id="L1")["assumption_id"].tolist() == ["A1"]


def test_the_public_latest_of_a_company_magnitude_indicator_is_its_last_gated_total_and_has_no_baseline():
    """The ToC's status table for the public: a company-magnitude indicator shows the last
    total of the gated series on or before the date (its suppression note where the cell is
    hidden) and no baseline; every other indicator keeps the stored figures."""
    from asi_me.publish.gate import protected_rows
    from asi_me.publish.indicators import sensitivity
    from asi_me.settings import REPO_ROOT

    store = Store.open_current(REPO_ROOT / "data")
    try:
        viewer = Viewer.public()
        status = toc.indicator_status(store, viewer, Filters()).set_index("indicator_code")
        everything = toc.indicator_status(store, Viewer.secretariat(), Filters()).set_index("indicator_code")
        gated = protected_rows(store, viewer, "indicator_observations")
        as_of = pd.Timestamp(store.as_of(None))
        protected = [code for code, unit in zip(status.index, status["unit"], strict=True)
                     if sensitivity(code, unit) != "programme"]
        assert protected and len(protected) < len(status)
        for code in status.index:
            row = status.loc[code]
            if code not in protected:
                assert row["baseline_value"] == everything.loc[code, "baseline_value"] or (
                    pd.isna(row["baseline_value"]) and pd.isna(everything.loc[code, "baseline_value"]))
                continue
            assert pd.isna(row["baseline_value"])
            rows = gated[(gated["indicator_code"] == code) & (gated["dimension"] == "total")
                         & (pd.to_datetime(gated["period_on"]) <= as_of)]
            if rows.empty:
                assert pd.isna(row["latest_value"]) and pd.isna(row["latest_period_on"])
                continue
            last = rows.iloc[-1]
            assert pd.Timestamp(row["latest_period_on"]) == pd.Timestamp(last["period_on"])
            assert row["latest_status"] == (last["suppression_note"] or last["status"])
            if pd.isna(last["value"]):
                assert pd.isna(row["latest_value"])
            else:
                assert row["latest_value"] == pytest.approx(float(last["value"]))
    finally:
        store.close()
