"""The ToC status of many indicators at once is the one-indicator rule applied to each."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from asi_me.queries import toc

DAY = st.integers(min_value=0, max_value=4000).map(lambda d: date(2015, 1, 1) + timedelta(days=d))
# Mostly a few round values, so that a latest value lands exactly on the line or the target.
VALUE = st.one_of(
    st.none(), st.sampled_from([0.0, 5.0, 40.0, 80.0]), st.sampled_from([5.0, 40.0]), st.floats(-1e3, 1e3)
).filter(lambda v: v is None or v == v)
ROW = st.fixed_dictionaries(
    {
        "direction": st.sampled_from(["increase", "decrease", "maintain"]),
        "baseline_value": VALUE,
        "baseline_on": st.one_of(st.none(), DAY),
        "target_value": VALUE,
        "target_on": st.one_of(st.none(), DAY),
        "latest_value": VALUE,
        "latest_period_on": st.one_of(st.none(), DAY),
    }
)


def _frame(rows: list[dict]) -> pd.DataFrame:
    """Rows typed as toc_indicator_latest returns them (dates as datetime64, values as floats)."""
    frame = pd.DataFrame(rows)
    for column in ("baseline_on", "target_on", "latest_period_on"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    for column in ("baseline_value", "target_value", "latest_value"):
        frame[column] = frame[column].astype("float64")
    return frame


def _on_the_line(direction: str, latest: float) -> dict:
    return {"direction": direction, "baseline_value": 40.0, "baseline_on": date(2020, 1, 1), "target_value": 80.0,
            "target_on": date(2024, 1, 1), "latest_value": latest, "latest_period_on": date(2020, 1, 1)}


@settings(max_examples=150, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=12))
@example([_on_the_line("increase", 40.0), _on_the_line("decrease", 40.0), _on_the_line("maintain", 76.0)])
def test_column_wise_status_and_expected_value_match_the_one_row_rule(rows):
    expected, statuses = toc._track(_frame(rows))
    for i, row in enumerate(rows):
        has_data = row["latest_value"] is not None and row["latest_period_on"] is not None
        assert statuses[i] == toc.track_status(
            row["direction"], row["baseline_value"], row["baseline_on"], row["target_value"], row["target_on"],
            latest_value=row["latest_value"] if has_data else None,
            latest_on=row["latest_period_on"] if has_data else None,
        ), row
        if row["latest_period_on"] is None or row["target_value"] is None or row["direction"] == "maintain":
            assert pd.isna(expected[i]), row
        else:
            # Not approximately: the same arithmetic in the same order gives the same float.
            assert expected[i] == toc.expected_value(
                row["baseline_value"], row["baseline_on"], row["target_value"], row["target_on"],
                row["latest_period_on"],
            ), row
