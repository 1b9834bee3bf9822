"""The certification map deck and its legend, on tiny frames."""

from __future__ import annotations

import math

import pandas as pd

from asi_me.ui.map_charts import (
    GHG_THRESHOLD_T_PER_T,
    STATUS_COLOURS,
    build_certification_deck,
    build_emissions_by_region,
    deck_point_count,
    emissions_layer_frame,
    facility_layer_frame,
    legend_markdown,
    status_legend,
)
from asi_me.vocab import CertificationStatus


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
    assert "North Smelter" in frame.loc["F1", "tooltip"]
    assert "Certified · Performance Standard" in frame.loc["F1", "tooltip"]
    assert "12 facilities in this area" in frame.loc["F4", "tooltip"]
    assert frame.loc["F4", "radius"] > frame.loc["F1", "radius"]


def test_country_layer_only_when_asked() -> None:
    countries = pd.DataFrame(
        {
            "country_name": ["Norway", "Chad"],
            "latitude": [60.0, 15.0],
            "longitude": [8.0, 19.0],
            "certified_facilities": [7, 0],
        }
    )
    off = build_certification_deck(points(), countries, show_countries=False)
    on = build_certification_deck(points(), countries, show_countries=True)
    assert "countries" not in [item.id for item in off.layers]
    assert [row["text"] for row in layer(on, "country-labels").data] == ["Norway 7"]


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
    assert "above the 8 t threshold" in frame["tooltip"].iloc[0]


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
