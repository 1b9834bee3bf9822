"""The board pack is offered from any view: each public screen and every slide of the deck."""

from __future__ import annotations

import pytest

from asi_me.data.vocab import Role
from asi_me.ui.screens import SCREENS

PUBLIC_SCREENS = [s for s in SCREENS if Role.PUBLIC in s.roles]
LABEL = "Download board pack (PDF)"


def _labels(at) -> list[str]:
    return [str(b.proto.label) for b in at.get("download_button")]


@pytest.mark.parametrize("screen", PUBLIC_SCREENS, ids=[s.url_path for s in PUBLIC_SCREENS])
def test_every_public_screen_offers_the_board_pack(open_app, demo_dir, screen) -> None:
    at = open_app(demo_dir, page=screen.file)
    assert not at.exception
    assert _labels(at).count(LABEL) == 1


def test_the_deck_offers_it_beside_its_filters(open_app, demo_dir) -> None:
    at = open_app(demo_dir, params={"present": "1", "slide": "4"})
    assert not at.exception
    assert LABEL in _labels(at)
    assert at.query_params["slide"] == "4"
    assert any("Chain-of-custody material flow" in str(m.value) for m in at.markdown)


def test_each_chart_offers_png_svg_and_its_embed_code(open_app, demo_dir) -> None:
    at = open_app(demo_dir)
    labels = _labels(at)
    assert labels.count("PNG") >= 3 and labels.count("PNG") == labels.count("SVG")
    codes = [str(c.value) for c in at.code]
    assert any("<iframe" in code and "embed=1" in code and "chart=members-by-class" in code for code in codes)


def test_the_map_offers_itself_as_a_png(open_app, demo_dir) -> None:
    at = open_app(demo_dir, page="pages/map.py")
    assert not at.exception
    assert "Map as PNG" in _labels(at)
