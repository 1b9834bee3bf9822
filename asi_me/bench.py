"""The benchmark suite: the app at demo size and at N times it, against the targets.

`run_bench(factors, quick, json_path)` measures, per scale factor, on a stable copy of
the data (scaled-data/x<N>, generated from the current snapshot when missing or stale):

- queries: median and p95 of every function in each query module's QUERY_FUNCTIONS,
  for the public viewer with default filters and with one filtered variant (in process);
- pandas and polars: benchmarks/pandas_baseline.py, the query layer against fair pandas and
  fair polars code in one process on the same snapshot: equal answers checked, median time
  per computation and held memory per side (a fresh process per side and computation);
- page runs: benchmarks/page_runs.py, every page in AppTest, cold and warm;
- payload and concurrency: benchmarks/server_bench.py against a real `streamlit run`;
- browser: benchmarks/browser_bench.py, every page in headless Chromium to its main chart
  visible, on a restarted server (cold) and again (warm), a filter change to the re-rendered
  chart, and the first paint of Streamlit's own empty page beside ours;
- burst: benchmarks/burst_bench.py, the server restarted and then 50 and 100 public sessions
  at once (5 in --quick);
- verification: hashing a snapshot's files against its manifest when it is first opened
  (once per snapshot and process) and the re-check every page run makes (a stat per file);
- register: the register sorted on the server by each column, both ways, a page at a time:
  the first, middle and last pages timed, and every page fetched once in turn.

Each part that cannot run (a module or page not written yet, no Chromium) is reported
with the reason and the rest goes on; only a crash of the suite itself exits non-zero.
The targets are checked at the largest factor measured with every part and printed as met /
missed. A run without --factor measures 1 and 100 with every part, then 300 with the pages and
downloads parts only: the rows that name 300x (the first Outcomes run, the whole-table download).
Every part records the load average at its start and end; a part that ran on a busy machine
(1-minute load above 0.75 per core) is flagged and the report warns about it.
ASI_BENCH_PARTS=queries,pandas,pages,disclosure,server,verification,register,browser,burst (any subset)
runs only those parts. The downloads part (a whole-table CSV download of the largest table, its peak
extra memory; benchmarks/downloads.py) runs at a factor of 300 or more, or when
ASI_BENCH_PARTS names it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas
import pyarrow

from asi_me.data import snapshot
from asi_me.data.snapshot import NoSnapshotError, current_folder, current_manifest, store_derived
from asi_me.data.store import Store
from asi_me.demo.scale import write_scaled
from asi_me.filters import Filters, Viewer
from asi_me.memos import forget_memos
from asi_me.publish import gate
from asi_me.queries.certifications import REGISTER_SORT_COLUMNS, RegisterPage, certification_register_sorted_page
from asi_me.settings import REPO_ROOT, Settings

QUERY_MODULES = (
    "queries.outcomes", "queries.certifications", "queries.toc", "queries.catalogue", "publish.exports",
    "queries.coc", "queries.quality", "publish.policy", "queries.changes",
)
SCALED_ROOT = REPO_ROOT / "scaled-data"
BENCH_DIR = REPO_ROOT / "benchmarks"
FILTERED = {"regions": ("Europe",), "standards": ("PS",)}

# The targets at 100x on a 2-core machine (the figures).
QUERY_MEDIAN_MS = 100.0
COMPETITOR_MEMORY_SHARE = 1 / 4  # query layer's held memory against the leaner of fair pandas and fair polars
BUSY_LOAD_PER_CORE = 0.75  # a 1-minute load average above this many per core: the machine was busy
WARM_PAGE_MS = 200.0
COLD_PAGE_MS = 2000.0
PAYLOAD_BYTES = 2_000_000
CONCURRENT_P95_MS = 2000.0
RSS_PER_SESSION_MB = 1.0
REGISTER_PAGE_ROWS = 500  # the map's register page
BROWSER_WARM_MS = 1000.0  # every page, warm, to its main chart visible in headless Chromium
BROWSER_COLD_MS = 2000.0  # the same on a server just restarted
FILTER_CHANGE_MS = 500.0  # a filter change to the re-rendered chart
BURST_SESSIONS = 50
BURST_P95_MS = 2000.0  # p95 of 50 public sessions arriving together right after a restart
BURST_MODE = "deployed"  # the burst judged: uvicorn and its warm start, the visitors at its first answer


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "platform": platform.platform(),
    }
    try:
        info["streamlit"] = importlib.metadata.version("streamlit")
    except importlib.metadata.PackageNotFoundError:
        info["streamlit"] = None
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        info["cpu_model"] = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), None
        )
        meminfo = Path("/proc/meminfo").read_text(encoding="utf-8")
        kb = next(int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal"))
        info["memory_gb"] = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass
    return info


def load_average() -> tuple[float, float, float]:
    """The machine's 1-, 5- and 15-minute load averages."""
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def machine_load(start: tuple[float, float, float], end: tuple[float, float, float],
                 cores: int | None = None) -> dict[str, Any]:
    """The load averages at the start and end of a part, and whether the machine was busy:
    a 1-minute load above BUSY_LOAD_PER_CORE per core at either end (the part's figures are
    then slower than the code alone would give)."""
    cores = cores or os.cpu_count() or 1
    limit = round(BUSY_LOAD_PER_CORE * cores, 2)
    return {"start": list(start), "end": list(end), "cores": cores, "busy_above": limit,
            "is_busy": max(start[0], end[0]) > limit}


def busy_warning(part: str, load: dict[str, Any]) -> str:
    return (f"WARNING: the machine was busy during the {part} part: 1-minute load average {load['start'][0]} at "
            f"its start and {load['end'][0]} at its end on {load['cores']} cores (busy above {load['busy_above']}); "
            f"its times are slower than the code alone would give")


def _source_id(source: Path) -> str:
    """The current snapshot id of the data folder; "demo" when it has none (a demo is built then)."""
    try:
        return current_manifest(source).snapshot_id
    except NoSnapshotError:
        return "demo"


def dataset_dir(factor: int, source: Path) -> Path:
    """scaled-data/x<factor>: a copy of the current snapshot N times over, rebuilt when the source changed."""
    source_id = _source_id(source)
    target = SCALED_ROOT / f"x{factor}"
    try:
        if source_id in current_manifest(target).note:
            # Same data; derived tables of newer SQL are stored (and recorded), and the protected
            # figures of this code prepared, before measuring, as an ingest would.
            store_derived(current_folder(target))
            _prepare(target)
            return target
    except (NoSnapshotError, FileNotFoundError):
        pass
    started = time.perf_counter()
    print(f"  writing the x{factor} dataset into {target} ...", flush=True)
    write_scaled(factor, target, source_dir=source)
    print(f"  written in {time.perf_counter() - started:.1f} s", flush=True)
    _prepare(target)
    return target


def _prepare(target: Path) -> None:
    """As an ingest does when it publishes: the protected figures prepared with the snapshot (read
    back when this code prepared them already), then every memo of this process forgotten, so the
    parts measured here start cold."""
    started = time.perf_counter()
    store = Store(current_folder(target))
    try:
        gate.prepare(store)
    finally:
        store.close()
        forget_memos()
    print(f"  protected figures prepared in {time.perf_counter() - started:.1f} s", flush=True)


# ---------------------------------------------------------------- query functions


def time_call(fn: Callable[[], Any], reps: int, budget_s: float) -> dict[str, float | int]:
    """Median, p95, min, max (ms) of up to `reps` calls, fewer when the time budget is used up."""
    samples: list[float] = []
    cpu: list[float] = []  # process CPU time (all threads): less sensitive to other load on the machine
    started = time.perf_counter()
    for _ in range(max(1, reps)):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        samples.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if time.perf_counter() - started > budget_s:
            break
    return _stats(samples, cpu)


def _stats(samples: list[float], cpu: list[float]) -> dict[str, float | int]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(1000 * statistics.median(ordered), 2), "p95_ms": round(1000 * p95, 2),
            "min_ms": round(1000 * ordered[0], 2), "max_ms": round(1000 * ordered[-1], 2), "runs": len(ordered),
            "cpu_median_ms": round(1000 * statistics.median(cpu), 2)}


def _samples(store: Store) -> dict[str, Any]:
    """Sample values for required arguments other than store, viewer and filters."""

    def first(sql: str) -> Any:
        frame = store.query(sql)
        return None if frame.empty else frame.iloc[0, 0]

    code = first("select indicator_code from indicators order by level, indicator_code limit 1")
    year = first("select max(reporting_year) from coc_reports")
    return {
        "certification_id": first("select certification_id from certifications order by issued_on desc, "
                                  "certification_id limit 1"),
        "year": int(year) if year is not None else None,
        "reporting_year": int(year) if year is not None else None,
        "indicator_code": code,
        "node_id": first(f"select toc_node_id from indicators where indicator_code = '{code}'") if code else None,
        "member_id": first("select member_id from facilities group by member_id order by count(*) desc limit 1"),
        "facility_id": first("select facility_id from certifications order by issued_on limit 1"),
        # the largest table a public viewer may download
        "table": "indicator_observations",
        "table_name": "indicator_observations",
        "name": "indicator_observations",
    }


def _call(fn: Callable[..., Any], store: Store, filters: Filters | None, samples: dict[str, Any]) -> (
        Callable[[], Any] | str):
    """A no-argument call of `fn` with sample arguments, or the reason it cannot be called."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        return f"no signature: {exc}"
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        if name == "store":
            value: Any = store
        elif name == "viewer":
            value = Viewer.public()
        elif name == "filters":
            value = filters
        elif samples.get(name) is not None:
            value = samples[name]
        elif param.default is not inspect.Parameter.empty:
            continue
        else:
            return f"no sample value for its required argument {name!r}"
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            args.append(value)
        else:
            kwargs[name] = value
    return lambda: fn(*args, **kwargs)


def query_functions() -> tuple[list[tuple[str, Callable[..., Any]]], dict[str, str]]:
    """(module.function, function) of every QUERY_FUNCTIONS entry, and modules that are missing."""
    found: list[tuple[str, Callable[..., Any]]] = []
    missing: dict[str, str] = {}
    for module_name in QUERY_MODULES:
        try:
            module = importlib.import_module(f"asi_me.{module_name}")
        except ImportError as exc:
            missing[module_name] = f"cannot import asi_me.{module_name}: {exc}"
            continue
        functions = getattr(module, "QUERY_FUNCTIONS", None)
        if not functions:
            missing[module_name] = f"asi_me.{module_name} has no QUERY_FUNCTIONS"
            continue
        found += [(f"{module_name}.{fn.__name__}", fn) for fn in functions]
    return found, missing


def bench_queries(data_dir: Path, reps: int, budget_s: float, part_budget_s: float = 1200.0) -> dict[str, Any]:
    """Median/p95 of every query function, default and filtered, on a warm Store.

    A call slower than `budget_s` is timed once; after `part_budget_s` the remaining
    functions are reported as not measured."""
    deadline = time.perf_counter() + part_budget_s
    # Downloads are built on the first call and served from disk after (asi_me/publish/download_cache.py):
    # an empty folder of this run, so "first_ms" is a real build and the median a served file.
    downloads = Path(tempfile.mkdtemp(prefix="asi-bench-downloads-"))
    previous = os.environ.get("ASI_DOWNLOAD_CACHE_DIR")
    os.environ["ASI_DOWNLOAD_CACHE_DIR"] = str(downloads)
    try:
        return _bench_queries(data_dir, reps, budget_s, deadline)
    finally:
        if previous is None:
            os.environ.pop("ASI_DOWNLOAD_CACHE_DIR", None)
        else:
            os.environ["ASI_DOWNLOAD_CACHE_DIR"] = previous
        shutil.rmtree(downloads, ignore_errors=True)


def _bench_queries(data_dir: Path, reps: int, budget_s: float, deadline: float) -> dict[str, Any]:
    part_budget_s = deadline - time.perf_counter()
    store = Store.open_current(data_dir)
    samples = _samples(store)
    functions, missing = query_functions()
    rows = []
    for name, fn in functions:
        for variant, filters in (("default", Filters()), ("filtered", Filters(**FILTERED))):
            call = _call(fn, store, filters, samples)
            if isinstance(call, str):
                rows.append({"function": name, "variant": variant, "skipped": call})
                break
            if variant == "filtered" and "filters" not in inspect.signature(fn).parameters:
                break
            if time.perf_counter() > deadline:
                rows.append({"function": name, "variant": variant,
                             "skipped": f"the queries part used up its {part_budget_s:.0f} s"})
                continue
            try:
                t0, c0 = time.perf_counter(), time.process_time()
                call()
                first_s = time.perf_counter() - t0
                first_ms = round(1000 * first_s, 2)
                if first_s > budget_s:  # one run says enough; repeating would only burn the session
                    stats = {"median_ms": first_ms, "p95_ms": first_ms, "min_ms": first_ms, "max_ms": first_ms,
                             "runs": 1, "cpu_median_ms": round(1000 * (time.process_time() - c0), 2)}
                else:
                    stats = time_call(call, reps, budget_s)
            except Exception as exc:  # report and go on with the other functions
                rows.append({"function": name, "variant": variant, "error": f"{type(exc).__name__}: {exc}"[:300]})
                continue
            rows.append({"function": name, "variant": variant, "first_ms": first_ms, **stats})
    store.close()
    filtered = {k: list(v) for k, v in FILTERED.items()}
    return {"functions": rows, "missing_modules": missing, "filtered_variant": filtered}


def bench_register_sort(data_dir: Path, reps: int, budget_s: float) -> dict[str, Any]:
    """The register sorted on the server by each column, both ways, through the paging API
    (certification_register_sorted_page, a page of 500 rows as the map asks for it).

    The first, middle and last pages are each timed on their own (median of up to `reps`
    calls, taken in turn so that a burst of other load hits every page alike); the slowest
    page decides the target. Every sort is also walked once page by page through the whole
    register, checking that every row comes exactly once."""
    store = Store.open_current(data_dir)
    try:
        viewer = Viewer.public()
        total = certification_register_sorted_page(store, viewer, page_rows=1).total
        last = max(1, -(-total // REGISTER_PAGE_ROWS))
        pages = sorted({1, (last + 1) // 2, last})
        rows = []
        for column in REGISTER_SORT_COLUMNS:
            for descending in (False, True):
                def fetch(page: int, c: str = column, d: bool = descending) -> RegisterPage:
                    return certification_register_sorted_page(store, viewer, sort_by=c, descending=d, page=page,
                                                              page_rows=REGISTER_PAGE_ROWS)

                fetch(1)  # warm
                samples = _interleaved({page: (lambda p=page: fetch(p)) for page in pages}, reps, budget_s)
                timed = [{"page": page, **stats} for page, stats in samples.items()]
                worst = max(timed, key=lambda t: t["median_ms"])
                rows.append({"sort_by": column, "descending": descending, "pages": timed,
                             "worst_page": worst["page"], "worst_page_median_ms": worst["median_ms"],
                             "is_met": worst["median_ms"] <= QUERY_MEDIAN_MS,
                             "walk": _walk_register(fetch, last, total)})
        return {"rows": total, "page_rows": REGISTER_PAGE_ROWS, "pages_timed": pages, "target_ms": QUERY_MEDIAN_MS,
                "sorts": rows}
    finally:
        store.close()


def _interleaved(calls: dict[int, Callable[[], Any]], reps: int, budget_s: float) -> dict[int, dict[str, Any]]:
    """`time_call` statistics per key, the calls taken in turn (a, b, c, a, b, c, ...)."""
    wall: dict[int, list[float]] = {key: [] for key in calls}
    cpu: dict[int, list[float]] = {key: [] for key in calls}
    started = time.perf_counter()
    for _ in range(max(1, reps)):
        for key, call in calls.items():
            t0, c0 = time.perf_counter(), time.process_time()
            call()
            wall[key].append(time.perf_counter() - t0)
            cpu[key].append(time.process_time() - c0)
        if time.perf_counter() - started > budget_s:
            break
    return {key: _stats(wall[key], cpu[key]) for key in calls}


def _walk_register(fetch: Callable[[int], RegisterPage], last: int, total: int) -> dict[str, Any]:
    """Every page once, in order: the whole register read through the paging API."""
    seen: set[str] = set()
    times: list[float] = []
    rows = 0
    for page in range(1, last + 1):
        t0 = time.perf_counter()
        answer = fetch(page)
        times.append(time.perf_counter() - t0)
        rows += len(answer.rows)
        seen.update(answer.rows["certification_id"])
    return {"pages": last, "rows": rows, "is_every_row_once": rows == total == len(seen),
            "total_s": round(sum(times), 2), "median_ms": round(1000 * statistics.median(times), 2),
            "max_ms": round(1000 * max(times), 2)}


# ---------------------------------------------------------------- verification


def bench_verification(data_dir: Path, reps: int) -> dict[str, Any]:
    """What checking a snapshot against its manifest costs: once when a process first opens it
    (every file hashed), and on each page run after that (a stat per file, nothing hashed)."""
    folder = current_folder(data_dir)
    snapshot.forget_verifications()
    hashed: list[str] = []
    original = snapshot._sha256

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return original(path)

    snapshot._sha256 = counting
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        first = snapshot.verify_snapshot(folder)
        first_ms, first_cpu_ms = 1000 * (time.perf_counter() - t0), 1000 * (time.process_time() - c0)
        files_hashed = len(hashed)
        t0 = time.perf_counter()
        store = Store(folder)  # the rest of opening: views, derived tables
        open_ms = 1000 * (time.perf_counter() - t0)
        store.close()
        page_run = time_call(lambda: snapshot.serve(data_dir), max(reps, 20), 5.0)
        hashed_on_page_runs = len(hashed) - files_hashed
    finally:
        snapshot._sha256 = original
    if not first.ok:
        return {"error": first.summary()}
    return {
        "snapshot_id": first.snapshot_id,
        "files": first.files,
        "bytes": first.bytes,
        "first_open_ms": round(first_ms, 2),
        "first_open_cpu_ms": round(first_cpu_ms, 2),
        "mb_per_s": round(first.bytes / 1e6 / (first_ms / 1000), 1) if first_ms else None,
        "files_hashed_first_open": files_hashed,
        "store_open_after_verification_ms": round(open_ms, 2),
        "page_run_recheck": page_run,
        "files_hashed_on_page_runs": hashed_on_page_runs,
        "when": "first open of a snapshot in a process; a page run re-checks file identities only",
    }


# ---------------------------------------------------------------- subprocess parts


def _script(name: str, args: list[str], json_out: Path, timeout_s: float) -> dict[str, Any]:
    """Run benchmarks/<name>.py and return its JSON, or the reason it did not finish."""
    script = BENCH_DIR / f"{name}.py"
    if not script.is_file():
        return {"skipped": f"{script} does not exist"}
    json_out.unlink(missing_ok=True)
    command = [sys.executable, str(script), *args, "--json", str(json_out)]
    try:
        # our own scripts, run with this interpreter; no shell, no user input
        done = subprocess.run(  # noqa: S603
            command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return {"skipped": f"{script.name} did not finish within {timeout_s:.0f} s"}
    if done.returncode != 0 or not json_out.exists():
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        return {"skipped": f"{script.name} exited with {done.returncode}: {tail}"}
    return json.loads(json_out.read_text(encoding="utf-8"))


def _app_missing() -> str | None:
    return None if (REPO_ROOT / "app.py").is_file() else f"{REPO_ROOT / 'app.py'} does not exist yet"


def bench_factor(factor: int, source: Path, quick: bool, work: Path,
                 parts_only: frozenset[str] | None = None) -> dict[str, Any]:
    """Every part of the benchmark on the x<factor> dataset (or only `parts_only`)."""
    out: dict[str, Any] = {"factor": factor}
    if parts_only is not None:
        out["parts_only"] = sorted(parts_only)
    data_dir = dataset_dir(factor, source)
    manifest = current_manifest(data_dir)
    out["dataset"] = {"data_dir": str(data_dir), "snapshot_id": manifest.snapshot_id,
                      "rows": {name: info["rows"] for name, info in manifest.tables.items()}}
    big = factor >= 10
    parts: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("queries", lambda: bench_queries(data_dir, 2 if quick else (7 if big else 10), 2.0 if quick else 10.0,
                                          600.0 if quick else 900.0)),
        ("pandas", lambda: _script(
            "pandas_baseline", ["--data-dir", str(data_dir), "--reps", "1" if quick else "5"],
            work / f"pandas-x{factor}.json", 3600)),
        ("pages", lambda: {"skipped": missing} if (missing := _app_missing()) else _script(
            "page_runs", ["--data-dir", str(data_dir), "--reps", "1" if quick else ("3" if big else "5")],
            work / f"pages-x{factor}.json", 1800)),
        ("disclosure", lambda: _script(
            "disclosure_bench", ["--data-dir", str(data_dir), "--members", "20" if quick else "0"],
            work / f"disclosure-x{factor}.json", 3600)),
        ("server", lambda: {"skipped": missing} if (missing := _app_missing()) else _script(
            "server_bench", ["--data-dir", str(data_dir),
                             *[a for n in ([1, 5] if quick else [1, 10, 25, 50]) for a in ("--sessions", str(n))]],
            work / f"server-x{factor}.json", 1800)),
        ("verification", lambda: bench_verification(data_dir, 5 if quick else 50)),
        ("register", lambda: bench_register_sort(data_dir, 2 if quick else 7, 2.0 if quick else 10.0)),
        ("browser", lambda: {"skipped": missing} if (missing := _app_missing()) else _script(
            "browser_bench", ["--data-dir", str(data_dir), *(["--reps", "1", "--cold-reps", "1", "--no-revisit"]
                                                              if quick else ["--reps", "3", "--cold-reps", "2"])],
            work / f"browser-x{factor}.json", 3600)),
        ("burst", lambda: {"skipped": missing} if (missing := _app_missing()) else _script(
            "burst_bench", ["--data-dir", str(data_dir),
                            *[a for n in ([5] if quick else [BURST_SESSIONS, 100]) for a in ("--sessions", str(n))],
                            *(["--mode", BURST_MODE] if quick else [])],
            work / f"burst-x{factor}.json", 1800)),
        *_downloads_parts(factor, data_dir, work),
    ]
    only = {p.strip() for p in os.environ.get("ASI_BENCH_PARTS", "").split(",") if p.strip()}
    for name, part in parts:
        if (only and name not in only) or (parts_only is not None and name not in parts_only):
            continue
        print(f"  {name} ...", flush=True)
        started = time.perf_counter()
        load_at_start = load_average()
        try:
            out[name] = part()
        except Exception as exc:  # a part that cannot run is reported; the suite goes on
            out[name] = {"skipped": f"{type(exc).__name__}: {exc}"[:500]}
        out[name]["wall_s"] = round(time.perf_counter() - started, 1)
        out[name]["load_average_at_start"] = load_at_start[0]
        out[name]["load"] = machine_load(load_at_start, load_average())
        if out[name]["load"]["is_busy"]:
            print(f"    {busy_warning(name, out[name]['load'])}", flush=True)
        if "skipped" in out[name]:
            print(f"    not measured: {out[name]['skipped']}", flush=True)
    return out


# ---------------------------------------------------------------- targets


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "missed")


COMPETITOR_TARGET = "query layer vs a fair pandas and a fair polars, same run"
COMPETITORS = ("pandas", "polars")


def _held(entry: dict[str, Any], side: str) -> float | None:
    return entry.get("memory", {}).get(side, {}).get("held_mb")


def _competitor_verdict(part: dict[str, Any]) -> tuple[str | None, bool | None, str]:
    """The figure, met / missed and the causes of the competitor target: per computation the
    query layer's median no slower than pandas' and polars', and its held memory at most a
    quarter of theirs, on equal answers. Any computation not measured, answered differently or
    measured on a busy machine is named in the detail."""
    entries = part.get("computations", [])
    timed = [e for e in entries if all(side in e for side in ("query", *COMPETITORS))]
    if not timed:
        return None, None, part.get("skipped", "")
    causes: list[str] = []
    for e in entries:
        name = e["computation"]
        if e not in timed:
            causes.append(f"{name}: not measured ({e.get('error', 'no times')})")
            continue
        ours, others = e["query"]["median_ms"], {side: e[side]["median_ms"] for side in COMPETITORS}
        faster = {side: ms for side, ms in others.items() if ms < ours}
        if faster:
            causes.append(f"{name}: slower, {ours:.1f} ms against "
                          + " and ".join(f"{side} {ms:.1f} ms" for side, ms in faster.items()))
        held = {side: _held(e, side) for side in ("query", *COMPETITORS)}
        if any(v is None for v in held.values()):
            causes.append(f"{name}: held memory not measured")
        elif held["query"] > COMPETITOR_MEMORY_SHARE * min(held[side] for side in COMPETITORS):
            causes.append(f"{name}: holds {held['query']:.1f} MB against pandas {held['pandas']:.1f} MB and polars "
                          f"{held['polars']:.1f} MB (more than a quarter)")
        differ = {side: problems for side, problems in e.get("agreement", {}).items() if problems}
        if differ:
            causes.append(f"{name}: answers differ ({'; '.join(f'{s}: {p[0]}' for s, p in differ.items())})")
    slowest = max(timed, key=lambda e: e["query"]["median_ms"] / max(min(e[s]["median_ms"] for s in COMPETITORS),
                                                                      0.01))
    value = (f"slowest against the faster competitor: {slowest['computation']} {slowest['query']['median_ms']:.1f} ms "
             f"(pandas {slowest['pandas']['median_ms']:.1f}, polars {slowest['polars']['median_ms']:.1f})")
    load = part.get("load", {})
    if load.get("is_busy"):
        causes.append(f"measured on a busy machine (1-minute load {load['start'][0]} / {load['end'][0]} on "
                      f"{load['cores']} cores)")
    return value, not any(c for c in causes if not c.startswith("measured on a busy machine")), "; ".join(causes)


def evaluate_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target at the largest factor measured: the figure, the limit and met / missed."""
    targets: list[dict[str, Any]] = []

    def add(name: str, value: Any, limit: str, ok: bool | None, detail: str = "") -> None:
        targets.append({"target": name, "factor": factor, "value": value, "limit": limit,
                        "status": _verdict(ok), "detail": detail})

    # the largest factor run with every part (a run of some parts only gives its own rows)
    full = [f for f, run in result["factors"].items() if "parts_only" not in run]
    factor = max(full, key=int) if full else None
    run = result["factors"].get(factor, {}) if factor else {}
    targets.extend(download_targets(result))
    targets.append(first_outcomes_target(result))

    timed = [r for r in run.get("queries", {}).get("functions", []) if "median_ms" in r]
    worst = max(timed, key=lambda r: r["median_ms"], default=None)
    over = [f"{r['function']} ({r['variant']}) {r['median_ms']:.0f} ms"
            for r in timed if r["median_ms"] > QUERY_MEDIAN_MS]
    add("every query function median <= 100 ms", worst and f"{worst['median_ms']:.1f} ms ({worst['function']}, "
        f"{worst['variant']})", "100 ms", None if worst is None else not over, "; ".join(over))

    sorts = [s for s in run.get("register", {}).get("sorts", []) if "worst_page_median_ms" in s]
    slowest = max(sorts, key=lambda s: s["worst_page_median_ms"], default=None)
    sorts_over = [f"{s['sort_by']} {'desc' if s['descending'] else 'asc'} page {s['worst_page']} "
                  f"{s['worst_page_median_ms']:.0f} ms" for s in sorts if s["worst_page_median_ms"] > QUERY_MEDIAN_MS]
    add("register sorted by each column both ways, slowest page median <= 100 ms",
        slowest and f"{slowest['worst_page_median_ms']:.1f} ms ({slowest['sort_by']}, "
        f"{'descending' if slowest['descending'] else 'ascending'}, page {slowest['worst_page']})", "100 ms",
        None if slowest is None else not sorts_over, "; ".join(sorts_over))

    value, ok, detail = _competitor_verdict(run.get("pandas", {}))
    add(COMPETITOR_TARGET, value, "no slower on any computation; held memory <= 1/4", ok, detail)

    pages = [p for p in run.get("pages", {}).get("pages", []) if "warm" in p]
    warm_over = [f"{p['page']} {p['warm']['median_ms']:.0f} ms" for p in pages if p["warm"]["median_ms"] > WARM_PAGE_MS]
    add("warm page run <= 200 ms", pages and f"max {max(p['warm']['median_ms'] for p in pages):.0f} ms", "200 ms",
        None if not pages else not warm_over, "; ".join(warm_over))
    cold_over = [f"{p['page']} {p['cold_ms']:.0f} ms" for p in pages if p["cold_ms"] > COLD_PAGE_MS]
    add("cold page run <= 2 s", pages and f"max {max(p['cold_ms'] for p in pages):.0f} ms", "2000 ms",
        None if not pages else not cold_over, "; ".join(cold_over))

    _browser_targets(run, add)

    server = run.get("server", {})
    payload = server.get("browser_payload") or server.get("protocol_payload") or []
    sizes = [(p["page"], p.get("ws_bytes", p.get("protocol_bytes"))) for p in payload]
    sizes = [(page, size) for page, size in sizes if size is not None]
    big = [f"{page} {size / 1e6:.2f} MB" for page, size in sizes if size > PAYLOAD_BYTES]
    add("payload <= 2 MB per page", sizes and f"max {max(s for _, s in sizes) / 1e6:.2f} MB", "2 MB",
        None if not sizes else not big, "; ".join(big))

    waves = server.get("concurrency", [])
    top = max(waves, key=lambda w: w["sessions"], default=None)
    if top is None:
        add("50 concurrent sessions p95 first render <= 2 s", None, "2000 ms", None)
        add("RSS per extra session <= 1 MB", None, "1 MB", None)
        return targets
    all_done = top["finished"] == top["sessions"]
    shown = f"{top['time_p95_ms']:.0f} ms" if all_done else f"{top['finished']} of {top['sessions']} finished"
    add(f"{top['sessions']} concurrent sessions p95 first render <= 2 s", shown, "2000 ms",
        all_done and top["time_p95_ms"] <= CONCURRENT_P95_MS,
        "; ".join(top.get("errors", [])[:1]) or ("" if top["sessions"] >= 50 else "fewer than 50 sessions in this run"))
    # growth from before the first wave to the largest wave with all its sessions connected
    per_session = (top["rss_after_mb"] - waves[0]["rss_before_mb"]) / top["sessions"]
    add("RSS per extra session <= 1 MB", f"{per_session:.2f} MB", "1 MB", per_session <= RSS_PER_SESSION_MB,
        f"server RSS {waves[0]['rss_before_mb']:.0f} MB before the first wave, {top['rss_after_mb']:.0f} MB "
        f"with {top['sessions']} sessions")
    return targets


