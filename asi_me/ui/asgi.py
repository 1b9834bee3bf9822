"""The production entrypoint: the Streamlit app (app.py) as one ASGI application for uvicorn.

    uvicorn asi_me.ui.asgi:app --host 0.0.0.0 --port 8501

One process then serves, beside the app's pages and Streamlit's own routes:
- `/_app/ready`: 200 with the current snapshot id when data/CURRENT's snapshot opens, else 503
  (`?warm=1`: 503 until the warm start has also computed its default views);
- `/_app/metrics`: request, session and page-run metrics in Prometheus text format;
- `/_app/files/<key>?token=...`: a built download (a whole table's CSV, the zip, the workbook)
  streamed from the download folder to the viewer the Data screen gave the link to
  (asi_me/publish/file_links.py);
- the routes of `api_routes()` (the data API lives under `/api/...`);
and every HTTP answer carries the security headers of `SecurityHeaders`. `streamlit run
app.py` still works for development (without these routes and headers; the Data screen then
hands large downloads to st.download_button, which holds them in memory).

Streamlit 1.67's `st.App(script, routes=..., middleware=..., lifespan=...)` takes the
extra routes and middleware when it is built; its own routes (`/_stcore/...`, `/static/...`,
`/media/...`, `/component/...`) are reserved and cannot be shadowed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio.to_thread
import streamlit as st
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from asi_me.data.readiness import readiness
from asi_me.data.snapshot import current_id
from asi_me.publish import file_links
from asi_me.settings import Settings
from asi_me.ui import warm
from asi_me.ui.observe import METRICS, configure_logging
from asi_me.ui.share_script import SHARE_LINK_SCRIPT, script_hash

log = logging.getLogger("asi_me.asgi")

ROOT = Path(__file__).resolve().parents[2]
APP_SCRIPT = ROOT / "app.py"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# ---------------------------------------------------------------- readiness
# asi_me/data/readiness.py: 200 only when a snapshot that verifies (CURRENT's, or the latest earlier
# one when CURRENT's is damaged) opens; 503 otherwise.


async def ready(request: Request) -> Response:
    """200 when the snapshot opens. With `?warm=1` (for a proxy or orchestrator that should send
    visitors only to a warmed replica), 503 until the warm start has computed the served
    snapshot's default views too."""
    data_dir = Settings.from_env().data_dir
    result = await anyio.to_thread.run_sync(readiness, data_dir)
    warmth = warm.status()
    body = {"ok": result.ok, "snapshot_id": result.snapshot_id, "reason": result.reason, **warmth}
    status = result.status
    if request.query_params.get("warm") == "1" and status == 200 and not (
            warmth.get("warm") and warmth.get("warm_snapshot") == result.snapshot_id):
        body |= {"ok": False, "reason": "the default views of this snapshot are still being computed"}
        status = 503
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------- metrics


async def metrics(request: Request) -> Response:
    snapshot = current_id(Settings.from_env().data_dir)
    METRICS.clear_gauge("asi_snapshot_info")
    if snapshot:
        METRICS.set_gauge("asi_snapshot_info", 1, snapshot_id=snapshot)
    return PlainTextResponse(
        METRICS.render(), media_type="text/plain; version=0.0.4", headers={"Cache-Control": "no-store"}
    )


def _path_kind(path: str) -> str:
    """A bounded label for a request path (never the raw path: it would grow without end)."""
    if path.startswith("/_stcore/stream"):
        return "websocket"
    if path.startswith("/_stcore/"):
        return "stcore"
    if path.startswith("/_app/"):
        return "app"
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/static/"):
        return "static"
    if path.startswith(("/media/", "/component/")):
        return "media"
    if path.startswith(("/auth/", "/oauth2callback")):
        return "auth"
    return "page"


