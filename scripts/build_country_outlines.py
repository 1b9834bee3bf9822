"""Build asi_me/reference/countries-110m.geojson, the country outlines the certification map draws.

Source: Natural Earth 1:110m Admin 0 countries (version 4.1.0, public domain,
https://www.naturalearthdata.com/), as redistributed in TopoJSON by the npm package
world-atlas 2.0.2 (file countries-110m.json; ISC licence, Copyright 2013-2019 Michael Bostock).

Run it again after updating the source file:

    python scripts/build_country_outlines.py path/to/world-atlas/countries-110m.json

The script decodes the TopoJSON arcs itself (quantized, delta-encoded; no extra
dependency), rounds coordinates to 2 decimals (about 1 km, finer than 1:110m detail), makes the
rings that cross the 180th meridian continuous (a flat map would draw the jump as a line
across the world) and writes one Feature per country with the properties `country` (the ISO 3166-1 alpha-2 code
the app uses, asi_me/reference/countries.csv) and `name` (Natural Earth's short name).
world-atlas identifies countries by ISO 3166-1 numeric code; ISO_NUMERIC_TO_ALPHA2 below maps
them, checked by hand against ISO 3166-1. Kosovo, N. Cyprus and Somaliland have no ISO code
in the source and get `country: null`, so no data ever joins onto them. An id missing from
the table stops the script rather than producing an outline nobody can join.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "asi_me" / "reference" / "countries-110m.geojson"
DECIMALS = 2

# ISO 3166-1 numeric -> alpha-2, for every numeric id in world-atlas 2.0.2 countries-110m.json.
ISO_NUMERIC_TO_ALPHA2: dict[str, str] = {
    "004": "AF", "008": "AL", "010": "AQ", "012": "DZ", "024": "AO", "031": "AZ", "032": "AR",
    "036": "AU", "040": "AT", "044": "BS", "050": "BD", "051": "AM", "056": "BE", "064": "BT",
    "068": "BO", "070": "BA", "072": "BW", "076": "BR", "084": "BZ", "090": "SB", "096": "BN",
    "100": "BG", "104": "MM", "108": "BI", "112": "BY", "116": "KH", "120": "CM", "124": "CA",
    "140": "CF", "144": "LK", "148": "TD", "152": "CL", "156": "CN", "158": "TW", "170": "CO",
    "178": "CG", "180": "CD", "188": "CR", "191": "HR", "192": "CU", "196": "CY", "203": "CZ",
    "204": "BJ", "208": "DK", "214": "DO", "218": "EC", "222": "SV", "226": "GQ", "231": "ET",
    "232": "ER", "233": "EE", "238": "FK", "242": "FJ", "246": "FI", "250": "FR", "260": "TF",
    "262": "DJ", "266": "GA", "268": "GE", "270": "GM", "275": "PS", "276": "DE", "288": "GH",
    "300": "GR", "304": "GL", "320": "GT", "324": "GN", "328": "GY", "332": "HT", "340": "HN",
    "348": "HU", "352": "IS", "356": "IN", "360": "ID", "364": "IR", "368": "IQ", "372": "IE",
    "376": "IL", "380": "IT", "384": "CI", "388": "JM", "392": "JP", "398": "KZ", "400": "JO",
    "404": "KE", "408": "KP", "410": "KR", "414": "KW", "417": "KG", "418": "LA", "422": "LB",
    "426": "LS", "428": "LV", "430": "LR", "434": "LY", "440": "LT", "442": "LU", "450": "MG",
    "454": "MW", "458": "MY", "466": "ML", "478": "MR", "484": "MX", "496": "MN", "498": "MD",
    "499": "ME", "504": "MA", "508": "MZ", "512": "OM", "516": "NA", "524": "NP", "528": "NL",
    "540": "NC", "548": "VU", "554": "NZ", "558": "NI", "562": "NE", "566": "NG", "578": "NO",
    "586": "PK", "591": "PA", "598": "PG", "600": "PY", "604": "PE", "608": "PH", "616": "PL",
    "620": "PT", "624": "GW", "626": "TL", "630": "PR", "634": "QA", "642": "RO", "643": "RU",
    "646": "RW", "682": "SA", "686": "SN", "688": "RS", "694": "SL", "703": "SK", "704": "VN",
    "705": "SI", "706": "SO", "710": "ZA", "716": "ZW", "724": "ES", "728": "SS", "729": "SD",
    "732": "EH", "740": "SR", "748": "SZ", "752": "SE", "756": "CH", "760": "SY", "762": "TJ",
    "764": "TH", "768": "TG", "780": "TT", "784": "AE", "788": "TN", "792": "TR", "795": "TM",
    "800": "UG", "804": "UA", "807": "MK", "818": "EG", "826": "GB", "834": "TZ", "840": "US",
    "854": "BF", "858": "UY", "860": "UZ", "862": "VE", "887": "YE", "894": "ZM",
}  # fmt: skip
# Features world-atlas gives no id: not ISO 3166-1 countries.
WITHOUT_ISO_CODE = frozenset({"Kosovo", "N. Cyprus", "Somaliland"})

Point = tuple[float, float]


def decode_arcs(topology: dict) -> list[list[Point]]:
    """Absolute lon/lat points of every arc: undo the delta encoding, then the quantization."""
    (scale_x, scale_y), (origin_x, origin_y) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs: list[list[Point]] = []
    for arc in topology["arcs"]:
        x = y = 0
        points: list[Point] = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * scale_x + origin_x, y * scale_y + origin_y))
        arcs.append(points)
    return arcs


def ring(arc_indexes: list[int], arcs: list[list[Point]]) -> list[list[float]]:
    """One closed ring from its arcs; ~i means arc i walked backwards. Rounded, repeats dropped."""
    points: list[Point] = []
    for index in arc_indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        # consecutive arcs share their joining point
        points.extend(arc if not points else arc[1:])
    out: list[list[float]] = []
    for lon, lat in points:
        here = [round(lon, DECIMALS), round(lat, DECIMALS)]
        if not out or out[-1] != here:
            out.append(here)
    if out and out[0] != out[-1]:
        out.append(out[0])
    return out


def across_the_antimeridian(points: list[list[float]]) -> list[list[float]]:
    """A ring that crosses the 180th meridian (Fiji, Chukotka) with continuous longitudes.

    TopoJSON on the sphere lets a ring jump from 180 to -180; drawn flat, that jump is a line
    across the whole map. Longitudes are unwrapped to step at most 180 degrees, then the ring
    is moved by 360 degrees so its mean lies within -180..180 (it may reach a little past
    the edge). A ring that encircles a pole (Antarctica) does not close when unwrapped and is
    left as it is.
    """
    if all(abs(a[0] - b[0]) <= 180 for a, b in itertools.pairwise(points)):
        return points
    unwrapped = [points[0]]
    for lon, lat in points[1:]:
        previous = unwrapped[-1][0]
        # the copy of this longitude, 360 degrees apart, nearest to the previous point
        unwrapped.append([lon + 360 * round((previous - lon) / 360), lat])
    if unwrapped[0] != unwrapped[-1]:
        return points
    mean = sum(lon for lon, _ in unwrapped) / len(unwrapped)
    shift = 360 if mean < -180 else -360 if mean > 180 else 0
    return [[round(lon + shift, DECIMALS), lat] for lon, lat in unwrapped]


def polygon(rings: list[list[int]], arcs: list[list[Point]]) -> list[list[list[float]]]:
    """A polygon's rings without those that rounding collapsed (fewer than 4 points)."""
    return [across_the_antimeridian(r) for r in (ring(indexes, arcs) for indexes in rings) if len(r) >= 4]


