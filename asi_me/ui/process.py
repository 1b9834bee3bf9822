"""Process-wide housekeeping of the Streamlit server: how many page runs execute at once,
and keeping the long-lived heap out of the garbage collector's way.

Streamlit runs every session's script in its own thread of one process, and the GIL
lets one of them execute Python at a time. Fifty sessions started together then
all advance in 5 ms slices and all finish near the end (and the event loop thread that
sends their messages waits for the GIL behind them). `run_slot()` lets a few runs in at
once (queries release the GIL, so more than one is useful) and queues the others in
arrival order: the same total work, but most sessions finish far sooner, and none later.

Streamlit forces a full garbage collection (`gc.collect(2)`) after every script run
(`runner.postScriptGC`). With pandas, Altair, plotly and pydeck loaded that walks some
170,000 objects: about 95 ms of CPU per run, a third of a warm home-page session,
and sessions are threads sharing one GIL. Almost all of those objects are modules,
classes and caches that live as long as the process. `gc.freeze()` moves them to a
permanent generation the collector skips, so the forced collection only walks what
the run itself allocated. It is done once per screen and process, after that screen's
first run has imported what it needs; a collection right before freezing keeps
garbage out of the frozen set.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

_lock = threading.Lock()
_frozen_for: set[str] = set()

# Runs executing at once; ASI_CONCURRENT_RUNS overrides (e.g. more on a machine with more cores).
# Measured at 100x on 2 cores with 50 warm home-page sessions (~35 ms CPU each): 1, 2 and 3 slots
# gave p95 1.5-2.3 s, 1.5-3.3 s and 1.6 s across runs, a spread the shared machine's noise
# explains; 2 stays the default because a cold query releases the GIL for the other slot.
def _concurrent_runs(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return 2
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"Environment variable ASI_CONCURRENT_RUNS={raw!r} is not a positive whole number of page runs; "
            "set it to e.g. 2 (the number of cores) or unset it."
        )
    return value


CONCURRENT_RUNS = _concurrent_runs(os.environ.get("ASI_CONCURRENT_RUNS"))
# A run waits at most this long for a slot, then goes ahead anyway: a stuck run never blocks the site.
SLOT_WAIT_SECONDS = 30.0
_slots = threading.BoundedSemaphore(CONCURRENT_RUNS)


@contextmanager
def run_slot() -> Iterator[bool]:
    """Hold one of the CONCURRENT_RUNS slots for a page run; yields whether a slot was obtained."""
    obtained = _slots.acquire(timeout=SLOT_WAIT_SECONDS)
    if not obtained:
        log.warning("A page run waited %.0f s for a free slot and runs without one.", SLOT_WAIT_SECONDS)
    try:
        yield obtained
    finally:
        if obtained:
            _slots.release()


def freeze_heap_once(screen: str) -> bool:
    """After the first run of `screen` in this process, freeze the heap; True if it froze now."""
    if screen in _frozen_for:
        return False
    with _lock:
        if screen in _frozen_for:
            return False
        _frozen_for.add(screen)
        gc.collect()
        gc.freeze()
        log.info("Froze %d long-lived objects after the first run of %s.", gc.get_freeze_count(), screen)
        return True


# Give frozen objects back to the collector at exit, so interpreter shutdown frees them
# as it would without freezing (extension modules otherwise report them as leaked).
atexit.register(gc.unfreeze)
