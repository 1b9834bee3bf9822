"""Reusable AppTest harness for every screen.

    def test_something(open_app, demo_dir):
        at = open_app(demo_dir, page="pages/map.py", role="member", member="M001", params={"region": "Europe"})
        assert_clean(at)

`open_app(data_dir, page=None, role=None, member=None, params=None)` points the app at
`data_dir` (ASI_DATA_DIR), clears the app's caches, runs app.py with the given URL
query parameters and, if `page` is given, switches to it through st.navigation.
`demo_dir` is the committed demo snapshot; `empty_dir` an empty snapshot (every table
with zero rows, marked as demo so roles can be switched); `real_dir` the demo rows
in a snapshot not marked demo (role switching must be refused there).
`downloads` records every st.download_button (label, file name, bytes) of a run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from asi_me.data.contract import TABLES
from asi_me.data.snapshot import current_folder, read_table, write_snapshot
from asi_me.data.store import Store
from asi_me.settings import REPO_ROOT

APP = REPO_ROOT / "app.py"
TIMEOUT = 30
OWN_PAGES = ("pages/outcomes.py", "pages/evaluations.py", "pages/data.py")
ROLES = ("public", "member", "secretariat")


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the committed demo snapshot (others may regenerate data/ meanwhile)."""
    source = current_folder(REPO_ROOT / "data")
    target = tmp_path_factory.mktemp("demo")
    tables = {name: read_table(source, name) for name in TABLES}
    write_snapshot(target, tables, note="demo: copy of the bundled demo snapshot for app tests")
    return target


@pytest.fixture(scope="session")
def empty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("empty")
    write_snapshot(target, {}, note="demo: empty dataset for app tests")
    return target


@pytest.fixture(scope="session")
def real_dir(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Path:
    """The demo rows, but in a snapshot whose manifest does not say demo."""
    source = current_folder(demo_dir)
    target = tmp_path_factory.mktemp("real")
    write_snapshot(target, {name: read_table(source, name) for name in TABLES}, note="ingest of exports")
    return target


@pytest.fixture(scope="session")
def demo_store(demo_dir: Path) -> Iterator[Store]:
    store = Store.open_current(demo_dir)
    yield store
    store.close()


@pytest.fixture(scope="session")
def demo_member(demo_store: Store) -> str:
    """A member company that holds certifications in the demo data."""
    from asi_me.filters import Viewer
    from asi_me.queries.certifications import certification_register

    register = certification_register(demo_store, Viewer.secretariat())
    return str(register["member_id"].value_counts().index[0])


class Download(dict):
    """One download button: label, file_name, and `data` (bytes; deferred files are built on first access)."""

    def __getitem__(self, key: str) -> Any:
        if key == "data":
            payload = super().__getitem__("source")
            payload = payload() if callable(payload) else payload
            return payload.encode("utf-8") if isinstance(payload, str) else payload
        return super().__getitem__(key)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[Download]:
    """Every download button drawn during the test: label, file name and the bytes offered."""
    recorded: list[Download] = []
    original = streamlit.download_button

    def recording(label: str, data: Any, file_name: str | None = None, *args: Any, **kwargs: Any) -> bool:
        recorded.append(Download(label=label, file_name=file_name, source=data))
        return original(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", recording)
    return recorded


@pytest.fixture
def open_app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    def _open(
        data_dir: Path,
        *,
        page: str | None = None,
        role: str | None = None,
        member: str | None = None,
        params: dict[str, str | list[str]] | None = None,
        env: dict[str, str] | None = None,
    ) -> AppTest:
        monkeypatch.setenv("ASI_DATA_DIR", str(data_dir))
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        from asi_me.ui import cache

        cache.clear()
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        query = dict(params or {})
        if role:
            query["role"] = role
        if member:
            query["member"] = member
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        if page and page != "pages/outcomes.py":
            at.switch_page(page).run()
        return at

    return _open


def assert_clean(at: AppTest) -> None:
    """No exception element and no friendly error box on the screen."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


class _TileParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tiles: dict[str, dict[str, str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "asi-tile" in (found.get("class") or "").split():
            self.tiles[found["data-label"] or ""] = {
                "value": found.get("data-value") or "", "delta": found.get("data-delta") or "",
                "note": found.get("data-note") or "",
            }


def tiles(at: AppTest) -> dict[str, dict[str, str]]:
    """The outcome tiles on the screen: title -> {value, delta (vs previous month), note}."""
    parser = _TileParser()
    for element in at.get("html"):
        parser.feed(element.value)
    return parser.tiles


def tile_values(at: AppTest) -> dict[str, str]:
    """Title -> the value a tile shows."""
    return {label: tile["value"] for label, tile in tiles(at).items()}


_SCRIPT = re.compile(r"<script>.*?</script>", re.S)
_SHARE_VALUE = re.compile(r'(class="asi-share-url"[^>]*?) value="[^"]*"')


def screen_text(at: AppTest) -> str:
    """Every piece of text a person can read on the screen, tables included."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(m.label) + " " + str(m.value) + " " + str(m.delta) for m in at.metric]
    parts += [f"{label} {t['value']} {t['delta']} {t['note']}" for label, t in tiles(at).items()]
    # A share box's value is a link (it pins the data version), and a script is code: neither is read.
    parts += [_SHARE_VALUE.sub(r"\1", _SCRIPT.sub("", e.value)) for e in at.get("html")]
    for frame in at.dataframe:
        parts.append(frame.value.to_csv(index=False))
    return "\n".join(parts)
