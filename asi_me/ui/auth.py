"""Who is looking: the Viewer from login (OIDC via st.login) or, on demo data, a role switch.

Login is on when `.streamlit/secrets.toml` has an `[auth]` section. A logged-in
person's email is mapped to a role by `[asi_roles]` (see docs/configuration.md):
exact addresses in `[asi_roles.users]` first, then `[asi_roles.domains]`; values are
"secretariat", "public" or "member:<member_id>". Anyone else is public.

On the demo snapshot only, and when ASI_ALLOW_ROLE_SWITCH is on, the sidebar lets a
person view the app as public, a member company or the secretariat, also settable by
URL (`?role=secretariat`, `?role=member&member=M001`). Never on real data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from asi_me.filters import FilterError, Viewer
from asi_me.snapshot import Manifest
from asi_me.ui import state
from asi_me.vocab import Role, label

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


def role_for_email(email: str, config: Mapping[str, Any]) -> Viewer:
    """Map a login email to a Viewer through the `[asi_roles]` configuration; unknown -> public."""
    email = email.strip().lower()
    users = {str(k).lower(): str(v) for k, v in (config.get("users") or {}).items()}
    domains = {str(k).lower().lstrip("@"): str(v) for k, v in (config.get("domains") or {}).items()}
    rule = users.get(email)
    if rule is None and "@" in email:
        rule = domains.get(email.rsplit("@", 1)[1])
    if rule is None:
        return Viewer.public()
    role, _, member_id = rule.partition(":")
    try:
        if role == Role.MEMBER:
            return Viewer.member(member_id.strip())
        return Viewer(Role(role.strip()))
    except (ValueError, FilterError):
        log.warning("Role rule %r for %s is not valid; treating the person as public.", rule, email)
        return Viewer.public()


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
    if _auth_configured():
        user = st.user
        if user.get("is_logged_in"):
            email = str(user.get("email") or "")
            viewer = role_for_email(email, _roles_config())
            with st.sidebar:
                st.caption(f"Signed in as **{email or 'unknown'}** · {label(viewer.role)}")
                st.button("Log out", on_click=st.logout, key="asi_logout")
            return Access(viewer, "login", email)
        with st.sidebar:
            st.button("Log in", on_click=st.login, key="asi_login", help="Members and the Secretariat log in here.")

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
