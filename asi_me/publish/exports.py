"""Downloads: CSV text, one Excel workbook and a zip holding CSVs plus a README with
definitions, suppression notes, data version, data-as-of and a citation line.

Whole tables stream from DuckDB as Arrow record batches straight into the CSV writer
(pyarrow.csv) and the zip, one batch at a time, so a 9-million-row table is never held
whole, in pandas or anywhere else. The `*_file` functions write each file batch by batch
into the download folder (asi_me/publish/download_cache.py, `cached_file`) and return its
path, which is served as a stream (asi_me/publish/file_links.py): a whole table of 27
million rows then costs the process a few batches of memory, not the file. Published
aggregates are small and come from their query functions as DataFrames. An Excel sheet
holds at most 1,048,576 rows (header included): a table longer than that is left out of
the workbook, and the workbook's README sheet and the Data screen say so and point to the
table's CSV in the zip.

Every cell a spreadsheet could read as a formula (=, +, -, @, tab or carriage return
first) is prefixed with an apostrophe, so a downloaded file cannot run anything when opened.
"""

from __future__ import annotations

import io
import queue
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from asi_me.data.contract import LIST_SEPARATOR, TABLES
from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.progress import Progress, steps
from asi_me.publish.download_cache import cached_bytes, cached_file, is_cached
from asi_me.publish.gate import gated_batches, gated_row_count, is_gated
from asi_me.publish.numbers import round_batch, round_frame, row_decimals
from asi_me.publish.policy import DisclosurePolicy
from asi_me.publish.xlsx import XlsxWriter, zip_entry
from asi_me.queries.catalogue import (
    PUBLISHED_AGGREGATES,
    download_scope,
    download_scope_or_raise,
    indicator_units,
    table_for_download,
    table_rows_sql,
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = r"^[=+\-@\t\r]"
_SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))
CITATION = "Aluminium Stewardship Initiative (ASI), ASI M&E Explorer data"

# Excel's hard limit per worksheet, the header row included.
EXCEL_MAX_ROWS = 1_048_576
# Rows per Arrow batch: large enough that per-batch overhead vanishes, small enough
# that one batch of the widest table stays a few tens of MB.
BATCH_ROWS = 131_072
# Deflate level 1 compresses CSV text about 4x faster than the default 6 for a file
# about a fifth larger (measured on the 100x indicator observations: 4.6 s and 80 MB
# against 17 s and 66 MB), which is the better trade for a download built on click.
ZIP_LEVEL = 1


# ------------------------------------------------------------------ formatting
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
    """A copy safe to write out: figures rounded to their kind's precision (asi_me.publish.numbers),
    lists joined with ";", formula-like text defused, timezone-aware timestamps made naive (UTC)."""
    out = round_frame(frame)
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


