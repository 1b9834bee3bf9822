"""Turn a query result into the table a person reads and the CSV they download.

Pure pandas, no Streamlit, so it is tested directly. The CSV a chart card offers
is built from exactly the frame shown here: suppressed cells read
"suppressed (fewer than N reporters)" in both, never 0 or blank. Figures are rounded
to their kind's precision (asi_me.publish.numbers), dates are ISO days, and a missing
value reads "—", never "None" or "nan" (the chart style, asi_me.ui.palette).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa

from asi_me.data.contract import LIST_SEPARATOR
from asi_me.data.vocab import country_name, label, stage_label
from asi_me.publish.exports import export_frame
from asi_me.publish.numbers import round_frame
from asi_me.ui.palette import MISSING

SUPPRESSED_FLAG = "is_suppressed"
SUPPRESSED_NOTE = "suppression_note"

# Columns holding closed-vocabulary codes, shown with their labels.
VOCAB_COLUMNS: frozenset[str] = frozenset(
    {
        "membership_class", "activity", "standard", "standard_version", "status", "stage", "material",
        "kind", "body", "audience", "node_type", "impact_area", "certification_type", "audit_type",
        "rating", "frequency", "direction", "dimension", "role", "evaluation_status",
    }
)

# List columns whose items are vocabulary codes, shown with their labels.
VOCAB_LIST_COLUMNS: frozenset[str] = frozenset({"activities"})

_ACRONYMS = {"ps": "PS", "coc": "CoC", "id": "ID", "nc": "NC", "iseal": "ISEAL", "cci": "CCI", "ghg": "GHG"}
_SUFFIXES = {"_t": " (t)", "_pct": " (%)", "_on": " date", "_at": " time"}


def column_title(name: str) -> str:
    """Readable header for a snake_case column: `certificates_t` -> "Certificates (t)"."""
    suffix = ""
    for end, words in _SUFFIXES.items():
        if name.endswith(end) and len(name) > len(end):
            name, suffix = name[: -len(end)], words
            break
    if name.startswith("is_"):
        name = name[3:]
    words = [_ACRONYMS.get(w, w) for w in name.split("_") if w]
    if not words:
        return suffix.strip()
    first = words[0] if words[0].isupper() or words[0] in _ACRONYMS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]]) + suffix


def suppressed_count(frame: pd.DataFrame) -> int:
    """How many rows the disclosure policy withheld."""
    if SUPPRESSED_FLAG not in frame.columns or frame.empty:
        return 0
    return int(frame[SUPPRESSED_FLAG].fillna(False).astype(bool).sum())


def suppression_text(frame: pd.DataFrame, min_reporters: int) -> str:
    """The policy's markings for withheld cells, joined when they differ (for captions)."""
    default = f"suppressed (fewer than {min_reporters} reporters)"
    if SUPPRESSED_NOTE in frame.columns and SUPPRESSED_FLAG in frame.columns:
        notes = frame.loc[frame[SUPPRESSED_FLAG].fillna(False).astype(bool), SUPPRESSED_NOTE].dropna()
        unique = list(dict.fromkeys(str(n) for n in notes if str(n).strip()))
        if unique:
            return "; ".join(unique)
    return default


