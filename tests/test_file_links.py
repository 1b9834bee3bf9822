"""Whole-table downloads written batch by batch to disk and streamed by a link bound to one
file: the same bytes as the file built in memory, no partial file after a failed build, the
file for the viewer given the link and for nobody else, and a build that holds a few batches
at a time, never the table."""

from __future__ import annotations

import io
import zipfile

import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from conftest import asgi_get
from starlette.applications import Starlette

from asi_me.data.store import Store
from asi_me.filters import Viewer
from asi_me.publish import download_cache, exports, file_links, gate
from asi_me.settings import REPO_ROOT

PUBLIC = Viewer.public()
TABLE = "indicator_observations"


@pytest.fixture(scope="module")
def demo_store():
    store = Store.open_current(REPO_ROOT / "data")
    yield store
    store.close()


@pytest.fixture
def folder(tmp_path, monkeypatch):
    where = tmp_path / "downloads"
    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_DIR", str(where))
    monkeypatch.delenv("ASI_DOWNLOAD_CACHE_MB", raising=False)
    return where


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    """A browser's GET of a link, answered in process by the file route."""
    answer = asgi_get(Starlette(routes=file_links.routes()), url)
    return answer.status_code, answer.headers, answer.content


# ------------------------------------------------------------------ the same bytes


@pytest.mark.parametrize("viewer", [PUBLIC, Viewer.secretariat()], ids=["public", "secretariat"])
def test_a_whole_table_written_to_disk_is_the_csv_built_in_memory(demo_store, folder, monkeypatch, viewer):
    path = exports.table_csv_file(demo_store, viewer, TABLE)
    assert path.parent == folder and path.stat().st_size > 1_000_000
    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_MB", "0")  # keep nothing: the CSV is built in memory, as before
    assert path.read_bytes() == exports.table_csv(demo_store, viewer, TABLE)
    monkeypatch.delenv("ASI_DOWNLOAD_CACHE_MB")
    assert exports.table_csv(demo_store, viewer, TABLE) == path.read_bytes()  # and read back by the bytes route


def test_the_zip_written_to_disk_is_the_zip_built_in_memory(demo_store, folder):
    path = exports.download_zip_file(demo_store, PUBLIC)
    assert path.read_bytes() == exports._build_zip(demo_store, PUBLIC)
    assert exports.download_zip_file(demo_store, PUBLIC) == path  # built once


def test_the_gated_rows_come_in_runs_with_the_rows_and_order_of_one_sorted_query(demo_store, monkeypatch):
    """The public's observations stream a run of indicator codes at a time, each run sorted on
    its own: the rows and their order are those of the whole table sorted at once."""
    monkeypatch.setattr(gate, "protected_rows", lambda *args, **kwargs: __import__("pandas").DataFrame())
    monkeypatch.setattr(gate, "SORT_ROWS", 5_000)
    sql, params = gate.GATED_TABLES[TABLE].stored_sql(demo_store)
    runs = list(gate._code_runs(demo_store, sql.removesuffix(gate._ORDER), params))
    assert len(runs) > 5

    def csv_of(batches) -> bytes:
        sink = io.BytesIO()
        for batch in batches:
            pa_csv.write_csv(batch, sink, write_options=pa_csv.WriteOptions(include_header=False))
        return sink.getvalue()

    whole = csv_of(demo_store.record_batches(sql, params, 10_000))
    assert csv_of(gate.gated_batches(demo_store, PUBLIC, TABLE, 10_000)) == whole
    assert whole.count(b"\n") == int(demo_store.query(f"select count(*) from ({sql})", params).iloc[0, 0])


# ------------------------------------------------------------------ no partial file


