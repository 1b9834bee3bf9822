"""The production entrypoint (uvicorn asi_me.ui.asgi:app) in a real browser: every page URL
opens its own screen with no "Page not found" dialog, the Content-Security-Policy holds on
every screen with no violation, frames are allowed for embed views only, and readiness and
metrics answer as an operator's probes expect.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from asi_me.ui.screens import SCREENS

if TYPE_CHECKING:
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser

# Reports every CSP violation the page sees (Chromium also logs each to the console).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(
        `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
});
"""


def _violations(page: Page) -> list[str]:
    return page.evaluate("() => window.__cspViolations || []")


@pytest.fixture
def csp_page(new_app_page: Callable[..., AppPage], asgi_demo_server: StreamlitServer) -> Iterator[AppPage]:
    app = new_app_page(asgi_demo_server)
    app.page.add_init_script(CSP_LISTENER)
    yield app


def _assert_no_dialog(app: AppPage) -> None:
    dialog = app.page.locator('[role="dialog"]')
    assert not dialog.count(), f"{app.page.url} shows a dialog: {dialog.all_inner_texts()}"


@pytest.mark.parametrize("role", ["public", "member", "secretariat"])
def test_every_page_url_opens_its_screen_within_the_security_policy(csp_page: AppPage, role: str) -> None:
    server = csp_page.server
    params = {"role": role} if role != "public" else {}
    from asi_me.data.vocab import Role

    mine = [s for s in SCREENS if Role(role) in s.roles]
    for path, title in [("", SCREENS[0].title), *[(s.url_path, s.title) for s in mine]]:
        csp_page.open(server.page_url(path, **params), heading=title)
        csp_page.page.wait_for_timeout(300)  # charts draw after the run ends
        _assert_no_dialog(csp_page)
        csp_page.assert_healthy()
        assert not _violations(csp_page.page), f"/{path} as {role}: {_violations(csp_page.page)}"
        assert not [c for c in csp_page.app_errors() if "Content Security Policy" in c]


def test_the_map_draws_and_replays_within_the_security_policy(csp_page: AppPage) -> None:
    server = csp_page.server
    csp_page.open(server.page_url("map"), heading="Certification map")
    expect(csp_page.main.locator("canvas").first).to_be_visible(timeout=20_000)
    csp_page.main.get_by_role("button", name="Replay growth", exact=True).click()
    expect(csp_page.main.get_by_text(re.compile("Replaying growth: end of"))).to_be_visible(timeout=20_000)
    # The replay ends by itself and gives back the interactive map.
    expect(csp_page.main.get_by_text(re.compile("Replaying growth: end of"))).to_have_count(0, timeout=60_000)
    csp_page.wait_until_idle()
    expect(csp_page.main.locator("canvas").first).to_be_visible(timeout=20_000)
    assert not _violations(csp_page.page), _violations(csp_page.page)
    csp_page.assert_healthy()


