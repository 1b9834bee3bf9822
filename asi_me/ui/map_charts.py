"""Pure builders for the certification map: DataFrames in, a pydeck.Deck out.

The map draws without internet: no basemap (``map_provider=None`` and an empty style, so
nothing is fetched from the web). Land and
country borders come from the bundled Natural Earth outlines (asi_me/ui/country_outlines.py),
under a lat/lon graticule, the facility points, the country choropleth and the smelter
emissions layer. Facility colours follow the Okabe-Ito palette and the choropleth a
single-hue blue scale, both distinguishable under the common colour-vision deficiencies;
colour is never the only cue: the standard is drawn as fill/ring/outline, and the legend,
labels and tooltips spell out status, standard and counts in words.
"""

from __future__ import annotations

import bisect
import json
import math
import urllib.parse
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from asi_me.data.vocab import CertificationStatus
from asi_me.ui.country_outlines import LAND_URL, country_outlines, outlined_countries
from asi_me.ui.palette import status_style

# Okabe-Ito colours (RGB).
OKABE_ITO: dict[str, tuple[int, int, int]] = {
    "orange": (230, 159, 0),
    "sky_blue": (86, 180, 233),
    "bluish_green": (0, 158, 115),
    "yellow": (240, 228, 66),
    "blue": (0, 114, 178),
    "vermillion": (213, 94, 0),
    "reddish_purple": (204, 121, 167),
    "black": (0, 0, 0),
    "grey": (136, 136, 136),
}

# The app-wide status colours (asi_me/ui/palette.py), as RGB for deck.gl.
STATUS_COLOURS: dict[str, tuple[int, int, int]] = {
    str(status): tuple(status_style(status).rgb)  # type: ignore[misc]
    for status in CertificationStatus
}
# A status outside the vocabulary (or a mixed aggregate cell) is drawn in blue and says so.
MIXED_COLOUR = OKABE_ITO["blue"]

STATUS_LABELS: dict[str, str] = {
    CertificationStatus.CERTIFIED: "Certified",
    CertificationStatus.PROVISIONAL: "Provisional (major non-conformance, one year)",
    CertificationStatus.SUSPENDED: "Suspended",
    CertificationStatus.WITHDRAWN: "Withdrawn",
    CertificationStatus.EXPIRED: "Expired",
}

# How a point shows which standards its facility holds, besides the legend text.
STANDARD_GROUPS: dict[str, str] = {
    "PS": "Performance Standard only: filled dot",
    "CoC": "Chain of Custody only: hollow ring",
    "both": "PS and CoC: filled dot with a dark outline",
}

GHG_THRESHOLD_T_PER_T = 8.0  # PS criterion 5.x: scope 1+2, t CO2e per t Al, for smelters
EMISSIONS_COLOURS: dict[bool, tuple[int, int, int]] = {
    True: OKABE_ITO["blue"],  # at or below the threshold
    False: OKABE_ITO["vermillion"],  # above it
}
# The country choropleth: ColorBrewer "Blues" (6 classes, without its palest step, which is too
# close to the land colour), a sequential single hue that stays ordered for colour-blind readers
# and in greyscale. One colour per class, palest first.
CHOROPLETH_COLOURS: tuple[tuple[int, int, int], ...] = (
    (198, 219, 239),  # #c6dbef
    (158, 202, 225),  # #9ecae1
    (107, 174, 214),  # #6baed6
    (49, 130, 189),  # #3182bd
    (8, 81, 156),  # #08519c
)
# Lower bounds of the classes at demo scale: 1, 2-4, 5-9, 10-19, 20 or more facilities.
BASE_BREAKS: tuple[int, ...] = (1, 2, 5, 10, 20)
LAND_COLOUR = (236, 238, 241)  # light grey land; the sea is the page's white
BORDER_COLOUR = (160, 166, 173)
COUNTRY_POINT_RADIUS = 11.0  # px: a country too small to outline at 1:110m, ringing its facilities
COUNTRY_LABELS = 14  # how many of the largest countries get a name on the map
WHITE = (255, 255, 255)
INK = (30, 30, 30)

