"""A streaming .xlsx writer for Arrow record batches: each batch becomes worksheet XML
through Arrow's vectorised string functions, so no Python object is made per cell.

It writes what a download needs and no more: inline strings, numbers, booleans, dates
and date-times (with an ISO number format), empty cells for nulls, a frozen header
row. Callers keep sheets within Excel's row limit and defuse formula-like text first.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from datetime import date
from typing import IO
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Excel's day 0 is 1899-12-30, so 1970-01-01 is day 25569.
_EPOCH_SERIAL = 25569
_EMPTY = "<c/>"
# Rows turned into XML at once: each column's cells and the row strings are held for one
# piece, so this bounds the writer's memory (about 20 MB for a wide table) whatever the batch.
ROWS_PER_PIECE = 16_384
_STYLE_DATE, _STYLE_DATETIME = 1, 2
# characters XML 1.0 does not allow, even escaped
_INVALID_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{FFFE}\x{FFFF}]"

_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _text_cells(column: pa.Array) -> pa.Array:
    text = column.cast(pa.string()) if not pa.types.is_string(column.type) else column
    text = pc.replace_substring_regex(text, _INVALID_XML, "")
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = pc.replace_substring(text, raw, entity)
    cells = pc.binary_join_element_wise('<c t="inlineStr"><is><t xml:space="preserve">', text, "</t></is></c>", "")
    # an empty text (say an empty list joined) is an empty cell, as in any spreadsheet
    cells = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), cells)
    return pc.fill_null(cells, _EMPTY)


def _value_cells(values: pa.Array, mask: pa.Array | None = None, attributes: str = "") -> pa.Array:
    cells = pc.binary_join_element_wise(f"<c{attributes}><v>", values.cast(pa.string()), "</v></c>", "")
    if mask is not None:
        cells = pc.if_else(mask, cells, pa.scalar(None, pa.string()))
    return pc.fill_null(cells, _EMPTY)


def _cells(column: pa.Array) -> pa.Array:
    """One worksheet cell (XML text) per value."""
    kind = column.type
    if pa.types.is_boolean(kind):
        return _value_cells(pc.if_else(column, "1", "0"), attributes=' t="b"')
    if pa.types.is_integer(kind):
        return _value_cells(column)
    if pa.types.is_floating(kind):
        return _value_cells(column, mask=pc.is_finite(column))
    if pa.types.is_date(kind):
        days = pc.add(column.cast(pa.date32()).cast(pa.int32()), _EPOCH_SERIAL)
        return _value_cells(days, attributes=f' s="{_STYLE_DATE}"')
    if pa.types.is_timestamp(kind):
        micros = column.cast(pa.timestamp("us", kind.tz)).cast(pa.int64())
        serial = pc.add(pc.divide(micros.cast(pa.float64()), 86_400_000_000.0), float(_EPOCH_SERIAL))
        return _value_cells(serial, attributes=f' s="{_STYLE_DATETIME}"')
    if pa.types.is_null(kind):
        return pa.array([_EMPTY] * len(column), pa.string())
    return _text_cells(column)


def _raw_bytes(strings: pa.Array) -> memoryview:
    """The concatenated UTF-8 bytes of a string array, without copying."""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32, count=len(strings) + 1, offset=strings.offset * 4)
    return memoryview(strings.buffers()[2])[offsets[0]:offsets[-1]]


def _rows_xml(batch: pa.RecordBatch, first_row: int) -> bytes:
    """`<row>` elements for every row of the batch, numbered from `first_row`."""
    if batch.num_rows == 0:
        return b""
    numbers = pa.array(np.arange(first_row, first_row + batch.num_rows, dtype=np.int64)).cast(pa.string())
    rows = pc.binary_join_element_wise('<row r="', numbers, '">', *(_cells(c) for c in batch.columns), "</row>", "")
    return bytes(_raw_bytes(rows))


def _header_xml(columns: list[str]) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t xml:space="preserve">{escape(c)}</t></is></c>' for c in columns)
    return f'<row r="1">{cells}</row>'


def zip_entry(name: str, level: int) -> zipfile.ZipInfo:
    """A deflated zip entry stamped with today's date at midnight rather than the clock, so
    two builds of the same download on one day are the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(*date.today().timetuple()[:3], 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    # Python 3.11 reads an entry's level from here (3.13 names it compress_level).
    info._compresslevel = level
    return info


class XlsxWriter:
    """Writes an .xlsx into a binary file object, one sheet at a time; call close()."""

    def __init__(self, sink: IO[bytes], compresslevel: int = 1) -> None:
        self._zip = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self._level = compresslevel
        self._sheets: list[str] = []

    def add_sheet(self, name: str, columns: list[str] | None,
                  chunks: Iterable[pa.RecordBatch | pa.Table], *, freeze_header: bool = True) -> int:
        """A sheet named `name` with a header row of `columns` (none if None) and the rows of
        every batch; the number of data rows written."""
        self._sheets.append(name)
        pane = ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
                'state="frozen"/></sheetView></sheetViews>') if freeze_header and columns is not None else ""
        path = f"xl/worksheets/sheet{len(self._sheets)}.xml"
        rows = 0
        with self._zip.open(zip_entry(path, self._level), "w", force_zip64=True) as entry:
            entry.write(f'{_XML}<worksheet xmlns="{_MAIN}">{pane}<sheetData>'.encode())
            first = 1
            if columns is not None:
                entry.write(_header_xml(columns).encode())
                first = 2
            for chunk in chunks:
                for batch in chunk.to_batches() if isinstance(chunk, pa.Table) else [chunk]:
                    for start in range(0, batch.num_rows, ROWS_PER_PIECE):
                        piece = batch.slice(start, ROWS_PER_PIECE)
                        entry.write(_rows_xml(piece, first + rows))
                        rows += piece.num_rows
            entry.write(b"</sheetData></worksheet>")
        return rows

    def __enter__(self) -> XlsxWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.close()
        else:  # leave no half-written package open
            self._zip.close()

    def close(self) -> None:
        n = len(self._sheets)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, n + 1))
        self._zip.writestr(zip_entry("[Content_Types].xml", self._level), (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>"))
        self._zip.writestr(zip_entry("_rels/.rels", self._level), (
            f'{_XML}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        sheets = "".join(f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
                         for i, name in enumerate(self._sheets, start=1))
        self._zip.writestr(zip_entry("xl/workbook.xml", self._level), (
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
            f"<sheets>{sheets}</sheets></workbook>"))
        relations = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                            for i in range(1, n + 1))
        self._zip.writestr(zip_entry("xl/_rels/workbook.xml.rels", self._level), (
            f'{_XML}<Relationships xmlns="{_PKG_REL}">{relations}'
            f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'))
        self._zip.writestr(zip_entry("xl/styles.xml", self._level), _STYLES)
        self._zip.close()
