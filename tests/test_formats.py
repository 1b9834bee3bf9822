"""Every table and CSV the public can get reads cleanly: no "None" or "nan", no float noise
(0.09999999999999432), no figure with more decimals than its unit declares, and one date
format (ISO YYYY-MM-DD). Checked on the demo data for the zip, each file of the data API
(the dataset list) under two sets of filters, the Excel workbook and the screens' tables."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date

import openpyxl
import pandas as pd
import pytest

from asi_me.data.contract import TABLES
from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.publish import api, exports
from asi_me.publish.numbers import DECIMALS, ROW_UNIT_COLUMNS, kind_of_column, kind_of_unit
from asi_me.queries import outcomes
from asi_me.queries.catalogue import PUBLISHED_AGGREGATES, indicator_units
from asi_me.settings import REPO_ROOT
from asi_me.ui.tables import csv_bytes, display_frame, screen_frame

PUBLIC = Viewer.public()
VIEWS = {"default": Filters(), "Europe since 2021": Filters(period_from=date(2021, 1, 1), regions=("Europe",),
                                                             as_of=date(2024, 6, 30))}
MISSING_WORDS = {"None", "none", "nan", "NaN", "NaT", "<NA>", "null"}
NUMBER = re.compile(r"^-?\d+(?:\.(\d+))?$")
NOISE = re.compile(r"\.\d*(?:0{6,}[1-9]\d*|9{6,}\d*)$")
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
OTHER_DATES = [
    re.compile(rf"\b\d{{1,2}} ({MONTHS})[a-z]* \d{{4}}\b"),  # 01 Dec 2017
    re.compile(rf"\b({MONTHS})[a-z]* \d{{1,2}},? \d{{4}}\b"),  # Dec 1, 2017
    re.compile(rf"\b({MONTHS})[a-z]* \d{{4}}\b"),  # Dec 2017
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),  # 01/12/2017
    re.compile(r"\b\d{4}-\d\d-\d\dT\d\d"),  # 2017-12-01T00:00
    re.compile(r"\b\d{4}-\d\d-\d\d 00:00:00\b"),  # a day written as a timestamp
]


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    opened = Store.open_current(REPO_ROOT / "data")
    yield opened
    opened.close()


def _declared_decimals(store: Store, name: str, column: str, row: dict[str, str]) -> int | None:
    """The decimals a published figure may carry: its dataset's declared unit, its row's
    (or indicator's) unit, or its column's naming convention; None where none is declared."""
    units = PUBLISHED_AGGREGATES[name].units if name in PUBLISHED_AGGREGATES else {}
    kind = kind_of_unit(units[column]) if column in units else None
    if kind is None and column in ROW_UNIT_COLUMNS:
        unit = row.get("unit") or indicator_units(store).get(row.get("indicator_code", ""))
        kind = kind_of_unit(unit)
    if kind is None and name not in TABLES:
        kind = kind_of_column(column)
    return None if kind is None else DECIMALS[kind]


def _problems(store: Store, name: str, text: str) -> list[str]:
    """What a reader of one CSV would stumble on."""
    rows = list(csv.DictReader(io.StringIO(text)))
    found: list[str] = []
    for number, row in enumerate(rows, start=2):
        for column, cell in row.items():
            where = f"{name}.csv line {number}, column {column}: {cell!r}"
            if cell in MISSING_WORDS:
                found.append(f"{where} reads like a missing value")
                continue
            match = NUMBER.match(cell or "")
            if match and match.group(1):
                if NOISE.search(cell):
                    found.append(f"{where} is float noise")
                allowed = _declared_decimals(store, name, column, row)
                if allowed is not None and len(match.group(1)) > allowed:
                    found.append(f"{where} has more than {allowed} decimals")
            elif cell and any(p.search(cell) for p in OTHER_DATES):
                found.append(f"{where} has a date not written YYYY-MM-DD")
    return found


def test_the_public_zip_reads_cleanly(store: Store) -> None:
    with zipfile.ZipFile(io.BytesIO(exports.download_zip(store, PUBLIC))) as archive:
        names = [n for n in archive.namelist() if n.endswith(".csv")]
        assert {n.removesuffix(".csv") for n in names} == set(api.dataset_names())
        problems = [p for n in names
                    for p in _problems(store, n.removesuffix(".csv"), archive.read(n).decode("utf-8-sig"))]
        readme = archive.read("README.md").decode("utf-8")
    assert "percentages (0-100) to one decimal" in readme and "YYYY-MM-DD" in readme  # says how figures are written
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_file_of_the_data_api_reads_cleanly(store: Store, view: str) -> None:
    problems: list[str] = []
    for name in api.dataset_names():
        if name in TABLES and view != "default":
            continue  # a whole table is the same under every filter
        text = exports.table_csv(store, PUBLIC, name, VIEWS[view]).decode("utf-8-sig")
        problems += _problems(store, name, text)
    assert not problems, "\n".join(problems[:20])


def test_shares_and_changes_are_rounded_not_noisy(store: Store) -> None:
    """The figures that used to carry noise: CoC shares and tonnes, closure shares, and the
    M&E Insights change column (e.g. ST-08's 0.09999999999999432)."""
    summary = pd.read_csv(io.BytesIO(exports.table_csv(store, PUBLIC, "coc_stage_summary")))
    shares = summary["share_of_global"].dropna()
    assert len(shares) and (shares.round(3) == shares).all()
    assert (summary["output_t"].dropna() % 1 == 0).all()
    insights = outcomes.me_insights(store, PUBLIC)
    text = csv_bytes(display_frame(insights)).decode("utf-8-sig")
    assert "99999" not in text and "00000000" not in text
    shown = pd.read_csv(io.StringIO(text))
    percent = shown[shown["Unit"] == "%"]
    assert len(percent) and (percent["Change"].dropna().round(1) == percent["Change"].dropna()).all()


def test_the_public_workbook_reads_cleanly(store: Store) -> None:
    book = openpyxl.load_workbook(io.BytesIO(exports.download_workbook(store, PUBLIC)), read_only=True)
    problems: list[str] = []
    for sheet in book.worksheets[1:]:
        for row in sheet.iter_rows(min_row=2, values_only=True):
            for value in row:
                if isinstance(value, str) and value in MISSING_WORDS:
                    problems.append(f"{sheet.title}: {value!r}")
                elif isinstance(value, float) and NOISE.search(repr(value)):
                    problems.append(f"{sheet.title}: {value!r} is float noise")
    assert not problems, "\n".join(problems[:20])


def test_every_published_figure_has_a_declared_precision(store: Store) -> None:
    """Each float column of a published dataset has its unit in the dataset's metadata, a
    unit per row, or a name that says its kind: none is rounded by guesswork."""
    for name, dataset in PUBLISHED_AGGREGATES.items():
        frame = dataset.build(store, None)
        declared = dataset.metadata()["units"]
        for column in frame.columns:
            if pd.api.types.is_float_dtype(frame[column].dtype):
                assert (column in declared or kind_of_column(column) is not None
                        or (column in ROW_UNIT_COLUMNS and "unit" in frame.columns)), (name, column)


def test_screen_tables_read_a_dash_for_a_missing_value(store: Store) -> None:
    """The tables the public sees on screen (the published datasets and the M&E Insights)."""
    frames = {name: d.published(store, None) for name, d in PUBLISHED_AGGREGATES.items()}
    frames["me_insights"] = outcomes.me_insights(store, PUBLIC)
    for name, frame in frames.items():
        on_screen = screen_frame(display_frame(frame))
        for column in on_screen.columns:
            values = on_screen[column]
            if not pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
                assert not values.isna().any(), (name, column, "a missing value the grid would show as None")
                texts = {str(v) for v in values}
                assert not texts & MISSING_WORDS, (name, column)


def test_running_text_writes_a_day_one_way() -> None:
    """Sentences, captions, footers and slides write a day as "5 December 2026" (as release
    names do); no module formats a day for reading any other way."""
    from asi_me.publish.numbers import format_day

    assert format_day(date(2026, 12, 5)) == "5 December 2026"
    assert format_day(pd.Timestamp("2021-02-28")) == "28 February 2021"
    assert format_day(None) == "—" and format_day(pd.NaT) == "—"
    other_day_formats = re.compile(r"%d %b|%d %B|%-d %b|\{[^}]*\.day\} \{")
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{n}"
        for path in [REPO_ROOT / "app.py", *(REPO_ROOT / "pages").glob("*.py"), *(REPO_ROOT / "asi_me").rglob("*.py")]
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if other_day_formats.search(line) and path.name != "numbers.py"  # where format_day lives
    ]
    assert not offenders, offenders
