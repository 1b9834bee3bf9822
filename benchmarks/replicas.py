"""Scale-out over replicas: nginx (Debian's package) in front of N `uvicorn asi_me.ui.asgi:app`
replicas on loopback, the deploy kit's own nginx.conf with loopback upstreams.

`render_nginx_conf()` is what the tests and the benchmark use to run deploy/nginx.conf
outside compose: it replaces the replicas block and points every path nginx writes at a
folder of its own.
"""

from __future__ import annotations

import asyncio
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


# ---------------------------------------------------------------- the benchmark
# Run as a script: python benchmarks/replicas.py --data-dir DIR --replicas 2 --json OUT
# (python -m asi_me bench --replicas N runs it). The websocket driver is server_bench.py's.

STAMP = re.compile(r'title="snapshot id">([0-9a-f]+)<')


@dataclass
class Render:
    seconds: float
    snapshot_id: str | None = None
    tiles: str | None = None  # the home page's tile grid, to tell which snapshot its figures came from


async def _session(port: int, page: str, started: float | None = None) -> Render:
    """One fresh session through the proxy: connect, run `page`, read until the run finished."""
    import hashlib

    import websockets
    from server_bench import LIMITS, _rerun_message  # the existing websocket driver
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    began = time.perf_counter() if started is None else started
    async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                  max_size=None, open_timeout=60, ping_interval=None) as ws:
        await ws.send(_rerun_message(page))
        render = Render(0.0)
        deadline = time.perf_counter() + LIMITS["run_timeout_s"]
        while time.perf_counter() < deadline:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.perf_counter())))
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                if element.WhichOneof("type") == "html":
                    body = element.html.body
                    if (found := STAMP.search(body)) is not None:
                        render.snapshot_id = found.group(1)
                    elif 'class="asi-tiles"' in body:
                        render.tiles = hashlib.sha256(body.encode()).hexdigest()[:12]
            elif kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    render.seconds = time.perf_counter() - began
                    return render
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # a rerun follows at once (a deep link's first run reroutes through app.py)
                raise RuntimeError(f"the run ended with {ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)}")
        raise TimeoutError(f"no finished run within {LIMITS['run_timeout_s']:.0f} s")


async def _wave(cluster: Cluster, sessions: int, page: str = "") -> dict[str, object]:
    """`sessions` public sessions open `page` through the proxy at once."""
    from _common import stats_ms

    results = await asyncio.gather(*[_session(cluster.port, page) for _ in range(sessions)], return_exceptions=True)
    ok = [r.seconds for r in results if isinstance(r, Render)]
    errors = sorted({f"{type(r).__name__}: {r}"[:160] for r in results if not isinstance(r, Render)})
    out: dict[str, object] = {"sessions": sessions, "finished": len(ok), "failures": sessions - len(ok),
                              "errors": errors[:3]}
    if ok:
        times = stats_ms(ok)
        out |= {"p50_ms": times["median_ms"], "p95_ms": times["p95_ms"], "max_ms": times["max_ms"]}
    return out


async def _kill_one_replica(cluster: Cluster, sessions: int, page: str) -> dict[str, object]:
    """`sessions` sessions render and stay connected; one replica is killed; every session whose
    connection dropped reconnects through the proxy and renders its page again."""
    import websockets
    from _common import stats_ms
    from server_bench import _receive_run, _rerun_message

    killed = asyncio.Event()
    killed_at: list[float] = []
    recovered: list[float] = []
    lost: list[str] = []
    connected = 0

    async def one() -> None:
        nonlocal connected
        uri = f"ws://127.0.0.1:{cluster.port}/_stcore/stream"
        async with websockets.connect(uri, subprotocols=["streamlit"], max_size=None, open_timeout=60,
                                      ping_interval=None) as ws:
            await ws.send(_rerun_message(page))
            first = await _receive_run(ws, time.perf_counter())
            if not first.finished:
                lost.append("first render did not finish")
                return
            connected += 1
            await killed.wait()
            try:  # is this session's replica the dead one? its connection closes
                await asyncio.wait_for(ws.recv(), timeout=3.0)
                return
            except TimeoutError:
                return  # still connected: a live replica
            except websockets.ConnectionClosed:
                pass
        # Like the browser: reconnect (to the proxy, which picks a live replica) and run the URL again.
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            try:
                await _session(cluster.port, page)
                recovered.append(time.perf_counter() - killed_at[0])
                return
            except (OSError, websockets.WebSocketException, RuntimeError, TimeoutError):
                await asyncio.sleep(0.2)
        lost.append("did not render again within 60 s")

    tasks = [asyncio.create_task(one()) for _ in range(sessions)]
    while connected + len(lost) < sessions and not all(t.done() for t in tasks):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    killed_at.append(cluster.kill_replica(0))
    killed.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    lost += [f"{type(r).__name__}: {r}"[:160] for r in results if isinstance(r, BaseException)]
    out: dict[str, object] = {"sessions": sessions, "on_killed_replica": len(recovered) + len(lost),
                              "recovered": len(recovered), "lost": len(lost), "errors": sorted(set(lost))[:3]}
    if recovered:
        times = stats_ms(recovered)
        out |= {"recover_p50_ms": times["median_ms"], "recover_p95_ms": times["p95_ms"],
                "recover_max_ms": times["max_ms"]}
    return out


