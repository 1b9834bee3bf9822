"""Files that take seconds to build, built in the background with their progress on screen.

The board pack (10-30 s), and the zip of CSVs and the Excel workbook of a large snapshot (5 s
and more at 100x ASI's size) are built by a small pool of worker threads, not in a page run.
Whoever asked sees a progress bar with the step in words ("Slide 3 of 6: ..."), the rest of
the page stays usable, and everyone asking for the same file (same snapshot, viewer scope and
filters) shares one build. A finished file is offered as a download button; a failed build
says so in plain words and offers to try again (the cause goes to the log).

`file_download` is the Data screen's one way to offer a download file (a table's CSV, the zip,
the workbook): a small one as a button that builds it on click, a large one built in the
background straight into the download folder and then offered as a link that streams it
(asi_me/publish/file_links.py), so neither the build nor the download holds the file in memory.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from asi_me.data.store import Store
from asi_me.filters import Filters, Viewer
from asi_me.progress import Progress
from asi_me.publish import exports, file_links

log = logging.getLogger(__name__)

WORKERS = 2  # builds at once in a process (the machine's cores); more wait their turn
KEEP_FINISHED = 8  # finished builds remembered (their bytes: board packs of about 1 MB)
MAX_UNFINISHED = 8  # builds running or waiting; more are refused until one finishes
BUSY = ("The server is busy preparing other files just now, so {what} was not started. Try again in a "
        "minute.")
POLL_SECONDS = 0.5  # how often the progress bar is redrawn


@dataclass(eq=False)
class Build:
    """One file being built: how far it has got, then its bytes, or the path of the file on
    disk it was written to, (both None when the file is kept elsewhere), or what went wrong."""

    what: str  # "the board pack", for the progress and error lines
    fraction: float = 0.0
    step: str = "Waiting for a free worker"
    data: bytes | None = None
    path: Path | None = None
    size: int | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    def report(self, fraction: float, step: str) -> None:
        self.fraction, self.step = min(max(float(fraction), 0.0), 1.0), step

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def gone(self) -> bool:
        """Built to a file that is no longer there (the download folder evicted it)."""
        return self.path is not None and not self.path.is_file()

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started


class Builds:
    """The process's builds by key; a key names everything that decides the file's bytes."""

    def __init__(self, workers: int = WORKERS, keep: int = KEEP_FINISHED) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="asi-build")
        self._keep = keep
        self._lock = threading.Lock()
        self._builds: OrderedDict[Hashable, Build] = OrderedDict()

    def get(self, key: Hashable) -> Build | None:
        with self._lock:
            return self._builds.get(key)

    def start(self, key: Hashable, what: str, make: Callable[[Progress], bytes | Path | None]) -> Build:
        """The build for `key`: the one running or finished well, else a new one started now.
        With MAX_UNFINISHED builds already running or waiting, a new one is refused (it comes
        back finished, with the busy message), so clicks cannot queue work without end."""
        with self._lock:
            current = self._builds.get(key)
            if current is not None and current.error is None and not (current.done and current.gone):
                self._builds.move_to_end(key)
                return current
            if sum(not b.done for b in self._builds.values()) >= MAX_UNFINISHED:
                refused = Build(what, error=BUSY.format(what=what))
                refused.finished = time.monotonic()
                self._builds[key] = refused
                return refused
            build = self._builds[key] = Build(what)
            finished = [k for k, b in self._builds.items() if b.done]
            for old in finished[: max(0, len(finished) - self._keep)]:
                del self._builds[old]
        self._pool.submit(self._run, build, make)
        return build

    @staticmethod
    def _run(build: Build, make: Callable[[Progress], bytes | Path | None]) -> None:
        build.report(0.0, "Starting")
        try:
            data = make(build.report)
            if isinstance(data, Path):
                build.path, build.size = data, data.stat().st_size
            else:
                build.data, build.size = data, (len(data) if data is not None else None)
            build.report(1.0, "Ready")
        except Exception:
            log.exception("Could not build %s", build.what)
            build.error = (f"Sorry, {build.what} could not be built because of an internal error. It has "
                           "been logged for the data team; try again, or try other filters.")
        finally:
            build.finished = time.monotonic()


_builds = Builds()


def registry() -> Builds:
    return _builds


def _size(data_size: int | None) -> str:
    if data_size is None:
        return ""
    return f"{data_size / 1_000_000:.1f} MB" if data_size >= 100_000 else f"{data_size / 1000:.0f} kB"


def build_download(
    label: str, *, key: str, build_key: Hashable, what: str, make: Callable[[Progress], bytes | Path | None],
    file_name: str, mime: str, icon: str, help: str | None = None,
    saved: Callable[[], bytes] | None = None, button_type: str = "secondary",
) -> None:
    """A download that is built when asked: "Prepare <label>" starts the build, a progress bar
    follows it, then "Download <label>" hands the file out.

    `make(progress)` builds the file and returns its bytes, or the path of the file it wrote
    (then offered as a link that streams it, see `file_button`), or None when it keeps them
    elsewhere; then `saved()` reads them back when the button is clicked. The button and the
    bar are a fragment, so neither a click nor the bar's redraws run the page again; the bar is
    an inner fragment on a timer, which stops once the outer one no longer draws it.
    """
    asked_key = f"asi_build_{key}"

    def ask() -> None:
        _builds.start(build_key, what, make)
        st.session_state[asked_key] = build_key

    @st.fragment(run_every=POLL_SECONDS)
    def progress_bar() -> None:
        build = _builds.get(build_key)
        if build is None:
            return
        if build.done and get_script_run_ctx().fragment_ids_this_run:
            st.rerun(scope="app")  # the download replaces the bar, and the timer stops
        st.progress(build.fraction, text=f"Preparing {what}: {build.step} ({build.seconds:.0f} s)")

    @st.fragment
    def part() -> None:
        build = _builds.get(build_key)
        asked = st.session_state.get(asked_key) == build_key
        if build is not None and build.done and build.error is None:
            if build.path is not None and not build.gone:
                ready = f"Ready ({_size(build.size)})." if build.size else "Ready."
                file_button(f"Download {label}", build.path, key=f"{key}_ready", file_name=file_name, mime=mime,
                            icon=icon, button_type=button_type, help=" ".join(filter(None, [help, ready])))
                return
            data = build.data if build.data is not None else saved
            if data is not None and build.path is None:
                ready = f"Ready ({_size(build.size)})." if build.size else "Ready."
                st.download_button(f"Download {label}", data, file_name=file_name, mime=mime, icon=icon,
                                   key=f"{key}_ready", on_click="ignore", type=button_type,
                                   help=" ".join(filter(None, [help, ready])))
                return
            build = None  # nothing was kept: build it again
        if build is not None and asked and not build.done:
            progress_bar()
            return
        again = build is not None and asked and build.error is not None
        if again:
            st.error(build.error, icon=":material/error:")
        st.button(f"{'Try again: prepare' if again else 'Prepare'} {label}", key=f"{key}_prepare", icon=icon,
                  type=button_type, on_click=ask,
                  help=" ".join(filter(None, [help, "It is built in the background with its progress shown "
                                                    "here; then a button downloads it."])))

    part()


def file_button(label: str, path: Path, *, key: str, file_name: str, mime: str, icon: str,
                help: str | None = None, button_type: str = "secondary") -> None:
    """A built file on disk offered for download. Under the ASGI entrypoint, a link that streams
    it (asi_me/publish/file_links.py; only this session is given the link, renewed while it
    is shown); under `streamlit run`, which serves no such route, st.download_button, which
    reads the whole file into the server's memory when it is clicked."""
    if not file_links.is_serving():
        st.download_button(label, path.read_bytes, file_name=file_name, mime=mime, icon=icon, key=key,
                           on_click="ignore", type=button_type, help=help)
        return
    held = st.session_state.get(f"asi_link_{key}")
    now = time.monotonic()
    if held is None or held[1].path != path or held[1].expires - now < file_links.RENEW_SECONDS:
        held = file_links.issue(path, file_name, mime)
        st.session_state[f"asi_link_{key}"] = held
    st.link_button(label, file_links.url(*held), icon=icon, type=button_type, help=help)


