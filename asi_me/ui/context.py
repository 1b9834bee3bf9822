"""What the frame (app.py) resolved for this run, handed to the page it runs.

app.py stores one PageContext in session state before `page.run()`; a page reads it
with `page_context()`. Nothing here touches data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from asi_me.data.snapshot import Manifest
from asi_me.data.vocab import Role
from asi_me.filters import Filters, Viewer
from asi_me.settings import Settings

_KEY = "asi_page_context"
_ACTIVE = "asi_frame_active"
_REROUTES = "asi_reroutes"


@dataclass(frozen=True)
class PageContext:
    """The viewer, the filters and the snapshot facts every page needs."""

    settings: Settings
    viewer: Viewer
    filters: Filters
    manifest: Manifest | None
    data_as_of: date | None
    is_demo: bool
    presenting: bool

    @property
    def as_of(self) -> date:
        """The date figures are counted on: the filter's, else the data's, else today."""
        return self.filters.as_of or self.data_as_of or date.today()

    @property
    def has_data(self) -> bool:
        """Whether the snapshot holds any rows at all."""
        return self.manifest is not None and any(t.get("rows", 0) for t in self.manifest.tables.values())

    @property
    def min_reporters(self) -> int:
        return self.settings.min_reporters

    def rows(self, table: str) -> int:
        """Rows of one table in the snapshot (0 if unknown)."""
        if self.manifest is None:
            return 0
        return int(self.manifest.tables.get(table, {}).get("rows", 0))


def set_page_context(context: PageContext) -> None:
    """Called by app.py right before `page.run()`; `frame_done()` right after."""
    st.session_state[_KEY] = context
    st.session_state[_ACTIVE] = True
    st.session_state[_REROUTES] = 0


def current_viewer() -> Viewer | None:
    """The viewer the frame resolved for this run, if it got that far (for widgets' wording)."""
    context = st.session_state.get(_KEY)
    return context.viewer if isinstance(context, PageContext) else None


def is_secretariat() -> bool:
    """Whether this run's viewer may see technical detail (version ids, paths, commands)."""
    viewer = current_viewer()
    return viewer is not None and viewer.role is Role.SECRETARIAT


_PHONE = re.compile(r"Mobi|Android|iPhone|iPod")


def is_phone() -> bool:
    """Whether the browser says it is a phone (its User-Agent): the map then fits the world to a
    narrow screen. Layout itself follows the screen width in CSS (asi_me/ui/presentation.py)."""
    try:
        agent = st.context.headers.get("User-Agent", "") or ""
    except Exception:  # no request (tests, bare runs)
        return False
    return bool(_PHONE.search(agent))


def frame_done() -> None:
    st.session_state[_ACTIVE] = False


def page_context() -> PageContext:
    """The context app.py resolved for this run. Pages only ever run inside the frame.

    Streamlit decides, before app.py first runs in a process, whether a `pages/` folder
    next to it means legacy auto-discovery; in that mode a URL such as /data would run
    pages/data.py on its own, skipping the frame's role check and filters (AppTest
    resets to that mode on every run). A page run without the frame therefore switches
    routing to st.navigation and reruns, so app.py decides which pages exist.
    """
    if not st.session_state.get(_ACTIVE):
        attempts = int(st.session_state.get(_REROUTES, 0))
        if attempts >= 3:
            raise RuntimeError("Pages run through app.py: start the app with `streamlit run app.py`.")
        st.session_state[_REROUTES] = attempts + 1
        PagesManager.uses_pages_directory = False
        st.rerun()
    return st.session_state[_KEY]
