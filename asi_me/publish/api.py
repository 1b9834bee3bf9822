"""The public data API: every published dataset at a stable URL, through the same gate.

    GET /api/datasets                          the list, with each dataset's URLs
    GET /api/datasets/<name>.csv?<filters>     the dataset as CSV, for the public viewer
    GET /api/datasets/<name>.metadata.json     title, units, definitions, sources, suppression
                                               notes, data version, data as of, citation

The filter parameters are the screens' (as_of, region, country, activity, standard,
version, class, status, from, to), so a screen's URL query works here too. Every answer
is built by the download functions the Data screen uses (asi_me.publish.exports.table_csv_file),
for a public viewer: published aggregates only, after the disclosure gate. A CSV is written
batch by batch into the download folder (once per snapshot and filters) and sent from there
in chunks, so the whole indicator observations (25 million rows at 300x) never sit in memory;
the build runs on a worker thread, not on the event loop. The routes are Starlette routes
that the ASGI entrypoint serves beside the app.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import current_id
from asi_me.data.store import Store
from asi_me.filters import FilterError, Filters, Viewer
from asi_me.publish import exports
from asi_me.queries.catalogue import PUBLISHED_AGGREGATES, download_scope
from asi_me.settings import Settings

PUBLIC = Viewer.public()
PREFIX = "/api/datasets"
_lock = threading.Lock()
_open: dict[str, Store] = {}


def dataset_names() -> list[str]:
    """Everything the public may download: public tables, then published datasets."""
    return [n for n in TABLES if download_scope(PUBLIC, n) is not None] + list(PUBLISHED_AGGREGATES)


def _store() -> Store | None:
    data_dir = Settings.from_env().data_dir
    snapshot = current_id(data_dir)
    if snapshot is None:
        return None
    with _lock:
        if snapshot not in _open:
            for old in _open.values():
                old.close()
            _open.clear()
            _open[snapshot] = Store.open_current(data_dir)
        return _open[snapshot]


def _filters(request: Request) -> Filters:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return Filters.from_query_params(params)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def metadata(store: Store, name: str, filters: Filters) -> dict[str, Any]:
    """The .metadata.json of one dataset."""
    if name in PUBLISHED_AGGREGATES:
        meta = PUBLISHED_AGGREGATES[name].metadata()
    else:
        spec = TABLES[name]
        meta = {"name": name, "title": spec.title, "description": spec.model.__doc__ or spec.title,
                "source": "ASI M&E data", "dimensions": list(spec.key),
                "measures": [{"column": c, "description": f.description}
                             for c, f in spec.model.model_fields.items()],
                "suppression_note": "Company magnitudes in this table pass the disclosure gate: hidden values are "
                                    "empty with a suppression_note." if name == "indicator_observations" else None}
    data_as_of = store.data_as_of.isoformat() if store.data_as_of else None
    return {
        **meta,
        "data_version": store.snapshot_id,
        "data_as_of": data_as_of,
        "filters": filters.to_query_params(),
        "csv": f"{PREFIX}/{name}.csv",
        "citation": f"{exports.CITATION}, dataset {name!r}, version {store.snapshot_id}, data as of {data_as_of}.",
    }


async def list_datasets(request: Request) -> Response:
    del request
    store = _store()
    if store is None:
        return _error(503, "No data is published yet.")
    return JSONResponse({
        "data_version": store.snapshot_id,
        "datasets": [{"name": n, "csv": f"{PREFIX}/{n}.csv", "metadata": f"{PREFIX}/{n}.metadata.json"}
                     for n in dataset_names()],
    })


async def dataset(request: Request) -> Response:
    file = request.path_params["file"]
    suffix = next((s for s in (".metadata.json", ".csv") if file.endswith(s)), None)
    if suffix is None:
        return _error(404, f"Ask for {PREFIX}/<name>.csv or {PREFIX}/<name>.metadata.json.")
    name = file[: -len(suffix)]
    if name not in dataset_names():
        return _error(404, f"There is no published dataset named {name!r}; see {PREFIX} for the list.")
    try:
        filters = _filters(request)
    except (FilterError, ValueError) as exc:
        return _error(400, str(exc))
    store = _store()
    if store is None:
        return _error(503, "No data is published yet.")
    if suffix == ".metadata.json":
        return Response(json.dumps(metadata(store, name, filters), indent=2, default=str),
                        media_type="application/json")
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"', "X-Data-Version": store.snapshot_id}
    try:
        path = await anyio.to_thread.run_sync(exports.table_csv_file, store, PUBLIC, name, filters)
    except OSError:  # no download folder to write to: built in memory, as a small file is
        body = await anyio.to_thread.run_sync(exports.table_csv, store, PUBLIC, name, filters)
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return FileResponse(path, media_type="text/csv; charset=utf-8", headers=headers)


def routes() -> list[BaseRoute]:
    return [
        Route(PREFIX, list_datasets, methods=["GET"]),
        Route(f"{PREFIX}/{{file}}", dataset, methods=["GET"]),
    ]
