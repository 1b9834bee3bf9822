"""The certification map deck and its legend, on tiny frames."""

from __future__ import annotations

import csv
import itertools
import json
import math
from pathlib import Path

import pandas as pd
import pydeck as pdk
import pytest

from asi_me.data.vocab import CertificationStatus
from asi_me.ui.country_outlines import (
    LAND_FILE,
    LAND_URL,
    OUTLINES_PATH,
    country_outlines,
    land_geojson,
    outlined_countries,
)
from asi_me.ui.map_charts import (
    GHG_THRESHOLD_T_PER_T,
    STATUS_COLOURS,
    TOOLTIP,
    build_certification_deck,
    build_emissions_by_region,
    choropleth_breaks,
    class_labels,
    country_layer_frame,
    deck_point_count,
    emissions_layer_frame,
    facility_layer_frame,
    legend_markdown,
    spaced_labels,
    status_legend,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_DATA = REPO_ROOT / "data"
# Countries in the demo too small for Natural Earth 1:110m: they get a circle, not an outline.
TOO_SMALL_FOR_110M = {"BH": "Bahrain", "SG": "Singapore"}


def points() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "facility_id": ["F1", "F2", "F3", "F4"],
            "facility_name": ["North Smelter", "East Mill", "No Place", "Area"],
            "country_name": ["Norway", "Germany", "Germany", "Brazil"],
            "latitude": [60.0, 50.0, math.nan, -10.0],
            "longitude": [8.0, 9.0, 9.0, -50.0],
            "status": ["certified", "suspended", "certified", "provisional"],
            "standard_key": ["PS", "CoC", "both", "both"],
            "n_facilities": [1, 1, 1, 12],
            "is_cell": [False, False, False, True],
        }
    )


def layer(deck, layer_id: str):
    return next(item for item in deck.layers if item.id == layer_id)


def test_deck_never_sends_more_points_than_the_frame_and_drops_unplaced_ones() -> None:
    deck = build_certification_deck(points())
    assert deck_point_count(deck) == 3  # F3 has no coordinates
    assert deck_point_count(build_certification_deck(points().head(0))) == 0


def test_map_needs_no_basemap_or_token() -> None:
    deck = build_certification_deck(points())
    spec = deck.to_json()
    assert deck.map_provider is None
    assert "mapbox" not in spec.lower()
    assert layer(deck, "graticule") is not None


def test_every_status_has_a_colour_a_symbol_and_words() -> None:
    legend = status_legend()
    assert [entry.key for entry in legend] == [s.value for s in CertificationStatus]
    assert len({entry.hex_colour for entry in legend}) == len(legend)
    assert len({entry.mark for entry in legend}) == len(legend)
    text = legend_markdown()
    for words in ("Certified", "Provisional", "Suspended", "Withdrawn", "Expired"):
        assert words in text
    for words in ("Performance Standard only", "Chain of Custody only", "PS and CoC"):
        assert words in text


def test_standard_is_drawn_as_fill_ring_or_outline_not_only_colour() -> None:
    frame = facility_layer_frame(points()).set_index("facility_id")
    certified = list(STATUS_COLOURS["certified"])
    suspended = list(STATUS_COLOURS["suspended"])
    assert frame.loc["F1", "fill_color"][:3] == certified  # PS: filled
    assert frame.loc["F2", "fill_color"][:3] == [255, 255, 255]  # CoC: hollow ring in the status colour
    assert frame.loc["F2", "line_color"][:3] == suspended
    assert frame.loc["F4", "line_width"] > frame.loc["F1", "line_width"]  # both: heavy outline
    assert frame.loc["F2", "symbol"] == "■"  # suspended's shape


def test_tooltips_say_status_and_grouping_in_words() -> None:
    frame = facility_layer_frame(points()).set_index("facility_id")
    assert frame.loc["F1", "title"] == "North Smelter"
    assert "Certified · Performance Standard" in frame.loc["F1", "detail"]
    assert frame.loc["F4", "title"] == "12 facilities in this area"
    assert frame.loc["F4", "radius"] > frame.loc["F1", "radius"]


def test_tooltip_markup_is_in_the_template_because_streamlit_escapes_values() -> None:
    # Streamlit 1.67 HTML-escapes every {field} it puts into the tooltip: "<b>" in a value
    # would show as the characters "<b>". So values are plain text and lines are newlines.
    assert TOOLTIP["html"] == "<b>{title}</b><br/>{detail}"
    assert TOOLTIP["style"]["whiteSpace"] == "pre-line"
    frame = facility_layer_frame(points())
    assert not any("<" in text for text in [*frame["title"], *frame["detail"]])
    deck = build_certification_deck(points(), countries_frame({"NO": 7}), show_countries=True)
    for feature in layer(deck, "countries").data:
        assert "<" not in feature["properties"]["title"] + feature["properties"]["detail"]


