"""Excel templates for the tables of the contract: `python -m asi_me template TABLE`.

A template has the table's columns in row 1, what each column holds in row 2 (ingest
recognises that row and skips it), and drop-down lists of the allowed codes on every
vocabulary column (openpyxl's data validation, the lists kept in a hidden sheet), so a
person filling it in cannot type a code that ingest would refuse.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from asi_me.data.contract import TABLES
from asi_me.ingest.validate import RULES

DATA_ROWS = 5000  # rows the drop-downs cover
DESCRIPTION_PREFIX = "ⓘ "  # marks the description row, which ingest skips


def description_row(table: str) -> list[str]:
    """The second row of a template: what each column holds, with its type and allowed values."""
    out = []
    for rule in RULES[table].values():
        text = f"{DESCRIPTION_PREFIX}{rule.description} ({rule.type_text()}"
        if rule.is_list:
            text += ", several values separated by ;"
        out.append(text + ")")
    return out


def template_bytes(table: str) -> bytes:
    """The .xlsx template of `table`."""
    import openpyxl  # noqa: PLC0415
    from openpyxl.styles import Font, PatternFill  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415
    from openpyxl.worksheet.datavalidation import DataValidation  # noqa: PLC0415

    if table not in TABLES:
        raise KeyError(table)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = table
    rules = list(RULES[table].values())
    sheet.append([r.name for r in rules])
    sheet.append(description_row(table))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="555555")
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
    sheet.freeze_panes = "A3"
    lists = book.create_sheet("allowed values")
    lists.sheet_state = "hidden"
    list_column = 0
    for position, rule in enumerate(rules, start=1):
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = max(14, min(40, len(rule.name) + 4))
        if not rule.allowed or rule.is_list:
            continue
        list_column += 1
        list_letter = get_column_letter(list_column)
        lists.cell(row=1, column=list_column, value=rule.name)
        for i, value in enumerate(rule.allowed, start=2):
            lists.cell(row=i, column=list_column, value=value)
        source = f"'allowed values'!${list_letter}$2:${list_letter}${len(rule.allowed) + 1}"
        validation = DataValidation(type="list", formula1=source, allow_blank=rule.nullable, showDropDown=False)
        validation.error = f"{rule.name} takes one of: {', '.join(rule.allowed)}"
        validation.errorTitle = "Not an allowed value"
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)
        validation.add(f"{letter}3:{letter}{DATA_ROWS + 2}")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_template(table: str, out: Path | None = None) -> int:
    """`python -m asi_me template TABLE`: 0 written, 2 unknown table."""
    if table not in TABLES:
        print(f"{table!r} is not a table; the tables are {', '.join(TABLES)}.", file=sys.stderr)
        return 2
    path = out or Path(f"{table}-template.xlsx")
    path.write_bytes(template_bytes(table))
    print(f"template for {table} written to {path}")
    return 0
