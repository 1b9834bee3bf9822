"""What a phone gets from the server (a phone's User-Agent): the map's first view fits every
facility of the world into a phone's width, the ToC is a list per level, and the screens and
filters are compact controls at the top."""

from __future__ import annotations

import json
import math

import pytest

from asi_me.data.vocab import Role
from asi_me.filters import Filters, Viewer
from asi_me.queries.certifications import facility_points
from asi_me.ui import context
from asi_me.ui.screens import SCREENS

MAP = next(s for s in SCREENS if s.url_path == "map")
TOC = next(s for s in SCREENS if s.url_path == "toc")


@pytest.fixture
def on_a_phone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "is_phone", lambda: True)


def test_the_map_fits_the_world_into_a_phone(open_app, demo_dir, on_a_phone, demo_store) -> None:
    at = open_app(demo_dir, page=MAP.file)
    assert not at.exception
    (deck,) = at.get("deck_gl_json_chart")
    spec = json.loads(deck.proto.json)
    view = spec["initialViewState"]
    points = facility_points(demo_store, Viewer(Role.PUBLIC), Filters(as_of=demo_store.data_as_of))
    span = float(points["longitude"].max() - points["longitude"].min())
    assert span > 200  # facilities on every continent
    shown = 350 * 360 / (512 * 2 ** view["zoom"])  # degrees of longitude across 350 px at this zoom
    assert shown >= span, f"zoom {view['zoom']} shows {shown:.0f} of {span:.0f} degrees"
    assert view["zoom"] < math.log2(820 / 512)  # narrower than the desktop view


def test_the_phone_gets_a_toc_list_and_a_top_bar(open_app, demo_dir, on_a_phone) -> None:
    at = open_app(demo_dir, page=TOC.file)
    assert not at.exception
    levels = [e.label for e in at.expander]
    assert any(label.startswith("Strategy (") for label in levels), levels
    assert any(label.startswith("Long-term impact (") for label in levels), levels
    assert not at.get("plotly_chart")  # no five-column graph on a phone
    assert at.selectbox(key="asi_phone_nav").value == "Theory of change"