def countries_frame(counts: dict[str, int]) -> pd.DataFrame:
    """country_aggregates-shaped rows for the given alpha-2 codes, named from countries.csv."""
    with (REPO_ROOT / "asi_me" / "reference" / "countries.csv").open(encoding="utf-8") as fh:
        names = {row["country"]: row["country_name"] for row in csv.DictReader(fh)}
    return pd.DataFrame(
        {
            "country": list(counts),
            "country_name": [names[code] for code in counts],
            "latitude": [10.0] * len(counts),
            "longitude": [-150.0 + 30.0 * i for i in range(len(counts))],  # far apart: every label has room
            "certified_facilities": list(counts.values()),
        }
    )


def fills_by_country(deck) -> dict[str, str]:
    """The choropleth's fill per country name, as hex."""
    return {
        feature["properties"]["title"]: "#{:02x}{:02x}{:02x}".format(*feature["properties"]["fill_color"][:3])
        for feature in layer(deck, "countries").data
    }


def test_country_layer_only_when_asked() -> None:
    countries = countries_frame({"NO": 7, "TD": 0})
    off = build_certification_deck(points(), countries, show_countries=False)
    on = build_certification_deck(points(), countries, show_countries=True)
    assert "countries" not in [item.id for item in off.layers]
    assert [row["text"] for row in layer(on, "country-labels").data] == ["Norway 7"]
    assert list(fills_by_country(on)) == ["Norway"]  # Chad has none: plain land
    assert layer(on, "land").data == LAND_URL  # every outline, plain land, from the static file


def test_each_class_boundary_gives_the_colour_worked_out_by_hand() -> None:
    # Demo scale (largest country 28): classes 1 | 2-4 | 5-9 | 10-19 | 20+, ColorBrewer Blues.
    counts = {"NO": 1, "SE": 2, "FI": 4, "DK": 5, "PL": 9, "DE": 10, "FR": 19, "IT": 20, "US": 28}
    deck = build_certification_deck(points(), countries_frame(counts), show_countries=True)
    assert fills_by_country(deck) == {
        "Norway": "#c6dbef",
        "Sweden": "#9ecae1",
        "Finland": "#9ecae1",
        "Denmark": "#6baed6",
        "Poland": "#6baed6",
        "Germany": "#3182bd",
        "France": "#3182bd",
        "Italy": "#08519c",
        "United States": "#08519c",
    }
    # A hundred times the data: the same five colours over 1-199 | 200-499 | 500-999 | 1,000-1,999 | 2,000+.
    counts = {"NO": 199, "SE": 200, "FI": 499, "DK": 500, "DE": 1999, "IT": 2000, "US": 2800}
    deck = build_certification_deck(points(), countries_frame(counts), show_countries=True)
    assert fills_by_country(deck) == {
        "Norway": "#c6dbef",
        "Sweden": "#9ecae1",
        "Finland": "#9ecae1",
        "Denmark": "#6baed6",
        "Germany": "#3182bd",
        "Italy": "#08519c",
        "United States": "#08519c",
    }


def test_class_breaks_are_round_numbers_the_legend_spells_out() -> None:
    assert choropleth_breaks([28, 1]) == (1, 2, 5, 10, 20)
    assert choropleth_breaks([3]) == (1, 2, 5, 10, 20)  # few facilities: the demo's classes
    assert choropleth_breaks([39]) == (1, 2, 5, 10, 20)
    assert choropleth_breaks([40]) == (1, 4, 10, 20, 40)
    assert choropleth_breaks([2800]) == (1, 200, 500, 1000, 2000)
    assert class_labels((1, 2, 5, 10, 20)) == ["1", "2–4", "5–9", "10–19", "20 or more"]
    assert class_labels((1, 200, 500, 1000, 2000))[-1] == "2,000 or more"
    legend = legend_markdown(show_countries=True, country_breaks=(1, 4, 10, 20, 40))
    assert "palest to darkest blue" in legend
    for words in ("1–3", "4–9", "10–19", "20–39", "40 or more", "facilities with a valid certification"):
        assert words in legend
    assert "facilities with a valid certification" not in legend_markdown(show_countries=False)


def test_tooltip_and_label_carry_the_number_not_only_the_colour() -> None:
    deck = build_certification_deck(points(), countries_frame({"NO": 1, "DE": 27}), show_countries=True)
    tips = {f["properties"]["title"]: f["properties"]["detail"] for f in layer(deck, "countries").data}
    assert tips == {
        "Norway": "1 facility with a valid certification",
        "Germany": "27 facilities with a valid certification",
    }
    assert {row["text"] for row in layer(deck, "country-labels").data} == {"Norway 1", "Germany 27"}


