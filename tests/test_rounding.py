"""Published figures are rounded to their unit's precision, and rounding never fills a
hidden figure (asi_me.publish.numbers)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa

from asi_me.data.store import Store
from asi_me.publish.datasets import DATASETS
from asi_me.publish.numbers import round_batch, round_frame, row_decimals
from asi_me.settings import REPO_ROOT


def test_each_kind_of_figure_keeps_its_precision() -> None:
    frame = pd.DataFrame({
        "unit": ["%", "t", "count", "t CO2e/t Al"],
        "value": [66.66666666666667, 1182886.2000000002, 476.0, 7.588073848238483],
        "change": [0.09999999999999432, -0.4, 2.0, 0.123456],
        "share_of_global": [0.07588073848238483, 0.2699999985, math.nan, 0.5],
        "output_t": [2628638.4999999995, 1.6, 0.0, 3.0],
        "latitude": [38.7434037037037, 0.0, 1.0, 2.0],
        "ratio": [0.20000000000000284, 1 / 3, 2.0, 5.0],
    })
    out = round_frame(frame)
    assert out["value"].tolist() == [66.7, 1182886.0, 476.0, 7.59]
    assert out["change"].tolist() == [0.1, 0.0, 2.0, 0.12]
    assert not np.signbit(out["change"].iloc[1])  # never "-0.0" in a CSV
    assert out["share_of_global"].tolist()[:2] == [0.076, 0.27]
    assert out["output_t"].tolist() == [2628638.0, 2.0, 0.0, 3.0]
    assert out["latitude"].iloc[0] == 38.7434
    # a column of no declared kind loses its float noise and nothing else
    assert out["ratio"].tolist() == [0.2, 0.333333333333, 2.0, 5.0]


def test_a_declared_unit_wins_over_the_column_name() -> None:
    frame = pd.DataFrame({"closed_share": [0.8947368421052632], "median_t_per_t": [5.615]})
    out = round_frame(frame, {"closed_share": "share", "median_t_per_t": "t CO2e/t Al"})
    assert out["closed_share"].iloc[0] == 0.895
    assert out["median_t_per_t"].iloc[0] in (5.61, 5.62)


def test_rounding_never_fills_a_hidden_figure() -> None:
    frame = pd.DataFrame({"input_t": [math.nan, 12.4], "share": pd.array([pd.NA, 0.1234], dtype="Float64")})
    out = round_frame(frame, {"share": "share"})
    assert math.isnan(out["input_t"].iloc[0])
    assert out["share"].isna().iloc[0]
    assert str(out["share"].dtype) == "Float64"


def test_streamed_tables_round_like_frames() -> None:
    batch = pa.table({"indicator_code": ["ST-08", "MT-11", "OP-01", "??"],
                      "value": [5.970000000000001, 1182886.2000000002, 476.0, 0.09999999999999432],
                      "other": [1.0, None, 6.4399999999999995, 2.0]})
    units = {"ST-08": "%", "MT-11": "t", "OP-01": "count"}
    out = round_batch(batch, row_decimals(batch, units), by_name=False).to_pydict()
    assert out["value"] == [6.0, 1182886.0, 476.0, 0.1]
    assert out["other"] == [1.0, None, 6.44, 2.0]  # a null stays null
    frame = round_frame(batch.to_pandas(), row_units=batch.to_pandas()["indicator_code"].map(units), by_name=False)
    assert frame["value"].tolist() == out["value"]


def test_published_datasets_hide_exactly_what_the_gate_hides() -> None:
    """Rounding a published dataset keeps every hidden cell hidden and publishes no new one."""
    store = Store.open_current(REPO_ROOT / "data")
    try:
        for name in ("coc_stage_summary", "coc_flows", "smelter_emissions_by_region", "indicator_status"):
            built = DATASETS[name].build(store, None)
            published = DATASETS[name].published(store, None)
            for column in built.columns:
                if pd.api.types.is_float_dtype(built[column].dtype):
                    assert np.array_equal(built[column].isna().to_numpy(), published[column].isna().to_numpy()), (
                        name, column)
    finally:
        store.close()
