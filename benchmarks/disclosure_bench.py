"""The disclosure protection and the attacker's audit, timed in a fresh process.

Protection: every CoC year's joint protection, every month end's workforce protection and
the gated indicator series, built from nothing (the cost of the first public visitor after
a new snapshot, before any precomputation). Audit: `audit-disclosure` for the public, and
for the members (all of them, or the first --members N that report CoC lines).

    python benchmarks/disclosure_bench.py --data-dir DIR [--members N] --json OUT
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _common import write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--members", type=int, default=0, help="audit at most this many members (0: all)")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)

    from asi_me.data.store import Store
    from asi_me.filters import Viewer
    from asi_me.publish.audit import audit_disclosure
    from asi_me.publish.gate import gated_table
    from asi_me.publish.policy import DisclosurePolicy
    from asi_me.queries import coc, outcomes

    policy = DisclosurePolicy.from_settings()
    store = Store.open_current(args.data_dir)
    out: dict[str, object] = {"snapshot_id": store.snapshot_id}
    started = time.perf_counter()
    years = coc.coc_years(store)
    for year in years:
        coc.coc_stage_summary(store, Viewer.public(), year, policy=policy)
    out["protect_coc_s"] = round(time.perf_counter() - started, 2)
    out["coc_years"] = len(years)
    started = time.perf_counter()
    dates = outcomes.worker_dates(store)
    outcomes.protected_worker_cells(store, policy, dates)
    out["protect_workers_s"] = round(time.perf_counter() - started, 2)
    out["worker_dates"] = len(dates)
    started = time.perf_counter()
    gated_table(store, Viewer.public(), "indicator_observations", policy)
    out["gate_indicator_series_s"] = round(time.perf_counter() - started, 2)

    public = audit_disclosure(store, "public", policy)
    out["audit_public"] = {"seconds": round(public.seconds, 2), "ok": public.ok,
                           "figures_served": public.figures_checked, "sensitive_checked": public.hidden_checked,
                           "findings": len(public.findings) + len(public.counts) + len(public.problems)}
    members = None
    if args.members:
        lines = coc.coc_lines(store, coc.coc_years(store), None)
        members = sorted(lines["member_id"].unique())[: args.members]
    member = audit_disclosure(store, "member", policy, members=members)
    out["audit_member"] = {"seconds": round(member.seconds, 2), "ok": member.ok,
                           "members": member.members_checked,
                           "findings": len(member.findings) + len(member.counts) + len(member.problems)}
    store.close()
    write_json(args.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