def country_features(topology: dict) -> list[dict]:
    """One GeoJSON Feature per country geometry, with its alpha-2 code and name."""
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        name = geometry["properties"]["name"]
        numeric = geometry.get("id")
        if numeric is None:
            if name not in WITHOUT_ISO_CODE:
                raise SystemExit(f"{name!r} has no ISO numeric id and is not a known exception; check the source.")
            code = None
        elif numeric in ISO_NUMERIC_TO_ALPHA2:
            code = ISO_NUMERIC_TO_ALPHA2[numeric]
        else:
            raise SystemExit(f"ISO numeric id {numeric!r} ({name}) is not in ISO_NUMERIC_TO_ALPHA2; add it by hand.")
        if geometry["type"] == "Polygon":
            polygons = [polygon(geometry["arcs"], arcs)]
        elif geometry["type"] == "MultiPolygon":
            polygons = [polygon(rings, arcs) for rings in geometry["arcs"]]
        else:
            raise SystemExit(f"{name}: unexpected geometry type {geometry['type']!r}.")
        polygons = [p for p in polygons if p]
        coordinates: list = polygons[0] if len(polygons) == 1 else polygons
        features.append(
            {
                "type": "Feature",
                "properties": {"country": code, "name": name},
                "geometry": {"type": "Polygon" if len(polygons) == 1 else "MultiPolygon", "coordinates": coordinates},
            }
        )
    return features


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="world-atlas countries-110m.json (TopoJSON)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"GeoJSON to write (default {OUTPUT})")
    args = parser.parse_args(argv)
    topology = json.loads(args.source.read_text(encoding="utf-8"))
    collection = {"type": "FeatureCollection", "features": country_features(topology)}
    text = json.dumps(collection, separators=(",", ":"), ensure_ascii=False)
    args.output.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {len(collection['features'])} countries, {len(text.encode()):,} bytes, to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