def _headers(url: str) -> dict[str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return {k.lower(): v for k, v in response.headers.items()}


def test_every_answer_carries_the_security_headers(asgi_demo_server: StreamlitServer) -> None:
    for path in ("/", "/outcomes", "/_stcore/health", "/_app/ready"):
        headers = _headers(asgi_demo_server.url + path)
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin", path
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "SAMEORIGIN", path
        assert "frame-ancestors 'self'" in headers["content-security-policy"], path
    embed = _headers(asgi_demo_server.url + "/outcomes?embed=1")
    assert "x-frame-options" not in embed
    assert "frame-ancestors *" in embed["content-security-policy"]


@contextlib.contextmanager
def _partner_site(html: str) -> Iterator[str]:
    """Another origin (a second loopback port) serving one page: a partner's site framing the app.

    A real server, not a fulfilled route: Chromium refuses to let a page of unknown address
    frame a loopback one (Private Network Access), whatever the app's headers say.
    """
    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/partner.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_another_site_may_frame_an_embed_view_only(browser: Browser, asgi_demo_server: StreamlitServer) -> None:
    """A page of another origin frames the app twice: the embed view loads, the full app is refused."""
    html = f"""<html><body>
        <iframe id="embed" src="{asgi_demo_server.url}/outcomes?embed=1" width="800" height="600"></iframe>
        <iframe id="full" src="{asgi_demo_server.url}/outcomes" width="800" height="600"></iframe>
        </body></html>"""
    context = browser.new_context()
    try:
        with _partner_site(html) as partner:
            page = context.new_page()
            page.goto(partner)
            expect(page.frame_locator("#embed").locator('[data-testid="stMain"] h1').first).to_contain_text(
                "Outcomes dashboard", timeout=45_000
            )
            page.wait_for_timeout(1000)  # the full app's frame had as long as the embed's, and more
            full = page.frame_locator("#full").locator('[data-testid="stApp"]')
            assert full.count() == 0, "the full app loaded inside another site's frame"
    finally:
        context.close()


def test_readiness_and_metrics_answer_for_probes(
    csp_page: AppPage, asgi_demo_server: StreamlitServer
) -> None:
    import json

    from asi_me.data.snapshot import current_id

    with urllib.request.urlopen(asgi_demo_server.url + "/_app/ready", timeout=10) as response:
        body = json.loads(response.read())
    assert response.status == 200
    assert body["snapshot_id"] == current_id(asgi_demo_server.data_dir)

    csp_page.open(asgi_demo_server.page_url("toc"), heading="Theory of change")
    with urllib.request.urlopen(asgi_demo_server.url + "/_app/metrics", timeout=10) as response:
        text = response.read().decode()
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    runs = re.search(r'^asi_page_runs_total\{page="toc",role="public"\} (\d+)$', text, re.MULTILINE)
    assert runs and int(runs.group(1)) >= 1, text[:2000]
    assert re.search(r'^asi_websocket_sessions_total (\d+)$', text, re.MULTILINE)
    assert re.search(r'^asi_http_requests_total\{kind="page",status="2xx"\} \d+$', text, re.MULTILINE)
    assert f'asi_snapshot_info{{snapshot_id="{body["snapshot_id"]}"}} 1' in text


def test_the_public_data_api_is_served_by_the_same_process(asgi_demo_server: StreamlitServer) -> None:
    """/api/datasets lists the published datasets; a dataset's CSV and metadata come through
    the disclosure gate of the running app, with the security headers of every answer."""
    import csv
    import io
    import json

    with urllib.request.urlopen(f"{asgi_demo_server.url}/api/datasets", timeout=30) as answer:
        listing = json.loads(answer.read())
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    names = {d["name"] for d in listing["datasets"]}
    assert {"coc_flows", "indicator_observations", "workers_in_ps_certified_facilities"} <= names
    assert "coc_reports" not in names
    url = f"{asgi_demo_server.url}/api/datasets/coc_stage_summary.csv?region=Europe"
    with urllib.request.urlopen(url, timeout=120) as answer:
        rows = list(csv.DictReader(io.StringIO(answer.read().decode("utf-8"))))
        assert answer.headers["X-Data-Version"] == listing["data_version"]
    assert rows and all(r["suppression_note"] or r["output_t"] for r in rows)
    meta_url = f"{asgi_demo_server.url}/api/datasets/coc_stage_summary.metadata.json"
    with urllib.request.urlopen(meta_url, timeout=30) as answer:
        meta = json.loads(answer.read())
    assert meta["data_version"] == listing["data_version"] and "Antitrust" in meta["suppression_note"]


def test_the_server_warms_the_default_views_before_visitors_come(asgi_demo_server: StreamlitServer) -> None:
    """/_app/ready says when the served snapshot's default views are computed (asi_me/ui/warm.py)."""
    from asi_me.data.snapshot import current_id

    deadline = time.monotonic() + 240
    while True:
        with urllib.request.urlopen(asgi_demo_server.url + "/_app/ready", timeout=10) as response:
            body = json.loads(response.read())
        if body.get("warm") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert body["warm"] is True, body
    assert body["warm_snapshot"] == current_id(asgi_demo_server.data_dir)
    assert body["warm_seconds"] > 0
    assert "Warm start of snapshot" in asgi_demo_server.log_path.read_text(encoding="utf-8")
