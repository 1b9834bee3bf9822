"""Demo tables around the certification core: Theory of Change, indicators and their
observations, training, governance, evidence, global totals and smelter emissions.

Level-1 indicator observations are computed from the generated members,
certifications, audits and training records, so dashboard tiles and indicator
series agree. Evidence titles and authors are fictitious.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np

from asi_me.data.vocab import CocStage, region_of
from asi_me.demo.world import GLOBAL_T, IAI_SOURCE, SEED, next_audits

if TYPE_CHECKING:
    from asi_me.demo.world import World

AS_OF = date(2026, 10, 31)


def _rng(part: int) -> np.random.Generator:
    return np.random.default_rng([SEED, 100 + part])


def _month_ends(start: date) -> list[date]:
    out = []
    y, m = start.year, start.month
    while (y, m) <= (AS_OF.year, AS_OF.month):
        out.append(date(y, m, calendar.monthrange(y, m)[1]))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# --------------------------------------------------------------------------- Theory of Change

TOC_NODES: list[tuple[str, str, str, str | None, str]] = [
    ("S-GOV", "Effective governance", "strategy", None,
     "Multi-stakeholder Board, Standards Committee and IPAF steer ASI's work."),
    ("S-CRED", "Credible program", "strategy", None,
     "Robust standards, accredited auditors and an assurance model aligned with ISEAL Codes."),
    ("S-MEMB", "Growing membership", "strategy", None,
     "Members join from every part of the aluminium value chain and from civil society."),
    ("S-FIN", "Financial resilience", "strategy", None,
     "Diversified income from membership and certification fees keeps the program independent."),
    ("O-GOVERN", "Governance bodies meet and decide with stakeholders", "output", None,
     "Board, Standards Committee and IPAF meetings held as planned."),
    ("O-STANDARDS", "Standards developed and revised", "output", None,
     "Performance and Chain of Custody Standards reviewed at least every five years."),
    ("O-ASSURANCE", "Accredited auditing firms and trained auditors in place", "output", None,
     "Auditing firms accredited, auditors trained via educationAl."),
    ("O-CERTS", "Certifications issued", "output", None,
     "PS and CoC certifications issued to member entities after independent audits."),
    ("O-TRAINING", "Members and stakeholders trained", "output", None,
     "educationAl courses completed by members and stakeholders."),
    ("O-MEMBERS", "Members recruited across the value chain", "output", None,
     "New members in all six membership classes."),
    ("O-COC", "CoC material tracked and reported", "output", None,
     "Certified entities report annual CoC inputs and outputs."),
    ("O-REVENUE", "Diversified revenue", "output", None, "Membership, certification and project income."),
    ("O-DATA", "M&E data and insights published", "output", None,
     "Outcomes dashboard, M&E Insights and evaluations published."),
    ("ST-IMPLEMENT", "Members implement the ASI Standards", "short_term_outcome", None,
     "Certified entities put the Standards' requirements into practice."),
    ("ST-IMPROVE", "Continual improvement among Certified Entities", "short_term_outcome", None,
     "Non-conformances are closed at the next audit."),
    ("ST-CAPACITY", "Increased capacity of members, auditors and stakeholders", "short_term_outcome", None,
     "People understand the Standards and how to apply them."),
    ("ST-VOICE", "Stakeholders, including Indigenous Peoples, shape decisions", "short_term_outcome", None,
     "Affected communities and civil society take part in governance."),
    ("ST-COCAVAIL", "ASI material available along the value chain", "short_term_outcome", None,
     "CoC material flows from mine to final product."),
    ("ST-ASSURANCE", "Credible and efficient assurance", "short_term_outcome", None,
     "Audits find and follow up issues; external certifications are leveraged."),
    ("MT-CLIMATE", "Reduced climate change impact", "medium_term_outcome", "standards",
     "GHG intensity of certified operations falls below the 8 t CO2e/t threshold."),
    ("MT-WASTE", "Enhanced waste management of upstream processing residues", "medium_term_outcome",
     "standards", "Bauxite residue and spent pot lining managed responsibly."),
    ("MT-BIODIV", "Enhanced biodiversity management", "medium_term_outcome", "standards",
     "Mines and refineries plan rehabilitation and protect biodiversity."),
    ("MT-RIGHTS", "Practices that respect human rights", "medium_term_outcome", "standards",
     "Human rights due diligence, FPIC and labour rights in certified operations."),
    ("MT-STEWARD", "Increased material stewardship", "medium_term_outcome", "standards",
     "Recycling and collection of scrap increase along the value chain."),
    ("MT-SOURCING", "Companies invest in and reward responsible sourcing", "medium_term_outcome", "uptake",
     "Industrial users specify ASI material; certification brings business benefits."),
    ("MT-TRUST", "Stakeholders trust ASI certification", "medium_term_outcome", "reputation",
     "Stakeholders see ASI certification as credible."),
    ("I-STANDARDS", "Sustainability and human rights principles increasingly embedded in aluminium "
     "production, use and recycling", "long_term_impact", "standards", "Long-term impact: Standards."),
    ("I-UPTAKE", "Companies increasingly invest in and reward improved practices and responsible sourcing",
     "long_term_impact", "uptake", "Long-term impact: Uptake."),
    ("I-REPUTATION", "Aluminium continues to improve its sustainability credentials with stakeholders",
     "long_term_impact", "reputation", "Long-term impact: Reputation."),
]

TOC_EDGES: list[tuple[str, str]] = [
    ("S-GOV", "O-GOVERN"), ("S-GOV", "O-STANDARDS"), ("S-GOV", "O-DATA"),
    ("S-CRED", "O-ASSURANCE"), ("S-CRED", "O-CERTS"), ("S-CRED", "O-STANDARDS"), ("S-CRED", "O-COC"),
    ("S-CRED", "O-TRAINING"),
    ("S-MEMB", "O-MEMBERS"), ("S-MEMB", "O-TRAINING"),
    ("S-FIN", "O-REVENUE"), ("S-FIN", "O-MEMBERS"),
    ("O-GOVERN", "ST-VOICE"), ("O-STANDARDS", "ST-IMPLEMENT"), ("O-ASSURANCE", "ST-ASSURANCE"),
    ("O-CERTS", "ST-IMPLEMENT"), ("O-CERTS", "ST-IMPROVE"), ("O-TRAINING", "ST-CAPACITY"),
    ("O-MEMBERS", "ST-IMPLEMENT"), ("O-COC", "ST-COCAVAIL"), ("O-REVENUE", "ST-ASSURANCE"),
    ("O-DATA", "ST-VOICE"), ("O-DATA", "MT-TRUST"),
    ("ST-IMPLEMENT", "MT-CLIMATE"), ("ST-IMPLEMENT", "MT-WASTE"), ("ST-IMPLEMENT", "MT-BIODIV"),
    ("ST-IMPLEMENT", "MT-RIGHTS"), ("ST-IMPROVE", "MT-CLIMATE"), ("ST-IMPROVE", "MT-WASTE"),
    ("ST-IMPROVE", "MT-RIGHTS"), ("ST-CAPACITY", "ST-IMPLEMENT"), ("ST-CAPACITY", "MT-RIGHTS"),
    ("ST-VOICE", "MT-RIGHTS"), ("ST-VOICE", "MT-TRUST"), ("ST-COCAVAIL", "MT-SOURCING"),
    ("ST-COCAVAIL", "MT-STEWARD"), ("ST-ASSURANCE", "MT-TRUST"), ("ST-ASSURANCE", "ST-IMPROVE"),
    ("MT-CLIMATE", "I-STANDARDS"), ("MT-WASTE", "I-STANDARDS"), ("MT-BIODIV", "I-STANDARDS"),
    ("MT-RIGHTS", "I-STANDARDS"), ("MT-STEWARD", "I-STANDARDS"), ("MT-SOURCING", "I-UPTAKE"),
    ("MT-STEWARD", "I-UPTAKE"), ("MT-TRUST", "I-REPUTATION"), ("MT-SOURCING", "I-REPUTATION"),
]


def _toc() -> tuple[list[dict], list[dict]]:
    nodes = [{"node_id": n, "label": label, "node_type": t, "impact_area": area, "description": desc}
             for n, label, t, area, desc in TOC_NODES]
    edges = [{"source_node_id": a, "target_node_id": b} for a, b in TOC_EDGES]
    return nodes, edges


# --------------------------------------------------------------------------- indicators

# code, name, definition, unit, level, source, frequency, iseal area, direction,
# (baseline value, baseline date), (target value, target date), ToC node
_I = tuple[str, str, str, str, str, str, str, str | None, str, tuple[float, str] | None,
           tuple[float, str] | None, str]
INDICATORS: list[_I] = [
    ("OP-01", "ASI members", "Organisations holding ASI membership at the end of the month.", "count", "1",
     "CRM membership records", "monthly", None, "increase", (13, "2015-06-30"), (500, "2026-12-31"), "O-MEMBERS"),
    ("OP-02", "PS certificates issued", "Performance Standard certificates issued since 2018, cumulative "
     "(recertifications count as new certificates).", "count", "1", "elementAl certifications", "monthly",
     "Certification and verification", "increase", (0, "2017-12-31"), (480, "2026-12-31"), "O-CERTS"),
    ("OP-03", "CoC certificates issued", "Chain of Custody certificates issued since 2018, cumulative.", "count",
     "1", "elementAl certifications", "monthly", "Certification and verification", "increase",
     (0, "2017-12-31"), (250, "2026-12-31"), "O-CERTS"),
    ("OP-04", "Countries with certified facilities", "Countries where at least one facility holds a valid "
     "ASI certification at the end of the month.", "count", "1", "elementAl certifications", "monthly",
     "Location information", "increase", (0, "2017-12-31"), (75, "2026-12-31"), "O-CERTS"),
    ("OP-05", "Accredited auditing firms", "Auditing firms holding ASI accreditation.", "count", "1",
     "Assurance records", "monthly", None, "increase", (3, "2017-12-31"), (16, "2025-12-31"), "O-ASSURANCE"),
    ("OP-06", "Countries covered by accredited auditing firms", "Countries in which accredited auditing firms "
     "operate.", "count", "1", "Assurance records", "monthly", None, "increase", (40, "2017-12-31"),
     (110, "2026-12-31"), "O-ASSURANCE"),
    ("OP-07", "Auditors trained", "Auditors who completed at least one educationAl auditor course since 2017.",
     "people", "1", "educationAl", "monthly", "Capacity development", "increase", (0, "2017-10-31"),
     (450, "2026-12-31"), "O-ASSURANCE"),
    ("OP-08", "Members and stakeholders trained", "Member staff and stakeholders who completed at least one "
     "educationAl course since 2017.", "people", "1", "educationAl", "monthly", "Capacity development",
     "increase", (0, "2017-10-31"), (6000, "2026-12-31"), "O-TRAINING"),
    ("OP-09", "Board meetings", "ASI Board meetings held since inception in 2016, cumulative.", "count", "1",
     "Governance records", "monthly", "Participation and governance", "maintain", None, None, "O-GOVERN"),
    ("OP-10", "Standards Committee meetings", "Standards Committee meetings held since inception in 2016, "
     "cumulative.", "count", "1", "Governance records", "monthly", "Participation and governance", "maintain",
     None, None, "O-GOVERN"),
    ("OP-11", "IPAF meetings", "Indigenous Peoples Advisory Forum meetings held since 2015, cumulative.",
     "count", "1", "Governance records", "monthly", "Participation and governance", "increase", None, None,
     "ST-VOICE"),
    ("OP-12", "Audits completed", "Certification audits (initial, surveillance, recertification, scope change) "
     "completed, cumulative.", "count", "1", "elementAl audits", "monthly", "Certification and verification",
     "increase", (0, "2017-12-31"), (1700, "2026-12-31"), "O-CERTS"),
    ("ST-01", "PS certifications leveraging external certifications", "Share of valid PS certifications that "
     "leverage one or more external certifications (e.g. ISO 14001, ISO 45001, SA8000).", "%", "1",
     "elementAl certifications", "monthly", "Certification and verification", "increase", (50, "2018-12-31"),
     (70, "2026-12-31"), "ST-ASSURANCE"),
    ("ST-02", "People working in PS-certified facilities", "Workers at facilities holding a valid PS "
     "certification.", "people", "1", "elementAl certifications", "monthly", "Labour", "increase",
     (0, "2017-12-31"), (300000, "2026-12-31"), "ST-IMPLEMENT"),
    ("ST-03", "Non-conformances closed at the next audit", "Share of PS non-conformances closed or downgraded "
     "at the next audit of the same entity, among those whose next audit has taken place.", "%", "1",
     "elementAl audit findings", "monthly", "Certification and verification", "increase", (80, "2019-12-31"),
     (95, "2026-12-31"), "ST-IMPROVE"),
    ("ST-04", "PS certified entities", "Entities holding a valid PS certification.", "count", "1",
     "elementAl certifications", "monthly", "Certification and verification", "increase", (0, "2017-12-31"),
     (320, "2026-12-31"), "ST-IMPLEMENT"),
    ("ST-05", "CoC certified entities", "Entities holding a valid CoC certification.", "count", "1",
     "elementAl certifications", "monthly", "Certification and verification", "increase", (0, "2017-12-31"),
     (150, "2026-12-31"), "ST-COCAVAIL"),
    ("ST-06", "Entities with provisional certification after a major NC", "Entities whose audit found a major "
     "non-conformance, leading to a one-year provisional certification, cumulative.", "count", "1",
     "elementAl certifications", "monthly", None, "decrease", None, None, "ST-ASSURANCE"),
    ("ST-08", "Conformance with PS criteria", "Share of applicable Performance Standard criteria rated conformant "
     "in PS audits of the last 12 months, by principle.", "%", "1", "elementAl audit findings", "monthly",
     "Certification and verification", "increase", (90, "2019-12-31"), (96, "2026-12-31"), "ST-IMPLEMENT"),
    ("MT-03", "Conformance with biodiversity criteria", "Share of applicable Principle 8 (Biodiversity) "
     "criteria rated conformant in PS audits of the last 12 months.", "%", "1", "elementAl audit findings",
     "monthly", "Biodiversity", "increase", (88, "2019-12-31"), (97, "2026-12-31"), "MT-BIODIV"),
    ("MT-04", "Conformance with human rights criteria", "Share of applicable Principle 9 (Human rights) "
     "criteria rated conformant in PS audits of the last 12 months.", "%", "1", "elementAl audit findings",
     "monthly", None, "increase", (88, "2019-12-31"), (97, "2026-12-31"), "MT-RIGHTS"),
    ("MT-05", "Conformance with occupational health & safety criteria", "Share of applicable Principle 11 "
     "criteria rated conformant in PS audits of the last 12 months.", "%", "1", "elementAl audit findings",
     "monthly", "Health and safety", "increase", (90, "2019-12-31"), (97, "2026-12-31"), "MT-RIGHTS"),
    ("MT-06", "Conformance with water criteria", "Share of applicable Principle 7 (Water) criteria rated "
     "conformant in PS audits of the last 12 months.", "%", "1", "elementAl audit findings", "monthly", "Water",
     "increase", (88, "2019-12-31"), (96, "2026-12-31"), "MT-WASTE"),
    ("MT-07", "Conformance with labour rights criteria", "Share of applicable Principle 10 (Labour rights) "
     "criteria rated conformant in PS audits of the last 12 months.", "%", "1", "elementAl audit findings",
     "monthly", "Labour", "increase", (90, "2019-12-31"), (97, "2026-12-31"), "MT-RIGHTS"),
    ("MT-08", "Conformance with emissions, effluents & wastes criteria", "Share of applicable Principle 6 "
     "criteria rated conformant in PS audits of the last 12 months.", "%", "1", "elementAl audit findings",
     "monthly", "Resource management", "increase", (88, "2019-12-31"), (96, "2026-12-31"), "MT-WASTE"),
    ("ST-07", "Share of global production under CoC", "ASI CoC material output as a share of global "
     "production at each stage (IAI), by reporting year.", "%", "2", "CoC annual reports; IAI global totals",
     "annual", "Production", "increase", (1.9, "2019-12-31"), (8, "2026-12-31"), "ST-COCAVAIL"),
    ("MT-01", "GHG intensity of certified smelters", "Median scope 1+2 emissions of PS-certified smelters, "
     "t CO2e per t aluminium.", "t CO2e/t Al", "2", "CRU Emissions Analysis Tool; member data", "annual",
     "Resource management", "decrease", (8.9, "2018-12-31"), (6.0, "2026-12-31"), "MT-CLIMATE"),
    ("MT-02", "Certified smelters below the 8 t CO2e/t threshold", "Share of PS-certified smelters with scope "
     "1+2 intensity below the Performance Standard's 8 t CO2e/t Al threshold.", "%", "2",
     "CRU Emissions Analysis Tool; member data", "annual", "Resource management", "increase",
     (55, "2018-12-31"), (100, "2030-12-31"), "MT-CLIMATE"),
    ("MT-09", "Certified entities saying certification is positive for business", "Share of survey "
     "respondents (certified entities) who say ASI certification has been positive for their business.", "%",
     "2", "Annual certification survey", "annual", "Resilience and competitiveness", "increase",
     (78, "2021-11-30"), (85, "2026-12-31"), "MT-SOURCING"),
    ("MT-10", "Certification survey response rate", "Share of certified entities contacted that responded "
     "to the annual certification survey.", "%", "2", "Annual certification survey", "annual", None, "increase",
     (38, "2021-11-30"), (50, "2026-12-31"), "O-DATA"),
    ("MT-11", "ASI Aluminium converted into products", "ASI Aluminium output reported at the material "
     "conversion stage.", "t", "2", "CoC annual reports", "annual", "Production", "increase",
     (100000, "2019-12-31"), (1500000, "2026-12-31"), "MT-SOURCING"),
    ("IM-01", "Evaluated entities with improved environmental management", "Share of certified entities in "
     "independent evaluations showing improved environmental management since certification.", "%", "3",
     "Independent outcome evaluations", "ad_hoc", "Resource management", "increase", (45, "2021-12-31"),
     (70, "2027-12-31"), "I-STANDARDS"),
    ("IM-02", "Stakeholder trust in ASI certification", "Share of surveyed external stakeholders who consider "
     "ASI certification credible (independent perception study).", "%", "3", "Independent perception study",
     "ad_hoc", None, "increase", (52, "2020-12-31"), (70, "2026-12-31"), "I-REPUTATION"),
    ("IM-03", "Community members reporting FPIC respected", "Share of surveyed Indigenous and community "
     "members near certified mines who report that free, prior and informed consent processes were respected.",
     "%", "3", "Independent outcome evaluations", "ad_hoc", "Participation and governance", "increase",
     (41, "2022-12-31"), (60, "2028-12-31"), "MT-RIGHTS"),
]


def _indicators() -> list[dict]:
    rows = []
    for (code, name, definition, unit, level, source, freq, area, direction, base, target, node) in INDICATORS:
        rows.append({
            "indicator_code": code, "name": name, "definition": definition, "unit": unit, "level": level,
            "data_source": source, "frequency": freq, "is_iseal_cci": area is not None, "iseal_cci_area": area,
            "direction": direction,
            "baseline_value": float(base[0]) if base else None,
            "baseline_on": date.fromisoformat(base[1]) if base else None,
            "target_value": float(target[0]) if target else None,
            "target_on": date.fromisoformat(target[1]) if target else None,
            "toc_node_id": node,
        })
    return rows


class _Obs:
    """Collects observation rows; the last two months of monthly series are provisional."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def monthly(self, code: str, ends: list[date], dim: str, groups: dict[str, np.ndarray],
                digits: int = 0) -> None:
        cutoff = len(ends) - 2
        for value_name in sorted(groups):
            values = groups[value_name]
            started = dim != "country"  # country series start with the country's first non-zero value
            for i, end in enumerate(ends):
                v = values[i]
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    continue
                started = started or v != 0
                if not started:
                    continue
                self.rows.append({"indicator_code": code, "period_on": end.replace(day=1), "dimension": dim,
                                  "dimension_value": value_name, "value": round(float(v), digits) if digits else
                                  float(round(float(v))), "status": "provisional" if i >= cutoff else "final"})

    def annual(self, code: str, year: int, dim: str, value_name: str, value: float, *, provisional: bool) -> None:
        self.rows.append({"indicator_code": code, "period_on": date(year, 1, 1), "dimension": dim,
                          "dimension_value": value_name, "value": round(float(value), 2),
                          "status": "provisional" if provisional else "final"})


def _cum(dates: list[date], ends: list[date], labels: list[list[str]] | None = None) -> dict[str, np.ndarray]:
    """Cumulative counts of items dated on or before each month end, per label."""
    d = np.array([x.toordinal() for x in dates])
    e = np.array([x.toordinal() for x in ends])
    mask = d[:, None] <= e[None, :]
    if labels is None:
        return {"all": mask.sum(axis=0).astype(float)}
    out: dict[str, np.ndarray] = {}
    for i, labs in enumerate(labels):
        for lab in labs:
            out.setdefault(lab, np.zeros(len(ends)))
            out[lab] += mask[i]
    return out


def _valid_matrix(certs: list[dict], ends: list[date]) -> np.ndarray:
    e = np.array([x.toordinal() for x in ends])
    issued = np.array([c["issued_on"].toordinal() for c in certs])
    expires = np.array([c["expires_on"].toordinal() for c in certs])
    changed = np.array([(c["status_changed_on"] or date(9999, 1, 1)).toordinal() for c in certs])
    return (issued[:, None] <= e) & (e < expires[:, None]) & (e < changed[:, None])


def _distinct_per_label(valid: np.ndarray, keys: list[str], labels: list[list[str]]) -> dict[str, np.ndarray]:
    """Distinct keys (e.g. facilities) with a valid item, per label and month."""
    out: dict[str, np.ndarray] = {}
    by_label: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    for i, (key, labs) in enumerate(zip(keys, labels, strict=True)):
        for lab in labs:
            prev = by_label[lab].get(key)
            by_label[lab][key] = valid[i] if prev is None else (prev | valid[i])
    for lab, per_key in by_label.items():
        out[lab] = np.sum(np.array(list(per_key.values())), axis=0).astype(float)
    return out


