"""One door: every public download, table CSV, API route and screen figure that holds a
company magnitude reaches a viewer only through the disclosure protection, and the data
API serves the published datasets with their metadata."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import Answer, asgi_get, coc_line, facility, make_store, member
from starlette.applications import Starlette

from asi_me.data.contract import TABLES
from asi_me.data.store import Store
from asi_me.filters import Viewer
from asi_me.publish import api, gate, indicators, prepared
from asi_me.publish.datasets import DATASETS
from asi_me.queries import catalogue, certifications, coc, outcomes, toc
from asi_me.settings import REPO_ROOT

PUBLIC = Viewer.public()
# Columns of stored tables that hold one company's volumes, workforce or emissions.
MAGNITUDE_COLUMNS = {"input_t", "output_t", "carried_forward_t", "workers", "ghg_intensity_t_per_t",
                     "production_t", "emissions_t"}


class Bypass(RuntimeError):
    """Raised by a protection step, to prove a route went through it."""


def test_no_table_served_as_stored_holds_a_company_magnitude():
    for name, spec in TABLES.items():
        if catalogue.download_scope(PUBLIC, name) is None or gate.is_gated(PUBLIC, name):
            continue
        assert not MAGNITUDE_COLUMNS & set(spec.columns), f"{name} is public as stored but holds magnitudes"


def test_a_gated_table_is_never_streamed_from_the_snapshot_for_the_public_or_a_member():
    for viewer in (PUBLIC, Viewer.member("M0001")):
        with pytest.raises(PermissionError, match="disclosure gate"):
            catalogue.table_rows_sql(None, viewer, "indicator_observations")  # type: ignore[arg-type]


@pytest.fixture
def demo_store():
    store = Store.open_current(REPO_ROOT / "data")
    coc._VIEW_CACHE.clear()
    coc._JOINT_CACHE.clear()
    yield store
    store.close()


def _trap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise Bypass

    # Figures prepared on disk were made by the protection; here nothing is prepared, so every
    # route must reach the protection itself.
    monkeypatch.setattr(prepared, "folder", lambda store: tmp_path / "prepared")

    monkeypatch.setattr(coc, "protect_system", refuse)
    monkeypatch.setattr(outcomes, "protect_system", refuse)
    monkeypatch.setattr(certifications, "protect_geography", refuse)
    monkeypatch.setattr(gate, "GATED_TABLES", {name: gate.GatedTable(table.stored_sql, refuse)
                                               for name, table in gate.GATED_TABLES.items()})


def test_every_published_company_magnitude_passes_through_the_protection(demo_store, monkeypatch, tmp_path):
    """With every protection step replaced by a trap, each route that serves a company
    magnitude to the public must hit the trap; one that returned a value went around it."""
    _trap(monkeypatch, tmp_path)
    magnitudes = [n for n, d in DATASETS.items() if "company_magnitude" in d.sensitivities]
    assert {"coc_stage_summary", "coc_flows", "workers_in_ps_certified_facilities",
            "smelter_emissions_by_region", "indicator_status"} <= set(magnitudes)
    for name in magnitudes:
        with pytest.raises(Bypass):
            catalogue.table_for_download(demo_store, PUBLIC, name)
    for name in gate.GATED_TABLES:
        with pytest.raises(Bypass):
            catalogue.table_for_download(demo_store, PUBLIC, name)
    for code in indicators.COMPANY_MAGNITUDE:
        with pytest.raises(Bypass):
            toc.indicator_series(demo_store, PUBLIC, code)
    with pytest.raises(Bypass):
        outcomes.dashboard_tiles(demo_store, PUBLIC)


def test_the_zip_streams_the_gated_table_for_the_public(demo_store, monkeypatch, tmp_path):
    _trap(monkeypatch, tmp_path)
    from asi_me.publish import exports

    with pytest.raises(Bypass):
        exports._build_zip(demo_store, PUBLIC)


def test_the_secretariat_route_needs_no_gate(demo_store, monkeypatch, tmp_path):
    _trap(monkeypatch, tmp_path)
    frame = catalogue.table_for_download(demo_store, Viewer.secretariat(), "indicator_observations")
    assert len(frame) > 0
    assert toc.indicator_series(demo_store, Viewer.secretariat(), "MT-11")["value"].notna().any()


def test_workforce_by_country_is_never_served_to_the_public(demo_store):
    served = gate.gated_table(demo_store, PUBLIC, "indicator_observations")
    workers = served[served["indicator_code"] == "ST-02"]
    assert set(workers["dimension"]) <= {"total", "region"}
    assert toc.indicator_series(demo_store, PUBLIC, "ST-02", "country").empty


def test_public_series_agree_with_the_screens(demo_store):
    """A cell suppressed on one route is suppressed on every other: the ST-02 series and
    the workers tile; MT-11 and ST-07 and the CoC screen's world view."""
    served = gate.gated_table(demo_store, PUBLIC, "indicator_observations")
    workers = served[(served["indicator_code"] == "ST-02") & (served["dimension"] == "region")]
    for row in workers.tail(40).itertuples(index=False):
        on = (pd.Timestamp(row.period_on) + pd.offsets.MonthEnd(0)).date()
        _, tile = outcomes.protected_workers_for(demo_store, ("region", row.dimension_value), [on])
        shown = tile["ps_workers"].iloc[0]
        assert pd.isna(shown) == pd.isna(row.value)
        if not pd.isna(shown):
            assert shown == row.value
    conversion = served[served["indicator_code"] == "MT-11"]
    for row in conversion.itertuples(index=False):
        year = pd.Timestamp(row.period_on).year
        screen = coc.coc_stage_summary(demo_store, PUBLIC, year).set_index("stage").loc["material_conversion"]
        assert pd.isna(screen["output_t"]) == pd.isna(row.value)
        if pd.isna(row.value):
            assert row.suppression_note == screen["suppression_note"]


