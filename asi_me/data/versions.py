"""Links pinned to their data: which snapshot a link's data version (`v=`) opens.

A link copied for the minutes of a board meeting must reopen the figures the board saw,
not whatever is current a month later. Every screen's URL carries the data version; a
link whose version is still kept (see `python -m asi_me snapshots prune` and
ASI_SNAPSHOTS_KEEP) opens that snapshot, with a note that newer data is available. A
version that is gone, was never published, was rolled back from, fails its integrity
check or is of the other kind (the demo never stands in for real data, nor the reverse)
opens the current figures, with a sentence saying why. The reason never says whether an
unpublished snapshot exists.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asi_me.data.snapshot import (
    Manifest,
    _created,
    _is_demo,
    never_published,
    serve,
    verify_snapshot,
)
from asi_me.settings import snapshots_keep
from asi_me.publish.numbers import format_day

VERSION_PARAM = "v"
_VERSION = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class Version:
    """What a page run serves for a link's data version."""

    snapshot_id: str  # the snapshot to open
    current_id: str  # the snapshot served without a version in the link
    requested: str | None  # the link's version, if it gave one
    reason: str | None = None  # why the requested version is not the one served

    @property
    def is_pinned(self) -> bool:
        """The link's older version is served (newer data is available)."""
        return self.snapshot_id != self.current_id


def _published(folder: Path) -> datetime | None:
    try:
        return datetime.fromisoformat(Manifest.load(folder).created_at)
    except (OSError, ValueError, TypeError):
        return None


def _label(folder: Path) -> str:
    """"the data published on 4 December 2026" from the manifest's creation time, else the version id."""
    published = _published(folder)
    return f"the data published on {_day(published)}" if published else f"data version {folder.name}"


def _day(moment: datetime) -> str:
    return format_day(moment)  # a leaf module: the one way a day is written for reading


def release_name(data_dir: Path, snapshot_id: str) -> str:
    """A reader's short name for a data version: "release of 4 December 2026".

    The public never sees the version id; a second release of the same day is told
    apart by its order ("release of 4 December 2026, no. 2")."""
    folder = data_dir.resolve() / "snapshots" / snapshot_id
    try:
        listed = folder.parent.stat().st_mtime_ns  # a new or pruned snapshot changes the folder
    except OSError:
        listed = 0
    return _release_name(folder, listed)


@functools.lru_cache(maxsize=64)
def _release_name(folder: Path, _listed: int) -> str:
    published = _published(folder)
    if published is None:
        return "the current release"
    same_day = sorted(
        moment for other in (folder.parent.iterdir() if folder.parent.is_dir() else ())
        if other.is_dir() and (moment := _published(other)) is not None and moment.date() == published.date()
    )
    number = same_day.index(published) + 1 if published in same_day else 1
    return f"release of {_day(published)}" + (f", no. {number}" if number > 1 else "")


def published_on(data_dir: Path, snapshot_id: str) -> str:
    """A reader's name for a data version: when it was published."""
    return _label(data_dir.resolve() / "snapshots" / snapshot_id)


def resolve(data_dir: Path, requested: str | None) -> Version:
    """The snapshot a link with data version `requested` opens (None: the current one).

    Raises what `serve` raises when there is no current snapshot at all."""
    served = serve(data_dir)
    current = served.snapshot_id
    asked = (requested or "").strip().lower() or None
    if asked is None or asked in (current, served.current_id):
        return Version(current, current, asked)
    gone = (f"The link asked for data version {asked}, which this site no longer keeps (it keeps the "
            f"{snapshots_keep()} most recent versions besides the current one), so the current figures are shown.")
    if not _VERSION.match(asked):
        return Version(current, current, asked, f"“{asked}” is not a data version, so the current figures are shown.")
    folder = data_dir.resolve() / "snapshots" / asked
    current_folder = data_dir.resolve() / "snapshots" / current
    if not folder.is_dir() or asked in never_published(data_dir):
        return Version(current, current, asked, gone)
    kinds = (_is_demo(folder), _is_demo(current_folder))
    if None not in kinds and kinds[0] is not kinds[1]:
        return Version(current, current, asked, gone)
    if not _created(folder) < _created(current_folder):
        return Version(current, current, asked,
                       f"The link asked for data version {asked}, which was withdrawn (the data was rolled back to "
                       "an earlier version), so the current figures are shown.")
    if not verify_snapshot(folder).ok:
        return Version(current, current, asked,
                       f"The link asked for data version {asked}, which failed its integrity check, so the current "
                       "figures are shown rather than possibly wrong ones.")
    return Version(asked, current, asked)