def _observations(world: World, training: list[dict], meetings: list[dict], emissions: list[dict],
                  global_totals: list[dict]) -> list[dict]:
    obs = _Obs()
    fac = {f["facility_id"]: f for f in world.facilities}
    mem = {m["member_id"]: m for m in world.members}

    # Members
    ends = _month_ends(date(2015, 6, 1))
    e = np.array([x.toordinal() for x in ends])
    joined = np.array([m["joined_on"].toordinal() for m in world.members])
    left = np.array([(m["left_on"] or date(9999, 1, 1)).toordinal() for m in world.members])
    active = (joined[:, None] <= e) & (left[:, None] > e)
    obs.monthly("OP-01", ends, "total", {"all": active.sum(axis=0)})
    member_acts: dict[str, set[str]] = defaultdict(set)
    for f in world.facilities:
        member_acts[f["member_id"]].update(f["activities"])
    for dim, key in (("membership_class", lambda m: [m["membership_class"]]),
                     ("region", lambda m: [region_of(m["country"]) or "Unknown"]),
                     ("activity", lambda m: sorted(member_acts[m["member_id"]])),
                     ("country", lambda m: [m["country"]])):
        groups: dict[str, np.ndarray] = {}
        for i, m in enumerate(world.members):
            for lab in key(m):
                groups.setdefault(lab, np.zeros(len(ends)))
                groups[lab] += active[i]
        obs.monthly("OP-01", ends, dim, groups)

    # Certificates
    ends = _month_ends(date(2018, 1, 1))
    for code, std in (("OP-02", "PS"), ("OP-03", "CoC")):
        certs = [c for c in world.certifications if c["standard"] == std]
        dates = [c["issued_on"] for c in certs]
        obs.monthly(code, ends, "total", _cum(dates, ends))
        obs.monthly(code, ends, "region", _cum(dates, ends, [[region_of(fac[c["facility_id"]]["country"])]
                                                            for c in certs]))
        obs.monthly(code, ends, "activity", _cum(dates, ends, [fac[c["facility_id"]]["activities"] for c in certs]))
        obs.monthly(code, ends, "membership_class",
                    _cum(dates, ends, [[mem[fac[c["facility_id"]]["member_id"]]["membership_class"]] for c in certs]))
        obs.monthly(code, ends, "country", _cum(dates, ends, [[fac[c["facility_id"]]["country"]] for c in certs]))

    valid = _valid_matrix(world.certifications, ends)
    countries = [fac[c["facility_id"]]["country"] for c in world.certifications]
    obs.monthly("OP-04", ends, "total", _distinct_per_label(valid, countries, [["all"]] * len(countries)))
    obs.monthly("OP-04", ends, "standard",
                _distinct_per_label(valid, countries, [[c["standard"]] for c in world.certifications]))
    obs.monthly("OP-04", ends, "region",
                _distinct_per_label(valid, countries, [[region_of(x)] for x in countries]))
    obs.monthly("OP-04", ends, "activity",
                _distinct_per_label(valid, countries, [fac[c["facility_id"]]["activities"]
                                                       for c in world.certifications]))

    for code, std in (("ST-04", "PS"), ("ST-05", "CoC")):
        idx = [i for i, c in enumerate(world.certifications) if c["standard"] == std]
        keys = [world.certifications[i]["facility_id"] for i in idx]
        v = valid[idx]
        obs.monthly(code, ends, "total", _distinct_per_label(v, keys, [["all"]] * len(keys)))
        obs.monthly(code, ends, "region", _distinct_per_label(v, keys, [[region_of(fac[k]["country"])] for k in keys]))
        obs.monthly(code, ends, "activity", _distinct_per_label(v, keys, [fac[k]["activities"] for k in keys]))
        obs.monthly(code, ends, "membership_class",
                    _distinct_per_label(v, keys, [[mem[fac[k]["member_id"]]["membership_class"]] for k in keys]))
        obs.monthly(code, ends, "country", _distinct_per_label(v, keys, [[fac[k]["country"]] for k in keys]))

    # Workers at PS-certified facilities (each facility once).
    ps_idx = [i for i, c in enumerate(world.certifications) if c["standard"] == "PS"]
    per_fac: dict[str, np.ndarray] = {}
    for i in ps_idx:
        f = world.certifications[i]["facility_id"]
        per_fac[f] = valid[i] if f not in per_fac else (per_fac[f] | valid[i])
    for dim, key in (("total", lambda f: ["all"]), ("region", lambda f: [region_of(fac[f]["country"])]),
                     ("activity", lambda f: fac[f]["activities"]),
                     ("membership_class", lambda f: [mem[fac[f]["member_id"]]["membership_class"]]),
                     ("country", lambda f: [fac[f]["country"]])):
        groups = {}
        for f in sorted(per_fac):
            for lab in key(f):
                groups.setdefault(lab, np.zeros(len(ends)))
                groups[lab] += per_fac[f] * fac[f]["workers"]
        obs.monthly("ST-02", ends, dim, groups)
    # Workforce by gender: women's share differs by activity (member workforce data).
    female_share = {"B": 0.14, "A": 0.13, "S": 0.11, "R": 0.16, "F": 0.19, "M": 0.31}
    women = np.zeros(len(ends))
    total = np.zeros(len(ends))
    for f in sorted(per_fac):
        total += per_fac[f] * fac[f]["workers"]
        women += per_fac[f] * round(fac[f]["workers"] * female_share[fac[f]["_kind"]])
    obs.monthly("ST-02", ends, "gender", {"female": women, "male": total - women})

    # Share of valid PS certifications leveraging external certifications.
    ps = [world.certifications[i] for i in ps_idx]
    v = valid[ps_idx]
    has_ext = np.array([bool(c["external_certifications"]) for c in ps])
    for dim, key in (("total", lambda c: ["all"]), ("region", lambda c: [region_of(fac[c["facility_id"]]["country"])]),
                     ("activity", lambda c: fac[c["facility_id"]]["activities"]),
                     ("membership_class", lambda c: [mem[fac[c["facility_id"]]["member_id"]]["membership_class"]]),
                     ("country", lambda c: [fac[c["facility_id"]]["country"]])):
        num: dict[str, np.ndarray] = {}
        den: dict[str, np.ndarray] = {}
        for i, c in enumerate(ps):
            for lab in key(c):
                num.setdefault(lab, np.zeros(len(ends)))
                den.setdefault(lab, np.zeros(len(ends)))
                num[lab] += v[i] * has_ext[i]
                den[lab] += v[i]
        obs.monthly("ST-01", ends, dim, {k: np.where(den[k] > 0, 100 * num[k] / np.maximum(den[k], 1), np.nan)
                                         for k in den}, digits=1)

    # Provisional after a major NC (distinct entities, cumulative).
    prov = [c for c in ps if c["certification_type"] == "provisional"]
    first: dict[str, date] = {}
    for c in prov:
        first[c["facility_id"]] = min(first.get(c["facility_id"], c["issued_on"]), c["issued_on"])
    fids = sorted(first)
    obs.monthly("ST-06", ends, "total", _cum([first[f] for f in fids], ends))
    obs.monthly("ST-06", ends, "region", _cum([first[f] for f in fids], ends,
                                              [[region_of(fac[f]["country"])] for f in fids]))
    obs.monthly("ST-06", ends, "activity", _cum([first[f] for f in fids], ends, [fac[f]["activities"] for f in fids]))

    # Audits
    ends_a = _month_ends(date(2017, 12, 1))
    adates = [a["audited_on"] for a in world.audits]
    obs.monthly("OP-12", ends_a, "total", _cum(adates, ends_a))
    obs.monthly("OP-12", ends_a, "standard", _cum(adates, ends_a, [[a["_cert"]["standard"]] for a in world.audits]))
    obs.monthly("OP-12", ends_a, "region", _cum(adates, ends_a, [[region_of(fac[a["_cert"]["facility_id"]]["country"])]
                                                                  for a in world.audits]))
    obs.monthly("OP-12", ends_a, "activity", _cum(adates, ends_a, [fac[a["_cert"]["facility_id"]]["activities"]
                                                                    for a in world.audits]))
    obs.monthly("OP-12", ends_a, "country", _cum(adates, ends_a, [[fac[a["_cert"]["facility_id"]]["country"]]
                                                                   for a in world.audits]))
    obs.monthly("OP-12", ends_a, "membership_class",
                _cum(adates, ends_a, [[mem[fac[a["_cert"]["facility_id"]]["member_id"]]["membership_class"]]
                                      for a in world.audits]))

    _finding_series(world, obs, fac, mem)
    _firm_series(world, obs)
    _training_series(training, obs)
    _meeting_series(meetings, obs)
    _annual_series(world, obs, emissions, global_totals, fac)
    return obs.rows


