"""The tables a public visitor sees on every screen read cleanly: a missing value reads "—"
(never the grid's "None"), no figure carries float noise, dates are ISO days."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from tests.app.conftest import assert_clean

PUBLIC_PAGES = ("pages/outcomes.py", "pages/map.py", "pages/coc_flow.py", "pages/toc.py", "pages/evaluations.py",
                "pages/data.py")
VIEWS = {"default": {}, "Europe since 2021": {"region": "Europe", "from": "2021-01-01", "as_of": "2024-06-30"}}
MISSING_WORDS = {"None", "nan", "NaN", "NaT", "<NA>", "null"}
NOISE = re.compile(r"\.\d*(?:0{6,}[1-9]\d*|9{6,}\d*)$")


def _problems(frame: pd.DataFrame, where: str) -> list[str]:
    found: list[str] = []
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values.dtype):
            continue
        if values.isna().any():
            found.append(f"{where}, column {column!r}: a missing value the grid shows as None")
        for value in values.dropna():
            if isinstance(value, str) and value.strip() in MISSING_WORDS:
                found.append(f"{where}, column {column!r}: {value!r}")
            elif isinstance(value, float) and NOISE.search(repr(value)):
                found.append(f"{where}, column {column!r}: {value!r} is float noise")
            elif isinstance(value, pd.Timestamp | dt.datetime) and value == pd.Timestamp(value).normalize():
                found.append(f"{where}, column {column!r}: a day shown as a timestamp ({value})")
    return found


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_public_tables_read_cleanly(open_app, demo_dir, page: str, view: str) -> None:
    at = open_app(demo_dir, page=page, params=VIEWS[view])
    assert_clean(at)
    assert at.dataframe, "every public screen shows at least one table"
    problems: list[str] = []
    for n, table in enumerate(at.dataframe):
        problems += _problems(table.value, f"{page} table {n} ({view})")
    assert not problems, "\n".join(problems[:20])
