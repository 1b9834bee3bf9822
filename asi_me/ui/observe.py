"""What an operator sees of a running server: JSON log lines and Prometheus metrics.

Logs: one JSON object per line (python-json-logger) with `time`, `level`, `logger`,
`message` and, on lines written during a page run, `session`, `page`, `role`,
`snapshot` (and `duration_ms` on the line that closes a run). A person's e-mail
address is never a field; the role is. Metrics: counters and histograms kept in this
process, served as Prometheus text by `/_app/metrics` (asi_me/ui/asgi.py). Every
replica keeps its own; Prometheus adds them up.
"""

from __future__ import annotations

import bisect
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from pythonjsonlogger.json import JsonFormatter
from streamlit import logger as streamlit_logger
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

# ---------------------------------------------------------------- logs

_run_fields = threading.local()  # session, page, role, snapshot of the page run on this thread
RUN_FIELDS = ("session", "page", "role", "snapshot")
_configured: set[str] = set()
run_log = logging.getLogger("asi_me.run")


class RunFields(logging.Filter):
    """Adds the current page run's session, page, role and snapshot to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in RUN_FIELDS:
            if not hasattr(record, name):
                setattr(record, name, getattr(_run_fields, name, None))
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


def configure_logging(default_format: str = "json", level: str | None = None) -> None:
    """Send this process's log records (the app's, Streamlit's, uvicorn's) to stderr, one line each.

    JSON lines by default (the ASGI entrypoint); `streamlit run app.py`, for development,
    defaults to text. `ASI_LOG_FORMAT=json|text` decides either way. Idempotent.
    """
    if _configured:
        return
    _configured.add("root")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RunFields())
    if (os.environ.get("ASI_LOG_FORMAT") or default_format).strip().lower() == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("ASI_LOG_LEVEL") or "INFO")
    # Streamlit and uvicorn give their loggers handlers of their own (Streamlit's each time it
    # creates one); route them all to this handler instead, so every line is one JSON object.
    for name in [*logging.root.manager.loggerDict, "uvicorn", "uvicorn.access", "uvicorn.error"]:
        if name.split(".")[0] in {"streamlit", "uvicorn", "websockets"}:
            _to_root(logging.getLogger(name))
    streamlit_logger.setup_formatter = _to_root


def _to_root(logger: logging.Logger) -> None:
    logger.handlers[:] = []
    logger.propagate = True


@contextmanager
def run_fields(*, session: str | None, page: str | None, role: str | None,
               snapshot: str | None) -> Iterator[None]:
    """Tag every log line of this thread's page run with its session, page, role and snapshot."""
    previous = {name: getattr(_run_fields, name, None) for name in RUN_FIELDS}
    for name, value in zip(RUN_FIELDS, (session, page, role, snapshot), strict=True):
        setattr(_run_fields, name, value)
    try:
        yield
    finally:
        for name, value in previous.items():
            setattr(_run_fields, name, value)


@contextmanager
def page_run(started: float) -> Iterator[None]:
    """Around app.py's page run: tags its log lines, then logs and counts it with its duration.

    `st.rerun()` and `st.stop()` end a run early by raising; they are not failures.
    """
    ctx = get_script_run_ctx()
    with run_fields(session=ctx.session_id if ctx else None, page=None, role=None, snapshot=None):
        try:
            yield
        except ScriptControlException:
            # st.rerun() / st.stop(): the run is cut short on purpose; the run that follows is counted.
            run_log.debug("page run ended early (rerun or stop)")
            raise
        except Exception:
            _finish_run(started, failed=True)
            raise
        else:
            _finish_run(started, failed=False)


def _finish_run(started: float, *, failed: bool) -> None:
    seconds = time.perf_counter() - started
    page = getattr(_run_fields, "page", None) or "unknown"
    role = getattr(_run_fields, "role", None) or "unknown"
    record_page_run(page, role, seconds, failed=failed)
    run_log.info("page run %s", "failed" if failed else "finished", extra={"duration_ms": round(seconds * 1000, 1)})


