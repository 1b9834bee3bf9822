"""The Data screen's downloads: nothing is built until a button is clicked, and a table
too long for an Excel sheet is named on the screen and in the workbook, with its CSV in the zip."""

from __future__ import annotations

import io
import zipfile

import openpyxl

from asi_me.publish import exports
from tests.app.conftest import assert_clean, screen_text

NOTE = ("Indicator observations (indicator_observations, {rows:,} rows) is left out of the Excel workbook: "
        "an Excel sheet holds at most 50,000 rows including its header. The full table is "
        "indicator_observations.csv in the zip of CSVs (\"Zip of CSVs with README\" on the Data screen).")


def test_downloads_are_built_only_on_click_and_nothing_is_left_out_at_demo_size(open_app, demo_dir, downloads):
    at = open_app(demo_dir, page="pages/data.py")
    assert_clean(at)
    files = {d["file_name"]: d for d in downloads}
    assert {"asi-me-data.zip", "asi-me-data.xlsx"} <= files.keys()
    # the page run hands Streamlit callables: the zip, workbook and table CSV are built on click
    assert all(callable(dict.__getitem__(d, "source")) for d in downloads if d["file_name"].startswith("asi-"))
    assert "left out of the Excel workbook" not in screen_text(at)


def test_a_table_longer_than_a_sheet_is_named_on_screen_left_out_of_the_workbook_and_whole_in_the_zip(
        open_app, demo_dir, demo_store, downloads, monkeypatch):
    from asi_me.filters import Viewer
    from asi_me.queries.catalogue import table_for_download

    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 50_000)
    # the public gets the observations through the disclosure gate (no workforce by country)
    rows = len(table_for_download(demo_store, Viewer.public(), "indicator_observations"))
    assert rows > 50_000
    at = open_app(demo_dir, page="pages/data.py")
    assert_clean(at)
    assert NOTE.format(rows=rows) in [i.value for i in at.info]
    files = {d["file_name"]: d for d in downloads}
    book = openpyxl.load_workbook(io.BytesIO(files["asi-me-data.xlsx"]["data"]), read_only=True)
    assert "indicator_observations" not in book.sheetnames
    assert "indicators" in book.sheetnames
    readme = [row[0] for row in book["README"].values]
    assert any(line and line.startswith(f"Indicator observations (indicator_observations, {rows:,} rows) is not in "
                                        "this workbook") for line in readme)
    archive = zipfile.ZipFile(io.BytesIO(files["asi-me-data.zip"]["data"]))
    assert archive.read("indicator_observations.csv").decode().count("\n") == rows + 1  # header + every row


def test_a_long_flag_detail_sends_its_first_rows_and_its_csv_holds_every_row(
        open_app, demo_dir, demo_store, downloads):
    import pandas as pd

    from asi_me.filters import Viewer
    from asi_me.queries import quality
    from asi_me.queries.quality import quality_indicator_outliers

    outliers = quality_indicator_outliers(demo_store, Viewer.secretariat())
    total = len(outliers)
    assert total > 500  # the demo's observations hold 1,023 outliers
    # detail tables are sent while their sections are open; the link keeps them open
    at = open_app(demo_dir, page="pages/data.py", role="secretariat",
                  params={"detail_indicator_outliers": "true", "detail_late_reports": "true"})
    assert_clean(at)
    (table,) = [t.value for t in at.dataframe if len(t.value) == 500]
    assert f"Showing the first 500 of {total:,} rows; the CSV holds all of them." in [c.value for c in at.caption]
    (download,) = [d for d in downloads if d["file_name"] == "asi-quality-indicator-outliers.csv"]
    assert download["label"] == f"Download all {total:,} rows (CSV)"
    csv = pd.read_csv(io.BytesIO(download["data"]), encoding="utf-8-sig")
    assert len(csv) == total
    assert list(csv.columns) == list(table.columns)
    # Shorter details are sent whole: the late reports table is under the limit and has no caption.
    late = quality.quality_late_reports(demo_store, Viewer.secretariat())
    assert 0 < len(late) < 500
    assert any(len(t.value) == len(late) for t in at.dataframe)
    assert sum(c.value.startswith("Showing the first") for c in at.caption) == 1


def _wait_for(at, ready, seconds: float = 90):
    """Rerun the screen (as the progress bar's timer does) until `ready(at)` or the deadline."""
    import time

    deadline = time.monotonic() + seconds
    while not ready(at) and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run(timeout=60)
    return at


