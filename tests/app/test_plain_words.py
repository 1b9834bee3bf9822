"""Plain words for the public: the data version is a release date, never a hash; no command,
repository or server path on any screen a visitor can reach; the no-data message speaks to a
visitor. The secretariat keeps the technical detail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from asi_me.data.snapshot import current_id, write_snapshot
from asi_me.data.vocab import Role
from asi_me.ui.screens import SCREENS
from asi_me.ui.widgets import VISITOR_NO_DATA_HINT
from tests.app.conftest import screen_text
from tests.integrity import demo_tables, flip_byte

PUBLIC_SCREENS = [s for s in SCREENS if Role.PUBLIC in s.roles]
SNAPSHOT_ID = re.compile(r"\b(?=[0-9a-f]*[a-f])[0-9a-f]{16}\b")  # a digits-only run is a number
OPERATOR_WORDS = re.compile(r"python -m|/snapshots/|\.parquet|docs/|\.md\b|ASI_[A-Z_]+|/tmp/|/work/")


def _stamp(at) -> str:
    (stamp,) = [e.value for e in at.get("html") if 'class="asi-stamp"' in e.value]
    return stamp


@pytest.mark.parametrize("screen", PUBLIC_SCREENS, ids=[s.url_path for s in PUBLIC_SCREENS])
def test_a_visitor_reads_a_release_date_and_no_hash_or_path(open_app, demo_dir: Path, screen) -> None:
    at = open_app(demo_dir, page=screen.file)
    snapshot_id = current_id(demo_dir)
    assert at.query_params["v"] == snapshot_id  # the link still pins the version
    text = screen_text(at)
    assert snapshot_id not in text
    assert not SNAPSHOT_ID.search(text), SNAPSHOT_ID.search(text)
    assert not OPERATOR_WORDS.search(text), OPERATOR_WORDS.search(text)
    assert re.search(r"release of \d{1,2} [A-Z][a-z]+ \d{4}", _stamp(at))


def test_the_secretariat_sees_the_version_id_beside_the_release(open_app, demo_dir: Path) -> None:
    at = open_app(demo_dir, role="secretariat")
    stamp = _stamp(at)
    assert f"data version {current_id(demo_dir)} (release of " in stamp


@pytest.mark.parametrize("screen", PUBLIC_SCREENS, ids=[s.url_path for s in PUBLIC_SCREENS])
def test_an_empty_snapshot_shows_a_visitor_no_command_or_path(open_app, empty_dir: Path, screen) -> None:
    text = screen_text(open_app(empty_dir, page=screen.file))
    assert not OPERATOR_WORDS.search(text), OPERATOR_WORDS.search(text)


def test_an_empty_snapshot_tells_a_visitor_to_come_back_and_the_secretariat_what_to_run(open_app, empty_dir) -> None:
    public = open_app(empty_dir)
    text = screen_text(public)
    assert VISITOR_NO_DATA_HINT in text
    assert "python -m asi_me" not in text
    secretariat = open_app(empty_dir, role="secretariat")
    assert "python -m asi_me demo" in screen_text(secretariat)
    assert VISITOR_NO_DATA_HINT not in screen_text(secretariat)


def test_with_no_verified_data_a_visitor_is_not_shown_file_names(open_app, tmp_path: Path) -> None:
    data_dir = tmp_path / "damaged"
    write_snapshot(data_dir, demo_tables(), note="demo: one damaged snapshot")
    flip_byte(data_dir / "snapshots" / str(current_id(data_dir)) / "members.parquet")
    at = open_app(data_dir)
    text = screen_text(at)
    assert "No figures can be shown: the data failed its integrity check." in text
    assert VISITOR_NO_DATA_HINT in text
    assert "members.parquet" not in text and str(data_dir) not in text
