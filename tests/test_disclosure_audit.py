"""The attacker's audit: it finds the leaks a careless publication opens, and finds nothing
in what the protection publishes, on fixed attacks and on generated datasets."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from conftest import coc_line, facility, make_store, member
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asi_me.data.vocab import COC_INPUT_SOURCE, CocStage
from asi_me.filters import Viewer
from asi_me.publish import audit, gate
from asi_me.publish.coc_system import WORLD, coc_year_system
from asi_me.publish.policy import DisclosurePolicy
from asi_me.publish.protection import NO_REPORTS, audit_system, protect_system
from asi_me.publish.workers_system import workers_date_system

POLICY = DisclosurePolicy(5, 0.25, 10.0, 0.15)
REC, PRIM, SEMI = CocStage.RECYCLING.value, CocStage.PRIMARY_PRODUCTION.value, CocStage.SEMI_FABRICATION.value


def _lines(rows: list[tuple[str, str, str, str, str, float, float]]) -> pd.DataFrame:
    """(member, class, region, stage, material, input_t, output_t) rows as CoC report lines."""
    frame = pd.DataFrame(rows, columns=["member_id", "membership_class", "region", "stage", "material", "input_t",
                                        "output_t"])
    frame["facility_id"] = frame["member_id"] + "-" + frame["stage"]
    return frame


def _published(notes: dict) -> dict:
    return {k: (n is None or n == NO_REPORTS) for k, n in notes.items()}


def test_the_attrition_chain_recovers_a_link_hidden_for_dominance():
    """The reported attack: regional 'recycling -> left the chain' figures add up to the
    hidden world attrition, and world recycling output minus the published recycling ->
    primary link minus that sum is the world recycling -> semi-fabrication link, hidden
    for dominance. Published carelessly (only those two world figures withheld), the
    audit proves the link exactly; protected, it proves nothing inside ±15%."""
    rows = []
    for i, region in enumerate(["Europe", "Asia", "Europe", "Asia", "Europe", "Asia"]):
        m = f"R{i}"
        scrap = 900.0 if i == 0 else 100.0
        rows.append((m, "production_transformation", region, REC, "eligible_scrap", scrap, scrap))
        rows.append((m, "production_transformation", region, PRIM, "eligible_scrap", 30.0 + i, 10.0))
        rows.append((m, "production_transformation", region, SEMI, "eligible_scrap", scrap * 0.6, 5.0))
    system = coc_year_system(_lines(rows), POLICY)
    link = (WORLD, ("link", SEMI, "eligible_scrap"))
    assert system.figures[link].primary == POLICY.note_dominance
    careless = {k: True for k in system.figures}
    careless[link] = False
    careless[(WORLD, ("attr", REC))] = False
    found = audit_system(system, careless, POLICY.protection_level, ["public"])
    assert link in {f.key for f in found}
    leak = next(f for f in found if f.key == link)
    assert leak.interval.high - leak.interval.low < 1e-6 * leak.value

    notes = protect_system(system, POLICY.protection_level, POLICY.note_complementary)
    assert notes[link] is not None
    assert audit_system(system, _published(notes), POLICY.protection_level) == []


def _mt11_store(tmp_path):
    """Material conversion reported by three companies (suppressed on the CoC screen) and
    an MT-11 observation that stores the world figure itself."""
    members = [member(f"M{i}") for i in range(8)]
    facilities = [facility(f"F{i}", f"M{i}", country="DE") for i in range(8)]
    lines = [coc_line(f"F{i}", "semi_fabrication", "asi_aluminium", 1000.0 + 10 * i, 950.0) for i in range(5)]
    lines += [coc_line(f"F{i}", "material_conversion", "asi_aluminium", 300.0 + i, 286.0 + i) for i in range(5, 8)]
    conversion = sum(286.0 + i for i in range(5, 8))
    indicators = [{
        "indicator_code": "MT-11", "name": "ASI Aluminium converted into products",
        "definition": "ASI Aluminium output reported at the material conversion stage.", "unit": "t",
        "level": "2", "data_source": "CoC annual reports", "frequency": "annual", "is_iseal_cci": True,
        "iseal_cci_area": None, "toc_node_id": "O1", "direction": "increase", "baseline_value": None,
        "baseline_on": None, "target_value": None, "target_on": None,
    }]
    observations = [{"indicator_code": "MT-11", "period_on": date(2020, 1, 1), "dimension": "total",
                     "dimension_value": "all", "value": conversion, "status": "final"}]
    nodes = [{"node_id": "O1", "label": "ASI material flows", "node_type": "short_term_outcome",
              "impact_area": None, "description": None}]
    return make_store(tmp_path, members=members, facilities=facilities, coc_reports=lines, toc_nodes=nodes,
                      indicators=indicators, indicator_observations=observations), conversion


def test_the_mt11_route_is_found_when_the_series_bypasses_the_gate(tmp_path, monkeypatch):
    store, conversion = _mt11_store(tmp_path)
    report = audit.audit_disclosure(store, "public", POLICY, families=["coc"])
    assert report.ok, report.text()
    served = gate.gated_table(store, Viewer.public(), "indicator_observations", POLICY)
    assert served["value"].isna().all()
    assert served["suppression_note"].iloc[0] == POLICY.note_few_reporters

    monkeypatch.setattr(gate, "GATED_TABLES", {})  # the table served as stored: the leak of the report
    leaky = audit.audit_disclosure(store, "public", POLICY, families=["coc"])
    assert not leaky.ok
    named = [p for p in leaky.problems if "material_conversion" in p and ("INCONSISTENT" in p or "SENSITIVE" in p)]
    assert named, leaky.text()
    assert any("indicator MT-11" in p for p in leaky.problems), leaky.text()
    del conversion


_STAGES = list(CocStage)
_PAIRS = list(COC_INPUT_SOURCE)


@st.composite
def coc_years(draw):
    """A year of report lines: 2-12 companies in 1-3 regions and 1-2 classes, each with
    lines on a few (stage, material) pairs; outputs free of inputs, so what leaves a stage
    (output minus what downstream took) is often negative."""
    n = draw(st.integers(2, 12))
    rows = []
    for i in range(n):
        region = draw(st.sampled_from(["Europe", "Asia", "Africa"]))
        member_class = draw(st.sampled_from(["production_transformation", "industrial_users"]))
        for stage, material in draw(st.lists(st.sampled_from(_PAIRS), min_size=1, max_size=3, unique=True)):
            input_t = draw(st.sampled_from([0.0, 10.0, 55.0, 400.0, 5000.0]))
            output_t = draw(st.sampled_from([0.0, 12.0, 80.0, 390.0, 6000.0]))
            rows.append((f"M{i}", member_class, region, stage.value, material.value, input_t, output_t))
    return _lines(rows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(coc_years())
def test_no_attacker_pins_a_protected_coc_figure_on_generated_years(lines):
    system = coc_year_system(lines, POLICY)
    notes = protect_system(system, POLICY.protection_level, POLICY.note_complementary)
    assert audit_system(system, _published(notes), POLICY.protection_level) == []
    for key, figure in system.figures.items():
        if figure.no_reports:
            assert notes[key] == NO_REPORTS
            assert figure.value == 0


class _Workers:
    """A workers table for one date, shaped like asi_me.queries.outcomes._CompanyWorkers."""

    def __init__(self, rows: list[tuple[int, str, float]], on: date) -> None:
        regions = sorted({r for _, r, _ in rows})
        self.days = np.full(len(rows), (on - date(1970, 1, 1)).days)
        self.companies = np.array([c for c, _, _ in rows])
        self.region_names = regions
        self.regions_at = np.array([regions.index(r) for _, r, _ in rows])
        self.country_names = ["XX"]
        self.countries_at = np.zeros(len(rows), dtype=int)
        self.workers = np.array([w for _, _, w in rows], dtype=float)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["Africa", "Asia", "Europe", "Oceania"]),
                          st.sampled_from([50.0, 120.0, 800.0, 2500.0, 9000.0])), min_size=1, max_size=30))
def test_no_attacker_pins_a_protected_workforce_figure_on_generated_dates(rows):
    """Including regions where one company holds every certified facility."""
    on = date(2024, 12, 31)
    system = workers_date_system(_Workers(rows, on), on, POLICY)
    notes = protect_system(system, POLICY.protection_level, POLICY.note_complementary)
    assert audit_system(system, _published(notes), POLICY.protection_level) == []
    by_region: dict[str, set[int]] = {}
    for company, region, _ in rows:
        by_region.setdefault(region, set()).add(company)
    for region, companies in by_region.items():
        if len(companies) < POLICY.min_reporters:
            assert notes[("region", region)] is not None


@pytest.mark.parametrize("role", ["public", "member"])
def test_the_audit_of_a_small_store_passes_and_counts_what_it_checked(tmp_path, role):
    store, _ = _mt11_store(tmp_path)
    report = audit.audit_disclosure(store, role, POLICY, families=["coc"])
    assert report.ok, report.text()
    assert report.figures_checked > 0
    assert report.hidden_checked > 0
    assert "PASS" in report.text()
