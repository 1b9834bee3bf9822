"""Payload and concurrency against a real `streamlit run app.py` on a loopback port.

Payload: the bytes each page sends to the browser, measured two ways:
- `ws_bytes`: a headless Chromium (Debian's /usr/bin/chromium via Playwright) opens the
  page and every websocket frame it receives is counted (page.on("websocket")), plus
  the bodies of non-static HTTP responses (media, components); the JavaScript bundle,
  the same for every page and cached by the browser, is reported separately;
- `protocol_bytes`: a plain websocket client speaking Streamlit's protobuf protocol
  sums the ForwardMsg frames of one page run (no browser; same messages).

Concurrency: 1, 10, 25, 50 public sessions (each its own websocket, as a browser tab
would open) start the home page at once; each records the time from sending the run
request to the server's "script finished". The server's RSS is read before and after
each wave while the sessions are still connected. Loops are bounded and the server is
stopped at the end.

    python benchmarks/server_bench.py --data-dir DIR --sessions 1 --sessions 10 --json OUT
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import Server, start_server, stats_ms, stop_server, write_json

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
LIMITS = {"run_timeout_s": 120.0}  # seconds a session may wait for its run (--run-timeout)
SETTLE_S = 0.8  # a run that changes query params or calls st.rerun starts again at once


@dataclass
class PageRun:
    """What one session received for one page run."""

    seconds: float = 0.0
    bytes: int = 0
    messages: int = 0
    exceptions: list[str] = field(default_factory=list)
    pages: list[tuple[str, str]] = field(default_factory=list)  # (url_pathname, page_name) from navigation
    finished: bool = False


# ---------------------------------------------------------------- websocket protocol client


def _rerun_message(page: str, query: str = "") -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    msg.rerun_script.page_script_hash = ""
    return msg.SerializeToString()


async def _receive_run(ws: Any, started: float) -> PageRun:
    """Read ForwardMsgs until the script finished and nothing new started for SETTLE_S."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    run = PageRun()
    deadline = started + LIMITS["run_timeout_s"]
    while time.perf_counter() < deadline:
        timeout = SETTLE_S if run.finished else max(0.1, deadline - time.perf_counter())
        try:
            data = await asyncio.wait_for(ws.recv(), timeout=timeout)
        except TimeoutError:
            if run.finished:
                break
            continue
        run.bytes += len(data)
        run.messages += 1
        msg = ForwardMsg()
        msg.ParseFromString(data)
        kind = msg.WhichOneof("type")
        if kind == "script_finished":
            if msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY and not run.finished:
                run.seconds = time.perf_counter() - started
                run.finished = True
        elif kind == "navigation":
            run.pages = [(p.url_pathname, p.page_name) for p in msg.navigation.app_pages]
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            if element.WhichOneof("type") == "exception":
                run.exceptions.append(f"{element.exception.type}: {element.exception.message}"[:300])
    return run


async def ws_session(server: Server, page: str, hold: asyncio.Event | None = None,
                     done: list[PageRun] | None = None) -> PageRun:
    """One session: connect, run `page` (url path, "" = home); with `hold`, report the run in
    `done` and stay connected until `hold` is set (so RSS is read with every session open)."""
    import websockets

    uri = f"ws://127.0.0.1:{server.port}/_stcore/stream"
    async with websockets.connect(uri, subprotocols=["streamlit"], max_size=None, open_timeout=60,
                                  ping_interval=None) as ws:
        started = time.perf_counter()
        await ws.send(_rerun_message(page))
        run = await _receive_run(ws, started)
        if done is not None:
            done.append(run)
        if hold is not None:
            await hold.wait()
        return run


async def concurrency_wave(server: Server, sessions: int, pause_s: float = 1.0) -> dict[str, Any]:
    """`sessions` public sessions start the home page at once, after `pause_s` of quiet; times to
    finished and RSS growth."""
    await asyncio.sleep(pause_s)
    rss_before = server.rss_mb()
    hold = asyncio.Event()
    done: list[PageRun] = []
    tasks = [asyncio.create_task(ws_session(server, "", hold, done)) for _ in range(sessions)]
    deadline = time.perf_counter() + LIMITS["run_timeout_s"] * 2
    while time.perf_counter() < deadline and len(done) + sum(1 for t in tasks if t.done()) < sessions:
        await asyncio.sleep(0.05)
    rss_after = server.rss_mb()
    hold.set()
    runs = await asyncio.gather(*tasks, return_exceptions=True)
    ok = [r for r in runs if isinstance(r, PageRun) and r.finished]
    errors = [repr(r)[:200] for r in runs if not isinstance(r, PageRun)]
    out: dict[str, Any] = {
        "sessions": sessions,
        "finished": len(ok),
        "errors": errors[:3],
        "exceptions": sorted({e for r in ok for e in r.exceptions})[:3],
        "rss_before_mb": round(rss_before, 1),
        "rss_after_mb": round(rss_after, 1),
        "rss_per_session_mb": round((rss_after - rss_before) / sessions, 3),
    }
    if ok:
        out |= {f"time_{k}": v for k, v in stats_ms([r.seconds for r in ok]).items()}
    return out


