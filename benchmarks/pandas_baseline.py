"""The plain Streamlit + pandas way, side by side with the query layer.

Each computation exists twice: `query_*` calls the app's query layer (DuckDB over the
snapshot's Parquet files), `pandas_*` is how a typical Streamlit app would do it: read
the Parquet files into pandas once (`st.cache_data` would keep them), then filter,
merge and group in Python on every rerun. Both answer the public viewer with default
filters at the snapshot's as-of date.

Time is measured in this process: the query layer on a warm Store, pandas on frames
already loaded (its read time is reported separately). Peak memory is measured in a
fresh child process per computation and side (RSS high-water mark above the RSS right
before the work, so pandas counts its loaded frames and DuckDB its own buffers).

    python benchmarks/pandas_baseline.py --data-dir DIR --reps 7 --json OUT
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import REPO_ROOT, peak_rss_mb, reset_peak_rss, rss_mb, time_call, write_json

from asi_me.data.snapshot import current_folder
from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer

PUBLIC = Viewer.public()
MIN_REPORTERS = 5
MAX_DOMINANCE = 0.25


def load_frames(folder: Path, names: list[str]) -> dict[str, pd.DataFrame]:
    """What `@st.cache_data def load(): return pd.read_parquet(...)` would hold."""
    frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in names}
    frames["countries"] = pd.read_csv(REPO_ROOT / "asi_me" / "reference" / "countries.csv", keep_default_na=False)
    return frames


def month_ends(start: date, end: date) -> list[pd.Timestamp]:
    out = list(pd.date_range(start, end, freq="ME"))
    if not out or out[-1].date() != end:
        out.append(pd.Timestamp(end))
    return out


def _ts(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(frame[column])


def status_on(certs: pd.DataFrame, on: pd.Timestamp) -> pd.Series:
    """Certification status on a date, the usual np.select way."""
    issued, expires, changed = _ts(certs, "issued_on"), _ts(certs, "expires_on"), _ts(certs, "status_changed_on")
    return pd.Series(np.select(
        [issued > on,
         certs["status"].isin(["withdrawn", "suspended"]) & (changed <= on),
         expires <= on,
         certs["certification_type"] == "provisional"],
        [None, certs["status"], "expired", "provisional"],
        default="certified",
    ), index=certs.index)


# ---------------------------------------------------------------- the computations


def pandas_dashboard_tiles(f: dict[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    members, certs, facilities = f["members"], f["certifications"], f["facilities"]
    certs = certs.merge(facilities[["facility_id", "country", "workers"]], on="facility_id")
    firms, training, meetings = f["auditing_firms"], f["training_records"], f["governance_meetings"]
    rows = []
    for on in month_ends(date(2015, 1, 1), as_of):
        joined, left = _ts(members, "joined_on"), _ts(members, "left_on")
        status = status_on(certs, on)
        valid = certs[status.isin(["certified", "provisional"])]
        ps_valid = valid[valid["standard"] == "PS"]
        issued = certs[_ts(certs, "issued_on") <= on]
        accredited = firms[(_ts(firms, "accredited_on") <= on)
                           & (firms["accreditation_ended_on"].isna() | (_ts(firms, "accreditation_ended_on") > on))]
        done = training[_ts(training, "completed_on") <= on]
        held = meetings[_ts(meetings, "held_on") <= on]
        rows.append({
            "on_date": on,
            "members": int(((joined <= on) & (left.isna() | (left > on))).sum()),
            "ps_issued": int((issued["standard"] == "PS").sum()),
            "coc_issued": int((issued["standard"] == "CoC").sum()),
            "ps_valid": len(ps_valid),
            "coc_valid": int((valid["standard"] == "CoC").sum()),
            "countries_valid": valid["country"].nunique(),
            "ps_external_share": 100 * ps_valid["external_certifications"].map(len).gt(0).mean() if len(ps_valid)
            else None,
            "ps_workers": int(ps_valid.drop_duplicates("facility_id")["workers"].sum()),
            "auditing_firms": len(accredited),
            "auditor_countries": len({c for cs in accredited["countries"] for c in cs}),
            "auditors_trained": done.loc[done["audience"] == "auditor", "person_ref"].nunique(),
            "members_stakeholders_trained": done.loc[done["audience"] != "auditor", "person_ref"].nunique(),
            "ipaf_meetings": int((held["body"] == "ipaf").sum()),
            "board_meetings": int((held["body"] == "board").sum()),
            "standards_committee_meetings": int((held["body"] == "standards_committee").sum()),
        })
    return pd.DataFrame(rows)


REGISTER_COLUMNS = [
    "certification_id", "facility_id", "facility_name", "member_id", "member_name", "membership_class", "country",
    "country_name", "region", "latitude", "longitude", "activities", "standard", "standard_version",
    "certification_type", "status", "issued_on", "expires_on", "status_changed_on", "scope", "auditing_firm_id",
    "auditing_firm_name", "external_certifications",
]
REGISTER_ROWS = 500  # what the certification map shows (pages/map.py REGISTER_ROW_LIMIT)
STATUS_LABELS = {"certified": "Certified", "provisional": "Provisional", "suspended": "Suspended",
                 "withdrawn": "Withdrawn", "expired": "Expired"}


def pandas_register(f: dict[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    """The whole register as of a date: merge, filter on the issue date, status on the date, sort."""
    on = pd.Timestamp(as_of)
    reg = (
        f["certifications"]
        .merge(f["facilities"].rename(columns={"name": "facility_name"}), on="facility_id")
        .merge(f["members"][["member_id", "name", "membership_class"]].rename(columns={"name": "member_name"}),
               on="member_id")
        .merge(f["countries"], on="country", how="left")
        .merge(f["auditing_firms"][["auditing_firm_id", "name"]].rename(columns={"name": "auditing_firm_name"}),
               on="auditing_firm_id", how="left")
    )
    reg = reg[_ts(reg, "issued_on") <= on].copy()
    reg["status"] = status_on(reg, on)
    changed = _ts(reg, "status_changed_on")
    reg["status_changed_on"] = changed.where(reg["status"].isin(["withdrawn", "suspended"]) & (changed <= on))
    return reg.sort_values(["country", "facility_name", "standard", "issued_on", "certification_id"])[REGISTER_COLUMNS]


def pandas_register_page(f: dict[str, pd.DataFrame], as_of: date) -> tuple[pd.DataFrame, int, int]:
    """What the map's register shows: its first rows (ids blanked for the public, status in
    words), the number of certifications and the number of countries."""
    reg = pandas_register(f, as_of)
    head = reg.head(REGISTER_ROWS).copy()
    head["status_label"] = head["status"].map(STATUS_LABELS)
    head["facility_id"] = head["member_id"] = None
    return head, len(reg), reg["country"].nunique()
def pandas_certificates_over_time(f: dict[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    certs = f["certifications"]
    rows = []
    for on in month_ends(date(2018, 1, 1), as_of):
        status = status_on(certs, on)
        issued = certs[_ts(certs, "issued_on") <= on]
        valid = certs[status.isin(["certified", "provisional"])]
        rows.extend(
            {"month_on": on, "group_value": standard,
             "certificates_issued": int((issued["standard"] == standard).sum()),
             "certificates_valid": int((valid["standard"] == standard).sum())}
            for standard in ("PS", "CoC")
        )
    return pd.DataFrame(rows)


_RANK = {"certified": 0, "provisional": 1, "suspended": 2, "withdrawn": 3, "expired": 4}
MAX_POINTS = 3000  # markers the map draws before it groups facilities into grid cells
CELL_SIZES = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 45.0, 90.0, 180.0, 360.0)


def pandas_points_and_countries(f: dict[str, pd.DataFrame], as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The map's markers (one per facility, or grid cells beyond MAX_POINTS facilities) and
    its country aggregates, from the register the usual pandas way."""
    reg = pandas_register(f, as_of)
    reg["rank"] = reg["status"].map(_RANK)
    best = reg.sort_values(["facility_id", "rank"]).drop_duplicates("facility_id")
    standards = reg.groupby("facility_id")["standard"].agg(lambda s: "both" if s.nunique() > 1 else s.iloc[0])
    points = best.set_index("facility_id").assign(standard_key=standards).dropna(subset=["latitude", "longitude"])
    points = points.reset_index().sort_values(["country", "facility_name", "facility_id"])
    if len(points) > MAX_POINTS:
        for cell_deg in CELL_SIZES:
            cells = _grid_cells(points, cell_deg)
            if len(cells) <= MAX_POINTS:
                break
        points = cells
    valid = reg[reg["status"].isin(["certified", "provisional"])]
    countries = reg.groupby("country").agg(
        country_name=("country_name", "first"), region=("region", "first"),
        certifications_shown=("certification_id", "size"))
    countries["certified_facilities"] = valid.groupby("country")["facility_id"].nunique()
    countries["ps_certificates"] = valid[valid["standard"] == "PS"].groupby("country").size()
    countries["coc_certificates"] = valid[valid["standard"] == "CoC"].groupby("country").size()
    centroids = reg.drop_duplicates("facility_id").groupby("country")[["latitude", "longitude"]].mean()
    countries = countries.fillna({"certified_facilities": 0, "ps_certificates": 0, "coc_certificates": 0})
    countries = countries.join(centroids).reset_index()
    countries = countries.sort_values(["certified_facilities", "country"], ascending=[False, True])
    return points, countries


def _grid_cells(points: pd.DataFrame, cell_deg: float) -> pd.DataFrame:
    """Facilities grouped into cells of cell_deg degrees: mean position, count, most frequent status and standard."""
    binned = points.assign(lat_bin=(points["latitude"] // cell_deg).astype("int64"),
                           lon_bin=(points["longitude"] // cell_deg).astype("int64"))
    keys = ["lat_bin", "lon_bin"]
    cells = binned.groupby(keys).agg(latitude=("latitude", "mean"), longitude=("longitude", "mean"),
                                     n_facilities=("facility_id", "size"))
    status = (binned.groupby([*keys, "status", "rank"]).size().rename("n").reset_index()
              .sort_values([*keys, "n", "rank"], ascending=[True, True, False, True])
              .drop_duplicates(keys).set_index(keys)["status"])
    standard = (binned.groupby([*keys, "standard_key"]).size().rename("n").reset_index()
                .sort_values([*keys, "n", "standard_key"], ascending=[True, True, False, True])
                .drop_duplicates(keys).set_index(keys)["standard_key"])
    return cells.assign(status=status, standard_key=standard, is_cell=True, cell_deg=cell_deg).reset_index(drop=True)


def pandas_coc_stage_flows(f: dict[str, pd.DataFrame], year: int) -> pd.DataFrame:
    lines = f["coc_reports"]
    lines = lines[lines["reporting_year"] == year].merge(
        f["facilities"][["facility_id", "member_id"]], on="facility_id")
    lines = lines.assign(volume_t=lines["input_t"] + lines["output_t"])
    flows = lines.groupby(["stage", "material"], as_index=False)[["input_t", "output_t", "carried_forward_t"]].sum()
    active = lines[lines["volume_t"] > 0]
    reporters = active.groupby("stage")["member_id"].nunique().rename("reporters")
    by_company = active.groupby(["stage", "member_id"])["output_t"].sum()
    top_share = (by_company.groupby("stage").max() / by_company.groupby("stage").sum()).rename("top_share")
    flows = flows.merge(reporters, on="stage", how="left").merge(top_share, on="stage", how="left")
    hidden = (flows["reporters"].fillna(0) < MIN_REPORTERS) | (flows["top_share"] > MAX_DOMINANCE)
    flows.loc[hidden, ["input_t", "output_t", "carried_forward_t"]] = np.nan
    flows["note"] = np.where(hidden, f"suppressed (fewer than {MIN_REPORTERS} reporters)", None)
    return flows


def pandas_indicator_series_and_status(f: dict[str, pd.DataFrame], code: str, as_of: date) -> pd.DataFrame:
    obs, indicators = f["indicator_observations"], f["indicators"]
    on = pd.Timestamp(as_of)
    series = obs[(obs["indicator_code"] == code) & (obs["dimension"] == "total")
                 & (_ts(obs, "period_on") <= on)].sort_values("period_on")
    totals = obs[(obs["dimension"] == "total") & (_ts(obs, "period_on") <= on)]
    latest = totals.sort_values("period_on").groupby("indicator_code").tail(1)
    status = indicators.merge(latest[["indicator_code", "period_on", "value"]], on="indicator_code", how="left")
    good_up = status["direction"] == "increase"
    status["is_on_track"] = np.where(good_up, status["value"] >= status["baseline_value"],
                                     status["value"] <= status["baseline_value"])
    return pd.concat([series.assign(kind="series"), status.assign(kind="status")], ignore_index=True)


# ---------------------------------------------------------------- the pairs


@dataclass(frozen=True)
class Computation:
    name: str
    tables: tuple[str, ...]
    query: Callable[[Store, dict[str, Any]], Any]
    pandas: Callable[[dict[str, pd.DataFrame], dict[str, Any]], Any]


def _outcomes() -> Any:
    from asi_me.queries import outcomes

    return outcomes


def _certifications() -> Any:
    from asi_me.queries import certifications

    return certifications


def _coc() -> Any:
    from asi_me.queries import coc

    return coc


def _toc() -> Any:
    from asi_me.queries import toc

    return toc


COMPUTATIONS: list[Computation] = [
    Computation(
        "dashboard tiles",
        ("members", "certifications", "facilities", "auditing_firms", "training_records", "governance_meetings"),
        lambda s, a: _outcomes().dashboard_tiles(s, PUBLIC, Filters()),
        lambda f, a: pandas_dashboard_tiles(f, a["as_of"]),
    ),
    Computation(
        "certificate register as of a date",
        ("certifications", "facilities", "members", "auditing_firms"),
        # what the map's register shows: the first rows, the count and the countries
        lambda s, a: _certifications().certification_register_page(s, PUBLIC, Filters(as_of=a["register_on"]),
                                                                    limit=REGISTER_ROWS),
        lambda f, a: pandas_register_page(f, a["register_on"]),
    ),
    Computation(
        "certificates over time by standard",
        ("certifications", "facilities", "members"),
        lambda s, a: _outcomes().certificates_over_time(s, PUBLIC, Filters(), by="standard"),
        lambda f, a: pandas_certificates_over_time(f, a["as_of"]),
    ),
    Computation(
        "facility points + country aggregates",
        ("certifications", "facilities", "members", "auditing_firms"),
        lambda s, a: (_certifications().facility_points(s, PUBLIC, Filters()),
                      _certifications().country_aggregates(s, PUBLIC, Filters())),
        lambda f, a: pandas_points_and_countries(f, a["as_of"]),
    ),
    Computation(
        "CoC stage flows for a year",
        ("coc_reports", "facilities"),
        lambda s, a: _coc().coc_stage_flows(s, PUBLIC, a["coc_year"], Filters()),
        lambda f, a: pandas_coc_stage_flows(f, a["coc_year"]),
    ),
    Computation(
        "indicator series + status",
        ("indicator_observations", "indicators"),
        lambda s, a: (_toc().indicator_series(s, PUBLIC, a["indicator_code"], "total", Filters()),
                      _toc().indicator_status(s, PUBLIC, Filters())),
        lambda f, a: pandas_indicator_series_and_status(f, a["indicator_code"], a["as_of"]),
    ),
]


def arguments(store: Store) -> dict[str, Any]:
    """The as-of date, a register date a year earlier, the latest CoC year and the first indicator."""
    as_of = store.as_of(None)
    years = store.query("select max(reporting_year) as y from coc_reports")["y"]
    code = store.query("select min(indicator_code) as c from indicators")["c"]
    return {
        "as_of": as_of,
        "register_on": date(as_of.year - 1, 12, 31),
        "coc_year": int(years.iloc[0]) if len(years) and not pd.isna(years.iloc[0]) else as_of.year - 1,
        "indicator_code": str(code.iloc[0]) if len(code) and code.iloc[0] is not None else "OP-01",
    }


def _rows(result: Any) -> int:
    if isinstance(result, tuple):
        return sum(_rows(r) for r in result)
    if isinstance(result, pd.DataFrame):
        return len(result)
    if isinstance(result, int):  # a count beside the rows (the register's total)
        return 0
    rows = getattr(result, "rows", None)
    if isinstance(rows, pd.DataFrame):
        return len(rows)
    tiles = getattr(result, "tiles", None)
    return len(tiles) if tiles is not None else 1


def measure_memory(folder: Path, name: str, side: str) -> dict[str, Any]:
    """Peak RSS above the starting RSS of one run of one side, in this (fresh) process."""
    computation = next(c for c in COMPUTATIONS if c.name == name)
    store = Store(folder)
    args = arguments(store)
    if side == "pandas":
        store.close()
    gc.collect()
    has_reset = reset_peak_rss()
    before = rss_mb()
    t0 = time.perf_counter()
    if side == "query":
        computation.query(store, args)
    else:
        computation.pandas(load_frames(folder, list(computation.tables)), args)
    elapsed = time.perf_counter() - t0
    peak = peak_rss_mb()
    return {"peak_mb": round(peak - before, 1), "rss_before_mb": round(before, 1), "first_run_s": round(elapsed, 3),
            "peak_is_reset": has_reset}


def _child_memory(folder: Path, name: str, side: str, timeout_s: float) -> dict[str, Any]:
    command = [sys.executable, __file__, "--folder", str(folder), "--memory", name, "--side", side]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False, cwd=REPO_ROOT)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(folder: Path, reps: int, memory: bool) -> dict[str, Any]:
    store = Store(folder)
    args = arguments(store)
    results = []
    for computation in COMPUTATIONS:
        entry: dict[str, Any] = {"computation": computation.name}
        try:
            computation.query(store, args)  # warm: the Store is opened once per process, like the app's cache
            entry["query"], query_result = time_call(lambda c=computation: c.query(store, args), reps)
            t0 = time.perf_counter()
            frames = load_frames(folder, list(computation.tables))
            entry["pandas_load_ms"] = round(1000 * (time.perf_counter() - t0), 1)
            entry["pandas"], pandas_result = time_call(lambda c=computation, fr=frames: c.pandas(fr, args), reps)
            del frames
            entry["query_rows"], entry["pandas_rows"] = _rows(query_result), _rows(pandas_result)
            entry["time_ratio"] = round(entry["pandas"]["median_ms"] / max(entry["query"]["median_ms"], 0.01), 1)
            entry["time_ratio_with_load"] = round(
                (entry["pandas"]["median_ms"] + entry["pandas_load_ms"]) / max(entry["query"]["median_ms"], 0.01), 1
            )
        except Exception as exc:  # report and go on: one missing query module must not stop the rest
            entry["error"] = f"{type(exc).__name__}: {exc}"
            results.append(entry)
            continue
        if memory:
            timeout = 60 + 30 * (entry["pandas"]["median_ms"] + entry["pandas_load_ms"]) / 1000
            query_mem = _child_memory(folder, computation.name, "query", timeout)
            pandas_mem = _child_memory(folder, computation.name, "pandas", timeout)
            entry["query_memory"], entry["pandas_memory"] = query_mem, pandas_mem
            if "peak_mb" in query_mem and "peak_mb" in pandas_mem:
                entry["memory_ratio"] = round(max(query_mem["peak_mb"], 0.1) / max(pandas_mem["peak_mb"], 0.1), 3)
        results.append(entry)
    store.close()
    return {"arguments": {k: str(v) for k, v in args.items()}, "computations": results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="data folder (its CURRENT snapshot is measured)")
    parser.add_argument("--folder", type=Path, help="snapshot folder (instead of --data-dir)")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--memory", help="internal: measure the peak memory of one computation")
    parser.add_argument("--side", choices=["query", "pandas"])
    args = parser.parse_args()
    folder = args.folder or current_folder(args.data_dir)
    if args.memory:
        print(json.dumps(measure_memory(folder, args.memory, args.side)))
        return 0
    result = run(folder, args.reps, memory=not args.no_memory)
    if args.json:
        write_json(args.json, result)
    else:
        print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
