"""The one colour palette of the app: Okabe-Ito, safe for colour-blind readers.

Colour is never the only carrier of meaning: every status and standard also has a
marker shape (for charts and maps) and a text symbol (for tables and legends).
"""

from __future__ import annotations

from dataclasses import dataclass

from asi_me.data.vocab import CertificationStatus, label

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


def domain_colors(values: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(domain, colours, shapes) for an Altair scale over categorical values, stable by order."""
    known_status = all(v in STATUS_STYLE for v in values)
    known_standard = all(v in STANDARD_STYLE for v in values)
    if values and known_status:
        styles = [STATUS_STYLE[v] for v in values]
        return values, [s.color for s in styles], [s.shape for s in styles]
    if values and known_standard:
        styles = [STANDARD_STYLE[v] for v in values]
        return values, [s.color for s in styles], [s.shape for s in styles]
    return values, [color_for(i) for i in range(len(values))], [SHAPES[i % len(SHAPES)] for i in range(len(values))]

# Severity bands of the risk register's likelihood x consequence matrix; the band's word is
# always printed beside the colour.
SEVERITY_COLOR: dict[str, str] = {
    "low": BLUISH_GREEN,
    "medium": YELLOW,
    "high": ORANGE,
    "extreme": VERMILLION,
}
