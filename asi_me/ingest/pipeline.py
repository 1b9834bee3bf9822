"""Ingest of elementAl / CRM exports: read, validate everything at once, publish all or nothing.

`python -m asi_me ingest PATH...` reads CSV, XLSX and Parquet files (or folders of
them), each named after a table, checks every cell and every cross-table rule
(see `asi_me.ingest.validate`), and only if nothing fails writes a new snapshot and makes
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
import logging
import os
import shutil
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import (
    Manifest,
    NoSnapshotError,
    append_log,
    arrow_schema,
    current_folder,
    current_id,
    read_table,
    write_snapshot,
)
from asi_me.data.store import Store
from asi_me.ingest import profiles
from asi_me.ingest.profiles import Profile, ProfileError
from asi_me.ingest.validate import (
    DERIVABLE,
    ERROR,
    RULE_DELETION,
    RULE_DUPLICATE_TABLE,
    RULE_REQUIRED,
    RULE_ROW_SHAPE,
    RULE_UNKNOWN_TABLE,
    RULES,
    WARNING,
    Frame,
    Problem,
    ProblemLog,
    build_frame,
    build_key_frame,
    key_strings,
    problems_from_frame,
    trusted_frame,
    validate_frames,
    validate_tables,
)
from asi_me.publish import gate
from asi_me.publish.xlsx import XlsxWriter
from asi_me.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["IngestResult", "Problem", "UnreadableInputError", "ingest", "run_cli", "validate_tables"]

SUFFIXES = (".csv", ".xlsx", ".parquet")
TEMPLATE_DESCRIPTION = "ⓘ "  # the first characters of a template's description row (asi_me.ingest.template)
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


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class Limits:
    """Caps on what an ingest reads, so one odd file cannot exhaust the machine (env: ASI_INGEST_*)."""

    max_file_mb: float = 1024.0  # any input file, as stored
    max_xlsx_mb: float = 1024.0  # a workbook's uncompressed size
    max_xlsx_rows: int = 1_048_576  # rows of one sheet (Excel's own limit)

    @classmethod
    def from_env(cls) -> Limits:
        def number(name: str, default: float) -> float:
            raw = os.environ.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError as exc:
                raise UnreadableInputError(f"{name}={raw!r} is not a number; set it to e.g. {default:g}.") from exc
            if value <= 0:
                raise UnreadableInputError(f"{name}={raw!r} must be more than 0.")
            return value

        return cls(
            number("ASI_INGEST_MAX_FILE_MB", cls.max_file_mb),
            number("ASI_INGEST_MAX_XLSX_MB", cls.max_xlsx_mb),
            int(number("ASI_INGEST_MAX_XLSX_ROWS", cls.max_xlsx_rows)),
        )


# --------------------------------------------------------------------------- reading


def _refuse_link(path: Path) -> None:
    # The message names the link only: what it points at is none of the report's business.
    raise UnreadableInputError(
        f"{path} is a symbolic link; ingest reads only regular files inside the folder it is given. Copy the "
        "export itself there."
    )


def _check_file(path: Path, limits: Limits) -> None:
    if path.suffix.lower() == ".zip":
        raise UnreadableInputError(
            f"{path.name} is a zip archive: unpack it first and give the folder of CSV, XLSX or Parquet files."
        )
    if path.suffix.lower() not in SUFFIXES:
        raise UnreadableInputError(
            f"{path} is not a CSV, XLSX or Parquet file; export the table as .csv, .xlsx or .parquet."
        )
    size_mb = path.stat().st_size / 1e6
    if size_mb > limits.max_file_mb:
        raise UnreadableInputError(
            f"{path.name} is {size_mb:,.4g} MB, over the limit of {limits.max_file_mb:g} MB per input file "
            "(ASI_INGEST_MAX_FILE_MB); split the export, or raise the limit if the machine has the memory."
        )


def collect_files(paths: list[Path], limits: Limits | None = None) -> list[Path]:
    """The data files named or contained (one level deep) in `paths`, in a stable order.

    Symbolic links, entries that resolve outside the folder given, zip archives and files over the
    size limit are refused before anything is read.
    """
    limits = limits or Limits()
    files: list[Path] = []
    for path in paths:
        if path.is_symlink():
            _refuse_link(path)
        if path.is_dir():
            root = path.resolve()
            found = []
            for entry in sorted(path.iterdir()):
                if entry.name.startswith((".", "~$")):
                    continue
                if entry.is_symlink():
                    _refuse_link(entry)
                if not entry.is_file():
                    continue
                if entry.resolve().parent != root:
                    raise UnreadableInputError(f"{entry} lies outside {path}; give the files inside the folder only.")
                if entry.suffix.lower() in (*SUFFIXES, ".zip"):
                    _check_file(entry, limits)
                    found.append(entry)
            if not found:
                raise UnreadableInputError(
                    f"Folder {path} holds no CSV, XLSX or Parquet files; put the exports there, named after tables "
                    f"(e.g. members.csv)."
                )
            files.extend(found)
        elif path.is_file():
            _check_file(path, limits)
            files.append(path)
        else:
            raise UnreadableInputError(f"{path} does not exist; check the path and try again.")
    return files


def read_sources(files: list[Path], limits: Limits | None = None) -> list[Source]:
    """Read every file; workbooks give one source per sheet."""
    limits = limits or Limits()
    sources: list[Source] = []
    for path in files:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            sources.append(read_csv(path))
        elif suffix == ".xlsx":
            sources.extend(read_xlsx(path, limits))
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


def _check_xlsx_size(path: Path, limits: Limits) -> None:
    """Refuse a workbook whose parts expand beyond the limit, before any of it is decompressed."""
    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableInputError(f"{path.name} cannot be opened as an Excel workbook (.xlsx): {exc}.") from exc
    if expanded / 1e6 > limits.max_xlsx_mb:
        raise UnreadableInputError(
            f"{path.name} expands to {expanded / 1e6:,.0f} MB when unpacked, over the limit of "
            f"{limits.max_xlsx_mb:g} MB (ASI_INGEST_MAX_XLSX_MB); export the table as CSV instead."
        )


def read_xlsx(path: Path, limits: Limits | None = None) -> list[Source]:
    """Each non-empty sheet of a workbook; the first row of a sheet names its columns."""
    import openpyxl  # noqa: PLC0415 - only XLSX ingests pay for it

    limits = limits or Limits()
    _check_xlsx_size(path, limits)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, InvalidFileException, KeyError...: all mean "not a workbook"
        raise UnreadableInputError(f"{path.name} cannot be opened as an Excel workbook (.xlsx): {exc}.") from exc
    sheets: list[tuple[str, list[str], list[list[str | None]], list[int]]] = []
    try:
        for sheet in workbook.worksheets:
            if getattr(sheet, "sheet_state", "visible") != "visible":
                continue  # a template's hidden lists of allowed values
            header: list[str] | None = None
            records: list[list[str | None]] = []
            numbers: list[int] = []
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > limits.max_xlsx_rows + 1:
                    raise UnreadableInputError(
                        f"{path.name} sheet {sheet.title} has more than {limits.max_xlsx_rows:,} rows, the limit "
                        "per sheet (ASI_INGEST_MAX_XLSX_ROWS); export the table as CSV instead."
                    )
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
                if number == 2 and any(c and c.startswith(TEMPLATE_DESCRIPTION) for c in cells):
                    continue  # a template's description row
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

QUARANTINED = "quarantined"  # severity of a problem whose row --keep-valid set aside
DELETE_SUFFIX = ".delete"  # certifications.delete.csv: keys of certifications rows to remove


@dataclass
class IngestResult:
    """What one run found and did."""

    problems: pd.DataFrame  # every problem, see asi_me.ingest.validate.PROBLEM_COLUMNS (+ message)
    sources: list[Source]
    frames: dict[str, Frame]
    snapshot_id: str | None = None
    changed: bool = False
    profiles: dict[str, str] = field(default_factory=dict)  # source label -> profile name
    quarantine: pd.DataFrame | None = None  # rows set aside by --keep-valid, with their problems
    previous_id: str | None = None
    changes: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # table -> (new, updated, removed)
    replaced: frozenset[str] = frozenset()

    @property
    def errors(self) -> int:
        return int((self.problems["severity"] == ERROR).sum())

    @property
    def warnings(self) -> int:
        return int((self.problems["severity"] == WARNING).sum())

    @property
    def quarantined_rows(self) -> int:
        return 0 if self.quarantine is None else len(self.quarantine)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def problem_list(self) -> list[Problem]:
        return problems_from_frame(self.problems)

    def rows_by_table(self) -> dict[str, int]:
        return {f.table: f.num_rows for f in self.frames.values() if f.is_supplied}

    def tables(self) -> dict[str, pa.Table]:
        """The resulting snapshot's tables (meaningful when ok)."""
        return {name: frame.to_arrow() for name, frame in self.frames.items()}


def _snapshot_tables(data_dir: Path) -> tuple[str | None, dict[str, pa.Table]]:
    snapshot_id = current_id(data_dir)
    if snapshot_id is None:
        return None, {}
    folder = current_folder(data_dir)
    return snapshot_id, {name: _conform(name, read_table(folder, name)) for name in TABLES}


def _conform(name: str, data: pa.Table) -> pa.Table:
    """A table of the current snapshot in today's schema (a column the contract has gained is added empty)."""
    schema = arrow_schema(TABLES[name])
    columns = []
    for column in schema:
        if column.name in data.column_names:
            columns.append(data[column.name].cast(column.type))
        elif pa.types.is_list(column.type):
            columns.append(pa.array([[]] * data.num_rows, column.type))
        else:
            columns.append(pa.nulls(data.num_rows, column.type))
    return pa.table(columns, schema=schema)


def _choose_profile(source: Source, profile_name: str | None) -> Profile | str | None:
    """The profile to read `source` with; a string is the reason none can be chosen."""
    if profile_name:
        return profiles.get(profile_name)
    if source.name in TABLES or source.name.endswith(DELETE_SUFFIX):
        return None
    found = profiles.detect(list(source.data.column_names))
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        return "its headers fit several source profiles (" + ", ".join(p.name for p in found) + ")"
    return None


