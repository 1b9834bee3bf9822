"""How published figures are rounded: one fixed precision per kind of figure.

Every CSV, the workbook, the zip and the data API round through `round_frame` (published
aggregates, screen tables) or `round_batch` (tables streamed from the snapshot), so a
figure reads the same wherever it is downloaded and never carries float noise such as
0.09999999999999432. The precision of a column comes from the unit declared for it (a
published dataset's measures and column units, or an indicator's unit per row), else from
the column-name convention (`*_t` tonnes, `*_share` / `*_pct` fractions), else float noise
alone is removed. Rounding only ever applies to values that are published: a hidden value
is empty before it gets here and stays empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NumberKind = Literal["count", "tonnes", "percent", "share", "intensity", "degrees"]

# Decimals kept per kind. Percentages (0-100) and shares (fractions, 0-1) are both read as
# percentages with one decimal: 68.8 % is 68.8 or 0.688.
DECIMALS: dict[NumberKind, int] = {
    "count": 0, "tonnes": 0, "percent": 1, "share": 3, "intensity": 2, "degrees": 4,
}

# Units as datasets, indicators and tiles declare them -> kind of figure.
UNIT_KIND: dict[str, NumberKind] = {
    "count": "count", "people": "count", "members": "count", "certificates": "count", "countries": "count",
    "firms": "count", "meetings": "count", "facilities": "count", "reports": "count",
    "t": "tonnes", "kt": "tonnes", "Mt": "tonnes",
    "%": "percent", "pp": "percent",
    "share": "share",
    "t CO2e/t Al": "intensity",
    "degrees": "degrees",
}

# Columns that hold an indicator's (or a tile's) value in the unit named in its row.
ROW_UNIT_COLUMNS: frozenset[str] = frozenset({
    "value", "previous_value", "change", "latest_value", "baseline_value", "target_value", "expected_value",
    "value_month_ago", "value_year_ago", "change_month", "change_year",
})

# Float columns with no declared kind keep this many significant digits: enough for any
# figure ASI publishes, few enough that binary noise (…99999432, …00000284) is gone.
NOISE_DIGITS = 12


def kind_of_unit(unit: object) -> NumberKind | None:
    """The kind of figure a declared unit names, or None for a unit not listed."""
    return UNIT_KIND.get(str(unit).strip()) if unit is not None else None


def kind_of_column(name: str) -> NumberKind | None:
    """The kind of figure a column holds by its name (the data contract's suffixes)."""
    if name in {"latitude", "longitude"}:
        return "degrees"
    if name.endswith("_t_per_t"):
        return "intensity"
    if name.endswith("_t"):
        return "tonnes"
    if name.endswith(("_share", "_pct", "_rate")) or name.startswith("share_"):
        return "share"
    return None


def decimals_of(kind: NumberKind | None) -> int | None:
    return None if kind is None else DECIMALS[kind]


def without_noise(values: np.ndarray) -> np.ndarray:
    """Floats rounded to NOISE_DIGITS significant digits (NaN stays NaN)."""
    out = np.asarray(values, dtype="float64").copy()
    finite = np.isfinite(out) & (out != 0)
    if finite.any():
        kept = out[finite]
        decimals = NOISE_DIGITS - 1 - np.floor(np.log10(np.abs(kept))).astype(np.int64)
        # one np.round per distinct number of decimals (a handful: one per order of magnitude)
        low = int(decimals.min())
        counts = np.bincount(decimals - low)
        for offset in np.flatnonzero(counts):
            rows = decimals == low + offset
            kept[rows] = np.round(kept[rows], int(low + offset))
        out[finite] = kept
    return out


def _rounded(series: pd.Series, decimals: int | None) -> pd.Series:
    numbers = pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()
    done = without_noise(numbers) if decimals is None else np.round(numbers, decimals) + 0.0  # no "-0.0"
    return pd.Series(done, index=series.index, name=series.name)


def _is_float(series: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(series.dtype)


def round_frame(
    frame: pd.DataFrame, units: Mapping[str, str] | None = None, row_units: pd.Series | None = None,
    *, by_name: bool = True,
) -> pd.DataFrame:
    """A copy of `frame` with every float column rounded to its kind's precision.

    `units` declares a unit per column; `row_units` (default: the frame's `unit` column)
    gives each row's unit for the value columns of indicators and tiles. Without
    `by_name` (a table as stored, for analysis) other columns lose only float noise."""
    if row_units is None and "unit" in frame.columns:
        row_units = frame["unit"]
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not _is_float(series):
            continue
        name = str(column)
        # a declared unit first ("as stated per tile" declares none), then each row's, then the name's
        kind = kind_of_unit((units or {}).get(name))
        if kind is None and name in ROW_UNIT_COLUMNS and row_units is not None:
            out[column] = _cast_back(series, _by_row_unit(series, row_units))
            continue
        if kind is None and by_name:
            kind = kind_of_column(name)
        out[column] = _cast_back(series, _rounded(series, decimals_of(kind)))
    return out


def _by_row_unit(series: pd.Series, row_units: pd.Series) -> pd.Series:
    kinds = row_units.reindex(series.index).map(kind_of_unit)
    result = _rounded(series, None)
    for kind in set(kinds.dropna()):
        rows = (kinds == kind).to_numpy()
        result[rows] = _rounded(series[rows], DECIMALS[kind]).to_numpy()
    return result


def _cast_back(original: pd.Series, rounded: pd.Series) -> pd.Series:
    """Keep a nullable float dtype nullable (pd.NA stays missing, never NaN text)."""
    if isinstance(original.dtype, pd.Float64Dtype | pd.Float32Dtype):
        return rounded.astype(original.dtype)
    return rounded


def round_batch(
    batch: pa.RecordBatch | pa.Table, row_decimals: Mapping[str, pa.Array] | None = None, *, by_name: bool = True,
) -> pa.RecordBatch | pa.Table:
    """An Arrow batch with every floating-point column rounded: per row where `row_decimals`
    gives a column an array of decimals (-1: noise only), else by its name's kind (with
    `by_name`), else float noise only."""
    columns = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if not pa.types.is_floating(column.type):
            columns.append(column)
            continue
        decimals = (row_decimals or {}).get(name)
        values = column.to_numpy(zero_copy_only=False).astype("float64")
        if decimals is not None:
            per_row = np.asarray(decimals)
            done = values.copy()
            unknown = per_row < 0
            if unknown.any():
                done[unknown] = without_noise(values[unknown])
            for d in np.flatnonzero(np.bincount(per_row[~unknown].astype(np.int64), minlength=1)):
                rows = per_row == d
                done[rows] = np.round(values[rows], int(d)) + 0.0
        else:
            d = decimals_of(kind_of_column(name)) if by_name else None
            done = without_noise(values) if d is None else np.round(values, d) + 0.0
        mask = pc.is_null(column).to_numpy(zero_copy_only=False)
        columns.append(pa.array(done, type=column.type, mask=mask))
    return type(batch).from_arrays(columns, names=batch.schema.names)


def decimals_of_unit(unit: object, default: int = -1) -> int:
    """Decimals of a declared unit; `default` (-1: noise only) for an unknown one."""
    kind = kind_of_unit(unit)
    return default if kind is None else DECIMALS[kind]


def row_decimals(
    batch: pa.RecordBatch | pa.Table, unit_of_indicator: Mapping[str, str] | None = None
) -> dict[str, pa.Array] | None:
    """Per-row decimals for the value columns of a table whose rows carry a unit (their own
    `unit` column, or their indicator's unit from `unit_of_indicator`); None otherwise."""
    names = batch.schema.names
    if "unit" in names:
        keys, decimals_of_key = batch.column("unit"), {u: decimals_of_unit(u) for u in UNIT_KIND}
    elif "indicator_code" in names and unit_of_indicator is not None:
        keys = batch.column("indicator_code")
        decimals_of_key = {code: decimals_of_unit(unit) for code, unit in unit_of_indicator.items()}
    else:
        return None
    if not any(name in ROW_UNIT_COLUMNS for name in names):
        return None
    # vectorised: each row's key looked up among the known keys, -1 (noise only) for the rest
    known = list(decimals_of_key)
    position = pc.index_in(pc.cast(keys, pa.string()), value_set=pa.array(known, pa.string()))
    table = pa.array([*decimals_of_key.values(), -1], pa.int8())
    decimals = pc.take(table, pc.fill_null(position, len(known)))
    decimals = decimals.combine_chunks() if isinstance(decimals, pa.ChunkedArray) else decimals
    return {name: decimals for name in names if name in ROW_UNIT_COLUMNS}


def format_day(value: object) -> str:
    """A day in running text (sentences, captions, footers, slides, release names): "5 December
    2026"; "—" if missing. Tables and files use ISO dates (asi_me/ui/palette.py DATE_FORMAT)."""
    if value is None or value is pd.NA:
        return "—"
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return "—" if pd.isna(stamp) else f"{stamp.day} {stamp:%B %Y}"