def _finding_series(world: World, obs: _Obs, fac: dict[str, dict], mem: dict[str, dict]) -> None:
    nxt = next_audits(world)
    ends = _month_ends(date(2019, 1, 1))
    e = np.array([x.toordinal() for x in ends])
    ncs = [f for f in world.findings if f["rating"] in ("minor_nc", "major_nc") and f["audit_id"] in nxt]
    nd = np.array([nxt[f["audit_id"]]["audited_on"].toordinal() for f in ncs])
    closed = np.array([bool(f["is_closed_at_next_audit"]) for f in ncs])
    known = nd[:, None] <= e
    def facility_of(f: dict) -> dict:
        return fac[f["_audit"]["_cert"]["facility_id"]]

    for dim, key in (("total", lambda f: ["all"]), ("principle", lambda f: [str(f["principle"])]),
                     ("region", lambda f: [region_of(facility_of(f)["country"])]),
                     ("activity", lambda f: facility_of(f)["activities"]),
                     ("membership_class", lambda f: [mem[facility_of(f)["member_id"]]["membership_class"]])):
        labels = [key(f) for f in ncs]
        groups = {}
        for lab in sorted({x for labs in labels for x in labs}):
            sel = np.array([lab in labs for labs in labels])
            den = known[sel].sum(axis=0)
            num = (known[sel] & closed[sel][:, None]).sum(axis=0)
            groups[lab] = np.where(den > 0, 100 * num / np.maximum(den, 1), np.nan)
        obs.monthly("ST-03", ends, dim, groups, digits=1)

    # Conformance rates per principle over a rolling 12 months.
    month_index = {(d.year, d.month): i for i, d in enumerate(ends)}
    dims = [("total", lambda f: ["all"]), ("region", lambda f: [region_of(facility_of(f)["country"])]),
            ("activity", lambda f: facility_of(f)["activities"]),
            ("membership_class", lambda f: [mem[facility_of(f)["member_id"]]["membership_class"]])]
    series = [(code, principle, dims) for code, principle in
              (("MT-03", 8), ("MT-04", 9), ("MT-05", 11), ("MT-06", 7), ("MT-07", 10), ("MT-08", 6))]
    series.append(("ST-08", None, [*dims, ("principle", lambda f: [str(f["principle"])]),
                                   ("country", lambda f: [facility_of(f)["country"]])]))
    for code, principle, dim_keys in series:
        rows = [f for f in world.findings if (principle is None or f["principle"] == principle)
                and f["rating"] != "not_applicable"]
        for dim, key in dim_keys:
            num: dict[str, np.ndarray] = {}
            den: dict[str, np.ndarray] = {}
            for f in rows:
                d = f["_audit"]["audited_on"]
                i = month_index.get((d.year, d.month))
                if i is None:
                    continue
                for lab in key(f):
                    num.setdefault(lab, np.zeros(len(ends)))
                    den.setdefault(lab, np.zeros(len(ends)))
                    den[lab][i] += 1
                    num[lab][i] += f["rating"] == "conformance"
            groups = {}
            for lab in den:
                rn = np.convolve(num[lab], np.ones(12))[: len(ends)]
                rd = np.convolve(den[lab], np.ones(12))[: len(ends)]
                groups[lab] = np.where(rd >= 5, 100 * rn / np.maximum(rd, 1), np.nan)
            obs.monthly(code, ends, dim, groups, digits=1)


