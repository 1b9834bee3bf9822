"""Ingest reads only what it was given, within limits, and says why it waits."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from asi_me.data.snapshot import current_id
from asi_me.ingest.pipeline import run_cli

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "ingest_valid"
SECRET = "root:x:0:0:very-private-first-line"


@pytest.fixture(autouse=True)
def _settings(monkeypatch):
    for name in ("ASI_MASS_BALANCE", "ASI_INGEST_MAX_FILE_MB", "ASI_INGEST_MAX_XLSX_MB", "ASI_INGEST_MAX_XLSX_ROWS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("hygiene") / "data"
    assert run_cli([FIXTURES], data_dir, dry_run=False) == 0
    return data_dir


@pytest.fixture
def data_dir(tmp_path, baseline) -> Path:
    target = tmp_path / "data"
    shutil.copytree(baseline, target)
    return target


def test_a_symlink_is_refused_without_showing_its_target(data_dir, tmp_path, capsys):
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text(SECRET + "\n", encoding="utf-8")
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(FIXTURES / "members.csv", exports / "members.csv")
    (exports / "facilities.csv").symlink_to(secret)
    before = current_id(data_dir)

    for given in ([exports], [exports / "facilities.csv"]):
        assert run_cli(given, data_dir, dry_run=False) == 2
        captured = capsys.readouterr()
        assert "facilities.csv is a symbolic link" in captured.err
        assert "very-private" not in captured.err + captured.out
        assert str(secret) not in captured.err + captured.out
    assert current_id(data_dir) == before


def test_a_zip_is_refused_with_unpack_it_first(data_dir, tmp_path, capsys):
    path = tmp_path / "exports.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(FIXTURES / "members.csv", "members.csv")
    assert run_cli([path], data_dir, dry_run=True) == 2
    assert "is a zip archive: unpack it first" in capsys.readouterr().err
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(path, folder / "exports.zip")
    assert run_cli([folder], data_dir, dry_run=True) == 2  # not skipped without a word
    assert "unpack it first" in capsys.readouterr().err


def _workbook(path: Path, rows: int, width: int = 6) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("governance_meetings")
    sheet.append(["meeting_id", "body", "held_on", "location"] + [f"x{i}" for i in range(width - 4)])
    for i in range(rows):
        sheet.append([f"G{i:05d}", "board", "2020-01-01", "x" * 200] + ["y" * 200] * (width - 4))
    book.save(path)


def test_an_xlsx_that_expands_beyond_the_limit_is_refused_before_reading(data_dir, tmp_path, monkeypatch, capsys):
    path = tmp_path / "governance_meetings.xlsx"
    _workbook(path, 3000)
    stored_mb = path.stat().st_size / 1e6
    monkeypatch.setenv("ASI_INGEST_MAX_XLSX_MB", "1")

    assert run_cli([path], data_dir, dry_run=True) == 2

    err = capsys.readouterr().err
    assert "when unpacked, over the limit of 1 MB (ASI_INGEST_MAX_XLSX_MB)" in err
    assert stored_mb < 1  # the file itself is small: only its unpacked size is over


def test_xlsx_rows_and_file_size_have_limits_named_in_the_message(data_dir, tmp_path, monkeypatch, capsys):
    path = tmp_path / "governance_meetings.xlsx"
    _workbook(path, 50, width=4)
    monkeypatch.setenv("ASI_INGEST_MAX_XLSX_ROWS", "20")
    assert run_cli([path], data_dir, dry_run=True) == 2
    assert "more than 20 rows, the limit per sheet (ASI_INGEST_MAX_XLSX_ROWS)" in capsys.readouterr().err
    monkeypatch.delenv("ASI_INGEST_MAX_XLSX_ROWS")
    monkeypatch.setenv("ASI_INGEST_MAX_FILE_MB", "0.0001")
    assert run_cli([FIXTURES / "members.csv"], data_dir, dry_run=True) == 2
    assert "over the limit of 0.0001 MB per input file (ASI_INGEST_MAX_FILE_MB)" in capsys.readouterr().err


def test_a_nul_byte_in_a_text_cell_is_a_row_problem(data_dir, tmp_path):
    text = (FIXTURES / "members.csv").read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace("Beta Packaging", "Beta\x00Packaging")
    path = tmp_path / "members.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    report = tmp_path / "report.csv"

    assert run_cli([path], data_dir, dry_run=True, report=report) == 1

    content = report.read_text(encoding="utf-8")
    assert "\x00" not in content
    assert '"members.csv",3,"name","Beta\\x00Packaging GmbH","control character"' in content


def test_a_second_ingest_says_whom_it_waits_for(data_dir, tmp_path):
    with subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from asi_me.ingest.pipeline import _ingest_lock\n"
         "with _ingest_lock(Path(sys.argv[1])):\n"
         "    print('locked', flush=True); time.sleep(3)\n",
         str(data_dir)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    ) as holder:
        try:
            assert holder.stdout.readline().strip() == "locked"
            started = time.monotonic()
            second = subprocess.run(
                [sys.executable, "-m", "asi_me", "--data-dir", str(data_dir), "ingest", str(FIXTURES / "members.csv")],
                cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
            )
            waited = time.monotonic() - started
        finally:
            holder.kill()
    assert second.returncode == 0
    assert "waiting for another ingest (started at 20" in second.stderr
    assert f"pid {holder.pid})" in second.stderr
    assert waited > 1  # it did wait for the holder
