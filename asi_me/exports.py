"""Downloads: CSV text, one Excel workbook and a zip holding CSVs plus a README with
definitions, suppression notes, data version, data-as-of and a citation line.

Every cell a spreadsheet could read as a formula (=, +, -, @ first) is prefixed with an
apostrophe, so a downloaded file cannot run anything when opened.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

import numpy as np
import pandas as pd
from openpyxl import Workbook

from asi_me.catalogue import PUBLISHED_AGGREGATES, download_scope, table_for_download
from asi_me.contract import LIST_SEPARATOR, TABLES
from asi_me.filters import Filters, Viewer
from asi_me.policy import DisclosurePolicy
from asi_me.store import Store

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))
CITATION = "Aluminium Stewardship Initiative (ASI), ASI M&E Explorer data"


def _join(value: object) -> object:
    if isinstance(value, list | tuple | np.ndarray):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, dict):
        return LIST_SEPARATOR.join(f"{k}={v}" for k, v in value.items())
    return value


def _defuse(series: pd.Series) -> pd.Series:
    """Prefix text a spreadsheet would read as a formula with an apostrophe."""
    text = series.astype("string")
    risky = text.str.startswith(_FORMULA_START).fillna(False).astype(bool)
    if not risky.any():
        return series
    return series.astype(object).where(~risky, "'" + text.astype(object).where(risky, ""))


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy safe to write out: lists joined with ";", formula-like text defused,
    timezone-aware timestamps made naive (UTC)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_convert("UTC").dt.tz_localize(None)
        elif series.dtype == object:
            sample = series.dropna()
            if len(sample) and not isinstance(sample.iloc[0], str):
                series = series.map(_join)
            if series.dropna().map(lambda v: isinstance(v, str)).all():
                series = _defuse(series)
            out[column] = series
        elif pd.api.types.is_string_dtype(series.dtype):
            out[column] = _defuse(series)
    return out


def frame_to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of exactly the frame shown (lists joined with ";")."""
    return export_frame(frame).to_csv(index=False).encode("utf-8")


def _sheet_names(names: list[str]) -> list[str]:
    """Excel sheet names: forbidden characters replaced, at most 31 characters, unique."""
    out: list[str] = []
    for name in names:
        base = (name.translate(_SHEET_FORBIDDEN).strip("'") or "Sheet")[:31]
        candidate, n = base, 2
        while candidate.lower() in {o.lower() for o in out}:
            suffix = f" ({n})"
            candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
        out.append(candidate)
    return out


def excel_workbook(frames: dict[str, pd.DataFrame]) -> bytes:
    """One .xlsx with a sheet per frame (header row frozen); an empty dict gives one
    sheet saying there is no data. Written in openpyxl's streaming mode to stay fast."""
    if not frames:
        frames = {"No data": pd.DataFrame({"note": ["No table was selected for download."]})}
    workbook = Workbook(write_only=True)
    for sheet, frame in zip(_sheet_names(list(frames)), frames.values(), strict=True):
        worksheet = workbook.create_sheet(sheet)
        worksheet.freeze_panes = "A2"
        worksheet.append([str(c) for c in frame.columns])
        safe = export_frame(frame).astype(object)
        safe = safe.where(safe.notna(), None)
        for row in safe.itertuples(index=False, name=None):
            worksheet.append([_excel_value(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _excel_value(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _readme(store: Store, viewer: Viewer, files: dict[str, pd.DataFrame], as_of: date) -> str:
    policy = DisclosurePolicy.from_settings()
    data_as_of = store.data_as_of.isoformat() if store.data_as_of else "unknown"
    lines = [
        "# ASI M&E Explorer data download",
        "",
        f"- Data version (snapshot): {store.snapshot_id}",
        f"- Data as of: {data_as_of}",
        f"- Published aggregates computed as of: {as_of.isoformat()}",
        f"- Snapshot created: {store.manifest.created_at}",
        f"- Downloaded by role: {viewer.role}" + (" (your company's rows only in member tables)"
                                                   if viewer.member_id else ""),
        "",
        "## How to cite",
        "",
        f"{CITATION}, version {store.snapshot_id}, data as of {data_as_of}. "
        f"Retrieved {date.today().isoformat()}.",
        "",
        "## Suppression notes",
        "",
        "Aggregates follow the ASI Antitrust Compliance Policy. A figure is published only where at least "
        f"{policy.min_reporters} member companies with a non-zero contribution are represented and no single "
        f"company holds more than {policy.max_dominance * 100:g}% of it. Further figures are hidden where a "
        "hidden one could otherwise be worked out from totals. Hidden figures are empty in the CSV files, "
        "with is_suppressed = True and the reason in suppression_note (for example "
        f"\"{policy.note_few_reporters}\"); they are never zero.",
        "",
        "## Files and definitions",
        "",
    ]
    for name, frame in files.items():
        if name in TABLES:
            spec = TABLES[name]
            lines += [f"### {name}.csv - {spec.title}", "", f"{len(frame)} rows. "
                      f"{(spec.model.__doc__ or '').strip()} List values are joined with \"{LIST_SEPARATOR}\".", ""]
            lines += [f"- `{column}`: {info.description or ''}" for column, info in spec.model.model_fields.items()]
        else:
            aggregate = PUBLISHED_AGGREGATES[name]
            lines += [f"### {name}.csv - {aggregate.title}", "", f"{len(frame)} rows. {aggregate.description}", ""]
            lines += [f"- `{column}`" for column in frame.columns]
        lines.append("")
    return "\n".join(lines)


def download_frames(store: Store, viewer: Viewer, filters: Filters | None = None) -> dict[str, pd.DataFrame]:
    """Every table and published aggregate the viewer may download, by file name."""
    names = [n for n in TABLES if download_scope(viewer, n) is not None] + list(PUBLISHED_AGGREGATES)
    return {name: table_for_download(store, viewer, name, filters) for name in names}


def download_zip(store: Store, viewer: Viewer, filters: Filters | None = None) -> bytes:
    """A zip of <name>.csv for everything the viewer may download plus README.md."""
    files = download_frames(store, viewer, filters)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, frame in files.items():
            archive.writestr(f"{name}.csv", frame_to_csv(frame))
        archive.writestr("README.md", _readme(store, viewer, files, store.as_of((filters or Filters()).as_of)))
    return buffer.getvalue()


QUERY_FUNCTIONS = [download_frames, download_zip]