def check_sources(
    sources: list[Source], data_dir: Path, mass_balance: str, *, replace: frozenset[str] = frozenset(),
    profile_name: str | None = None, snapshot: tuple[str | None, dict[str, pa.Table]] | None = None,
) -> IngestResult:
    """Validate the supplied sources as an update of the current snapshot.

    A supplied table's rows are added, or update the row with the same key, and every other row
    is kept, unless the table is in `replace` (then the file is the whole table). A deletion list
    (`<table>.delete.csv`, the key columns) removes rows. References are checked against the
    resulting snapshot.
    """
    problems = ProblemLog()
    frames: dict[str, Frame] = {}
    snapshot_id, current = snapshot if snapshot is not None else _snapshot_tables(data_dir)
    deletions: dict[str, list[tuple[str, dict[str, pa.Array]]]] = {}
    used: dict[str, str] = {}
    for order, source in enumerate(sources):
        name = source.name
        data = source.data
        explained: dict[str, np.ndarray] = {}
        profile_problems: list = []
        chosen = _choose_profile(source, profile_name)
        if isinstance(chosen, str):
            problems.add_file(source.label, order, None, source.name, RULE_UNKNOWN_TABLE, "", chosen,
                              "choose one with --profile NAME")
            continue
        if chosen is not None:
            lookup_tables = {n: frames[n].supplied_arrow() if n in frames else current.get(n)
                             for n in {lk.table for lk in chosen.lookups.values()}}
            applied = profiles.apply(chosen, data, {n: t for n, t in lookup_tables.items() if t is not None})
            name, data, explained, profile_problems = chosen.table, applied.data, applied.explained, applied.problems
            used[source.label] = chosen.name
        if name.endswith(DELETE_SUFFIX) and name.removesuffix(DELETE_SUFFIX) in TABLES:
            table = name.removesuffix(DELETE_SUFFIX)
            keys = build_key_frame(table, source.label, order, data, source.rows, problems, source.header_row)
            if keys is not None:
                deletions.setdefault(table, []).append((source.label, keys))
            continue
        if name not in TABLES:
            problems.add_file(
                source.label, order, None, source.name, RULE_UNKNOWN_TABLE, "",
                "is not a table name and fits no source profile",
                "name the file (or sheet) after one of the tables: " + ", ".join(TABLES)
                + "; or choose a profile with --profile NAME (" + ", ".join(profiles.profiles()) + ")",
            )
            continue
        if name in frames:
            problems.add_file(
                source.label, order, None, source.name, RULE_DUPLICATE_TABLE, "",
                f"is supplied again (already in {frames[name].label})",
                "supply each table in one file only",
            )
            continue
        for row, text in source.shape_problems:
            problems.add_file(
                source.label, order, None, text, RULE_ROW_SHAPE, f"{source.data.num_columns} cells",
                "does not have one cell per column", "fix the row's quoting or separators so it has as many cells as "
                "the header", row=row,
            )
        update = name in current and name not in replace
        frame = build_frame(name, source.label, order, data, source.rows, problems, source.header_row,
                            update=update, explained=explained)
        for rows, column, values, rule, constraint, detail, hint in profile_problems:
            problems.add(frame, rows, column, values, rule, constraint, detail, hint)
        frames[name] = frame
    # A deletion list for a table that is not supplied: the table is updated with no new rows.
    for table, lists in deletions.items():
        if table not in frames and table in current:
            empty = pa.table({c: pa.array([], pa.string()) for c in TABLES[table].columns})
            frames[table] = build_frame(table, lists[0][0], len(sources), empty, np.zeros(0, np.int64), problems)
    changes: dict[str, tuple[int, int, int]] = {}
    for name, frame in frames.items():
        base = current.get(name)
        if base is None:
            continue
        if name in replace:
            frame.removes_keys = base.num_rows > 0
            changes[name] = (frame.num_rows, 0, base.num_rows)
            continue
        changes[name] = _merge(frame, base, deletions.get(name, []), problems)
    for order, name in enumerate(TABLES, start=len(sources) + 1):
        if name not in frames and name in current:
            label = f"{name}.parquet (current snapshot {snapshot_id})"
            frames[name] = trusted_frame(name, label, order, current[name])
    validate_frames(frames, problems, mass_balance)
    return IngestResult(problems.frame(), sources, frames, profiles=used, previous_id=snapshot_id, changes=changes,
                        replaced=frozenset(replace) & set(current))


