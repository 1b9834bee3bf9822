"""The operator's side of the server: readiness answers, Prometheus text and JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import shutil
from pathlib import Path

from asi_me.ui.asgi import readiness
from asi_me.ui.observe import Metrics, RunFields, json_formatter, run_fields

DEMO = Path(__file__).resolve().parents[2] / "data"


def test_readiness_names_the_snapshot_it_serves():
    result = readiness(DEMO)
    assert (result.ok, result.status) == (True, 200)
    assert result.snapshot_id == (DEMO / "CURRENT").read_text().strip()


def test_a_replica_without_data_is_not_ready(tmp_path):
    result = readiness(tmp_path)
    assert (result.ok, result.status, result.snapshot_id) == (False, 503, None)
    assert "No snapshot is current" in result.reason


def test_a_damaged_snapshot_is_not_ready(tmp_path):
    snapshot_id = (DEMO / "CURRENT").read_text().strip()
    shutil.copytree(DEMO / "snapshots" / snapshot_id, tmp_path / "snapshots" / snapshot_id)
    (tmp_path / "CURRENT").write_text(snapshot_id)
    (tmp_path / "snapshots" / snapshot_id / "members.parquet").write_bytes(b"not parquet")
    result = readiness(tmp_path)
    assert (result.ok, result.status, result.snapshot_id) == (False, 503, None)  # nothing verified is served
    assert f"snapshots/{snapshot_id}/members.parquet: expected" in result.reason


def test_metrics_render_as_prometheus_text():
    metrics = Metrics()
    metrics.inc("asi_page_runs_total", page="toc", role="public")
    metrics.inc("asi_page_runs_total", page="toc", role="public")
    metrics.observe("asi_page_run_duration_seconds", 0.3, page="toc")
    metrics.observe("asi_page_run_duration_seconds", 4.0, page="toc")
    metrics.add_gauge("asi_websocket_sessions", 1)
    text = metrics.render()
    assert 'asi_page_runs_total{page="toc",role="public"} 2' in text
    assert "# TYPE asi_page_run_duration_seconds histogram" in text
    assert 'asi_page_run_duration_seconds_bucket{page="toc",le="0.5"} 1' in text
    assert 'asi_page_run_duration_seconds_bucket{page="toc",le="+Inf"} 2' in text
    assert 'asi_page_run_duration_seconds_sum{page="toc"} 4.3' in text
    assert "asi_websocket_sessions 1" in text


def test_log_lines_are_json_with_the_run_and_no_email():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RunFields())
    handler.setFormatter(json_formatter())
    logger = logging.getLogger("asi_me.test_json_lines")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        with run_fields(session="s-1", page="map", role="member", snapshot="abc"):
            logger.info("page run finished", extra={"duration_ms": 12.5})
        logger.warning("outside a run")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert {k: first[k] for k in ("level", "session", "page", "role", "snapshot", "duration_ms", "message")} == {
        "level": "INFO", "session": "s-1", "page": "map", "role": "member", "snapshot": "abc",
        "duration_ms": 12.5, "message": "page run finished",
    }
    assert first["time"][:2] == "20"
    assert second["session"] is None and second["level"] == "WARNING"
