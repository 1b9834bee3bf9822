"""One answer per question: every figure that appears in more than one place (dashboard
tiles, the map, the Data screen, the ToC indicators, the zip download and the data API's
datasets) is computed here from each of those places and must be the same number, on the
demo data and on data 100 times its size.

Each question lists where a reader meets the figure; a place that means something else
(countries with any certification including expired, against countries with a valid
one) is a different question with its own label, asserted equal within its own places.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterator

import pandas as pd
import pytest

from asi_me.data.store import Store
from asi_me.demo.scale import write_scaled
from asi_me.filters import Filters, Viewer
from asi_me.publish import exports
from asi_me.publish.datasets import DATASETS
from asi_me.publish.numbers import decimals_of_unit
from asi_me.queries import certifications, coc, outcomes, quality, toc
from asi_me.queries.catalogue import indicator_units
from asi_me.queries.register_indicators import REGISTER_INDICATORS
from asi_me.settings import REPO_ROOT

PUBLIC = Viewer.public()
SECRETARIAT = Viewer.secretariat()


@pytest.fixture(scope="module", params=["demo", "x100"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    if request.param == "demo":
        opened = Store.open_current(REPO_ROOT / "data")
    else:
        folder = tmp_path_factory.mktemp("x100")
        write_scaled(100, folder)
        opened = Store.open_current(folder)
    yield opened
    opened.close()


def same(places: dict[str, float | None], unit: str | None = None) -> None:
    """Every place gives the same figure (to the rounding the screens show, 1e-6); a file
    ("zip ...") gives it rounded to the precision of its `unit`, so within half its last digit."""
    values = {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v))
              for k, v in places.items()}
    first = next(iter(values.values()))
    assert first is not None, values
    rounded = 0.5 * 10.0 ** -decimals_of_unit(unit, 12) if unit else 0.0
    assert all(v is not None and abs(v - first) <= (rounded if k.startswith("zip") else 0.0)
               + 1e-6 * max(1.0, abs(first)) for k, v in values.items()), values


@pytest.fixture(scope="module")
def zip_observations(store: Store) -> pd.DataFrame:
    """The headline rows of the indicator observations the public downloads (the Data
    screen's table CSV; the zip holds the same bytes, checked on the demo data)."""
    data = exports.table_csv(store, PUBLIC, "indicator_observations")
    if store.folder.is_relative_to(REPO_ROOT):
        with zipfile.ZipFile(io.BytesIO(exports.download_zip(store, PUBLIC))) as archive:
            assert archive.read("indicator_observations.csv") == data
    frame = pd.read_csv(io.BytesIO(data), low_memory=False, dtype={"suppression_note": "string"})
    return frame[frame["dimension"] == "total"].sort_values("period_on", kind="stable")


def _latest(frame: pd.DataFrame, code: str) -> float | None:
    rows = frame[frame["indicator_code"] == code]
    return None if rows.empty else rows["value"].iloc[-1]


def _indicator(status: pd.DataFrame, code: str) -> float:
    return status.set_index("indicator_code").loc[code, "latest_value"]


@pytest.mark.parametrize("viewer", [PUBLIC, SECRETARIAT], ids=["public", "secretariat"])
def test_register_indicators_agree_with_the_dashboard_everywhere(store: Store, viewer: Viewer,
                                                                 zip_observations: pd.DataFrame) -> None:
    tiles = outcomes.dashboard_tiles(store, viewer)
    status = toc.indicator_status(store, viewer)
    api_tiles = DATASETS["outcomes_dashboard"].build(store, None).set_index("code")
    api_status = DATASETS["indicator_status"].build(store, None)
    for code, (tile_code, part) in REGISTER_INDICATORS.items():
        tile = tiles.tile(tile_code)
        places = {
            "dashboard tile": tile.value if part == "value" else tile.secondary_value,
            "ToC indicator": _indicator(status, code),
            "zip indicator_observations.csv": _latest(zip_observations, code),
            "API outcomes_dashboard": api_tiles.loc[tile_code, "value" if part == "value" else "secondary_value"],
            "API indicator_status": _indicator(api_status, code),
        }
        same(places, unit=indicator_units(store)[code])


def test_member_and_certificate_series_agree_with_their_tiles(store: Store) -> None:
    tiles = outcomes.dashboard_tiles(store, PUBLIC)
    by_class = DATASETS["members_by_class"].build(store, None)
    last = by_class[by_class["month_on"] == by_class["month_on"].max()]
    same({"tile": tiles.tile("members").value, "members by class (chart, API)": last["members"].sum()})
    by_standard = DATASETS["certificates_by_standard"].build(store, None)
    latest = by_standard[by_standard["month_on"] == by_standard["month_on"].max()].set_index("group_value")
    for standard, tile_code in (("PS", "ps_certificates"), ("CoC", "coc_certificates")):
        same({"tile": tiles.tile(tile_code).value, "chart": latest.loc[standard, "certificates_issued"]})
        same({"tile": tiles.tile(tile_code).secondary_value, "chart": latest.loc[standard, "certificates_valid"]})


def test_countries_and_facilities_on_the_map_agree_with_the_dashboard_and_files(store: Store) -> None:
    tiles = outcomes.dashboard_tiles(store, PUBLIC)
    countries = certifications.country_aggregates(store, PUBLIC)
    api_countries = DATASETS["certified_countries"].build(store, None)
    same({
        "dashboard: countries with a valid certification": tiles.tile("certified_countries").value,
        "map choropleth: countries with a certified facility": int((countries["certified_facilities"] > 0).sum()),
        "API certified_countries": int((api_countries["certified_facilities"] > 0).sum()),
    })
    growth = certifications.growth_replay(store, PUBLIC)
    register = certifications.certification_register_page(store, PUBLIC, limit=10)
    api_register = DATASETS["certification_register"].build(store, None)
    same({
        "map tile: facilities with a valid certification": growth["certified_facilities"].iloc[-1],
        "map choropleth, summed": countries["certified_facilities"].sum(),
    })
    same({
        "map tile: certifications in the register": register.total,
        "map replay, last month": growth["certifications_shown"].iloc[-1],
        "API certification_register rows": len(api_register),
        "choropleth, summed": countries["certifications_shown"].sum(),
    })
    same({
        "map tile: countries in the register (any status)": register.countries,
        "API certification_register countries": api_register["country"].nunique(),
        "choropleth countries": len(countries),
    })


def test_facilities_without_coordinates_agree_between_the_map_and_the_data_screen(store: Store) -> None:
    register = certifications.certification_register(store, SECRETARIAT)
    unplaced = certifications.facilities_without_coordinates(store, SECRETARIAT)
    on_register = register[register["latitude"].isna() | register["longitude"].isna()]
    same({"map tile (certified)": unplaced.count, "register rows without coordinates":
          on_register["facility_id"].nunique()})
    everywhere = quality.quality_missing_coordinates(store, SECRETARIAT)
    public = quality.quality_missing_coordinates(store, PUBLIC)
    flags = quality.quality_flags(store, PUBLIC).set_index("flag")
    same({"Data screen list (all facilities)": len(everywhere), "public count": public["facilities"].iloc[0],
          "quality flags": flags.loc["missing_coordinates", "count"]})
    # The map's facilities are among the Data screen's: the same records, a narrower question.
    assert set(unplaced.names or []) <= set(everywhere["facility_name"])


def test_company_magnitudes_agree_between_screens_and_files_for_the_public(store: Store,
                                                                          zip_observations: pd.DataFrame) -> None:
    tiles = outcomes.dashboard_tiles(store, PUBLIC)
    status = toc.indicator_status(store, PUBLIC)
    api_status = DATASETS["indicator_status"].build(store, None).set_index("indicator_code")
    workers = DATASETS["workers_in_ps_certified_facilities"].build(store, None)
    same({
        "dashboard tile": tiles.tile("ps_workers").value,
        "ToC ST-02": _indicator(status, "ST-02"),
        "zip ST-02": _latest(zip_observations, "ST-02"),
        "API indicator_status": api_status.loc["ST-02", "latest_value"],
        "API workers dataset": workers["ps_workers"].iloc[-1],
    }, unit="people")
    # Smelter emissions: the map's "All regions" row for the latest year, MT-01 and MT-02.
    year = int(pd.Timestamp(status.set_index("indicator_code").loc["MT-01", "latest_period_on"]).year)
    world = certifications.smelter_emissions(store, PUBLIC, Filters(as_of=pd.Timestamp(year, 12, 31).date()))
    row = world.by_region.set_index("region").loc[certifications.WORLD]
    api_world = DATASETS["smelter_emissions_by_region"].build(store, Filters(
        as_of=pd.Timestamp(year, 12, 31).date())).set_index("region").loc[certifications.WORLD]
    same({"map: median, all regions": row["median_t_per_t"], "ToC MT-01": _indicator(status, "MT-01"),
          "zip MT-01": _latest(zip_observations, "MT-01"), "API smelter_emissions_by_region":
          api_world["median_t_per_t"]}, unit="t CO2e/t Al")
    same({"map: share at or below 8 t": 100 * row["at_or_below_threshold"] / row["smelters"],
          "ToC MT-02": _indicator(status, "MT-02"), "zip MT-02": _latest(zip_observations, "MT-02")}, unit="%")
    # CoC: ASI Aluminium converted into products (MT-11) and the share of world primary output (ST-07).
    latest = coc.coc_years(store)[-1]
    summary = coc.coc_stage_summary(store, PUBLIC, latest).set_index("stage")
    conversion = summary.loc["material_conversion"]
    assert int(pd.Timestamp(status.set_index("indicator_code").loc["MT-11", "latest_period_on"]).year) == latest
    if not conversion["is_suppressed"]:
        same({"CoC screen": conversion["output_t"], "ToC MT-11": _indicator(status, "MT-11"),
              "zip MT-11": _latest(zip_observations, "MT-11")}, unit="t")
    else:
        assert pd.isna(_indicator(status, "MT-11")) and pd.isna(_latest(zip_observations, "MT-11"))
    primary = summary.loc["primary_production"]
    if not primary["is_suppressed"]:
        same({"CoC screen": 100 * primary["output_t"] / primary["global_t"], "ToC ST-07": _indicator(status, "ST-07"),
              "zip ST-07": _latest(zip_observations, "ST-07")}, unit="%")


def test_coc_flows_agree_with_the_stage_table(store: Store) -> None:
    """Each stage's output in the stage table is what the Sankey sends on from it, for
    every year and role, wherever the stage and all its outgoing links are published."""
    for viewer in (PUBLIC, SECRETARIAT):
        for year in coc.coc_years(store):
            summary = coc.coc_stage_summary(store, viewer, year).set_index("stage")
            flows = coc.coc_stage_flows(store, viewer, year)
            for stage in coc.STAGES:
                out = flows[(flows["source"] == stage.value)]
                if out.empty or out["value_t"].isna().any() or pd.isna(summary.loc[stage.value, "output_t"]):
                    continue
                same({"stage table output": summary.loc[stage.value, "output_t"],
                      "Sankey links out of the stage": out["value_t"].sum()})
    default_year = coc.coc_default_year(store)
    api_flows = DATASETS["coc_flows"].build(store, None)
    screen = coc.coc_stage_flows(store, PUBLIC, default_year)
    pd.testing.assert_series_equal(api_flows["value_t"].reset_index(drop=True),
                                   screen["value_t"].reset_index(drop=True))


def test_the_demo_answers_are_the_ones_a_reader_sees() -> None:
    """The numbers the issue found disagreeing now agree on the bundled demo."""
    store = Store.open_current(REPO_ROOT / "data")
    try:
        tiles = outcomes.dashboard_tiles(store, PUBLIC)
        status = toc.indicator_status(store, PUBLIC).set_index("indicator_code")
        emissions = certifications.smelter_emissions(store, PUBLIC).by_region.set_index("region")
        assert tiles.tile("members").value == status.loc["OP-01", "latest_value"] == 476
        assert round(float(emissions.loc[certifications.WORLD, "median_t_per_t"]), 3) == round(
            float(status.loc["MT-01", "latest_value"]), 3)
    finally:
        store.close()
