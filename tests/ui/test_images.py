"""Charts to take away: the PNG and SVG files carry the chart's title, source, data version and
citation inside the image (read back from the file), and are valid images."""

from __future__ import annotations

import io

import pandas as pd
from PIL import Image

from asi_me.ui import charts, images

FRAME = pd.DataFrame({
    "month_on": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-01-31", "2024-02-29"]),
    "membership_class": ["Civil Society", "Civil Society", "Industrial Users", "Industrial Users"],
    "members": [10, 12, 30, 31],
})
CHART = charts.stacked_bars(FRAME, x="month_on", y="members", series="membership_class", y_title="Members")
CREDITS = {"title": "Members by membership class", "source": "Membership applications (CRM)",
           "version": "release of 1 November 2026"}


def test_the_svg_names_its_title_source_version_and_citation() -> None:
    svg = images.altair_image(CHART, fmt="svg", **CREDITS).decode("utf-8")
    assert svg.lstrip().startswith("<svg")
    for text in ("Members by membership class", "Source: Membership applications (CRM).",
                 "Data: release of 1 November 2026.", "Cite as: Aluminium Stewardship Initiative"):
        assert text in svg, text


def test_the_png_is_a_print_resolution_image_taller_than_the_chart_for_its_credits() -> None:
    png = images.altair_image(CHART, fmt="png", **CREDITS)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    plain = Image.open(io.BytesIO(__import__("vl_convert").vegalite_to_png(CHART.to_dict(), scale=images.SCALE)))
    assert image.height > plain.height + 40  # title and three credit lines drawn above the chart
    assert image.width >= plain.width


def test_file_names_say_what_the_chart_is() -> None:
    assert images.file_stem("Members by membership class") == "asi-members-by-membership-class"
    assert images.file_stem("%%%") == "asi-chart"


def test_the_map_picture_shades_countries_and_carries_its_credits() -> None:
    countries = pd.DataFrame({"country": ["DE", "BR", "AU"], "certified_facilities": [27, 26, 8]})
    chart = images.country_choropleth(countries)
    svg = images.altair_image(chart, title="Countries with ASI-certified facilities", fmt="svg",
                              source="ASI certification register (elementAl)", version="release of 1 November 2026")
    text = svg.decode("utf-8")
    assert "Countries with ASI-certified facilities" in text and "Source: ASI certification register" in text
    assert text.count("<path") > 150  # every country's outline is drawn
    png = images.altair_image(chart, title="Map", fmt="png", source="s", version="v")
    assert Image.open(io.BytesIO(png)).format == "PNG"
