"""The risk register: its contract checks and its queries."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import make_store

from asi_me.data.vocab import RiskSeverity, severity_of
from asi_me.filters import Viewer
from asi_me.ingest.validate import ProblemLog, build_frame, validate_tables
from asi_me.queries.risks import risk_history, risk_matrix, risk_register


def _risk(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "risk_id": "R-01", "revision": "1", "revised_on": "2025-03-18", "category": "finance",
        "title": "Fee income", "description": "Fee income falls short.", "likelihood": "3", "consequence": "4",
        "severity": "high", "controls": "Reserve of six months' costs.", "owner": "Finance Director",
        "review_on": "2026-03-18", "is_public": "false",
    }
    row.update(overrides)
    return row


def _problems(*rows: dict[str, object]) -> list:
    frame = pd.DataFrame([{k: str(v) if v is not None else None for k, v in r.items()} for r in rows])
    return validate_tables({"risks": frame}, {"risks": "risks.csv"})


def test_severity_bands_cover_the_whole_matrix():
    bands = {(lk, cq): severity_of(lk, cq) for lk in range(1, 6) for cq in range(1, 6)}
    assert bands[1, 4] is RiskSeverity.LOW
    assert bands[1, 5] is RiskSeverity.MEDIUM
    assert bands[3, 3] is RiskSeverity.MEDIUM
    assert bands[2, 5] is RiskSeverity.HIGH
    assert bands[4, 4] is RiskSeverity.HIGH
    assert bands[4, 5] is RiskSeverity.EXTREME
    assert bands[5, 5] is RiskSeverity.EXTREME
    # A worse rating never has a milder band.
    order = list(RiskSeverity)
    for (lk, cq), severity in bands.items():
        if lk < 5:
            assert order.index(bands[lk + 1, cq]) >= order.index(severity)


def test_a_valid_risk_passes():
    assert _problems(_risk()) == []


def test_a_severity_that_contradicts_the_rating_is_refused_with_the_right_band():
    problems = _problems(_risk(), _risk(risk_id="R-02", likelihood="5", consequence="5", severity="medium"))
    assert [(p.file, p.row, p.column, p.value, p.rule) for p in problems] == [
        ("risks.csv", 2, "severity", "medium", "severity of rating")
    ]
    assert "extreme" in problems[0].message
    assert "5 x 5" in problems[0].message


def test_an_empty_severity_is_derived_from_the_rating():
    assert _problems(_risk(severity=None, likelihood="4", consequence="5")) == []
    problems = ProblemLog()
    data = pa.Table.from_pandas(pd.DataFrame([_risk(severity=None), _risk(risk_id="R-02", severity=None,
                                                                          likelihood="1", consequence="2")]))
    frame = build_frame("risks", "risks.csv", 0, data, np.array([2, 3]), problems)
    assert frame.typed["severity"].to_pylist() == ["high", "low"]
    assert problems.frame().empty


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("likelihood", "6", "range"),
        ("consequence", "0", "range"),
        ("review_on", "18/03/2026x", "type"),
        ("category", "weather", "vocabulary"),
        ("owner", "jane.doe@example.org", "pattern"),
    ],
)
def test_a_bad_cell_names_file_row_column_value_and_rule(column, value, rule):
    problems = _problems(_risk(), _risk(risk_id="R-02", **{column: value}))
    found = [(p.file, p.row, p.column, p.value, p.rule) for p in problems]
    assert ("risks.csv", 2, column, value, rule) in found
    assert all(p.row == 2 for p in problems)


def test_a_review_before_the_revision_is_refused():
    problems = _problems(_risk(review_on="2024-01-01"))
    assert [(p.column, p.rule) for p in problems] == [("review_on", "date order")]


def test_two_rows_for_one_revision_of_one_risk_are_refused():
    problems = _problems(_risk(), _risk(controls="Other controls."))
    assert [(p.row, p.rule) for p in problems] == [(2, "unique key")]


# --- the queries ----------------------------------------------------------------------------


def _stored(risk_id: str, revision: int, likelihood: int, consequence: int, **overrides: object) -> dict[str, object]:
    revised_on = date(2022 + revision, 3, 1)
    row: dict[str, object] = {
        "risk_id": risk_id, "revision": revision, "revised_on": revised_on, "category": "finance",
        "title": f"Risk {risk_id}", "description": "What could happen.", "likelihood": likelihood,
        "consequence": consequence, "severity": severity_of(likelihood, consequence).value,
        "controls": f"Controls of {risk_id} r{revision}", "owner": "Finance Director",
        "review_on": revised_on.replace(year=revised_on.year + 1), "is_public": False,
    }
    row.update(overrides)
    return row


@pytest.fixture
def register_store(tmp_path):
    rows = [
        _stored("R-1", 1, 4, 5), _stored("R-1", 2, 3, 5), _stored("R-1", 3, 2, 5),
        _stored("R-2", 1, 2, 2, category="reputation", is_public=True),
        _stored("R-2", 2, 4, 4, category="reputation", is_public=True),
        _stored("R-3", 2, 2, 5, category="data_and_it", is_public=True, review_on=date(2024, 6, 1)),
        _stored("R-4", 1, 1, 1, is_public=True), _stored("R-4", 2, 5, 5, is_public=False),
    ]
    return make_store(tmp_path, risks=rows)


def test_the_register_lists_each_risk_at_its_latest_revision_with_the_change_since_the_previous(register_store):
    register = risk_register(register_store, Viewer.secretariat(), on=date(2025, 1, 1))
    by_id = register.set_index("risk_id")
    assert sorted(register["risk_id"]) == ["R-1", "R-2", "R-3", "R-4"]
    assert by_id.loc["R-1", "revision"] == 3
    assert by_id.loc["R-1", "controls"] == "Controls of R-1 r3"
    assert (by_id.loc["R-1", "rating"], by_id.loc["R-1", "previous_rating"]) == (10, 15)
    assert by_id.loc["R-2", "rating_change"] == 16 - 4
    assert pd.isna(by_id.loc["R-3", "previous_rating"])
    # Worst first.
    assert register["risk_id"].tolist()[0] == "R-4"
    # R-3's review fell due in June 2024; the others' in 2025 or later.
    assert by_id["is_review_overdue"].to_dict() == {"R-4": False, "R-2": False, "R-1": False, "R-3": True}


def test_the_matrix_counts_the_latest_revisions_in_their_cells(register_store):
    matrix = risk_matrix(register_store, Viewer.secretariat())
    assert len(matrix) == 25
    filled = {(r.likelihood, r.consequence): r.risks for r in matrix.itertuples() if r.risks}
    assert filled == {(2, 5): 2, (4, 4): 1, (5, 5): 1}
    cell = matrix[(matrix["likelihood"] == 5) & (matrix["consequence"] == 5)].iloc[0]
    assert (cell["severity"], cell["risk_ids"]) == ("extreme", "R-4")


def test_the_history_holds_every_revision_in_order(register_store):
    history = risk_history(register_store, Viewer.secretariat())
    assert len(history) == 8
    assert history[history["risk_id"] == "R-1"]["rating"].tolist() == [20, 15, 10]


def test_a_viewer_other_than_the_secretariat_sees_only_risks_marked_public(register_store):
    for viewer in (Viewer.public(), Viewer.member("M1")):
        register = risk_register(register_store, viewer)
        # R-4 was public at revision 1 but its latest revision is not: it is withheld whole.
        assert sorted(register["risk_id"]) == ["R-2", "R-3"]
        assert set(risk_history(register_store, viewer)["risk_id"]) == {"R-2", "R-3"}
        assert risk_matrix(register_store, viewer)["risks"].sum() == 2


def test_filters_pick_risks_by_category_and_by_severity(register_store):
    secretariat = Viewer.secretariat()
    assert risk_register(register_store, secretariat, categories=["reputation"])["risk_id"].tolist() == ["R-2"]
    extreme = risk_register(register_store, secretariat, severities=["extreme"])
    assert extreme["risk_id"].tolist() == ["R-4"]
    # A filter picks by the latest revision but keeps the risk's whole history.
    assert len(risk_history(register_store, secretariat, severities=["extreme"])) == 2
    assert risk_matrix(register_store, secretariat, categories=["data_and_it"])["risks"].sum() == 1
    with pytest.raises(ValueError, match="weather"):
        risk_register(register_store, secretariat, categories=["weather"])


def test_an_empty_register_gives_empty_frames_and_an_empty_matrix(tmp_path):
    store = make_store(tmp_path, risks=[])
    assert risk_register(store, Viewer.secretariat()).empty
    assert risk_history(store, Viewer.secretariat()).empty
    matrix = risk_matrix(store, Viewer.secretariat())
    assert len(matrix) == 25
    assert matrix["risks"].sum() == 0


def test_the_risk_register_is_never_a_public_download():
    from asi_me.queries.catalogue import download_scope

    assert download_scope(Viewer.public(), "risks") is None
    assert download_scope(Viewer.member("M1"), "risks") is None
    assert download_scope(Viewer.secretariat(), "risks") == "all rows"


def test_only_the_secretariat_finds_the_risk_register_in_the_data_catalogue(register_store):
    from asi_me.queries.catalogue import table_catalogue

    assert "risks" in set(table_catalogue(register_store, Viewer.secretariat())["name"])
    for viewer in (Viewer.public(), Viewer.member("M1")):
        names = set(table_catalogue(register_store, viewer)["name"])
        assert "risks" not in names
        assert "members" in names  # the rest of the catalogue is still there
