"""The deterministic demo dataset: every table of the contract, shaped like ASI's published history.

`write_demo(data_dir)` builds all tables from a seeded numpy Generator and writes them
as one snapshot. Company and facility names are fictitious; places, global totals
and ASI's published counts (members, certificates, countries, CoC reporters) are
calibrated to the figures in docs/demo-data.md. `SEEDED_CASES` names the awkward
records the screens must handle, so tests can find them without hard-coding.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import arrow_schema, write_snapshot
from asi_me.data.vocab import (
    COC_YIELD_FACTOR,
    Activity,
    CocMaterial,
    CocStage,
    MembershipClass,
    countries,
)
from asi_me.demo import series as demo_extra
from asi_me.demo import sites as demo_sites
from asi_me.demo.risks import risk_rows
from asi_me.demo.world import SEED, World, next_audits

AS_OF = date(2026, 10, 31)
FIXED_TIME = "2026-11-01T00:00:00+00:00"
NOTE = "ASI demo dataset (fictitious names)"

# Net members at month ends (exact), then ~15-20 %/yr growth.
MEMBER_ANCHORS: list[tuple[date, int]] = [
    (date(2015, 6, 30), 13),
    (date(2017, 2, 28), 46),
    (date(2017, 12, 31), 56),
    (date(2020, 3, 31), 118),
    (date(2021, 11, 30), 200),
    (date(2022, 8, 31), 251),
    (date(2022, 12, 31), 262),
    (date(2023, 12, 31), 318),
    (date(2024, 12, 31), 372),
    (date(2025, 12, 31), 431),
    (date(2026, 10, 31), 476),
]

# Certification rows issued per calendar year (new, recertification and provisional -> full).
PS_ISSUED: dict[int, int] = {2018: 20, 2019: 24, 2020: 30, 2021: 44, 2022: 47, 2023: 70, 2024: 76, 2025: 82, 2026: 66}
COC_ISSUED: dict[int, int] = {2018: 3, 2019: 11, 2020: 17, 2021: 17, 2022: 19, 2023: 48, 2024: 40, 2025: 44, 2026: 52}
# New PS chains that start provisional (major NC at the first audit): 9 entities by mid-2022.
PS_PROVISIONAL_NEW: dict[int, int] = {2018: 1, 2019: 2, 2020: 3, 2021: 2, 2022: 1, 2023: 3, 2024: 2, 2025: 3, 2026: 2}
COUNTRIES_DATE = date(2021, 2, 28)
COUNTRIES_TARGET = 34
VERSION_CHANGE_ON = date(2023, 7, 1)

# CoC reporting entities per year that must hold exactly.
COC_REPORTERS: dict[int, int] = {2019: 13, 2020: 27, 2023: 82}
COC_YEARS = range(2019, 2026)

# CoC stage output totals (t) per year, and the share of each stage's output received downstream.
STAGE_OUTPUT_T: dict[CocStage, dict[int, float]] = {
    CocStage.BAUXITE_MINING: {2019: 40e6, 2020: 58.5e6, 2021: 103e6, 2022: 98e6, 2023: 104e6, 2024: 106e6, 2025: 108e6},
    CocStage.ALUMINA_REFINING: {2019: 5.5e6, 2020: 9.45e6, 2021: 27e6, 2022: 24.5e6, 2023: 24e6, 2024: 25e6,
                                2025: 26e6},
    CocStage.PRIMARY_PRODUCTION: {2019: 1.2e6, 2020: 1.96e6, 2021: 4.03e6, 2022: 4.3e6, 2023: 4.8e6, 2024: 5.2e6,
                                  2025: 5.6e6},
    CocStage.RECYCLING: {2019: 0.2e6, 2020: 0.31e6, 2021: 0.66e6, 2022: 0.75e6, 2023: 1.1e6, 2024: 1.25e6, 2025: 1.4e6},
}
# Share of an upstream stage's output that arrives as input at the next CoC stage.
PASS_ON: dict[str, dict[int, float]] = {
    "bauxite_to_refining": {2019: 0.5, 2020: 0.5, 2021: 0.70, 2022: 0.70, 2023: 0.71, 2024: 0.72, 2025: 0.72},
    "alumina_to_smelting": {2019: 0.5, 2020: 0.5, 2021: 0.85, 2022: 0.85, 2023: 0.86, 2024: 0.86, 2025: 0.87},
    "primary_to_semis": {2019: 0.5, 2020: 0.5, 2021: 1 / 3, 2022: 0.35, 2023: 0.36, 2024: 0.37, 2025: 0.38},
    "semis_to_conversion": {2019: 0.5, 2020: 0.5, 2021: 0.5, 2022: 0.5, 2023: 0.5, 2024: 0.5, 2025: 0.5},
}


# The awkward records the screens must handle. The ids are produced by the generator;
# tests/test_demo.py checks that this constant matches what `seeded_cases(build_world())` finds.
SEEDED_CASES: dict[str, object] = {
    "facilities_without_coordinates": 30,
    "certified_facilities_without_coordinates": 8,
    "few_reporters": {"reporting_year": 2019, "stage": "material_conversion", "companies": 1},
    "dominant_reporter": {"reporting_year": 2021, "stage": "semi_fabrication", "member_id": "M0050"},
    "mass_balance_failure": {"facility_id": "F0055", "reporting_year": 2022, "stage": "semi_fabrication",
                             "material": "asi_aluminium"},
    "late_report": {"facility_id": "F0084", "reporting_year": 2023, "submitted_on": "2024-06-23",
                    "due_on": "2024-05-31"},
    "zero_volume_line": {"facility_id": "F0003", "reporting_year": 2020, "stage": "recycling",
                         "material": "eligible_scrap"},
    "provisional_certification": "PS-2026-004",
    "suspended_certification": "PS-2018-014",
    "withdrawn_certification": "PS-2018-004",
    "expired_certification": "PS-2018-001",
    "version_change": {"on": VERSION_CHANGE_ON.isoformat(), "PS": ["PS-2017", "PS-2022"],
                       "CoC": ["CoC-2017", "CoC-2022"]},
}


def _rng(part: int) -> np.random.Generator:
    """A generator per part, so refining one table does not reshuffle the others."""
    return np.random.default_rng([SEED, part])


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _months(start: date, end: date) -> list[tuple[int, int]]:
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _rand_day(rng: np.random.Generator, year: int, month: int) -> date:
    return date(year, month, int(rng.integers(1, calendar.monthrange(year, month)[1] + 1)))


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


# --------------------------------------------------------------------------- members




_CLASS_MIX_EARLY = {
    MembershipClass.PRODUCTION_TRANSFORMATION: 0.44, MembershipClass.INDUSTRIAL_USERS: 0.2,
    MembershipClass.DOWNSTREAM_SUPPORTERS: 0.06, MembershipClass.CIVIL_SOCIETY: 0.13,
    MembershipClass.ASSOCIATIONS: 0.11, MembershipClass.GENERAL_SUPPORTERS: 0.06,
}
_CLASS_MIX_LATE = {
    MembershipClass.PRODUCTION_TRANSFORMATION: 0.42, MembershipClass.INDUSTRIAL_USERS: 0.25,
    MembershipClass.DOWNSTREAM_SUPPORTERS: 0.12, MembershipClass.CIVIL_SOCIETY: 0.06,
    MembershipClass.ASSOCIATIONS: 0.06, MembershipClass.GENERAL_SUPPORTERS: 0.09,
}
_FOUNDERS = [MembershipClass.PRODUCTION_TRANSFORMATION] * 6 + [MembershipClass.INDUSTRIAL_USERS] * 3 + [
    MembershipClass.CIVIL_SOCIETY, MembershipClass.CIVIL_SOCIETY, MembershipClass.ASSOCIATIONS,
    MembershipClass.DOWNSTREAM_SUPPORTERS,
]
# Producer segments: which site kinds their facilities use.
_SEGMENT_KINDS = {"integrated": "BAS", "upstream": "BA", "smelter": "SSR", "semis": "FFFR", "recycler": "RF",
                  "converter": "MMF", "user": "M"}
# Where PS certifications concentrate (ASI newsletter, Nov 2022: top countries by incidence).
_COUNTRY_WEIGHT = {"DE": 4.5, "CN": 4.0, "US": 3.0, "IT": 4.5, "BR": 2.5, "AU": 0.7, "FR": 1.8, "AT": 1.8, "ES": 1.7,
                   "GB": 1.7, "CA": 1.5, "NO": 1.5, "CH": 1.5, "SE": 1.5}
_SEGMENT_P = {"upstream": 0.09, "integrated": 0.05, "smelter": 0.17, "semis": 0.37, "recycler": 0.12,
              "converter": 0.20}
_NO_FACILITY = {MembershipClass.CIVIL_SOCIETY, MembershipClass.ASSOCIATIONS, MembershipClass.GENERAL_SUPPORTERS,
                MembershipClass.DOWNSTREAM_SUPPORTERS}


def _member_join_plan(rng: np.random.Generator) -> tuple[list[date], list[date]]:
    """Join dates and leave dates (month by month) that hit the anchors exactly."""
    months = _months(date(2015, 6, 1), AS_OF)
    leavers = np.zeros(len(months), dtype=int)
    for i, (y, _m) in enumerate(months):
        if y >= 2018:
            leavers[i] = rng.poisson(0.11 if y < 2022 else 0.2)
    joins = np.zeros(len(months), dtype=int)
    joins[0] = MEMBER_ANCHORS[0][1]
    index = {ym: i for i, ym in enumerate(months)}
    for (d0, n0), (d1, n1) in pairwise(MEMBER_ANCHORS):
        lo, hi = index[(d0.year, d0.month)] + 1, index[(d1.year, d1.month)] + 1
        total = n1 - n0 + int(leavers[lo:hi].sum())
        weights = rng.gamma(3.0, 1.0, hi - lo)
        joins[lo:hi] = rng.multinomial(total, weights / weights.sum())
    join_dates = [date(2015, 6, int(d)) for d in sorted(rng.integers(1, 31, joins[0]))]
    leave_months = []
    for i, (y, m) in enumerate(months[1:], start=1):
        join_dates += sorted(_rand_day(rng, y, m) for _ in range(joins[i]))
        leave_months += [(y, m)] * int(leavers[i])
    return join_dates, leave_months


def _make_members(world: World) -> None:
    rng = _rng(1)
    join_dates, leave_months = _member_join_plan(rng)
    classes = list(_CLASS_MIX_LATE)
    used_names: set[str] = set()
    site_rows = demo_sites.sites()
    pt_rank = 0
    for i, joined in enumerate(join_dates):
        if i < len(_FOUNDERS):
            cls = _FOUNDERS[i]
        else:
            mix = _CLASS_MIX_EARLY if joined.year < 2018 else _CLASS_MIX_LATE
            cls = classes[int(rng.choice(len(classes), p=np.array([mix[c] for c in classes])))]
        member_id = f"M{i + 1:04d}"
        if cls == MembershipClass.PRODUCTION_TRANSFORMATION:
            forced = {0: "integrated", 1: "integrated", 2: "upstream", 3: "smelter", 5: "integrated", 7: "upstream",
                      9: "upstream", 12: "upstream", 15: "smelter", 18: "upstream", 22: "recycler",
                      26: "upstream", 30: "recycler", 33: "upstream"}
            segment = forced.get(pt_rank) or str(rng.choice(list(_SEGMENT_P), p=np.array(list(_SEGMENT_P.values()))))
            pt_rank += 1
        elif cls == MembershipClass.INDUSTRIAL_USERS:
            segment = "user"
        else:
            segment = "none"
        world.member_segment[member_id] = segment
        if segment == "none":
            country = str(rng.choice(["DE", "GB", "US", "NL", "CH", "FR", "AU", "CA", "BE", "JP", "CN", "IN", "BR",
                                      "GN", "NO", "IT", "SE", "ZA", "GH", "JM"]))
        else:
            kinds = _SEGMENT_KINDS[segment]
            options = [s for s in site_rows if kinds[0] in s[4]]
            country = options[int(rng.integers(len(options)))][0]
        name = _member_name(rng, cls, used_names)
        world.members.append({"member_id": member_id, "name": name, "membership_class": cls.value,
                              "country": country, "joined_on": joined, "left_on": None})
    # Leavers: members without facilities, at least a year after joining.
    for y, m in leave_months:
        month_start = date(y, m, 1)
        pool = [r for r in world.members if r["left_on"] is None
                and MembershipClass(r["membership_class"]) in _NO_FACILITY
                and r["joined_on"] <= month_start - timedelta(days=365)]
        if pool:
            chosen = pool[int(rng.integers(len(pool)))]
            chosen["left_on"] = _rand_day(rng, y, m)


def _member_name(rng: np.random.Generator, cls: MembershipClass, used: set[str]) -> str:
    second = {
        MembershipClass.PRODUCTION_TRANSFORMATION: demo_sites.NAME_SECOND_PRODUCER,
        MembershipClass.INDUSTRIAL_USERS: demo_sites.NAME_SECOND_USER,
        MembershipClass.DOWNSTREAM_SUPPORTERS: demo_sites.NAME_SECOND_DOWNSTREAM,
        MembershipClass.CIVIL_SOCIETY: demo_sites.CIVIL_SOCIETY,
        MembershipClass.ASSOCIATIONS: demo_sites.ASSOCIATIONS,
        MembershipClass.GENERAL_SUPPORTERS: demo_sites.GENERAL_SUPPORTERS,
    }[cls]
    for _ in range(1000):
        name = f"{rng.choice(demo_sites.NAME_FIRST)} {rng.choice(second)}"
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("Ran out of fictitious names; extend demo_sites.NAME_FIRST.")


# --------------------------------------------------------------------------- facilities

_KIND_NAME = {"B": "Mine", "A": "Refinery", "S": "Smelter", "R": "Recycling Centre", "F": "Mill", "M": "Plant"}
_KIND_WORKERS = {"B": (300, 3200), "A": (500, 2600), "S": (400, 3800), "R": (40, 600), "F": (100, 2200),
                 "M": (20, 1500)}
_FACILITY_COUNT = {"integrated": (6, 14), "upstream": (2, 5), "smelter": (2, 6), "semis": (2, 6),
                   "recycler": (1, 4), "converter": (1, 4), "user": (1, 4)}


def _activities(rng: np.random.Generator, kind: str, site_kinds: str, segment: str) -> list[str]:
    a = Activity
    if kind == "B":
        acts = [a.BAUXITE_MINING] + ([a.ALUMINA_REFINING] if "A" in site_kinds and rng.random() < 0.4 else [])
    elif kind == "A":
        acts = [a.ALUMINA_REFINING]
    elif kind == "S":
        acts = [a.PRIMARY_PRODUCTION, a.CASTHOUSE] + ([a.REMELTING_REFINING] if rng.random() < 0.2 else [])
    elif kind == "R":
        acts = [a.REMELTING_REFINING] + ([a.CASTHOUSE] if rng.random() < 0.4 else [])
    elif kind == "F":
        acts = [a.SEMI_FABRICATION] + ([a.REMELTING_REFINING] if rng.random() < 0.35 else [])
    else:
        first = a.MATERIAL_CONVERSION if rng.random() < 0.6 else a.OTHER_MANUFACTURING
        acts = [first] + ([a.SALE_OF_PRODUCTS] if segment == "user" and rng.random() < 0.5 else [])
    return [x.value for x in acts]


def _make_facilities(world: World) -> None:
    rng = _rng(2)
    site_rows = demo_sites.sites()
    used_names: set[str] = set()
    site_use: dict[str, int] = defaultdict(int)
    n = 0
    for member in world.members:
        segment = world.member_segment[member["member_id"]]
        if segment == "none":
            continue
        kinds = _SEGMENT_KINDS[segment]
        lo, hi = _FACILITY_COUNT[segment]
        count = int(rng.integers(lo, hi + 1))
        for k in range(count):
            kind = kinds[k % len(kinds)] if k < len(kinds) else kinds[int(rng.integers(len(kinds)))]
            options = [s for s in site_rows if kind in s[4]]
            home = [s for s in options if s[0] == member["country"]]
            pick = home if home and rng.random() < 0.65 else options
            # Prefer towns not used yet, so every industrial region appears.
            w = np.array([1.0 if site_use[s[1]] else 6.0 for s in pick])
            country, town, lat, lon, site_kinds = pick[int(rng.choice(len(pick), p=w / w.sum()))]
            site_use[town] += 1
            n += 1
            first_word = member["name"].split()[0]
            name = f"{first_word} {town} {_KIND_NAME[kind]}"
            while name in used_names:
                name += " II"
            used_names.add(name)
            lo_w, hi_w = _KIND_WORKERS[kind]
            workers = int(np.clip(rng.lognormal(np.log((lo_w + hi_w) / 3), 0.5), 20, 6000))
            world.facilities.append({
                "_town": town, "_first_word": first_word,
                "facility_id": f"F{n:04d}", "member_id": member["member_id"], "name": name, "country": country,
                "latitude": round(lat + float(rng.normal(0, 0.06)), 4),
                "longitude": round(lon + float(rng.normal(0, 0.06)), 4),
                "activities": _activities(rng, kind, site_kinds, segment), "workers": workers,
                "_kind": kind,
            })


def _cover_upstream_sites(world: World) -> None:
    """Every real mine, refinery and smelter town gets at least one facility (moved from a crowded town)."""
    rng = _rng(12)
    for country, town, lat, lon, kinds in demo_sites.sites():
        for kind in "BAS":
            if kind not in kinds or any(f["_town"] == town and f["_kind"] == kind for f in world.facilities):
                continue
            crowd: dict[str, int] = defaultdict(int)
            for f in world.facilities:
                crowd[f["_town"]] += 1
            donors = [f for f in world.facilities if f["_kind"] == kind and crowd[f["_town"]] >= 3]
            if not donors:
                continue
            f = donors[int(rng.integers(len(donors)))]
            f.update({"_town": town, "country": country, "latitude": round(lat + float(rng.normal(0, 0.06)), 4),
                      "longitude": round(lon + float(rng.normal(0, 0.06)), 4),
                      "name": f"{f['_first_word']} {town} {_KIND_NAME[kind]}"})


_STAGE_OF_ACTIVITY = {
    "bauxite_mining": CocStage.BAUXITE_MINING, "alumina_refining": CocStage.ALUMINA_REFINING,
    "primary_production": CocStage.PRIMARY_PRODUCTION, "casthouse": CocStage.PRIMARY_PRODUCTION,
    "semi_fabrication": CocStage.SEMI_FABRICATION, "remelting_refining": CocStage.RECYCLING,
    "material_conversion": CocStage.MATERIAL_CONVERSION, "other_manufacturing": CocStage.MATERIAL_CONVERSION,
    "sale_of_products": CocStage.MATERIAL_CONVERSION,
}
_STAGE_ORDER = list(CocStage)
# Companies per stage the first CoC entities (2018-2019) are chosen to reach.
_COC_EARLY_TARGETS = {CocStage.BAUXITE_MINING: 5, CocStage.ALUMINA_REFINING: 2, CocStage.PRIMARY_PRODUCTION: 5,
                      CocStage.SEMI_FABRICATION: 1, CocStage.MATERIAL_CONVERSION: 1}
# Stages that must keep at least 5 reporting companies when a year's reporters are trimmed.
_COC_PROTECTED = {2019: [CocStage.BAUXITE_MINING, CocStage.PRIMARY_PRODUCTION], 2020: _STAGE_ORDER}


def coc_stages(activities: list[str]) -> list[CocStage]:
    """CoC stages a facility reports, from its activities (casthouse alone reports as primary production)."""
    stages = {_STAGE_OF_ACTIVITY[a] for a in activities}
    if CocStage.PRIMARY_PRODUCTION in stages and "primary_production" not in activities:
        stages.discard(CocStage.PRIMARY_PRODUCTION)
        stages.add(CocStage.RECYCLING)
    return [s for s in _STAGE_ORDER if s in stages]


# --------------------------------------------------------------------------- certifications

_COUNTRY_CURVE = [(date(2018, 1, 1), 3), (date(2018, 12, 31), 14), (date(2019, 12, 31), 24),
                  (date(2021, 2, 28), 36), (date(2022, 11, 30), 57), (date(2024, 12, 31), 66),
                  (date(2026, 10, 31), 72)]


def _curve(points: list[tuple[date, int]], on: date) -> float:
    if on <= points[0][0]:
        return points[0][1]
    for (d0, v0), (d1, v1) in pairwise(points):
        if on <= d1:
            return v0 + (v1 - v0) * (on - d0).days / (d1 - d0).days
    return points[-1][1]


def _random_dates(rng: np.random.Generator, year: int, n: int) -> list[date]:
    start = date(year, 2, 1) if year == 2018 else date(year, 1, 3)
    end = min(date(year, 12, 20), AS_OF)
    span = (end - start).days
    return sorted(start + timedelta(days=int(x)) for x in rng.integers(0, span + 1, n))


def _simulate_chains(world: World, standard: str, issued: dict[int, int], rng: np.random.Generator) -> None:
    """Certification chains: first certificate, provisional -> full, recertification every three years."""
    members = {m["member_id"]: m for m in world.members}
    ps_started: dict[str, date] = {c["facility_id"]: c["started_on"] for c in world.chains if c["standard"] == "PS"}
    used = {c["facility_id"] for c in world.chains if c["standard"] == standard}
    fac_country = {f["facility_id"]: f["country"] for f in world.facilities}
    events: list[tuple[date, int, str]] = []
    covered_countries: set[str] = set()
    stage_companies: dict[CocStage, set[str]] = defaultdict(set)

    def eligible(on: date) -> list[dict]:
        out = []
        for f in world.facilities:
            m = members[f["member_id"]]
            if f["facility_id"] in used or m["left_on"] is not None or m["joined_on"] > on - timedelta(days=90):
                continue
            out.append(f)
        return out

    def choose_ps(on: date) -> dict:
        pool = eligible(on)
        target = _curve(_COUNTRY_CURVE, on)
        if len(covered_countries) < target:
            fresh = [f for f in pool if f["country"] not in covered_countries]
            pool = fresh or pool
        else:
            old = [f for f in pool if f["country"] in covered_countries]
            pool = old or pool
        w = np.array([(3.0 if world.member_segment[f["member_id"]] != "user" else 1.0)
                      * (1.5 if on.year < 2020 and f["_kind"] in "BAS" else 1.0)
                      * _COUNTRY_WEIGHT.get(f["country"], 1.0) for f in pool])
        return pool[int(rng.choice(len(pool), p=w / w.sum()))]

    # CoC entities certified before the countries calibration date stay in PS-certified countries.
    early_countries = {fac_country[c["facility_id"]] for c in world.chains if c["standard"] == "PS"
                       and any(_valid_on(r, COUNTRIES_DATE) for r in world.certifications if r["_chain"] == c["chain"])}

    def choose_coc(on: date) -> dict:
        pool = eligible(on)
        if on <= COUNTRIES_DATE:
            pool = [f for f in pool if f["country"] in early_countries]
        if on.year <= 2020:
            # 2019: bauxite mining and primary production reach 5 companies (publishable), others stay small;
            # 2020: every stage reaches 5 companies.
            targets = _COC_EARLY_TARGETS if on.year <= 2019 else dict.fromkeys(_STAGE_ORDER, 5)
            need = min(targets, key=lambda s: (len(stage_companies[s]) / targets[s], _STAGE_ORDER.index(s)))
            narrowed = [f for f in pool if need in coc_stages(f["activities"])
                        and f["member_id"] not in stage_companies[need]]
            if need == CocStage.BAUXITE_MINING:
                both = [f for f in narrowed if CocStage.ALUMINA_REFINING in coc_stages(f["activities"])
                        and f["member_id"] not in stage_companies[CocStage.ALUMINA_REFINING]]
                narrowed = both or narrowed
            pool = narrowed or pool
        w = np.array([20.0 if f["facility_id"] in ps_started and ps_started[f["facility_id"]] < on else 1.0
                      for f in pool])
        return pool[int(rng.choice(len(pool), p=w / w.sum()))]

    def add_row(chain: int, issued_on: date, cert_type: str, kind: str) -> None:
        years = 1 if cert_type == "provisional" else 3
        row = {"_chain": chain, "_kind": kind, "standard": standard, "certification_type": cert_type,
               "issued_on": issued_on, "expires_on": _add_years(issued_on, years), "status_changed_on": None,
               "_status_event": None}
        world.certifications.append(row)
        if cert_type == "provisional":
            follow = issued_on + timedelta(days=int(rng.integers(320, 355)))
            if follow.year == issued_on.year:
                follow = date(issued_on.year + 1, 1, int(rng.integers(4, 20)))
            events.append((follow, chain, "full_after_provisional"))
            return
        roll = rng.random()
        if roll < 0.022 or roll > 0.978:
            change = issued_on + timedelta(days=int(rng.integers(200, 900)))
            if change <= AS_OF:
                row["status_changed_on"] = change
                row["_status_event"] = "suspended" if roll < 0.5 else "withdrawn"
                return
        renew = row["expires_on"] - timedelta(days=int(rng.integers(0, 45)))
        events.append((renew, chain, "recertification"))

    for year in sorted(issued):
        due = sorted(e for e in events if e[0].year == year)
        events = [e for e in events if e[0].year != year]
        kept = []
        for on, chain, kind in due:
            if on > AS_OF:
                continue
            if kind == "recertification" and rng.random() < 0.07:
                continue  # not renewed: the certificate simply expires
            kept.append((on, chain, kind))
        n_new = issued[year] - len(kept)
        if n_new < 0:
            raise RuntimeError(f"{standard} {year}: {len(kept)} follow-up certificates exceed the target.")
        new_dates = _random_dates(rng, year, n_new)
        n_prov = PS_PROVISIONAL_NEW.get(year, 0) if standard == "PS" else (1 if year >= 2023 else 0)
        if year == 2022 and standard == "PS":
            early = [i for i, d in enumerate(new_dates) if d <= date(2022, 6, 30)]
            prov_idx = set(early[-n_prov:]) if early else set()
        else:
            prov_idx = {int(i) for i in rng.choice(n_new, size=min(n_prov, n_new), replace=False)}
        for on, chain, kind in kept:
            cert_type = "provisional" if (kind == "recertification" and year >= 2023 and rng.random() < 0.03) \
                else "full"
            add_row(chain, on, cert_type, kind)
        for i, on in enumerate(new_dates):
            facility = choose_ps(on) if standard == "PS" else choose_coc(on)
            used.add(facility["facility_id"])
            covered_countries.add(facility["country"])
            for s in coc_stages(facility["activities"]):
                stage_companies[s].add(facility["member_id"])
            chain = len(world.chains)
            world.chains.append({"chain": chain, "facility_id": facility["facility_id"], "standard": standard,
                                 "started_on": on})
            add_row(chain, on, "provisional" if i in prov_idx else "full", "initial")


def _valid_on(cert: dict, on: date) -> bool:
    if not cert["issued_on"] <= on < cert["expires_on"]:
        return False
    return cert["status_changed_on"] is None or cert["status_changed_on"] > on


def _fix_country_count(world: World, rng: np.random.Generator) -> None:
    """Move whole PS chains between facilities until exactly COUNTRIES_TARGET countries hold a valid certificate."""
    fac = {f["facility_id"]: f for f in world.facilities}
    members = {m["member_id"]: m for m in world.members}
    for _ in range(200):
        chain_fac = {c["chain"]: c["facility_id"] for c in world.chains}
        valid = [c for c in world.certifications if _valid_on(c, COUNTRIES_DATE)]
        by_country: dict[str, set[int]] = defaultdict(set)
        for c in valid:
            by_country[fac[chain_fac[c["_chain"]]]["country"]].add(c["_chain"])
        count = len(by_country)
        if count == COUNTRIES_TARGET:
            return
        coc_facilities = {c["facility_id"] for c in world.chains if c["standard"] == "CoC"}
        used_ps = {c["facility_id"] for c in world.chains if c["standard"] == "PS"}
        movable = sorted(
            ch for country, chains in by_country.items() for ch in chains
            if world.chains[ch]["standard"] == "PS" and chain_fac[ch] not in coc_facilities
            and (len(chains) >= 2 if count < COUNTRIES_TARGET else len(chains) == 1)
        )
        chain = movable[int(rng.integers(len(movable)))]
        started = world.chains[chain]["started_on"]
        targets = sorted(
            f["facility_id"] for f in world.facilities
            if f["facility_id"] not in used_ps and f["facility_id"] not in coc_facilities
            and members[f["member_id"]]["left_on"] is None
            and members[f["member_id"]]["joined_on"] <= started - timedelta(days=90)
            and ((f["country"] not in by_country) if count < COUNTRIES_TARGET else (f["country"] in by_country))
        )
        world.chains[chain]["facility_id"] = targets[int(rng.integers(len(targets)))]
    raise RuntimeError("Could not calibrate the number of certified countries.")


def _finish_certifications(world: World) -> None:
    """Ids, status as of the export, versions, scope, firms and external certifications."""
    rng = _rng(4)
    fac = {f["facility_id"]: f for f in world.facilities}
    chain_fac = {c["chain"]: c["facility_id"] for c in world.chains}
    counters: dict[tuple[str, int], int] = defaultdict(int)
    chain_firm: dict[int, str] = {}
    ext_pool = ["ISO 14001", "ISO 45001", "ISO 9001", "ISO 50001", "OHSAS 18001", "SA8000", "IATF 16949"]
    world.certifications.sort(key=lambda c: (c["issued_on"], c["standard"], c["_chain"]))
    for cert in world.certifications:
        facility = fac[chain_fac[cert["_chain"]]]
        std = cert["standard"]
        year = cert["issued_on"].year
        counters[(std, year)] += 1
        cert["certification_id"] = f"{std.upper()}-{year}-{counters[(std, year)]:03d}"
        cert["facility_id"] = facility["facility_id"]
        new = cert["issued_on"] >= VERSION_CHANGE_ON
        cert["standard_version"] = f"{std}-2022" if new else f"{std}-2017"
        if cert["_status_event"]:
            status = cert["_status_event"]
        elif cert["expires_on"] <= AS_OF:
            status = "expired"
        else:
            status = "provisional" if cert["certification_type"] == "provisional" else "certified"
        cert["status"] = status
        acts = ", ".join(a.replace("_", " ") for a in facility["activities"])
        label = "Performance Standard" if std == "PS" else "Chain of Custody Standard"
        cert["scope"] = f"{label} certification of {facility['name']} ({acts})."
        firms = [f for f in world.firms if f["accredited_on"] <= cert["issued_on"] - timedelta(days=100)
                 and (f["accreditation_ended_on"] is None or f["accreditation_ended_on"] > cert["issued_on"])]
        firms = firms or world.firms[:1]
        local = [f for f in firms if facility["country"] in f["countries"]] or firms
        firm = chain_firm.get(cert["_chain"])
        if firm is None or firm not in {f["auditing_firm_id"] for f in firms} or rng.random() < 0.15:
            firm = local[int(rng.integers(len(local)))]["auditing_firm_id"]
        chain_firm[cert["_chain"]] = firm
        cert["auditing_firm_id"] = firm
        ext: list[str] = []
        if std == "PS" and rng.random() < 0.64:
            k = int(rng.integers(1, 4))
            ext = sorted(str(x) for x in rng.choice(ext_pool[:6], size=k, replace=False))
        cert["external_certifications"] = ext


# --------------------------------------------------------------------------- auditing firms


def _make_firms(world: World) -> None:
    rng = _rng(3)
    all_codes = sorted(countries())
    facility_countries = sorted({s[0] for s in demo_sites.sites()})
    others = [c for c in all_codes if c not in facility_countries]
    rng.shuffle(others)
    universe95 = facility_countries + others[: 95 - len(facility_countries)]
    later = others[95 - len(facility_countries): 95 - len(facility_countries) + 16]
    accredited = [date(2017, 9, 18), date(2017, 10, 2), date(2017, 11, 6), date(2018, 2, 14), date(2018, 5, 3),
                  date(2018, 9, 17), date(2019, 1, 22), date(2019, 6, 11), date(2019, 11, 5), date(2020, 4, 28),
                  date(2020, 10, 19), date(2021, 3, 15), date(2022, 2, 7), date(2023, 5, 16), date(2024, 3, 4),
                  date(2025, 6, 23)]
    shuffled = list(universe95)
    rng.shuffle(shuffled)
    early = 12
    for i, name in enumerate(demo_sites.AUDIT_FIRM_NAMES):
        if i < early:
            base = shuffled[i::early]
            size = int(rng.integers(5, 40))
            extra = [str(x) for x in rng.choice(universe95, size=size, replace=False)]
        else:
            base = [later[(i - early) * 4 + k] for k in range(4)]
            extra = [str(x) for x in rng.choice(universe95, size=int(rng.integers(8, 30)), replace=False)]
        world.firms.append({
            "auditing_firm_id": f"AF{i + 1:02d}", "name": name, "accredited_on": accredited[i],
            "accreditation_ended_on": date(2023, 9, 30) if i == 6 else None,
            "countries": sorted(set(base) | set(extra)),
        })


# --------------------------------------------------------------------------- audits and findings

# Criteria per PS principle (a compact subset of the standard's criteria).
CRITERIA: dict[int, int] = {1: 4, 2: 6, 3: 3, 4: 3, 5: 3, 6: 5, 7: 3, 8: 3, 9: 6, 10: 5, 11: 3}
ALL_CRITERIA = [(p, f"{p}.{k}") for p, n in CRITERIA.items() for k in range(1, n + 1)]


def _make_audits(world: World) -> None:
    rng = _rng(5)
    chains: dict[int, list[dict]] = defaultdict(list)
    for cert in world.certifications:
        chains[cert["_chain"]].append(cert)
    audits = []
    for certs in chains.values():
        certs.sort(key=lambda c: c["issued_on"])
        for idx, cert in enumerate(certs):
            firm = cert["auditing_firm_id"]
            if cert["_kind"] == "initial" or cert["_kind"] == "recertification":
                audits.append({"certification_id": cert["certification_id"], "audit_type": cert["_kind"],
                               "audited_on": cert["issued_on"] - timedelta(days=int(rng.integers(20, 80))),
                               "auditing_firm_id": firm, "_cert": cert})
            if cert["certification_type"] == "provisional":
                nxt = certs[idx + 1] if idx + 1 < len(certs) else None
                if nxt is not None:
                    audits.append({"certification_id": cert["certification_id"], "audit_type": "surveillance",
                                   "audited_on": nxt["issued_on"] - timedelta(days=int(rng.integers(10, 40))),
                                   "auditing_firm_id": firm, "_cert": cert, "_closes_major": True})
                continue
            end = min(AS_OF, cert["status_changed_on"] or AS_OF, cert["expires_on"] - timedelta(days=60))
            for k in (1, 2):
                on = _add_years(cert["issued_on"], k) + timedelta(days=int(rng.integers(-30, 30)))
                if on <= end:
                    audits.append({"certification_id": cert["certification_id"], "audit_type": "surveillance",
                                   "audited_on": on, "auditing_firm_id": firm, "_cert": cert})
            if cert["_status_event"] == "suspended":
                audits.append({"certification_id": cert["certification_id"], "audit_type": "surveillance",
                               "audited_on": cert["status_changed_on"] - timedelta(days=int(rng.integers(10, 30))),
                               "auditing_firm_id": firm, "_cert": cert, "_suspension": True})
            if rng.random() < 0.06:
                on = cert["issued_on"] + timedelta(days=int(rng.integers(200, 900)))
                if on <= end:
                    audits.append({"certification_id": cert["certification_id"], "audit_type": "scope_change",
                                   "audited_on": on, "auditing_firm_id": firm, "_cert": cert})
    audits = [a for a in audits if a["audited_on"] <= AS_OF]
    audits.sort(key=lambda a: (a["audited_on"], a["certification_id"], a["audit_type"]))
    for i, a in enumerate(audits, start=1):
        a["audit_id"] = f"AUD-{i:05d}"
    world.audits = audits
    _make_findings(world, rng)


_NA_BY_PRINCIPLE_DOWNSTREAM = {7: 0.3, 8: 0.7, 9: 0.3, 4: 0.2, 5: 0.1}
# Relative likelihood of a non-conformance per principle (management systems and human rights lead).
_NC_PROPENSITY = {1: 0.6, 2: 1.8, 3: 0.7, 4: 0.9, 5: 1.2, 6: 1.3, 7: 1.0, 8: 1.1, 9: 1.5, 10: 0.9, 11: 1.2}


def _make_findings(world: World, rng: np.random.Generator) -> None:
    fac = {f["facility_id"]: f for f in world.facilities}
    findings = []
    for audit in world.audits:
        cert = audit["_cert"]
        if cert["standard"] != "PS":
            continue
        upstream = fac[cert["facility_id"]]["_kind"] in "BAS"
        full_scope = audit["audit_type"] in ("initial", "recertification")
        if full_scope:
            criteria = ALL_CRITERIA
        else:
            idx = sorted(int(i) for i in rng.choice(len(ALL_CRITERIA), size=12, replace=False))
            criteria = [ALL_CRITERIA[i] for i in idx]
        # First audits find more than recertifications: continual improvement.
        minor_p = {"initial": 0.065, "recertification": 0.045, "scope_change": 0.03}.get(audit["audit_type"], 0.005)
        majors: set[str] = set()
        if full_scope and cert["certification_type"] == "provisional":
            majors = {str(x) for x in rng.choice([c for _, c in criteria], size=int(rng.integers(1, 3)),
                                                 replace=False)}
        if audit.get("_suspension"):
            majors = {criteria[int(rng.integers(len(criteria)))][1]}
        for principle, criterion in criteria:
            if criterion in majors:
                rating = "major_nc"
            elif not upstream and rng.random() < _NA_BY_PRINCIPLE_DOWNSTREAM.get(principle, 0.0):
                rating = "not_applicable"
            elif rng.random() < minor_p * _NC_PROPENSITY[principle]:
                rating = "minor_nc"
            else:
                rating = "conformance"
            findings.append({"audit_id": audit["audit_id"], "principle": principle, "criterion": criterion,
                             "rating": rating, "is_closed_at_next_audit": None, "_audit": audit})
    _close_findings(world, findings, rng)
    world.findings = findings


NC_CLOSURE_DATE = date(2021, 6, 25)
NC_CLOSURE_SHARE = 0.86




def _close_findings(world: World, findings: list[dict], rng: np.random.Generator) -> None:
    """Closure at the next audit: exactly 86 % of NCs whose next audit was by 25 June 2021."""
    nxt = next_audits(world)
    ncs = [f for f in findings if f["rating"] in ("minor_nc", "major_nc") and f["audit_id"] in nxt]
    early = [f for f in ncs if nxt[f["audit_id"]]["audited_on"] <= NC_CLOSURE_DATE]
    closed_early = set(rng.choice(len(early), size=round(NC_CLOSURE_SHARE * len(early)), replace=False).tolist())
    for i, f in enumerate(early):
        f["is_closed_at_next_audit"] = i in closed_early
    for f in ncs:
        if f["is_closed_at_next_audit"] is None:
            closes_major = nxt[f["audit_id"]].get("_closes_major", False) and f["rating"] == "major_nc"
            f["is_closed_at_next_audit"] = bool(closes_major or rng.random() < 0.9)


# --------------------------------------------------------------------------- CoC reports


def _coc_reporters(world: World) -> dict[int, list[str]]:
    """Facilities reporting each year: CoC certified during it, trimmed to the published counts."""
    fac = {f["facility_id"]: f for f in world.facilities}
    out: dict[int, list[str]] = {}
    rng = _rng(6)
    for year in COC_YEARS:
        first: dict[str, date] = {}
        for c in world.certifications:
            if c["standard"] != "CoC":
                continue
            if c["issued_on"] <= date(year, 12, 31) and c["expires_on"] > date(year, 1, 1) and (
                c["status_changed_on"] is None or c["status_changed_on"] > date(year, 1, 1)
            ):
                first[c["facility_id"]] = min(first.get(c["facility_id"], c["issued_on"]), c["issued_on"])
        ordered = sorted(first, key=lambda f: (first[f], f))
        target = COC_REPORTERS.get(year)
        if target is None:
            # A few entities certified late in the year, or not submitting, do not report.
            keep = [f for f in ordered if first[f] <= date(year, 11, 30)]
            drop = {f for f in keep if rng.random() < 0.03}
            keep = [f for f in keep if f not in drop]
        else:
            keep = list(ordered)
            while len(keep) > target:
                for f in reversed(keep):
                    trial = [x for x in keep if x != f]
                    if _min_stage_companies(trial, fac, _COC_PROTECTED.get(year, [])) >= 5:
                        keep = trial
                        break
                else:
                    raise RuntimeError(f"Cannot trim {year} CoC reporters to {target}.")
            if len(keep) < target:
                raise RuntimeError(f"Only {len(keep)} CoC entities certified in {year}; {target} needed.")
        out[year] = sorted(keep)
    return out


def _min_stage_companies(facility_ids: list[str], fac: dict[str, dict], stages: list[CocStage]) -> int:
    companies: dict[CocStage, set[str]] = defaultdict(set)
    for f in facility_ids:
        for s in coc_stages(fac[f]["activities"]):
            companies[s].add(fac[f]["member_id"])
    return min((len(companies[s]) for s in stages), default=5)


def _shares(rng: np.random.Generator, companies: list[str], cap: float, dominant: str | None) -> dict[str, float]:
    """Company shares of a stage-year; capped so no company dominates unless seeded."""
    w = rng.gamma(2.0, 1.0, len(companies))
    shares = dict(zip(companies, w / w.sum(), strict=True))
    if len(companies) < 5:
        return shares
    if dominant is not None:
        rest = {c: s for c, s in shares.items() if c != dominant}
        total = sum(rest.values())
        shares = {c: s / total * 0.6 for c, s in rest.items()}
        shares[dominant] = 0.4
        fixed = {dominant}
    else:
        fixed = set()
    for _ in range(50):
        over = [c for c, s in shares.items() if s > cap and c not in fixed]
        if not over:
            break
        for c in over:
            fixed.add(c)
            shares[c] = cap
        free = [c for c in shares if c not in fixed]
        budget = 1.0 - sum(shares[c] for c in fixed)
        total = sum(shares[c] for c in free)
        for c in free:
            shares[c] = shares[c] / total * budget
    return shares


def _line_plan(year: int) -> dict[tuple[CocStage, CocMaterial], tuple[float, float]]:
    """(input_t, output_t) totals per (stage, material) for a year."""
    b = STAGE_OUTPUT_T[CocStage.BAUXITE_MINING][year]
    a = STAGE_OUTPUT_T[CocStage.ALUMINA_REFINING][year]
    p = STAGE_OUTPUT_T[CocStage.PRIMARY_PRODUCTION][year]
    r = STAGE_OUTPUT_T[CocStage.RECYCLING][year]
    ref_in = b * PASS_ON["bauxite_to_refining"][year]
    sm_in = a * PASS_ON["alumina_to_smelting"][year]
    scrap_to_primary, scrap_to_semis = 0.25 * r, 0.6 * r
    semi_alu_in = p * PASS_ON["primary_to_semis"][year]
    semi_out_alu, semi_out_scrap = 0.88 * semi_alu_in, 0.9 * scrap_to_semis
    conv_in = (semi_out_alu + semi_out_scrap) * PASS_ON["semis_to_conversion"][year]
    S, M = CocStage, CocMaterial
    return {
        (S.BAUXITE_MINING, M.ASI_BAUXITE): (b * 1.01, b),
        (S.ALUMINA_REFINING, M.ASI_BAUXITE): (ref_in, a),
        (S.PRIMARY_PRODUCTION, M.ASI_ALUMINA): (sm_in, p - 0.97 * scrap_to_primary),
        (S.PRIMARY_PRODUCTION, M.ELIGIBLE_SCRAP): (scrap_to_primary, 0.97 * scrap_to_primary),
        (S.SEMI_FABRICATION, M.ASI_ALUMINIUM): (semi_alu_in, semi_out_alu),
        (S.SEMI_FABRICATION, M.ELIGIBLE_SCRAP): (scrap_to_semis, semi_out_scrap),
        (S.MATERIAL_CONVERSION, M.ASI_ALUMINIUM): (conv_in, 0.9 * conv_in),
        (S.RECYCLING, M.ELIGIBLE_SCRAP): (r * 1.02, r),
    }


def _make_coc_reports(world: World) -> None:
    rng = _rng(7)
    fac = {f["facility_id"]: f for f in world.facilities}
    reporters = _coc_reporters(world)
    seeded = world.seeded
    rows: list[dict] = []
    previous: dict[tuple[str, str, str], float] = {}
    dominant_case = SEEDED_CASES["dominant_reporter"]
    for year in COC_YEARS:
        plan = _line_plan(year)
        stage_facilities: dict[CocStage, list[str]] = defaultdict(list)
        for f in reporters[year]:
            for s in coc_stages(fac[f]["activities"]):
                stage_facilities[s].append(f)
        for (stage, material), (in_total, out_total) in plan.items():
            facs = stage_facilities.get(stage, [])
            if material == CocMaterial.ELIGIBLE_SCRAP and stage != CocStage.RECYCLING:
                narrowed = [f for f in facs if "remelting_refining" in fac[f]["activities"]
                            or "casthouse" in fac[f]["activities"]] or facs[:2]
                # Where the stage is publishable, spread scrap over enough companies that none dominates.
                if len({fac[f]["member_id"] for f in narrowed}) >= 5 or len({fac[f]["member_id"] for f in facs}) < 5:
                    facs = narrowed
            if not facs:
                continue
            companies = sorted({fac[f]["member_id"] for f in facs})
            dominant = None
            if (year, stage.value) == (dominant_case["reporting_year"], dominant_case["stage"]):
                if "dominant_member_id" not in seeded:
                    seeded["dominant_member_id"] = companies[len(companies) // 2]
                dominant = seeded["dominant_member_id"] if seeded["dominant_member_id"] in companies else None
            cshare = _shares(rng, companies, 0.2, dominant)
            by_company: dict[str, list[str]] = defaultdict(list)
            for f in facs:
                by_company[fac[f]["member_id"]].append(f)
            factor = COC_YIELD_FACTOR[(stage, material)]
            ratio = out_total / in_total
            for company, flist in sorted(by_company.items()):
                fw = rng.gamma(3.0, 1.0, len(flist))
                for f, w in zip(flist, fw / fw.sum(), strict=True):
                    out = cshare[company] * w * out_total
                    r = min(ratio * float(rng.uniform(0.92, 1.08)), factor * 0.985)
                    inp = out / r
                    key = (f, stage.value, material.value)
                    cf = 0.0
                    if key in previous and rng.random() < 0.3:
                        cf = round(previous[key] * float(rng.uniform(0.01, 0.06)), 1)
                    out_r = float(np.floor(out * 10) / 10)
                    in_r = float(np.ceil(inp * 10) / 10)
                    previous[key] = out_r
                    rows.append({"facility_id": f, "reporting_year": year, "stage": stage.value,
                                 "material": material.value, "input_t": in_r, "output_t": out_r,
                                 "carried_forward_t": cf})
    _seed_coc_cases(world, rows, rng)
    world.coc_reports = rows


def _seed_coc_cases(world: World, rows: list[dict], rng: np.random.Generator) -> None:
    seeded = world.seeded
    # One mass-balance failure: output above input x factor + carried forward.
    case = SEEDED_CASES["mass_balance_failure"]
    line = next(r for r in rows if (r["reporting_year"], r["stage"], r["material"]) ==
                (case["reporting_year"], case["stage"], case["material"]))
    factor = COC_YIELD_FACTOR[(CocStage(line["stage"]), CocMaterial(line["material"]))]
    line["output_t"] = round(line["input_t"] * factor * 1.12 + line["carried_forward_t"] + 50.0, 1)
    seeded["mass_balance_failure_facility"] = line["facility_id"]
    # One zero-volume line that must not count as a reporter.
    zcase = SEEDED_CASES["zero_volume_line"]
    in_stage = {r["facility_id"] for r in rows if (r["reporting_year"], r["stage"]) ==
                (zcase["reporting_year"], zcase["stage"])}
    year_facilities = sorted({r["facility_id"] for r in rows if r["reporting_year"] == zcase["reporting_year"]}
                             - in_stage)
    zero_facility = year_facilities[0]
    rows.append({"facility_id": zero_facility, "reporting_year": zcase["reporting_year"], "stage": zcase["stage"],
                 "material": zcase["material"], "input_t": 0.0, "output_t": 0.0, "carried_forward_t": 0.0})
    seeded["zero_volume_facility"] = zero_facility
    # Submission dates: due 31 May of the following year; one late report.
    late = SEEDED_CASES["late_report"]
    late_candidates = sorted({r["facility_id"] for r in rows if r["reporting_year"] == late["reporting_year"]})
    late_facility = late_candidates[len(late_candidates) // 3]
    seeded["late_report_facility"] = late_facility
    submitted: dict[tuple[str, int], date] = {}
    for r in rows:
        key = (r["facility_id"], r["reporting_year"])
        if key not in submitted:
            due = date(r["reporting_year"] + 1, 5, 31)
            if key == (late_facility, late["reporting_year"]):
                submitted[key] = due + timedelta(days=23)
            else:
                submitted[key] = due - timedelta(days=int(rng.integers(0, 100)))
        r["submitted_on"] = submitted[key]
        r["due_on"] = date(r["reporting_year"] + 1, 5, 31)
    rows.sort(key=lambda r: (r["reporting_year"], r["facility_id"], r["stage"], r["material"]))


# --------------------------------------------------------------------------- assembling


def seeded_cases(world: World) -> dict[str, object]:
    """The seeded cases as generated (what SEEDED_CASES must say)."""
    fac = {f["facility_id"]: f for f in world.facilities}
    no_coords = {f["facility_id"] for f in world.facilities if f["latitude"] is None}
    certified = {c["facility_id"] for c in world.certifications}
    companies: dict[tuple[int, str], set[str]] = defaultdict(set)
    for r in world.coc_reports:
        if r["input_t"] > 0 or r["output_t"] > 0:
            companies[(r["reporting_year"], r["stage"])].add(fac[r["facility_id"]]["member_id"])
    few_year = int(SEEDED_CASES["few_reporters"]["reporting_year"])  # type: ignore[index]
    few_stage = str(SEEDED_CASES["few_reporters"]["stage"])  # type: ignore[index]
    late_year = int(SEEDED_CASES["late_report"]["reporting_year"])  # type: ignore[index]
    late = next(r for r in world.coc_reports if r["submitted_on"] > r["due_on"])
    by_status = {}
    for status in ("provisional", "suspended", "withdrawn", "expired"):
        by_status[f"{status}_certification"] = min(
            (c["standard"] != "PS", c["certification_id"]) for c in world.certifications if c["status"] == status
        )[1]
    dominant = dict(SEEDED_CASES["dominant_reporter"])  # type: ignore[call-overload]
    dominant["member_id"] = world.seeded["dominant_member_id"]
    return {
        **SEEDED_CASES,
        "facilities_without_coordinates": len(no_coords),
        "certified_facilities_without_coordinates": len(no_coords & certified),
        "few_reporters": {"reporting_year": few_year, "stage": few_stage,
                          "companies": len(companies[(few_year, few_stage)])},
        "dominant_reporter": dominant,
        "mass_balance_failure": {**SEEDED_CASES["mass_balance_failure"],  # type: ignore[dict-item]
                                 "facility_id": world.seeded["mass_balance_failure_facility"]},
        "late_report": {"facility_id": late["facility_id"], "reporting_year": late_year,
                        "submitted_on": late["submitted_on"].isoformat(), "due_on": late["due_on"].isoformat()},
        "zero_volume_line": {**SEEDED_CASES["zero_volume_line"],  # type: ignore[dict-item]
                             "facility_id": world.seeded["zero_volume_facility"]},
        **by_status,
    }


def _table(name: str, rows: list[dict]) -> pa.Table:
    schema = arrow_schema(TABLES[name])
    cols = schema.names
    lists = {f.name for f in schema if pa.types.is_list(f.type)}  # a list column a record leaves out is empty
    return pa.Table.from_pylist(
        [{c: r.get(c, [] if c in lists else None) for c in cols} for r in rows], schema=schema
    )


def build_world() -> World:
    """Generate every record of the demo (deterministic)."""
    world = World()
    _make_members(world)
    _make_facilities(world)
    _cover_upstream_sites(world)
    _make_firms(world)
    rng = _rng(8)
    _simulate_chains(world, "PS", PS_ISSUED, rng)
    _fix_country_count(world, _rng(10))
    _simulate_chains(world, "CoC", COC_ISSUED, _rng(9))
    _finish_certifications(world)
    _make_audits(world)
    _make_coc_reports(world)
    _drop_coordinates(world)
    return world


def _drop_coordinates(world: World) -> None:
    """A few dozen facilities arrive without coordinates, some of them certified."""
    rng = _rng(11)
    certified = sorted({c["facility_id"] for c in world.certifications})
    uncertified = sorted({f["facility_id"] for f in world.facilities} - set(certified))
    n_cert = int(SEEDED_CASES["certified_facilities_without_coordinates"])  # type: ignore[arg-type]
    n_all = int(SEEDED_CASES["facilities_without_coordinates"])  # type: ignore[arg-type]
    chosen = set(rng.choice(certified, size=n_cert, replace=False).tolist())
    chosen |= set(rng.choice(uncertified, size=n_all - n_cert, replace=False).tolist())
    for f in world.facilities:
        if f["facility_id"] in chosen:
            f["latitude"] = None
            f["longitude"] = None


def build_tables(world: World | None = None) -> dict[str, pa.Table]:
    """All tables of the contract as Arrow tables (from `world`, or a freshly built one)."""

    world = world or build_world()
    tables = {
        "members": _table("members", world.members),
        "facilities": _table("facilities", world.facilities),
        "certifications": _table("certifications", world.certifications),
        "audits": _table("audits", world.audits),
        "audit_findings": _table("audit_findings", world.findings),
        "coc_reports": _table("coc_reports", world.coc_reports),
        "auditing_firms": _table("auditing_firms", world.firms),
    }
    extra = demo_extra.build_extra(world)
    for name, rows in extra.items():
        tables[name] = _table(name, rows)
    tables["risks"] = _table("risks", risk_rows())
    return tables


def write_demo(data_dir: Path, world: World | None = None) -> tuple[str, bool]:
    """Build the demo dataset and write it as the current snapshot of `data_dir`."""
    tables = build_tables(world)
    return write_snapshot(
        data_dir, tables, sources={name: ["demo"] for name in TABLES}, note=NOTE, fixed_time=FIXED_TIME
    )


__all__ = ["SEEDED_CASES", "build_tables", "build_world", "coc_stages", "next_audits", "seeded_cases", "write_demo"]
