"""Ingest speed: validate and ingest a 1,000,000-row indicator_observations CSV.

Run: `python benchmarks/ingest_bench.py [--rows N] [--bad N]`. It builds a data
folder in a temporary directory holding the small valid fixture set, writes an
indicator_observations.csv of N rows (optionally with N bad cells), and times
`validate` and `ingest` through the same code path as the CLI. Prints figures;
asserts nothing about time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from asi_me.data.snapshot import current_manifest  # noqa: E402
from asi_me.ingest.pipeline import run_cli  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "ingest_valid"


def write_observations(path: Path, rows: int, bad: int, seed: int = 7) -> None:
    """A realistic observations export: 50 indicators x monthly periods x disaggregations."""
    rng = np.random.default_rng(seed)
    codes = np.array(["UP-01", "ST-03"])
    dims = np.array(["total", "region", "membership_class", "activity", "standard", "principle", "gender"])
    # Unique keys: row i -> (indicator, period, dimension, dimension value) by mixed radix.
    i = np.arange(rows)
    code = codes[i % 2]
    dim = dims[(i // 2) % len(dims)]
    period_index = (i // (2 * len(dims))) % 1200
    value_index = i // (2 * len(dims) * 1200)
    periods = pd.date_range("2015-01-01", periods=1200, freq="MS").strftime("%Y-%m-%d").to_numpy()
    frame = pd.DataFrame(
        {
            "indicator_code": code,
            "period_on": periods[period_index],
            "dimension": dim,
            "dimension_value": np.char.add("v", value_index.astype(str)),
            "value": np.round(rng.uniform(0, 1000, rows), 3),
            "status": np.where(rng.random(rows) < 0.9, "final", "provisional"),
        }
    )
    if bad:
        where = rng.choice(rows, size=bad, replace=False)
        frame["status"] = frame["status"].astype(object)
        frame.loc[where, "status"] = "draft"
    frame.to_csv(path, index=False)


def write_training_export(path: Path, rows: int, seed: int = 11) -> None:
    """An educationAl export as it arrives: the learner's role as a label, countries as English names,
    completion dates as full dates and (one row in ten) only a month, read through the educational-training
    profile."""
    rng = np.random.default_rng(seed)
    roles = np.array(["Auditor", "Member company staff", "Stakeholder", "ASI Auditor", "member"])
    countries = np.array(["Germany", "Norway", "Australia", "Brazil", "China", "Canada", "India", "GB", "france"])
    days = pd.date_range("2017-01-01", periods=3000, freq="D")
    full = days.strftime("%Y-%m-%d").to_numpy()
    month = days.strftime("%B %Y").to_numpy()
    pick = rng.integers(0, len(days), rows)
    completed = np.where(rng.random(rows) < 0.9, full[pick], month[pick])
    frame = pd.DataFrame({
        "Completion ID": np.char.add("C", np.arange(rows).astype(str)),
        "Learner": np.char.add("P", rng.integers(0, rows // 3 + 1, rows).astype(str)),
        "Learner Role": roles[rng.integers(0, len(roles), rows)],
        "Course Name": "ASI Performance Standard V3 auditor training",
        "Completed": completed,
        "Learner Country": countries[rng.integers(0, len(countries), rows)],
    })
    frame.to_csv(path, index=False)


def timed(args: list[Path], data_dir: Path, dry_run: bool, **options) -> tuple[float, int]:
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = run_cli(args, data_dir, dry_run=dry_run, report=data_dir.parent / "report.csv", **options)
    return time.perf_counter() - started, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad", type=int, default=0, help="cells to spoil (validation must report them all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data_dir = root / "data"
        with contextlib.redirect_stdout(io.StringIO()):
            run_cli([FIXTURES], data_dir, dry_run=False)
        csv_path = root / "indicator_observations.csv"
        started = time.perf_counter()
        write_observations(csv_path, args.rows, args.bad)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows ({size_mb:.1f} MB) in {time.perf_counter() - started:.1f} s")
        seconds, code = timed([csv_path], data_dir, dry_run=True)
        print(f"validate: {seconds:.2f} s, exit {code} ({args.rows / seconds:,.0f} rows/s)")
        export = root / "educationAl_completions.csv"
        write_training_export(export, args.rows)
        print(f"generated an educationAl export of {args.rows:,} rows ({export.stat().st_size / 1e6:.1f} MB)")
        seconds, code = timed([export], data_dir, dry_run=True, profile="educational-training")
        print(f"validate with profile educational-training: {seconds:.2f} s, exit {code} "
              f"({args.rows / seconds:,.0f} rows/s)")
        if args.bad:
            report = pd.read_csv(root / "report.csv")
            print(f"problems in report: {len(report):,}")
        seconds, code = timed([csv_path], data_dir, dry_run=False)
        print(f"ingest:   {seconds:.2f} s, exit {code} ({args.rows / seconds:,.0f} rows/s)")
        if code == 0:
            rows = current_manifest(data_dir).tables["indicator_observations"]["rows"]
            print(f"current snapshot holds {rows:,} indicator_observations rows")
        seconds, code = timed([csv_path], data_dir, dry_run=False)
        print(f"re-ingest of identical file: {seconds:.2f} s, exit {code}")
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