def test_crowded_labels_keep_the_larger_country_and_sit_above_the_dots() -> None:
    countries = countries_frame({"DE": 27, "AT": 3, "BR": 26})
    countries.loc[countries["country"] == "DE", ["latitude", "longitude"]] = [51.3, 9.2]
    countries.loc[countries["country"] == "AT", ["latitude", "longitude"]] = [47.9, 14.1]
    countries.loc[countries["country"] == "BR", ["latitude", "longitude"]] = [-11.6, -47.5]
    frame = country_layer_frame(countries)
    world = pdk.ViewState(latitude=20, longitude=10, zoom=1)  # Austria's label would cover Germany's
    assert list(spaced_labels(frame, world)["text"]) == ["Germany 27", "Brazil 26"]
    close = pdk.ViewState(latitude=50, longitude=10, zoom=5)  # zoomed in, Austria's label has room
    assert list(spaced_labels(frame, close)["text"]) == ["Germany 27", "Brazil 26", "Austria 3"]
    assert len(spaced_labels(frame, close, limit=2)) == 2
    deck = build_certification_deck(points(), countries, show_countries=True)
    ids = [item.id for item in deck.layers]
    assert ids.index("country-labels") > ids.index("facilities")
    assert layer(deck, "country-labels").pickable is False  # a click goes through to the dot below


def test_land_is_the_first_layer_a_static_file_and_the_choropleth_sends_only_its_countries() -> None:
    for show in (False, True):
        deck = build_certification_deck(points(), countries_frame({"NO": 7, "BR": 3}), show_countries=show)
        land = deck.layers[0]
        assert land.id == "land"
        assert land.type == "GeoJsonLayer"
        assert land.pickable is False
        assert land.data == LAND_URL  # not in the map message: the browser fetches it once
        ids = [item.id for item in deck.layers]
        assert ids.index("graticule") > ids.index("land")
        assert ids.index("facilities") > max(ids.index("land"), ids.index("graticule"))
    chosen = layer(deck, "countries")
    assert chosen.pickable is True
    assert sorted(f["properties"]["title"] for f in chosen.data) == ["Brazil", "Norway"]
    # the code lets a click on a country list the records behind it (pages/map.py)
    assert {key for f in chosen.data for key in f["properties"]} == {"fill_color", "title", "detail", "country"}


def test_the_land_file_served_is_every_outline_without_properties() -> None:
    # The committed file is what the outlines give today (rebuild it with land_geojson() if not).
    assert LAND_FILE.read_text(encoding="utf-8") == land_geojson()
    land = json.loads(LAND_FILE.read_text(encoding="utf-8"))
    assert len(land["features"]) == len(country_outlines())
    assert all(feature["properties"] == {} for feature in land["features"])
    assert LAND_URL.endswith("app/static/" + LAND_FILE.name) and not LAND_URL.startswith("/")


def test_outlines_join_on_the_apps_country_codes() -> None:
    collection = json.loads(OUTLINES_PATH.read_text(encoding="utf-8"))
    with (REPO_ROOT / "asi_me" / "reference" / "countries.csv").open(encoding="utf-8") as fh:
        app_codes = {row["country"] for row in csv.DictReader(fh)}
    codes = [feature["properties"]["country"] for feature in collection["features"]]
    assert len(codes) == 177
    no_code = {f["properties"]["name"] for f in collection["features"] if f["properties"]["country"] is None}
    assert no_code == {"Kosovo", "N. Cyprus", "Somaliland"}  # no ISO 3166-1 code in Natural Earth
    assert set(codes) - {None} <= app_codes
    assert len(set(codes) - {None}) == len(codes) - len(no_code)  # one outline per code
    assert OUTLINES_PATH.stat().st_size < 200_000
    assert "AQ" not in outlined_countries()  # Antarctica holds no facility and is not drawn


def test_no_outline_jumps_across_the_whole_map_at_the_antimeridian() -> None:
    # Fiji and Chukotka cross 180°; a ring stepping from 180 to -180 would draw a line across the world.
    for outline in country_outlines():
        polygons = outline.geometry["coordinates"]
        rings = polygons if outline.geometry["type"] == "Polygon" else [r for p in polygons for r in p]
        for ring in rings:
            steps = [abs(a[0] - b[0]) for a, b in itertools.pairwise(ring)]
            assert max(steps) < 90, outline.name


@pytest.fixture(scope="module")
def demo_store():
    from asi_me.data.snapshot import current_id
    from asi_me.data.store import Store

    if current_id(DEMO_DATA) is None:
        pytest.skip("data/ has no snapshot yet: run `python -m asi_me demo` to write the demo dataset.")
    store = Store.open_current(DEMO_DATA)
    yield store
    store.close()


