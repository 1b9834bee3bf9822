"""Scale-out over replicas: nginx (Debian's package) in front of N `uvicorn asi_me.ui.asgi:app`
replicas on loopback, the deploy kit's own nginx.conf with loopback upstreams.

`render_nginx_conf()` is what the tests and the benchmark use to run deploy/nginx.conf
outside compose: it replaces the replicas block and points every path nginx writes at a
folder of its own.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = REPO_ROOT / "deploy" / "nginx.conf"
REPLICAS_BLOCK = re.compile(r"(# BEGIN replicas[^\n]*\n)(.*?)(\s*# END replicas)", re.DOTALL)


def render_nginx_conf(upstreams: Sequence[str], listen: str, runtime_dir: Path, template: str | None = None) -> str:
    """deploy/nginx.conf with `upstreams` ("127.0.0.1:8501", ...) as its replicas, listening on
    `listen` ("127.0.0.1:8080") and writing its pid and temporary files under `runtime_dir`."""
    if not upstreams:
        raise ValueError("nginx needs at least one replica to send requests to; pass e.g. ['127.0.0.1:8501'].")
    text = template if template is not None else NGINX_CONF.read_text(encoding="utf-8")
    if not REPLICAS_BLOCK.search(text):
        raise ValueError(f"{NGINX_CONF} has no '# BEGIN replicas' ... '# END replicas' block to fill in.")
    servers = "".join(f"        server {u} max_fails=1 fail_timeout=10s;\n" for u in upstreams)
    text = REPLICAS_BLOCK.sub(lambda m: m.group(1) + servers.rstrip("\n") + m.group(3), text, count=1)
    text = re.sub(r"^(\s*)listen \S+;", rf"\1listen {listen};", text, count=1, flags=re.MULTILINE)
    text = re.sub(r"^pid \S+;", f"pid {runtime_dir / 'nginx.pid'};", text, count=1, flags=re.MULTILINE)
    text = re.sub(r"(_temp_path) /tmp/", rf"\1 {runtime_dir}/", text)
    return re.sub(r"^(\s*access_log) \S+;", r"\1 off;", text, count=1, flags=re.MULTILINE)


# ---------------------------------------------------------------- a cluster on loopback


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop a process group this module started, `sig` first, then SIGKILL."""
    if process.poll() is not None:
        return
    for s, wait_s in ((sig, 10.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, s)
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class Replica:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    """nginx on `port` in front of `replicas`, every process started (and stopped) by this module."""

    port: int
    replicas: list[Replica]
    nginx: subprocess.Popen[bytes]
    runtime_dir: Path
    data_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill_replica(self, index: int) -> float:
        """SIGKILL one replica (a crash, not a shutdown); returns the time it was killed."""
        killed_at = time.perf_counter()
        _stop(self.replicas[index].process, signal.SIGKILL)
        return killed_at

    def stop(self) -> None:
        _stop(self.nginx, signal.SIGQUIT)
        for replica in self.replicas:
            _stop(replica.process)


def start_replica(data_dir: Path, log_path: Path, timeout_s: float = 90.0) -> Replica:
    """`uvicorn asi_me.ui.asgi:app` on a free loopback port, ready when /_app/ready answers 200."""
    env = {**os.environ, "ASI_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", "ASI_LOG_FORMAT": "json",
           "ASI_LOG_LEVEL": "WARNING"}
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "asi_me.ui.asgi:app", "--host", "127.0.0.1", "--port", str(port),
               "--no-access-log"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # our own entrypoint, this interpreter, no shell
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    replica = Replica(port, process, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        if _get(f"{replica.url}/_app/ready") == 200:
            return replica
        time.sleep(0.2)
    _stop(process)
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    raise RuntimeError(f"a replica on port {port} did not become ready; its log ends with:\n{tail}")


def start_cluster(data_dir: Path, replicas: int, runtime_dir: Path, nginx: str = "/usr/sbin/nginx") -> Cluster:
    """`replicas` replicas of the app on `data_dir` and nginx (deploy/nginx.conf) in front of them."""
    if not Path(nginx).exists():
        raise RuntimeError(f"{nginx} is missing: install Debian's nginx package (scripts/test does).")
    runtime_dir.mkdir(parents=True, exist_ok=True)
    started: list[Replica] = []
    try:
        for i in range(replicas):
            started.append(start_replica(data_dir, runtime_dir / f"replica-{i}.log"))  # noqa: PERF401 (one by one: a failure stops the started ones)
        port = _free_port()
        conf = runtime_dir / "nginx.conf"
        conf.write_text(render_nginx_conf([f"127.0.0.1:{r.port}" for r in started], f"127.0.0.1:{port}", runtime_dir),
                        encoding="utf-8")
        with (runtime_dir / "nginx.log").open("wb") as log:
            process = subprocess.Popen(  # Debian's nginx with the config written just above
                [nginx, "-e", "stderr", "-p", str(runtime_dir), "-c", str(conf), "-g", "daemon off;"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        cluster = Cluster(port, started, process, runtime_dir, data_dir)
        deadline = time.monotonic() + 20
        while _get(f"{cluster.url}/_app/ready") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                cluster.stop()
                raise RuntimeError(f"nginx did not answer; {runtime_dir / 'nginx.log'}:\n"
                                   + (runtime_dir / "nginx.log").read_text(errors="replace")[-2000:])
            time.sleep(0.1)
        return cluster
    except BaseException:
        for replica in started:
            _stop(replica.process)
        raise
