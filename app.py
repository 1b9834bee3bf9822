"""ASI M&E Explorer: the frame and the single router.

Page config, who is looking (login or demo role switch), the global filter bar bound
to the URL, the "data as of" stamp, then `st.navigation([...]).run()` with only the
pages the viewer's role may open. Pages are layout only; see asi_me/ui.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.navigation.page import StreamlitPage

from asi_me.data import versions
from asi_me.data.snapshot import Manifest, NoSnapshotError
from asi_me.data.store import Store
from asi_me.data.versions import VERSION_PARAM, Version
from asi_me.data.vocab import Role, label
from asi_me.publish.numbers import format_day
from asi_me.queries.members import member_companies
from asi_me.settings import Settings
from asi_me.ui import auth, board_pack, builds, cache, deck, filter_bar, observe, presentation, process, widgets
from asi_me.ui.context import PageContext, frame_done, is_phone, set_page_context
from asi_me.ui.screens import FAVICON_URL, SCREENS, Screen

_OWN_VERSION = "_asi_own_version"  # the data version this session last wrote into its URL
observe.configure_logging(default_format="text")  # JSON lines under the ASGI entrypoint (asi_me/ui/asgi.py)
log = logging.getLogger("asi_me.app")

ROOT = Path(__file__).resolve().parent
HOME_SUFFIX = "-home"  # the default page's internal url_path; see _home_twins


def screens_for(role: Role) -> list[Screen]:
    """The screens a role may open, in menu order; screens whose file is missing are left out."""
    out = []
    for screen in SCREENS:
        if role not in screen.roles:
            continue
        if not (ROOT / screen.file).is_file():
            log.warning("Screen %s is listed but %s does not exist; it is not shown.", screen.title, screen.file)
            continue
        out.append(screen)
    return out


def _home_twins(screens: Sequence[Screen]) -> list[StreamlitPage]:
    """Hidden twins of the home screen at its own url_path (/outcomes): Streamlit serves a default
    page only at "/", so its named URL would otherwise show "Page not found" over the dashboard.
    The default page itself takes an internal path no link shows (its URL is "/")."""
    return [
        st.Page(ROOT / s.file, title=s.title, icon=s.icon, url_path=s.url_path, visibility="hidden")
        for s in screens if s.default
    ]


def _pairs(companies: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    # whole columns to Python lists: iterating an Arrow-backed column took 0.22 s for 15,000 at 100x
    ids, names = companies["member_id"].astype(str).tolist(), companies["name"].astype(str).tolist()
    return tuple(zip(ids, names, strict=True))


def _member_choices(manifest: Manifest | None) -> Sequence[tuple[str, str]]:
    """(member_id, name) pairs for the demo role switch."""
    if manifest is None or not manifest.tables.get("members", {}).get("rows"):
        return []
    with widgets.friendly_errors("the list of member companies"):
        # Members holding a certification: a member's own view is about its certified entities.
        # Built once per snapshot: 15,000 pairs at 100x cost 20 ms to list on every run.
        return cache.cached_view("member_choices", (), lambda: _pairs(cache.cached(member_companies)))
    return ()


def main() -> None:
    presentation.init_from_url()
    presenting = presentation.is_presenting()
    st.set_page_config(
        page_title="ASI M&E Explorer",
        page_icon=FAVICON_URL,
        layout="wide",
        initial_sidebar_state="collapsed" if presenting else "auto",  # "auto": closed on a phone
        menu_items={"About": "ASI M&E Explorer: outcomes, certification and chain-of-custody data of the "
                              "Aluminium Stewardship Initiative."},
    )
    config = cache.settings()
    manifest: Manifest | None = None
    missing: str | None = None
    store: Store | None = None
    version: Version | None = None
    try:
        # A link's data version (v=) opens that snapshot while it is kept (asi_me/data/versions.py).
        # The version this session wrote into its own URL is not a pin: its next click serves
        # whatever is current, as before links carried versions.
        requested = st.query_params.get(VERSION_PARAM)
        if requested is not None and requested == st.session_state.get(_OWN_VERSION):
            requested = None
        store, version = cache.open_version(config, requested)
        manifest = store.manifest
        data_as_of = store.data_as_of
    except NoSnapshotError as exc:
        missing, data_as_of = str(exc), None
    # The whole run, menu and filters included, reads the snapshot resolved above.
    with cache.pinned_store(store):
        _render(config, store, version, manifest, data_as_of, missing, presenting)


def _render(  # noqa: PLR0917
    config: Settings, store: Store | None, version: Version | None, manifest: Manifest | None,
    data_as_of: date | None, missing: str | None, presenting: bool,
) -> None:
    if version is not None and not version.is_pinned:
        st.session_state[_OWN_VERSION] = version.current_id
        if st.query_params.get(VERSION_PARAM) != version.current_id:
            st.query_params[VERSION_PARAM] = version.current_id  # every link carries its data version

    menu = st.sidebar.container(key="asi_menu")  # first in the sidebar, filled once the role is known
    switching = config.allow_role_switch and auth.is_demo(manifest)  # the member list serves the switch only
    access = auth.resolve_access(manifest, config.allow_role_switch, _member_choices(manifest) if switching else ())
    screens = screens_for(access.viewer.role)
    pages = [
        st.Page(ROOT / s.file, title=s.title, icon=s.icon, default=s.default,
                url_path=f"{s.url_path}{HOME_SUFFIX}" if s.default else s.url_path)
        for s in screens
    ]
    routes = [*pages, *_home_twins(screens)]
    # The menu is drawn with page links: with client.showSidebarNavigation off, Streamlit's
    # legacy pages/ menu never shows, not even on a process's first request (see context.py).
    page = st.navigation(routes, position="hidden")
    observe.set_run_field("page", page.url_path or "home")
    observe.set_run_field("role", str(access.viewer.role))
    observe.set_run_field("snapshot", manifest.snapshot_id if manifest else None)
    # In presentation mode the page is a deck of slides; its header holds the filters in a popover.
    bar = deck.header() if presenting and store is not None else None
    # On a phone the menu and the filters are compact controls at the top; the sidebar stays closed.
    phone_filters = _phone_bar(page, pages) if bar is None and is_phone() else None
    filters = filter_bar.render(data_as_of, container=bar.filters if bar else phone_filters)
    presenting = presentation.toggle()
    presentation.inject_css(embed=widgets.embedded_chart())
    # Links carry the current URL state, so the next page opens with the same filters, role and mode.
    carried = {key: st.query_params.get_all(key) for key in st.query_params}
    with menu:
        for item in pages:
            st.page_link(item, label=item.title, icon=item.icon, query_params=carried)
        st.divider()

    context = PageContext(
        settings=config, viewer=access.viewer, filters=filters, manifest=manifest, data_as_of=data_as_of,
        is_demo=auth.is_demo(manifest), presenting=presenting,
    )
    set_page_context(context)

    if bar is None:
        st.title(page.title)
    technical = access.viewer.role is Role.SECRETARIAT  # version ids and commands are the secretariat's
    shown = store.snapshot_id if store is not None else None
    release = versions.release_name(config.data_dir, shown) if shown else None
    if bar is None:  # the deck's footer carries the dates and the data version
        widgets.data_as_of_stamp(data_as_of, context.as_of if filters.as_of else None,
                                 widgets.version_label(release, shown, technical=technical)
                                 if release and not presenting else None)
    for message in [*filter_bar.url_warnings(), *([access.note] if access.note else []),
                    *([version.reason] if version is not None and version.reason else [])]:
        st.warning(message, icon=":material/link_off:")
    if version is not None and version.is_pinned:
        widgets.pinned_version_banner(
            page, widgets.version_label(versions.release_name(config.data_dir, version.snapshot_id),
                                        version.snapshot_id, technical=technical), carried)
    if store is not None:
        _board_pack_button(bar.filters if bar else st.container(), store, context, release, technical)
    if store is not None and bar is None:
        widgets.share_link(page.title, versions.published_on(config.data_dir, store.snapshot_id))
    if not presenting:
        widgets.active_filters(filters)
        if access.viewer.role is not Role.PUBLIC:
            who = label(access.viewer.role) + (f" {access.viewer.member_id}" if access.viewer.member_id else "")
            st.caption(f"You are viewing as **{who}**. Public visitors see published aggregates only.")

    # A snapshot that fails verification is never served (asi_me/data/snapshot.py, `serve`).
    if (notice := cache.snapshot_notice(config)) and access.viewer.role is Role.SECRETARIAT:
        st.error(notice, icon=":material/gpp_bad:")
    if missing:
        frame_done()  # no page runs: a page run by URL alone must come back through this frame
        widgets.empty_state(
            "No figures can be shown: the data failed its integrity check." if "failed verification" in missing
            else "There is no data to show yet: no snapshot has been loaded.",
            hint=missing if technical else widgets.VISITOR_NO_DATA_HINT,
        )
    else:
        try:
            # The page's queries use the snapshot this run opened (one CURRENT read per run).
            with widgets.friendly_errors(f"the {page.title} screen"):
                if bar is not None:
                    deck.show(context, page.url_path.removesuffix(HOME_SUFFIX) or "outcomes", bar)
                else:
                    page.run()
        finally:
            frame_done()

    viewer_text = "Viewing as " + label(access.viewer.role)
    if access.viewer.member_id:
        viewer_text += f" ({access.viewer.member_id})"
    as_of_text = f"Figures as of {format_day(context.as_of)}" if data_as_of else "No data loaded"
    presentation.footer(
        [page.title if bar is None else "ASI M&E Explorer", *(filter_bar.describe(filters) or ["No filters"]),
         viewer_text, *([_sentence(widgets.version_label(release, shown, technical=technical))] if release else []),
         as_of_text], leave_button=bar is None,
    )
    # Once per screen and process: later runs' forced garbage collections skip the
    # modules and caches this run loaded (see asi_me/ui/process.py).
    process.freeze_heap_once(page.url_path)


def _board_pack_button(where: DeltaGenerator, store: Store, context: PageContext, release: str | None,
                       technical: bool) -> None:
    """"Prepare board pack": the deck's slides as a PDF for these filters and this data version,
    built in the background with its progress shown, then downloaded (asi_me/ui/board_pack.py,
    asi_me/ui/builds.py)."""
    viewer = context.viewer
    pack = board_pack.PackContext(
        viewer=viewer, filters=context.filters, filter_text=filter_bar.describe(context.filters) or ["No filters"],
        role_text="Viewing as " + label(viewer.role) + (f" ({viewer.member_id})" if viewer.member_id else ""),
        release=_sentence(widgets.version_label(release or "the current release", store.snapshot_id,
                                                technical=technical)),
        as_of=context.as_of, min_reporters=context.min_reporters,
    )
    with where:
        builds.build_download(
            "board pack (PDF)", key="asi_board_pack", what="the board pack",
            build_key=("board-pack", store.snapshot_id, repr(pack), date.today().isoformat()),
            make=lambda progress: board_pack.build(store, pack, progress),
            file_name=f"asi-board-pack-{context.as_of:%Y-%m-%d}.pdf", mime="application/pdf",
            icon=":material/picture_as_pdf:", button_type="tertiary",
            help="The six slides of presentation mode, with these filters on this data version, as a PDF.",
        )


_PHONE_NAV, _PHONE_GO = "asi_phone_nav", "asi_phone_go"


def _phone_bar(page: StreamlitPage, pages: list[StreamlitPage]) -> DeltaGenerator:
    """A phone's top bar: the screens as a drop-down (it closes once a screen is picked) and the
    filters in a popover. Returns the popover for the filter bar."""
    titles = {item.title: item for item in pages}
    chosen = st.session_state.pop(_PHONE_GO, None)
    if chosen in titles and chosen != page.title:
        carried = {key: st.query_params.get_all(key) for key in st.query_params}
        st.switch_page(titles[chosen], query_params=carried)
    st.session_state[_PHONE_NAV] = page.title if page.title in titles else next(iter(titles))
    with st.container(key="asi_phone_bar", horizontal=True, vertical_alignment="bottom"):
        st.selectbox("Screen", list(titles), key=_PHONE_NAV, label_visibility="collapsed", width=210,
                     on_change=lambda: st.session_state.__setitem__(_PHONE_GO, st.session_state[_PHONE_NAV]))
        return st.popover("Filters", icon=":material/filter_alt:", width="stretch")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def run_page() -> None:
    """One page run: queued for a run slot, tagged in the logs, counted in the metrics."""
    started = time.perf_counter()
    # A few runs at a time, the rest queued in order (see asi_me/ui/process.py); the wait counts.
    with observe.page_run(started), process.run_slot():
        main()


if __name__ == "__main__":  # streamlit runs the script as __main__; tests import SCREENS
    run_page()
