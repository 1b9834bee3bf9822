"""Downloads before and after, in one run: the zip of CSVs, the Excel workbook, one
table's CSV and table_for_download, at demo size and at 100x.

The "before" code is read from git at a fixed commit (the pandas implementation) and
loaded beside the current one, so both are measured on the same machine in the same
run. Every measurement runs in a fresh child process, which reports wall and CPU time
(all threads) and its peak RSS during the call (VmHWM, reset just before it), beside the
RSS it had before the call. `data_page` times the Data screen in AppTest, cold and warm.

`whole_table` is the whole-table download of the largest table (the indicator observations)
from a click to the last byte sent: "before" builds the CSV in memory and hands the bytes to
Streamlit's media file storage, as st.download_button does (the gated rows sorted by one
query, as they were); "after" writes it batch by batch
into the download folder and streams it through the /_app/files route (in process, the
body read chunk by chunk and dropped, as a socket would). `whole_table_secretariat` is the
same table as stored (no gate); `whole_table` is the public's, through the gate, its rebuilt
rows made before the call (they are built once per snapshot and kept, by the warm start), and
the memory that build freed handed back to the system (malloc_trim), so the call cannot hide
its needs in it. Each run has a download folder of its own, so every call builds its file.

    python benchmarks/downloads.py --data scaled-data/x100 --data scaled-data/x300 \
        --kinds whole_table,whole_table_secretariat

    python benchmarks/downloads.py                       # data/ and /tmp/asi_scale100
    python benchmarks/downloads.py --data data --reps 3  # demo size only
    ASI_BENCH_GIT_DIR=/path/to/repo python benchmarks/downloads.py  # run from an exported tree
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_COMMIT = "13f2581"  # the pandas implementation of asi_me/publish/exports.py and asi_me/queries/catalogue.py
sys.path.insert(0, str(ROOT))
TABLE = "indicator_observations"  # the largest table a public viewer may download


GIT_DIR = Path(os.environ.get("ASI_BENCH_GIT_DIR", ROOT))


def _before_modules(commit: str) -> tuple[types.ModuleType, types.ModuleType]:
    """asi_me.queries.catalogue and asi_me.publish.exports as they were at `commit`, loaded under other names."""
    def load(name: str, path: str, replace: tuple[str, str] | None = None) -> types.ModuleType:
        source = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=GIT_DIR, check=True,
                                capture_output=True, text=True).stdout
        if replace:
            source = source.replace(*replace)
        module = types.ModuleType(name)
        module.__file__ = str(ROOT / path)
        sys.modules[name] = module
        exec(compile(source, str(ROOT / path), "exec"), module.__dict__)
        return module

    catalogue = load("asi_me._before_catalogue", "asi_me/queries/catalogue.py")
    exports = load("asi_me._before_exports", "asi_me/publish/exports.py",
                   ("from asi_me.queries.catalogue import", "from asi_me._before_catalogue import"))
    return catalogue, exports


def _call(kind: str, version: str, store, commit: str):
    from asi_me.filters import Filters, Viewer
    from asi_me.publish import exports
    from asi_me.queries import catalogue

    viewer, filters = (Viewer.secretariat() if kind.endswith("_secretariat") else Viewer.public()), Filters()
    kind = kind.removesuffix("_secretariat")
    if kind == "whole_table":
        return _whole_table(version, store, viewer)
    if version == "before":
        catalogue, exports = _before_modules(commit)
        calls = {
            "zip": lambda: exports.download_zip(store, viewer, filters),
            "workbook": lambda: exports.excel_workbook(exports.download_frames(store, viewer, filters)),
            "table_csv": lambda: exports.frame_to_csv(catalogue.table_for_download(store, viewer, TABLE, filters)),
            "table_for_download": lambda: catalogue.table_for_download(store, viewer, TABLE, filters),
        }
    else:
        calls = {
            "zip": lambda: exports.download_zip(store, viewer, filters),
            "workbook": lambda: exports.download_workbook(store, viewer, filters),
            "table_csv": lambda: exports.table_csv(store, viewer, TABLE, filters),
            "table_for_download": lambda: catalogue.table_for_download(store, viewer, TABLE, filters),
        }
    return calls[kind]


def _whole_table(version: str, store, viewer):
    """A click on the whole-table CSV to its last byte: the bytes handed to Streamlit (before),
    or the file built on disk and streamed by the link route (after). Returns the bytes sent."""
    from asi_me.publish import exports

    if version == "before":
        from asi_me.publish import gate

        gate.SORT_ROWS = 10**12  # the gated rows sorted by one query, as before they came in runs

        def before() -> int:
            from streamlit.runtime.media_file_storage import MediaFileKind
            from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

            data = exports.table_csv(store, viewer, TABLE)
            media = MemoryMediaFileStorage("/media")  # what st.download_button keeps the file in
            media.load_and_get_id(data, "text/csv", MediaFileKind.DOWNLOADABLE, f"asi-{TABLE}.csv")
            return len(data)
        return before

    def after() -> int:
        import asyncio

        from starlette.applications import Starlette

        from asi_me.publish import file_links

        path = exports.table_csv_file(store, viewer, TABLE)
        token, grant = file_links.issue(path, f"asi-{TABLE}.csv", "text/csv")
        app = Starlette(routes=file_links.routes())
        sent = {"bytes": 0, "status": 0}
        scope = {"type": "http", "method": "GET", "path": f"{file_links.PREFIX}/{grant.key}",
                 "raw_path": f"{file_links.PREFIX}/{grant.key}".encode(), "root_path": "",
                 "query_string": f"token={token}".encode(), "headers": [], "scheme": "http",
                 "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000), "http_version": "1.1"}

        async def receive() -> dict:
            await asyncio.sleep(3600)  # the client never disconnects
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))

        asyncio.run(app(scope, receive, send))
        assert sent["status"] == 200 and sent["bytes"] == path.stat().st_size, sent
        return sent["bytes"]
    return after


def _memory_mb(field: str) -> float:
    """VmRSS or VmHWM (peak RSS since the last reset) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _data_page(data_dir: str) -> dict[str, float]:
    """The Data screen (public), as AppTest runs it: the first run after the home page
    (cold: nothing of the Data screen cached) and the median of three fresh warm sessions."""
    os.environ["ASI_DATA_DIR"] = data_dir
    from streamlit.testing.v1 import AppTest

    def run() -> tuple[float, float]:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
        at.run()
        at.switch_page("pages/data.py")
        wall, cpu = time.perf_counter(), time.process_time()
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000

    cold = run()
    warm = sorted(run() for _ in range(3))[1]
    return {"wall_ms": cold[0], "cpu_ms": cold[1], "warm_wall_ms": warm[0], "warm_cpu_ms": warm[1]}


