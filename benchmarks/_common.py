"""Helpers shared by the benchmark scripts: timing statistics, process memory, a real server.

Every script in benchmarks/ runs as its own process (`python benchmarks/<name>.py ...`),
started by `python -m asi_me bench`, and writes one JSON document to the path it is given.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

SERVER_START_TIMEOUT_S = 90


def stats_ms(samples_s: list[float]) -> dict[str, float | int]:
    """Median, p95, min and max of timings given in seconds, in milliseconds."""
    ordered = sorted(samples_s)
    p95_index = min(len(ordered) - 1, max(0, round(0.95 * (len(ordered) - 1))))
    return {
        "median_ms": round(1000 * statistics.median(ordered), 2),
        "p95_ms": round(1000 * ordered[p95_index], 2),
        "min_ms": round(1000 * ordered[0], 2),
        "max_ms": round(1000 * ordered[-1], 2),
        "runs": len(ordered),
    }


def time_call(fn: Callable[[], Any], reps: int, budget_s: float = 20.0) -> tuple[dict[str, float | int], Any]:
    """Run `fn` up to `reps` times (fewer if the time budget runs out) and return stats and the last result."""
    samples: list[float] = []
    result: Any = None
    started = time.perf_counter()
    for _ in range(max(1, reps)):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
        if time.perf_counter() - started > budget_s:
            break
    return stats_ms(samples), result


def _status_kb(pid: int | str, field: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process, MB."""
    return _status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident set size (high-water mark) of a process, MB."""
    return _status_kb(pid, "VmHWM") / 1024


def reset_peak_rss() -> bool:
    """Reset this process's high-water mark to its current RSS (Linux >= 4.0); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- a real server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str, path: str = "/_stcore/health") -> bool:
    try:
        with urllib.request.urlopen(f"{url}{path}", timeout=2) as response:  # loopback only
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Server:
    """`streamlit run app.py` on a free loopback port, in its own process group."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def rss_mb(self) -> float:
        """RSS of the server process (streamlit runs the app in this one process)."""
        return rss_mb(self.process.pid)


def start_server(data_dir: Path, log_path: Path, script: str | Path = "app.py", *, deployed: bool = False,
                 wait_for: str = "/_stcore/health") -> Server:
    """Start the app on `data_dir` and wait for `wait_for` to answer 200; raise RuntimeError with the log if it fails.

    `script` is what `streamlit run` runs (the app by default; the browser benchmark runs an
    empty page beside it to measure what Streamlit's own shell costs). `deployed` starts the app
    as deploy/ does instead: `uvicorn asi_me.ui.asgi:app`, whose warm start computes every
    public screen's default view when the server starts (asi_me/ui/warm.py); `wait_for` may
    then be "/_app/ready" (answers 200 once the snapshot opens; `/_app/ready?warm=1` once warmed too)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ASI_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    last = ""
    for _attempt in range(3):  # another process may take the free port before streamlit binds it
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable, "-m", "uvicorn", "asi_me.ui.asgi:app", "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log",
        ] if deployed else [
            sys.executable, "-m", "streamlit", "run", str(script),
            "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        ]  # fmt: skip
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = Server(url, port, process, log_path)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            if _healthy(url, wait_for):
                return server
            time.sleep(0.2)
        stop_server(server)
        last = server.log_tail()
        if "already in use" not in last:
            break
    raise RuntimeError(f"streamlit did not become healthy on {data_dir}; its log ends with:\n{last}")


def stop_server(server: Server) -> None:
    """Stop the server's process group (the one this script started), politely first."""
    process = server.process
    if process.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue
