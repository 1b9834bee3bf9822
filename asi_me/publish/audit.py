"""The attacker's audit: everything a role can obtain, and what it proves about hidden figures.

For each family of company magnitudes the audit collects what a public (or member) viewer
is actually served, through the same query functions the screens, downloads and data API
call, in every view a public URL accepts, and rebuilds the linear system those figures
make over the family's atoms from the snapshot's own report lines (not from the
protection's bookkeeping). For every figure that fails the policy by itself and every
sensitive union (see asi_me.publish.protection) it proves an interval with HiGHS, for the
public and for each member (who also knows its own rows), and reports each one narrower
than the protection level. It also reports every served figure that differs from the
snapshot (a wrong number), every figure served on one route and hidden on another, every
sensitive figure served outright, and every masked reporter count an attacker can recover.
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from asi_me.data.store import Store
from asi_me.data.vocab import CocStage, MembershipClass, Region
from asi_me.filters import Filters, Viewer
from asi_me.publish import indicators, numbers
from asi_me.publish.coc_system import WORLD, View, coc_year_system
from asi_me.publish.counts import recoverable
from asi_me.publish.policy import DisclosurePolicy
from asi_me.publish.protection import FigureSystem, Finding, audit_system
from asi_me.publish.workers_system import WORLD as WORKERS_WORLD
from asi_me.publish.workers_system import workers_date_system
from asi_me.queries import catalogue, coc, outcomes

AuditRole = Literal["public", "member"]


@dataclass(frozen=True)
class CountFinding:
    """A masked count an attacker can pin to one whole number."""

    where: str
    low: float
    high: float


@dataclass
class AuditReport:
    """What the audit found for one role."""

    role: AuditRole
    level: float
    findings: list[Finding] = field(default_factory=list)
    counts: list[CountFinding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    figures_checked: int = 0
    hidden_checked: int = 0
    members_checked: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.findings or self.counts or self.problems)

    def text(self) -> str:
        lines = [
            f"Disclosure audit for the {self.role} role: {self.figures_checked} figures served, "
            f"{self.hidden_checked} sensitive figures and unions checked against ±{self.level * 100:g}% "
            f"for the public and {self.members_checked} member(s), in {self.seconds:.1f} s."
        ]
        lines += [
            f"NARROW  {_describe(f.key)}: true {f.value:,.1f}, provable [{f.interval.low:,.1f}, "
            f"{f.interval.high:,.1f}] by the {f.attacker}"
            for f in self.findings
        ]
        lines += [f"COUNT   {c.where}: provable [{c.low:g}, {c.high:g}]" for c in self.counts]
        lines += [f"PROBLEM {p}" for p in self.problems]
        verdict = "PASS: nothing provable inside the protection level." if self.ok else (
            f"FAIL: {len(self.findings)} narrow interval(s), {len(self.counts)} recoverable count(s), "
            f"{len(self.problems)} other problem(s)."
        )
        lines.append(verdict)
        return "\n".join(lines)


def _describe(key: Hashable) -> str:
    return " / ".join(_describe(k) if isinstance(k, tuple) else str(k) for k in key) if isinstance(key, tuple) else str(
        key
    )


def public_views() -> list[View]:
    """Every view of CoC figures a public URL accepts: the world, one region, one class."""
    return [WORLD, *(("region", r.value) for r in Region), *(("class", c.value) for c in MembershipClass)]


def view_filters(view: View) -> Filters:
    kind, value = view
    if kind == "region":
        return Filters(regions=(value,))
    if kind == "class":
        return Filters(membership_classes=(value,))
    return Filters()


def _mark(  # noqa: PLR0917 - one private step of the algorithm
    served: dict[Hashable, float], key: Hashable, value: object, system: FigureSystem, problems: list[str], route: str,
    unit: str | None = None,
) -> None:
    """Record a served figure (None/NaN: hidden on this route) and check it against the data:
    a figure served in a `unit` is rounded to that unit's precision, so it is right within half
    its last digit. The LP is built on the true values of served figures: an attacker who
    sees only the rounded ones knows less, so the audit errs on the safe side."""
    if key not in system.figures:
        return
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        served.setdefault(key, math.nan)
        return
    number = float(value)  # type: ignore[arg-type]
    truth = system.figures[key].value
    half_step = 0.5 * 10.0 ** -numbers.decimals_of_unit(unit, 12) if unit else 0.0
    if abs(number - truth) > half_step + 1e-6 * max(1.0, abs(truth)):
        problems.append(f"WRONG NUMBER {_describe(key)} on {route}: served {number:,.3f}, data {truth:,.3f}")
    before = served.get(key)
    if before is not None and math.isnan(before):
        problems.append(f"INCONSISTENT {_describe(key)}: hidden on one route, served on {route}")
    served[key] = number


def _collect_coc_year(  # noqa: PLR0917 - one private step of the algorithm
    store: Store, viewer: Viewer, year: int, system: FigureSystem, policy: DisclosurePolicy, problems: list[str]
) -> tuple[dict[Hashable, float], list[tuple[dict[int, float], float, float]]]:
    """What `viewer` is served of one CoC year, in every public view: figure -> value (NaN
    where hidden), and the extra equations ratios give where neither side is served."""
    served: dict[Hashable, float] = {}
    ratios: list[tuple[Hashable, Hashable, float]] = []
    for view in public_views():
        filters = view_filters(view)
        summary = coc.coc_stage_summary(store, viewer, year, filters, policy=policy)
        route = f"CoC stage summary {year} {view}"
        for row in summary.itertuples(index=False):
            _mark(served, (view, ("in", row.stage)), row.input_t, system, problems, route)
            _mark(served, (view, ("out", row.stage)), row.output_t, system, problems, route)
            if not pd.isna(row.share_of_global) and not pd.isna(row.global_t):
                _mark(served, (view, ("out", row.stage)), row.share_of_global * row.global_t, system, problems,
                      f"{route} (% of global)")
            tail = (view, ("attr", row.stage))
            if tail in system.figures:
                _mark(served, tail, row.attrition_t, system, problems, route)
        flows = coc.coc_stage_flows(store, viewer, year, filters, policy=policy)
        route = f"CoC Sankey {year} {view}"
        for row in flows.itertuples(index=False):
            if row.kind in ("origin", "stage"):
                key: Hashable = (view, ("link", row.target, row.material))
                source_key: Hashable | None = (view, ("out", row.source)) if row.kind == "stage" else None
            elif row.kind == "attrition":
                key, source_key = (view, ("attr", row.source)), (view, ("out", row.source))
            else:
                key, source_key = (view, ("final", row.source)), (view, ("out", row.source))
            _mark(served, key, row.value_t, system, problems, route)
            if source_key is not None and not pd.isna(row.share_of_source):
                ratios.append((key, source_key, float(row.share_of_source)))
        yoy = coc.coc_year_over_year(store, viewer, year, filters, policy=policy)
        problems += [
            f"YEAR-OVER-YEAR {year} {view} {row.stage}: a change is served beside a hidden output"
            for row in yoy.itertuples(index=False)
            if not pd.isna(row.change_t) and (pd.isna(row.output_t) or pd.isna(row.previous_output_t))
        ]
    rows: list[tuple[dict[int, float], float, float]] = []
    for key, source_key, share in ratios:
        a, b = served.get(key), served.get(source_key)
        known_a, known_b = a is not None and not math.isnan(a), b is not None and not math.isnan(b)
        if known_a and not known_b and share:
            _mark(served, source_key, a / share, system, problems, "a share of source")
        elif known_b and not known_a:
            _mark(served, key, share * b, system, problems, "a share of source")
        elif not known_a and not known_b:
            vector = dict(system.figures[key].vector)
            for atom, c in system.figures[source_key].vector.items():
                vector[atom] = vector.get(atom, 0.0) - share * c
            rows.append(({a: c for a, c in vector.items() if c}, 0.0, 0.0))
    return served, rows


def _served_observations(store: Store, viewer: Viewer, code: str) -> pd.DataFrame:
    """One indicator's observations (and its copies') exactly as the viewer downloads them."""
    codes = [c for c in store.query("select indicator_code from indicators")["indicator_code"]
             if indicators.base_code(c) == code]
    return catalogue.table_for_download(store, viewer, "indicator_observations", indicator_codes=codes)


def _collect_indicators(  # noqa: PLR0917 - one private step of the algorithm
    store: Store, viewer: Viewer, systems: dict[int, FigureSystem], served: dict[int, dict[Hashable, float]],
    extra: dict[int, list[tuple[dict[int, float], float, float]]], problems: list[str],
) -> None:
    """Indicator series that are CoC magnitudes, as the viewer downloads them: MT-11 is the
    world's material-conversion output in tonnes; ST-07 is each stage's output as a share
    of IAI's public global total, published to one decimal, so it proves an interval."""
    globals_t = store.query("select year, stage, global_t from global_totals")
    total_of = {(int(y), s): float(g) for y, s, g in globals_t.itertuples(index=False, name=None)}
    stage_of = {a: s for s, a in indicators.STAGE_ACTIVITY.items()}
    for row in _served_observations(store, viewer, "MT-11").itertuples(index=False):
        year = pd.Timestamp(row.period_on).year
        if year in systems and row.dimension == "total":
            _mark(served[year], (WORLD, ("out", CocStage.MATERIAL_CONVERSION.value)), row.value, systems[year],
                  problems, f"indicator MT-11 {year}", unit="t")
    for row in _served_observations(store, viewer, "ST-07").itertuples(index=False):
        year = pd.Timestamp(row.period_on).year
        stage = CocStage.PRIMARY_PRODUCTION.value if row.dimension == "total" else stage_of.get(row.dimension_value)
        if year not in systems or stage is None or pd.isna(row.value) or (year, stage) not in total_of:
            continue
        figure = systems[year].figures.get((WORLD, ("out", stage)))
        if figure is None:
            continue
        global_t = total_of[(year, stage)]
        half_step = 0.5 * 10.0 ** -numbers.DECIMALS["percent"]  # the share as published, rounded
        low, high = (row.value - half_step) * global_t / 100, (row.value + half_step) * global_t / 100
        extra[year].append((dict(figure.vector), low, high))