def test_a_failed_build_leaves_no_file_and_the_next_build_is_whole(demo_store, folder, monkeypatch):
    real = exports._write_csv

    def fails_half_way(batches, columns, sink, **kwargs):
        sink.write(b"indicator_code,period_on\nST-01,2020-01-01\n")
        raise OSError("disk full")

    monkeypatch.setattr(exports, "_write_csv", fails_half_way)
    with pytest.raises(OSError, match="disk full"):
        exports.table_csv_file(demo_store, PUBLIC, TABLE)
    assert not folder.exists() or list(folder.iterdir()) == []  # neither the file nor its temporary name
    assert not exports.table_is_built(demo_store, PUBLIC, TABLE)
    monkeypatch.setattr(exports, "_write_csv", real)
    path = exports.table_csv_file(demo_store, PUBLIC, TABLE)
    assert [p.name for p in folder.iterdir()] == [path.name]
    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_MB", "0")
    assert path.read_bytes() == exports.table_csv(demo_store, PUBLIC, TABLE)


def test_a_zip_that_fails_half_way_leaves_no_file(demo_store, folder, monkeypatch):
    def fails(sink, *args, **kwargs):
        with zipfile.ZipFile(sink, "w") as archive:
            archive.writestr("members.csv", "member_id\nM1\n")
            raise RuntimeError("killed")

    monkeypatch.setattr(exports, "_write_zip", fails)
    with pytest.raises(RuntimeError):
        exports.download_zip_file(demo_store, PUBLIC)
    assert not folder.exists() or list(folder.iterdir()) == []


# ------------------------------------------------------------------ the link


def test_the_viewer_given_the_link_gets_the_file_and_nobody_else_does(demo_store, folder):
    public_file = exports.table_csv_file(demo_store, PUBLIC, TABLE)
    full_file = exports.table_csv_file(demo_store, Viewer.secretariat(), TABLE)
    assert public_file != full_file  # each scope has a file of its own
    public_token, public_grant = file_links.issue(public_file, "asi-indicator_observations.csv", "text/csv")

    status, headers, body = _get(file_links.url(public_token, public_grant))
    assert status == 200
    assert body == public_file.read_bytes()
    assert headers["content-type"].startswith("text/csv")
    assert 'filename="asi-indicator_observations.csv"' in headers["content-disposition"]

    # the public's token does not open the secretariat's file
    status, _, body = _get(f"{file_links.PREFIX}/{full_file.name}?token={public_token}")
    assert status == 403 and b"issued for another file" in body and b"M0" not in body
    # nor does a forged token, or none, open any file
    forged = public_token[:-4] + ("AAAA" if not public_token.endswith("AAAA") else "BBBB")
    for url in (f"{file_links.PREFIX}/{public_file.name}?token={forged}", f"{file_links.PREFIX}/{public_file.name}",
                f"{file_links.PREFIX}/{full_file.name}?token=", f"{file_links.PREFIX}/..?token={public_token}"):
        status, _, body = _get(url)
        assert status in (403, 404), url
        assert full_file.read_bytes()[:200] not in body


def test_a_lapsed_link_or_a_file_no_longer_kept_is_refused_with_what_to_do(demo_store, folder):
    path = exports.table_csv_file(demo_store, PUBLIC, "indicators")
    token, grant = file_links.issue(path, "asi-indicators.csv", "text/csv", seconds=-1)
    status, _, body = _get(file_links.url(token, grant))
    assert status == 410 and b"expired" in body and b"Prepare the download again" in body
    token, grant = file_links.issue(path, "asi-indicators.csv", "text/csv")
    path.unlink()
    status, _, body = _get(file_links.url(token, grant))
    assert status == 410 and b"no longer kept" in body


def test_the_app_serves_the_link_route_and_says_so_only_while_it_runs():
    from asi_me.ui import asgi

    assert any(getattr(r, "path", "") == f"{file_links.PREFIX}/{{key}}" for r in asgi.app_routes())
    assert not file_links.is_serving()  # `streamlit run` and tests: the Data screen hands out no links


# ------------------------------------------------------------------ bounded memory


