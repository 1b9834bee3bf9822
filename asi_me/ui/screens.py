"""The app's screens: each page file, its menu title, icon, URL path and the roles that may open it.

Defined in a module rather than in app.py, which Streamlit executes afresh on every run:
building the dataclass there cost about a millisecond of every page run.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from asi_me.data.vocab import Role

# The browser tab's icon, a local image (a ":material/...:" icon is fetched from
# fonts.gstatic.com, which fails offline). Given to st.set_page_config as a data URL made
# once per process: a file path makes Streamlit read, hash and register the image on
# every page run of every session.
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"
FAVICON_URL = "data:image/png;base64," + base64.b64encode(FAVICON.read_bytes()).decode("ascii")

ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Screen:
    """One page of the app and the roles that may open it."""

    file: str
    title: str
    icon: str
    url_path: str
    roles: frozenset[Role] = ALL_ROLES
    default: bool = False


# Every screen is public; role-dependent sections live inside the pages (the Data
# screen's ingest log and quality detail are Secretariat-only). Each url_path is the
# file's name: until st.navigation has run once in a process, Streamlit resolves a
# deep link against the pages/ folder, and a matching name spares the first visitor
# of a freshly started server a "page not found" dialog.
SCREENS: tuple[Screen, ...] = (
    Screen("pages/outcomes.py", "Outcomes dashboard", ":material/dashboard:", "outcomes", default=True),
    Screen("pages/map.py", "Certification map", ":material/map:", "map"),
    Screen("pages/coc_flow.py", "CoC material flow", ":material/account_tree:", "coc_flow"),
    Screen("pages/toc.py", "Theory of change", ":material/hub:", "toc"),
    Screen("pages/evaluations.py", "Evaluations & Stories of Change", ":material/menu_book:", "evaluations"),
    Screen("pages/data.py", "Data", ":material/database:", "data"),
    Screen("pages/data_update.py", "Data › Update", ":material/upload_file:", "data_update",
           roles=frozenset({Role.SECRETARIAT})),
    Screen("pages/risks.py", "Risk register", ":material/warning:", "risks", roles=frozenset({Role.SECRETARIAT})),
)
