"""Cold burst: the server restarted, then N public sessions at once on the home page.

For each burst size and each way of starting (MODES) the server is started afresh on a free
loopback port and N sessions connect together, each over its own websocket (server_bench.py's
protocol-level client, as a browser tab would), and ask for the home page:

- "deployed": `uvicorn asi_me.ui.asgi:app` as deploy/ runs it, the sessions arriving as soon
  as it answers its health check, while its warm start (asi_me/ui/warm.py) is still computing
  the default views: a restart with visitors waiting;
- "deployed, warmed": the same, the sessions arriving once `/_app/ready` says the warm start
  has finished (what a proxy that routes by readiness, or a visitor a few seconds later, gets);
- "streamlit run": the development server, no warm start, sessions at its health check.
 Each session's time runs from its run request to the server's "script
finished"; a session that does not finish within the run timeout, or whose connection fails,
is a failure. The server's RSS is read before the burst and with every session still open.

This is what the first visitors after a restart or a deployment wait; server_bench.py's waves
measure the same sessions on a server whose caches are already filled.

    python benchmarks/burst_bench.py --data-dir DIR --sessions 50 --sessions 100 --json OUT
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import start_server, stop_server, write_json
from server_bench import LIMITS, concurrency_wave

MODES = ("deployed", "deployed, warmed", "streamlit run")
WARM_TIMEOUT_S = 600.0


def _warmed(url: str) -> float | None:
    """Wait until /_app/ready says the warm start finished; its own figure of how long it took."""
    deadline = time.monotonic() + WARM_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError), urllib.request.urlopen(f"{url}/_app/ready", timeout=5) as answer:
            body = json.loads(answer.read())  # loopback only
            if body.get("warm"):
                return body.get("warm_seconds")
        time.sleep(0.25)
    raise RuntimeError(f"the warm start did not finish within {WARM_TIMEOUT_S:.0f} s")


def cold_burst(data_dir: Path, sessions: int, log_dir: Path, mode: str = "deployed") -> dict[str, Any]:
    """Restart the server (as `mode` says) and start `sessions` home-page sessions at once."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    server = start_server(data_dir, log_dir / "burst-server.log", deployed=mode.startswith("deployed"))
    start_s = time.perf_counter() - started
    try:
        warm_s = _warmed(server.url) if mode == "deployed, warmed" else None
        wave = asyncio.run(concurrency_wave(server, sessions, pause_s=0.0))
    finally:
        tail = ""
        with contextlib.suppress(Exception):
            tail = server.log_tail(5)
        stop_server(server)
    wave |= {"mode": mode, "failed": sessions - wave["finished"], "server_start_ms": round(1000 * start_s, 1),
             "load_average_at_start": round(load, 2), **({"warm_start_s": warm_s} if warm_s is not None else {})}
    if wave["failed"]:
        wave["server_log_tail"] = tail
    return wave


def run(data_dir: Path, levels: list[int], log_dir: Path, modes: list[str]) -> dict[str, Any]:
    return {
        "method": "the server restarted before each burst (deployed: uvicorn asi_me.ui.asgi:app with its warm "
                  "start, the sessions at its health check or once warmed; streamlit run: no warm start); one "
                  "protocol-level websocket each, home page, public viewer, all started at once; time from each "
                  "session's run request to its script finished",
        "run_timeout_s": LIMITS["run_timeout_s"],
        "bursts": [cold_burst(data_dir, sessions, log_dir, mode) for mode in modes for sessions in levels],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--sessions", type=int, action="append", help="sessions of one burst; repeatable")
    parser.add_argument("--run-timeout", type=float, default=LIMITS["run_timeout_s"],
                        help="seconds a session may wait for its run")
    parser.add_argument("--mode", action="append", choices=MODES, help="how the server starts; repeatable "
                        "(default: every mode)")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    LIMITS["run_timeout_s"] = args.run_timeout
    write_json(args.json, run(args.data_dir.resolve(), args.sessions or [50, 100], args.json.parent,
                              args.mode or list(MODES)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