def _arrow_of_frame(frame: pd.DataFrame) -> pa.Table:
    """A published aggregate (a small DataFrame) as an Arrow table, lists joined and
    formula-like text defused as in `export_frame`."""
    safe = export_frame(frame)
    try:
        return pa.Table.from_pandas(safe, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # an object column mixing types (say numbers and text): write it as text
        mixed = {c: safe[c].map(lambda v: None if v is None or v is pd.NA else str(v))
                 for c in safe.columns if safe[c].dtype == object}
        return pa.Table.from_pandas(safe.assign(**mixed), preserve_index=False)


def _safe_text(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Lists joined with ";", then text a spreadsheet would run prefixed with an apostrophe."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        column = pc.binary_join(column.cast(pa.list_(pa.string())), LIST_SEPARATOR)
    elif pa.types.is_string_view(kind) or pa.types.is_large_string(kind):
        column = column.cast(pa.string())
    elif not pa.types.is_string(kind):
        return column
    risky = pc.fill_null(pc.match_substring_regex(column, _FORMULA_PATTERN), False)
    if not pc.any(risky).as_py():
        return column
    return pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)


def _naive_utc(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Timezone-aware timestamps as naive UTC (Arrow stores them as UTC already)."""
    kind = column.type
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        return column.cast(pa.timestamp(kind.unit))
    return column


def _is_text_like(kind: pa.DataType) -> bool:
    return (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
            or pa.types.is_dictionary(kind) or pa.types.is_list(kind) or pa.types.is_large_list(kind)
            or pa.types.is_fixed_size_list(kind))


def _csv_column(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """One column as the CSV shows it: text defused, True/False as before, timestamps
    as dates when they are all midnight, else to the second."""
    kind = column.type
    if _is_text_like(kind):
        return _safe_text(column)
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "True", "False")
    if pa.types.is_timestamp(kind):
        column = _naive_utc(column)
        seconds = column.cast(pa.timestamp("s"), safe=False)
        if pc.all(pc.equal(pc.cast(seconds, pa.date32()).cast(pa.timestamp("s")), seconds)).as_py() is not False:
            return pc.cast(seconds, pa.date32())
        return pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S")
    return column


def _csv_batch(batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
    columns = [_csv_column(c) for c in batch.columns]
    return type(batch).from_arrays(columns, names=batch.schema.names)


def _excel_batch(batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
    columns = [_safe_text(_naive_utc(c)) for c in batch.columns]
    return type(batch).from_arrays(columns, names=batch.schema.names)


# ------------------------------------------------------------------ CSV
def _csv_chunks(batches: Iterable[pa.RecordBatch | pa.Table], columns: list[str]) -> Iterator[tuple[int, bytes]]:
    """UTF-8 CSV, one chunk per batch: (data rows in it, bytes); the header comes with the
    first chunk, or alone when there are no rows."""
    header = True
    for batch in batches:
        ready = _csv_batch(batch)
        sink = io.BytesIO()
        pa_csv.write_csv(ready, sink, write_options=pa_csv.WriteOptions(include_header=header))
        header = False
        yield ready.num_rows, sink.getvalue()
    if header:
        sink = io.BytesIO()
        pa_csv.write_csv(pa.table({c: pa.array([], pa.string()) for c in columns}), sink)
        yield 0, sink.getvalue()


_DONE = object()


def _ahead(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """`items`, produced by a background thread up to `depth` ahead of the consumer.

    DuckDB, Arrow's CSV writer and zlib all release the GIL, so reading and formatting
    the next batch overlaps with compressing this one on a second core."""
    chunks: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        chunks.put(item, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            chunks.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            chunks.put(exc)

    worker = threading.Thread(target=produce, name="asi-download-csv", daemon=True)
    worker.start()
    try:
        while (item := chunks.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def _write_csv(batches: Iterable[pa.RecordBatch | pa.Table], columns: list[str], sink: IO[bytes], *,
               ahead: bool = False, written: Callable[[int], None] | None = None) -> int:
    """Write a header and every batch as UTF-8 CSV into `sink`; the number of data rows.
    With `ahead`, the CSV is made in a background thread while `sink` (a compressing zip
    entry) consumes the previous chunk. `written(rows)` hears the running count."""
    chunks = _csv_chunks(batches, columns)
    rows = 0
    for n, chunk in _ahead(chunks) if ahead else chunks:
        sink.write(chunk)
        rows += n
        if written is not None:
            written(rows)
    return rows


def frame_to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of exactly the frame shown (lists joined with ";")."""
    sink = io.BytesIO()
    _write_csv([_arrow_of_frame(frame)], [str(c) for c in frame.columns], sink)
    return sink.getvalue()


def _downloadable(viewer: Viewer) -> list[str]:
    """Tables then published aggregates this viewer may download, in the zip's order."""
    return [n for n in TABLES if download_scope(viewer, n) is not None] + list(PUBLISHED_AGGREGATES)


class _Source:
    """One downloadable file: a table streamed from DuckDB or a published aggregate."""

    def __init__(self, store: Store, viewer: Viewer, name: str, filters: Filters | None) -> None:
        self.name = name
        self.is_table = name in TABLES
        self._store = store
        self._gated = self.is_table and is_gated(viewer, name)
        self._viewer = viewer
        if self._gated:
            self._frame = None
            self.columns = [*TABLES[name].model.model_fields, "suppression_note"]
        elif self.is_table:
            self._sql, self._params = table_rows_sql(store, viewer, name)
            self._frame: pa.Table | None = None
            self.columns = list(TABLES[name].model.model_fields)
        else:
            frame = table_for_download(store, viewer, name, filters)
            self.columns = [str(c) for c in frame.columns]
            self._frame = _arrow_of_frame(frame)

    def row_count(self) -> int:
        if self._gated:
            return gated_row_count(self._store, self._viewer, self.name)
        if self._frame is not None:
            return self._frame.num_rows
        return int(self._store.query(f"select count(*) as n from ({self._sql})", self._params).iloc[0, 0])

    def batches(self) -> Iterator[pa.RecordBatch | pa.Table]:
        if self._frame is not None:
            yield self._frame
            return
        # a table as stored: indicator values to their unit's precision, other floats without noise
        units = indicator_units(self._store) if "indicator_code" in self.columns else None
        raw = (_rebatched(gated_batches(self._store, self._viewer, self.name, BATCH_ROWS)) if self._gated
               else self._store.record_batches(self._sql, self._params, BATCH_ROWS))
        for batch in raw:
            yield round_batch(batch, row_decimals(batch, units), by_name=False)


def _rebatched(batches: Iterable[pa.RecordBatch | pa.Table]) -> Iterator[pa.RecordBatch | pa.Table]:
    """The gate's batches, its rebuilt rows (one Arrow table) cut into BATCH_ROWS slices too, so
    the CSV of a slice, not of every rebuilt row at once, is what is held while it is written.
    (The gated tables have no timestamp column, whose CSV form is decided per batch.)"""
    for batch in batches:
        if isinstance(batch, pa.Table) and batch.num_rows > BATCH_ROWS:
            yield from (pa.Table.from_batches([b]) for b in batch.combine_chunks().to_batches(BATCH_ROWS))
        else:
            yield batch


def table_csv(store: Store, viewer: Viewer, name: str, filters: Filters | None = None,
              progress: Progress | None = None) -> bytes:
    """One table or published aggregate this viewer may download, as UTF-8 CSV bytes
    (built once per snapshot, viewer scope and filters; see asi_me/publish/download_cache.py).
    `progress` hears how many rows are written.

    Raises KeyError for an unknown name and PermissionError when the role may not have it."""
    write = _table_csv_writer(store, viewer, name, filters, progress)

    def build() -> bytes:
        sink = io.BytesIO()
        write(sink)
        return sink.getvalue()

    return cached_bytes(store, "csv", _csv_parts(viewer, name, filters), build)


def table_csv_file(store: Store, viewer: Viewer, name: str, filters: Filters | None = None,
                   progress: Progress | None = None) -> Path:
    """`table_csv` as a file in the download folder: the same bytes, written batch by batch
    straight to disk, so a whole table of millions of rows is never held in memory. The
    path is the one `table_csv` reads back (one file per snapshot, viewer scope and filters).

    Raises KeyError for an unknown name, PermissionError when the role may not have it and
    OSError when the download folder cannot be written."""
    write = _table_csv_writer(store, viewer, name, filters, progress)
    return cached_file(store, "csv", _csv_parts(viewer, name, filters), write)


def _table_csv_writer(store: Store, viewer: Viewer, name: str, filters: Filters | None,
                      progress: Progress | None) -> Callable[[IO[bytes]], int]:
    """What writes the CSV of one table or published aggregate into a sink, batch by batch."""
    if name not in PUBLISHED_AGGREGATES:
        download_scope_or_raise(viewer, name)  # the name and the role are checked before any file is served

    def write(sink: IO[bytes]) -> int:
        source = _Source(store, viewer, name, filters)
        written = None
        if progress is not None:
            progress(0.0, f"Counting the rows of {name}")
            total = max(source.row_count(), 1)

            def written(rows: int) -> None:
                progress(rows / total, f"{rows:,} of {total:,} rows of {name} written")

        return _write_csv(source.batches(), source.columns, sink, written=written)

    return write


def _csv_parts(viewer: Viewer, name: str, filters: Filters | None) -> list[object]:
    # A whole table is the same for every filter; a published aggregate depends on them.
    return [name, *_scope(viewer), *([] if name not in PUBLISHED_AGGREGATES else [repr(filters or Filters())])]


def table_is_built(store: Store, viewer: Viewer, name: str, filters: Filters | None = None) -> bool:
    """Whether `table_csv` for this viewer (and filters, for an aggregate) is already built."""
    return is_cached(store, "csv", _csv_parts(viewer, name, filters))


def table_rows(store: Store, name: str) -> int:
    """The rows a whole table holds, from the manifest (no query); 0 for a published aggregate."""
    return int(store.manifest.tables.get(name, {}).get("rows", 0)) if name in TABLES else 0


def _scope(viewer: Viewer) -> list[object]:
    """What decides the rows and cells a viewer's download holds: role, company, policy."""
    return [str(viewer.role), viewer.member_id, repr(DisclosurePolicy.from_settings())]


# ------------------------------------------------------------------ README
def _readme(store: Store, viewer: Viewer, files: dict[str, tuple[int, list[str]]], as_of: date) -> str:
    """The zip's README: files maps each file name to its (rows, columns)."""
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
        "## Numbers and dates",
        "",
        "Figures are rounded to one precision per kind: counts, people and tonnes to whole numbers, "
        "percentages (0-100) to one decimal, shares (0-1) to three decimals, GHG intensities to two "
        "decimals, coordinates to four. Dates are written YYYY-MM-DD. An empty cell is a missing value.",
        "",
        "## Files and definitions",
        "",
    ]
    for name, (rows, columns) in files.items():
        if name in TABLES:
            spec = TABLES[name]
            lines += [f"### {name}.csv - {spec.title}", "", f"{rows} rows. "
                      f"{(spec.model.__doc__ or '').strip()} List values are joined with \"{LIST_SEPARATOR}\".", ""]
            lines += [f"- `{column}`: {info.description or ''}" for column, info in spec.model.model_fields.items()]
        else:
            aggregate = PUBLISHED_AGGREGATES[name]
            lines += [f"### {name}.csv - {aggregate.title}", "", f"{rows} rows. {aggregate.description}", ""]
            lines += [f"- `{column}`" for column in columns]
        lines.append("")
    return "\n".join(lines)


def _file_parts(viewer: Viewer, filters: Filters | None) -> list[object]:
    """What decides the bytes of the zip and the workbook besides the snapshot: the viewer's
    scope, the filters and the day (the README's citation carries the date)."""
    return [*_scope(viewer), repr(filters or Filters()), date.today().isoformat()]


def download_zip(store: Store, viewer: Viewer, filters: Filters | None = None,
                 progress: Progress | None = None) -> bytes:
    """A zip of <name>.csv for everything the viewer may download plus README.md, built once
    per snapshot, viewer scope, filters and day. `progress` hears of each table written."""
    return cached_bytes(store, "zip", _file_parts(viewer, filters),
                        lambda: _build_zip(store, viewer, filters, progress))


def download_zip_file(store: Store, viewer: Viewer, filters: Filters | None = None,
                      progress: Progress | None = None) -> Path:
    """`download_zip` as a file in the download folder, written entry by entry and batch by
    batch straight to disk (the same bytes, the same file `download_zip` reads back)."""
    return cached_file(store, "zip", _file_parts(viewer, filters),
                       lambda sink: _write_zip(sink, store, viewer, filters, progress))


# Downloads over this many table rows take seconds to build (the zip of 100x ASI's size: 9.2
# million rows, 5 s): the Data screen builds them in the background with a progress bar.
LARGE_DOWNLOAD_ROWS = 1_000_000


def download_rows(store: Store, viewer: Viewer) -> int:
    """About how many rows the zip or workbook for this viewer holds, from the manifest (no
    query): every table the viewer may download in any scope, counted whole."""
    return sum(int(store.manifest.tables.get(name, {}).get("rows", 0)) for name in _downloadable(viewer)
               if name in TABLES)


def is_built(store: Store, kind: str, viewer: Viewer, filters: Filters | None = None) -> bool:
    """Whether the download `kind` ("zip" or "xlsx") for this viewer and filters is already
    built today, so handing it out takes milliseconds."""
    if kind not in ("zip", "xlsx"):
        raise ValueError(f"Unknown download kind {kind!r}; use 'zip' or 'xlsx'.")
    return is_cached(store, kind, _file_parts(viewer, filters))


def _build_zip(store: Store, viewer: Viewer, filters: Filters | None = None,
               progress: Progress | None = None) -> bytes:
    """A zip of <name>.csv for everything the viewer may download plus README.md.

    Each table streams batch by batch from DuckDB through the CSV writer into its
    compressed zip entry; only the compressed zip is held whole (`download_zip_file`
    writes it to disk instead)."""
    buffer = io.BytesIO()
    _write_zip(buffer, store, viewer, filters, progress)
    return buffer.getvalue()


def _write_zip(sink: IO[bytes], store: Store, viewer: Viewer, filters: Filters | None = None,
               progress: Progress | None = None) -> None:
    """The zip of `_build_zip`, written into `sink` table by table and batch by batch."""
    files: dict[str, tuple[int, list[str]]] = {}
    names = _downloadable(viewer)
    step = steps(progress, len(names) + 1)
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as archive:
        for i, name in enumerate(names):
            step(i, f"Writing {name}.csv ({i + 1} of {len(names)})")
            source = _Source(store, viewer, name, filters)
            with archive.open(zip_entry(f"{name}.csv", ZIP_LEVEL), "w", force_zip64=True) as entry:
                rows = _write_csv(source.batches(), source.columns, entry, ahead=True)
            files[name] = (rows, source.columns)
        step(len(names), "Writing README.md")
        readme = _readme(store, viewer, files, store.as_of((filters or Filters()).as_of))
        archive.writestr(zip_entry("README.md", ZIP_LEVEL), readme)


# ------------------------------------------------------------------ Excel
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


def _write_sheet(book: XlsxWriter, title: str, columns: list[str] | None,
                 batches: Iterable[pa.RecordBatch | pa.Table]) -> None:
    """One sheet, header row frozen: lists joined, formula-like text defused, the rest as
    native numbers, booleans and dates."""
    book.add_sheet(title, columns, (_excel_batch(batch) for batch in batches), freeze_header=columns is not None)


def excel_workbook(frames: dict[str, pd.DataFrame]) -> bytes:
    """One .xlsx with a sheet per frame (header row frozen); an empty dict gives one
    sheet saying there is no data."""
    if not frames:
        frames = {"No data": pd.DataFrame({"note": ["No table was selected for download."]})}
    sink = io.BytesIO()
    with XlsxWriter(sink, compresslevel=ZIP_LEVEL) as book:
        for sheet, frame in zip(_sheet_names(list(frames)), frames.values(), strict=True):
            _write_sheet(book, sheet, [str(c) for c in frame.columns], [_arrow_of_frame(frame)])
    return sink.getvalue()


def excel_left_out_note(title: str, name: str, rows: int, *, in_workbook: bool = True) -> str:
    """The sentence telling a user a table is not in the workbook, why, and where it is."""
    where = "is not in this workbook" if in_workbook else "is left out of the Excel workbook"
    return (f"{title} ({name}, {rows:,} rows) {where}: an Excel sheet holds at most "
            f"{EXCEL_MAX_ROWS:,} rows including its header. The full table is {name}.csv in the zip of CSVs "
            "(\"Zip of CSVs with README\" on the Data screen).")


def _title(name: str) -> str:
    return TABLES[name].title if name in TABLES else PUBLISHED_AGGREGATES[name].title


def download_workbook(store: Store, viewer: Viewer, filters: Filters | None = None,
                      progress: Progress | None = None) -> bytes:
    """The Excel workbook (see `_build_workbook`), built once per snapshot, viewer scope,
    filters and day. `progress` hears of each sheet written."""
    return cached_bytes(store, "xlsx", _file_parts(viewer, filters),
                        lambda: _build_workbook(store, viewer, filters, progress))


def download_workbook_file(store: Store, viewer: Viewer, filters: Filters | None = None,
                           progress: Progress | None = None) -> Path:
    """`download_workbook` as a file in the download folder, written sheet by sheet straight
    to disk (the same bytes, the same file `download_workbook` reads back)."""
    return cached_file(store, "xlsx", _file_parts(viewer, filters),
                       lambda sink: _write_workbook(sink, store, viewer, filters, progress))


def _build_workbook(store: Store, viewer: Viewer, filters: Filters | None = None,
                    progress: Progress | None = None) -> bytes:
    """One .xlsx: a README sheet (what is in it, what was left out and why, how to cite)
    and a sheet per table or published aggregate the viewer may download. A table with
    more rows than an Excel sheet holds is left out, never cut short, and named on the
    README sheet with a pointer to its CSV in the zip."""
    sink = io.BytesIO()
    _write_workbook(sink, store, viewer, filters, progress)
    return sink.getvalue()


def _write_workbook(sink: IO[bytes], store: Store, viewer: Viewer, filters: Filters | None = None,
                    progress: Progress | None = None) -> None:
    """The workbook of `_build_workbook`, written into `sink` sheet by sheet."""
    sources = [_Source(store, viewer, name, filters) for name in _downloadable(viewer)]
    step = steps(progress, len(sources) + 1)
    step(0, "Counting the rows of each table")
    counts = {source.name: source.row_count() for source in sources}
    left_out = [s.name for s in sources if counts[s.name] > EXCEL_MAX_ROWS - 1]
    kept = [s for s in sources if s.name not in left_out]
    data_as_of = store.data_as_of.isoformat() if store.data_as_of else "unknown"
    lines = [
        "ASI M&E Explorer data download (Excel workbook)",
        "",
        f"Data version (snapshot): {store.snapshot_id}",
        f"Data as of: {data_as_of}",
        f"Published aggregates computed as of: {store.as_of((filters or Filters()).as_of).isoformat()}",
        f"How to cite: {CITATION}, version {store.snapshot_id}, data as of {data_as_of}. "
        f"Retrieved {date.today().isoformat()}.",
        "",
    ]
    if left_out:
        lines += ["Left out of this workbook (too many rows for Excel):"]
        lines += [excel_left_out_note(_title(n), n, counts[n]) for n in left_out]
        lines.append("")
    lines += ["Sheets in this workbook:"]
    names = _sheet_names(["README", *(s.name for s in kept)])
    lines += [f"{sheet}: {_title(s.name)}, {counts[s.name]:,} rows" for sheet, s in zip(names[1:], kept, strict=True)]
    lines += ["", "Column definitions and the suppression notes are in README.md inside the zip of CSVs. "
                  "Hidden figures are empty cells with is_suppressed = True, never zero."]
    with XlsxWriter(sink, compresslevel=ZIP_LEVEL) as book:
        _write_sheet(book, names[0], None, [pa.table({"text": lines})])
        for i, (sheet, source) in enumerate(zip(names[1:], kept, strict=True), start=1):
            step(i, f"Writing the sheet {sheet} ({i} of {len(kept)})")
            _write_sheet(book, sheet, source.columns, source.batches())


def tables_left_out_of_workbook(store: Store, viewer: Viewer) -> list[dict[str, Any]]:
    """Tables this viewer may download in full that have more rows than an Excel sheet
    holds, from the snapshot's manifest (no query): name, title, rows and the note the
    Data screen shows. Member-scoped tables hold one company's rows and are counted when
    the workbook is built."""
    out: list[dict[str, Any]] = []
    for name in TABLES:
        rows = int(store.manifest.tables.get(name, {}).get("rows", 0))
        if is_gated(viewer, name) and rows > EXCEL_MAX_ROWS - 1:
            rows = gated_row_count(store, viewer, name)  # what this viewer gets is the gate's rows
        if download_scope(viewer, name) == "all rows" and rows > EXCEL_MAX_ROWS - 1:
            title = TABLES[name].title
            note = excel_left_out_note(title, name, rows, in_workbook=False)
            out.append({"name": name, "title": title, "rows": rows, "note": note})
    return out


# table_csv is per table, like catalogue.table_for_download (timed by benchmarks/downloads.py)
QUERY_FUNCTIONS = [download_workbook, download_zip, tables_left_out_of_workbook]