def _firm_series(world: World, obs: _Obs) -> None:
    ends = _month_ends(date(2017, 9, 1))
    e = np.array([x.toordinal() for x in ends])
    active = np.array([[f["accredited_on"].toordinal() <= x and (f["accreditation_ended_on"] is None or
                                                                f["accreditation_ended_on"].toordinal() > x)
                        for x in e] for f in world.firms])
    obs.monthly("OP-05", ends, "total", {"all": active.sum(axis=0)})
    codes = sorted({c for f in world.firms for c in f["countries"]})
    cover = {c: np.zeros(len(ends), dtype=bool) for c in codes}
    for i, f in enumerate(world.firms):
        for c in f["countries"]:
            cover[c] |= active[i]
    obs.monthly("OP-06", ends, "total", {"all": np.sum([cover[c] for c in codes], axis=0)})
    groups: dict[str, np.ndarray] = {}
    for c in codes:
        r = region_of(c) or "Unknown"
        groups.setdefault(r, np.zeros(len(ends)))
        groups[r] += cover[c]
    obs.monthly("OP-06", ends, "region", groups)


def _training_series(training: list[dict], obs: _Obs) -> None:
    ends = _month_ends(date(2017, 10, 1))
    for code, audiences in (("OP-07", {"auditor"}), ("OP-08", {"member", "stakeholder"})):
        first: dict[str, dict] = {}
        for r in training:
            if r["audience"] in audiences and (r["person_ref"] not in first
                                               or r["completed_on"] < first[r["person_ref"]]["completed_on"]):
                first[r["person_ref"]] = r
        people = [first[p] for p in sorted(first)]
        dates = [p["completed_on"] for p in people]
        obs.monthly(code, ends, "total", _cum(dates, ends))
        obs.monthly(code, ends, "region", _cum(dates, ends, [[region_of(p["country"]) if p["country"] else "Unknown"]
                                                             for p in people]))
        obs.monthly(code, ends, "gender", _cum(dates, ends, [[p["_gender"]] for p in people]))
        known = [p for p in people if p["country"]]
        obs.monthly(code, ends, "country", _cum([p["completed_on"] for p in known], ends,
                                                [[p["country"]] for p in known]))


def _meeting_series(meetings: list[dict], obs: _Obs) -> None:
    for code, body, start in (("OP-09", "board", date(2016, 1, 1)), ("OP-10", "standards_committee",
                                                                       date(2016, 1, 1)),
                              ("OP-11", "ipaf", date(2015, 6, 1))):
        ends = _month_ends(start)
        obs.monthly(code, ends, "total", _cum([m["held_on"] for m in meetings if m["body"] == body], ends))