def display_frame(
    frame: pd.DataFrame,
    *,
    min_reporters: int = 5,
    titles: dict[str, str] | None = None,
    label_values: bool = True,
) -> pd.DataFrame:
    """The frame as shown and downloaded.

    - Rows the policy suppressed: every empty cell reads the suppression marking, so a
      withheld value is never shown or exported as 0 or blank.
    - The policy's helper columns are dropped; vocabulary codes get their labels,
      country codes their names; headers become words (or `titles`).
    """
    out = _iso_days(round_frame(frame))
    if SUPPRESSED_FLAG in out.columns:
        mask = out[SUPPRESSED_FLAG].fillna(False).astype(bool)
        if mask.any():
            # Each withheld row reads its own policy note (too few reporters, or dominance).
            default = f"suppressed (fewer than {min_reporters} reporters)"
            notes = out[SUPPRESSED_NOTE] if SUPPRESSED_NOTE in out.columns else pd.Series(None, index=out.index)
            marking = notes.map(lambda n: str(n) if not _missing(n) and str(n).strip() else default)
            for column in out.columns:
                if column in (SUPPRESSED_FLAG, SUPPRESSED_NOTE):
                    continue
                hidden = mask & out[column].isna()
                if hidden.any():
                    text = out[column].map(_format_cell).astype("string")
                    out[column] = text.mask(hidden, marking.astype("string"))
        out = out.drop(columns=[c for c in (SUPPRESSED_FLAG, SUPPRESSED_NOTE) if c in out.columns])
    for column in out.columns:
        if _holds_lists(out[column]):
            labelled = label_values and column in VOCAB_LIST_COLUMNS
            out[column] = out[column].map(lambda v, labelled=labelled: _join_items(v, labelled)).astype("string")
    if label_values:
        for column in out.columns:
            if column in VOCAB_COLUMNS:
                name = stage_label if column == "stage" else label
                out[column] = out[column].map(lambda v, name=name: v if _missing(v) else name(v))
            elif column == "country":
                out[column] = out[column].map(lambda v: v if _missing(v) else country_name(str(v)))
    for column in out.columns:
        if _is_text(out[column]) and out[column].isna().any():
            out[column] = out[column].astype(object).where(out[column].notna(), MISSING)
    names = {c: (titles or {}).get(c, column_title(c)) for c in out.columns}
    return out.rename(columns=names)


def screen_frame(shown: pd.DataFrame) -> pd.DataFrame:
    """A displayed frame as the on-screen table gets it: a number column with missing values
    becomes text, so a missing figure reads "—" rather than the grid's "None"."""
    out = shown.copy(deep=False)
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype) \
                and series.isna().any():
            out[column] = series.map(_number_text).astype("string")
    return out


def _number_text(value: object) -> str:
    if _missing(value):
        return MISSING
    number = float(value)  # type: ignore[arg-type]
    return f"{int(number):,}" if number.is_integer() else f"{number:,.12g}"


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def _iso_days(frame: pd.DataFrame) -> pd.DataFrame:
    """Timestamp columns that hold whole days become dates, shown and written as YYYY-MM-DD."""
    out = frame
    for column in frame.columns:
        series = frame[column]
        if not pd.api.types.is_datetime64_any_dtype(series.dtype):
            continue
        stamps = series.dt.tz_convert("UTC").dt.tz_localize(None) if isinstance(
            series.dtype, pd.DatetimeTZDtype) else series
        known = stamps.dropna()
        if len(known) and (known == known.dt.normalize()).all():
            if out is frame:
                out = frame.copy()
            out[column] = stamps.dt.date.astype(object).where(stamps.notna(), None)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheet programs read accents) of a displayed frame.

    As every download: text a spreadsheet would run as a formula (=, +, -, @ first; a
    facility name comes from an export) is prefixed with an apostrophe, lists are joined.
    """
    return export_frame(frame).to_csv(index=False).encode("utf-8-sig")


def _holds_lists(series: pd.Series) -> bool:
    """Whether a column's cells are lists (Arrow list columns, or Python lists/arrays)."""
    if isinstance(series.dtype, pd.ArrowDtype):
        kind = series.dtype.pyarrow_dtype
        return pa.types.is_list(kind) or pa.types.is_large_list(kind)
    if series.dtype != object:
        return False
    sample = series.dropna()
    return bool(len(sample)) and isinstance(sample.iloc[0], list | tuple | np.ndarray)


def _join_items(value: object, labelled: bool) -> str | None:
    """A list cell as text, items joined as in every download: "Primary aluminium production;Casthouse"."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    items = [label(str(v)) if labelled else str(v) for v in value]  # type: ignore[attr-defined]
    return LIST_SEPARATOR.join(items)


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _format_cell(value: object) -> str | None:
    if _missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return f"{int(value)}"
    return str(value)


# The map screen's linked register sends at most this many rows to the browser.
REGISTER_ROW_LIMIT = 500
REGISTER_LIMIT_ENV = "ASI_MAP_REGISTER_ROWS"


def register_row_limit() -> int:
    """Rows of the register sent to the browser: REGISTER_ROW_LIMIT unless the environment says otherwise."""
    raw = os.environ.get(REGISTER_LIMIT_ENV, "").strip()
    if not raw:
        return REGISTER_ROW_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"{REGISTER_LIMIT_ENV}={raw!r} is not a positive whole number of rows; "
            f"unset it to show the first {REGISTER_ROW_LIMIT} rows of the register."
        )
    return value
