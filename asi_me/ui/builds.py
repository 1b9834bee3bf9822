"""Files that take seconds to build, built in the background with their progress on screen.

The board pack (10-30 s), and the zip of CSVs and the Excel workbook of a large snapshot (5 s
and more at 100x ASI's size) are built by a small pool of worker threads, not in a page run.
Whoever asked sees a progress bar with the step in words ("Slide 3 of 6: ..."), the rest of
the page stays usable, and everyone asking for the same file (same snapshot, viewer scope and
filters) shares one build. A finished file is offered as a download button; a failed build
says so in plain words and offers to try again (the cause goes to the log).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from asi_me.progress import Progress

log = logging.getLogger(__name__)

WORKERS = 2  # builds at once in a process (the machine's cores); more wait their turn
KEEP_FINISHED = 8  # finished builds remembered (their bytes: board packs of about 1 MB)
MAX_UNFINISHED = 8  # builds running or waiting; more are refused until one finishes
BUSY = ("The server is busy preparing other files just now, so {what} was not started. Try again in a "
        "minute.")
POLL_SECONDS = 0.5  # how often the progress bar is redrawn


@dataclass(eq=False)
class Build:
    """One file being built: how far it has got, then its bytes (None when the file is kept
    elsewhere, e.g. the download folder) or what went wrong."""

    what: str  # "the board pack", for the progress and error lines
    fraction: float = 0.0
    step: str = "Waiting for a free worker"
    data: bytes | None = None
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

    def start(self, key: Hashable, what: str, make: Callable[[Progress], bytes | None]) -> Build:
        """The build for `key`: the one running or finished well, else a new one started now.
        With MAX_UNFINISHED builds already running or waiting, a new one is refused (it comes
        back finished, with the busy message), so clicks cannot queue work without end."""
        with self._lock:
            current = self._builds.get(key)
            if current is not None and current.error is None:
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
    def _run(build: Build, make: Callable[[Progress], bytes | None]) -> None:
        build.report(0.0, "Starting")
        try:
            data = make(build.report)
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
    label: str, *, key: str, build_key: Hashable, what: str, make: Callable[[Progress], bytes | None],
    file_name: str, mime: str, icon: str, help: str | None = None,
    saved: Callable[[], bytes] | None = None, button_type: str = "secondary",
) -> None:
    """A download that is built when asked: "Prepare <label>" starts the build, a progress bar
    follows it, then "Download <label>" hands the file out.

    `make(progress)` builds the file and returns its bytes, or None when it keeps them
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
            data = build.data if build.data is not None else saved
            if data is not None:
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
