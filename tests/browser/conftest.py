"""Real Streamlit servers and one headless Chromium for the browser tests.

One server per dataset (the bundled demo snapshot, an empty snapshot) lives for the
whole session; one Chromium is shared and every test gets a fresh browser context,
so cookies and session state never leak between tests. Requests to any host other
than the local server are blocked: the app must work without internet.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, Route, expect, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_DIR = REPO_ROOT
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 60
SERVER_STOP_TIMEOUT_S = 10
APP_RUN_TIMEOUT_MS = 45_000
# How long the app must stay idle (not running, no status widget) to count as finished;
# a page that changes its query params or calls st.rerun starts a second run at once.
SETTLED_FOR_MS = 400
INTERNAL_ERROR = "because of an internal error"
MAX_SCREENSHOT_PX = 8000

# Console messages that are browser or framework noise, not app errors. Each entry:
# (regex on the message text, regex on the source URL or "" for any, why it is harmless).
BENIGN_CONSOLE: list[tuple[str, str, str]] = [
    (
        r"Failed to load resource: the server responded with a status of 404",
        r"/[^/]+/_stcore/(health|host-config)$",
        "Opened at /<page>, Streamlit's frontend first probes <page>/_stcore/... to find the "
        "server base path, gets 404, then falls back to the root.",
    ),
    (
        r"Failed to load resource: net::ERR_FAILED",
        r"^(?!http://127\.0\.0\.1:)",
        "The test blocks every request to another host to prove the app works offline; Chromium "
        "logs each blocked request (tests that care assert AppPage.external_requests).",
    ),
]


@dataclass
class StreamlitServer:
    """A running `streamlit run app.py` on a free local port."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def page_url(self, path: str = "", **params: str | list[str]) -> str:
        """URL of a page (its url_path, "" for the home page) with query parameters."""
        query = urlencode(params, doseq=True)
        return f"{self.url}/{path.strip('/')}" + (f"?{query}" if query else "")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_server(data_dir: Path, log_path: Path) -> StreamlitServer:
    """Start the real app on `data_dir` and wait until /_stcore/health answers."""
    if not (APP_DIR / "app.py").exists():
        pytest.fail(f"{APP_DIR / 'app.py'} does not exist; the browser tests run the real app.")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # The role tests preview member and secretariat views through the demo-only role switch.
    env = {**os.environ, "ASI_DATA_DIR": str(data_dir), "ASI_ALLOW_ROLE_SWITCH": "1", "PYTHONUNBUFFERED": "1"}
    for _attempt in range(3):  # another process may grab the free port before streamlit binds it
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            # Others edit the tree while tests run; a file watcher would rerun sessions mid-test.
            "--server.fileWatcherType", "none",
        ]  # fmt: skip
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=APP_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = StreamlitServer(url, data_dir, process, log_path)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            if _healthy(url):
                return server
            time.sleep(0.2)
        stop_server(server)
        if "already in use" not in server.log_tail():
            break
    pytest.fail(
        f"streamlit did not become healthy at {url} within {SERVER_START_TIMEOUT_S} s "
        f"(exit code {process.poll()}); its log {log_path} ends with:\n{server.log_tail()}"
    )


def stop_server(server: StreamlitServer) -> None:
    """Stop the server's whole process group, politely first, with bounded waits."""
    process = server.process
    if process.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, SERVER_STOP_TIMEOUT_S), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def warm_up(server: StreamlitServer, browser: Browser) -> None:
    """Open the home page once, so that app.py's st.navigation owns routing from here on.

    Until some session has run st.navigation, Streamlit 1.67 resolves a deep link against
    the pages/ folder next to app.py; app.py names every url_path after its file so that
    such a link still opens. test_first_visitor_* checks that window on its own server;
    every other test starts after it. The visit also fills the app's caches.
    """
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url, wait_until="domcontentloaded")
        page.wait_for_selector('[data-testid="stMain"] h1', timeout=APP_RUN_TIMEOUT_MS)
    finally:
        context.close()


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the whole session."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing; install Debian's chromium (scripts/test does) to run the browser tests.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/browser/ (git-ignored): screenshots and server logs."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# ---------------------------------------------------------------- servers