def test_every_demo_facility_country_has_an_outline_or_a_circle(demo_store) -> None:
    from asi_me.filters import Filters, Viewer
    from asi_me.queries.certifications import country_aggregates

    facility_countries = set(demo_store.query("select distinct country from facilities")["country"])
    missing = facility_countries - outlined_countries()
    assert missing == set(TOO_SMALL_FOR_110M), "an outline is missing, or a known exception now has one"
    countries = country_aggregates(demo_store, Viewer.public(), Filters())
    deck = build_certification_deck(points(), countries, show_countries=True)
    certified = countries.loc[countries["certified_facilities"] > 0]
    outlined = set(fills_by_country(deck))
    circled = {row["title"] for row in layer(deck, "country-points").data}
    assert outlined | circled == set(certified["country_name"])
    assert circled == set(TOO_SMALL_FOR_110M.values())


# Measured on the demo (public view, country layer on): 266,632 bytes when the land layer was
# in every message (land 73 KB, choropleth 92 KB) and each facility carried its name twice;
# 181,614 with the land a static file. Country layer off: 256,713 then (the land was 158 KB),
# 87,598 now. The budgets leave room for growth, not for sending the land again.
DEMO_DECK_BUDGET_BYTES = 200_000
DEMO_DECK_WITHOUT_COUNTRIES_BUDGET_BYTES = 110_000
OUTLINE_LAYERS_BUDGET_BYTES = 100_000


def test_map_message_with_outlines_stays_within_its_byte_budget(demo_store) -> None:
    from asi_me.filters import Filters, Viewer
    from asi_me.queries.certifications import country_aggregates, facility_points

    viewer, filters = Viewer.public(), Filters()
    deck = build_certification_deck(
        facility_points(demo_store, viewer, filters),
        country_aggregates(demo_store, viewer, filters),
        show_countries=True,
    )
    spec = deck.to_json()
    assert len(spec.encode()) < DEMO_DECK_BUDGET_BYTES
    outline_layers = [item for item in json.loads(spec)["layers"] if item["id"] in {"land", "countries"}]
    assert len(json.dumps(outline_layers, separators=(",", ":")).encode()) < OUTLINE_LAYERS_BUDGET_BYTES
    plain = build_certification_deck(facility_points(demo_store, viewer, filters), show_countries=False)
    assert len(plain.to_json().encode()) < DEMO_DECK_WITHOUT_COUNTRIES_BUDGET_BYTES


def test_emissions_compare_each_smelter_with_the_threshold_in_words() -> None:
    smelters = pd.DataFrame(
        {
            "facility_id": ["F1", "F9"],
            "facility_name": ["North Smelter", "Far"],
            "year": [2024, 2024],
            "ghg_intensity_t_per_t": [12.4, 4.0],
        }
    )
    frame = emissions_layer_frame(smelters, points())
    assert list(frame["facility_id"]) == ["F1"]  # F9 has no location
    assert frame["text"].iloc[0] == f"12.4 t ▲ over {GHG_THRESHOLD_T_PER_T:g}"
    assert frame["title"].iloc[0] == "North Smelter"
    assert "above the 8 t threshold" in frame["detail"].iloc[0]


def test_emissions_by_region_writes_suppressed_regions_instead_of_a_zero_bar() -> None:
    by_region = pd.DataFrame(
        {
            "region": ["Europe", "Africa"],
            "smelters": [9, math.nan],
            "above_threshold": [2, math.nan],
            "median_t_per_t": [4.2, math.nan],
            "is_suppressed": [False, True],
            "suppression_note": [None, "suppressed (fewer than 5 reporters)"],
        }
    )
    fig = build_emissions_by_region(by_region)
    assert list(fig.data[0].y) == ["Europe"]
    assert "suppressed (fewer than 5 reporters)" in [a.text for a in fig.layout.annotations]


def test_emission_labels_do_not_pile_up_and_keep_the_smelters_over_the_threshold() -> None:
    """Three smelters a few km apart: one label, the one over 8 t; a distant one keeps its own."""
    locations = pd.DataFrame({"facility_id": ["S1", "S2", "S3", "S4"], "latitude": [60.0, 60.05, 60.1, -30.0],
                              "longitude": [10.0, 10.05, 10.1, 140.0]})
    smelters = pd.DataFrame({"facility_id": ["S1", "S2", "S3", "S4"], "facility_name": ["A", "B", "C", "D"],
                             "year": [2024] * 4, "ghg_intensity_t_per_t": [4.0, 12.4, 6.0, 5.0]})
    deck = build_certification_deck(locations.assign(status="certified", standard_key="PS"),
                                    emissions=smelters, locations=locations, show_emissions=True)
    shown = layer(deck, "emissions").data
    shown = shown if isinstance(shown, pd.DataFrame) else pd.DataFrame(shown)
    assert sorted(shown["facility_id"]) == ["S2", "S4"]
    assert "over 8" in shown.set_index("facility_id").loc["S2", "text"]