class RequestMetrics:
    """Counts requests and their durations, and the WebSocket sessions connected."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            METRICS.add_gauge("asi_websocket_sessions", 1)
            METRICS.inc("asi_websocket_sessions_total")
            try:
                await self.app(scope, receive, send)
            finally:
                METRICS.add_gauge("asi_websocket_sessions", -1)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = _path_kind(scope.get("path", ""))
        started = time.perf_counter()
        status = {"code": 500}

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            METRICS.inc("asi_http_requests_total", kind=kind, status=f"{status['code'] // 100}xx")
            METRICS.observe("asi_http_request_duration_seconds", time.perf_counter() - started, kind=kind)


# ---------------------------------------------------------------- security headers

def _inline_script_hashes() -> list[str]:
    """CSP hashes of the inline scripts in Streamlit's index.html (one line today), read from the
    installed package so that an upgrade that changes them keeps the page working."""
    html = (Path(st.__file__).parent / "static" / "index.html").read_text(encoding="utf-8")
    bodies = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.DOTALL)
    return [f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'" for body in bodies]


# What the app's own pages need: Streamlit's bundle and its lazily loaded chunks ('self'),
# the inline scripts of its index.html and the "Copy link" script (by hash), Vega's expression compiler ('unsafe-eval'),
# emotion's style tags ('unsafe-inline' styles),
# data: and blob: images (the favicon, chart exports), blob: workers (deck.gl), the
# WebSocket back to this origin, deck.gl's data: basemap style. Nothing from another host: the app works offline.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    " ".join(["script-src 'self' 'unsafe-eval'", *_inline_script_hashes(), script_hash(SHARE_LINK_SCRIPT)]),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self' data: blob:",
    "worker-src 'self' blob:",
    "child-src 'self' blob:",
    "frame-src 'self' blob: data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])


def embed_ancestors() -> str:
    """Who may frame an embed view: ASI_EMBED_ANCESTORS (space-separated origins), default any site.

    An embedded view is always public: the login cookie is SameSite=Lax, so a browser
    never sends it inside another site's frame.
    """
    return (os.environ.get("ASI_EMBED_ANCESTORS") or "*").strip()


def _is_embed(query_string: bytes) -> bool:
    values = parse_qs(query_string.decode("latin-1")).get("embed", [])
    return any(v.strip().lower() in {"1", "true"} for v in values)


class SecurityHeaders:
    """Adds the Content-Security-Policy, X-Content-Type-Options, Referrer-Policy and frame
    rules to every HTTP answer: pages may be framed by this origin only, except views
    opened with `?embed=1` (or Streamlit's `?embed=true`), which the sites of
    ASI_EMBED_ANCESTORS may frame."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        embed = _is_embed(scope.get("query_string", b""))
        ancestors = embed_ancestors() if embed else "'self'"
        extra = [
            (b"content-security-policy", f"{CONTENT_SECURITY_POLICY}; frame-ancestors {ancestors}".encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if not embed:
            extra.append((b"x-frame-options", b"SAMEORIGIN"))
        names = {name for name, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ---------------------------------------------------------------- routes


def api_routes() -> list[BaseRoute]:
    """Further routes served beside the app (the public data API under `/api/...`).

    Add a module's routes here, e.g. `routes.extend(asi_me.publish.api.routes())`. Paths
    under /_stcore/, /static/, /media/ and /component/ are Streamlit's and are refused.
    """
    from asi_me.publish import api  # noqa: PLC0415 - the data API is built with the app, not on import

    routes: list[BaseRoute] = []
    routes.extend(api.routes())
    return routes


def app_routes() -> list[BaseRoute]:
    return [
        Route("/_app/ready", ready, methods=["GET", "HEAD"]),
        Route("/_app/metrics", metrics, methods=["GET"]),
        *file_links.routes(),
    ]


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
    configure_logging()
    data_dir = Settings.from_env().data_dir
    log.info("ASI M&E Explorer serving %s from %s", json.dumps(current_id(data_dir)), data_dir)
    warmer = warm.start(Settings.from_env()) if os.environ.get("ASI_WARM_START", "1") != "0" else None
    file_links.set_serving(True)  # the Data screen may now link to built files
    yield {}
    file_links.set_serving(False)
    if warmer is not None:
        warmer.stop()
    log.info("ASI M&E Explorer stopping")


def build_app(extra_routes: Sequence[BaseRoute] = ()) -> st.App:
    """The Streamlit app with the readiness and metrics routes, `extra_routes` and the headers.

    Logging is set up here, when uvicorn imports the module, so that its own start-up lines
    are JSON lines too."""
    configure_logging()
    return st.App(
        APP_SCRIPT,
        routes=[*app_routes(), *extra_routes],
        middleware=[Middleware(RequestMetrics), Middleware(SecurityHeaders)],
        lifespan=lifespan,
    )


app = build_app(api_routes())