def _mode(burst: dict[str, Any]) -> str:
    """How a burst's server was started (a run from before the modes used `streamlit run`)."""
    return burst.get("mode", "streamlit run")


def _browser_targets(run: dict[str, Any], add: Callable[..., None]) -> None:
    """The browser part's rows (every page to its main chart, cold and warm, and a filter change)
    and the cold burst's."""
    pages = [p for p in run.get("browser", {}).get("pages", []) if "error" not in p]
    for name, key, limit_ms in (
            ("every page, warm, to main chart visible <= 1.0 s", "warm", BROWSER_WARM_MS),
            ("every page, cold server, to main chart visible <= 2.0 s", "cold", BROWSER_COLD_MS),
            ("filter change to re-rendered chart <= 0.5 s", "filter_change", FILTER_CHANGE_MS)):
        timed = [(p["page"], p[key]["median_ms"]) for p in pages if p.get(key)]
        slowest = max(timed, key=lambda t: t[1], default=None)
        over = [f"{page} {ms / 1000:.2f} s" for page, ms in timed if ms > limit_ms]
        over += [f"{p['page']} not timed" for p in run.get("browser", {}).get("pages", []) if not p.get(key)]
        add(name, slowest and f"{slowest[1] / 1000:.2f} s ({slowest[0]})", f"{limit_ms / 1000:.1f} s",
            None if slowest is None else not over, "; ".join(over))

    every = run.get("burst", {}).get("bursts", [])
    # Judged as deployed (uvicorn and its warm start, the visitors at its first answer); a run
    # from before the modes has "streamlit run" bursts only.
    bursts = [b for b in every if b.get("mode") == BURST_MODE] or every
    burst = next((b for b in bursts if b["sessions"] == BURST_SESSIONS), max(bursts, key=lambda b: b["sessions"],
                                                                              default=None))
    name = f"cold burst of {BURST_SESSIONS} public sessions after a restart, p95 <= 2.0 s"
    if burst is None:
        add(name, None, "2.0 s", None)
        return
    all_done = burst["finished"] == burst["sessions"]
    shown = (f"{burst['time_p95_ms'] / 1000:.2f} s" if all_done
             else f"{burst['finished']} of {burst['sessions']} finished")
    others = [f"{_mode(b)}, {b['sessions']} sessions: p95 {b['time_p95_ms'] / 1000:.2f} s, "
              f"{b['sessions'] - b['finished']} failed"
              if b.get("time_p95_ms") is not None else f"{_mode(b)}, {b['sessions']} sessions: "
              "none finished"
              for b in every if b is not burst]
    detail = [*burst.get("errors", [])[:1], *([] if burst["sessions"] >= BURST_SESSIONS
                                              else [f"{burst['sessions']} sessions in this run"]), *others]
    add(name, f"{shown} ({_mode(burst)})", "2.0 s",
        all_done and burst["time_p95_ms"] <= BURST_P95_MS, "; ".join(detail))


