"""The board pack: the deck's six slides as a PDF that opens (pdftoppm renders every page) and
whose figures are the screen's (the tiles' values as the dashboard computes them, for the
same filters), with the CoC suppression notes in words."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from asi_me.data.store import Store
from asi_me.data.vocab import Role
from asi_me.filters import Filters, Viewer
from asi_me.queries.outcomes import dashboard_tiles
from asi_me.settings import REPO_ROOT
from asi_me.ui import board_pack
from asi_me.ui.deck import SLIDES
from asi_me.ui.widgets import format_value

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="scripts/test installs poppler-utils")

PUBLIC = Viewer(Role.PUBLIC)


@pytest.fixture(scope="module")
def store() -> Store:
    return Store.open_current(REPO_ROOT / "data")


def _pack(store: Store, filters: Filters, tmp: Path) -> tuple[Path, str]:
    context = board_pack.PackContext(PUBLIC, filters, ["Region: Europe"] if filters.regions else ["No filters"],
                                     "Viewing as Public", "Release of 1 November 2026", store.data_as_of, 5)
    path = tmp / "pack.pdf"
    path.write_bytes(board_pack.build(store, context))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return path, text


def test_the_pack_opens_with_one_page_per_slide_and_the_screens_figures(store: Store, tmp_path: Path) -> None:
    path, text = _pack(store, Filters(), tmp_path)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(SLIDES) == 6
    assert all(page.stat().st_size > 2_000 for page in pages)  # each page drew something
    for slide in SLIDES:
        assert slide.title in text
    for tile in dashboard_tiles(store, PUBLIC, Filters()).tiles:
        shown = format_value(tile.value, percent=tile.unit == "%", unit=tile.unit)
        assert shown in text, f"{tile.label}: {shown} is not in the pack"
    assert "Withheld under ASI's antitrust policy" in " ".join(text.split())
    assert "Figures as of" in text and "Release of 1 November 2026" in text


def test_a_filtered_pack_shows_the_filtered_figures(store: Store, tmp_path: Path) -> None:
    europe = Filters(regions=("Europe",))
    _, text = _pack(store, europe, tmp_path)
    members = dashboard_tiles(store, PUBLIC, europe).tile("members").value
    everyone = dashboard_tiles(store, PUBLIC, Filters()).tile("members").value
    assert members != everyone
    lines = [line for line in text.splitlines() if "Members" in line or format_value(members) in line]
    assert any(format_value(members) in line for line in lines)
    assert "Region: Europe" in text


def test_without_a_browser_the_sankey_and_the_toc_are_tables_of_the_same_figures(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board_pack, "_browser", lambda: None)
    path, text = _pack(store, Filters(), tmp_path)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == len(SLIDES)
    assert "Share of source output" in text  # the Sankey's table
    assert "Worst indicator status" in text  # the ToC's table


def test_the_charts_are_drawn_even_where_an_event_loop_is_running() -> None:
    """Playwright in a test and an ASGI server both run an event loop in their thread; the
    pack's kaleido pictures must still be drawn there, not fall back to tables with a warning."""
    import asyncio

    import plotly.graph_objects as go

    from asi_me.ui import board_pack

    if board_pack._browser() is None:
        pytest.skip("no Chromium on this machine")
    figure = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))

    async def inside_a_loop() -> list[bytes | None]:
        return board_pack._plotly_pngs([(figure, 300, 200)])

    # In a thread of its own, as a server's loop would be (this process may already run Playwright's).
    out: list[list[bytes | None]] = []
    runner = threading.Thread(target=lambda: out.append(asyncio.run(inside_a_loop())))
    runner.start()
    runner.join(120)
    pngs = out[0]
    assert len(pngs) == 1 and pngs[0] is not None and pngs[0].startswith(b"\x89PNG")