def _merge(
    frame: Frame, base: pa.Table, deletions: list[tuple[str, dict[str, pa.Array]]], problems: ProblemLog
) -> tuple[int, int, int]:
    """Make `frame` an update of `base`: supplied rows replace the rows with their key (keeping the columns
    the file leaves out) or are appended; rows named in a deletion list go. Returns (new, updated, removed)."""
    key = TABLES[frame.table].key
    n_base = base.num_rows
    ok_key = np.logical_and.reduce([frame.ok[c] for c in key]) if frame.num_rows else np.zeros(0, bool)
    supplied_keys = key_strings({c: _null_unless(frame.typed[c], ok_key) for c in key}, key)
    base_keys = key_strings({c: base[c].combine_chunks() for c in key}, key)
    position = pc.index_in(supplied_keys, value_set=base_keys)
    matched = np.asarray(pc.is_valid(position).to_numpy(zero_copy_only=False), dtype=bool)
    at = np.asarray(pc.fill_null(position, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    schema = arrow_schema(TABLES[frame.table])
    given = set(frame.given)
    given |= {c for c in schema.names if c.endswith("_precision") and c.removesuffix("_precision") in given}
    if frame.table in DERIVABLE:
        given.add("derived_columns")
    for column in schema.names:
        if column in given or column in key:
            continue
        old = base[column].combine_chunks().cast(schema.field(column).type)
        if matched.any():
            taken = old.take(pa.array(at, pa.int64()))
            frame.typed[column] = pc.if_else(pa.array(matched), taken, frame.typed[column].cast(old.type))
            frame.ok[column] = frame.ok[column] | matched
            frame.present[column] = frame.present[column] | (matched & _valid(taken))
        rule = RULES[frame.table][column]
        new_rows = _where(~matched & ok_key & ~frame.ok[column])
        if rule.required and new_rows.size and column not in DERIVABLE.get(frame.table, ()):
            problems.add(frame, new_rows, column, None, RULE_REQUIRED, "",
                         f"the file has no {column} column and this row is new (its key is not in the current "
                         "snapshot)", f"add a column {column} ({rule.description.rstrip('.')})")
        elif rule.required and new_rows.size:
            problems.add(frame, new_rows, column, None, RULE_REQUIRED, "", "the cell is empty and cannot be derived",
                         f"add a column {column}, or give the cells it is derived from")
    deleted = np.zeros(n_base, dtype=bool)
    for label, keys in deletions:
        wanted = key_strings(keys, key)
        deleted |= _valid_mask(pc.is_in(base_keys, value_set=wanted))
        unknown = _where(~_valid_mask(pc.is_in(wanted, value_set=base_keys)))
        if unknown.size:
            shadow = Frame(table=frame.table, label=label, order=frame.order, rows=np.arange(2, len(wanted) + 2),
                           is_supplied=False)
            problems.add(shadow, unknown, ", ".join(key), pc.take(wanted, pa.array(unknown)), RULE_DELETION,
                         frame.table, "matches no row of the current snapshot; there is nothing to delete",
                         "check the key", severity=WARNING)
    updated_from = np.full(n_base, -1, dtype=np.int64)
    supplied_index = np.arange(frame.num_rows, dtype=np.int64)
    updated_from[at[matched]] = supplied_index[matched]
    order = np.where(updated_from >= 0, n_base + updated_from, np.arange(n_base, dtype=np.int64))
    frame.order_index = np.concatenate([order[~deleted], n_base + supplied_index[~matched]])
    frame.base = base
    frame.removes_keys = bool(deleted.any())
    return int((~matched).sum()), int(matched.sum()), int(deleted.sum())


def _null_unless(array: pa.Array, mask: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(mask), array, pa.scalar(None, array.type)) if len(mask) else array


def _valid(array: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_valid(array).to_numpy(zero_copy_only=False), dtype=bool)


def _valid_mask(array: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _where(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)


def check_keeping_valid(
    sources: list[Source], data_dir: Path, mass_balance: str, *, replace: frozenset[str] = frozenset(),
    profile_name: str | None = None, passes: int = 4,
) -> IngestResult:
    """As check_sources, but rows with an error are set aside (with their problems) and the rest checked
    again, until what is left passes; a problem with the file itself still fails the whole run."""
    snapshot = _snapshot_tables(data_dir)
    kept = list(sources)
    set_aside: list[pd.DataFrame] = []
    quarantined_problems: list[pd.DataFrame] = []
    result = check_sources(kept, data_dir, mass_balance, replace=replace, profile_name=profile_name,
                           snapshot=snapshot)
    for _ in range(passes):
        errors = result.problems[(result.problems["severity"] == ERROR)]
        by_label = {s.label: s for s in kept}
        row_errors = errors[errors["row"].notna() & errors["file"].isin(list(by_label))]
        if row_errors.empty or len(row_errors) < len(errors):
            break  # nothing to set aside, or a problem no row explains
        bad_rows = row_errors.groupby("file")["row"].agg(lambda r: set(int(x) for x in r))
        next_sources = []
        for source in kept:
            rows = bad_rows.get(source.label)
            if not rows:
                next_sources.append(source)
                continue
            drop = np.isin(source.rows, np.fromiter(rows, dtype=np.int64))
            aside = source.data.filter(pa.array(drop)).to_pandas(types_mapper=None).astype(object)
            aside = aside.where(aside.notna(), None)
            mine = row_errors[row_errors["file"] == source.label]
            messages = mine.groupby("row")["message"].agg(" | ".join)
            aside.insert(0, "problems", [messages.get(r, "") for r in source.rows[drop]])
            aside.insert(0, "row", source.rows[drop])
            aside.insert(0, "file", source.label)
            set_aside.append(aside)
            quarantined_problems.append(mine.assign(severity=QUARANTINED))
            keep = ~drop
            next_sources.append(Source(
                source.path, source.label, source.name, source.data.filter(pa.array(keep)), source.rows[keep],
                source.header_row, source.shape_problems,
            ))
        kept = next_sources
        result = check_sources(kept, data_dir, mass_balance, replace=replace, profile_name=profile_name,
                               snapshot=snapshot)
    if set_aside:
        result.problems = pd.concat([*quarantined_problems, result.problems], ignore_index=True)
        result.quarantine = pd.concat(set_aside, ignore_index=True)
    result.sources = sources
    return result


# --------------------------------------------------------------------------- publishing


def _lock_holder(fd: int) -> str:
    text = os.pread(fd, 512, 0).decode("utf-8", errors="replace").strip()
    pid, _, started = text.partition(" ")
    return f"started at {started or 'an unknown time'}, pid {pid or 'unknown'}"


@contextmanager
def _ingest_lock(data_dir: Path, waiting: Callable[[str], None] | None = None) -> Iterator[None]:
    """One ingest at a time per data folder (released by the OS if the process dies).

    The holder writes its pid and start time into the lock file, so one that waits can say on whom.
    """
    (data_dir / "snapshots").mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / "snapshots" / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = f"waiting for another ingest ({_lock_holder(fd)}) to finish..."
            (waiting or (lambda m: print(m, file=sys.stderr, flush=True)))(message)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {datetime.now().astimezone().isoformat(timespec='seconds')}\n".encode(), 0)
        try:
            _remove_stale_staging(data_dir)
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_staging(data_dir: Path) -> list[str]:
    """Remove staging folders left by a writer that died: its pid (in the folder's name) is gone, or, for a
    folder without one, it is older than STALE_STAGING_SECONDS. Called with the ingest lock held."""
    removed = []
    snapshots = data_dir / "snapshots"
    if not snapshots.is_dir():
        return removed
    now = time.time()
    for folder in snapshots.glob(".staging-*"):
        if not folder.is_dir() or folder.name == LOCK:
            continue
        pid_text = folder.name.removeprefix(".staging-").split("-", 1)[0]
        if pid_text.isdigit() and "-" in folder.name.removeprefix(".staging-"):
            dead = int(pid_text) != os.getpid() and not _is_alive(int(pid_text))
        else:
            dead = now - folder.stat().st_mtime > STALE_STAGING_SECONDS
        if dead:
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


def publish(result: IngestResult, data_dir: Path, *, make_current: bool = True) -> tuple[str, bool]:
    """Write the validated set as a snapshot and (unless a preview) switch CURRENT to it (no-op if identical).

    The caller holds the ingest lock.
    """
    tables: dict[str, pa.Table] = {}
    sources: dict[str, list[str]] = {}
    previous = None
    try:
        previous = current_folder(data_dir)
    except NoSnapshotError:
        previous = None
    old_sources = Manifest.load(previous).tables if previous is not None else {}
    for name, frame in result.frames.items():
        tables[name] = frame.to_arrow()
        if frame.is_supplied:
            kept = old_sources.get(name, {}).get("sources", []) if frame.base is not None else []
            sources[name] = sorted({*kept, frame.label})
        elif previous is not None:
            sources[name] = old_sources.get(name, {}).get("sources", [])
    note = "ingest of " + ", ".join(f.label for f in result.frames.values() if f.is_supplied)
    snapshot_id, changed = write_snapshot(
        data_dir, tables, sources, note, make_current=make_current,
        _before_switch=_test_pause("switch"),
        _after_table=_test_pause("table"),
    )
    if changed:  # an identical re-write leaves the data folder as it was
        prepare_figures(data_dir, snapshot_id)
    return snapshot_id, changed


def prepare_figures(data_dir: Path, snapshot_id: str) -> None:
    """Compute and keep the snapshot's protected figures (asi_me.publish.gate.prepare), so its
    first visitor does not wait for them. Off with ASI_PREPARE_ON_PUBLISH=0. A failure here
    never fails the ingest: the figures are then computed when first needed."""
    if os.environ.get("ASI_PREPARE_ON_PUBLISH", "1").strip() == "0":
        return
    started = time.perf_counter()
    store = None
    try:
        store = Store(data_dir / "snapshots" / snapshot_id)
        gate.prepare(store)
    except Exception:  # logged with its trace; the snapshot itself is written and served
        log.exception("Could not prepare the protected figures of snapshot %s; they are computed when first "
                      "needed.", snapshot_id)
    finally:
        if store is not None:
            store.close()
    log.info("Prepared the protected figures of snapshot %s in %.1f s", snapshot_id, time.perf_counter() - started)


def ingest(
    paths: list[Path], data_dir: Path, *, dry_run: bool = False, mass_balance: str = ERROR,
    replace: frozenset[str] | set[str] = frozenset(), profile: str | None = None, keep_valid: bool = False,
    limits: Limits | None = None, make_current: bool = True, waiting: Callable[[str], None] | None = None,
) -> IngestResult:
    """Read and validate `paths` as an update of the current snapshot; unless a dry run or anything failed,
    write the result (and make it current, unless `make_current` is False: a preview).

    Raises UnreadableInputError when an input cannot be read at all, ProfileError for an unknown profile.
    """
    replace = frozenset(replace)
    unknown = sorted(replace - set(TABLES))
    if unknown:
        raise UnreadableInputError(f"--replace names {', '.join(unknown)}, which is not a table; the tables are "
                                   + ", ".join(TABLES) + ".")
    if profile:
        profiles.get(profile)
    sources = read_sources(collect_files(paths, limits or Limits.from_env()), limits or Limits.from_env())

    def check() -> IngestResult:
        if keep_valid:
            return check_keeping_valid(sources, data_dir, mass_balance, replace=replace, profile_name=profile)
        return check_sources(sources, data_dir, mass_balance, replace=replace, profile_name=profile)

    if dry_run:
        result = check()
        result.snapshot_id = current_id(data_dir)
        return result
    # Held from reading the current snapshot to switching CURRENT, so two ingests cannot lose each other's tables.
    with _ingest_lock(data_dir, waiting):
        result = check()
        if result.ok:
            result.snapshot_id, result.changed = publish(result, data_dir, make_current=make_current)
        else:
            result.snapshot_id = current_id(data_dir)
    return result


# --------------------------------------------------------------------------- reporting

REPORT_COLUMNS = ["severity", "file", "row", "column", "value", "rule", "constraint", "message"]


def write_report(problems: pd.DataFrame, path: Path) -> None:
    """Every problem as one row of a CSV, or of an .xlsx (a summary sheet, then every problem)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(problems[REPORT_COLUMNS].astype({"row": "Int64"}), preserve_index=False)
    if path.suffix.lower() == ".xlsx":
        groups = grouped_problems(problems)
        with path.open("wb") as sink, XlsxWriter(sink) as book:
            book.add_sheet("summary", list(groups.columns), [pa.Table.from_pandas(groups, preserve_index=False)])
            book.add_sheet("problems", REPORT_COLUMNS, [table])
        return
    pcsv.write_csv(table, path)


def write_quarantine(quarantine: pd.DataFrame, path: Path) -> None:
    """The rows --keep-valid set aside, with the cells as read and their problems (CSV or .xlsx)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = quarantine.astype(object).where(quarantine.notna(), None)
    table = pa.Table.from_pandas(frame.astype(str).where(frame.notna(), None), preserve_index=False)
    if path.suffix.lower() == ".xlsx":
        with path.open("wb") as sink, XlsxWriter(sink) as book:
            book.add_sheet("quarantine", list(table.column_names), [table])
        return
    pcsv.write_csv(table, path)


def grouped_problems(problems: pd.DataFrame, examples: int = 3) -> pd.DataFrame:
    """Problems grouped by file, column, rule and severity: how many, and the first few values with rows."""
    if problems.empty:
        return pd.DataFrame(columns=["file", "column", "rule", "severity", "count", "examples", "what to do"])
    frame = problems.assign(
        column=problems["column"].fillna(""), _order=range(len(problems)),
        _example=[
            (f"'{v}'" if pd.notna(v) else "(empty)") + (f" (row {int(r)})" if pd.notna(r) else "")
            for v, r in zip(problems["value"], problems["row"], strict=True)
        ],
    )
    grouped = frame.groupby(["file", "column", "rule", "severity"], sort=False, dropna=False).agg(
        count=("_order", "size"), first=("_order", "min"),
        examples=("_example", lambda e: ", ".join(list(dict.fromkeys(e))[:examples])),
        hint=("hint", "first"),
    )
    grouped = grouped.sort_values("first").drop(columns="first").reset_index()
    return grouped.rename(columns={"hint": "what to do"})


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 or noun == QUARANTINED else "s")


def summary_lines(result: IngestResult, dry_run: bool, data_dir: Path, report: Path | None) -> list[str]:
    """The lines printed after the problems: files, rows, changes per table, problems by rule and the outcome."""
    lines = []
    supplied = [f for f in result.frames.values() if f.is_supplied]
    total = sum(f.num_rows for f in supplied)
    files = len({s.path for s in result.sources})
    tables = _count(len(result.sources), "table")
    lines.append(f"Checked {_count(files, 'file')} ({tables}), {_count(total, 'row')}:")
    for frame in supplied:
        profile = result.profiles.get(frame.label)
        read_as = f" (read with profile {profile})" if profile else ""
        change = _change_text(result.changes.get(frame.table), frame.table in result.replaced)
        lines.append(f"  {frame.label}{read_as}: {frame.table}, {_count(frame.num_rows, 'row')}{change}")
    kept = [f.table for f in result.frames.values() if not f.is_supplied]
    if kept:
        lines.append(f"  kept from the current snapshot: {', '.join(kept)}")
    if result.quarantined_rows:
        lines.append(f"Set aside: {_count(result.quarantined_rows, 'row')} with errors (--keep-valid); "
                     "they are in the quarantine file with their problems.")
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
            f"Nothing was changed; {kept_text}. Fix the files and run the command again"
            + (", or use --keep-valid to publish the valid rows and set the others aside." if not
               result.quarantined_rows else ".")
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


def _change_text(change: tuple[int, int, int] | None, replaced: bool) -> str:
    if change is None:
        return ""
    new, updated, removed = change
    if replaced:
        return f" (replaces the table: {removed:,} rows before)"
    return f" ({new:,} new, {updated:,} updating the row with the same key, {removed:,} removed)"


def summary_groups_lines(problems: pd.DataFrame, limit: int = 40) -> list[str]:
    """The grouped summary printed first: per file, column and rule, the count and three examples."""
    groups = grouped_problems(problems)
    if groups.empty:
        return []
    lines = ["Summary (by file, column and rule):"]
    for group in groups.head(limit).itertuples(index=False):
        where = group.file + (f", column {group.column}" if group.column else "")
        lines.append(f"  {where}: {group.rule}, {_count(int(group.count), group.severity)}; e.g. {group.examples}")
    if len(groups) > limit:
        lines.append(f"  ... and {len(groups) - limit} more groups (see the full report).")
    return lines


def run_cli(
    paths: list[Path], data_dir: Path, dry_run: bool, report: Path | None = None, *,
    replace: list[str] | None = None, profile: str | None = None, keep_valid: bool = False,
    quarantine: Path | None = None, user: str | None = None,
) -> int:
    """`python -m asi_me ingest|validate`: 0 passed, 1 problems found, 2 unreadable input."""
    command = "validate" if dry_run else "ingest"
    started = time.perf_counter()
    mass_balance = Settings.from_env().mass_balance
    files = [str(p) for p in paths]
    who = user or os.environ.get("USER") or "unknown"
    try:
        result = ingest(paths, data_dir, dry_run=dry_run, mass_balance=mass_balance, replace=set(replace or ()),
                        profile=profile, keep_valid=keep_valid)
    except (UnreadableInputError, NoSnapshotError, ProfileError) as exc:
        print(f"Cannot read the input: {exc}", file=sys.stderr)
        print("Nothing was changed.", file=sys.stderr)
        append_log(data_dir, {
            "command": command, "ok": False, "files": files, "rows": {}, "problems": {}, "errors": 0,
            "warnings": 0, "snapshot_id": current_id(data_dir), "changed": False, "unreadable": str(exc),
            "user": who,
        })
        return 2
    problems = result.problems
    for line in summary_groups_lines(problems):
        print(line)
    for message in problems["message"].head(PRINTED_PROBLEMS):
        print(message)
    if len(problems) > PRINTED_PROBLEMS:
        more = len(problems) - PRINTED_PROBLEMS
        where = f"see {report}" if report else "run again with --report PATH to get them all as CSV or XLSX"
        print(f"... and {_count(more, 'more problem')} not shown ({where}).")
    if report is not None:
        write_report(problems, report)
    if result.quarantine is not None:
        quarantine = quarantine or Path("quarantine.csv")
        write_quarantine(result.quarantine, quarantine)
        print(f"Quarantine ({_count(result.quarantined_rows, 'row')} set aside): {quarantine}")
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
        "quarantined": result.quarantined_rows,
        "profiles": result.profiles,
        "replace": sorted(replace or []),
        "snapshot_id": result.snapshot_id,
        "previous_id": result.previous_id,
        "changed": result.changed,
        "seconds": round(elapsed, 2),
        "user": who,
    })
    return 0 if result.ok else 1