# ---------------------------------------------------------------- downloads

DOWNLOAD_FACTOR = 300  # the downloads part runs at this factor and above (or when asked for)
DOWNLOAD_EXTRA_MB = 300.0
# The rows that name 300x: a default run (no --factor) adds this factor with only these parts.
LARGE_FACTOR = DOWNLOAD_FACTOR
LARGE_PARTS = frozenset({"pages", "downloads"})
FIRST_OUTCOMES_MS = 1000.0
FIRST_OUTCOMES_PAGE = "Outcomes dashboard"


def _downloads_parts(factor: int, data_dir: Path, work: Path) -> list[tuple[str, Callable[[], dict[str, Any]]]]:
    """The downloads part, at DOWNLOAD_FACTOR and above or when ASI_BENCH_PARTS names it."""
    asked = "downloads" in {p.strip() for p in os.environ.get("ASI_BENCH_PARTS", "").split(",")}
    if factor < DOWNLOAD_FACTOR and not asked:
        return []
    return [("downloads", lambda: bench_downloads(data_dir, work / f"downloads-x{factor}.json"))]


def bench_downloads(data_dir: Path, json_out: Path) -> dict[str, Any]:
    """A whole-table CSV download of the largest table from click to last byte, streamed
    (benchmarks/downloads.py, kind whole_table, "after"), for the public (through the gate)
    and the secretariat (as stored): peak extra RSS of a fresh process, wall and CPU time."""
    measured = _script("downloads", ["--data", str(data_dir), "--kinds", "whole_table,whole_table_secretariat",
                                     "--versions", "after", "--reps", "1", "--timeout", "1800"], json_out, 3700)
    if isinstance(measured, dict):
        return measured  # skipped, with the reason
    rows = [{"viewer": "secretariat" if r["kind"].endswith("_secretariat") else "public",
             **{k: r[k] for k in ("wall_ms", "cpu_ms", "rss_before_mb", "peak_rss_mb", "bytes", "error") if k in r}}
            for r in measured]
    for row in rows:
        if "peak_rss_mb" in row:
            row["extra_mb"] = round(row["peak_rss_mb"] - row["rss_before_mb"], 1)
    return {"downloads": rows}