# The most markers the map sends: past it, nearby facilities are grouped into grid cells on the
# server (facility_points). At a world view half a degree is a pixel or two, so 600 cells look
# the same as 3,000 while the browser parses and draws a fifth of them (100x: 436 cells of 0.5°,
# a 0.3 MB map message instead of 1.1 MB of 2,920 cells). Filtered to a region or a country,
# the facilities come one by one again once they are fewer.
MAP_POINTS = 600


@dataclass(frozen=True)
class LegendEntry:
    """One legend row: words first, colour as a second cue."""

    key: str
    label: str
    hex_colour: str
    mark: str  # a text symbol: the status symbol of the shared palette, or the standard's mark


def _literal(text: str) -> str:
    """A string pydeck passes to deck.gl as is; a bare string would become a data accessor."""
    return f'"{text}"'


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def status_legend() -> list[LegendEntry]:
    """Every certification status with its colour and words."""
    return [
        LegendEntry(str(status), STATUS_LABELS[status], hex_colour(STATUS_COLOURS[status]), status_style(status).symbol)
        for status in CertificationStatus
    ]


def standard_legend() -> list[LegendEntry]:
    """How PS, CoC and both are drawn."""
    marks = {"PS": "●", "CoC": "○", "both": "◉"}
    return [LegendEntry(key, text, hex_colour(INK), marks[key]) for key, text in STANDARD_GROUPS.items()]


def legend_markdown(
    *,
    show_countries: bool = False,
    show_emissions: bool = False,
    inline: bool = False,
    country_breaks: tuple[int, ...] | None = None,
) -> str:
    """The map legend as Markdown with coloured symbols and words (colour is not the only cue).

    `country_breaks` are the choropleth's class bounds (choropleth_breaks of the counts drawn;
    BASE_BREAKS when not given)."""
    rows = [f"<span style='color:{e.hex_colour}'>{e.mark}</span> {e.label}" for e in status_legend()]
    rows += [f"{e.mark} {e.label}" for e in standard_legend()]
    if show_countries:
        classes = " ".join(
            f"<span style='color:{hex_colour(rgb)}'>■</span> {text}"
            for rgb, text in zip(CHOROPLETH_COLOURS, class_labels(country_breaks or BASE_BREAKS), strict=True)
        )
        rows.append(
            f"Country fill, palest to darkest blue, by facilities with a valid certification: {classes}; "
            "grey: none. A country too small to outline is a ring of its colour around its facilities"
        )
    if show_emissions:
        rows.append(
            f"<span style='color:{hex_colour(EMISSIONS_COLOURS[True])}'>▭</span> “5.2 t”: smelter GHG intensity, "
            f"scope 1+2, t CO2e per t Al, at or below the {GHG_THRESHOLD_T_PER_T:g} t threshold"
        )
        rows.append(
            f"<span style='color:{hex_colour(EMISSIONS_COLOURS[False])}'>▭</span> “12.4 t ▲ over 8”: above the "
            f"{GHG_THRESHOLD_T_PER_T:g} t threshold"
        )
    return " &nbsp;·&nbsp; ".join(rows) if inline else "  \n".join(rows)


def graticule(step_deg: int = 30) -> pd.DataFrame:
    """Lines of latitude and longitude every step_deg degrees, as PathLayer data."""
    paths: list[dict[str, object]] = [
        {"path": [[lon, lat] for lon in range(-180, 181, 10)], "is_equator": lat == 0}
        for lat in range(-60, 61, step_deg)
    ]
    paths += [
        {"path": [[lon, lat] for lat in range(-80, 81, 10)], "is_equator": False} for lon in range(-180, 181, step_deg)
    ]
    frame = pd.DataFrame(paths)
    frame["color"] = [[120, 120, 120, 110] if eq else [170, 170, 170, 70] for eq in frame["is_equator"]]
    return frame


def _status_rgb(status: object) -> tuple[int, int, int]:
    return STATUS_COLOURS.get(str(status), MIXED_COLOUR)


def _point_radius(count: float) -> float:
    # Area grows with the number of facilities a point stands for; single facilities stay visible.
    return 7.0 + 3.0 * math.sqrt(max(float(count), 1.0) - 1.0)


