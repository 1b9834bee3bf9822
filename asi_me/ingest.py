"""Ingest of elementAl / CRM exports: read, validate everything at once, publish all or nothing.

`python -m asi_me ingest PATH...` reads CSV, XLSX and Parquet files (or folders of
them), each named after a table, checks every cell and every cross-table rule
(see `asi_me.validate`), and only if nothing fails writes a new snapshot and makes
it current. `python -m asi_me validate PATH...` runs the same checks and changes
nothing. Both append one entry to the ingest log.

Test-only hook: with ASI_INGEST_TEST_PAUSE=<file>, an ingest writes <file> and
then waits forever at the point named by ASI_INGEST_TEST_PAUSE_AT (`switch`: the
new snapshot folder is complete but CURRENT not yet switched, the default;
`table`: the first Parquet file of the staging folder is written), so a test can
kill it there.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from asi_me.contract import TABLES
from asi_me.settings import Settings
from asi_me.snapshot import (
    Manifest,
    NoSnapshotError,
    append_log,
    current_folder,
    current_id,
    read_table,
    write_snapshot,
)
from asi_me.validate import (
    ERROR,
    RULE_DUPLICATE_TABLE,
    RULE_ROW_SHAPE,
    RULE_UNKNOWN_TABLE,
    WARNING,
    Frame,
    Problem,
    ProblemLog,
    build_frame,
    problems_from_frame,
    trusted_frame,
    validate_frames,
    validate_tables,
)

__all__ = ["IngestResult", "Problem", "UnreadableInputError", "ingest", "run_cli", "validate_tables"]

SUFFIXES = (".csv", ".xlsx", ".parquet")
PRINTED_PROBLEMS = 200
STALE_STAGING_SECONDS = 15 * 60
# Inside snapshots/ and named like staging folders, so the data folder's ignore rules already cover it.
LOCK = ".staging-ingest.lock"


class UnreadableInputError(Exception):
    """An input cannot be read at all (missing, wrong format, not UTF-8...)."""


@dataclass
class Source:
    """One table-shaped piece of input: a CSV or Parquet file, or one sheet of a workbook."""

    path: Path
    label: str
    name: str  # the file stem or sheet name that names the table
    data: pa.Table  # columns as read (text for CSV/XLSX)
    rows: np.ndarray  # row number a person sees, per record
    header_row: int | None
    shape_problems: list[tuple[int, str]]  # (row, text) of rows with the wrong number of cells


# --------------------------------------------------------------------------- reading


def collect_files(paths: list[Path]) -> list[Path]:
    """The data files named or contained (one level deep) in `paths`, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir()
                if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith((".", "~$"))
            )
            if not found:
                raise UnreadableInputError(
                    f"Folder {path} holds no CSV, XLSX or Parquet files; put the exports there, named after tables "
                    f"(e.g. members.csv)."
                )
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise UnreadableInputError(
                    f"{path} is not a CSV, XLSX or Parquet file; export the table as .csv, .xlsx or .parquet."
                )
            files.append(path)
        else:
            raise UnreadableInputError(f"{path} does not exist; check the path and try again.")
    return files


def read_sources(files: list[Path]) -> list[Source]:
    """Read every file; workbooks give one source per sheet."""
    sources: list[Source] = []
    for path in files:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            sources.append(read_csv(path))
        elif suffix == ".xlsx":
            sources.extend(read_xlsx(path))
        else:
            sources.append(read_parquet(path))
    return sources