def file_download(
    label: str, *, key: str, what: str, build_key: Hashable, large: bool,
    make_bytes: Callable[[Progress | None], bytes], make_file: Callable[[Progress | None], Path],
    is_built: Callable[[], bool], file_name: str, mime: str, icon: str, prepare_label: str | None = None,
    help: str | None = None,
) -> None:
    """One download of the Data screen: a table's CSV, the zip or the workbook.

    A small file (`large` False) is a button that builds it on click (`make_bytes`, held in
    memory: it is small). A large one already built (`is_built`) is offered at once by
    `file_button`; one not yet built is prepared in the background with its progress shown
    (`build_download`), written straight into the download folder by `make_file`, then
    offered by `file_button`. A download folder that cannot be written only means the large
    file is built in memory, as a small one is. `prepare_label` names it on the "Prepare ..."
    button (default `label`)."""
    if not large:
        st.download_button(label, lambda: make_bytes(None), file_name=file_name, mime=mime, key=key,
                           on_click="ignore", icon=icon, help=help)
        return
    if is_built():
        try:
            path = make_file(None)  # found in the download folder: nothing is built
        except OSError:
            log.warning("Could not open the built %s in the download folder; building it again.", what,
                        exc_info=True)
        else:
            file_button(label, path, key=key, file_name=file_name, mime=mime, icon=icon, help=help)
            return

    def make(progress: Progress) -> bytes | Path:
        try:
            return make_file(progress)
        except OSError:
            log.warning("Could not write %s into the download folder; building it in memory.", what,
                        exc_info=True)
            return make_bytes(progress)

    build_download(prepare_label or label, key=f"{key}_build", what=what, build_key=build_key, make=make,
                   file_name=file_name, mime=mime, icon=icon, help=help)


