"""Server-side run time of every page with Streamlit's AppTest, cold and warm.

For each screen app.py routes to (the public viewer, default filters): a cold run with
every st.cache_data / st.cache_resource cache and every memo of the project emptied
(asi_me/memos.py: the Store is reopened and every query and protection runs), then warm
runs of a fresh AppTest session over the filled caches. Modules are imported once
beforehand, so "cold" is about data, not Python imports.

    python benchmarks/page_runs.py --data-dir DIR --reps 5 --json OUT
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, stats_ms, write_json

APP = REPO_ROOT / "app.py"
TIMEOUT_S = 300


def _app_test(data_dir: Path) -> Any:
    from streamlit.testing.v1 import AppTest

    os.environ["ASI_DATA_DIR"] = str(data_dir)
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)


def _screens() -> list[tuple[str, str]]:
    """(file, title) of the screens app.py routes the public viewer to (asi_me.ui.screens.SCREENS)
    whose file exists: the benchmark runs as a public visitor, who never reaches Data > Update."""
    from asi_me.data.vocab import Role
    from asi_me.ui.screens import SCREENS

    return [(screen.file, screen.title) for screen in SCREENS
            if Role.PUBLIC in screen.roles and (REPO_ROOT / screen.file).is_file()]


def _run_page(data_dir: Path, file: str) -> tuple[float, Any]:
    """One session: the home page first (st.navigation registers the pages), then `file`, timed."""
    at = _app_test(data_dir)
    at.run()
    at.switch_page(file)
    t0 = time.perf_counter()
    at.run()
    return time.perf_counter() - t0, at


def _clear_caches() -> None:
    """Streamlit's caches and every memo of the project: a cold run builds what it shows."""
    import streamlit as st

    from asi_me.memos import forget_memos

    st.cache_data.clear()
    st.cache_resource.clear()
    forget_memos()


def run(data_dir: Path, reps: int) -> dict[str, Any]:
    logging.disable(logging.WARNING)
    screens = _screens()
    if not screens:
        return {"error": f"{APP} lists no screen whose file exists", "pages": []}
    # Import every module the pages use once, so the cold run measures data, not imports.
    _run_page(data_dir, screens[0][0])
    for file, _ in screens:
        try:
            _run_page(data_dir, file)
        except Exception:
            continue
    pages = []
    for file, title in screens:
        entry: dict[str, Any] = {"page": title, "file": file}
        try:
            _clear_caches()
            # The home run in the same session fills the app frame's caches; what is timed
            # is the page's own run with its queries uncached.
            at = _app_test(data_dir)
            at.run()
            _clear_caches()
            at.switch_page(file)
            t0 = time.perf_counter()
            at.run()
            cold = time.perf_counter() - t0
            entry["cold_ms"] = round(1000 * cold, 1)
            entry["exceptions"] = [str(e.value)[:300] for e in at.exception]
            entry["elements"] = len(list(at.main))
            warm = []
            for _ in range(max(1, reps)):
                seconds, at = _run_page(data_dir, file)
                warm.append(seconds)
            entry["warm"] = stats_ms(warm)
        except Exception as exc:  # report and go on with the next page
            entry["error"] = f"{type(exc).__name__}: {exc}"[:500]
        pages.append(entry)
    return {"pages": pages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    write_json(args.json, run(args.data_dir.resolve(), args.reps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
