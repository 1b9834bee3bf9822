"""The only caching in the app: one Store per snapshot, query results and chart specs per snapshot.

`current_store()` reads data/CURRENT on every rerun (one tiny file read and a stat per
snapshot file) and opens a new read-only Store when it names another snapshot, so a
finished ingest is served at the next click without restarting. A snapshot is served
only if it verifies; otherwise the latest earlier one that does (asi_me/data/snapshot.py,
`serve`; files are hashed once per process, never again on a page run). `cached(fn, *args)` runs a query function
`fn(store, *args, **kwargs)` once per (function, snapshot, arguments); arguments are
keyed by their repr, which for Viewer, Filters and dates is exact.

Results live in one process-wide `ResultCache` (not st.cache_data, which unpickles a
fresh copy of every result on every hit: 0.7 s and 40 MB per session for the 100x
certification register). Frames are shared without copying and handed out as
copy-on-write views; `cached_view` keeps chart specs, figures and display tables the same way.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from asi_me.data import versions
from asi_me.data.snapshot import NoSnapshotError, forget_verifications, serve
from asi_me.data.store import Store
from asi_me.settings import Settings
from asi_me.ui import process

log = logging.getLogger(__name__)
T = TypeVar("T")

# Results are keyed by snapshot, so they never go stale: no time to live, only the LRU bound.
QUERY_TTL_SECONDS: float | None = None
QUERY_MAX_ENTRIES = 512


def _close_store(store: Store) -> None:
    store.close()


@st.cache_resource(max_entries=3, show_spinner=False, on_release=_close_store)
def _open_store(data_dir: str, snapshot_id: str) -> Store:
    log.info("Opening snapshot %s from %s", snapshot_id, data_dir)
    return Store(Path(data_dir) / "snapshots" / snapshot_id)  # verifies it (once per process)


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings.from_env()


# The Store a page run pinned (see `pinned_store`), per script thread: each session runs in its own.
_run = threading.local()


def current_store(config: Settings | None = None) -> Store:
    """The Store of the snapshot data/CURRENT names now, or of the latest earlier one that
    verifies if CURRENT's does not. Raises NoSnapshotError if there is none (its subclass
    NoVerifiedSnapshotError when no snapshot verifies).

    Inside `pinned_store()` it is the run's Store, without reading CURRENT again.
    """
    if config is None and (pinned := getattr(_run, "store", None)) is not None:
        return pinned
    config = config or settings()
    return _open_store(str(config.data_dir), serve(config.data_dir).snapshot_id)


def open_version(config: Settings, requested: str | None) -> tuple[Store, versions.Version]:
    """The Store a link's data version (`v=`) opens, and what was resolved (see
    asi_me/data/versions.py). Raises NoSnapshotError like `current_store`."""
    version = versions.resolve(config.data_dir, requested)
    return _open_store(str(config.data_dir), version.snapshot_id), version


def snapshot_notice(config: Settings | None = None) -> str | None:
    """For the secretariat: why the served snapshot is not CURRENT's (None when it is)."""
    config = config or settings()
    try:
        return serve(config.data_dir).notice()
    except NoSnapshotError:
        return None


@contextmanager
def pinned_store(store: Store | None) -> Iterator[None]:
    """Within the block, `current_store()` on this thread is `store`: a page run reads CURRENT
    once (the app frame) instead of at every cached query (dozens per run), and all its
    figures come from one snapshot even when an ingest switches CURRENT mid-run."""
    previous = getattr(_run, "store", None)
    _run.store = store
    try:
        yield
    finally:
        _run.store = previous