def _count_findings(store: Store, viewer: Viewer, policy: DisclosurePolicy, year: int) -> list[CountFinding]:
    """Masked reporter and entity counts that one year's public views let an attacker pin
    (relations and bounds in asi_me.publish.counts)."""
    frames = {v: coc.coc_stage_summary(store, viewer, year, view_filters(v), policy=policy) for v in public_views()}
    findings: list[CountFinding] = []
    for stage in CocStage:
        rows = {v: frame[frame["stage"] == stage.value].iloc[0] for v, frame in frames.items()}
        notes = {v: (None if not pd.isna(row["reporters"]) else
                     ("suppressed (fewer than" if str(row["reporters_label"]).startswith("fewer than")
                      else "suppressed (to protect another)")) for v, row in rows.items()}
        for measure in ("reporters", "entities"):
            shown = {v: (0 if pd.isna(row[measure]) else int(row[measure])) for v, row in rows.items()}
            for view, low, high in recoverable(shown, notes, measure, policy.min_reporters):
                findings.append(CountFinding(f"{measure} {year} {stage.value} {view}", low, high))
    return findings


def _coc_audit(store: Store, role: AuditRole, policy: DisclosurePolicy, report: AuditReport,
               members: Iterable[str] | None) -> None:
    viewer = Viewer.public()
    systems: dict[int, FigureSystem] = {}
    served: dict[int, dict[Hashable, float]] = {}
    extra: dict[int, list[tuple[dict[int, float], float, float]]] = {}
    for year in coc.coc_years(store):
        lines = coc.coc_lines(store, [year], None).assign(volume_t=lambda f: f["input_t"] + f["output_t"])
        systems[year] = coc_year_system(lines, policy, public_views())
        served[year], extra[year] = _collect_coc_year(store, viewer, year, systems[year], policy, report.problems)
        report.counts += _count_findings(store, viewer, policy, year)
    _collect_indicators(store, viewer, systems, served, extra, report.problems)
    for year, system in systems.items():
        _audit_family(system, served[year], extra[year], role, policy, report, members, f"CoC {year}")


