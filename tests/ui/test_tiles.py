"""Outcome tiles as HTML: what a reader sees in each tile, and that definitions cannot break the page."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

from asi_me.ui.widgets import Tile, tiles_html


class _Reader(HTMLParser):
    """Text per CSS class, and the attributes of the tile and its images."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: dict[str, str] = {}
        self.tiles: list[dict[str, str | None]] = []
        self.images: list[dict[str, str | None]] = []
        self.delta_classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if "asi-tile" in classes:
            self.tiles.append(found)
        if "asi-delta" in classes:
            self.delta_classes += [c for c in classes if c != "asi-delta"]
        if tag == "img":
            self.images.append(found)
            return
        self.stack.append(classes[0] if classes else tag)

    def handle_endtag(self, tag: str) -> None:
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.text[self.stack[-1]] = self.text.get(self.stack[-1], "") + data


def _read(tile: Tile) -> _Reader:
    reader = _Reader()
    reader.feed(tiles_html([tile]))
    return reader


def test_a_falling_share_reads_down_in_words_arrow_and_sign() -> None:
    tile = Tile("PS certifications leveraging external certifications", 68.8, unit="%", change_month=-0.7,
                change_year=3.2, trend=(60.0, 70.0, 68.8), help="Share of PS certifications.", note="since 2018",
                percent=True)
    reader = _read(tile)
    assert reader.text["asi-tile-value"] == "68.8%"
    assert reader.text["asi-delta"] == "↓ −0.7 pp"
    assert reader.delta_classes == ["down"]
    assert reader.text["asi-tile-note"] == "▲ +3.2 pp vs a year earlier · since 2018"
    assert reader.tiles[0]["data-value"] == "68.8%"


def test_no_change_is_a_plain_zero_and_a_withheld_value_says_why() -> None:
    flat = _read(Tile("Board meetings", 54, change_month=0, change_year=4, trend=(50.0, 54.0)))
    assert flat.text["asi-delta"] == "0"
    assert flat.delta_classes == ["flat"]
    withheld = _read(Tile("People working in PS-certified facilities", None,
                          note="suppressed (fewer than 5 reporters)"))
    assert withheld.text["asi-tile-value"] == "—"
    assert "asi-delta" not in withheld.text  # no change is claimed for a withheld figure
    assert withheld.text["asi-tile-note"] == "suppressed (fewer than 5 reporters)"


def test_the_sparkline_draws_every_point_of_the_trend_as_a_decorative_image() -> None:
    reader = _read(Tile("Members", 476, change_month=2, trend=(13.0, 56.0, 118.0, 200.0, 476.0)))
    (image,) = reader.images
    assert image["alt"] == ""
    assert image["aria-hidden"] == "true"
    src = image["src"] or ""
    assert src.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(src.split(",", 1)[1]).decode("ascii")
    points = re.search(r'points="([^"]+)"', svg).group(1).split()
    assert len(points) == 5
    ys = [float(p.split(",")[1]) for p in points]
    assert ys == sorted(ys, reverse=True)  # a growing series climbs (SVG y grows downwards)
    assert _read(Tile("Members", 476, trend=(476.0,))).images == []  # one point is not a trend


def test_definitions_with_markup_are_text_not_html() -> None:
    html_text = tiles_html([Tile("Members <b>", 1, help='Joined "before" <script>alert(1)</script> & stayed')])
    assert "<script>" not in html_text
    assert "<b>" not in html_text
    reader = _Reader()
    reader.feed(html_text)
    assert reader.tiles[0]["data-label"] == "Members <b>"
    assert reader.text["asi-tile-title"] == "Members <b>"
