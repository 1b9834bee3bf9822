"""The only caching in the app: one Store per snapshot, and query results per snapshot.

`current_store()` reads data/CURRENT on every rerun (one tiny file read) and opens a
new read-only Store when it names another snapshot, so a finished ingest is served
at the next click without restarting. `cached(fn, *args)` runs a query function
`fn(store, *args, **kwargs)` once per (function, snapshot, arguments); arguments are
keyed by their repr, which for Viewer, Filters and dates is exact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from asi_me.settings import Settings
from asi_me.snapshot import NoSnapshotError, current_id
from asi_me.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

QUERY_TTL_SECONDS = 15 * 60
QUERY_MAX_ENTRIES = 512


def _close_store(store: Store) -> None:
    store.close()


@st.cache_resource(max_entries=3, show_spinner=False, on_release=_close_store)
def _open_store(data_dir: str, snapshot_id: str) -> Store:
    log.info("Opening snapshot %s from %s", snapshot_id, data_dir)
    return Store(Path(data_dir) / "snapshots" / snapshot_id)


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings.from_env()


def current_store(config: Settings | None = None) -> Store:
    """The Store of the snapshot data/CURRENT names now. Raises NoSnapshotError if there is none."""
    config = config or settings()
    snapshot_id = current_id(config.data_dir)
    if snapshot_id is None:
        raise NoSnapshotError(
            f"No snapshot is current in {config.data_dir}: "
            "run `python -m asi_me demo` or `python -m asi_me ingest PATH`."
        )
    return _open_store(str(config.data_dir), snapshot_id)


@st.cache_data(ttl=QUERY_TTL_SECONDS, max_entries=QUERY_MAX_ENTRIES, show_spinner=False)
def _cached_call(
    fn_name: str, data_dir: str, snapshot_id: str, args_key: str,
    _fn: Callable[..., Any], _store: Store, _args: tuple[Any, ...], _kwargs: dict[str, Any],
) -> Any:
    return _fn(_store, *_args, **_kwargs)


def cached(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(store, *args, **kwargs)` on the current snapshot, cached per snapshot and arguments."""
    store = current_store()
    key = repr((args, sorted(kwargs.items())))
    name = f"{fn.__module__}.{getattr(fn, '__qualname__', repr(fn))}"
    return _cached_call(name, str(store.folder), store.snapshot_id, key, fn, store, args, kwargs)


def clear() -> None:
    """Drop cached query results (used by tests that swap the data folder)."""
    _cached_call.clear()
    _open_store.clear()
    settings.clear()


def deferred(fn: Callable[..., T], *args: Any, **kwargs: Any) -> Callable[[], T]:
    """A zero-argument callable computing `fn(store, *args, **kwargs)` later, for
    `st.download_button(data=...)`: large files are built only when someone clicks."""
    store = current_store()
    return lambda: fn(store, *args, **kwargs)