def first_outcomes_target(result: dict[str, Any]) -> dict[str, Any]:
    """"first Outcomes page run after a new snapshot at 300x <= 1.0 s": the Outcomes page's cold
    run (every memo and cache emptied, the snapshot reopened; its prepared figures read as a
    server does after a publish) from the largest factor whose run has the pages part. Below
    300x the figure is shown and the target is not measured; with no pages part the row says how
    to measure it."""
    name = f"first Outcomes page run after a new snapshot at {LARGE_FACTOR}x <= {FIRST_OUTCOMES_MS / 1000:g} s"
    how = (f"run `python -m asi_me bench` (adds {LARGE_FACTOR}x) or "
           f"`ASI_BENCH_PARTS=pages python -m asi_me bench --factor {LARGE_FACTOR}`")
    row = {"target": name, "factor": None, "value": None, "limit": f"{FIRST_OUTCOMES_MS:.0f} ms",
           "status": _verdict(None), "detail": how}
    ran = [f for f, run in result.get("factors", {}).items() if isinstance(run.get("pages"), dict)]
    if not ran:
        return row
    factor = max(ran, key=int)
    pages = result["factors"][factor]["pages"]
    page = next((p for p in pages.get("pages", []) if p.get("page") == FIRST_OUTCOMES_PAGE), None)
    row["factor"] = factor
    if page is None or "cold_ms" not in page:
        row["detail"] = (page or {}).get("error") or pages.get("skipped") or f"no {FIRST_OUTCOMES_PAGE} run"
        return row
    low = int(factor) < LARGE_FACTOR
    row["value"] = f"{page['cold_ms']:.0f} ms"
    row["status"] = _verdict(None if low else page["cold_ms"] <= FIRST_OUTCOMES_MS)
    row["detail"] = f"measured at {factor}x, not {LARGE_FACTOR}x" if low else ""
    return row


def download_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """"whole-table download at 300x: peak extra memory <= 300 MB", from the largest factor whose
    run has the downloads part; no row when no run has it. Below 300x the figure is shown and
    the target is not measured."""
    name = f"whole-table download at {DOWNLOAD_FACTOR}x: peak extra memory <= {DOWNLOAD_EXTRA_MB:.0f} MB"
    ran = [f for f, run in result.get("factors", {}).items() if "downloads" in run]
    if not ran:
        return []
    factor = max(ran, key=int)
    part = result["factors"][factor]["downloads"]
    rows = part.get("downloads", [])
    done = [r for r in rows if "extra_mb" in r]
    worst = max(done, key=lambda r: r["extra_mb"], default=None)
    detail = "; ".join([f"{r['viewer']} {r['extra_mb']:.0f} MB in {r['wall_ms'] / 1000:.0f} s, "
                        f"{r['bytes'] / 1e6:.0f} MB sent" for r in done]
                       + [f"{r['viewer']}: {r['error']}" for r in rows if "error" in r]
                       + ([part["skipped"]] if "skipped" in part else [])
                       + ([f"measured at {factor}x, not {DOWNLOAD_FACTOR}x"] if int(factor) < DOWNLOAD_FACTOR else []))
    ok = (None if worst is None or int(factor) < DOWNLOAD_FACTOR or len(done) < len(rows)
          else all(r["extra_mb"] <= DOWNLOAD_EXTRA_MB for r in done))
    return [{"target": name, "factor": factor, "value": worst and f"{worst['extra_mb']:.0f} MB ({worst['viewer']})",
             "limit": f"{DOWNLOAD_EXTRA_MB:.0f} MB", "status": _verdict(ok), "detail": detail}]


# ---------------------------------------------------------------- report


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_competitors(part: dict[str, Any]) -> None:
    """Per computation: median ms of the query layer, pandas and polars (same run, equal answers
    checked), the query layer's truly cold first answer, and the memory each side holds."""
    if not part.get("computations"):
        return
    load = part.get("load", {})
    loaded = part.get("load_ms", {})
    print(f"\n  query layer vs fair pandas {part.get('versions', {}).get('pandas', '')} and fair polars "
          f"{part.get('versions', {}).get('polars', '')}, same process and snapshot (load average "
          f"{load.get('start', ['-'])[0]} at the start, {load.get('end', ['-'])[0]} at the end; pandas loads in "
          f"{loaded.get('pandas', '-')} ms, polars in {loaded.get('polars', '-')} ms, once)")
    print(f"  {'computation':<38} {'ours ms':>8} {'pandas':>8} {'polars':>8} {'cold ms':>8} {'ours MB':>8} "
          f"{'pd MB':>7} {'pl MB':>7} {'peak MB o/pd/pl':>17} answers")
    for c in part["computations"]:
        if "error" in c or "query" not in c:
            print(f"  {c['computation']:<38} {c.get('error', 'not measured')[:90]}")
            continue
        memory = c.get("memory", {})
        cold = memory.get("query", {}).get("cold_first_s")
        peaks = "/".join(_mb(memory.get(side, {}).get("peak_mb")) for side in ("query", *COMPETITORS))
        same = "same" if c.get("is_same_answer") else "DIFFER"
        print(f"  {c['computation']:<38} {c['query']['median_ms']:>8.1f} {c['pandas']['median_ms']:>8.1f} "
              f"{c['polars']['median_ms']:>8.1f} {'-' if cold is None else f'{1000 * cold:.0f}':>8} "
              f"{_mb(_held(c, 'query')):>8} {_mb(_held(c, 'pandas')):>7} {_mb(_held(c, 'polars')):>7} "
              f"{peaks:>17} {same}")
    whole = part.get("all_computations_memory", {})
    if whole:
        print("  every computation in one process, held MB: " + ", ".join(
            f"{side} {_mb(whole.get(side, {}).get('held_mb'))} (peak {_mb(whole.get(side, {}).get('peak_mb'))})"
            for side in ("query", *COMPETITORS)))


