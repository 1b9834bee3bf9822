"""Readiness: whether this process can serve figures, for a proxy or an orchestrator.

`readiness(data_dir)` is 200 only when a snapshot that verifies against its manifest is
served (CURRENT's, or the latest earlier one when CURRENT's is damaged) and opens; 503 on
an empty data folder, a CURRENT naming nothing, or no snapshot that verifies. The ASGI
entrypoint answers /_app/ready with it. Each snapshot is hashed and opened once per
process; later calls cost a read of CURRENT and a stat per file.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from asi_me.data.snapshot import NoSnapshotError, serve
from asi_me.data.store import Store


@dataclass(frozen=True)
class Readiness:
    ok: bool
    status: int  # 200 or 503
    snapshot_id: str | None  # the snapshot served (None when none is)
    reason: str


_opened: set[tuple[str, str]] = set()  # (snapshot folder, snapshot id) that opened in this process
_lock = threading.Lock()


def readiness(data_dir: Path) -> Readiness:
    """200 with the served snapshot's id when a verified snapshot opens, else 503 with the reason."""
    try:
        served = serve(data_dir)
    except NoSnapshotError as exc:
        return Readiness(False, 503, None, str(exc))
    except OSError as exc:
        return Readiness(False, 503, None, f"The data folder {data_dir} cannot be read: {exc}")
    key = (str(served.folder), served.snapshot_id)
    with _lock:
        opened = key in _opened
    if not opened:
        try:
            Store(served.folder, served.verification).close()
        except Exception as exc:  # any failure to open means "not ready", never a crashed probe
            return Readiness(False, 503, served.snapshot_id,
                             f"Snapshot {served.snapshot_id} verified but does not open: {type(exc).__name__}: {exc}")
        with _lock:
            _opened.add(key)
    if served.failed is not None:
        return Readiness(True, 200, served.snapshot_id, served.notice() or "")
    return Readiness(True, 200, served.snapshot_id, f"serving snapshot {served.snapshot_id}")
