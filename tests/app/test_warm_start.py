"""Warm start: after the server's warm-up, a visitor's first run of every public screen's
default view finds every query result computed (the disclosure protections included), so the
first visitor after a restart or a new snapshot waits no longer than the hundredth."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from asi_me.data.vocab import Role
from asi_me.settings import REPO_ROOT, Settings
from asi_me.ui import cache, warm
from asi_me.ui.screens import SCREENS

PUBLIC_SCREENS = [s for s in SCREENS if Role.PUBLIC in s.roles]


def _query_keys() -> set:
    return {key for key in cache.results().held() if key[0] != "view"}


def test_a_visitors_first_run_of_every_default_view_computes_nothing(monkeypatch, demo_dir: Path) -> None:
    monkeypatch.setenv("ASI_DATA_DIR", str(demo_dir))
    cache.clear()
    state = warm.warm(Settings.from_env())
    assert state.finished and state.failed is None
    warmed = _query_keys()
    assert any("protect" in key[0] or "dashboard_tiles" in key[0] for key in warmed)
    for screen in PUBLIC_SCREENS:
        at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
        at.run()
        if not screen.default:
            at.switch_page(screen.file).run()
        assert not at.exception, [e.value for e in at.exception]
        computed = sorted(key[0] for key in _query_keys() - warmed)
        assert not computed, f"{screen.title}: a visitor's first run computed {computed}"
    cache.clear()


def test_the_warmer_warms_a_newly_served_snapshot(monkeypatch, tmp_path: Path, demo_dir: Path) -> None:
    from asi_me.data.contract import TABLES
    from asi_me.data.snapshot import current_folder, read_table, write_snapshot

    data_dir = tmp_path / "data"
    tables = {name: read_table(current_folder(demo_dir), name) for name in TABLES}
    first, _ = write_snapshot(data_dir, tables, note="demo")
    monkeypatch.setenv("ASI_DATA_DIR", str(data_dir))
    cache.clear()
    warmer = warm.Warmer(Settings.from_env(), poll_seconds=0.2).start()
    try:
        _wait(lambda: warmer.state.finished and warmer.state.snapshot_id == first)
        second, _ = write_snapshot(data_dir, {**tables, "members": tables["members"].slice(1)}, note="demo")
        _wait(lambda: warmer.state.finished and warmer.state.snapshot_id == second)
        assert any(key[2] == second for key in _query_keys())
    finally:
        warmer.stop()
        cache.clear()


def _wait(condition, timeout: float = 240.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the warmer did not finish in time")
        time.sleep(0.2)