def facility_layer_frame(points: pd.DataFrame) -> pd.DataFrame:
    """Per-point drawing attributes: fill, outline, radius and tooltip text (title, detail).

    Expects latitude, longitude, status, standard_key ('PS', 'CoC', 'both') and
    optionally n_facilities, facility_name and country_name (as facility_points returns them).
    """
    frame = points.loc[points["latitude"].notna() & points["longitude"].notna()].copy()
    counts = frame["n_facilities"] if "n_facilities" in frame else pd.Series(1, index=frame.index)
    groups = frame["standard_key"].astype("string").fillna("PS") if "standard_key" in frame else None
    fill, line, width, radius, titles, details = [], [], [], [], [], []
    symbols: list[str] = []
    symbol_colours: list[list[int]] = []
    for i, (status, count) in enumerate(zip(frame["status"], counts, strict=True)):
        rgb = _status_rgb(status)
        group = str(groups.iloc[i]) if groups is not None else "PS"
        if group == "CoC":
            fill.append([255, 255, 255, 230])
            line.append([*rgb, 255])
            width.append(3)
        elif group == "both":
            fill.append([*rgb, 235])
            line.append([*INK, 220])
            width.append(2)
        else:
            fill.append([*rgb, 230])
            line.append([*WHITE, 255])
            width.append(1)
        radius.append(_point_radius(count if pd.notna(count) else 1))
        label = frame["facility_name"].iloc[i] if "facility_name" in frame else ""
        where = frame["country_name"].iloc[i] if "country_name" in frame else ""
        status_text = STATUS_LABELS.get(str(status), f"{status}")
        group_text = {"PS": "Performance Standard", "CoC": "Chain of Custody", "both": "PS and CoC"}.get(group, group)
        n = int(count) if pd.notna(count) else 1
        is_cell = bool(frame["is_cell"].iloc[i]) if "is_cell" in frame else n > 1
        if is_cell:
            head = f"{n} facilities in this area"
            detail = f"Mostly {status_text.split(' (')[0].lower()} · mostly {group_text}"
            where = "Zoomed-out view: nearby facilities are grouped"
        else:
            head = str(label) if pd.notna(label) and label else "Facility"
            detail = f"{status_text} · {group_text}"
        titles.append(head)
        details.append(f"{where}\n{detail}")
        # A certified point is the plain dot; every other status carries its shape inside.
        symbols.append("" if str(status) == CertificationStatus.CERTIFIED else status_style(str(status)).symbol)
        symbol_colours.append([*WHITE, 255] if group != "CoC" else [*rgb, 255])
    frame["fill_color"] = fill
    frame["line_color"] = line
    frame["line_width"] = width
    frame["radius"] = radius
    frame["title"] = titles
    frame["detail"] = details
    # The status symbol drawn inside each dot, so status has a shape as well as a colour.
    frame["symbol"] = symbols
    frame["symbol_color"] = symbol_colours
    frame["symbol_size"] = [max(9.0, r * 1.2) for r in radius]
    return frame


def _nice_steps() -> Iterator[int]:
    """1, 2, 5, 10, 20, 50, 100, …"""
    for exponent in range(12):
        for mantissa in (1, 2, 5):
            yield mantissa * 10**exponent


def choropleth_breaks(counts: Iterable[float]) -> tuple[int, ...]:
    """Lower bounds of the five choropleth classes for these facility counts.

    BASE_BREAKS (1, 2, 5, 10, 20) scaled by the largest step of 1, 2, 5, 10, 20, … whose top
    class some country still reaches, with the first class always starting at 1: the demo
    gives 1 / 2-4 / 5-9 / 10-19 / 20+, a hundred times the data 1 / 200-499 / … / 2,000+.
    Round numbers read well in a legend and hold still while the map replays growth.
    """
    top = max((int(c) for c in counts if pd.notna(c)), default=0)
    step = 1
    for candidate in _nice_steps():
        if BASE_BREAKS[-1] * candidate > top:
            break
        step = candidate
    return (1, *(bound * step for bound in BASE_BREAKS[1:]))


def class_labels(breaks: tuple[int, ...]) -> list[str]:
    """Words for each class: '1', '2–4', …, '20 or more'."""
    labels = []
    for i, low in enumerate(breaks):
        high = breaks[i + 1] - 1 if i + 1 < len(breaks) else None
        labels.append(f"{low:,} or more" if high is None else f"{low:,}" if high == low else f"{low:,}–{high:,}")
    return labels


