"""Links pinned to their data: a link carries its data version (v=) and reopens the figures
of that snapshot while it is kept, with a note that newer data is available; a link to a
version that is gone opens the current figures and says why."""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import current_folder, prune, read_table, write_snapshot
from asi_me.settings import REPO_ROOT
from tests.app.conftest import tile_values

BOARD_MEETING = "2026-11-01T00:00:00+00:00"
NEXT_MONTH = "2026-12-01T00:00:00+00:00"


def members_tile(at) -> str:
    return tile_values(at)["Members"]


def texts(at) -> str:
    parts = [str(e.value) for kind in ("markdown", "warning", "info", "caption") for e in getattr(at, kind)]
    return "\n".join(parts)


@pytest.fixture
def data_dir(tmp_path: Path) -> tuple[Path, str, dict[str, pa.Table]]:
    """A data folder holding the demo as it stood at the board meeting."""
    source = current_folder(REPO_ROOT / "data")
    tables = {name: read_table(source, name) for name in TABLES}
    snapshot_id, _ = write_snapshot(tmp_path, tables, note="as of the board meeting", fixed_time=BOARD_MEETING)
    return tmp_path, snapshot_id, tables


def _five_members_leave(tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """The next release: five members still in membership are recorded as having left in 2020."""
    members = tables["members"]
    active = pc.is_null(members["left_on"]).to_numpy(zero_copy_only=False).nonzero()[0][:5]
    left_on = members["left_on"].to_pylist()
    for i in active:
        left_on[i] = date(2020, 1, 31)
    index = members.schema.get_field_index("left_on")
    field = members.schema.field(index)
    changed = members.set_column(index, field, pa.array(left_on, field.type))
    return {**tables, "members": changed}


def test_a_pinned_link_reopens_the_figures_it_was_copied_with(open_app, data_dir) -> None:
    folder, board_id, tables = data_dir
    first = open_app(folder, role="public")
    assert first.query_params["v"] == board_id  # the link a visitor copies names its data version
    assert members_tile(first) == "476"

    newer_id, _ = write_snapshot(folder, _five_members_leave(tables), note="next release", fixed_time=NEXT_MONTH)
    pinned = open_app(folder, role="public", params={"v": board_id})
    assert members_tile(pinned) == "476"
    assert "Newer data is available" in texts(pinned)
    assert "release of 1 November 2026" in texts(pinned)
    assert board_id not in texts(pinned)  # a visitor reads a date, not a version id
    (to_current,) = [link for link in pinned.get("page_link") if link.proto.label == "Open the current view"]
    assert "v=" not in to_current.proto.query_string
    filtered = open_app(folder, role="public", params={"v": board_id, "region": "Europe"})
    (to_current,) = [link for link in filtered.get("page_link") if link.proto.label == "Open the current view"]
    assert to_current.proto.query_string == "region=Europe"  # the filters stay, the pin goes

    current = open_app(folder, role="public")
    assert members_tile(current) == "471"
    assert current.query_params["v"] == newer_id
    assert "Newer data is available" not in texts(current)


def test_a_link_to_a_version_no_longer_kept_opens_the_current_figures_and_says_why(open_app, data_dir) -> None:
    folder, board_id, tables = data_dir
    newer_id, _ = write_snapshot(folder, _five_members_leave(tables), note="next release", fixed_time=NEXT_MONTH)
    removed = prune(folder, keep=0)
    assert board_id in removed.removed
    at = open_app(folder, role="public", params={"v": board_id})
    assert members_tile(at) == "471"
    warning = " ".join(w.value for w in at.warning)
    assert f"data version {board_id}, which this site no longer keeps" in warning
    assert at.query_params["v"] == newer_id  # the link now names what is shown
    garbage = open_app(folder, role="public", params={"v": "../../etc/passwd"})
    assert "is not a data version, so the current figures are shown" in " ".join(w.value for w in garbage.warning)
    assert members_tile(garbage) == "471"


def test_a_version_rolled_back_from_is_never_reopened(open_app, data_dir) -> None:
    """An operator rolled a bad release back: its link must not bring its figures back."""
    from asi_me.data.snapshot import rollback

    folder, board_id, tables = data_dir
    bad_id, _ = write_snapshot(folder, _five_members_leave(tables), note="bad release", fixed_time=NEXT_MONTH)
    rollback(folder, board_id)
    at = open_app(folder, role="public", params={"v": bad_id})
    assert members_tile(at) == "476"
    assert "which was withdrawn" in " ".join(w.value for w in at.warning)


def test_every_screen_offers_a_link_with_its_filters_and_version(open_app, data_dir) -> None:
    folder, board_id, _ = data_dir
    for page in ("pages/outcomes.py", "pages/map.py", "pages/coc_flow.py", "pages/toc.py", "pages/evaluations.py",
                 "pages/data.py"):
        at = open_app(folder, page=page, role="public", params={"region": "Europe"})
        (box,) = [h.value for h in at.get("html") if 'class="asi-share-url"' in h.value]
        (code,) = re.findall(r'class="asi-share-url"[^>]* value="([^"]*)"', box)
        code = html.unescape(code)
        assert "region=Europe" in code and f"v={board_id}" in code, (page, code)
