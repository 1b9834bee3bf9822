"""The one chart style of the app, shared by the chart builders and the table formatters.

- Colour: Okabe-Ito, safe for colour-blind readers, and one fixed colour per category
  value (membership class, status, standard, version, stage, activity, region, material,
  evaluation status, gender, PS principle), taken from the vocabularies, so a category never
  changes colour with the data shown.
- Numbers: one format per kind of figure (counts, tonnes, percentages with one decimal);
  the precision is the one published downloads round to (asi_me.publish.numbers).
- Dates: ISO (2024-03-31) in tables and tooltips; years on every time axis.
- Missing values read "—" on screen (empty in a CSV), never "None" or "nan".

Colour is never the only carrier of meaning: every status and standard also has a
marker shape (for charts and maps) and a text symbol (for tables and legends).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from asi_me.data.vocab import (
    Activity,
    CertificationStatus,
    CocMaterial,
    CocStage,
    EvaluationStatus,
    MembershipClass,
    Region,
    Standard,
    StandardVersion,
    label,
)
from asi_me.publish.numbers import DECIMALS, NumberKind

# Okabe & Ito (2008), "Color Universal Design".
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#999999"

# Order for categorical series; yellow last because it is weak on white.
CATEGORICAL: tuple[str, ...] = (BLUE, ORANGE, BLUISH_GREEN, VERMILLION, REDDISH_PURPLE, SKY_BLUE, BLACK, YELLOW)

# Direction of change on KPI tiles: arrows and words carry it, colour only repeats it.
UP = BLUISH_GREEN
DOWN = VERMILLION
FLAT = GREY


@dataclass(frozen=True)
class Style:
    """How one category is drawn: colour, Vega-Lite point shape, text symbol, words."""

    color: str
    shape: str
    symbol: str
    text: str

    @property
    def rgb(self) -> list[int]:
        """[r, g, b] for pydeck layers."""
        return [int(self.color[i : i + 2], 16) for i in (1, 3, 5)]


STATUS_STYLE: dict[str, Style] = {
    CertificationStatus.CERTIFIED: Style(BLUISH_GREEN, "circle", "●", "Certified"),
    CertificationStatus.PROVISIONAL: Style(ORANGE, "triangle-up", "▲", "Provisional"),
    CertificationStatus.SUSPENDED: Style(VERMILLION, "square", "■", "Suspended"),
    CertificationStatus.WITHDRAWN: Style(REDDISH_PURPLE, "cross", "✕", "Withdrawn"),
    CertificationStatus.EXPIRED: Style(GREY, "diamond", "◆", "Expired"),
}

# "both" is a facility holding PS and CoC certifications at once.
STANDARD_STYLE: dict[str, Style] = {
    "PS": Style(BLUE, "circle", "●", "Performance Standard"),
    "CoC": Style(ORANGE, "square", "■", "Chain of Custody"),
    "both": Style(BLUISH_GREEN, "diamond", "◆", "PS and CoC"),
}

SHAPES: tuple[str, ...] = ("circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "stroke", "wedge")


def status_style(status: str) -> Style:
    return STATUS_STYLE.get(str(status), Style(GREY, "circle", "○", label(status)))


def standard_style(standard: str) -> Style:
    return STANDARD_STYLE.get(str(standard), Style(GREY, "circle", "○", label(standard)))


def color_for(index: int) -> str:
    return CATEGORICAL[index % len(CATEGORICAL)]


# ------------------------------------------------------------------ fixed category colours
# Beyond Okabe-Ito's eight, for vocabularies longer than eight.
OLIVE = "#6B8E23"
BROWN = "#8C6D31"
DARK_BLUE = "#004C7A"
DARK_GREY = "#444444"

CATEGORY_COLORS: dict[str, dict[str, str]] = {
    "membership_class": {
        MembershipClass.PRODUCTION_TRANSFORMATION: BLUE,
        MembershipClass.INDUSTRIAL_USERS: ORANGE,
        MembershipClass.DOWNSTREAM_SUPPORTERS: BLUISH_GREEN,
        MembershipClass.CIVIL_SOCIETY: VERMILLION,
        MembershipClass.ASSOCIATIONS: REDDISH_PURPLE,
        MembershipClass.GENERAL_SUPPORTERS: SKY_BLUE,
    },
    "status": {status: STATUS_STYLE[status].color for status in CertificationStatus},
    "standard": {**{standard: STANDARD_STYLE[standard].color for standard in Standard},
                 "both": STANDARD_STYLE["both"].color},
    "standard_version": {
        StandardVersion.PS_2014: SKY_BLUE,
        StandardVersion.PS_2017: BLUE,
        StandardVersion.PS_2022: DARK_BLUE,
        StandardVersion.COC_2017: ORANGE,
        StandardVersion.COC_2022: VERMILLION,
    },
    # the CoC value chain; an activity with a stage's name has the stage's colour
    "stage": {
        CocStage.BAUXITE_MINING: REDDISH_PURPLE,
        CocStage.ALUMINA_REFINING: ORANGE,
        CocStage.PRIMARY_PRODUCTION: BLUE,
        CocStage.SEMI_FABRICATION: SKY_BLUE,
        CocStage.MATERIAL_CONVERSION: BLUISH_GREEN,
        CocStage.RECYCLING: OLIVE,
    },
    "activity": {
        Activity.BAUXITE_MINING: REDDISH_PURPLE,
        Activity.ALUMINA_REFINING: ORANGE,
        Activity.PRIMARY_PRODUCTION: BLUE,
        Activity.CASTHOUSE: DARK_BLUE,
        Activity.REMELTING_REFINING: OLIVE,
        Activity.SEMI_FABRICATION: SKY_BLUE,
        Activity.MATERIAL_CONVERSION: BLUISH_GREEN,
        Activity.OTHER_MANUFACTURING: BROWN,
        Activity.SALE_OF_PRODUCTS: DARK_GREY,
    },
    "region": {
        Region.AFRICA: ORANGE,
        Region.ASIA: VERMILLION,
        Region.EUROPE: BLUE,
        Region.LATIN_AMERICA: BLUISH_GREEN,
        Region.MIDDLE_EAST: BROWN,
        Region.NORTH_AMERICA: SKY_BLUE,
        Region.OCEANIA: REDDISH_PURPLE,
    },
    "material": {
        CocMaterial.ASI_BAUXITE: REDDISH_PURPLE,
        CocMaterial.ASI_ALUMINA: ORANGE,
        CocMaterial.ASI_ALUMINIUM: BLUE,
        CocMaterial.ELIGIBLE_SCRAP: OLIVE,
    },
    "evaluation_status": {
        EvaluationStatus.PLANNED: GREY,
        EvaluationStatus.ONGOING: ORANGE,
        EvaluationStatus.COMPLETED: BLUISH_GREEN,
    },
    "gender": {"female": ORANGE, "male": BLUE},
    # PS principles 1-11, as indicator disaggregations give them
    "principle": dict(zip(map(str, range(1, 12)), (BLUE, ORANGE, BLUISH_GREEN, VERMILLION, REDDISH_PURPLE, SKY_BLUE,
                                                   BLACK, OLIVE, BROWN, DARK_BLUE, DARK_GREY), strict=True)),
}
# Keys as plain codes ("PS", not Standard.PS), whatever the enum.
CATEGORY_COLORS = {dim: {str(k.value if isinstance(k, StrEnum) else k): v for k, v in colours.items()}
                   for dim, colours in CATEGORY_COLORS.items()}
# Other names a frame gives these dimensions.
_DIMENSION_OF_COLUMN = {"class": "membership_class", "certification_status": "status", "version": "standard_version",
                        "source": "stage", "target": "stage", "coc_stage": "stage"}
MISSING_CATEGORY = "Unknown"


def dimension_of(column: str | None, codes: list[str] | None = None) -> str | None:
    """Which vocabulary a column's values come from: by the column's name, else by its values."""
    if column is not None:
        name = column.removesuffix("_label")
        name = _DIMENSION_OF_COLUMN.get(name, name)
        if name in CATEGORY_COLORS:
            return name
    present = [c for c in (codes or []) if c != MISSING_CATEGORY]
    if present:
        for dimension, colours in CATEGORY_COLORS.items():
            if all(c in colours for c in present):
                return dimension
    return None


# For values outside every vocabulary: yellow left out, as it is weak on white.
_HASHED: tuple[str, ...] = (BLUE, ORANGE, BLUISH_GREEN, VERMILLION, REDDISH_PURPLE, SKY_BLUE, BLACK, OLIVE, BROWN,
                            DARK_BLUE, DARK_GREY, "#882255")


def stable_color(code: str) -> str:
    """A colour for a value outside every vocabulary (a country, an indicator group) that
    depends on the value alone, never on which other values are shown."""
    digest = hashlib.sha256(str(code).encode("utf-8")).digest()
    return _HASHED[digest[0] % len(_HASHED)]


def category_color(code: object, dimension: str | None = None) -> str:
    """The one colour of a category value everywhere in the app."""
    text = str(code.value if isinstance(code, StrEnum) else code)
    if code is None or text in {"", "nan", "None", MISSING_CATEGORY}:
        return GREY
    if dimension is not None and text in CATEGORY_COLORS.get(dimension, {}):
        return CATEGORY_COLORS[dimension][text]
    found = dimension_of(None, [text])
    return CATEGORY_COLORS[found][text] if found else stable_color(text)


@dataclass(frozen=True)
class CategoryScale:
    """An Altair/Vega-Lite scale fixed by the vocabulary: `domain` (labels) with `colors` and
    `shapes` in step, and `present` (the labels in the data, for the legend)."""

    domain: list[str]
    colors: list[str]
    shapes: list[str]
    present: list[str]


def category_scale(column: str | None, codes: list[object]) -> CategoryScale:
    """The fixed scale for a series column holding `codes` (vocabulary codes, not labels).

    The domain is the whole vocabulary, so the colour of "PS" or "Casthouse" is the same
    whatever the filters or dates select; values outside it get a colour of their own."""
    texts = [MISSING_CATEGORY if c is None or (isinstance(c, float) and math.isnan(c)) else
             str(c.value if isinstance(c, StrEnum) else c) for c in codes]
    present = list(dict.fromkeys(texts))
    dimension = dimension_of(column, present)
    vocabulary = list(CATEGORY_COLORS[dimension]) if dimension else []
    extra = sorted(c for c in present if c not in vocabulary)
    domain_codes = [*vocabulary, *extra]
    colors = [category_color(c, dimension) for c in domain_codes]
    shapes = [_shape_of(c, i, dimension) for i, c in enumerate(domain_codes)]
    labels = [_label(c) for c in domain_codes]
    shown = set(present)
    return CategoryScale(labels, colors, shapes, [_label(c) for c in domain_codes if c in shown])  # vocabulary order


def _label(code: str) -> str:
    return code if code == MISSING_CATEGORY else label(code)


def _shape_of(code: str, index: int, dimension: str | None) -> str:
    if dimension == "status" and code in STATUS_STYLE:
        return STATUS_STYLE[code].shape
    if dimension == "standard" and code in STANDARD_STYLE:
        return STANDARD_STYLE[code].shape
    if dimension is None:
        return SHAPES[int(hashlib.sha256(code.encode()).hexdigest(), 16) % len(SHAPES)]
    return SHAPES[index % len(SHAPES)]


# ------------------------------------------------------------------ numbers and dates
# Vega-Lite (d3) formats per kind of figure; a share is a fraction shown as a percentage.
D3_FORMAT: dict[NumberKind, str] = {
    "count": ",.0f", "tonnes": ",.0f", "percent": ",.1f", "share": ".1%", "intensity": ",.2f", "degrees": ".4f",
}
# Axes need no decimals; tooltips and labels carry the published precision.
D3_AXIS_FORMAT: dict[NumberKind, str] = {**D3_FORMAT, "share": ".0%", "percent": ",.0f", "intensity": ",.1f"}
PERCENT_FORMAT = f",.{DECIMALS['percent']}f"  # a percentage (0-100) as text, e.g. f"{v:{PERCENT_FORMAT}}%"
DATE_FORMAT = "%Y-%m-%d"  # ISO, in tables, tooltips and CSVs
# In sentences, captions, footers and slides a day reads "5 December 2026" (release names too,
# asi_me/data/versions.py); a month on an axis or a replay "Dec 2026".
D3_DATE = "%Y-%m-%d"
D3_YEAR = "%Y"
D3_MONTH_YEAR = "%b %Y"
MISSING = "—"


def format_number(value: object, kind: NumberKind = "count") -> str:
    """One figure as text in the one format of its kind: "1,234", "68.8%", "7.59"; "—" if missing."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    number = float(value)  # type: ignore[arg-type]
    decimals = DECIMALS[kind]
    if kind == "share":
        return f"{number * 100:,.{DECIMALS['percent']}f}%"
    if kind == "percent":
        return f"{number:,.{decimals}f}%"
    return f"{number:,.{decimals}f}"


