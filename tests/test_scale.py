"""Scaled snapshots: N copies with valid references, the same shape, and the CoC balance kept."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import arrow_schema, current_manifest
from asi_me.data.store import Store
from asi_me.demo.scale import ScaleError, scale_tables, write_scaled
from tests.conftest import write_tables

AS_OF = date(2026, 10, 31)


def _tables(**rows: list[dict]) -> dict[str, pa.Table]:
    out = {}
    for name in TABLES:
        schema = arrow_schema(TABLES[name])
        given = rows.get(name, [])
        out[name] = pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in given], schema=schema)
    return out


def _small_world() -> dict[str, pa.Table]:
    return _tables(
        members=[{"member_id": "M1", "name": "Acme", "membership_class": "production_transformation",
                  "country": "DE", "joined_on": date(2016, 3, 1), "left_on": None}],
        facilities=[
            {"facility_id": "F1", "member_id": "M1", "name": "Acme Mill", "country": "DE", "latitude": 50.0,
             "longitude": 8.0, "activities": ["semi_fabrication"], "workers": 100},
            {"facility_id": "F2", "member_id": "M1", "name": "Acme Plant", "country": "DE", "latitude": None,
             "longitude": None, "activities": ["material_conversion"], "workers": 50},
        ],
        certifications=[{
            "certification_id": "PS-2024-001", "facility_id": "F1", "standard": "PS",
            "standard_version": "PS-2022", "certification_type": "full", "status": "certified",
            "issued_on": date(2023, 11, 10), "expires_on": date(2026, 11, 10), "status_changed_on": None,
            "scope": "All", "auditing_firm_id": "AF01", "external_certifications": [],
        }],
        audits=[{"audit_id": "A1", "certification_id": "PS-2024-001", "audit_type": "initial",
                 "audited_on": date(2023, 10, 1), "auditing_firm_id": "AF01"}],
        auditing_firms=[{"auditing_firm_id": "AF01", "name": "Audits Ltd", "accredited_on": date(2017, 9, 1),
                         "accreditation_ended_on": None, "countries": ["DE"]}],
        coc_reports=[
            # balanced: 900 <= 1000 x 1.0 + 0
            {"facility_id": "F1", "reporting_year": 2024, "stage": "semi_fabrication",
             "material": "asi_aluminium", "input_t": 1000.0, "output_t": 900.0, "carried_forward_t": 0.0,
             "submitted_on": date(2025, 5, 1), "due_on": date(2025, 5, 31)},
            # deliberate failure: 1200 > 1000 x 1.0 + 100
            {"facility_id": "F2", "reporting_year": 2024, "stage": "material_conversion",
             "material": "asi_aluminium", "input_t": 1000.0, "output_t": 1200.0, "carried_forward_t": 100.0,
             "submitted_on": date(2025, 5, 1), "due_on": date(2025, 5, 31)},
        ],
        indicators=[{"indicator_code": "OP-01", "name": "Members", "definition": "d", "unit": "count",
                     "level": "1", "data_source": "CRM", "frequency": "monthly", "is_iseal_cci": False,
                     "direction": "increase", "toc_node_id": "N1"}],
        indicator_observations=[
            {"indicator_code": "OP-01", "period_on": date(2024, m, 1), "dimension": "total",
             "dimension_value": "all", "value": 100.0 + m, "status": "final"} for m in (3, 1, 2)
        ],
        toc_nodes=[{"node_id": "N1", "label": "Members", "node_type": "output"}],
    )


def test_each_entity_is_copied_with_suffixed_ids_and_reference_tables_are_not() -> None:
    scaled = scale_tables(_small_world(), 3, AS_OF)

    assert sorted(scaled["members"]["member_id"].to_pylist()) == ["M1", "M1-x1", "M1-x2"]
    assert scaled["facilities"].num_rows == 6
    assert scaled["indicator_observations"].num_rows == 9
    assert scaled["auditing_firms"].num_rows == 1
    assert scaled["toc_nodes"].num_rows == 1
    # copy 2 of facility F1 belongs to copy 2 of member M1
    facilities = {r["facility_id"]: r for r in scaled["facilities"].to_pylist()}
    assert facilities["F1-x2"]["member_id"] == "M1-x2"
    assert facilities["F1-x2"]["name"] == "Acme Mill #2"
    assert facilities["F1"]["latitude"] == 50.0  # the original is untouched
    assert facilities["F2-x1"]["latitude"] is None  # missing coordinates stay missing
    audits = {r["audit_id"]: r["certification_id"] for r in scaled["audits"].to_pylist()}
    assert audits == {"A1": "PS-2024-001", "A1-x1": "PS-2024-001-x1", "A1-x2": "PS-2024-001-x2"}


def test_dates_of_a_copy_move_together_and_never_after_the_as_of_date() -> None:
    scaled = scale_tables(_small_world(), 20, AS_OF)
    certs = {r["certification_id"]: r for r in scaled["certifications"].to_pylist()}
    audits = {r["certification_id"]: r["audited_on"] for r in scaled["audits"].to_pylist()}
    for cert_id, cert in certs.items():
        # the audit stays 40 days before issue and the certificate runs three years in every copy
        assert (cert["issued_on"] - audits[cert_id]).days == 40
        assert cert["issued_on"] <= date(2023, 11, 10)
        assert date(2023, 10, 11) <= cert["issued_on"]
        # a copy whose expiry moved before the as-of date is exported as expired
        assert cert["status"] == ("expired" if cert["expires_on"] <= AS_OF else "certified")
    assert {c["status"] for c in certs.values()} == {"certified", "expired"}


def test_coc_mass_balance_holds_in_every_copy_except_copies_of_the_deliberate_failure() -> None:
    scaled = scale_tables(_small_world(), 50, AS_OF)
    for row in scaled["coc_reports"].to_pylist():
        balanced = row["output_t"] <= row["input_t"] * 1.0 + row["carried_forward_t"]
        assert balanced == row["facility_id"].startswith("F1"), row


def test_observations_are_written_sorted_by_indicator_and_period() -> None:
    scaled = scale_tables(_small_world(), 2, AS_OF)
    keys = [(r["indicator_code"], r["period_on"]) for r in scaled["indicator_observations"].to_pylist()]
    assert keys == sorted(keys)
    assert keys[0] == ("OP-01", date(2024, 1, 1))
    assert keys[-1] == ("OP-01-x1", date(2024, 3, 1))


def test_write_scaled_makes_a_snapshot_whose_keys_are_unique_and_references_resolve(tmp_path: Path) -> None:
    source = write_tables(tmp_path / "source", **{name: t.to_pylist() for name, t in _small_world().items()})
    snapshot_id = write_scaled(4, tmp_path / "x4", source_dir=source)

    manifest = current_manifest(tmp_path / "x4")
    assert manifest.snapshot_id == snapshot_id
    assert manifest.tables["facilities"]["rows"] == 8
    assert manifest.data_as_of == "2025-05-01"  # copies only move back in time: the CoC submission is latest
    store = Store.open_current(tmp_path / "x4")
    try:
        for name, spec in TABLES.items():
            keys = ", ".join(spec.key)
            dupes = store.query(f"select count(*) - count(distinct ({keys})) as n from {name}")["n"].iloc[0]
            assert dupes == 0, name
            for column, (target, target_column) in spec.references.items():
                missing = store.query(
                    f"select count(*) as n from {name} s where s.{column} is not null and s.{column} not in "
                    f"(select {target_column} from {target})"
                )["n"].iloc[0]
                assert missing == 0, (name, column)
    finally:
        store.close()


def test_write_scaled_refuses_the_committed_data_folder_and_bad_factors(tmp_path: Path) -> None:
    from asi_me.settings import REPO_ROOT

    with pytest.raises(ScaleError, match="inside the committed data folder"):
        write_scaled(2, REPO_ROOT / "data" / "x2")
    with pytest.raises(ScaleError, match="at least 1"):
        write_scaled(0, tmp_path / "x0")
