"""A member company's own view: its certifications and name for the viewer, and the
companies the demo role switch can show a member's view for."""

from __future__ import annotations

import pandas as pd

from asi_me.data.store import Store
from asi_me.data.vocab import Role
from asi_me.filters import Filters, Viewer
from asi_me.queries.certifications import certification_register, run_query


def own_certifications(store: Store, viewer: Viewer, filters: Filters | None = None) -> pd.DataFrame:
    """The register rows (columns of `certification_register`) of the viewer's own company.

    A public viewer has no company and gets no rows; a member gets only its own
    facilities' certifications; the secretariat gets every row. Every filter applies.
    """
    register = certification_register(store, viewer, filters)
    if viewer.sees_everything:
        return register
    if viewer.role is not Role.MEMBER or not viewer.member_id:
        return register.head(0)
    mine = register["member_id"].eq(viewer.member_id).fillna(False).astype(bool)
    return register.loc[mine].reset_index(drop=True)


def own_company_name(store: Store, viewer: Viewer) -> str | None:
    """The name of the member company the viewer belongs to; None for other roles or an unknown id."""
    if viewer.role is not Role.MEMBER or not viewer.member_id:
        return None
    frame = run_query(store, "members_name", {"member_id": viewer.member_id})
    return None if frame.empty else str(frame["name"].iloc[0])


def member_companies(store: Store) -> pd.DataFrame:
    """(member_id, name) of every member company holding a certification, sorted by name.

    For the demo role switch, which lists companies before anyone is signed in: it is not
    in QUERY_FUNCTIONS because it names every member for whoever asks.
    """
    return run_query(store, "members_with_certification", {})


QUERY_FUNCTIONS = [
    own_certifications,
    own_company_name,
]