def choropleth_colour(count: float, breaks: tuple[int, ...]) -> tuple[int, int, int]:
    """The class colour of a country with `count` facilities (at least 1: a country with none
    is not in the choropleth at all, it stays plain land)."""
    return CHOROPLETH_COLOURS[max(0, bisect.bisect_right(breaks, count) - 1)]


def country_layer_frame(countries: pd.DataFrame, breaks: tuple[int, ...] | None = None) -> pd.DataFrame:
    """Countries with certified facilities, as country_aggregates returns them (country,
    country_name, certified_facilities, latitude, longitude), with their class colour, the
    label text and the tooltip (title, detail). Countries with no facility are left out (drawn as
    plain land)."""
    frame = countries.loc[countries["certified_facilities"].fillna(0) > 0].copy()
    breaks = breaks or choropleth_breaks(frame["certified_facilities"])
    counts = [int(n) for n in frame["certified_facilities"]]
    frame["fill_color"] = [[*choropleth_colour(n, breaks), 255] for n in counts]
    frame["text"] = [f"{name} {n:,}" for name, n in zip(frame["country_name"], counts, strict=True)]
    frame["title"] = frame["country_name"]
    frame["detail"] = [f"{n:,} {'facility' if n == 1 else 'facilities'} with a valid certification" for n in counts]
    return frame


def country_layers_data(frame: pd.DataFrame | None) -> tuple[list[dict], list[dict], pd.DataFrame]:
    """What the country layers draw, from country_layer_frame (None: no choropleth):
    (land features, choropleth features, points for countries without an outline).

    A country with certified facilities is drawn once, in the choropleth, and left out of the
    land layer, so no outline is sent twice. Countries too small to have an outline at 1:110m
    (Singapore, Bahrain, …) become points at the centre of their facilities instead.
    """
    if frame is None:
        return [outline.feature() for outline in country_outlines()], [], pd.DataFrame()
    by_code = {str(code): row for code, row in zip(frame["country"], frame.itertuples(index=False), strict=True)}
    base, filled = [], []
    for outline in country_outlines():
        row = by_code.get(str(outline.country)) if outline.country else None
        if row is None:
            base.append(outline.feature())
        else:
            filled.append(outline.feature(fill_color=row.fill_color, title=row.title, detail=row.detail,
                                          country=str(row.country)))
    unoutlined = frame.loc[~frame["country"].isin(outlined_countries())]
    points = unoutlined.loc[unoutlined["latitude"].notna() & unoutlined["longitude"].notna()]
    return base, filled, points


def _intensity(value: float) -> str:
    """One decimal, or two where one would round onto the threshold and hide the comparison."""
    text = f"{value:.1f}"
    return f"{value:.2f}" if float(text) == GHG_THRESHOLD_T_PER_T and value != GHG_THRESHOLD_T_PER_T else text


def emissions_layer_frame(smelters: pd.DataFrame, locations: pd.DataFrame) -> pd.DataFrame:
    """Smelter points coloured by scope 1+2 intensity against the 8 t CO2e/t Al threshold.

    `smelters` has facility_id, facility_name, year and ghg_intensity_t_per_t (the rows the
    viewer may see); `locations` has facility_id, latitude, longitude (the register).
    Smelters without coordinates are left out.
    """
    places = locations[["facility_id", "latitude", "longitude"]].drop_duplicates("facility_id")
    frame = smelters.merge(places, on="facility_id", how="inner")
    frame = frame.loc[
        frame["latitude"].notna() & frame["longitude"].notna() & frame["ghg_intensity_t_per_t"].notna()
    ].copy()
    below = [float(v) <= GHG_THRESHOLD_T_PER_T for v in frame["ghg_intensity_t_per_t"]]
    frame["fill_color"] = [[*EMISSIONS_COLOURS[b], 255] for b in below]
    frame["text_color"] = [[*INK, 255] if b else [*EMISSIONS_COLOURS[False], 255] for b in below]
    # Words and a mark carry the comparison, colour only repeats it.
    frame["text"] = [
        f"{_intensity(float(v))} t" + (f" ▲ over {GHG_THRESHOLD_T_PER_T:g}" if not b else "")
        for v, b in zip(frame["ghg_intensity_t_per_t"], below, strict=True)
    ]
    frame["title"] = frame["facility_name"]
    frame["detail"] = [
        f"{_intensity(float(value))} t CO2e/t Al, scope 1+2 ({year}): "
        + ("at or below" if b else "above")
        + f" the {GHG_THRESHOLD_T_PER_T:g} t threshold"
        for value, year, b in zip(frame["ghg_intensity_t_per_t"], frame["year"], below, strict=True)
    ]
    # which label to keep when two would overlap: above the threshold first, then the higher intensity
    frame["priority"] = [float(v) + (1000.0 if not b else 0.0)
                         for v, b in zip(frame["ghg_intensity_t_per_t"], below, strict=True)]
    return frame[["facility_id", "latitude", "longitude", "fill_color", "text_color", "text", "title", "detail",
                  "priority"]]