class ResultCache:
    """Query results of one process, shared by every session: least recently used entries
    go beyond `max_entries`, entries older than `ttl` seconds (if one is given; the app gives
    none, since keys hold the snapshot) are recomputed, and one
    session computes a missing key while the others wait for it (no stampede).

    DataFrames are kept as they are and handed out as shallow copy-on-write copies
    (`frame.copy(deep=False)`): no bytes are copied, so a 70,000-row register costs
    microseconds per hit and one copy per process instead of one per session, and a page
    that assigns to or edits its copy never changes what other sessions see (pandas 3
    copy-on-write). Other results (tiles, graphs, lists) are small; they are stored
    pickled and unpickled per hit, as st.cache_data does, so they cannot be mutated.
    """

    def __init__(self, *, max_entries: int = QUERY_MAX_ENTRIES, ttl: float | None = QUERY_TTL_SECONDS) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self._entries: OrderedDict[Hashable, tuple[float, str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def held(self) -> list[Hashable]:
        """The keys held now, least recently used first."""
        with self._lock:
            return list(self._entries)

    def get(self, key: Hashable, compute: Callable[[], Any], *, shared: bool = False,
            waiting: Callable[[], AbstractContextManager[Any]] = nullcontext) -> Any:
        """The value stored under `key`, computed by `compute()` when missing or expired.

        `shared=True` stores a non-frame value itself and returns it as is (for values the
        caller treats as read-only, such as chart specs); otherwise see the class docstring.
        A miss computes (or waits for another session's computation) inside `waiting()`.
        """
        hit = self._lookup(key)
        if hit is not None:
            return _hand_out(*hit)
        with waiting():
            return self._miss(key, compute, shared)

    def _miss(self, key: Hashable, compute: Callable[[], Any], shared: bool) -> Any:
        with self._lock:
            key_lock = self._computing.setdefault(key, threading.Lock())
        if not key_lock.acquire(blocking=False):
            # Another session is computing it: wait without holding a page-run slot.
            with process.slot_released():
                key_lock.acquire()
        try:
            hit = self._lookup(key)  # another session may have computed it meanwhile
            if hit is None:
                try:
                    hit = _store_form(compute(), shared=shared)
                    with self._lock:
                        self._entries[key] = (time.monotonic(), *hit)
                        self._entries.move_to_end(key)
                        while len(self._entries) > self.max_entries:
                            self._entries.popitem(last=False)
                finally:
                    with self._lock:
                        self._computing.pop(key, None)
        finally:
            key_lock.release()
        return _hand_out(*hit)

    def _lookup(self, key: Hashable) -> tuple[str, Any] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self.ttl is not None and time.monotonic() - entry[0] > self.ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1], entry[2]


_IMMUTABLE = (type(None), bool, int, float, str, bytes, date)


def _store_form(value: Any, *, shared: bool) -> tuple[str, Any]:
    if isinstance(value, pd.DataFrame):
        return "frame", value
    if shared:
        return "shared", value
    if isinstance(value, _IMMUTABLE):
        return "shared", value
    return "pickled", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _hand_out(form: str, stored: Any) -> Any:
    if form == "frame":
        return stored.copy(deep=False)
    if form == "pickled":
        return pickle.loads(stored)  # noqa: S301 - bytes this process pickled itself
    return stored


@st.cache_resource(show_spinner=False)
def _results() -> ResultCache:
    """The process's one result cache (emptied with st.cache_resource.clear())."""
    return ResultCache()


def results() -> ResultCache:
    """The process's result cache (for the warm start and its tests)."""
    return _results()


def cached(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(store, *args, **kwargs)` on the current snapshot, cached per snapshot and arguments.

    A DataFrame comes back as a copy-on-write view of the one cached frame: cheap, and
    safe to modify (nothing else sees the change).
    """
    store = current_store()
    name = f"{fn.__module__}.{getattr(fn, '__qualname__', repr(fn))}"
    key = (name, str(store.folder), store.snapshot_id, repr((args, sorted(kwargs.items()))))
    return _results().get(key, lambda: fn(store, *args, **kwargs), waiting=lambda: _spinner(fn.__module__))


def cached_view(name: str, key: Hashable, build: Callable[[], T]) -> T:
    """Something a page derives for display (a chart spec, a plotly figure, a table), built once
    per snapshot, `name` and `key` and shared by every session.

    `key` must hold everything `build` reads (viewer, filters, selections). A DataFrame comes
    back as a copy-on-write view like `cached` results; anything else is the shared object
    itself, which callers only read (Streamlit copies a figure before serialising it).
    """
    store = current_store()
    return _results().get(("view", name, store.snapshot_id, key), build, shared=True, waiting=_spinner)


# What a visitor reads while a figure is worked out (a cache miss): Streamlit shows it only
# when the wait passes half a second, with the seconds counting, where the figure will appear.
_WAITING = {
    "certifications": "Reading the certification register…",
    "coc": "Tracing the chain-of-custody flows…",
    "toc": "Scoring the Theory of Change…",
    "outcomes": "Counting members and certificates…",
    "members": "Counting members…",
    "changes": "Working out what changed…",
    "quality": "Running the data checks…",
    "catalogue": "Reading the table catalogue…",
    "risks": "Reading the risk register…",
}


def _spinner(module: str = "") -> AbstractContextManager[Any]:
    if get_script_run_ctx(suppress_warning=True) is None:  # the warm start's thread: nobody to tell
        return nullcontext()
    return st.spinner(_WAITING.get(module.rsplit(".", 1)[-1], "Working out the figures…"), show_time=True)


def clear() -> None:
    """Drop cached query results (used by tests that swap the data folder)."""
    _results.clear()
    _open_store.clear()
    settings.clear()
    forget_verifications()


def deferred(fn: Callable[..., T], *args: Any, **kwargs: Any) -> Callable[[], T]:
    """A zero-argument callable computing `fn(store, *args, **kwargs)` later, for
    `st.download_button(data=...)`: large files are built only when someone clicks."""
    store = current_store()
    return lambda: fn(store, *args, **kwargs)
