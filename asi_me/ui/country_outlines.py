"""Country outlines for the certification map, read once per process from the bundled GeoJSON.

asi_me/reference/countries-110m.geojson is Natural Earth 1:110m (public domain), built by
scripts/build_country_outlines.py. The map draws it as land and borders, and colours the
countries with certified facilities, so it needs no tiles and no network.

The land and borders layer is the same on every map, so the browser fetches it once, as a
static file of the app (LAND_FILE, served at LAND_URL with `server.enableStaticServing`),
instead of finding it again in every map message; `land_geojson` writes what that file holds.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

OUTLINES_PATH = Path(__file__).resolve().parent.parent / "reference" / "countries-110m.geojson"
# Antarctica holds no facility, and Web Mercator stretches it into a band across the bottom
# of every world view that would read as a continent of data.
LEFT_OFF_THE_MAP = frozenset({"AQ"})
# The land layer as a static file: the geometry of every outline, no properties (nothing in it
# is picked). Streamlit serves the main script's static/ folder (a link to asi_me/ui/static) at
# app/static/; the URL is relative, so it resolves under any base path the app is served at.
LAND_FILE = Path(__file__).resolve().parent / "static" / "land-110m.geojson"
LAND_URL = "app/static/" + LAND_FILE.name


@dataclass(frozen=True)
class CountryOutline:
    """One country as drawn: its alpha-2 code (None where Natural Earth has no ISO code), name and
    GeoJSON geometry (Polygon or MultiPolygon, lon/lat to 2 decimals). The geometry is shared by
    every session: never change it."""

    country: str | None
    name: str
    geometry: dict

    def feature(self, **properties: object) -> dict:
        """A GeoJSON Feature carrying only the properties a layer reads."""
        return {"type": "Feature", "geometry": self.geometry, "properties": properties}


@functools.cache
def country_outlines() -> tuple[CountryOutline, ...]:
    """Every country on the map, in file order (Antarctica left off)."""
    collection = json.loads(OUTLINES_PATH.read_text(encoding="utf-8"))
    return tuple(
        CountryOutline(feature["properties"]["country"], feature["properties"]["name"], feature["geometry"])
        for feature in collection["features"]
        if feature["properties"]["country"] not in LEFT_OFF_THE_MAP
    )


@functools.cache
def outlined_countries() -> frozenset[str]:
    """Alpha-2 codes of the countries that have an outline."""
    return frozenset(outline.country for outline in country_outlines() if outline.country)


def land_geojson() -> str:
    """The text of LAND_FILE: every outline's geometry as one compact FeatureCollection."""
    features = [outline.feature() for outline in country_outlines()]
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")) + "\n"