def _mercator_y(lat: float) -> float:
    clamped = max(-85.0, min(85.0, lat))
    return math.log(math.tan(math.pi / 4 + math.radians(clamped) / 2))


def spaced_labels(
    labels: pd.DataFrame, view: pdk.ViewState, *, limit: int = COUNTRY_LABELS,
    priority: str = "certified_facilities", offset: Sequence[float] | None = None, size_px: float = 13,
) -> pd.DataFrame:
    """The labels that do not overlap at the opening view, most important first, at most `limit`.

    Labels are placed highest `priority` first (by default the largest countries); one whose
    box (`size_px` text, about 0.58 of that a character, moved by `offset`, by default
    COUNTRY_LABEL_OFFSET) would touch a label already placed is skipped, so Europe's crowded
    centroids show a few readable labels instead of a pile. Expects longitude, latitude, text
    and the priority column.
    """
    scale = 512 * 2 ** float(view.zoom)  # Web Mercator: the world's width in pixels at this zoom
    dy = float((offset if offset is not None else COUNTRY_LABEL_OFFSET)[1])
    placed: list[tuple[float, float, float, float]] = []
    keep = []
    for index, row in labels.sort_values(priority, ascending=False, kind="stable").iterrows():
        x = scale * (float(row["longitude"]) + 180) / 360
        y = -scale * _mercator_y(float(row["latitude"])) / (2 * math.pi) + dy
        half_width, half_height = 0.29 * size_px * len(str(row["text"])) + 4, 0.77 * size_px
        box = (x - half_width, x + half_width, y - half_height, y + half_height)
        if any(box[0] < b[1] and b[0] < box[1] and box[2] < b[3] and b[2] < box[3] for b in placed):
            continue
        placed.append(box)
        keep.append(index)
        if len(keep) == limit:
            break
    return labels.loc[keep]


def view_for(points: pd.DataFrame, *, width_px: int = 820, height_px: int = 540) -> pdk.ViewState:
    """A view that fits the points' bounding box into a map of about width_px × height_px.

    Web Mercator: the whole world is 512 × 2^zoom pixels wide, so the zoom is the largest
    that fits both the longitude span and the projected latitude span, with a margin.
    """
    located = points.dropna(subset=["latitude", "longitude"]) if len(points) else points
    if located.empty:
        return pdk.ViewState(latitude=20, longitude=10, zoom=1.0)
    lat_min, lat_max = float(located["latitude"].min()), float(located["latitude"].max())
    lon_min, lon_max = float(located["longitude"].min()), float(located["longitude"].max())
    lon_span = max(lon_max - lon_min, 0.5)
    y_span = max(_mercator_y(lat_max) - _mercator_y(lat_min), 0.01)
    zoom_x = math.log2(0.85 * width_px * 360 / (512 * lon_span))
    zoom_y = math.log2(0.8 * height_px * 2 * math.pi / (512 * y_span))
    zoom = max(-1.0, min(7.0, zoom_x, zoom_y))  # below 0: the whole world on a phone
    centre_y = (_mercator_y(lat_max) + _mercator_y(lat_min)) / 2
    centre_lat = math.degrees(2 * math.atan(math.exp(centre_y)) - math.pi / 2)
    return pdk.ViewState(latitude=centre_lat, longitude=(lon_min + lon_max) / 2, zoom=round(zoom, 2))


