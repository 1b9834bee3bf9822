"""The warm start (asi_me/ui/warm.py) and what it tells a proxy: /_app/ready?warm=1 says "not
yet" until the served snapshot's default views are computed, and then "ready"; the warm start
leaves every default view and the chart libraries ready for the first visitor."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import asgi_get
from starlette.applications import Starlette

from asi_me.settings import REPO_ROOT, Settings
from asi_me.ui import asgi, cache, warm


@pytest.fixture
def demo_data(monkeypatch):
    monkeypatch.setenv("ASI_DATA_DIR", str(REPO_ROOT / "data"))
    return REPO_ROOT / "data"


def _ready(path: str) -> tuple[int, dict]:
    answer = asgi_get(Starlette(routes=asgi.app_routes()), path)
    return answer.status_code, json.loads(answer.content)


def test_ready_with_warm_waits_for_the_default_views_of_the_served_snapshot(demo_data, monkeypatch):
    from asi_me.data.snapshot import current_id

    served = current_id(demo_data)
    warmer = warm.Warmer(Settings.from_env())
    monkeypatch.setattr(warm, "_warmer", warmer)

    status, body = _ready("/_app/ready")  # the snapshot opens: ready for probes that do not ask for warmth
    assert status == 200 and body["snapshot_id"] == served and body["warm"] is False
    status, body = _ready("/_app/ready?warm=1")
    assert status == 503 and body["ok"] is False and "still being computed" in body["reason"]

    warmer.state = warm.WarmState("an-older-snapshot", finished=True, seconds=1.0)  # warmed, but not this one
    assert _ready("/_app/ready?warm=1")[0] == 503

    warmer.state = warm.WarmState(served, finished=True, seconds=1.0)
    status, body = _ready("/_app/ready?warm=1")
    assert status == 200 and body["ok"] is True and body["warm_snapshot"] == served


def test_the_warm_start_computes_every_default_view_and_loads_the_chart_libraries(demo_data, monkeypatch):
    monkeypatch.setattr(warm, "_primed", False)
    computed = []
    real = cache.cached

    def counting(fn, *args, **kwargs):
        computed.append(fn.__qualname__)
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(cache, "cached", counting)
    state = warm.warm(Settings.from_env())
    assert state.finished and state.failed is None, state.failed
    calls = {fn.__qualname__ for fn, _, _ in warm.default_view_calls()}
    assert calls <= set(computed)
    assert {"dashboard_tiles", "change_breakdown", "toc_graph", "facility_points", "coc_stage_summary"} <= calls
    assert warm._primed
    # the page modules' libraries are loaded, so the first page run does not import them
    assert {"altair", "plotly.graph_objects", "pydeck", "asi_me.ui.board_pack", "asi_me.ui.charts"} <= set(sys.modules)