def _api_store(tmp_path):
    members = [member(f"M{i}") for i in range(6)]
    facilities = [facility(f"F{i}", f"M{i}") for i in range(6)]
    lines = [coc_line(f"F{i}", "semi_fabrication", "asi_aluminium", 100.0 + i, 90.0 + i) for i in range(6)]
    return make_store(tmp_path, members=members, facilities=facilities, coc_reports=lines)


class _Client:
    """Calls an ASGI app in process, the way a browser's GET reaches it."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def get(self, url: str) -> Answer:
        return asgi_get(self.app, url)


@pytest.fixture
def client(tmp_path, monkeypatch):
    store = _api_store(tmp_path)
    monkeypatch.setenv("ASI_DATA_DIR", str(store.folder.parent.parent))
    api._open.clear()
    yield _Client(Starlette(routes=api.routes())), store
    for opened in api._open.values():
        opened.close()
    api._open.clear()


def test_the_api_lists_every_public_dataset_with_stable_urls(client):
    http, store = client
    answer = http.get("/api/datasets")
    assert answer.status_code == 200
    body = answer.json()
    assert body["data_version"] == store.snapshot_id
    names = {d["name"] for d in body["datasets"]}
    assert {"coc_flows", "indicator_observations", "workers_in_ps_certified_facilities"} <= names
    assert not names & {"coc_reports", "facilities", "members", "smelter_emissions"}


def test_the_api_serves_csv_and_metadata_through_the_gate(client):
    http, store = client
    csv = http.get("/api/datasets/coc_stage_summary.csv?region=Europe")
    assert csv.status_code == 200
    assert csv.headers["x-data-version"] == store.snapshot_id
    frame = pd.read_csv(io.BytesIO(csv.content))
    assert set(frame["stage"]) >= {"semi_fabrication"}
    meta = http.get("/api/datasets/coc_stage_summary.metadata.json?region=Europe").json()
    assert meta["data_version"] == store.snapshot_id
    assert meta["filters"] == {"region": ["Europe"]} or meta["filters"].get("region") in ("Europe", ["Europe"])
    assert "Antitrust" in meta["suppression_note"]
    assert any(m["sensitivity"] == "company_magnitude" for m in meta["measures"])
    assert "citation" in meta and store.snapshot_id in meta["citation"]


def test_the_api_explains_a_bad_request(client):
    http, _ = client
    unknown = http.get("/api/datasets/coc_reports.csv")
    assert unknown.status_code == 404
    assert "coc_reports" in unknown.json()["error"]
    bad = http.get("/api/datasets/coc_flows.csv?region=Atlantis")
    assert bad.status_code == 400
    assert "Atlantis" in bad.json()["error"]
    shape = http.get("/api/datasets/coc_flows.json")
    assert shape.status_code == 404


def test_emissions_series_agree_with_the_map(demo_store):
    """MT-01 (median intensity) and MT-02 (share at or below 8 t) by region are the map's
    protected per-region figures of the same year: hidden there, hidden here."""
    from datetime import date

    from asi_me.filters import Filters

    served = gate.gated_table(demo_store, PUBLIC, "indicator_observations")
    for code, column in (("MT-01", "median_t_per_t"), ("MT-02", None)):
        rows = served[(served["indicator_code"] == code) & (served["dimension"] == "region")]
        assert len(rows) > 0
        for row in rows.itertuples(index=False):
            year = pd.Timestamp(row.period_on).year
            table = certifications.smelter_emissions(demo_store, PUBLIC, Filters(as_of=date(year, 12, 31))).by_region
            on_map = table.set_index("region").loc[row.dimension_value]
            assert pd.isna(row.value) == bool(on_map["is_suppressed"]), (code, year, row.dimension_value)
            if not pd.isna(row.value):
                expected = on_map[column] if column else 100 * on_map["at_or_below_threshold"] / on_map["smelters"]
                assert row.value == pytest.approx(expected)
