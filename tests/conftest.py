"""Shared fixtures: tiny datasets written as real snapshots and opened with the Store.

`make_store(tmp_path, members=[...], facilities=[...], ...)` writes each given table
(a list of dicts or a DataFrame; tables not given are empty) with the snapshot
writer and opens a read-only Store on it, so tests run the real SQL on the real
Parquet layout. `member`, `facility`, `coc_line` and `certification` build rows
with sensible defaults so a test only spells out what it is about.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import json
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import arrow_schema, write_snapshot
from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer

TableRows = list[dict[str, Any]] | pd.DataFrame

_HERE = Path(__file__).resolve().parent
_THIS = sys.modules[__name__]


def _uses_this_conftest(path: Path | None) -> bool:
    """Whether this file is the nearest conftest.py of a test module at `path`."""
    if path is None:
        return False
    folder = path.resolve().parent
    while folder != _HERE:
        if (folder / "conftest.py").exists() or folder == folder.parent:
            return False
        folder = folder.parent
    return True


def _point_conftest_here(path: Path | None) -> None:
    # Test modules import these helpers with `from conftest import ...`. pytest imports
    # every conftest.py under the name "conftest", so a sub-folder's own conftest.py
    # (tests/app, tests/browser) would shadow this one; point the name back first.
    if _uses_this_conftest(path):
        sys.modules["conftest"] = _THIS


@pytest.fixture(autouse=True, scope="session")
def _downloads_built_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Built downloads go to a folder of the test session, never into data/ (asi_me/publish/download_cache.py)."""
    import os

    previous = os.environ.get("ASI_DOWNLOAD_CACHE_DIR")
    os.environ["ASI_DOWNLOAD_CACHE_DIR"] = str(tmp_path_factory.mktemp("downloads"))
    yield
    if previous is None:
        os.environ.pop("ASI_DOWNLOAD_CACHE_DIR", None)
    else:
        os.environ["ASI_DOWNLOAD_CACHE_DIR"] = previous


@pytest.fixture(autouse=True, scope="session")
def _no_prepared_figures_on_publish() -> Iterator[None]:
    """Ingests in tests do not prepare protected figures (seconds per publish); tests/test_prepared.py
    turns it on where it is what is tested."""
    import os

    previous = os.environ.get("ASI_PREPARE_ON_PUBLISH")
    os.environ["ASI_PREPARE_ON_PUBLISH"] = "0"
    yield
    if previous is None:
        os.environ.pop("ASI_PREPARE_ON_PUBLISH", None)
    else:
        os.environ["ASI_PREPARE_ON_PUBLISH"] = previous


def pytest_collectstart(collector: pytest.Collector) -> None:
    if isinstance(collector, pytest.Module):
        _point_conftest_here(collector.path)


def pytest_runtest_setup(item: pytest.Item) -> None:
    _point_conftest_here(item.path)


def _to_arrow(name: str, rows: TableRows) -> pa.Table:
    schema = arrow_schema(TABLES[name])
    if isinstance(rows, pd.DataFrame):
        frame = rows
    else:
        # Fill optional columns the test did not spell out with None.
        filled = [{column: row.get(column) for column in schema.names} for row in rows]
        frame = pd.DataFrame(filled, columns=schema.names)
    if frame.empty:
        return schema.empty_table()
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def write_tables(data_dir: Path, **tables: TableRows) -> Path:
    """Write the given tables (others empty) as the current snapshot of `data_dir`."""
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise KeyError(f"Unknown table(s) {sorted(unknown)}; known tables are {sorted(TABLES)}.")
    write_snapshot(data_dir, {name: _to_arrow(name, rows) for name, rows in tables.items()})
    return data_dir


_OPEN: list[Store] = []


def make_store(tmp_path: Path, *, keep_open: bool = False, **tables: TableRows) -> Store:
    """A Store over a fresh snapshot holding `tables` (each a list of dicts or a DataFrame).

    The store is closed after the test; a module- or session-scoped fixture passes
    keep_open=True and closes it itself.
    """
    data_dir = tmp_path / f"data-{len(list(tmp_path.glob('data-*')))}"
    write_tables(data_dir, **tables)
    store = Store.open_current(data_dir)
    if not keep_open:
        _OPEN.append(store)
    return store


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


# --- row builders with defaults -------------------------------------------------------------


def member(member_id: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "member_id": member_id,
        "name": f"Company {member_id}",
        "membership_class": "production_transformation",
        "country": "DE",
        "joined_on": date(2016, 1, 1),
        "left_on": None,
    }
    return row | overrides


