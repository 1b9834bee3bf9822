"""Links from one screen to a section of another that keep the view: the global filters,
the role, presentation mode and the data version (v=) travel with the link; the target
screen's own parameters (e.g. the ToC node) are set, the current screen's are dropped.
A link is drawn only to a screen the viewer's role may open (the menu's rule)."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from asi_me.data.versions import VERSION_PARAM
from asi_me.data.vocab import Role
from asi_me.ui import screens
from asi_me.ui.filter_bar import FIELDS
from asi_me.ui.screens import Screen

# The frame's parameters: the view a link reproduces on any screen.
FRAME_PARAMS: tuple[str, ...] = (*FIELDS, "role", "member", "present", VERSION_PARAM)


def screen(url_path: str, role: Role) -> Screen | None:
    """The screen at `url_path` if the role may open it, else None."""
    for candidate in screens.SCREENS:  # looked up on each call: the frame's list
        if candidate.url_path == url_path:
            return candidate if role in candidate.roles else None
    return None


def carried_params(current: Mapping[str, list[str]], **wanted: str) -> dict[str, list[str]]:
    """The frame's parameters of `current` (a URL's query, each key with its values) plus `wanted`."""
    out = {key: list(values) for key, values in current.items() if key in FRAME_PARAMS and values}
    out.update({key: [value] for key, value in wanted.items() if value})
    return out


def screen_link(url_path: str, label: str, role: Role, *, icon: str | None = None, help: str | None = None,
                **params: str) -> bool:
    """A page link to the screen at `url_path` with the current view and `params`; nothing
    (and False) when the role may not open that screen."""
    target = screen(url_path, role)
    if target is None:
        return False
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    st.page_link(target.file, label=label, icon=icon or target.icon, help=help,
                 query_params=carried_params(current, **params))
    return True