def _cpu_s(pid: int) -> float:
    """User + system CPU time of a process, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def sequential_cost(server: Server, page: str, runs: int) -> dict[str, Any]:
    """Server CPU per warm run of `page`, one session after another: what each extra session costs,
    whatever else the machine is doing (wall time under load is in the waves)."""
    await ws_session(server, page)  # fill the caches
    cpu, wall = [], []
    for _ in range(runs):
        c0 = _cpu_s(server.process.pid)
        run = await ws_session(server, page)
        # the settle wait after "finished" adds no server CPU
        cpu.append(_cpu_s(server.process.pid) - c0)
        wall.append(run.seconds)
    return {"page": page or "home", "runs": runs, "server_cpu_ms_median": round(1000 * statistics.median(cpu)),
            "wall_ms_median": round(1000 * statistics.median(wall))}


async def _waves(server: Server, levels: list[int]) -> list[dict[str, Any]]:
    # one wave after another, never overlapping
    return [await concurrency_wave(server, sessions) for sessions in levels]


# ---------------------------------------------------------------- Chromium


def chromium_payloads(server: Server, pages: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Per page: websocket bytes a fresh Chromium context receives, and non-static HTTP bytes."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for url_path, title in pages:
                context = browser.new_context()
                # Offline: only the local server answers (basemap tiles, fonts, telemetry are blocked).
                context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url)
                              else route.abort())
                counts = {"ws_bytes": 0, "ws_frames": 0, "ws_sent_bytes": 0, "http_dynamic_bytes": 0,
                          "http_static_bytes": 0}

                def on_ws(ws: Any, counts: dict[str, int] = counts) -> None:
                    def received(payload: Any) -> None:
                        counts["ws_bytes"] += len(payload)
                        counts["ws_frames"] += 1

                    def sent(payload: Any) -> None:
                        counts["ws_sent_bytes"] += len(payload)

                    ws.on("framereceived", received)
                    ws.on("framesent", sent)

                def on_response(response: Any, counts: dict[str, int] = counts) -> None:
                    if not response.url.startswith(server.url):
                        return
                    try:
                        size = len(response.body())
                    except Exception:
                        return
                    key = "http_static_bytes" if "/static/" in response.url else "http_dynamic_bytes"
                    counts[key] += size

                page = context.new_page()
                page.on("websocket", on_ws)
                page.on("response", on_response)
                entry: dict[str, Any] = {"page": title, "url_path": url_path}
                try:
                    t0 = time.perf_counter()
                    page.goto(f"{server.url}/{url_path}", wait_until="domcontentloaded", timeout=60_000)
                    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                                           timeout=int(LIMITS["run_timeout_s"] * 1000))
                    entry["first_render_ms"] = round(1000 * (time.perf_counter() - t0), 1)
                    page.wait_for_timeout(int(SETTLE_S * 1000))
                    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                                           timeout=int(LIMITS["run_timeout_s"] * 1000))
                    entry["exceptions"] = page.locator('[data-testid="stException"]').count()
                except Exception as exc:
                    entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
                entry.update(counts)
                out.append(entry)
                context.close()
        finally:
            browser.close()
    return out


# ---------------------------------------------------------------- main


async def _protocol_payloads(server: Server) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    home = await ws_session(server, "")
    pages = home.pages or [("", "home")]
    out = []
    for url_path, title in pages:
        first = await ws_session(server, url_path)
        second = await ws_session(server, url_path)
        out.append({"page": title, "url_path": url_path, "protocol_bytes": second.bytes,
                    "messages": second.messages, "server_cold_ms": round(1000 * first.seconds, 1),
                    "server_warm_ms": round(1000 * second.seconds, 1), "finished": second.finished,
                    "exceptions": second.exceptions[:3]})
    return pages, out


def run(data_dir: Path, levels: list[int], browser: bool, log_dir: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"payload_method": "websocket frames received by headless Chromium (ws_bytes); "
                              "ForwardMsg bytes over a protocol-level websocket client (protocol_bytes)",
                              "concurrency_method": "one protocol-level websocket per session, home page, "
                              "public viewer, all started at once"}
    server = start_server(data_dir, log_dir / "server.log")
    try:
        result["server_rss_start_mb"] = round(server.rss_mb(), 1)
        pages, protocol = asyncio.run(_protocol_payloads(server))
        result["protocol_payload"] = protocol
        if browser:
            if CHROMIUM.exists():
                try:
                    result["browser_payload"] = chromium_payloads(server, pages)
                except Exception as exc:
                    result["browser_payload_error"] = f"{type(exc).__name__}: {exc}"[:500]
            else:
                result["browser_payload_error"] = f"{CHROMIUM} is missing; install Debian's chromium."
        result["sequential_cost"] = asyncio.run(sequential_cost(server, "", 5))
        result["concurrency"] = asyncio.run(_waves(server, levels))
        result["server_rss_end_mb"] = round(server.rss_mb(), 1)
    finally:
        with contextlib.suppress(Exception):
            result["server_log_tail"] = server.log_tail(5)
        stop_server(server)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--sessions", type=int, action="append", help="concurrent sessions per wave")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--run-timeout", type=float, default=LIMITS["run_timeout_s"],
                        help="seconds a session may wait for its run")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    LIMITS["run_timeout_s"] = args.run_timeout
    levels = args.sessions or [1, 10, 25, 50]
    result = run(args.data_dir.resolve(), levels, not args.no_browser, args.json.parent)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
