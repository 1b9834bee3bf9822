"""The project's in-process memos, and forgetting them all (a truly cold run without a new process).

Query and publish modules keep work that depends only on the snapshot between calls: module-level
`functools.cache` / `lru_cache` functions, `weakref.WeakKeyDictionary` / `WeakSet` keyed by Store,
and `OrderedDict` caches keyed by snapshot. `forget_memos` empties every one of them in the modules
already imported, so that a benchmark's "cold" figure is a build, not a memo hit. The product never
calls it: the memos are only ever filled, and are keyed by snapshot.
"""

from __future__ import annotations

import sys
import weakref
from collections import OrderedDict

# Streamlit's own caches (asi_me/ui) are cleared with st.cache_data.clear() / st.cache_resource.clear().
_PACKAGES = ("asi_me.queries", "asi_me.publish", "asi_me.data", "asi_me.ingest")
_MEMO_TYPES = (weakref.WeakKeyDictionary, weakref.WeakValueDictionary, weakref.WeakSet, OrderedDict)


def project_memos() -> dict[str, object]:
    """module.name -> every memo the imported modules of the query, publish, data and ingest packages hold."""
    found: dict[str, object] = {}
    seen: set[int] = set()
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith(_PACKAGES):
            continue
        for name, value in list(vars(module).items()):
            is_cached_function = callable(getattr(value, "cache_clear", None))
            if (isinstance(value, _MEMO_TYPES) or is_cached_function) and id(value) not in seen:
                seen.add(id(value))  # a memo imported into another module is listed once
                found[f"{module_name}.{name}"] = value
    return found


def forget_memos() -> list[str]:
    """Empty every memo of `project_memos` and return their names."""
    memos = project_memos()
    for value in memos.values():
        clear = getattr(value, "cache_clear", None) or value.clear  # type: ignore[attr-defined]
        clear()
    return sorted(memos)
