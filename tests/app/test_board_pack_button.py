"""The board pack is offered from any view: each public screen and every slide of the deck.
It is built in the background with a progress bar, then handed out by a download button."""

from __future__ import annotations

import re
import time

import pytest

from asi_me.data.vocab import Role
from asi_me.ui import builds
from asi_me.ui.screens import SCREENS

PUBLIC_SCREENS = [s for s in SCREENS if Role.PUBLIC in s.roles]
PREPARE = "Prepare board pack (PDF)"
LABEL = "Download board pack (PDF)"


def _labels(at) -> list[str]:
    return [str(b.proto.label) for b in at.get("download_button")]


def _buttons(at) -> list[str]:
    return [b.label for b in at.button]


@pytest.mark.parametrize("screen", PUBLIC_SCREENS, ids=[s.url_path for s in PUBLIC_SCREENS])
def test_every_public_screen_offers_the_board_pack(open_app, demo_dir, screen) -> None:
    at = open_app(demo_dir, page=screen.file)
    assert not at.exception
    assert _buttons(at).count(PREPARE) == 1


def test_the_deck_offers_it_beside_its_filters(open_app, demo_dir) -> None:
    at = open_app(demo_dir, params={"present": "1", "slide": "4"})
    assert not at.exception
    assert PREPARE in _buttons(at)
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


def _pdf_pages(data: bytes) -> int:
    return data.count(b"/Type /Page") - data.count(b"/Type /Pages")


def test_preparing_shows_progress_in_words_then_hands_out_the_pdf(open_app, demo_dir, monkeypatch) -> None:
    """A click starts the build and the page shows a progress bar naming the step, without
    waiting for it; when the build is done the same place offers the PDF."""
    monkeypatch.setattr(builds, "_builds", builds.Builds())  # no pack from another test
    monkeypatch.setattr(builds, "POLL_SECONDS", 0.05)
    at = open_app(demo_dir, params={"region": "Europe"})
    next(b for b in at.button if b.label == PREPARE).click()
    started = time.monotonic()
    at.run(timeout=120)
    assert not at.exception
    # the run returns while the pack is still being built (about 15 s): the bar says how far it is
    bars = at.get("progress")
    assert len(bars) == 1 and PREPARE not in _buttons(at)
    assert re.fullmatch(r"Preparing the board pack: [A-Z][^()]+ \(\d+ s\)", str(bars[0].proto.text)), bars[0].proto.text
    deadline = started + 120
    while LABEL not in _labels(at) and time.monotonic() < deadline:
        time.sleep(1)
        at.run(timeout=120)
    assert LABEL in _labels(at), _buttons(at)
    assert PREPARE not in _buttons(at)
    build = next(iter(builds._builds._builds.values()))
    assert build.error is None and build.fraction == 1.0 and build.step == "Ready"
    assert build.data.startswith(b"%PDF") and _pdf_pages(build.data) == 6
    # the same view asked again by anyone is handed out at once, not built twice
    again = open_app(demo_dir, params={"region": "Europe"})
    assert LABEL in _labels(again)
    # other filters are another pack
    other = open_app(demo_dir, params={"region": "Africa"})
    assert PREPARE in _buttons(other) and LABEL not in _labels(other)


def test_a_failed_build_says_so_and_offers_to_try_again(open_app, demo_dir, monkeypatch) -> None:
    from asi_me.ui import board_pack

    def broken(*args, **kwargs):
        raise RuntimeError("disk full at /srv/secret/path")

    monkeypatch.setattr(builds, "_builds", builds.Builds())
    monkeypatch.setattr(builds, "POLL_SECONDS", 0.05)
    monkeypatch.setattr(board_pack, "build", broken)
    at = open_app(demo_dir)
    next(b for b in at.button if b.label == PREPARE).click()
    at.run(timeout=60)
    deadline = time.monotonic() + 30
    while not at.error and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run(timeout=60)
    errors = [str(e.value) for e in at.error]
    assert any("the board pack could not be built" in e and "try again" in e for e in errors), errors
    assert not any("/srv/secret" in e for e in errors)  # the cause is logged, not shown
    assert "Try again: prepare board pack (PDF)" in _buttons(at)
