"""Scaled data: a snapshot N times the demo's size with the same shape, for benchmarks.

`write_scaled(factor, out_dir)` reads the current snapshot of the data folder (the
committed demo) and writes N copies of every entity table into a new snapshot under
`out_dir`. Copy 0 is the demo itself, untouched, so its seeded cases stay findable;
copy k > 0 carries ids suffixed "-x<k>", names suffixed "#<k>", coordinates and values
jittered, and every date of a record shifted by the same 0-30 days back in time, so
references stay valid and no record lands after the demo's "data as of" date. CoC
lines are multiplied by one factor per line for input, output and carried-forward
alike, so the mass balance holds exactly where the demo's does and fails only for
copies of the demo's deliberate failures. Reference tables (auditing firms, the Theory
of Change, evidence, governance meetings, global totals) are not copied. Indicators are
copied with their observations, so one indicator's series keeps the demo's length
while the table grows N-fold.

Everything is built column by column with pyarrow/numpy, table by table, and written
sorted so DuckDB can skip row groups (observations by indicator and period).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import (
    NoSnapshotError,
    arrow_schema,
    current_folder,
    current_manifest,
    read_table,
    write_snapshot,
)
from asi_me.settings import REPO_ROOT, Settings

SEED = 20260100
MAX_SHIFT_DAYS = 30

# Tables copied N times: id columns that get the copy suffix, name columns that get "#k",
# date columns shifted with the record's copy.
_COPIED: dict[str, dict[str, tuple[str, ...]]] = {
    "members": {"ids": ("member_id",), "names": ("name",), "dates": ("joined_on", "left_on")},
    "facilities": {"ids": ("facility_id", "member_id"), "names": ("name",), "dates": ()},
    "certifications": {
        "ids": ("certification_id", "facility_id"), "names": (),
        "dates": ("issued_on", "expires_on", "status_changed_on"),
    },
    "audits": {"ids": ("audit_id", "certification_id"), "names": (), "dates": ("audited_on",)},
    "audit_findings": {"ids": ("audit_id",), "names": (), "dates": ()},
    "coc_reports": {"ids": ("facility_id",), "names": (), "dates": ()},
    "indicators": {"ids": ("indicator_code",), "names": ("name",), "dates": ()},
    "indicator_observations": {"ids": ("indicator_code",), "names": (), "dates": ()},
    "training_records": {"ids": ("record_id", "person_ref"), "names": (), "dates": ("completed_on",)},
    "smelter_emissions": {"ids": ("facility_id",), "names": (), "dates": ()},
}

_FLOORED = ("joined_on", "completed_on")

# Parquet sort order per table, so row-group statistics let DuckDB prune.
SORT_KEYS: dict[str, list[tuple[str, str]]] = {
    "indicator_observations": [("indicator_code", "ascending"), ("period_on", "ascending"),
                               ("dimension", "ascending"), ("dimension_value", "ascending")],
    "indicators": [("indicator_code", "ascending")],
    "certifications": [("issued_on", "ascending"), ("certification_id", "ascending")],
    "audits": [("certification_id", "ascending"), ("audited_on", "ascending")],
    "audit_findings": [("audit_id", "ascending"), ("criterion", "ascending")],
    "coc_reports": [("reporting_year", "ascending"), ("stage", "ascending"), ("facility_id", "ascending")],
    "facilities": [("country", "ascending"), ("facility_id", "ascending")],
    "members": [("joined_on", "ascending"), ("member_id", "ascending")],
    "training_records": [("completed_on", "ascending"), ("record_id", "ascending")],
    "smelter_emissions": [("year", "ascending"), ("facility_id", "ascending")],
}


class ScaleError(ValueError):
    """The scale request cannot be carried out; the message says why and what to do."""


def suffix(copy: int) -> str:
    """The id suffix of copy `copy` (empty for the original)."""
    return "" if copy == 0 else f"-x{copy}"


def _copy_index(n: int, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions in the source and the copy number of every output row (copy-major)."""
    return np.tile(np.arange(n, dtype=np.int64), factor), np.repeat(np.arange(factor, dtype=np.int64), n)