def read_csv(path: Path) -> Source:
    """A UTF-8 CSV with a header row; every cell read as text, empty cells as null."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableInputError(f"{path} cannot be read: {exc.strerror}.") from exc
    # The header is parsed here (pyarrow reads only the records) so repeated names can be reported.
    header = next(csv.reader(io.StringIO(raw[: 1 << 16].decode("utf-8-sig", errors="replace"))), None)
    if header and any("\ufffd" in name for name in header):
        raise UnreadableInputError(f"{path.name} is not UTF-8 text; save it as 'CSV UTF-8' and try again.")
    if not header:
        raise UnreadableInputError(f"{path.name} is empty or has no header row; the first line must name the columns.")
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        separator = "';'" if ";" in header[0] else "tabs"
        raise UnreadableInputError(
            f"{path.name} separates its columns with {separator}; save it as comma-separated CSV (UTF-8)."
        )
    names = [f"c{i}" for i in range(len(header))]
    invalid: list[str] = []

    def on_invalid_row(row: Any) -> str:
        invalid.append(row.text)
        return "skip"

    try:
        table = pcsv.read_csv(
            io.BytesIO(raw),
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid_row),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), null_values=[""], strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        message = str(exc)
        if "UTF8" in message or "utf8" in message.lower():
            raise UnreadableInputError(f"{path.name} is not UTF-8 text; save it as 'CSV UTF-8' and try again.") from exc
        raise UnreadableInputError(
            f"{path.name} cannot be read as CSV ({message}); check that it opens as a table."
        ) from exc
    table = table.rename_columns(header)
    rows = np.arange(2, table.num_rows + 2, dtype=np.int64)
    shape_problems: list[tuple[int, str]] = []
    if invalid or b"\n\n" in raw or b"\n\r\n" in raw:
        # Blank lines or ragged rows: count records exactly as a spreadsheet shows them.
        rows, shape_problems = _csv_row_numbers(raw, len(header))
        if len(rows) != table.num_rows:
            raise UnreadableInputError(
                f"{path.name} cannot be read consistently as CSV; check its quoting and that every row has "
                f"{len(header)} cells."
            )
    return Source(path, path.name, path.stem, table, rows, 1, shape_problems)


def _csv_row_numbers(raw: bytes, width: int) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Spreadsheet row numbers of the well-formed records, and the ragged ones (row, text)."""
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    next(reader, None)
    rows: list[int] = []
    ragged: list[tuple[int, str]] = []
    for number, record in enumerate(reader, start=2):
        if not record:
            continue
        if len(record) != width:
            ragged.append((number, ",".join(record)))
        else:
            rows.append(number)
    return np.asarray(rows, dtype=np.int64), ragged


def _excel_text(value: Any) -> str | None:
    """An XLSX cell as the text a person would type for it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == dtime(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    text = str(value)
    return text or None


def read_xlsx(path: Path) -> list[Source]:
    """Each non-empty sheet of a workbook; the first row of a sheet names its columns."""
    import openpyxl  # noqa: PLC0415 - only XLSX ingests pay for it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, InvalidFileException, KeyError...: all mean "not a workbook"
        raise UnreadableInputError(f"{path.name} cannot be opened as an Excel workbook (.xlsx): {exc}.") from exc
    sheets: list[tuple[str, list[str], list[list[str | None]], list[int]]] = []
    try:
        for sheet in workbook.worksheets:
            header: list[str] | None = None
            records: list[list[str | None]] = []
            numbers: list[int] = []
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_excel_text(v) for v in values]
                if header is None:
                    while cells and cells[-1] is None:
                        cells.pop()
                    if not cells:
                        break  # an empty first row: treat the sheet as empty
                    header = [c or "" for c in cells]
                    continue
                cells = (cells + [None] * len(header))[: len(header)]
                if all(c is None for c in cells):
                    continue
                records.append(cells)
                numbers.append(number)
            if header is not None:
                sheets.append((sheet.title, header, records, numbers))
    finally:
        workbook.close()
    if not sheets:
        raise UnreadableInputError(f"{path.name} has no sheet with a header row; put column names in row 1.")
    single = len(sheets) == 1
    sources = []
    for title, header, records, numbers in sheets:
        columns = list(zip(*records, strict=True)) if records else [() for _ in header]
        data = pa.table(
            [pa.array(list(col), type=pa.string()) for col in columns], names=[f"c{i}" for i in range(len(header))]
        ).rename_columns(header)
        # A one-sheet workbook named after a table may keep Excel's default sheet name.
        name = title if (title in TABLES or not single) else path.stem
        label = path.name if single and name == path.stem else f"{path.name} sheet {title}"
        sources.append(Source(path, label, name, data, np.asarray(numbers, dtype=np.int64), 1, []))
    return sources


def read_parquet(path: Path) -> Source:
    """A Parquet file; rows are numbered from 1."""
    try:
        data = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableInputError(f"{path.name} cannot be read as Parquet: {exc}.") from exc
    return Source(path, path.name, path.stem, data, np.arange(1, data.num_rows + 1, dtype=np.int64), None, [])


# --------------------------------------------------------------------------- checking


@dataclass
class IngestResult:
    """What one run found and did."""

    problems: pd.DataFrame  # every problem, see asi_me.validate.PROBLEM_COLUMNS (+ message)
    sources: list[Source]
    frames: dict[str, Frame]
    snapshot_id: str | None = None
    changed: bool = False

    @property
    def errors(self) -> int:
        return int((self.problems["severity"] == ERROR).sum())

    @property
    def warnings(self) -> int:
        return int((self.problems["severity"] == WARNING).sum())

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def problem_list(self) -> list[Problem]:
        return problems_from_frame(self.problems)

    def rows_by_table(self) -> dict[str, int]:
        return {f.table: f.num_rows for f in self.frames.values() if f.is_supplied}


def check_sources(sources: list[Source], data_dir: Path, mass_balance: str) -> IngestResult:
    """Validate the supplied sources together with the current snapshot's other tables."""
    problems = ProblemLog()
    frames: dict[str, Frame] = {}
    for order, source in enumerate(sources):
        if source.name not in TABLES:
            problems.add_file(
                source.label, order, None, source.name, RULE_UNKNOWN_TABLE, "",
                "is not a table name",
                "name the file (or sheet) after one of the tables: " + ", ".join(TABLES),
            )
            continue
        if source.name in frames:
            problems.add_file(
                source.label, order, None, source.name, RULE_DUPLICATE_TABLE, "",
                f"is supplied again (already in {frames[source.name].label})",
                "supply each table in one file only",
            )
            continue
        for row, text in source.shape_problems:
            problems.add_file(
                source.label, order, None, text, RULE_ROW_SHAPE, f"{source.data.num_columns} cells",
                "does not have one cell per column", "fix the row's quoting or separators so it has as many cells as "
                "the header", row=row,
            )
        frames[source.name] = build_frame(
            source.name, source.label, order, source.data, source.rows, problems, source.header_row
        )
    snapshot_id = current_id(data_dir)
    if snapshot_id is not None:
        folder = current_folder(data_dir)
        for order, name in enumerate(TABLES, start=len(sources)):
            if name not in frames:
                label = f"{name}.parquet (current snapshot {snapshot_id})"
                frames[name] = trusted_frame(name, label, order, read_table(folder, name))
    validate_frames(frames, problems, mass_balance)
    return IngestResult(problems.frame(), sources, frames)


