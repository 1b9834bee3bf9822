"""Login claims to roles: who gets the secretariat view, which member company, and when a
sign-in stops counting."""

from __future__ import annotations

from asi_me.filters import Viewer
from asi_me.ui.auth import role_for_claims, session_hours, sign_in_expired

CONFIG = {
    "users": {"ana@aluminium-stewardship.org": "secretariat", "Guest@Example-Metals.com": "public"},
    "groups": {
        "asi-staff": "secretariat",
        "member-M0001": "member:M0001",
        "member-M0002": "member:M0002",
        "broken": "member:",
    },
    "domains": {"example-metals.com": "member:M0001", "@aluminium-stewardship.org": "public"},
}


def test_an_exact_address_wins_over_groups_and_domain():
    assert role_for_claims({"email": "ANA@aluminium-stewardship.org"}, CONFIG) == Viewer.secretariat()
    claims = {"email": "guest@example-metals.com", "groups": ["member-M0001"]}
    assert role_for_claims(claims, CONFIG) == Viewer.public()


def test_a_groups_claim_gives_the_role_before_the_domain():
    assert role_for_claims({"email": "kim@aluminium-stewardship.org", "groups": ["asi-staff"]}, CONFIG) == (
        Viewer.secretariat()
    )
    assert role_for_claims({"email": "kim@aluminium-stewardship.org"}, CONFIG) == Viewer.public()
    assert role_for_claims({"email": "x@other.org", "groups": ["member-M0002"]}, CONFIG) == Viewer.member("M0002")
    # a provider that sends the groups as one space- or comma-separated string
    assert role_for_claims({"groups": "staff, member-M0002"}, CONFIG) == Viewer.member("M0002")


def test_the_groups_claim_name_is_configurable():
    config = {**CONFIG, "groups_claim": "roles"}
    assert role_for_claims({"roles": ["asi-staff"]}, config) == Viewer.secretariat()
    assert role_for_claims({"groups": ["asi-staff"]}, config) == Viewer.public()


def test_groups_of_two_companies_give_no_member_view():
    claims = {"email": "x@other.org", "groups": ["member-M0001", "member-M0002"]}
    assert role_for_claims(claims, CONFIG) == Viewer.public()
    # staff who also sit in a company's group are staff
    assert role_for_claims({"groups": ["member-M0001", "asi-staff"]}, CONFIG) == Viewer.secretariat()


def test_the_domain_maps_an_address_matched_by_nothing_else():
    assert role_for_claims({"email": "lee@example-metals.com"}, CONFIG) == Viewer.member("M0001")
    assert role_for_claims({"email": "lee@elsewhere.com"}, CONFIG) == Viewer.public()
    assert role_for_claims({}, CONFIG) == Viewer.public()


def test_an_unverified_address_is_matched_by_groups_only():
    unverified = {"email": "ana@aluminium-stewardship.org", "email_verified": False}
    assert role_for_claims(unverified, CONFIG) == Viewer.public()
    assert role_for_claims({**unverified, "groups": ["member-M0001"]}, CONFIG) == Viewer.member("M0001")
    assert role_for_claims({"email": "lee@example-metals.com", "email_verified": False}, CONFIG) == Viewer.public()


def test_a_malformed_rule_grants_nothing(caplog):
    assert role_for_claims({"groups": ["broken"]}, CONFIG) == Viewer.public()
    assert role_for_claims({"email": "a@b.org"}, {"users": {"a@b.org": "admin"}}) == Viewer.public()
    assert role_for_claims({"email": "a@b.org"}, {"users": {"a@b.org": "secretariat:M1"}}) == Viewer.public()
    assert "is not valid" in caplog.text


def test_a_sign_in_expires_after_the_configured_hours():
    now = 1_800_000_000.0
    assert not sign_in_expired({"iat": now - 3600}, 12, now)
    assert sign_in_expired({"iat": now - 13 * 3600}, 12, now)
    # auth_time (when the person actually typed a password) counts before iat
    assert sign_in_expired({"iat": now - 60, "auth_time": now - 13 * 3600}, 12, now)
    assert sign_in_expired({"iat": now + 3600}, 12, now)  # issued in the future: forged or a broken clock
    assert sign_in_expired({"iat": "yesterday"}, 12, now)
    assert session_hours({}) == 12
    assert session_hours({"session_hours": 2}) == 2
    assert session_hours({"session_hours": -1}) == 12