def _suffixed(column: pa.ChunkedArray | pa.Array, copies: np.ndarray, template: str) -> pa.Array:
    """`column` with the copy's suffix appended (copy 0 unchanged); nulls stay null."""
    labels = np.array(["" if k == 0 else template.format(k=k) for k in range(int(copies.max()) + 1)], dtype=object)
    suffixes = pa.array(labels[copies], type=pa.string())
    return pc.binary_join_element_wise(column, suffixes, "")


def _shifted(column: pa.ChunkedArray, shift_days: np.ndarray, floor: date | None) -> pa.Array:
    """Dates moved by `shift_days` (<= 0), never before `floor` (the column's first date)."""
    days = pc.cast(column, pa.int32())
    moved = pc.add(days, pa.array(shift_days.astype(np.int32)))
    if floor is not None:
        moved = pc.max_element_wise(moved, pa.scalar((floor - date(1970, 1, 1)).days, pa.int32()))
    return pc.cast(moved, pa.date32())


def _round_to(values: np.ndarray, mode: str) -> np.ndarray:
    """Round tonnes to 0.1 t the way the demo does: outputs down, inputs and balances up."""
    scaled = values * 10
    return (np.floor(scaled) if mode == "down" else np.ceil(scaled - 1e-9)) / 10


def scale_table(name: str, table: pa.Table, factor: int, *, rng: np.random.Generator,
                shift_by_copy: np.ndarray, as_of: date | None) -> pa.Table:
    """`factor` copies of one table (copy 0 the original), with ids, names, dates and values per copy."""
    spec = _COPIED.get(name)
    if spec is None or factor == 1 or table.num_rows == 0:
        return table
    n = table.num_rows
    source_rows, copies = _copy_index(n, factor)
    out = table.take(pa.array(source_rows))
    is_copy = copies > 0
    columns: dict[str, pa.Array | pa.ChunkedArray] = {c: out[c] for c in out.column_names}
    for column in spec["ids"]:
        columns[column] = _suffixed(out[column], copies, "-x{k}")
    for column in spec["names"]:
        columns[column] = _suffixed(out[column], copies, " #{k}")
    shift = shift_by_copy[copies]
    for column in spec["dates"]:
        # Series start at the first join / course date; copies must not start earlier.
        floor = pc.min(table[column]).as_py() if column in _FLOORED else None
        columns[column] = _shifted(out[column], shift, floor)

    if name == "facilities":
        for column, bound in (("latitude", 89.9), ("longitude", 179.9)):
            values = out[column].to_numpy(zero_copy_only=False).astype(float)
            jitter = np.where(is_copy, rng.normal(0.0, 0.08, len(values)), 0.0)
            moved = np.round(np.clip(values + jitter, -bound, bound), 4)
            columns[column] = pa.array(moved, type=pa.float64(), mask=np.isnan(values))
        workers = out["workers"].to_numpy().astype(float)
        factor_w = np.where(is_copy, rng.uniform(0.85, 1.15, n * factor), 1.0)
        columns["workers"] = pa.array(np.clip(np.round(workers * factor_w), 0, 1_000_000).astype(np.int64))
    elif name == "certifications" and as_of is not None:
        # The export's status follows the (shifted) expiry date, as in the demo.
        expires = columns["expires_on"]
        still_valid = pc.is_in(out["status"], pa.array(["certified", "provisional"]))
        lapsed = pc.and_(still_valid, pc.less_equal(expires, pa.scalar(as_of, pa.date32())))
        columns["status"] = pc.if_else(lapsed, pa.scalar("expired"), out["status"])
    elif name == "coc_reports":
        # One multiplier per line for input, output and balance keeps the mass balance exactly.
        m = np.where(is_copy, rng.uniform(0.9, 1.1, n * factor), 1.0)
        for column, mode in (("input_t", "up"), ("output_t", "down"), ("carried_forward_t", "up")):
            values = out[column].to_numpy()
            columns[column] = pa.array(np.where(is_copy, _round_to(values * m, mode), values))
    elif name == "indicator_observations":
        values = out["value"].to_numpy()
        m = np.where(is_copy, 1.0 + rng.normal(0.0, 0.02, n * factor), 1.0)
        columns["value"] = pa.array(np.round(values * m, 4))
    elif name == "smelter_emissions":
        values = out["ghg_intensity_t_per_t"].to_numpy()
        m = np.where(is_copy, rng.uniform(0.95, 1.05, n * factor), 1.0)
        columns["ghg_intensity_t_per_t"] = pa.array(np.clip(np.round(values * m, 3), 0.0, 100.0))
    return pa.table(columns, schema=table.schema)