# What the facility layers send to the browser: position and drawing attributes, the tooltip,
# and what a click reads (pages/map.py _on_map_select). Every other column of the points
# frame stays on the server; pydeck writes each value on its own indented line, so at 100x
# data the unused columns made the map message several megabytes.
FACILITY_LAYER_COLUMNS = [
    "longitude", "latitude", "radius", "fill_color", "line_color", "line_width", "title", "detail",
    "is_cell", "n_facilities", "certification_ids",
]
SYMBOL_LAYER_COLUMNS = ["longitude", "latitude", "symbol", "symbol_color", "symbol_size"]
COUNTRY_POINT_COLUMNS = ["longitude", "latitude", "fill_color", "title", "detail", "country"]  # country: clicks
COUNTRY_LABEL_COLUMNS = ["longitude", "latitude", "text"]
COUNTRY_LABEL_OFFSET = [0, -16]  # px: above the facilities at the country's centre
EMISSION_LABEL_OFFSET = [0, 16]  # px: below the smelter's dot
# Every pickable layer carries `title` and `detail`. Streamlit escapes the values it puts into
# the tooltip's HTML, so the markup lives in the template and line breaks in `detail` are
# newlines, kept by white-space: pre-line.
TOOLTIP = {
    "html": "<b>{title}</b><br/>{detail}",
    "style": {"backgroundColor": "#1e1e1e", "color": "white", "fontSize": "13px", "whiteSpace": "pre-line"},
}
COORDINATE_DECIMALS = 5  # about a metre: finer than any marker can show


