"""The risk register: its contract checks and its queries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from asi_me.data.vocab import RiskSeverity, severity_of
from asi_me.ingest.validate import ProblemLog, build_frame, validate_tables


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
