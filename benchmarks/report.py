"""Markdown tables from a benchmark JSON, for docs/performance.md.

    python benchmarks/report.py benchmarks/results.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def queries_table(runs: dict[str, Any]) -> list[str]:
    factors = sorted(runs, key=int)
    head = "| query function | variant | " + " | ".join(
        f"x{f} median ms | x{f} p95 ms | x{f} CPU ms | x{f} first call ms" for f in factors) + " |"
    lines = [head, "|" + "---|" * (2 + 4 * len(factors))]
    keys: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for f in factors:
        for row in runs[f].get("queries", {}).get("functions", []):
            keys.setdefault((row["function"], row["variant"]), {})[f] = row
    for (function, variant), by_factor in keys.items():
        cells = []
        for f in factors:
            row = by_factor.get(f, {})
            if "median_ms" in row:
                cells += [_fmt(row["median_ms"], 1), _fmt(row["p95_ms"], 1), _fmt(row.get("cpu_median_ms"), 1),
                          _fmt(row.get("first_ms"), 1)]
            else:
                cells += [str(row.get("error") or row.get("skipped") or "-")[:60], "", "", ""]
        lines.append(f"| `{function}` | {variant} | " + " | ".join(cells) + " |")
    return lines


def pandas_table(run: dict[str, Any]) -> list[str]:
    lines = ["| computation | query median ms | pandas median ms | pandas read ms | time ratio | "
             "query peak MB | pandas peak MB | memory ratio |", "|---|---|---|---|---|---|---|---|"]
    for c in run.get("pandas", {}).get("computations", []):
        if "error" in c:
            lines.append(f"| {c['computation']} | {c['error'][:80]} | | | | | | |")
            continue
        lines.append(
            f"| {c['computation']} | {_fmt(c['query']['median_ms'], 1)} | {_fmt(c['pandas']['median_ms'], 1)} | "
            f"{_fmt(c['pandas_load_ms'])} | {c['time_ratio']}x | {_fmt(c.get('query_memory', {}).get('peak_mb'), 1)}"
            f" | {_fmt(c.get('pandas_memory', {}).get('peak_mb'), 1)} | {_fmt(c.get('memory_ratio'), 2)} |"
        )
    return lines


def pages_table(run: dict[str, Any]) -> list[str]:
    server = run.get("server", {})
    payload = {p["page"]: p for p in server.get("protocol_payload", [])}
    browser = {p["page"]: p for p in server.get("browser_payload", [])}
    lines = ["| page | AppTest cold ms | AppTest warm median ms | server run ms (warm, real server) | "
             "payload bytes (Chromium ws) | payload bytes (protocol) |", "|---|---|---|---|---|---|"]
    for p in run.get("pages", {}).get("pages", []):
        if "warm" not in p:
            lines.append(f"| {p['page']} | {p.get('error', '')[:80]} | | | | |")
            continue
        pay, seen = payload.get(p["page"], {}), browser.get(p["page"], {})
        lines.append(f"| {p['page']} | {_fmt(p['cold_ms'])} | {_fmt(p['warm']['median_ms'])} | "
                     f"{_fmt(pay.get('server_warm_ms'))} | {_fmt(seen.get('ws_bytes'))} | "
                     f"{_fmt(pay.get('protocol_bytes'))} |")
    return lines


def concurrency_table(run: dict[str, Any]) -> list[str]:
    cost = run.get("server", {}).get("sequential_cost")
    lines = [] if not cost else [
        f"Server CPU per warm home-page session (sequential, {cost['runs']} runs): "
        f"{cost['server_cpu_ms_median']} ms (wall {cost['wall_ms_median']} ms).", ""]
    lines += ["| sessions | finished | p50 ms | p95 ms | server RSS before MB | after MB | RSS per session MB |",
             "|---|---|---|---|---|---|---|"]
    lines.extend(
        f"| {w['sessions']} | {w['finished']} | {_fmt(w.get('time_median_ms'))} | {_fmt(w.get('time_p95_ms'))} | "
        f"{w['rss_before_mb']} | {w['rss_after_mb']} | {w['rss_per_session_mb']} |"
        for w in run.get("server", {}).get("concurrency", [])
    )
    return lines


def targets_table(result: dict[str, Any]) -> list[str]:
    lines = ["| target | factor | measured | limit | status | detail |", "|---|---|---|---|---|---|"]
    lines.extend(
        f"| {t['target']} | x{t['factor']} | {t['value']} | {t['limit']} | **{t['status']}** | {t['detail'][:300]} |"
        for t in result.get("targets", [])
    )
    return lines


def main(path: str) -> int:
    result = json.loads(Path(path).read_text(encoding="utf-8"))
    runs = result["factors"]
    out = ["## Machine", "", "```", json.dumps(result["machine"], indent=2), "```", "", "## Query functions", "",
           *queries_table(runs)]
    for factor in sorted(runs, key=int):
        run = runs[factor]
        loads = {k: v.get("load_average_at_start") for k, v in run.items() if isinstance(v, dict) and "wall_s" in v}
        out += ["", f"## x{factor}", "", f"Rows: {run['dataset']['rows']}", "", f"Load average at start of each part: "
                f"{loads}", "", "### pandas baseline", "", *pandas_table(run), "", "### Pages", "", *pages_table(run),
                "", "### Concurrency", "", *concurrency_table(run)]
    out += ["", "## Targets", "", *targets_table(result)]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