def _sent(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns of `frame` a layer needs (those it has), coordinates and sizes rounded."""
    out = frame[[c for c in columns if c in frame.columns]].copy()
    for column in ("longitude", "latitude"):
        out[column] = out[column].astype("float64").round(COORDINATE_DECIMALS)
    for column in ("radius", "symbol_size"):
        if column in out.columns:
            out[column] = out[column].astype("float64").round(2)
    return out


# A basemap style with nothing in it. Without a style Streamlit's deck.gl chart fetches Carto's
# basemap from the internet (drawn under the outlines when online, a failed request offline);
# this one draws nothing and fetches nothing, so the map looks the same everywhere.
EMPTY_MAP_STYLE = "data:application/json," + urllib.parse.quote('{"version":8,"sources":{},"layers":[]}')


class CompactDeck(pdk.Deck):
    """A pydeck Deck whose JSON (what st.pydeck_chart sends) has no indentation or spaces.

    pydeck indents its JSON by two spaces with every list item on its own line; for
    thousands of markers with four-number colours that is most of the message.
    """

    def to_json(self) -> str:
        # Written once per deck: a deck is not changed after it is built, and the page shares
        # one deck per view between sessions (Streamlit asks for the JSON on every run).
        text = _DECK_JSON.get(self)
        if text is None:
            text = json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))
            _DECK_JSON[self] = text
        return text


_DECK_JSON: weakref.WeakKeyDictionary[CompactDeck, str] = weakref.WeakKeyDictionary()


def build_certification_deck(
    points: pd.DataFrame,
    countries: pd.DataFrame | None = None,
    emissions: pd.DataFrame | None = None,
    locations: pd.DataFrame | None = None,
    *,
    show_countries: bool = False,
    show_emissions: bool = False,
    width_px: int = 820,
) -> pdk.Deck:
    """The certification map: land and borders, the optional country choropleth, graticule,
    facilities, optional emissions.

    Every layer has an id, so Streamlit can report selections by layer; the facility layer
    (a certification) and the country layers (the records behind a country, whose features and
    points carry its code) are read for selection. The land is the first layer (the static file
    at LAND_URL) and is not pickable.
    """
    view = view_for(points if not points.empty else pd.DataFrame(columns=["latitude", "longitude"]), width_px=width_px)
    country_frame = (
        country_layer_frame(countries) if show_countries and countries is not None and not countries.empty else None
    )
    _, filled, country_points = country_layers_data(country_frame)
    layers: list[pdk.Layer] = [
        pdk.Layer(
            "GeoJsonLayer",
            # Every outline, from a static file: fetched once and kept by the browser, and the same
            # data on every map, so deck.gl neither parses nor triangulates it again on a change.
            # The choropleth draws over the countries it colours.
            data=LAND_URL,
            id="land",
            filled=True,
            stroked=True,
            get_fill_color=[*LAND_COLOUR, 255],
            get_line_color=[*BORDER_COLOUR, 255],
            line_width_units=_literal("pixels"),
            get_line_width=0.6,
            pickable=False,
        )
    ]
    if filled:
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                data=filled,
                id="countries",
                filled=True,
                stroked=True,
                get_fill_color="properties.fill_color",
                get_line_color=[*BORDER_COLOUR, 255],
                line_width_units=_literal("pixels"),
                get_line_width=0.6,
                pickable=True,
                auto_highlight=True,
                highlight_color=[255, 255, 255, 70],
            )
        )
    layers.append(
        pdk.Layer(
            "PathLayer",
            data=graticule()[["path", "color"]],
            id="graticule",
            get_path="path",
            get_color="color",
            width_units='"pixels"',
            get_width=1,
            pickable=False,
        )
    )
    if not country_points.empty:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                data=_sent(country_points, COUNTRY_POINT_COLUMNS),
                id="country-points",
                get_position=["longitude", "latitude"],
                get_radius=COUNTRY_POINT_RADIUS,
                radius_units=_literal("pixels"),
                get_fill_color="fill_color",
                get_line_color=[*BORDER_COLOUR, 255],
                stroked=True,
                line_width_units=_literal("pixels"),
                get_line_width=1,
                pickable=True,
            )
        )
    facility_frame = facility_layer_frame(points) if not points.empty else points.assign(title="", detail="")
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            data=_sent(facility_frame, FACILITY_LAYER_COLUMNS),
            id="facilities",
            get_position=["longitude", "latitude"],
            get_radius="radius",
            radius_units='"pixels"',
            get_fill_color="fill_color",
            get_line_color="line_color",
            get_line_width="line_width",
            line_width_units='"pixels"',
            stroked=True,
            filled=True,
            pickable=True,
            auto_highlight=True,
        )
    )
    if not facility_frame.empty:
        layers.append(
            pdk.Layer(
                "TextLayer",
                # a certified point is the plain dot: only the other statuses carry a symbol
                data=_sent(facility_frame.loc[facility_frame["symbol"] != ""], SYMBOL_LAYER_COLUMNS),
                id="facility-symbols",
                # deck.gl builds its font atlas from this list; only the glyphs used are needed.
                character_set=_literal("".join(sorted(set("".join(facility_frame["symbol"])) | {"●"}))),
                get_position=["longitude", "latitude"],
                get_text="symbol",
                get_color="symbol_color",
                get_size="symbol_size",
                size_units='"pixels"',
                font_family=_literal("DejaVu Sans, Segoe UI Symbol, sans-serif"),
                pickable=False,
            )
        )
    if country_frame is not None:
        labelled = country_frame.loc[country_frame["latitude"].notna() & country_frame["longitude"].notna()]
        layers.append(
            pdk.Layer(
                "TextLayer",
                # Above the facilities, so the counts stay readable in crowded Europe; only the
                # largest countries that have room are named, and clicks pass through to the dots.
                data=_sent(spaced_labels(labelled, view), COUNTRY_LABEL_COLUMNS),
                id="country-labels",
                get_position=["longitude", "latitude"],
                get_text="text",
                get_size=13,
                size_units=_literal("pixels"),
                get_color=[*INK, 235],
                get_pixel_offset=COUNTRY_LABEL_OFFSET,
                font_family=_literal("DejaVu Sans, Helvetica, Arial, sans-serif"),
                character_set=_literal("".join(sorted(set("".join(labelled["text"]))))),
                background=True,
                get_background_color=[255, 255, 255, 200],
                background_padding=[3, 1, 3, 1],
                pickable=False,
            )
        )
    if show_emissions and emissions is not None and locations is not None and not emissions.empty:
        emission_frame = emissions_layer_frame(emissions, locations)
        # Labels that would pile up are left out, the smelters above the threshold first kept;
        # every smelter is in the register table and the emissions-by-region chart.
        shown_emissions = spaced_labels(emission_frame, view, limit=len(emission_frame), priority="priority",
                                        offset=EMISSION_LABEL_OFFSET, size_px=12)
        layers.append(
            pdk.Layer(
                "TextLayer",
                data=shown_emissions.drop(columns="priority"),
                id="emissions",
                get_position=["longitude", "latitude"],
                get_text="text",
                get_color="text_color",
                get_size=12,
                size_units='"pixels"',
                get_pixel_offset=EMISSION_LABEL_OFFSET,
                background=True,
                get_background_color=[255, 255, 255, 235],
                get_border_color="fill_color",
                get_border_width=2,
                background_padding=[3, 1, 3, 1],
                character_set=_literal(
                    "".join(sorted(set("".join(emission_frame["text"])) | set("0123456789. t▲over")))
                ),
                pickable=True,
            )
        )
    return CompactDeck(
        layers=layers,
        initial_view_state=view,
        map_provider=None,
        map_style=EMPTY_MAP_STYLE,
        tooltip=TOOLTIP,
        parameters=None,
    )


def deck_point_count(deck: pdk.Deck) -> int:
    """How many facility points the deck sends to the browser."""
    total = 0
    for layer in deck.layers:
        if layer.id == "facilities":
            total += len(layer.data) if layer.data is not None else 0
    return total


def build_emissions_by_region(by_region: pd.DataFrame, *, height: int = 320) -> go.Figure:
    """Median smelter GHG intensity per region against the 8 t CO2e/t Al threshold.

    Expects region, median_t_per_t, smelters, above_threshold and optionally is_suppressed /
    suppression_note. Suppressed regions get no bar and the note written where the bar
    would be, never a zero-length bar.
    """
    frame = by_region.copy()
    frame["region"] = frame["region"].fillna("Unknown region").astype(str)
    frame = frame.sort_values("region", ascending=False)
    hidden = (
        frame["is_suppressed"].fillna(False).astype(bool)
        if "is_suppressed" in frame
        else pd.Series(False, index=frame.index)
    )
    shown = frame.loc[~hidden & frame["median_t_per_t"].notna()]
    fig = go.Figure(
        go.Bar(
            y=shown["region"],
            x=shown["median_t_per_t"].astype(float),
            orientation="h",
            marker={
                "color": [
                    hex_colour(EMISSIONS_COLOURS[float(v) <= GHG_THRESHOLD_T_PER_T]) for v in shown["median_t_per_t"]
                ]
            },
            text=[
                f"{float(v):.1f} t · {int(a)} of {int(n)} above"
                for v, a, n in zip(shown["median_t_per_t"], shown["above_threshold"], shown["smelters"], strict=True)
            ],
            textposition="outside",
            hovertemplate="%{y}: median %{x:.2f} t CO2e/t Al<extra></extra>",
            name="Median intensity",
        )
    )
    for region, note in zip(
        frame.loc[hidden, "region"],
        frame.loc[hidden, "suppression_note"] if "suppression_note" in frame else ["suppressed"] * int(hidden.sum()),
        strict=True,
    ):
        fig.add_annotation(
            x=0,
            y=region,
            xref="x",
            yref="y",
            text=str(note or "suppressed"),
            showarrow=False,
            xanchor="left",
            font={"color": "#555555", "size": 12},
        )
        fig.add_trace(go.Bar(y=[region], x=[None], orientation="h", showlegend=False, hoverinfo="skip"))
    top = max([GHG_THRESHOLD_T_PER_T, *[float(v) for v in shown["median_t_per_t"]]]) * 1.35
    fig.add_vline(
        x=GHG_THRESHOLD_T_PER_T,
        line={"color": "#1e1e1e", "dash": "dash", "width": 1.5},
        annotation_text=f"PS threshold {GHG_THRESHOLD_T_PER_T:g} t CO2e/t Al",
        annotation_position="top",
    )
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        plot_bgcolor="white",
        xaxis={"title": {"text": "Median scope 1+2 intensity, t CO2e per t aluminium"}, "range": [0, top]},
        showlegend=False,
        bargap=0.35,
    )
    return fig