def facility(facility_id: str, member_id: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "facility_id": facility_id,
        "member_id": member_id,
        "name": f"Site {facility_id}",
        "country": "DE",
        "latitude": 50.0,
        "longitude": 8.0,
        "activities": ["semi_fabrication"],
        "workers": 100,
    }
    return row | overrides


def coc_line(
    facility_id: str, stage: str, material: str, input_t: float, output_t: float, year: int = 2020, **overrides: Any
) -> dict[str, Any]:
    row = {
        "facility_id": facility_id,
        "reporting_year": year,
        "stage": stage,
        "material": material,
        "input_t": float(input_t),
        "output_t": float(output_t),
        "carried_forward_t": 0.0,
        "submitted_on": date(year + 1, 3, 1),
        "due_on": date(year + 1, 3, 31),
    }
    return row | overrides


def certification(certification_id: str, facility_id: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "certification_id": certification_id,
        "facility_id": facility_id,
        "standard": "CoC",
        "standard_version": "CoC-2017",
        "certification_type": "full",
        "status": "certified",
        "issued_on": date(2019, 1, 1),
        "expires_on": date(2022, 1, 1),
        "status_changed_on": None,
        "scope": "Chain of custody of ASI Aluminium",
        "auditing_firm_id": "AF1",
        "external_certifications": [],
    }
    return row | overrides


def auditing_firm(auditing_firm_id: str = "AF1", **overrides: Any) -> dict[str, Any]:
    row = {
        "auditing_firm_id": auditing_firm_id,
        "name": f"Audit firm {auditing_firm_id}",
        "accredited_on": date(2016, 1, 1),
        "accreditation_ended_on": None,
        "countries": ["DE"],
    }
    return row | overrides


# --- calling every registered query function ------------------------------------------------

QUERY_MODULES = (
    "queries.coc", "queries.quality", "queries.outcomes", "queries.certifications", "queries.toc",
    "publish.exports", "queries.members", "queries.changes", "queries.risks",
)


def query_functions() -> list[Callable[..., Any]]:
    """Every function listed in a QUERY_FUNCTIONS of an asi_me query module that exists yet."""
    import importlib

    found: list[Callable[..., Any]] = []
    for name in QUERY_MODULES:
        try:
            module = importlib.import_module(f"asi_me.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"asi_me.{name}":
                continue
            raise
        found.extend(getattr(module, "QUERY_FUNCTIONS", []))
    return found


# Sensible values for parameters query functions commonly take, by name.
DEFAULT_ARGUMENTS: dict[str, Any] = {
    "year": 2020,
    "reporting_year": 2020,
    "as_of": date(2020, 12, 31),
    "on": date(2020, 12, 31),
    "period_on": date(2020, 12, 31),
    "for_publication": False,
    "country": "DE",
}


def call_query(
    fn: Callable[..., Any], store: Store, viewer: Viewer, filters: Filters | None = None, **values: Any
) -> Any:
    """Call a query function, filling parameters by name; raises TypeError for one it cannot fill."""
    kwargs: dict[str, Any] = {}
    for name, param in inspect.signature(fn).parameters.items():
        if name == "store":
            kwargs[name] = store
        elif name == "viewer":
            kwargs[name] = viewer
        elif name == "filters":
            kwargs[name] = filters
        elif name in values:
            kwargs[name] = values[name]
        elif param.default is not inspect.Parameter.empty:
            continue
        elif name in DEFAULT_ARGUMENTS:
            kwargs[name] = DEFAULT_ARGUMENTS[name]
        else:
            raise TypeError(f"{fn.__module__}.{fn.__name__} needs a value for parameter {name!r}.")
    return fn(**kwargs)


# ------------------------------------------------------------------ in-process HTTP


class Answer:
    """An HTTP answer as a browser would see it: status, headers (lower-case names) and body."""

    def __init__(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code, self.headers, self.content = status, headers, content

    def json(self) -> Any:
        return json.loads(self.content)


def asgi_get(app: Callable[..., Any], url: str) -> Answer:
    """A browser's GET of `url`, answered in process by the ASGI `app`.

    The app runs on a thread of its own: a browser test earlier in the run may leave the main
    thread's event loop running. After the request's body, `receive` waits as a server does,
    until the browser goes away.
    """
    path, _, query = url.partition("?")
    path = "/" + path.lstrip("/")
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": query.encode(), "headers": [], "scheme": "http", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 5000), "http_version": "1.1"}
    sent: list[dict] = []
    asked: list[bool] = []

    async def receive() -> dict:
        if asked:
            await asyncio.Event().wait()
        asked.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return Answer(start["status"], headers, b"".join(m.get("body", b"") for m in sent
                                                     if m["type"] == "http.response.body"))