def test_a_long_table_is_written_a_batch_at_a_time(demo_store, folder, monkeypatch):
    """Through the whole streaming path (gate, rounding, CSV, file), each batch is written to
    the file before the next one is read: the writer never holds more than one batch, and the
    sink is a file on disk, not a buffer in memory."""
    monkeypatch.setattr(exports, "BATCH_ROWS", 2_000)
    monkeypatch.setattr(gate, "SORT_ROWS", 10_000)
    read = {"batches": 0, "rows": 0}
    held: list[int] = []
    real_write, real_source_batches = exports._write_csv, exports._Source.batches

    def counted_batches(self):
        for batch in real_source_batches(self):
            read["batches"] += 1
            read["rows"] += batch.num_rows
            yield batch

    def watched_write(batches, columns, sink, **kwargs):
        assert isinstance(sink, io.BufferedWriter)  # a file, not io.BytesIO
        written = {"chunks": 0}

        class Sink:
            def write(self, chunk: bytes) -> int:
                written["chunks"] += 1
                held.append(read["batches"] - written["chunks"])  # read but not yet written
                return sink.write(chunk)

        return real_write(batches, columns, Sink(), **kwargs)

    monkeypatch.setattr(exports._Source, "batches", counted_batches)
    monkeypatch.setattr(exports, "_write_csv", watched_write)
    path = exports.table_csv_file(demo_store, PUBLIC, TABLE)
    assert read["batches"] > 40 and read["rows"] > 80_000
    assert max(held) <= 0 and len(held) == read["batches"]  # each batch written before the next is read
    assert path.read_bytes().count(b"\n") == read["rows"] + 1


def test_the_rebuilt_rows_are_cut_into_batches_too():
    table = pa.table({"indicator_code": ["ST-02"] * 10, "value": list(range(10))})
    out = list(exports._rebatched([table]))
    assert [b.num_rows for b in out] == [10]  # short: as it came
    import asi_me.publish.exports as module

    saved = module.BATCH_ROWS
    module.BATCH_ROWS = 4
    try:
        out = list(exports._rebatched([table]))
    finally:
        module.BATCH_ROWS = saved
    assert [b.num_rows for b in out] == [4, 4, 2]
    assert pa.concat_tables(out).equals(table)


def test_the_download_folder_keeps_a_large_file_it_must_serve(demo_store, folder, monkeypatch):
    monkeypatch.setenv("ASI_DOWNLOAD_CACHE_MB", "0.5")  # smaller than the CSV
    path = exports.table_csv_file(demo_store, PUBLIC, TABLE)
    assert path.is_file() and path.stat().st_size > download_cache.max_bytes()
    other = exports.table_csv_file(demo_store, PUBLIC, "indicators")
    assert other.is_file() and not path.exists()  # the next build evicts it


# ------------------------------------------------------------------ the benchmark row


def test_the_downloads_part_runs_at_300x_or_when_asked_and_its_row_says_met_or_missed(tmp_path, monkeypatch):
    from asi_me import bench

    monkeypatch.delenv("ASI_BENCH_PARTS", raising=False)
    assert bench._downloads_parts(100, tmp_path, tmp_path) == []
    assert [name for name, _ in bench._downloads_parts(300, tmp_path, tmp_path)] == ["downloads"]
    monkeypatch.setenv("ASI_BENCH_PARTS", "queries,downloads")
    assert [name for name, _ in bench._downloads_parts(1, tmp_path, tmp_path)] == ["downloads"]

    def run(factor: str, public_mb: float) -> dict:
        rows = [{"viewer": "public", "wall_ms": 40_000, "cpu_ms": 30_000, "rss_before_mb": 900,
                 "peak_rss_mb": 900 + public_mb, "bytes": 1_400_000_000, "extra_mb": public_mb},
                {"viewer": "secretariat", "wall_ms": 30_000, "cpu_ms": 20_000, "rss_before_mb": 200,
                 "peak_rss_mb": 350, "bytes": 1_500_000_000, "extra_mb": 150.0}]
        return {"factors": {factor: {"downloads": {"downloads": rows}}}}

    assert bench.download_targets({"factors": {"100": {}}}) == []  # not run: no row
    (met,) = bench.download_targets(run("300", 120.0))
    assert (met["status"], met["value"], met["factor"]) == ("met", "150 MB (secretariat)", "300")
    (missed,) = bench.download_targets(run("300", 420.0))
    assert missed["status"] == "missed" and missed["value"] == "420 MB (public)"
    (low,) = bench.download_targets(run("100", 120.0))
    assert low["status"] == "not measured" and "measured at 100x, not 300x" in low["detail"]
