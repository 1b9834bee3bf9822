"""Built download files served as a stream, by a short-lived link only their viewer was given.

A whole table of millions of rows, the zip and the workbook are written to the download
folder (asi_me/publish/download_cache.py, `cached_file`) by the Data screen, for one viewer
scope. The screen then gives that viewer a link:

    GET /_app/files/<cache key>?token=<token>

`issue` makes the token: 32 random bytes, unguessable, remembered by this process with the
one file it opens and when it lapses (LINK_SECONDS). The route sends the file in chunks
(Starlette's FileResponse reads 64 kB at a time), so serving a 2 GB CSV holds no more than
that in memory. A token opens only the file it was issued for: another file's key, a token
never issued, one that has lapsed or a file gone from the folder are refused with 403 or
410 and a sentence saying what to do. A token is issued only in a page run that checked the
viewer may have the file (the file's key already names the viewer's scope: role, company,
filters, disclosure policy and snapshot), so a viewer never gets a link to another's file.

The route is served beside the app by the ASGI entrypoint (asi_me/ui/asgi.py), which says so
with `set_serving` for as long as it runs. `streamlit run app.py` serves no such route: the
Data screen then hands the built file to st.download_button, which reads it whole into
memory (see docs/performance.md, "Downloads"). Tokens live in the process that issued them;
behind several replicas the asi_route cookie (deploy/nginx.conf) brings the browser's GET
back to that process.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

PREFIX = "/_app/files"
LINK_SECONDS = 30 * 60  # how long a link opens its file
RENEW_SECONDS = 10 * 60  # a page run gives a fresh link when less than this is left
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")  # a download_cache.file_key: no dot, no slash
_lock = threading.Lock()
_serving = threading.Event()


@dataclass(frozen=True)
class Grant:
    """What one token opens: one built file, under the name and type it is downloaded as."""

    path: Path
    file_name: str
    mime: str
    expires: float  # time.monotonic()

    @property
    def key(self) -> str:
        return self.path.name


_grants: dict[str, Grant] = {}


def set_serving(on: bool) -> None:
    """Whether this process serves the route now (the ASGI entrypoint's lifespan says so)."""
    if on:
        _serving.set()
    else:
        _serving.clear()


def is_serving() -> bool:
    """Whether a link handed out now would be answered by this process."""
    return _serving.is_set()


def issue(path: Path, file_name: str, mime: str, seconds: float = LINK_SECONDS) -> tuple[str, Grant]:
    """A fresh token for the built file `path` and what it opens. Call it only for a viewer
    entitled to the file. Lapsed tokens are forgotten here."""
    now = time.monotonic()
    grant = Grant(path=Path(path), file_name=file_name, mime=mime, expires=now + seconds)
    token = secrets.token_urlsafe(32)
    with _lock:
        for old in [t for t, g in _grants.items() if g.expires <= now]:
            del _grants[old]
        _grants[token] = grant
    return token, grant


def url(token: str, grant: Grant) -> str:
    """The link, relative to the page (so it works under a base URL path too)."""
    return f"{PREFIX.lstrip('/')}/{grant.key}?token={token}"


def link(path: Path, file_name: str, mime: str) -> str:
    """`url(*issue(...))`: a link to the built file for the viewer of this page run."""
    return url(*issue(path, file_name, mime))


class Refused(Exception):
    """Why a link does not open its file; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


AGAIN = "Prepare the download again on the Data screen to get a new link."


def resolve(key: str, token: str) -> Grant:
    """The grant of `token` when it is valid, unlapsed, issued for the file `key` and the
    file is still there; else raises Refused."""
    with _lock:
        grant = _grants.get(token) if token else None
    if grant is None or not _KEY.fullmatch(key):
        raise Refused(403, f"This download link is not valid. {AGAIN}")
    if not secrets.compare_digest(grant.key, key):
        raise Refused(403, f"This download link was issued for another file. {AGAIN}")
    if grant.expires <= time.monotonic():
        with _lock:
            _grants.pop(token, None)
        raise Refused(410, f"This download link has expired. {AGAIN}")
    if not grant.path.is_file():
        raise Refused(410, f"This file is no longer kept on the server. {AGAIN}")
    return grant


async def serve(request: Request) -> Response:
    try:
        grant = resolve(request.path_params["key"], request.query_params.get("token", ""))
    except Refused as refusal:
        return JSONResponse({"error": str(refusal)}, status_code=refusal.status,
                            headers={"Cache-Control": "no-store"})
    # The file is opened when the answer starts and read in chunks; a rename replacing it
    # meanwhile leaves this answer reading the file it opened.
    return FileResponse(grant.path, media_type=grant.mime, filename=grant.file_name,
                        headers={"Cache-Control": "private, no-store"})


def routes() -> list[BaseRoute]:
    return [Route(f"{PREFIX}/{{key}}", serve, methods=["GET", "HEAD"])]
