"""Process-wide housekeeping of the Streamlit server: keeping the long-lived heap out of
the garbage collector's way.

Streamlit forces a full garbage collection (`gc.collect(2)`) after every script run
(`runner.postScriptGC`). With pandas, Altair, plotly and pydeck loaded that walks some
170,000 objects: about 95 ms of CPU per run, a third of a warm home-page session,
and sessions are threads sharing one GIL. Almost all of those objects are modules,
classes and caches that live as long as the process. `gc.freeze()` moves them to a
permanent generation the collector skips, so the forced collection only walks what
the run itself allocated. It is done once per screen and process, after that screen's
first run has imported what it needs; a collection right before freezing keeps
garbage out of the frozen set.
"""

from __future__ import annotations

import atexit
import gc
import logging
import threading

log = logging.getLogger(__name__)

_lock = threading.Lock()
_frozen_for: set[str] = set()


def freeze_heap_once(screen: str) -> bool:
    """After the first run of `screen` in this process, freeze the heap; True if it froze now."""
    if screen in _frozen_for:
        return False
    with _lock:
        if screen in _frozen_for:
            return False
        _frozen_for.add(screen)
        gc.collect()
        gc.freeze()
        log.info("Froze %d long-lived objects after the first run of %s.", gc.get_freeze_count(), screen)
        return True


# Give frozen objects back to the collector at exit, so interpreter shutdown frees them
# as it would without freezing (extension modules otherwise report them as leaked).
atexit.register(gc.unfreeze)