def _audit_family(  # noqa: PLR0917 - one private step of the algorithm
    system: FigureSystem, served: dict[Hashable, float], extra: list[tuple[dict[int, float], float, float]],
    role: AuditRole, policy: DisclosurePolicy, report: AuditReport, members: Iterable[str] | None, family: str,
) -> None:
    published = {k: not math.isnan(v) for k, v in served.items()}
    for key, figure in system.figures.items():
        if figure.primary and published.get(key):
            report.problems.append(f"SENSITIVE SERVED {family} {_describe(key)}: {figure.primary}, yet served")
    if role == "public":
        attackers = ["public"]
    else:
        wanted = set(members) if members is not None else set(system.own)
        attackers = [f"member {m}" for m in system.own if m in wanted]
        report.members_checked = max(report.members_checked, len(attackers))
    report.figures_checked += sum(published.values())
    report.hidden_checked += sum(1 for f in system.figures.values() if f.primary and abs(f.value) > 1e-9)
    report.hidden_checked += sum(1 for s in system.sensitive if abs(s.value) > 1e-9)
    found = audit_system(system, published, policy.protection_level, attackers, extra_rows=extra)
    report.findings += [Finding((family, f.key), f.value, f.interval, f.attacker) for f in found]


def _workers_audit(store: Store, role: AuditRole, policy: DisclosurePolicy, report: AuditReport,
                   members: Iterable[str] | None) -> None:
    """People working in PS-certified facilities: the tile (world, each region, each
    country) and the indicator series, on every month end a viewer can pick."""
    dates = outcomes.worker_dates(store)
    table = outcomes.company_workers(store, dates)
    series = _served_observations(store, Viewer.public(), "ST-02")
    kinds = {"total": "world", "region": "region", "country": "country"}  # countries must not be served
    series = series[series["dimension"].isin(list(kinds))].assign(
        on=lambda f: [(pd.Timestamp(p) + pd.offsets.MonthEnd(0)).date() for p in f["period_on"]],
        kind=lambda f: f["dimension"].map(kinds),
        place=lambda f: [WORKERS_WORLD if d == "total" else v for d, v in zip(f["dimension"], f["dimension_value"],
                                                                              strict=True)],
    )
    for on in dates:
        system = workers_date_system(table, on, policy)
        if not system.atoms:
            continue
        served: dict[Hashable, float] = {}
        for key in system.figures:
            _, frame = outcomes.protected_workers_for(store, key, [on], policy)
            _mark(served, key, frame["ps_workers"].iloc[0], system, report.problems, f"workers tile {on}")
        for row in series[series["on"] == on].itertuples(index=False):
            if row.kind == "country" and not pd.isna(row.value):
                report.problems.append(f"WORKERS BY COUNTRY served: {row.place} {on}")
                continue
            _mark(served, (row.kind, row.place), row.value, system, report.problems, f"indicator ST-02 {on}",
                  unit="people")
        _audit_family(system, served, [], role, policy, report, members, f"workers {on}")


def audit_disclosure(
    store: Store, role: AuditRole = "public", policy: DisclosurePolicy | None = None,
    members: Iterable[str] | None = None, families: Iterable[str] = ("coc", "workers"),
) -> AuditReport:
    """Run the attacker's audit over everything `role` can obtain from this snapshot."""
    policy = policy or DisclosurePolicy.from_settings()
    started = time.perf_counter()
    report = AuditReport(role, policy.protection_level)
    wanted = set(families)
    if "coc" in wanted:
        _coc_audit(store, role, policy, report, members)
    if "workers" in wanted:
        _workers_audit(store, role, policy, report, members)
    report.seconds = time.perf_counter() - started
    return report