def set_run_field(name: str, value: str | None) -> None:
    """Fill in one field once the run knows it (the page is known after st.navigation)."""
    if name not in RUN_FIELDS:
        raise ValueError(f"{name!r} is not a run field; use one of {', '.join(RUN_FIELDS)}.")
    setattr(_run_fields, name, value)


# ---------------------------------------------------------------- metrics

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Histogram:
    buckets: tuple[float, ...] = DURATION_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, seconds)] += 1
        self.total += seconds

    @property
    def count(self) -> int:
        return sum(self.counts)


class Metrics:
    """Counters, gauges and histograms of this process, by label set."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self.gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self.histograms: dict[tuple[str, tuple[tuple[str, str], ...]], Histogram] = {}

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self.counters[key] = self.counters.get(key, 0.0) + value

    def add_gauge(self, name: str, value: float, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self.gauges[key] = self.gauges.get(key, 0.0) + value

    def set_gauge(self, name: str, value: float, **labels: str) -> None:
        with self._lock:
            self.gauges[(name, tuple(sorted(labels.items())))] = value

    def clear_gauge(self, name: str) -> None:
        with self._lock:
            self.gauges = {k: v for k, v in self.gauges.items() if k[0] != name}

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self.histograms.setdefault(key, Histogram()).observe(seconds)

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        with self._lock:
            counters = dict(self.counters)
            gauges = dict(self.gauges)
            histograms = {k: Histogram(h.buckets, list(h.counts), h.total) for k, h in self.histograms.items()}
        lines: list[str] = []
        for kind, series in (("counter", counters), ("gauge", gauges)):
            for name in sorted({n for n, _ in series}):
                lines.append(f"# HELP {name} {HELP.get(name, name)}")
                lines.append(f"# TYPE {name} {kind}")
                for (n, labels), value in sorted(series.items()):
                    if n == name:
                        lines.append(f"{name}{_labels(labels)} {_number(value)}")
        for name in sorted({n for n, _ in histograms}):
            lines.append(f"# HELP {name} {HELP.get(name, name)}")
            lines.append(f"# TYPE {name} histogram")
            for (n, labels), hist in sorted(histograms.items()):
                if n != name:
                    continue
                cumulative = 0
                for bound, count in zip((*hist.buckets, float("inf")), hist.counts, strict=True):
                    cumulative += count
                    le = "+Inf" if bound == float("inf") else _number(bound)
                    lines.append(f"{name}_bucket{_labels((*labels, ('le', le)))} {cumulative}")
                lines.append(f"{name}_sum{_labels(labels)} {_number(hist.total)}")
                lines.append(f"{name}_count{_labels(labels)} {hist.count}")
        return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    escaped = (
        f'{key}="{str(value).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34)).replace(chr(10), " ")}"'
        for key, value in labels
    )
    return "{" + ",".join(escaped) + "}"


HELP = {
    "asi_http_requests_total": "HTTP requests answered, by kind of path and status class.",
    "asi_http_request_duration_seconds": "Time to answer an HTTP request, by kind of path.",
    "asi_websocket_sessions": "Browser sessions connected now (one WebSocket each).",
    "asi_websocket_sessions_total": "Browser sessions connected since the process started.",
    "asi_page_runs_total": "Page runs finished, by screen and viewer role.",
    "asi_page_run_duration_seconds": "Time of a page run, from the run slot to the last element, by screen.",
    "asi_page_run_errors_total": "Page runs that ended with an exception, by screen.",
    "asi_snapshot_info": "The snapshot this process serves (value 1; the id is the label).",
}

METRICS = Metrics()


def record_page_run(page: str, role: str, seconds: float, *, failed: bool = False) -> None:
    """Count one finished page run and its duration (called by app.py)."""
    METRICS.inc("asi_page_runs_total", page=page, role=role)
    METRICS.observe("asi_page_run_duration_seconds", seconds, page=page)
    if failed:
        METRICS.inc("asi_page_run_errors_total", page=page)