def _annual_series(world: World, obs: _Obs, emissions: list[dict], global_totals: list[dict],
                   fac: dict[str, dict]) -> None:
    rng = _rng(1)
    # Share of global production under CoC, by stage (as activity codes).
    glob = {(g["year"], g["stage"]): g["global_t"] for g in global_totals}
    out: dict[tuple[int, str], float] = defaultdict(float)
    for r in world.coc_reports:
        out[(r["reporting_year"], r["stage"])] += r["output_t"]
    stage_activity = {"bauxite_mining": "bauxite_mining", "alumina_refining": "alumina_refining",
                      "primary_production": "primary_production", "semi_fabrication": "semi_fabrication",
                      "material_conversion": "material_conversion", "recycling": "remelting_refining"}
    for year in range(2019, 2026):
        for stage in CocStage:
            share = 100 * out[(year, stage.value)] / glob[(year, stage.value)]
            obs.annual("ST-07", year, "activity", stage_activity[stage.value], share, provisional=year == 2025)
        obs.annual("ST-07", year, "total", "all", 100 * out[(year, "primary_production")]
                   / glob[(year, "primary_production")], provisional=year == 2025)
        obs.annual("MT-11", year, "total", "all", out[(year, "material_conversion")], provisional=year == 2025)

    # Smelter GHG intensity (PS-certified smelters in the year).
    certified_in: dict[int, set[str]] = defaultdict(set)
    for c in world.certifications:
        if c["standard"] == "PS":
            for y in range(c["issued_on"].year, min(c["expires_on"].year, 2025) + 1):
                certified_in[y].add(c["facility_id"])
    for year in range(2018, 2026):
        vals = [(e["ghg_intensity_t_per_t"], region_of(fac[e["facility_id"]]["country"])) for e in emissions
                if e["year"] == year and e["facility_id"] in certified_in[year]]
        if not vals:
            continue
        arr = np.array([v for v, _ in vals])
        obs.annual("MT-01", year, "total", "all", float(np.median(arr)), provisional=year == 2025)
        obs.annual("MT-02", year, "total", "all", 100 * float((arr < 8).mean()), provisional=year == 2025)
        for region in sorted({r for _, r in vals}):
            sub = np.array([v for v, r in vals if r == region])
            obs.annual("MT-01", year, "region", region, float(np.median(sub)), provisional=year == 2025)
            obs.annual("MT-02", year, "region", region, 100 * float((sub < 8).mean()), provisional=year == 2025)

    # Surveys (level 2) and evaluations (level 3).
    survey = {2021: 78.0, 2022: 83.0, 2023: 85.0, 2024: 84.0, 2025: 86.0}
    response = {2021: 38.0, 2022: 31.0, 2023: 34.0, 2024: 29.0, 2025: 33.0}
    classes = ["production_transformation", "industrial_users"]
    regions = ["Africa", "Asia", "Europe", "Latin America & Caribbean", "North America", "Oceania", "Middle East"]
    for year, value in survey.items():
        obs.annual("MT-09", year, "total", "all", value, provisional=year == 2025)
        obs.annual("MT-10", year, "total", "all", response[year], provisional=year == 2025)
        for cls in classes:
            obs.annual("MT-09", year, "membership_class", cls, float(np.clip(value + rng.normal(0, 4), 50, 100)),
                       provisional=year == 2025)
        for region in regions:
            obs.annual("MT-09", year, "region", region, float(np.clip(value + rng.normal(0, 6), 40, 100)),
                       provisional=year == 2025)
    for year, value in ((2021, 45.0), (2023, 52.0), (2025, 58.0)):
        obs.annual("IM-01", year, "total", "all", value, provisional=year == 2025)
        for p in (5, 6, 7, 8):
            obs.annual("IM-01", year, "principle", str(p), float(np.clip(value + rng.normal(0, 7), 10, 95)),
                       provisional=year == 2025)
    for year, value in ((2020, 52.0), (2022, 57.0), (2024, 61.0)):
        obs.annual("IM-02", year, "total", "all", value, provisional=False)
        for region in regions:
            obs.annual("IM-02", year, "region", region, float(np.clip(value + rng.normal(0, 8), 20, 95)),
                       provisional=False)
    for year, value in ((2022, 41.0), (2025, 47.0)):
        obs.annual("IM-03", year, "total", "all", value, provisional=year == 2025)
        for g, dv in (("female", -3.0), ("male", 2.0)):
            obs.annual("IM-03", year, "gender", g, value + dv, provisional=year == 2025)


# --------------------------------------------------------------------------- training, governance, evidence

_COURSES = {
    "auditor": ["ASI Auditor Training: Performance Standard", "ASI Auditor Training: Chain of Custody Standard",
                "Auditor refresher: 2022 Standards", "Auditing human rights due diligence"],
    "member": ["Introduction to ASI Certification", "Performance Standard overview", "Chain of Custody fundamentals",
               "GHG emissions requirements", "Human rights due diligence", "Biodiversity and rehabilitation",
               "CoC material accounting", "What changed in the 2022 Standards"],
    "stakeholder": ["ASI for civil society", "FPIC and Indigenous Peoples", "How ASI certification works"],
}


def _training(world: World) -> list[dict]:
    rng = _rng(2)
    fac_countries = [f["country"] for f in world.facilities]
    rows = []
    person = 0
    yearly = {"auditor": {2017: 18, 2018: 55, 2019: 45, 2020: 40, 2021: 48, 2022: 62, 2023: 55, 2024: 50,
                          2025: 52, 2026: 38},
              "member": {2017: 40, 2018: 320, 2019: 380, 2020: 520, 2021: 610, 2022: 680, 2023: 640, 2024: 600,
                         2025: 620, 2026: 470},
              "stakeholder": {2017: 5, 2018: 40, 2019: 55, 2020: 70, 2021: 85, 2022: 90, 2023: 80, 2024: 75,
                              2025: 80, 2026: 60}}
    for audience, per_year in yearly.items():
        for year, n in per_year.items():
            start = date(2017, 10, 2) if year == 2017 else date(year, 1, 2)
            end = min(date(year, 12, 20), AS_OF)
            for _ in range(n):
                person += 1
                ref = f"P{person:05d}"
                gender = "female" if rng.random() < (0.28 if audience == "auditor" else 0.38) else "male"
                country = fac_countries[int(rng.integers(len(fac_countries)))] if rng.random() > 0.06 else None
                first = start + timedelta(days=int(rng.integers(0, (end - start).days + 1)))
                courses = _COURSES[audience]
                k = int(rng.integers(1, min(3, len(courses)) + 1))
                for j, course in enumerate(sorted(str(c) for c in rng.choice(courses, size=k, replace=False))):
                    done = first + timedelta(days=int(j * rng.integers(10, 200)))
                    if done > AS_OF:
                        continue
                    rows.append({"person_ref": ref, "audience": audience, "course": course, "completed_on": done,
                                 "country": country, "_gender": gender})
    rows.sort(key=lambda r: (r["completed_on"], r["person_ref"], r["course"]))
    for i, r in enumerate(rows, start=1):
        r["record_id"] = f"TR-{i:06d}"
    return rows


_PLACES = ["Melbourne", "London", "Montreal", "Zurich", "Rotterdam", "Singapore", "Düsseldorf", "Brisbane",
           "Rio de Janeiro", "Oslo", "Dubai", "Shanghai"]
_IPAF_PLACES = ["Weipa", "Nhulunbuy", "Ranchi", "Boké", "Paragominas", "Kuantan", "Kitimat", "Mandurah",
                "Alma", "Conakry", "Koraput", "Belém"]


def _meetings() -> list[dict]:
    rng = _rng(3)
    rows = []
    for year in range(2015, 2027):
        last_month = 10 if year == 2026 else 12
        if year >= 2016:
            board_n = 6 if year <= 2017 else int(rng.integers(4, 7))
            sc_n = int(rng.integers(7, 10)) if year in (2020, 2021, 2022) else int(rng.integers(4, 6))
            for body, n in (("board", board_n), ("standards_committee", sc_n)):
                months = sorted(int(m) for m in rng.choice(np.arange(1, last_month + 1), size=min(n, last_month),
                                                            replace=False))
                for m in months:
                    day = int(rng.integers(3, 27))
                    virtual = year in (2020, 2021) or rng.random() < 0.5
                    rows.append({"body": body, "held_on": date(year, m, day),
                                 "location": "virtual" if virtual else str(rng.choice(_PLACES))})
        ipaf_n = 2 if year in (2019, 2023) else 1
        for k in range(ipaf_n):
            m = int(rng.integers(3, 7)) if k == 0 else int(rng.integers(8, 11))
            if year == 2015:
                m = 11
            rows.append({"body": "ipaf", "held_on": date(year, m, int(rng.integers(3, 27))),
                         "location": "virtual" if year in (2020, 2021) else str(rng.choice(_IPAF_PLACES))})
    rows = [r for r in rows if r["held_on"] <= AS_OF]
    rows.sort(key=lambda r: (r["held_on"], r["body"]))
    for i, r in enumerate(rows, start=1):
        r["meeting_id"] = f"GM-{i:04d}"
    return rows


