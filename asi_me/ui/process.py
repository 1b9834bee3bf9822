"""Process-wide housekeeping of the Streamlit server: how many page runs execute Python at
once, and keeping the long-lived heap out of the garbage collector's way.

Streamlit runs every session's script in its own thread of one process, and the GIL
lets one of them execute Python at a time. Fifty sessions started together then
all advance in 5 ms slices and all finish near the end (and the event loop thread that
sends their messages waits for the GIL behind them). `run_slot()` admits one run at a
time by default and queues the others in arrival order: the same total work, but most
sessions finish far sooner, and none later. A run gives its slot back while it waits for
DuckDB (`slot_released()`, installed as the store's wait hook): a query releases the
GIL, so another session's Python runs meanwhile and the second core is not left idle.

Only app.py's full page runs take a slot. Fragment runs (the map's growth replay, a
`st.fragment` the browser reruns on a timer) take none, and nothing that waits on a clock
may run while holding one: a session that slept in its run kept every other session of
the process waiting (10 s for a Theory-of-change page during a replay, at 100x).

Measured at 100x on 2 cores, 50 warm home-page sessions at once: with 2 slots every
session finished at about the same time (p50 1.7-2.0 s, p95 1.7-2.1 s); with 1 slot p50
0.9-1.2 s and p95 1.6 s, and 5-15 % less server CPU per session (fewer GIL hand-overs).

Streamlit can force a full garbage collection after every script run
(`runner.postScriptGC`, switched off in .streamlit/config.toml). Python's own collector
still runs; with pandas, Altair, plotly and pydeck loaded a full collection walks some
170,000 objects, almost all modules, classes and caches that live as long as the
process. `gc.freeze()` moves them to a permanent generation the collector skips. It is
done once per screen and process, after that screen's first run has imported what it
needs; a collection right before freezing keeps garbage out of the frozen set.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from asi_me.data import store

log = logging.getLogger(__name__)

_lock = threading.Lock()
_frozen_for: set[str] = set()

# Runs executing Python at once; ASI_CONCURRENT_RUNS overrides it (see the module docstring).
def _concurrent_runs(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return 1
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"Environment variable ASI_CONCURRENT_RUNS={raw!r} is not a positive whole number of page runs; "
            "set it to e.g. 1 (the default) or unset it."
        )
    return value


CONCURRENT_RUNS = _concurrent_runs(os.environ.get("ASI_CONCURRENT_RUNS"))
# A run waits at most this long for a slot, then goes ahead anyway: a stuck run never blocks the site.
SLOT_WAIT_SECONDS = 30.0
_slots = threading.BoundedSemaphore(CONCURRENT_RUNS)
_held = threading.local()  # .slot: whether this thread's page run holds a slot right now


def _take_slot() -> bool:
    obtained = _slots.acquire(timeout=SLOT_WAIT_SECONDS)
    if not obtained:
        log.warning("A page run waited %.0f s for a free slot and runs without one.", SLOT_WAIT_SECONDS)
    return obtained


@contextmanager
def run_slot() -> Iterator[bool]:
    """Hold one of the CONCURRENT_RUNS slots for a page run; yields whether a slot was obtained."""
    _held.slot = obtained = _take_slot()
    try:
        yield obtained
    finally:
        if getattr(_held, "slot", False):
            _slots.release()
        _held.slot = False


@contextmanager
def slot_released() -> Iterator[None]:
    """While this thread waits outside Python (a DuckDB query, another session computing the
    result it needs), let the next page run have its slot.

    Afterwards the slot is taken back only if it is free; otherwise the run goes on without
    one (a second run executing Python for a while costs some GIL sharing, nothing more).
    Waiting for it could deadlock: the run holding it may be waiting on a lock this thread
    holds. A no-op on a thread that holds no slot (tests, the benchmark, a download built on
    click).
    """
    if not getattr(_held, "slot", False):
        yield
        return
    _held.slot = False
    _slots.release()
    try:
        yield
    finally:
        _held.slot = _slots.acquire(blocking=False)


store.set_wait_hook(slot_released)


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