def table_download(store: Store, viewer: Viewer, filters: Filters, name: str, title: str) -> None:
    """One table (or published aggregate) as CSV: built on click, or for a table of a million
    rows or more, built in the background into the download folder with the rows written
    counted on a progress bar, then streamed (`file_download`)."""
    file_download(
        f"Download {title} (CSV)", key="dl_table_csv", what=f"the {title} CSV", prepare_label=f"{title} (CSV)",
        build_key=("csv", store.snapshot_id, name, repr(viewer), repr(filters)),
        large=exports.table_rows(store, name) >= exports.LARGE_DOWNLOAD_ROWS,
        make_bytes=lambda progress: exports.table_csv(store, viewer, name, filters, progress),
        make_file=lambda progress: exports.table_csv_file(store, viewer, name, filters, progress),
        is_built=lambda: exports.table_is_built(store, viewer, name, filters),
        file_name=f"asi-{name}.csv", mime="text/csv", icon=":material/download:",
    )


# kind: (button label, name on the "Prepare" button and progress bar, file name, type, icon,
#        the exports function building it in memory; its `_file` twin writes it to disk)
_WHOLE = {
    "xlsx": ("Excel workbook (everything above)", "Excel workbook (everything above)", "asi-me-data.xlsx",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ":material/table_view:",
             "download_workbook"),
    "zip": ("Zip of CSVs with README", "zip of CSVs with README", "asi-me-data.zip", "application/zip",
            ":material/folder_zip:", "download_zip"),
}


def whole_download(store: Store, viewer: Viewer, filters: Filters, kind: str) -> None:
    """The workbook ("xlsx") or the zip ("zip") of everything the viewer may download: built on
    click, or for a snapshot of a million table rows or more (the manifest's counts), built in
    the background into the download folder with a progress bar, then streamed (`file_download`)."""
    label, named, file_name, mime, icon, builder = _WHOLE[kind]
    in_memory, to_file = getattr(exports, builder), getattr(exports, f"{builder}_file")
    file_download(
        label, key=f"dl_{kind}", what=f"the {named}", prepare_label=named,
        build_key=(kind, store.snapshot_id, repr(viewer), repr(filters), date.today().isoformat()),
        large=exports.download_rows(store, viewer) >= exports.LARGE_DOWNLOAD_ROWS,
        make_bytes=lambda progress: in_memory(store, viewer, filters, progress),
        make_file=lambda progress: to_file(store, viewer, filters, progress),
        is_built=lambda: exports.is_built(store, kind, viewer, filters),
        file_name=file_name, mime=mime, icon=icon,
    )
