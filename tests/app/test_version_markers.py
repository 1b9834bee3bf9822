"""Every time series marks where a new standard version broke comparability (PS V1 2014 ->
V2 2017 -> V3 2022; CoC V1 2017 -> V2 2022): a thin rule and a short label at each change
inside the series' dates, read from the chart spec each screen sends to the browser."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest

from asi_me.data.vocab import STANDARD_OF_VERSION, VERSION_EFFECTIVE_ON, label
from tests.app.conftest import assert_clean


def _changes(standards: set[str] | None = None) -> dict[pd.Timestamp, set[str]]:
    """Date -> the short names of the versions that took effect then ("PS V3", "CoC V2")."""
    out: dict[pd.Timestamp, set[str]] = {}
    for version, on in VERSION_EFFECTIVE_ON.items():
        if standards is None or STANDARD_OF_VERSION[version].value in standards:
            out.setdefault(pd.Timestamp(on), set()).add(label(version).split(" (")[0])
    return out


def _vega(at) -> list[tuple[dict, dict[str, pd.DataFrame]]]:
    charts = []
    for chart in at.get("vega_lite_chart"):
        datasets = {d.name: pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets}
        charts.append((json.loads(chart.proto.spec), datasets))
    return charts


def _layers(spec: dict, data: str | None = None):
    """(mark type, encoding, dataset name) of every layer, a layer inheriting its parent's data."""
    data = spec.get("data", {}).get("name", data)
    for layer in spec.get("layer", []):
        mark = layer.get("mark")
        if mark is not None:
            kind = mark.get("type") if isinstance(mark, dict) else mark
            yield kind, layer.get("encoding", {}), layer.get("data", {}).get("name", data)
        yield from _layers(layer, data)


def _markers(spec: dict, datasets: dict[str, pd.DataFrame]) -> tuple[pd.Series, dict[str, str]]:
    """The series' x values and the version markers drawn: x -> label."""
    series_x = pd.Series(dtype="datetime64[ns]")
    marks: dict[str, str] = {}
    for kind, encoding, name in _layers(spec):
        x = encoding.get("x", {}).get("field")
        frame = datasets[name]
        if kind in {"line", "bar"}:
            series_x = pd.concat([series_x, frame[x]])
        elif kind == "text" and "detail" in frame.columns:
            marks.update(zip(frame[x].astype(str), frame["text"], strict=True))
        elif kind == "rule":
            assert "detail" in frame.columns and encoding["x"]["field"] == x
    return series_x, marks


def _expected(lo: pd.Timestamp, hi: pd.Timestamp, standards: set[str] | None = None) -> dict[pd.Timestamp, set[str]]:
    return {on: names for on, names in _changes(standards).items() if lo <= on <= hi}


def test_the_dashboards_growth_charts_mark_each_version_change_in_their_period(open_app, demo_dir):
    at = open_app(demo_dir)
    assert_clean(at)
    growth = [(spec, data) for spec, data in _vega(at)
              if any(kind in {"line", "bar"} and enc.get("x", {}).get("type") == "temporal"
                     for kind, enc, _ in _layers(spec))]
    assert len(growth) == 2  # members by class, certificates over time
    for spec, datasets in growth:
        series_x, marks = _markers(spec, datasets)
        expected = _expected(pd.to_datetime(series_x).min(), pd.to_datetime(series_x).max())
        assert expected, "the demo's series run across at least one version change"
        assert {pd.Timestamp(on): set(text.split(" · ")) for on, text in marks.items()} == expected


def test_a_standard_filter_keeps_only_that_standards_changes(open_app, demo_dir):
    at = open_app(demo_dir, params={"standard": "CoC"})
    assert_clean(at)
    for spec, datasets in _vega(at):
        _, marks = _markers(spec, datasets)
        assert all(name.startswith("CoC") for text in marks.values() for name in text.split(" · "))


def test_a_period_after_the_last_change_has_no_marker(open_app, demo_dir):
    at = open_app(demo_dir, params={"from": "2023-01-01"})
    assert_clean(at)
    assert all(not _markers(spec, datasets)[1] for spec, datasets in _vega(at))


@pytest.mark.parametrize("params", [{"node": "O-CERTS", "indicator": "OP-02"}, {"node": "ST-IMPROVE"}])
def test_the_toc_indicator_series_marks_each_version_change_in_its_dates(open_app, demo_dir, params):
    at = open_app(demo_dir, page="pages/toc.py", params=params)
    assert_clean(at)
    (series,) = [c for c in at.get("plotly_chart") if c.proto.id and "toc_series" in c.proto.id]
    figure = json.loads(series.proto.spec)
    xs = pd.to_datetime([x for trace in figure["data"] if trace.get("mode") == "lines+markers" for x in trace["x"]])
    rules = [s for s in figure["layout"].get("shapes", []) if s.get("name") == "version change"]
    notes = {pd.Timestamp(a["x"]): a["text"] for a in figure["layout"].get("annotations", []) if a.get("hovertext")}
    expected = _expected(xs.min(), xs.max())
    assert expected
    assert {pd.Timestamp(r["x0"]) for r in rules} == set(expected)
    assert all(r["x0"] == r["x1"] and r["line"]["width"] == 1 for r in rules)  # thin and vertical
    assert {on: set(text.split(" · ")) for on, text in notes.items()} == expected


def test_the_coc_reports_chart_marks_the_coc_version_year(open_app, demo_dir):
    at = open_app(demo_dir, page="pages/data.py", role="secretariat")
    assert_clean(at)
    (spec, datasets) = next((s, d) for s, d in _vega(at)
                            if any(enc.get("x", {}).get("field") == "reporting_year" for _, enc, _ in _layers(s)))
    years = next(datasets[name]["reporting_year"].astype(int) for kind, enc, name in _layers(spec) if kind == "bar")
    marks = {}
    for kind, _encoding, name in _layers(spec):
        if kind == "text" and "detail" in datasets[name].columns:
            marks = dict(zip(datasets[name]["year"].astype(int), datasets[name]["text"], strict=True))
    lo, hi = pd.Timestamp(int(years.min()), 1, 1), pd.Timestamp(int(years.max()), 12, 31)
    assert marks == {on.year: " · ".join(sorted(names)) for on, names in _expected(lo, hi, {"CoC"}).items()}
    assert marks == {2022: "CoC V2"}