def _demo_data_dir() -> Path:
    data_dir = REPO_ROOT / "data"
    if not (data_dir / "CURRENT").exists():
        pytest.fail(f"{data_dir / 'CURRENT'} is missing; the demo snapshot must be committed (python -m asi_me demo).")
    return data_dir


@pytest.fixture(scope="session")
def demo_server(browser: Browser, artifacts: Path) -> Iterator[StreamlitServer]:
    """The app on the bundled demo snapshot (data/CURRENT).

    `browser` is requested first so that a missing Chromium skips before a server starts.
    """
    server = start_server(_demo_data_dir(), artifacts / "server-demo.log")
    try:
        warm_up(server, browser)
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def cold_demo_server(browser: Browser, artifacts: Path, tmp_path: Path) -> Iterator[StreamlitServer]:
    """A fresh server on the demo data that no session has opened yet (no warm-up), on a copy
    of the data folder with nothing prepared (asi_me/publish/prepared.py): every protected
    figure is worked out when first asked for."""
    import shutil

    data_dir = tmp_path / "data"
    shutil.copytree(_demo_data_dir(), data_dir, ignore=shutil.ignore_patterns("prepared", "downloads"))
    server = start_server(data_dir, artifacts / "server-cold.log")
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def empty_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose current snapshot has every table, each with zero rows."""
    from asi_me.data.snapshot import write_snapshot

    data_dir = tmp_path_factory.mktemp("empty-data")
    write_snapshot(data_dir, {}, note="empty dataset for browser tests")
    return data_dir


@pytest.fixture(scope="session")
def empty_server(browser: Browser, artifacts: Path, empty_data_dir: Path) -> Iterator[StreamlitServer]:
    """The app on an empty snapshot (not marked as demo data, so a link cannot switch role)."""
    server = start_server(empty_data_dir, artifacts / "server-empty.log")
    try:
        warm_up(server, browser)
        yield server
    finally:
        stop_server(server)


# ---------------------------------------------------------------- pages


@dataclass
class ConsoleEntry:
    kind: str
    text: str
    url: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.text} ({self.url or 'no source'})"


def _benign(entry: ConsoleEntry) -> bool:
    return any(
        re.search(text, entry.text) and (not source or re.search(source, entry.url))
        for text, source, _why in BENIGN_CONSOLE
    )


@dataclass
class AppPage:
    """A Playwright page on the app, with the console errors it has logged."""

    page: Page
    server: StreamlitServer
    console: list[ConsoleEntry] = field(default_factory=list)
    log_offset: int = 0
    external_requests: list[str] = field(default_factory=list)  # blocked: another host than the server

    @property
    def server_url(self) -> str:
        return self.server.url

    def server_errors(self) -> str:
        """What the server logged at ERROR level (with tracebacks) since this page was opened."""
        try:
            with self.server.log_path.open("rb") as log:
                log.seek(self.log_offset)
                text = log.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        start = text.find(" ERROR ")
        return text[text.rfind("\n", 0, start) + 1 :][:4000] if start >= 0 else ""

    def open(self, url: str, heading: str | None = None) -> AppPage:
        """Go to `url` and wait until the app has finished running (and shows `heading`)."""
        with contextlib.suppress(OSError):
            self.log_offset = self.server.log_path.stat().st_size
        self.page.goto(url, wait_until="domcontentloaded")
        self.wait_until_idle()
        if heading is not None:
            self.expect_heading(heading)
        return self

    def wait_until_idle(self) -> None:
        """Wait until the script has run, drawn the frame, and stayed idle for SETTLED_FOR_MS.

        Requiring the title matters on a fresh server: Streamlit's legacy pages/ run ends
        with an empty page for a moment before the frame's rerun starts.
        """
        page = self.page
        page.wait_for_selector('[data-testid="stApp"]', timeout=APP_RUN_TIMEOUT_MS)
        page.wait_for_function(
            """(settledFor) => {
                const app = document.querySelector('[data-testid="stApp"]');
                const idle = app && app.dataset.testScriptState === 'notRunning'
                    && app.dataset.testConnectionState === 'CONNECTED'
                    && !document.querySelector('[data-testid="stStatusWidget"]')
                    && !document.querySelector('[data-testid="stSkeleton"]')
                    // the frame has drawn (every screen has a title) or the run failed visibly
                    && document.querySelector('[data-testid="stMain"] h1, [data-testid="stException"]');
                const now = performance.now();
                if (!idle) { window.__asiIdleSince = undefined; return false; }
                if (window.__asiIdleSince === undefined) window.__asiIdleSince = now;
                return now - window.__asiIdleSince >= settledFor;
            }""",
            arg=SETTLED_FOR_MS,
            timeout=APP_RUN_TIMEOUT_MS,
            polling=100,
        )

    @property
    def main(self) -> Locator:
        return self.page.locator('[data-testid="stMain"]')

    def expect_heading(self, heading: str) -> None:
        """The screen's title (app.py writes it as the page's h1) reads `heading`."""
        try:
            expect(self.main.locator("h1").first).to_contain_text(heading, timeout=APP_RUN_TIMEOUT_MS)
        except AssertionError as exc:
            state = self.page.locator('[data-testid="stApp"]').first
            raise AssertionError(
                f"{self.page.url} has no heading {heading!r} (script state "
                f"{state.get_attribute('data-test-script-state')}, connection "
                f"{state.get_attribute('data-test-connection-state')}); the page reads:\n"
                f"{self.page.locator('body').inner_text()[:1500]}\nconsole: {self.console}"
            ) from exc

    def app_errors(self) -> list[str]:
        """Console errors and uncaught exceptions that are not listed as benign."""
        return [str(entry) for entry in self.console if not _benign(entry)]

    def assert_healthy(self) -> None:
        """No exception box, no caught-and-logged internal error, no error in the browser console."""
        exceptions = self.page.locator('[data-testid="stException"]')
        if exceptions.count():
            shown = "\n---\n".join(exceptions.all_inner_texts())
            raise AssertionError(
                f"{self.page.url} shows {exceptions.count()} exception(s):\n{shown}\n"
                f"The server logged:\n{self.server_errors()}"
            )
        # asi_me.ui.widgets.friendly_errors turns an exception into this sentence instead of a traceback.
        caught = self.page.locator('[data-testid="stAlert"]').filter(has_text=INTERNAL_ERROR)
        if caught.count():
            shown = "\n---\n".join(caught.all_inner_texts())
            raise AssertionError(
                f"{self.page.url} shows {caught.count()} internal error(s):\n{shown}\n"
                f"The server logged:\n{self.server_errors()}"
            )
        errors = self.app_errors()
        assert not errors, f"{self.page.url} logged console errors:\n" + "\n".join(errors)

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        """Save test-artifacts/browser/<name>.png for a person to look at."""
        path = ARTIFACTS / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        viewport = self.page.viewport_size
        # Streamlit scrolls inside <main>, not the document, so Playwright's full_page sees one
        # screen only: grow the window to the content's height for the picture, then restore it.
        height = self.page.evaluate(
            """() => Math.max(...['stMain', 'stSidebarContent'].map(
                id => document.querySelector(`[data-testid="${id}"]`)?.scrollHeight ?? 0))"""
        )
        if full_page and viewport and height > viewport["height"]:
            self.page.set_viewport_size({"width": viewport["width"], "height": min(int(height), MAX_SCREENSHOT_PX)})
            self.page.wait_for_timeout(300)  # let charts settle into the new size
            self.page.screenshot(path=str(path))
            self.page.set_viewport_size(viewport)
        else:
            self.page.screenshot(path=str(path))
        return path

    def pixels_near(self, element: Locator, colours: list[tuple[int, int, int]], tolerance: int = 40) -> int:
        """How many pixels of `element`, as drawn on screen, are close to one of `colours`."""
        return _count_pixels_near(element.screenshot(), colours, tolerance)


def _count_pixels_near(png: bytes, colours: list[tuple[int, int, int]], tolerance: int = 40) -> int:
    """How many pixels of a screenshot lie within `tolerance` (per channel) of any of `colours`."""
    import numpy as np
    from PIL import Image  # a dependency of streamlit

    with Image.open(io.BytesIO(png)) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    near = np.zeros(rgb.shape[:2], dtype=bool)
    for colour in colours:
        near |= (np.abs(rgb - np.array(colour, dtype=np.int16)) <= tolerance).all(axis=2)
    return int(near.sum())


@pytest.fixture
def new_app_page(browser: Browser) -> Iterator[Callable[..., AppPage]]:
    """Factory: a page in a fresh browser context on a given server, local requests only."""
    contexts: list[BrowserContext] = []

    def make(server: StreamlitServer, width: int = 1440, height: int = 900, **options: Any) -> AppPage:
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        local = urlsplit(server.url).netloc

        page = context.new_page()
        app_page = AppPage(page, server)

        def route(route: Route) -> None:
            if urlsplit(route.request.url).netloc == local or route.request.url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                app_page.external_requests.append(route.request.url)
                route.abort()

        context.route("**/*", route)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                location = message.location or {}
                app_page.console.append(ConsoleEntry("console", message.text, location.get("url", "")))

        page.on("console", on_console)
        page.on("pageerror", lambda error: app_page.console.append(ConsoleEntry("pageerror", str(error), page.url)))
        return app_page

    yield make
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()


# ---------------------------------------------------------------- the production entrypoint


def start_asgi_server(
    data_dir: Path, log_path: Path, env: dict[str, str] | None = None, port: int | None = None
) -> StreamlitServer:
    """Start the app as production serves it (`uvicorn asi_me.ui.asgi:app`, see deploy/) on a free
    local port and wait until `/_app/ready` answers 200. `env` adds or overrides variables
    (e.g. HOME, whose .streamlit/secrets.toml configures login); `port` fixes the port (a login
    redirect URI names it)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ, "ASI_DATA_DIR": str(data_dir), "ASI_ALLOW_ROLE_SWITCH": "1", "PYTHONUNBUFFERED": "1",
        "ASI_LOG_FORMAT": "text", **(env or {}),
    }
    for _attempt in range(1 if port else 3):  # another process may grab a free port before uvicorn binds it
        port = port or _free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "uvicorn", "asi_me.ui.asgi:app", "--host", "127.0.0.1", "--port", str(port)]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=APP_DIR, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = StreamlitServer(url, data_dir, process, log_path)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            with (
                contextlib.suppress(urllib.error.URLError, OSError),
                urllib.request.urlopen(f"{url}/_app/ready", timeout=2) as response,
            ):
                if response.status == 200:
                    return server
            time.sleep(0.2)
        stop_server(server)
        if "address already in use" not in server.log_tail().lower():
            break
    pytest.fail(
        f"uvicorn asi_me.ui.asgi:app did not become ready at {url} within {SERVER_START_TIMEOUT_S} s "
        f"(exit code {process.poll()}); its log {log_path} ends with:\n{server.log_tail()}"
    )


@pytest.fixture(scope="session")
def asgi_demo_server(browser: Browser, artifacts: Path) -> Iterator[StreamlitServer]:
    """The demo snapshot served through the ASGI entrypoint (headers, readiness, metrics)."""
    server = start_asgi_server(_demo_data_dir(), artifacts / "server-asgi.log")
    try:
        warm_up(server, browser)
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def asgi_server_control() -> tuple[Callable[..., StreamlitServer], Callable[[StreamlitServer], None]]:
    """(start_asgi_server, stop_server), for tests that start a server with their own settings."""
    return start_asgi_server, stop_server