# --------------------------------------------------------------------------- publishing


@contextmanager
def _ingest_lock(data_dir: Path) -> Iterator[None]:
    """One ingest at a time per data folder (released by the OS if the process dies)."""
    (data_dir / "snapshots").mkdir(parents=True, exist_ok=True)
    with (data_dir / "snapshots" / LOCK).open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _remove_stale_staging(data_dir: Path) -> list[str]:
    """Remove staging folders left by an ingest that was killed (old enough not to be another writer's)."""
    removed = []
    snapshots = data_dir / "snapshots"
    if not snapshots.is_dir():
        return removed
    now = time.time()
    for folder in snapshots.glob(".staging-*"):
        if folder.is_dir() and now - folder.stat().st_mtime > STALE_STAGING_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def _test_pause(point: str) -> Callable[..., None] | None:
    marker = os.environ.get("ASI_INGEST_TEST_PAUSE")
    if not marker or os.environ.get("ASI_INGEST_TEST_PAUSE_AT", "switch") != point:
        return None

    def pause(*_: Any) -> None:
        Path(marker).write_text(point, encoding="utf-8")
        while True:  # until the test kills this process
            time.sleep(0.05)

    return pause


def publish(result: IngestResult, data_dir: Path) -> tuple[str, bool]:
    """Write the validated set as a snapshot and switch CURRENT to it (no-op if identical).

    The caller holds the ingest lock.
    """
    tables: dict[str, pa.Table] = {}
    sources: dict[str, list[str]] = {}
    previous = None
    try:
        previous = current_folder(data_dir)
    except NoSnapshotError:
        previous = None
    for name, frame in result.frames.items():
        tables[name] = frame.to_arrow()
        if frame.is_supplied:
            sources[name] = [frame.label]
        elif previous is not None:
            sources[name] = Manifest.load(previous).tables.get(name, {}).get("sources", [])
    note = "ingest of " + ", ".join(f.label for f in result.frames.values() if f.is_supplied)
    _remove_stale_staging(data_dir)
    return write_snapshot(
        data_dir, tables, sources, note,
        _before_switch=_test_pause("switch"),
        _after_table=_test_pause("table"),
    )


def ingest(
    paths: list[Path], data_dir: Path, *, dry_run: bool = False, mass_balance: str = ERROR
) -> IngestResult:
    """Read and validate `paths`; unless a dry run or anything failed, make them current.

    Raises UnreadableInputError when an input cannot be read at all.
    """
    sources = read_sources(collect_files(paths))
    if dry_run:
        result = check_sources(sources, data_dir, mass_balance)
        result.snapshot_id = current_id(data_dir)
        return result
    # Held from reading the current snapshot to switching CURRENT, so two ingests cannot lose each other's tables.
    with _ingest_lock(data_dir):
        result = check_sources(sources, data_dir, mass_balance)
        if result.ok:
            result.snapshot_id, result.changed = publish(result, data_dir)
        else:
            result.snapshot_id = current_id(data_dir)
    return result


