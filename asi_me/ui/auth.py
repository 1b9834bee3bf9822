"""Who is looking: the Viewer from login (OIDC via st.login) or, on demo data, a role switch.

Login is on when the secrets have an `[auth]` section. A logged-in person's OIDC claims
are mapped to a role by `[asi_roles]` (see docs/configuration.md): the exact e-mail
address in `[asi_roles.users]` first, then the groups claim in `[asi_roles.groups]`, then
the address's domain in `[asi_roles.domains]`; values are "secretariat", "public" or
"member:<member_id>". Anyone else is public, and so is a sign-in older than
`session_hours` (default 12) or a cookie Streamlit cannot verify.

On the demo snapshot only, and when ASI_ALLOW_ROLE_SWITCH is on, the sidebar lets a
person view the app as public, a member company or the secretariat, also settable by
URL (`?role=secretariat`, `?role=member&member=M001`). Never on real data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from asi_me.data.snapshot import Manifest
from asi_me.data.vocab import Role, label
from asi_me.filters import FilterError, Viewer
from asi_me.ui import state

log = logging.getLogger(__name__)

ROLE_KEY = "asi_role"
MEMBER_KEY = "asi_member"


@dataclass(frozen=True)
class Access:
    """The resolved viewer and how they got it, for the sidebar and the footer."""

    viewer: Viewer
    source: str  # "login", "switch" or "anonymous"
    email: str | None = None
    note: str | None = None


def is_demo(manifest: Manifest | None) -> bool:
    """Whether the snapshot is the fictitious demo dataset (its manifest says so)."""
    if manifest is None:
        return False
    if "demo" in (manifest.note or "").lower():
        return True
    return any(
        "demo" in str(src).lower() for info in manifest.tables.values() for src in info.get("sources", [])
    )


DEFAULT_SESSION_HOURS = 12.0
DEFAULT_GROUPS_CLAIM = "groups"


def _parse_rule(rule: str, source: str) -> Viewer | None:
    """A rule value ("secretariat", "public", "member:<id>") as a Viewer; None if malformed."""
    role, _, member_id = str(rule).strip().partition(":")
    try:
        if role.strip() == Role.MEMBER:
            return Viewer.member(member_id.strip())
        if member_id:
            raise ValueError(rule)
        return Viewer(Role(role.strip()))
    except (ValueError, FilterError):
        log.warning("Role rule %r (%s) is not valid: use secretariat, public or member:<member_id>; "
                    "the rule is ignored.", rule, source)
        return None


def _claim_groups(claims: Mapping[str, Any], claim_name: str) -> list[str]:
    raw = claims.get(claim_name)
    if raw is None:
        return []
    if isinstance(raw, str):
        return [part.strip() for part in raw.replace(",", " ").split() if part.strip()]
    if isinstance(raw, Sequence):
        return [str(part).strip() for part in raw if str(part).strip()]
    return []


def role_for_claims(claims: Mapping[str, Any], config: Mapping[str, Any]) -> Viewer:
    """Map a logged-in person's OIDC claims to a Viewer through the `[asi_roles]` configuration.

    Order: the exact e-mail address (`users`), then the groups claim (`groups`, claim named by
    `groups_claim`), then the address's domain (`domains`). Among several matching groups the
    secretariat wins; groups naming two different member companies match nothing (logged). An
    address whose `email_verified` claim is false is matched by groups only. Unknown -> public.
    """
    email = str(claims.get("email") or "").strip().lower()
    verified = claims.get("email_verified", True) not in (False, "false", "False", 0)
    users = {str(k).strip().lower(): v for k, v in (config.get("users") or {}).items()}
    domains = {str(k).strip().lower().lstrip("@"): v for k, v in (config.get("domains") or {}).items()}
    groups = {str(k).strip(): v for k, v in (config.get("groups") or {}).items()}
    claim_name = str(config.get("groups_claim") or DEFAULT_GROUPS_CLAIM)

    if email and verified and email in users:
        viewer = _parse_rule(users[email], "users")
        if viewer is not None:
            return viewer
    matched = [v for g in _claim_groups(claims, claim_name) if g in groups
               for v in [_parse_rule(groups[g], f"groups.{g}")] if v is not None]
    if any(v.role is Role.SECRETARIAT for v in matched):
        return Viewer.secretariat()
    members = {v.member_id for v in matched if v.role is Role.MEMBER}
    if len(members) == 1:
        return Viewer.member(members.pop())  # type: ignore[arg-type]
    if len(members) > 1:
        log.warning("A login's groups map to %d different member companies; the person is treated as "
                    "public. Give each person groups of one company only.", len(members))
    elif matched:
        return matched[0]
    if email and verified and "@" in email:
        rule = domains.get(email.rsplit("@", 1)[1])
        if rule is not None:
            viewer = _parse_rule(rule, "domains")
            if viewer is not None:
                return viewer
    return Viewer.public()


def role_for_email(email: str, config: Mapping[str, Any]) -> Viewer:
    """Map a login e-mail to a Viewer (the claims-based mapping with the address alone)."""
    return role_for_claims({"email": email}, config)


def session_hours(config: Mapping[str, Any]) -> float:
    """How long a sign-in stays valid (`[asi_roles] session_hours`), in hours."""
    raw = config.get("session_hours", DEFAULT_SESSION_HOURS)
    try:
        hours = float(raw)
    except (TypeError, ValueError):
        hours = 0.0
    if hours <= 0:
        log.warning("[asi_roles] session_hours = %r is not a positive number of hours; using %.0f.",
                    raw, DEFAULT_SESSION_HOURS)
        return DEFAULT_SESSION_HOURS
    return hours


def sign_in_expired(claims: Mapping[str, Any], hours: float, now: float | None = None) -> bool:
    """Whether the sign-in these claims describe is older than `hours` (by `auth_time`, else `iat`).

    Every ID token carries `iat`; user details without it (a proxy's trusted headers) are
    bounded only by Streamlit's own 30-day login cookie.
    """
    issued = claims.get("auth_time", claims.get("iat"))
    if issued is None:
        return False
    try:
        issued_at = float(issued)
    except (TypeError, ValueError):
        return True
    now = time.time() if now is None else now
    return now - issued_at > hours * 3600 or issued_at > now + 300  # 5 min of clock skew


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, AttributeError):
        return False
    except Exception:  # a malformed secrets file must not take the public site down
        log.exception("Could not read secrets; login is off.")
        return False


def _roles_config() -> Mapping[str, Any]:
    try:
        return st.secrets.get("asi_roles", {}) or {}
    except Exception:
        log.exception("Could not read [asi_roles] from secrets; every login is public.")
        return {}


def init_from_url() -> list[str]:
    """Seed the role switch from ?role= / ?member= once per session; return warnings."""
    warnings: list[str] = []
    if ROLE_KEY in st.session_state:
        return warnings
    raw_role = st.query_params.get("role")
    role = Role.PUBLIC
    if raw_role:
        try:
            role = Role(raw_role)
        except ValueError:
            warnings.append(
                f"The link asks for role {raw_role!r}, which does not exist; showing the public view. "
                "Use role=public, role=member or role=secretariat."
            )
    st.session_state.setdefault(ROLE_KEY, str(role))
    st.session_state.setdefault(MEMBER_KEY, st.query_params.get("member"))
    return warnings


def resolve_access(manifest: Manifest | None, allow_switch: bool, members: Sequence[tuple[str, str]]) -> Access:
    """Decide the viewer for this run and draw the sign-in / role controls in the sidebar.

    `members` lists (member_id, name) for the demo role switch.
    """
    expired_note: str | None = None
    if _auth_configured():
        user = st.user
        if user.get("is_logged_in"):
            config = _roles_config()
            claims = user.to_dict()
            email = str(claims.get("email") or "")
            if not sign_in_expired(claims, session_hours(config)):
                viewer = role_for_claims(claims, config)
                with st.sidebar:
                    st.caption(f"Signed in as **{email or 'unknown'}** · {label(viewer.role)}")
                    st.button("Log out", on_click=st.logout, key="asi_logout")
                return Access(viewer, "login", email)
            expired_note = "Your sign-in has expired; you are seeing the public view. Log in again to see more."
        with st.sidebar:
            st.button("Log in", on_click=st.login, key="asi_login", help="Members and the Secretariat log in here.")
        if expired_note:
            return Access(Viewer.public(), "anonymous", note=expired_note)

    demo = is_demo(manifest)
    requested = st.query_params.get("role")
    if not (demo and allow_switch):
        note = None
        if requested and requested != Role.PUBLIC:
            note = (
                f"The link asks for the {requested!r} view, but switching roles is only possible on the demo "
                "dataset; showing the public view. Log in to see more."
            )
        for key in ("role", "member"):
            if key in st.query_params:
                del st.query_params[key]
        return Access(Viewer.public(), "anonymous", note=note)

    state.restore([ROLE_KEY, MEMBER_KEY])
    warnings = init_from_url()
    with st.sidebar.expander("View as (demo data only)", expanded=st.session_state[ROLE_KEY] != Role.PUBLIC):
        role = st.radio(
            "Role", [r.value for r in Role], key=ROLE_KEY, format_func=label, horizontal=True,
            on_change=state.changed, args=(ROLE_KEY,),
            help="The demo dataset lets you preview what each role sees. Real data requires login.",
        )
        member_id: str | None = None
        if role == Role.MEMBER:
            # Listed only for the member view: 15,000 pairs at 100x, 2 ms a run for everyone else.
            member_ids = [m for m, _ in members]
            names = dict(members)
            if not member_ids:
                st.caption("No member companies in this snapshot.")
            else:
                if st.session_state.get(MEMBER_KEY) not in member_ids:
                    raw = st.session_state.get(MEMBER_KEY)
                    if raw:
                        warnings.append(f"The link asks for member {raw!r}, which is not in this snapshot; "
                                        f"showing {member_ids[0]} instead.")
                    state.put(MEMBER_KEY, member_ids[0])
                member_id = st.selectbox(
                    "Member company", member_ids, key=MEMBER_KEY, on_change=state.changed, args=(MEMBER_KEY,),
                    format_func=lambda m: f"{names.get(m, m)} ({m})",
                )
    state.remember([ROLE_KEY, MEMBER_KEY])
    viewer = Viewer.member(member_id) if role == Role.MEMBER and member_id else (
        Viewer.public() if role == Role.MEMBER else Viewer(Role(role))
    )
    _sync_url(viewer)
    return Access(viewer, "switch", note=" ".join(warnings) or None)


def _sync_url(viewer: Viewer) -> None:
    wanted = {"role": str(viewer.role)} if viewer.role is not Role.PUBLIC else {}
    if viewer.member_id:
        wanted["member"] = viewer.member_id
    for key in ("role", "member"):
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]
