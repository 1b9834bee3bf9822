"""Widget values that must survive runs in which their widget is not drawn.

Streamlit drops a widget's session-state value at the end of any run that did not
draw it (for example the run in which a page switch is routed). The frame's filter,
role and presentation widgets keep a shadow copy under "_keep_<key>": `restore()`
puts it back before the widget is drawn, `remember()` records the value after.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

_PREFIX = "_keep_"


def restore(keys: Iterable[str]) -> None:
    """Put the shadow values back; call before the widgets are drawn.

    Unconditional, because a dropped widget may still read as present; a person's
    change reaches the shadow first through the widget's `on_change=keep_callback(key)`.
    """
    for key in keys:
        shadow = _PREFIX + key
        if shadow in st.session_state:
            st.session_state[key] = st.session_state[shadow]


def remember(keys: Iterable[str]) -> None:
    for key in keys:
        if key in st.session_state:
            st.session_state[_PREFIX + key] = st.session_state[key]


def put(key: str, value: Any) -> None:
    """Set a widget value and its shadow together (for callbacks such as Reset)."""
    st.session_state[key] = value
    st.session_state[_PREFIX + key] = value


def changed(key: str) -> None:
    """on_change callback: record the widget's new value in its shadow."""
    remember([key])