def print_report(result: dict[str, Any]) -> None:
    for factor, run in result["factors"].items():
        print(f"\n=== x{factor}: {run['dataset']['rows'].get('indicator_observations', 0):,} observations, "
              f"{run['dataset']['rows'].get('facilities', 0):,} facilities ===")
        queries = run.get("queries", {})
        for module, why in queries.get("missing_modules", {}).items():
            print(f"  query module {module}: {why}")
        print(f"  {'query function':<48} {'variant':<9} {'median ms':>10} {'p95 ms':>9} {'cpu ms':>9} "
              f"{'first ms':>9}")
        for row in queries.get("functions", []):
            if "median_ms" in row:
                print(f"  {row['function']:<48} {row['variant']:<9} {row['median_ms']:>10.1f} {row['p95_ms']:>9.1f} "
                      f"{row['cpu_median_ms']:>9.1f} {row.get('first_ms', 0):>9.1f}")
            else:
                print(f"  {row['function']:<48} {row['variant']:<9} {row.get('error') or row.get('skipped')}")
        print_competitors(run.get("pandas", {}))
        disclosure = run.get("disclosure", {})
        if "audit_public" in disclosure:
            print(f"\n  disclosure protection from cold: CoC {disclosure['protect_coc_s']} s "
                  f"({disclosure['coc_years']} years), workforce {disclosure['protect_workers_s']} s "
                  f"({disclosure['worker_dates']} month ends), gated indicator series "
                  f"{disclosure['gate_indicator_series_s']} s")
            for role in ("audit_public", "audit_member"):
                a = disclosure[role]
                who = f" ({a['members']} members)" if "members" in a else ""
                print(f"  {role.replace('_', '-')}{who}: {a['seconds']} s, "
                      f"{'PASS' if a['ok'] else 'FAIL'}, {a['findings']} finding(s)")
        pages = run.get("pages", {})
        if pages.get("pages"):
            print(f"\n  {'page (AppTest)':<40} {'cold ms':>9} {'warm ms':>9} exceptions")
        for p in pages.get("pages", []):
            if "warm" in p:
                print(f"  {p['page']:<40} {p['cold_ms']:>9.0f} {p['warm']['median_ms']:>9.0f} {len(p['exceptions'])}")
            else:
                print(f"  {p['page']:<40} {p.get('error', '')[:80]}")
        server = run.get("server", {})
        browser = {p["page"]: p for p in server.get("browser_payload", [])}
        if server.get("protocol_payload"):
            print(f"\n  {'payload':<40} {'ws bytes':>10} {'chromium':>10} {'server warm ms':>15}")
        for p in server.get("protocol_payload", []):
            seen = browser.get(p["page"], {}).get("ws_bytes", "-")
            print(f"  {p['page']:<40} {p['protocol_bytes']:>10} {seen:>10} {p['server_warm_ms']:>15.0f}")
        if server.get("concurrency"):
            print(f"\n  {'sessions':>8} {'finished':>8} {'p50 ms':>8} {'p95 ms':>8} {'RSS/session MB':>15}")
        for w in server.get("concurrency", []):
            print(f"  {w['sessions']:>8} {w['finished']:>8} {w.get('time_median_ms', 0):>8.0f} "
                  f"{w.get('time_p95_ms', 0):>8.0f} {w['rss_per_session_mb']:>15.2f}")
        _print_browser(run)
        verification = run.get("verification", {})
        if "first_open_ms" in verification:
            recheck = verification["page_run_recheck"]
            print(f"\n  snapshot verification (once per snapshot per process, never per page run): "
                  f"{verification['files']} files, {verification['bytes'] / 1e6:.1f} MB hashed in "
                  f"{verification['first_open_ms']:.0f} ms ({verification['mb_per_s']} MB/s) at first open; "
                  f"each page run re-checks file identities in {recheck['median_ms']:.2f} ms (p95 "
                  f"{recheck['p95_ms']:.2f} ms), hashing {verification['files_hashed_on_page_runs']} files")
        register = run.get("register", {})
        if register.get("sorts"):
            print(f"\n  register of {register['rows']:,} rows sorted on the server, a page of {register['page_rows']} "
                  f"rows (load average {register.get('load_average_at_start', '-')} at the start): median ms of "
                  f"pages {register['pages_timed']}, the slowest against {register['target_ms']:.0f} ms, and every "
                  f"page once in turn")
            print(f"  {'sort by':<20} {'direction':<11} {'first':>7} {'middle':>7} {'last':>7} {'slowest':>8} "
                  f"{'its cpu':>8} {'target':>7} {'walk median':>12} {'walk max':>9} {'rows once':>9}")
        for s in register.get("sorts", []):
            by_page = [f"{p['median_ms']:>7.1f}" for p in s["pages"]]
            by_page = [*by_page, *["      -"] * (3 - len(by_page))]
            walk, once = s["walk"], "yes" if s["walk"]["is_every_row_once"] else "NO"
            slowest_cpu = next(p["cpu_median_ms"] for p in s["pages"] if p["page"] == s["worst_page"])
            print(f"  {s['sort_by']:<20} {'descending' if s['descending'] else 'ascending':<11} {' '.join(by_page)} "
                  f"{s['worst_page_median_ms']:>8.1f} {slowest_cpu:>8.1f} {'met' if s['is_met'] else 'MISSED':>7} "
                  f"{walk['median_ms']:>12.1f} {walk['max_ms']:>9.1f} {once:>9}")
        parts = {name: part for name, part in run.items() if isinstance(part, dict) and "load" in part}
        if parts:
            print("\n  load average (1 min) at the start / end of each part: " + ", ".join(
                f"{name} {part['load']['start'][0]} / {part['load']['end'][0]}"
                + (" BUSY" if part["load"]["is_busy"] else "") for name, part in parts.items()))
        for name, part in parts.items():
            if part["load"]["is_busy"]:
                print(f"  {busy_warning(name, part['load'])}")
    print("\n=== targets ===")
    for t in result["targets"]:
        at = f"x{t['factor']} " if t["factor"] else ""
        print(f"  [{t['status']:^12}] {at}{t['target']}: {t['value']} (limit {t['limit']})"
              + (f" - {t['detail']}" if t["detail"] else ""))


def _ms(stats: dict[str, Any] | None, key: str = "median_ms") -> str:
    return f"{stats[key]:.0f}" if stats else "-"


def _print_browser(run: dict[str, Any]) -> None:
    """The browser part per page (ms to the main chart drawn) and the cold bursts."""
    browser = run.get("browser", {})
    shell = browser.get("shell") or {}
    if browser.get("pages"):
        print(f"\n  in headless Chromium, ms from the start of navigation (filter: from the click), median/p95 "
              f"(load average {browser.get('load_average_start', '-')} at the start, "
              f"{browser.get('load_average_end', '-')} at the end)")
        if shell.get("title"):
            print(f"  Streamlit's own empty page: first paint {_ms(shell.get('fcp'))} ms, title "
                  f"{_ms(shell.get('title'))} ms; from the browser cache {_ms(shell.get('revisit_fcp'))} / "
                  f"{_ms(shell.get('revisit_title'))} ms; {shell.get('static_bytes', 0) / 1e6:.1f} MB of JavaScript "
                  f"and CSS")
        print(f"  {'page':<34} {'paint':>6} {'title':>6} {'warm':>6} {'p95':>6} {'cold':>6} {'p95':>6} "
              f"{'revisit':>7} {'filter':>7} {'p95':>6} {'run ms':>7}")
    for p in browser.get("pages", []):
        if "error" in p:
            print(f"  {p['page']:<34} {p['error'][:90]}")
            continue
        print(f"  {p['page']:<34} {_ms(p.get('warm_fcp')):>6} {_ms(p.get('warm_title')):>6} {_ms(p.get('warm')):>6} "
              f"{_ms(p.get('warm'), 'p95_ms'):>6} {_ms(p.get('cold')):>6} {_ms(p.get('cold'), 'p95_ms'):>6} "
              f"{_ms(p.get('revisit')):>7} {_ms(p.get('filter_change')):>7} {_ms(p.get('filter_change'), 'p95_ms'):>6} "
              f"{p.get('server_run_warm_ms') or '-':>7}")
        for problem in p.get("errors", []):
            print(f"    {problem[:110]}")
    bursts = run.get("burst", {}).get("bursts", [])
    if bursts:
        print(f"\n  {'cold burst, started as':<22} {'sessions':>8} {'finished':>8} {'failed':>7} {'p50 ms':>8} "
              f"{'p95 ms':>8} {'max ms':>8} {'server start ms':>15} {'load':>5}")
    for b in bursts:
        print(f"  {_mode(b):<22} {b['sessions']:>8} {b['finished']:>8} "
              f"{b['sessions'] - b['finished']:>7} "
              f"{b.get('time_median_ms', 0):>8.0f} {b.get('time_p95_ms', 0):>8.0f} {b.get('time_max_ms', 0):>8.0f} "
              f"{b.get('server_start_ms', 0):>15.0f} {b.get('load_average_at_start', '-'):>5}")