def test_a_large_zip_is_prepared_in_the_background_with_its_progress_then_served(
        open_app, demo_dir, downloads, monkeypatch, tmp_path):
    from asi_me.ui import builds

    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(exports, "LARGE_DOWNLOAD_ROWS", 1)  # the demo counts as large
    monkeypatch.setattr(builds, "_builds", builds.Builds())
    steps: list[str] = []
    original = exports._write_zip  # a large zip is written straight into the download folder

    def slow_zip(sink, store, viewer, filters=None, progress=None):
        def watched(fraction, step):
            steps.append(step)
            progress(fraction, step)
            import time
            time.sleep(0.05)  # long enough for a page run to see the bar
        return original(sink, store, viewer, filters, watched)

    monkeypatch.setattr(exports, "_write_zip", slow_zip)
    at = open_app(demo_dir, page="pages/data.py")
    assert_clean(at)
    labels = [b.label for b in at.button]
    assert "Prepare zip of CSVs with README" in labels and "Prepare Excel workbook (everything above)" in labels
    assert not any(d["file_name"] == "asi-me-data.zip" for d in downloads)  # nothing to download yet
    next(b for b in at.button if b.label == "Prepare zip of CSVs with README").click()
    at.run(timeout=60)
    bars = [str(p.proto.text) for p in at.get("progress")]
    assert bars and bars[0].startswith("Preparing the zip of CSVs with README: "), bars
    _wait_for(at, lambda a: not a.get("progress"))
    assert_clean(at)
    zips = [d for d in downloads if d["file_name"] == "asi-me-data.zip"]
    assert zips and zips[-1]["label"] == "Zip of CSVs with README"  # read back from the download folder
    archive = zipfile.ZipFile(io.BytesIO(zips[-1]["data"]))
    assert "README.md" in archive.namelist()
    assert steps[-1] == "Writing README.md"
    written = [s for s in steps if s.endswith(")") and ".csv (" in s]
    assert written[0].endswith(f"(1 of {len(written)})")  # each table says where it is in the count


def test_a_large_table_csv_counts_its_rows_written_on_a_progress_bar(
        open_app, demo_dir, downloads, monkeypatch, tmp_path):
    from asi_me.ui import builds

    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(exports, "LARGE_DOWNLOAD_ROWS", 50_000)  # the observations (91,910 rows) count as large
    monkeypatch.setattr(builds, "_builds", builds.Builds())
    seen: list[str] = []
    original = exports._write_csv

    def slow_write(batches, columns, sink, *, ahead=False, written=None):
        def counted(rows):
            import time
            time.sleep(0.2)
            written(rows)
            seen.append(rows)
        return original(batches, columns, sink, ahead=ahead, written=counted if written else None)

    monkeypatch.setattr(exports, "_write_csv", slow_write)
    at = open_app(demo_dir, page="pages/data.py")
    at.selectbox(key="dl_table").set_value("indicators").run()
    assert "Download Indicators (CSV)" in [d["label"] for d in downloads]  # small: one click
    at.selectbox(key="dl_table").set_value("indicator_observations").run()
    prepare = [b for b in at.button if b.label == "Prepare Indicator observations (CSV)"]
    assert prepare, [b.label for b in at.button]
    prepare[0].click().run(timeout=60)
    bars = [str(p.proto.text) for p in at.get("progress")]
    assert bars and bars[0].startswith("Preparing the Indicator observations CSV: "), bars
    _wait_for(at, lambda a: not a.get("progress"))
    assert_clean(at)
    assert len(seen) >= 2 and seen == sorted(seen)  # the count grows batch by batch
    csvs = [d for d in downloads if d["file_name"] == "asi-indicator_observations.csv"]
    assert csvs and csvs[-1]["label"] == "Download Indicator observations (CSV)"
    assert csvs[-1]["data"].decode().count("\n") == seen[-1] + 1  # header + every row counted


def test_under_the_asgi_entrypoint_a_large_table_is_a_link_that_streams_the_file_built_on_disk(
        open_app, demo_dir, demo_store, downloads, monkeypatch, tmp_path):
    from urllib.parse import parse_qs, urlparse

    from asi_me.filters import Viewer
    from asi_me.publish import file_links
    from asi_me.ui import builds

    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(exports, "LARGE_DOWNLOAD_ROWS", 50_000)  # the observations (91,910 rows) count as large
    monkeypatch.setattr(builds, "_builds", builds.Builds())
    monkeypatch.setattr(file_links, "_serving", __import__("threading").Event())
    file_links.set_serving(True)  # as the ASGI entrypoint's lifespan says while it runs
    at = open_app(demo_dir, page="pages/data.py")
    at.selectbox(key="dl_table").set_value("indicator_observations").run()
    next(b for b in at.button if b.label == "Prepare Indicator observations (CSV)").click().run(timeout=60)
    _wait_for(at, lambda a: not a.get("progress"))
    assert_clean(at)
    assert not any(d["file_name"] == "asi-indicator_observations.csv" for d in downloads)  # never held in memory
    (link,) = [e.proto for e in at.get("link_button") if e.proto.label == "Download Indicator observations (CSV)"]
    url = urlparse(link.url)
    assert url.path.startswith("_app/files/")
    grant = file_links.resolve(url.path.rsplit("/", 1)[1], parse_qs(url.query)["token"][0])
    assert grant.path.parent == tmp_path and grant.file_name == "asi-indicator_observations.csv"
    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_MB", "0")
    assert grant.path.read_bytes() == exports.table_csv(demo_store, Viewer.public(), "indicator_observations")
