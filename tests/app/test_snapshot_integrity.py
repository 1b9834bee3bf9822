"""The app never shows figures from a damaged snapshot: it serves the previous verified one (the
secretariat is told why), and with none it shows its own explanation on every page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from asi_me.data.snapshot import current_id, write_snapshot
from asi_me.data.vocab import Role
from asi_me.ui.screens import SCREENS
from tests.app.conftest import screen_text, tile_values
from tests.integrity import NEW_MEMBERS, demo_tables, flip_byte, write_two_snapshots


@pytest.fixture(scope="module")
def two_snapshots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    data_dir = tmp_path_factory.mktemp("two-app")
    older, newer = write_two_snapshots(data_dir)
    return data_dir, older, newer


def _members(at) -> int:
    return int(tile_values(at)["Members"].replace(",", ""))


def test_a_flipped_byte_in_members_serves_the_previous_snapshot(open_app, two_snapshots, tmp_path) -> None:
    source, older, newer = two_snapshots
    data_dir = tmp_path / "data"
    shutil.copytree(source, data_dir)
    intact = open_app(data_dir)
    assert not intact.exception
    newest_figure = _members(intact)

    flip_byte(data_dir / "snapshots" / newer / "members.parquet")
    public = open_app(data_dir)
    assert not public.exception and not public.error, [e.value for e in public.error]
    assert _members(public) == newest_figure - NEW_MEMBERS  # the previous snapshot's figure, not a corrupted one
    assert "failed verification" not in screen_text(public)
    assert public.query_params["v"] == older  # the link names the snapshot shown

    secretariat = open_app(data_dir, role="secretariat")
    assert _members(secretariat) == newest_figure - NEW_MEMBERS
    banner = " ".join(e.value for e in secretariat.error)
    assert f"Snapshot {newer} failed verification: snapshots/{newer}/members.parquet: expected" in banner
    assert f"Serving snapshot {older}" in banner
    assert f"data version {older}" in screen_text(secretariat)  # the stamp names it for the secretariat


PUBLIC_SCREENS = [s for s in SCREENS if Role.PUBLIC in s.roles]  # with no data, nobody can switch role


@pytest.mark.parametrize("screen", PUBLIC_SCREENS, ids=[s.url_path for s in PUBLIC_SCREENS])
def test_with_no_verified_snapshot_every_page_explains_itself(open_app, tmp_path_factory, screen) -> None:
    data_dir = tmp_path_factory.getbasetemp() / "one-damaged"
    if not data_dir.exists():
        write_snapshot(data_dir, demo_tables(), note="demo: one damaged snapshot")
        flip_byte(data_dir / "snapshots" / str(current_id(data_dir)) / "certifications.parquet")
    at = open_app(data_dir, page=screen.file)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]  # no error box: the app's own words
    assert [t.value for t in at.title] == [screen.title]
    message = " ".join(str(i.value) for i in at.info)
    assert "No figures can be shown: the data failed its integrity check." in message
    assert "certifications.parquet" not in message  # a visitor is told to come back, not which file broke
    assert not tile_values(at)
