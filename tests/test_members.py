"""A member's own view: its certifications and name, and the companies the role switch lists."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import auditing_firm, certification, facility, make_store, member

from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.queries import members


@pytest.fixture
def store(tmp_path) -> Store:
    # M1 holds C1; M2 holds C2 (CoC) and C3 (PS); M3 has a facility but no certification.
    return make_store(
        tmp_path,
        members=[member("M1", name="Zeta Metals"), member("M2", name="Alpha Rolling"),
                 member("M3", name="Beta Cans")],
        facilities=[facility("F1", "M1"), facility("F2", "M2"), facility("F3", "M2"), facility("F4", "M3")],
        certifications=[
            certification("C1", "F1"),
            certification("C2", "F2"),
            certification("C3", "F3", standard="PS", standard_version="PS-2017", issued_on=date(2020, 6, 1)),
        ],
        auditing_firms=[auditing_firm()],
    )


def test_role_switch_lists_certified_companies_by_name(store):
    frame = members.member_companies(store)
    assert frame[["member_id", "name"]].values.tolist() == [["M2", "Alpha Rolling"], ["M1", "Zeta Metals"]]


def test_a_member_sees_only_its_own_certifications(store):
    assert members.own_certifications(store, Viewer.member("M2"))["certification_id"].tolist() == ["C2", "C3"]
    assert members.own_certifications(store, Viewer.member("M1"))["certification_id"].tolist() == ["C1"]
    assert members.own_certifications(store, Viewer.member("M3")).empty


def test_filters_narrow_a_members_own_certifications(store):
    ps_only = members.own_certifications(store, Viewer.member("M2"), Filters(standards=("PS",)))
    assert ps_only["certification_id"].tolist() == ["C3"]
    # C3 was issued in June 2020: on 1 Jan 2020 M2 held only C2.
    early = members.own_certifications(store, Viewer.member("M2"), Filters(as_of=date(2020, 1, 1)))
    assert early["certification_id"].tolist() == ["C2"]


def test_public_gets_no_rows_and_secretariat_gets_every_row(store):
    public = members.own_certifications(store, Viewer.public())
    assert public.empty
    assert "certification_id" in public.columns
    everything = members.own_certifications(store, Viewer.secretariat())
    assert sorted(everything["certification_id"]) == ["C1", "C2", "C3"]


def test_own_company_name_only_for_a_member(store):
    assert members.own_company_name(store, Viewer.member("M2")) == "Alpha Rolling"
    assert members.own_company_name(store, Viewer.member("M9")) is None
    assert members.own_company_name(store, Viewer.public()) is None
    assert members.own_company_name(store, Viewer.secretariat()) is None