_EVIDENCE: list[tuple[str, str, str, str, str | None, str | None, str, str, list[str]]] = [
    ("evaluation", "Baseline study of certification uptake among upstream producers (demo)", "completed",
     "2020-02-01", "2020-11-30", "Fernbrook Evaluation Partners (fictitious)",
     "Documents management practices at bauxite mines and refineries before and after their first certification.",
     ["ST-IMPLEMENT", "MT-BIODIV"]),
    ("evaluation", "Outcome evaluation: non-conformance follow-up and continual improvement (demo)", "completed",
     "2021-01-15", "2021-09-30", "Larchmont Research Group (fictitious)",
     "Examines how entities close non-conformances between audits and what helps them do so.",
     ["ST-IMPROVE", "ST-ASSURANCE"]),
    ("evaluation", "GHG intensity pathways of certified smelters (demo)", "completed", "2021-06-01", "2022-05-31",
     "Quillfield Climate Analytics (fictitious)",
     "Compares scope 1+2 intensity of certified and non-certified smelters against the 8 t CO2e/t threshold.",
     ["MT-CLIMATE"]),
    ("evaluation", "FPIC practice at certified mines: community perspectives (demo)", "completed", "2022-02-01",
     "2023-03-31", "Vennmoor Social Research (fictitious)",
     "Community interviews near certified mines on consultation, consent and grievance mechanisms.",
     ["MT-RIGHTS", "ST-VOICE"]),
    ("evaluation", "Business benefits of ASI certification for SMEs (demo)", "completed", "2023-01-10",
     "2023-10-31", "Harbourline Economics (fictitious)",
     "Survey and case studies on market access, customer requests and costs of certification for small members.",
     ["MT-SOURCING"]),
    ("evaluation", "Bauxite residue management practices (demo)", "ongoing", "2025-03-01", None,
     "Greywell Environmental Research (fictitious)",
     "Will assess residue storage, rehabilitation and reuse at certified refineries.", ["MT-WASTE"]),
    ("evaluation", "Stakeholder perception of aluminium sustainability credentials (demo)", "ongoing", "2025-09-01",
     None, "Brightmoor Insights (fictitious)",
     "Repeat perception study among NGOs, investors and customers.", ["MT-TRUST", "I-REPUTATION"]),
    ("evaluation", "Material stewardship and eligible scrap flows (demo)", "planned", None, None, None,
     "Will trace eligible scrap through recyclers and semi-fabricators under the CoC Standard.",
     ["MT-STEWARD", "ST-COCAVAIL"]),
    ("evaluation", "Impact evaluation of the 2022 Standards revision (demo)", "planned", None, None, None,
     "Will compare audit findings before and after the transition to the 2022 Standards.",
     ["O-STANDARDS", "I-STANDARDS"]),
    ("story_of_change", "A mine rehabilitation plan shaped with traditional owners (demo)", "completed",
     "2019-05-01", "2019-09-15", "ASI Secretariat (demo)",
     "How a fictitious mine worked with traditional owners on rehabilitation targets.", ["MT-BIODIV"]),
    ("story_of_change", "From provisional to full certification in twelve months (demo)", "completed",
     "2019-11-01", "2020-03-20", "ASI Secretariat (demo)",
     "A fictitious smelter closed a major non-conformance on emergency preparedness.", ["ST-IMPROVE"]),
    ("story_of_change", "Bringing a water balance into the management system (demo)", "completed", "2020-06-01",
     "2020-10-12", "ASI Secretariat (demo)",
     "A fictitious refinery built a site water balance to meet Principle 7.", ["MT-WASTE"]),
    ("story_of_change", "An extruder's first Chain of Custody shipment (demo)", "completed", "2020-09-01",
     "2021-01-25", "ASI Secretariat (demo)",
     "A fictitious extruder sold its first ASI Aluminium to a building-systems customer.", ["ST-COCAVAIL",
                                                                                            "MT-SOURCING"]),
    ("story_of_change", "Training supervisors on human rights due diligence (demo)", "completed", "2021-03-01",
     "2021-07-08", "ASI Secretariat (demo)",
     "A fictitious packaging plant trained supervisors through educationAl.", ["ST-CAPACITY", "MT-RIGHTS"]),
    ("story_of_change", "A recycler's route to eligible scrap (demo)", "completed", "2021-08-01", "2021-12-02",
     "ASI Secretariat (demo)", "A fictitious recycler set up CoC controls for eligible scrap.", ["MT-STEWARD"]),
    ("story_of_change", "Cutting smelter emissions with a new power contract (demo)", "completed", "2022-01-10",
     "2022-06-14", "ASI Secretariat (demo)",
     "A fictitious smelter moved below the 8 t CO2e/t threshold.", ["MT-CLIMATE"]),
    ("story_of_change", "An Indigenous-led grievance mechanism (demo)", "completed", "2022-07-01", "2022-11-28",
     "ASI Secretariat (demo)", "A fictitious mine co-designed its grievance mechanism with IPAF advice.",
     ["ST-VOICE", "MT-RIGHTS"]),
    ("story_of_change", "Small supplier, big customer: certification as a door-opener (demo)", "completed",
     "2023-02-01", "2023-06-28", "ASI Secretariat (demo)",
     "A fictitious small converter won a new customer after certification.", ["MT-SOURCING"]),
    ("story_of_change", "Safety leadership at a casthouse (demo)", "completed", "2023-09-01", "2024-01-30",
     "ASI Secretariat (demo)", "A fictitious casthouse reduced lost-time injuries.", ["MT-RIGHTS"]),
    ("story_of_change", "Restoring wetlands near a refinery (demo)", "completed", "2024-04-01", "2024-09-17",
     "ASI Secretariat (demo)", "A fictitious refinery's biodiversity offset project.", ["MT-BIODIV"]),
    ("story_of_change", "Auditors learning from each other (demo)", "completed", "2024-10-01", "2025-02-11",
     "ASI Secretariat (demo)", "Peer learning among auditors of fictitious firms.", ["O-ASSURANCE",
                                                                                     "ST-ASSURANCE"]),
    ("story_of_change", "Tracing ASI Aluminium into bicycles (demo)", "ongoing", "2026-03-01", None,
     "ASI Secretariat (demo)", "A fictitious bicycle maker sourcing ASI Aluminium.", ["MT-SOURCING",
                                                                                      "I-UPTAKE"]),
]


def _evidence() -> list[dict]:
    rows = []
    for i, (kind, title, status, started, completed, author, summary, nodes) in enumerate(_EVIDENCE, start=1):
        rows.append({"evidence_id": f"EV-{i:03d}", "kind": kind, "title": title, "status": status,
                     "started_on": date.fromisoformat(started) if started else None,
                     "completed_on": date.fromisoformat(completed) if completed else None,
                     "author": author, "summary": summary, "url": None, "toc_node_ids": nodes})
    return rows