# --------------------------------------------------------------------------- reporting


def write_report(problems: pd.DataFrame, path: Path) -> None:
    """Every problem as one CSV row (the printed list is capped, this is not)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ["severity", "file", "row", "column", "value", "rule", "constraint", "message"]
    table = pa.Table.from_pandas(problems[columns], preserve_index=False)
    pcsv.write_csv(table, path)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def summary_lines(result: IngestResult, dry_run: bool, data_dir: Path, report: Path | None) -> list[str]:
    """The lines printed after the problems: files, rows, problems by rule and the outcome."""
    lines = []
    supplied = [f for f in result.frames.values() if f.is_supplied]
    total = sum(f.num_rows for f in supplied)
    files = len({s.path for s in result.sources})
    tables = _count(len(result.sources), "table")
    lines.append(f"Checked {_count(files, 'file')} ({tables}), {_count(total, 'row')}:")
    lines.extend(f"  {f.label}: {f.table}, {_count(f.num_rows, 'row')}" for f in supplied)
    kept = [f.table for f in result.frames.values() if not f.is_supplied]
    if kept:
        lines.append(f"  kept from the current snapshot: {', '.join(kept)}")
    if len(result.problems):
        lines.append("Problems by rule:")
        counts = result.problems.groupby(["rule", "severity"], sort=True).size()
        lines.extend(f"  {rule}: {_count(n, severity)}" for (rule, severity), n in counts.items())
    if report is not None:
        lines.append(f"Full report ({len(result.problems):,} problems): {report}")
    previous = current_id(data_dir)
    if not result.ok:
        kept_text = f"snapshot {previous} stays current" if previous else "no snapshot was written"
        lines.append(
            f"FAILED: {_count(result.errors, 'error')}, {_count(result.warnings, 'warning')}. "
            f"Nothing was changed; {kept_text}. Fix the files and run the command again."
        )
    elif dry_run:
        lines.append(
            f"PASSED: no errors, {_count(result.warnings, 'warning')}. Dry run: nothing was changed"
            + (f"; snapshot {previous} stays current." if previous else ".")
        )
    elif result.changed:
        lines.append(
            f"PASSED: no errors, {_count(result.warnings, 'warning')}. Snapshot {result.snapshot_id} is now current "
            f"in {data_dir}."
        )
    else:
        lines.append(
            f"PASSED: no errors, {_count(result.warnings, 'warning')}. The data is identical to the current snapshot "
            f"{result.snapshot_id}; nothing changed."
        )
    return lines


def run_cli(paths: list[Path], data_dir: Path, dry_run: bool, report: Path | None = None) -> int:
    """`python -m asi_me ingest|validate`: 0 passed, 1 problems found, 2 unreadable input."""
    command = "validate" if dry_run else "ingest"
    started = time.perf_counter()
    mass_balance = Settings.from_env().mass_balance
    files = [str(p) for p in paths]
    try:
        result = ingest(paths, data_dir, dry_run=dry_run, mass_balance=mass_balance)
    except (UnreadableInputError, NoSnapshotError) as exc:
        print(f"Cannot read the input: {exc}", file=sys.stderr)
        print("Nothing was changed.", file=sys.stderr)
        append_log(data_dir, {
            "command": command, "ok": False, "files": files, "rows": {}, "problems": {}, "errors": 0,
            "warnings": 0, "snapshot_id": current_id(data_dir), "changed": False, "unreadable": str(exc),
        })
        return 2
    problems = result.problems
    for message in problems["message"].head(PRINTED_PROBLEMS):
        print(message)
    if len(problems) > PRINTED_PROBLEMS:
        more = len(problems) - PRINTED_PROBLEMS
        where = f"see {report}" if report else "run again with --report PATH to get them all as CSV"
        print(f"... and {_count(more, 'more problem')} not shown ({where}).")
    if report is not None:
        write_report(problems, report)
    for line in summary_lines(result, dry_run, data_dir, report):
        print(line)
    elapsed = time.perf_counter() - started
    print(f"({command} took {elapsed:.1f} s)")
    by_rule = Counter(problems["rule"].tolist())
    append_log(data_dir, {
        "command": command,
        "ok": result.ok,
        "files": [s.label for s in result.sources],
        "rows": result.rows_by_table(),
        "problems": dict(sorted(by_rule.items())),
        "errors": result.errors,
        "warnings": result.warnings,
        "snapshot_id": result.snapshot_id,
        "changed": result.changed,
        "seconds": round(elapsed, 2),
    })
    return 0 if result.ok else 1

