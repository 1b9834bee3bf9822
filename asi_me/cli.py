"""Command-line entry points. Each command imports its module lazily."""

from __future__ import annotations

import argparse
from pathlib import Path

from asi_me.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m asi_me", description="ASI M&E Explorer data tools.")
    parser.add_argument("--data-dir", type=Path, default=None, help="data folder (default: $ASI_DATA_DIR or ./data)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("demo", help="regenerate the deterministic demo snapshot")

    for name, text in (
        ("ingest", "validate exports and, if all pass, make them the current snapshot"),
        ("validate", "check exports without changing anything (dry run)"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("paths", nargs="+", type=Path, help="CSV, XLSX or Parquet files, or folders of them")
        cmd.add_argument("--report", type=Path, default=None,
                         help="write every problem to this file (.csv, or .xlsx with a summary sheet)")
        cmd.add_argument("--replace", action="append", default=[], metavar="TABLE",
                         help="the file is the whole TABLE (rows not in it are removed); default: add and update")
        cmd.add_argument("--profile", default=None, help="read the files with this source profile (default: detect)")
        cmd.add_argument("--keep-valid", action="store_true",
                         help="publish the valid rows and set the others aside in the quarantine file")
        cmd.add_argument("--quarantine", type=Path, default=None,
                         help="where --keep-valid writes the rows it sets aside (default quarantine.csv)")

    template = sub.add_parser("template", help="write an XLSX template for a table (headers, descriptions, drop-downs)")
    template.add_argument("table", help="table name, e.g. certifications")
    template.add_argument("--out", type=Path, default=None, help="file to write (default <table>-template.xlsx)")
    sub.add_parser("profiles", help="list the source profiles")

    scale = sub.add_parser("scale", help="write a snapshot N times the demo's size (not committed)")
    scale.add_argument("--factor", type=int, required=True)
    scale.add_argument("--out", type=Path, required=True, help="data folder to write the scaled snapshot into")

    sub.add_parser("derive", help="store the current snapshot's derived tables that are missing (after an upgrade)")

    bench = sub.add_parser("bench", help="run the benchmarks and write JSON")
    bench.add_argument("--factor", type=int, action="append",
                       help="scale factors to measure (default: 1 and 100 in full, and 300 for the rows that name it)")
    bench.add_argument("--quick", action="store_true", help="smoke run: demo size, few repetitions")
    bench.add_argument("--json", type=Path, default=Path("benchmarks/results.json"))
    bench.add_argument("--strict", action="store_true", help="exit 1 when a part, page or query was not measured")
    bench.add_argument("--replicas", type=int, default=None,
                       help="scale-out only: nginx in front of 1 and N replicas on loopback (benchmarks/replicas.py), "
                            "at --factor (default 1); --sessions sets the waves (default 50, 100, 200)")
    bench.add_argument("--sessions", type=int, action="append", help="with --replicas: concurrent sessions per wave")

    audit = sub.add_parser("audit-disclosure", help="prove what a role can work out about hidden figures; exit 1 if "
                           "anything lies inside the protection level")
    audit.add_argument("--role", choices=["public", "member"], default="public")
    audit.add_argument("--member", action="append", default=None,
                       help="with --role member: audit only these member ids (default: every member)")
    audit.add_argument("--family", action="append", choices=["coc", "workers"], default=None,
                       help="audit only these families of figures (default: all)")

    data_dir_here = {"type": Path, "default": argparse.SUPPRESS, "help": "data folder (same as before the command)"}
    verify = sub.add_parser("verify", help="check a snapshot's files against its manifest (exit 1 naming the file)")
    verify.add_argument("--data-dir", **data_dir_here)
    verify.add_argument("--snapshot", default=None, help="snapshot id (default: the one CURRENT names)")
    snapshots = sub.add_parser("snapshots", help="list, roll back or prune snapshots")
    snapshots.add_argument("--data-dir", **data_dir_here)
    action = snapshots.add_subparsers(dest="action", required=True)
    action.add_parser("list", help="every snapshot: created, sources, rows, verification")
    back = action.add_parser("rollback", help="make an earlier snapshot current (atomically, if it verifies)")
    back.add_argument("snapshot_id")
    prune = action.add_parser("prune", help="remove old snapshots and staging folders of dead ingests")
    prune.add_argument("--keep", type=int, default=None,
                       help="most recent snapshots to keep besides CURRENT's (default: $ASI_SNAPSHOTS_KEEP or 5)")

    dictionary = sub.add_parser("dictionary", help="write docs/data-dictionary.md from the contract")
    dictionary.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    data_dir: Path = (args.data_dir or settings.data_dir).resolve()

    if args.command == "demo":
        from asi_me.demo.generate import write_demo

        snapshot_id, changed = write_demo(data_dir)
        print(f"demo snapshot {snapshot_id} {'written' if changed else 'unchanged'} in {data_dir}")
        return 0
    if args.command in {"ingest", "validate"}:
        from asi_me.ingest.pipeline import run_cli

        return run_cli(args.paths, data_dir, dry_run=args.command == "validate", report=args.report,
                       replace=args.replace, profile=args.profile, keep_valid=args.keep_valid,
                       quarantine=args.quarantine)
    if args.command == "template":
        from asi_me.ingest.template import write_template

        return write_template(args.table, args.out)
    if args.command == "profiles":
        from asi_me.ingest.profiles import profiles

        for profile in profiles().values():
            print(f"{profile.name}: {profile.title} -> {profile.table} ({profile.path.name})")
        return 0
    if args.command == "scale":
        from asi_me.demo.scale import write_scaled

        snapshot_id = write_scaled(args.factor, args.out.resolve())
        print(f"scaled snapshot {snapshot_id} (x{args.factor}) written in {args.out}")
        return 0
    if args.command == "derive":
        import time

        from asi_me.data.snapshot import current_folder, store_derived

        folder = current_folder(data_dir)
        started = time.perf_counter()
        written = store_derived(folder)
        detail = ", ".join(f"{name} ({rows:,} rows)" for name, rows in written.items()) or "nothing to write"
        print(f"derived tables of snapshot {folder.name}: {detail} in {time.perf_counter() - started:.1f} s")
        return 0
    if args.command == "bench" and args.replicas is not None:
        return _bench_replicas(args)
    if args.command == "bench":
        from asi_me.bench import run_bench

        return run_bench(factors=args.factor, quick=args.quick, json_path=args.json, strict=args.strict)
    if args.command == "audit-disclosure":
        from asi_me.data.store import Store
        from asi_me.publish.audit import audit_disclosure

        store = Store.open_current(data_dir)
        try:
            report = audit_disclosure(store, args.role, members=args.member,
                                      families=args.family or ("coc", "workers"))
        finally:
            store.close()
        print(report.text())
        return 0 if report.ok else 1
    if args.command == "verify":
        from asi_me.data.snapshot_commands import run_verify

        return run_verify(data_dir, args.snapshot)
    if args.command == "snapshots":
        from asi_me.data.snapshot_commands import run_snapshots

        return run_snapshots(data_dir, args.action, getattr(args, "snapshot_id", None), getattr(args, "keep", None))
    if args.command == "dictionary":
        from asi_me.data.dictionary import write_dictionary

        return write_dictionary(check=args.check)
    raise AssertionError(args.command)


def _bench_replicas(args: argparse.Namespace) -> int:
    """`bench --replicas N`: benchmarks/replicas.py on the x<factor> dataset, JSON to --json."""
    import subprocess
    import sys

    from asi_me.bench import dataset_dir
    from asi_me.settings import REPO_ROOT

    if args.replicas < 1:
        print(f"--replicas {args.replicas}: give at least 1 replica.", file=sys.stderr)
        return 2
    factor = (args.factor or [1])[0]
    data_dir = Settings.from_env().data_dir if factor == 1 else dataset_dir(factor, Settings.from_env().data_dir)
    json_path = args.json if args.json != Path("benchmarks/results.json") else Path("benchmarks/results-replicas.json")
    command = [sys.executable, str(REPO_ROOT / "benchmarks" / "replicas.py"), "--data-dir", str(data_dir),
               "--replicas", str(args.replicas), "--json", str(json_path),
               *[a for n in (args.sessions or []) for a in ("--sessions", str(n))]]
    print(f"scale-out at x{factor}: 1 and {args.replicas} replicas behind nginx", flush=True)
    return subprocess.run(command, cwd=REPO_ROOT, check=False).returncode  # noqa: S603 (our own script, no shell)