def scale_tables(tables: dict[str, pa.Table], factor: int, as_of: date | None, seed: int = SEED) -> dict[str, pa.Table]:
    """Every table of the contract at `factor` times the size (see the module docstring)."""
    if factor < 1:
        raise ScaleError(f"The scale factor must be at least 1, got {factor}.")
    rng = np.random.default_rng(seed)
    shift_by_copy = np.concatenate([[0], -rng.integers(0, MAX_SHIFT_DAYS + 1, max(factor - 1, 0))]).astype(np.int64)
    out: dict[str, pa.Table] = {}
    for name in TABLES:
        table = tables[name].cast(arrow_schema(TABLES[name]))
        scaled = scale_table(name, table, factor, rng=np.random.default_rng([seed, len(out)]),
                             shift_by_copy=shift_by_copy, as_of=as_of)
        keys = SORT_KEYS.get(name)
        out[name] = scaled.sort_by(keys) if keys and factor > 1 else scaled
    return out


def source_tables(data_dir: Path) -> tuple[dict[str, pa.Table], date | None, str]:
    """The tables of the data folder's current snapshot (else a freshly built demo), its as-of date and id."""
    try:
        folder = current_folder(data_dir)
    except NoSnapshotError:
        from asi_me.demo.generate import AS_OF, build_tables  # noqa: PLC0415 - only when no snapshot exists

        tables = build_tables()
        return {name: tables.get(name, arrow_schema(TABLES[name]).empty_table()) for name in TABLES}, AS_OF, "demo"
    manifest = current_manifest(data_dir)
    as_of = date.fromisoformat(manifest.data_as_of) if manifest.data_as_of else None
    return {name: read_table(folder, name) for name in TABLES}, as_of, manifest.snapshot_id


def write_scaled(factor: int, out_dir: Path, source_dir: Path | None = None) -> str:
    """Write a snapshot `factor` times the demo's size into `out_dir` and return its id.

    Refuses to write into the committed data folder (scaled data is never committed).
    """
    if factor < 1:
        raise ScaleError(f"The scale factor must be at least 1, got {factor}; use e.g. --factor 100.")
    out_dir = out_dir.resolve()
    protected = (REPO_ROOT / "data").resolve()
    if out_dir == protected or protected in out_dir.parents:
        raise ScaleError(
            f"Will not write scaled data into {out_dir}: it is inside the committed data folder {protected}. "
            "Choose another folder, e.g. --out scaled-data/x100 (git-ignored)."
        )
    source = (source_dir or Settings.from_env().data_dir).resolve()
    tables, as_of, source_id = source_tables(source)
    scaled = scale_tables(tables, factor, as_of)
    note = f"ASI demo dataset x{factor} (scaled copies of snapshot {source_id}; fictitious names)"
    snapshot_id, _ = write_snapshot(
        out_dir, scaled, sources={name: [f"scale x{factor} of {source_id}"] for name in TABLES}, note=note,
    )
    return snapshot_id
