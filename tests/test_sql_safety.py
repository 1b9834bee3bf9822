"""SQL-looking input never reaches DuckDB as SQL: every query function either answers
(empty) or refuses with a FilterError / ValueError sentence, never a DuckDB error."""

from __future__ import annotations

import inspect
from typing import Any

import duckdb
import pandas as pd
import pytest
from conftest import (
    auditing_firm,
    call_query,
    certification,
    coc_line,
    facility,
    make_store,
    member,
    query_functions,
)

from asi_me.filters import FilterError, Filters, Viewer
from asi_me.queries import coc

NASTY = [
    "'",
    '"; drop table members; --',
    "read_csv('/etc/passwd')",
    "1 or 1=1",
    "2020' or '1'='1",
    "x" * 10_000,
]
# URL parameter -> Filters field, for every list filter of the filter bar.
LIST_FILTERS = {
    "region": "regions",
    "country": "countries",
    "activity": "activities",
    "standard": "standards",
    "version": "versions",
    "class": "membership_classes",
    "status": "statuses",
}
USER_VALUES = {"year", "reporting_year", "stage", "material", "search", "query", "text", "threshold", "country"}
# Parameters that are not user text: the plumbing every query takes.
PLUMBING = {"store", "viewer", "filters", "policy", "for_publication"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("safety")
    members = [member(f"M{i}") for i in range(6)]
    facilities = [facility(f"F{i}", f"M{i}") for i in range(6)]
    lines = [coc_line(f"F{i}", "bauxite_mining", "asi_bauxite", 100, 100) for i in range(6)]
    store = make_store(
        tmp,
        keep_open=True,
        members=members,
        facilities=facilities,
        certifications=[certification(f"C{i}", f"F{i}") for i in range(6)],
        auditing_firms=[auditing_firm()],
        coc_reports=lines,
    )
    yield store
    store.close()


def _text_parameters(fn) -> list[str]:
    """Parameters whose value can come from a person or a URL: ids, codes, years, free text."""
    return [
        name
        for name in inspect.signature(fn).parameters
        if name not in PLUMBING
        and (name.endswith(("_id", "_ids", "_code", "_codes")) or name in USER_VALUES)
    ]


def _function_id(fn) -> str:
    return f"{fn.__module__.split('.')[-1]}.{fn.__name__}"


@pytest.mark.parametrize("value", NASTY, ids=lambda v: v[:20])
@pytest.mark.parametrize("param", sorted(LIST_FILTERS))
def test_every_filter_refuses_sql_looking_values_before_any_sql(param, value):
    with pytest.raises(FilterError, match="not allowed"):
        Filters.from_query_params({param: value})
    with pytest.raises(FilterError):
        Filters(**{LIST_FILTERS[param]: (value,)})


@pytest.mark.parametrize("value", NASTY, ids=lambda v: v[:20])
def test_date_filters_refuse_sql_looking_values(value):
    for param in ("as_of", "from", "to"):
        with pytest.raises(FilterError, match="YYYY-MM-DD"):
            Filters.from_query_params({param: value})


def _call_safely(fn, store, viewer: Viewer, **values: Any) -> Any:
    """Call and return the result, or None if refused with a ValueError; fail on anything else."""
    try:
        return call_query(fn, store, viewer, **values)
    except duckdb.Error as exc:  # the point of this file
        pytest.fail(f"{_function_id(fn)}({values}) reached DuckDB with user input: {exc!r}")
    except ValueError:
        return None


@pytest.mark.parametrize("fn", query_functions(), ids=_function_id)
def test_text_and_id_parameters_answer_empty_or_refuse(store, fn):
    params = _text_parameters(fn)
    if not params:
        pytest.skip(f"{_function_id(fn)} takes no text or id parameter")
    for viewer in (Viewer.public(), Viewer.secretariat(), Viewer.member("M1")):
        for name in params:
            for value in NASTY:
                _call_safely(fn, store, viewer, **{name: value})


@pytest.mark.parametrize("fn", query_functions(), ids=_function_id)
def test_a_member_id_that_looks_like_sql_matches_nothing(store, fn):
    for value in NASTY:
        viewer = Viewer.member(value)
        try:
            # Another member's certificate (C2 belongs to M2) and any node / indicator.
            result = call_query(fn, store, viewer, certification_id="C2", node_id="N1", indicator_code="OP-01")
        except duckdb.Error as exc:
            pytest.fail(f"{_function_id(fn)} with member_id {value[:30]!r} reached DuckDB: {exc!r}")
        except ValueError:
            continue
        frames = [result] if isinstance(result, pd.DataFrame) else []
        if isinstance(result, dict):
            frames += [v for v in result.values() if isinstance(v, pd.DataFrame)]
        for frame in frames:
            if "member_id" in frame.columns:
                assert set(frame["member_id"].dropna()) <= {value}, f"{_function_id(fn)} matched other members"


def test_coc_functions_refuse_bad_years_and_answer_unknown_ones_empty(store):
    for value in NASTY:
        with pytest.raises(ValueError, match="is not a year"):
            coc.coc_stage_flows(store, Viewer.public(), value)
    assert coc.coc_member_reports(store, Viewer.secretariat(), 2031).empty
    assert (coc.coc_stage_summary(store, Viewer.public(), 2031)["output_t"] == 0).all()
    assert coc.coc_member_reports(store, Viewer.member("M1' or '1'='1"), 2020).empty