# What completed evaluations (and two Stories of Change) found about the outcomes and indicators they
# evidence: (evidence number in _EVIDENCE, node, indicator or None, bearing, finding). Fictitious.
_FINDINGS: list[tuple[int, str, str | None, str, str]] = [
    (1, "ST-IMPLEMENT", "ST-08", "confirms",
     "Conformance with PS criteria rose between the pre-certification baseline and the first surveillance audit "
     "at most mines and refineries studied."),
    (1, "MT-BIODIV", "MT-03", "questions",
     "Biodiversity management improved on paper, but few sites monitored outcomes on the ground; conformance "
     "with the criteria may overstate the change."),
    (2, "ST-IMPROVE", "ST-03", "confirms",
     "Most non-conformances were closed by the next audit, helped by corrective-action plans agreed at the "
     "closing meeting."),
    (2, "ST-ASSURANCE", "ST-06", "questions",
     "Provisional certifications after a major non-conformance were closed unevenly across auditing firms, "
     "which questions how consistent assurance is."),
    (3, "MT-CLIMATE", "MT-01", "confirms",
     "Certified smelters' scope 1+2 intensity fell faster than that of comparable non-certified smelters."),
    (3, "MT-CLIMATE", "MT-02", "questions",
     "Most of the smelters below 8 t CO2e/t were already below it before certification: the share reflects "
     "who certifies more than what certification changed."),
    (4, "MT-RIGHTS", "IM-03", "confirms",
     "Community members near certified mines more often reported being consulted before decisions that "
     "affected them."),
    (4, "ST-VOICE", "OP-11", "questions",
     "IPAF meetings were valued, but interviewees rarely saw their advice reflected in site decisions; "
     "meetings held may not measure voice."),
    (5, "MT-SOURCING", "MT-09", "confirms",
     "Small members reported more customer requests for certified material after certification."),
    (5, "MT-SOURCING", None, "questions",
     "Few small members could name a price premium: customers ask for certified material but seldom pay more "
     "for it."),
    (11, "ST-IMPROVE", "ST-03", "confirms",
     "A major non-conformance on emergency preparedness was closed within the provisional year."),
    (21, "ST-ASSURANCE", None, "confirms",
     "Peer learning between auditors of different firms aligned how they rated the same criteria."),
]

# The assumptions the demo Theory of Change rests on: (node, assumption, status, evidence number or None).
_ASSUMPTIONS: list[tuple[str, str, str, int | None]] = [
    ("ST-IMPLEMENT", "Members certify the operations where the largest risks lie, not only the easiest ones.",
     "questioned", 1),
    ("ST-IMPROVE", "Auditors find and rate non-conformances consistently across firms and countries.",
     "questioned", 2),
    ("MT-CLIMATE", "Certified smelters can change their power supply within the standard's timeframes.",
     "holds", 3),
    ("MT-RIGHTS", "Communities near certified sites are able to raise concerns without fear of reprisal.",
     "holds", 4),
    ("MT-SOURCING", "Downstream customers value certified material enough to prefer or pay for it.",
     "questioned", 5),
    ("I-UPTAKE", "Demand for responsibly produced aluminium keeps growing across end-use sectors.", "untested", None),
    ("MT-STEWARD", "Scrap flows can be traced reliably enough to count eligible scrap in the chain of custody.",
     "untested", None),
    ("I-REPUTATION", "Stakeholders judge aluminium by what certification shows, not only by sector averages.",
     "untested", None),
]


def _evidence_findings() -> list[dict]:
    rows: list[dict] = []
    numbers: dict[int, int] = {}
    for evidence, node, indicator, bearing, finding in _FINDINGS:
        nodes = _EVIDENCE[evidence - 1][-1]
        if node not in nodes:
            raise ValueError(f"Demo finding of EV-{evidence:03d} names {node}, which that evidence does not cover.")
        numbers[evidence] = numbers.get(evidence, 0) + 1
        rows.append({"evidence_id": f"EV-{evidence:03d}", "finding_no": numbers[evidence], "finding": finding,
                     "toc_node_id": node, "indicator_code": indicator, "bearing": bearing})
    return rows


def _toc_assumptions() -> list[dict]:
    return [{"assumption_id": f"A-{i:02d}", "toc_node_id": node, "assumption": text, "status": status,
             "evidence_id": f"EV-{evidence:03d}" if evidence else None}
            for i, (node, text, status, evidence) in enumerate(_ASSUMPTIONS, start=1)]


# --------------------------------------------------------------------------- global totals and emissions


def _global_totals() -> list[dict]:
    rows = []
    for stage, values in GLOBAL_T.items():
        for k, v in enumerate(values):
            rows.append({"year": 2017 + k, "stage": stage.value, "global_t": round(v * 1e6, 1), "source": IAI_SOURCE})
    return rows


_GRID_INTENSITY = {  # (low, high) t CO2e/t Al by smelter country
    "NO": (1.6, 3.0), "IS": (1.5, 2.5), "CA": (1.8, 3.5), "BR": (2.5, 5.0), "FR": (2.5, 4.0), "SE": (2.0, 3.5),
    "NZ": (2.0, 3.0), "GB": (2.5, 5.0), "AR": (3.0, 5.5), "MZ": (3.0, 6.0), "CM": (2.5, 4.5), "GH": (4.0, 7.0),
    "EG": (6.5, 9.0), "MY": (3.0, 6.5), "ES": (5.0, 8.5), "AE": (7.4, 9.5), "BH": (8.0, 9.8), "QA": (7.5, 9.0),
    "OM": (7.8, 9.6), "SA": (8.5, 11.0), "CN": (4.0, 16.0), "IN": (15.0, 20.0), "ZA": (14.0, 17.5),
    "AU": (11.0, 17.0), "US": (6.0, 12.0), "DE": (6.5, 10.0), "ID": (3.5, 7.5), "NL": (6.0, 9.0),
    "SK": (4.0, 7.0), "SI": (5.0, 8.0), "RO": (6.0, 9.5), "GR": (7.0, 10.0), "TR": (8.0, 12.0), "BA": (9.0, 13.0),
    "NG": (8.0, 12.0), "AT": (3.0, 5.0),
}


def _smelter_emissions(world: World) -> list[dict]:
    rng = _rng(4)
    certified = {c["facility_id"] for c in world.certifications if c["standard"] == "PS"}
    rows = []
    for f in world.facilities:
        if "primary_production" not in f["activities"]:
            continue
        if f["facility_id"] not in certified and rng.random() < 0.45:
            continue  # no data for this smelter
        lo, hi = _GRID_INTENSITY.get(f["country"], (6.0, 12.0))
        if f["country"] == "CN" and f["latitude"] is not None and f["latitude"] < 27:
            lo, hi = 3.0, 6.5  # Yunnan hydropower
        level = float(rng.uniform(lo, hi))
        trend = float(rng.uniform(0.0, 0.03))
        for year in range(2018, 2026):
            value = level * (1 - trend) ** (year - 2018) * float(rng.normal(1, 0.02))
            rows.append({"facility_id": f["facility_id"], "year": year,
                         "ghg_intensity_t_per_t": round(float(np.clip(value, 1.5, 20.0)), 2),
                         "source": "CRU Emissions Analysis Tool (demo values)"})
    return rows


def build_extra(world: World) -> dict[str, list[dict]]:
    """Rows for every table beyond members, facilities, certifications, audits, findings and CoC reports."""
    nodes, edges = _toc()
    training = _training(world)
    meetings = _meetings()
    emissions = _smelter_emissions(world)
    global_totals = _global_totals()
    observations = _observations(world, training, meetings, emissions, global_totals)
    observations.sort(key=lambda r: (r["indicator_code"], r["period_on"], r["dimension"], r["dimension_value"]))
    return {
        "toc_nodes": nodes, "toc_edges": edges, "indicators": _indicators(),
        "indicator_observations": observations, "training_records": training, "governance_meetings": meetings,
        "evidence": _evidence(), "evidence_findings": _evidence_findings(), "toc_assumptions": _toc_assumptions(),
        "global_totals": global_totals, "smelter_emissions": emissions,
    }


__all__ = ["build_extra"]