async def _switch_snapshot(cluster: Cluster, workers: int, seconds: float) -> dict[str, object]:
    """Sessions open the home page back to back while a new snapshot (fewer members, so other
    tiles) is published; every render's tiles must belong to the snapshot its stamp names."""
    from asi_me.data.snapshot import TABLES, current_folder, read_table, write_snapshot

    folder = current_folder(cluster.data_dir)
    tables = {name: read_table(folder, name) for name in TABLES}
    tables["members"] = tables["members"].slice(0, max(1, tables["members"].num_rows - 3))
    renders: list[Render] = []
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            try:
                renders.append(await _session(cluster.port, ""))
            except Exception as exc:  # reported, the others go on
                errors.append(f"{type(exc).__name__}: {exc}"[:160])

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    await asyncio.sleep(seconds / 3)
    old_id = folder.name
    new_id, _changed = await asyncio.to_thread(write_snapshot, cluster.data_dir, tables, note="benchmark switch")
    await asyncio.gather(*tasks)
    by_snapshot: dict[str, dict[str, int]] = {}
    for render in renders:
        counts = by_snapshot.setdefault(render.snapshot_id or "none", {})
        counts[render.tiles or "none"] = counts.get(render.tiles or "none", 0) + 1
    # Each snapshot's tiles are those most of its renders show; a render showing another is mixed.
    expected = {sid: max(counts, key=counts.__getitem__) for sid, counts in by_snapshot.items()}
    mixed = sum(n for sid, counts in by_snapshot.items() for tiles, n in counts.items() if tiles != expected[sid])
    distinct = len({expected.get(old_id), expected.get(new_id)} - {None})
    return {"renders": len(renders), "old_snapshot": old_id, "new_snapshot": new_id,
            "renders_old": sum(by_snapshot.get(old_id, {}).values()),
            "renders_new": sum(by_snapshot.get(new_id, {}).values()),
            "tiles_differ_between_snapshots": distinct == 2, "mixed_renders": mixed,
            "failures": len(errors), "errors": sorted(set(errors))[:3]}


def run(data_dir: Path, replica_counts: list[int], levels: list[int], work: Path) -> dict[str, object]:
    import shutil

    out: dict[str, object] = {"data_dir": str(data_dir), "levels": levels, "cpus": os.cpu_count(), "runs": []}
    for count in replica_counts:
        cluster = start_cluster(data_dir, count, work / f"x{count}")
        try:
            asyncio.run(_wave(cluster, 4 * count))  # fill every replica's caches
            waves = [asyncio.run(_wave(cluster, n)) for n in levels]
            out["runs"].append({"replicas": count, "waves": waves})  # type: ignore[union-attr]
            print(f"  {count} replica(s): " + "; ".join(
                f"{w['sessions']} sessions p50 {w.get('p50_ms')} ms p95 {w.get('p95_ms')} ms "
                f"failures {w['failures']}" for w in waves), flush=True)
        finally:
            cluster.stop()
    top = max(replica_counts)
    if top >= 2:
        cluster = start_cluster(data_dir, top, work / "kill")
        try:
            asyncio.run(_wave(cluster, 4 * top))
            out["replica_killed"] = asyncio.run(_kill_one_replica(cluster, min(levels), ""))
            print(f"  replica killed: {out['replica_killed']}", flush=True)
        finally:
            cluster.stop()
    # The switch writes a snapshot: into a copy of the data folder, never the source.
    copy = work / "switch-data"
    shutil.rmtree(copy, ignore_errors=True)
    (copy / "snapshots").mkdir(parents=True)
    source = data_dir / "snapshots" / (data_dir / "CURRENT").read_text().strip()
    shutil.copytree(source, copy / "snapshots" / source.name)
    shutil.copy2(data_dir / "CURRENT", copy / "CURRENT")
    cluster = start_cluster(copy, top, work / "switch")
    try:
        asyncio.run(_wave(cluster, 4 * top))
        out["snapshot_switch"] = asyncio.run(_switch_snapshot(cluster, min(20, *levels), 20.0))
        print(f"  snapshot switch: {out['snapshot_switch']}", flush=True)
    finally:
        cluster.stop()
        shutil.rmtree(copy, ignore_errors=True)
    return out


def main() -> int:
    import argparse

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import write_json

    parser = argparse.ArgumentParser(description="Scale-out over replicas behind nginx, on loopback.")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--replicas", type=int, default=2, help="the most replicas measured (also 1)")
    parser.add_argument("--sessions", type=int, action="append", help="concurrent sessions per wave")
    parser.add_argument("--work", type=Path, default=REPO_ROOT / "test-artifacts" / "bench-replicas")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    if args.replicas < 1:
        parser.error(f"--replicas {args.replicas}: give at least 1 replica")
    counts = sorted({1, args.replicas})
    result = run(args.data_dir.resolve(), counts, args.sessions or [50, 100, 200], args.work)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