def _browser_unmeasured(factor: str, parts: dict[str, Any]) -> list[str]:
    """What the browser and burst parts failed to measure: no page timed, a page whose main chart
    was never drawn (or whose filter change never re-rendered), a burst in which sessions failed."""
    problems: list[str] = []
    browser = parts.get("browser")
    if isinstance(browser, dict) and not browser.get("skipped") and not browser.get("error"):
        pages = browser.get("pages") or []
        if not pages:
            problems.append(f"x{factor} browser: no page was timed")
        if (browser.get("shell") or {}).get("error") or not (browser.get("shell") or {}).get("title"):
            problems.append(f"x{factor} browser: Streamlit's empty page was not timed: "
                            f"{(browser.get('shell') or {}).get('error', 'no figures')}")
        for page in pages:
            if page.get("error"):
                problems.append(f"x{factor} browser {page['page']}: {page['error']}")
                continue
            problems += [f"x{factor} browser {page['page']}: {e}" for e in page.get("errors", [])]
            missing = [key for key in ("cold", "warm", "filter_change") if not page.get(key)]
            if missing and not page.get("errors"):
                problems.append(f"x{factor} browser {page['page']}: {', '.join(missing)} not timed")
    burst = parts.get("burst")
    if isinstance(burst, dict) and not burst.get("skipped") and not burst.get("error"):
        bursts = burst.get("bursts") or []
        if not bursts:
            problems.append(f"x{factor} burst: no burst was run")
        for b in bursts:
            which = f"x{factor} burst of {b['sessions']} ({_mode(b)})"
            if not b.get("finished"):
                why = "; ".join(b.get("errors", [])[:1])
                problems.append(f"{which}: no session finished after the restart"
                                + (f" ({why})" if why else ""))
            elif b["finished"] < b["sessions"]:
                problems.append(f"{which}: {b['finished']} of {b['sessions']} sessions "
                                f"finished after the restart")
    return problems


def unmeasured(result: dict[str, Any]) -> list[str]:
    """What a run failed to measure: parts skipped or in error, pages or queries that raised.

    A smoke run that reports these still "completes"; `--strict` (CI) turns them into a
    failure, so a benchmark that stops measuring something cannot go unnoticed.
    """
    problems: list[str] = []
    for factor, parts in result.get("factors", {}).items():
        problems += [
            f"x{factor} {name}: {part[key]}"
            for name in ("queries", "pandas", "pages", "disclosure", "server", "verification", "register", "browser",
                         "burst")
            if isinstance(part := parts.get(name), dict)
            for key in ("skipped", "error")
            if part.get(key)
        ]
        problems += [
            f"x{factor} register sorted by {s['sort_by']} {'descending' if s['descending'] else 'ascending'}: paging "
            f"through it gave {s['walk']['rows']} rows, not each of the {parts['register']['rows']} once"
            for s in (parts.get("register") or {}).get("sorts", [])
            if not s.get("walk", {}).get("is_every_row_once", True)
        ]
        problems += [
            f"x{factor} pandas/polars {entry['computation']}: "
            + (entry.get("error") or f"answers differ from the query layer's: {entry.get('agreement')}")
            for entry in (parts.get("pandas") or {}).get("computations", [])
            if entry.get("error") or not entry.get("is_same_answer", True)
        ]
        problems += [
            f"x{factor} pandas/polars {entry['computation']}: held memory of {side} not measured: {memory['error']}"
            for entry in (parts.get("pandas") or {}).get("computations", [])
            for side, memory in entry.get("memory", {}).items()
            if memory.get("error")
        ]
        problems += [
            f"x{factor} query {row['function']} ({row['variant']}): {row['error']}"
            for row in (parts.get("queries") or {}).get("functions", [])
            if row.get("error")
        ]
        problems += [
            f"x{factor} page {page['page']}: {page.get('error') or page['exceptions']}"
            for page in (parts.get("pages") or {}).get("pages", [])
            if page.get("error") or page.get("exceptions")
        ]
        disclosure = parts.get("disclosure")
        if isinstance(disclosure, dict) and not disclosure.get("skipped") and "audit_public" not in disclosure:
            problems.append(f"x{factor} disclosure: the audit was not timed")
        verification = parts.get("verification")
        if isinstance(verification, dict) and not verification.get("skipped") and not verification.get("error") and (
                not verification.get("files_hashed_first_open") or verification.get("files_hashed_on_page_runs")):
            problems.append(f"x{factor} verification: hashed {verification.get('files_hashed_first_open')} files on "
                            f"first open and {verification.get('files_hashed_on_page_runs')} on page runs")
        if isinstance(parts.get("pages"), dict) and "pages" in parts["pages"] and not parts["pages"]["pages"]:
            problems.append(f"x{factor} pages: no page was measured")
        problems += [
            f"x{factor} server: {wave['finished']} of {wave['sessions']} sessions finished"
            for wave in (parts.get("server") or {}).get("concurrency", [])
            if wave.get("finished", 0) < wave.get("sessions", 0)
        ]
        problems += _browser_unmeasured(factor, parts)
    return problems


def run_bench(factors: list[int] | None, quick: bool, json_path: Path, strict: bool = False) -> int:
    """Run the suite for `factors` (quick: demo size only, few repetitions) and write JSON to `json_path`.

    No `factors`: 1 and 100 with every part, then LARGE_FACTOR with LARGE_PARTS only (the rows
    that name 300x). With `strict`, exit 1 when anything was not measured (see `unmeasured`)."""
    plan: list[tuple[int, frozenset[str] | None]]
    if quick:
        plan = [(1, None)]
    elif factors:
        plan = [(f, None) for f in sorted(set(factors))]
    else:
        plan = [(1, None), (100, None), (LARGE_FACTOR, LARGE_PARTS)]
    source = Settings.from_env().data_dir
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine(),
        "source_snapshot": _source_id(source),
        "factors": {},
    }
    work = SCALED_ROOT / ".bench-work"  # per-part JSON and the server log; git-ignored with scaled-data/
    work.mkdir(parents=True, exist_ok=True)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    for factor, parts_only in plan:
        print(f"x{factor}:" + (f" ({', '.join(sorted(parts_only))} only)" if parts_only else ""), flush=True)
        result["factors"][str(factor)] = bench_factor(factor, source, quick, work, parts_only)
        result["targets"] = evaluate_targets(result)
        # written after every factor, so a long 100x run leaves its demo-size figures behind
        json_path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print_report(result)
    print(f"\nJSON written to {json_path}")
    problems = unmeasured(result)
    for problem in problems:
        print(f"NOT MEASURED: {problem}")
    return 1 if strict and problems else 0
