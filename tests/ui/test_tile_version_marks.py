"""Every tile's trend marks where a standard version changed, as the growth charts do: a dashed
line in the sparkline at that date, and the change named in the tile's definition."""

from __future__ import annotations

import base64
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from asi_me.data.snapshot import current_id
from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.queries import outcomes
from asi_me.settings import REPO_ROOT
from asi_me.ui.outcome_tiles import outcome_tiles
from asi_me.ui.widgets import Tile, tile_html

MONTHS = [d.date() for d in pd.date_range("2015-01-31", "2024-12-31", freq="ME")]


def _svg(html_text: str) -> str:
    (encoded,) = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html_text)
    return base64.b64decode(encoded).decode("ascii")


def _mark_xs(html_text: str) -> list[float]:
    return [float(x) for x in re.findall(r'<line class="version-mark" x1="([\d.]+)"', _svg(html_text))]


def _x_of(on: date, months: list[date]) -> float:
    """Where a date sits on the sparkline's 100-unit-wide box, by days between its two month ends."""
    i = max(k for k, m in enumerate(months) if m <= on)
    return 100 * (i + (on - months[i]).days / (months[i + 1] - months[i]).days) / (len(months) - 1)


def test_a_version_change_within_the_trend_is_a_dashed_line_at_its_date() -> None:
    marks = ((date(2017, 12, 1), "PS V2 (2017) took effect."), (date(2022, 5, 1), "PS V3 (2022) took effect."))
    html_text = tile_html(Tile("PS certificates", 165, trend=tuple(range(len(MONTHS))), trend_on=tuple(MONTHS),
                               version_marks=marks))
    xs = _mark_xs(html_text)
    assert xs == pytest.approx([_x_of(on, MONTHS) for on, _ in marks], abs=0.05)
    assert 'stroke-dasharray="2 2"' in _svg(html_text)
    assert 'data-version-marks="2017-12-01;2022-05-01"' in html_text
    assert "Dashed lines in the trend: PS V2 (2017) took effect. PS V3 (2022) took effect." in html_text


def test_a_change_outside_the_trend_or_a_trend_without_dates_draws_no_line() -> None:
    early = ((date(2014, 12, 1), "PS V1 (2014) took effect."),)
    outside = tile_html(Tile("Members", 5, trend=tuple(range(len(MONTHS))), trend_on=tuple(MONTHS),
                             version_marks=early))
    assert _mark_xs(outside) == []
    assert "Dashed lines" not in outside
    undated = tile_html(Tile("Members", 5, trend=(1.0, 2.0, 3.0), version_marks=early))
    assert _mark_xs(undated) == []


@pytest.fixture(scope="module")
def demo() -> Store:
    if current_id(Path(REPO_ROOT / "data")) is None:
        pytest.skip("data/ has no snapshot: run `python -m asi_me demo`.")
    store = Store.open_current(REPO_ROOT / "data")
    yield store
    store.close()


def _dashboard(demo: Store, filters: Filters) -> dict[str, str]:
    board = outcomes.dashboard_tiles(demo, Viewer.public(), filters)
    tiles = outcome_tiles(board, outcomes.version_breaks(demo, Viewer.public(), filters))
    return {t.title: tile_html(t) for t in tiles}


def test_every_dashboard_tile_marks_the_version_changes_of_its_series(demo) -> None:
    tiles = _dashboard(demo, Filters())
    assert len(tiles) == 12
    for title, html_text in tiles.items():
        marks = re.search(r'data-version-marks="([^"]*)"', html_text).group(1)
        # every trend runs through May 2022 (PS V3 and CoC V2); those starting before Dec 2017 also
        # cross PS V2 and CoC V1
        assert "2022-05-01" in marks.split(";"), title
        assert len(_mark_xs(html_text)) == len(marks.split(";")), title
    assert re.search(r'data-version-marks="2017-12-01;2022-05-01"', tiles["Members"])
    assert 'data-version-marks="2022-05-01"' in tiles["PS certificates"]  # its trend starts in 2018


def test_the_standard_filter_leaves_only_that_standards_changes(demo) -> None:
    coc_only = _dashboard(demo, Filters(standards=("CoC",)))
    assert 'data-version-marks=""' in coc_only["PS certificates"]
    assert _mark_xs(coc_only["PS certificates"]) == []
    assert "CoC V2" in coc_only["CoC certificates"] and "PS V3" not in coc_only["CoC certificates"]
    assert "PS V2" not in coc_only["Members"] and "CoC V1" in coc_only["Members"]