def child(kind: str, version: str, data_dir: str, commit: str) -> None:
    """One measurement in this (fresh) process; prints a JSON line. Peak RSS is the
    high-water mark reset just before the call (Linux clear_refs), so opening the store
    does not hide what the call itself needs."""
    if kind == "data_page":
        print(json.dumps(_data_page(data_dir) | {"rss_before_mb": _memory_mb("VmRSS"),
                                                  "peak_rss_mb": _memory_mb("VmHWM"), "bytes": 0}))
        return
    import tempfile

    from asi_me.data.store import Store

    os.environ["ASI_DOWNLOAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="asi-bench-downloads-")  # every call builds
    store = Store.open_current(Path(data_dir))
    store.query("select count(*) from indicator_observations")  # open the Parquet once, outside the timing
    if kind == "whole_table":  # the public's rebuilt rows: built once per snapshot and kept, not per download
        from asi_me.filters import Viewer
        from asi_me.publish import gate

        gate.protected_rows(store, Viewer.public(), TABLE)
    call = _call(kind, version, store, commit)
    # Memory freed before the call (building the rebuilt rows) goes back to the system first:
    # left resident, the call would reuse it and its growth would understate what it needs.
    import ctypes
    import gc

    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    rss_before = _memory_mb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _memory_mb("VmHWM")
    size = (result if isinstance(result, int) else len(result) if isinstance(result, bytes)
            else int(result.memory_usage(deep=True).sum()))
    import shutil

    shutil.rmtree(os.environ["ASI_DOWNLOAD_CACHE_DIR"], ignore_errors=True)  # a 300x CSV is gigabytes
    print(json.dumps({"wall_ms": wall * 1000, "cpu_ms": cpu * 1000, "rss_before_mb": rss_before,
                      "peak_rss_mb": peak, "bytes": size}))


def measure(kind: str, version: str, data_dir: str, *, reps: int, timeout: float, commit: str) -> dict:
    runs = []
    for _ in range(reps):
        try:
            done = subprocess.run([sys.executable, __file__, "--child", kind, version, data_dir, "--base", commit],
                                  cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"error": f"did not finish in {timeout:.0f} s"}
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1][:200]}
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]} | {"reps": reps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", help="data folder(s); default data and /tmp/asi_scale100")
    parser.add_argument("--reps", type=int, default=0, help="repetitions (default 3 at demo size, 1 at 100x)")
    parser.add_argument("--kinds", default="zip,workbook,table_csv,table_for_download,data_page")
    parser.add_argument("--versions", default="before,after")
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--base", default=BASE_COMMIT)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "VERSION", "DATA"))
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.base)
        return
    results = []
    print("| data | download | version | wall ms | CPU ms | peak RSS MB (before call) | bytes |")
    print("|---|---|---|---|---|---|---|")
    for data_dir in args.data or ["data", "/tmp/asi_scale100"]:
        reps = args.reps or (3 if data_dir == "data" else 1)
        for kind in args.kinds.split(","):
            for version in (["after"] if kind == "data_page" else args.versions.split(",")):
                row = {"data": data_dir, "kind": kind, "version": version,
                       **measure(kind, version, data_dir, reps=reps, timeout=args.timeout, commit=args.base)}
                results.append(row)
                if "error" in row:
                    print(f"| {data_dir} | {kind} | {version} | {row['error']} | | | |", flush=True)
                else:
                    warm = (f" (warm {row['warm_wall_ms']:,.0f})" if "warm_wall_ms" in row else "")
                    print(f"| {data_dir} | {kind} | {version} | {row['wall_ms']:,.0f}{warm} | {row['cpu_ms']:,.0f} | "
                          f"{row['peak_rss_mb']:,.0f} ({row['rss_before_mb']:,.0f}) | {row['bytes']:,} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