def format_date(value: object) -> str:
    """A date as ISO YYYY-MM-DD; "—" if missing."""
    if value is None or value is pd.NA:
        return MISSING
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return MISSING if pd.isna(stamp) else stamp.strftime(DATE_FORMAT)


def time_axis(dates: pd.Series) -> dict[str, object]:
    """Axis settings that put the year on every label of a time axis: years for a span of
    two years or more, "Mar 2024" months for a shorter one."""
    values = pd.to_datetime(dates).dropna()
    span_days = (values.max() - values.min()).days if len(values) else 0
    if span_days >= 2 * 365:
        return {"format": D3_YEAR, "tickCount": {"interval": "year", "step": max(1, math.ceil(span_days / 365 / 12))},
                "labelAngle": 0}
    return {"format": D3_MONTH_YEAR, "tickCount": {"interval": "month", "step": max(1, math.ceil(span_days / 30 / 8))},
            "labelAngle": 0}


def plotly_time_axis(dates: pd.Series) -> dict[str, object]:
    """The same for a Plotly date axis: a tick a year (or every few months) labelled with the year."""
    values = pd.to_datetime(dates).dropna()
    span_days = (values.max() - values.min()).days if len(values) else 0
    if span_days >= 2 * 365:
        return {"tickformat": "%Y", "dtick": f"M{12 * max(1, math.ceil(span_days / 365 / 12))}"}
    return {"tickformat": "%b %Y", "dtick": f"M{max(1, math.ceil(span_days / 30 / 8))}"}


# Severity bands of the risk register's likelihood x consequence matrix; the band's word is
# always printed beside the colour.
SEVERITY_COLOR: dict[str, str] = {
    "low": BLUISH_GREEN,
    "medium": YELLOW,
    "high": ORANGE,
    "extreme": VERMILLION,
}
