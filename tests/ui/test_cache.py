"""The shared result cache: frames are served without copying yet cannot be changed by a page,
each key is computed once however many sessions ask, and chart fingerprints follow their inputs."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from asi_me.ui.cache import ResultCache
from asi_me.ui.widgets import figure_fingerprint


def _register() -> pd.DataFrame:
    return pd.DataFrame({"certification_id": ["C1", "C2", "C3"], "workers": [10, 20, 30]})


def test_a_cached_frame_is_served_without_copying_its_data() -> None:
    cache = ResultCache()
    first = cache.get("register", _register)
    second = cache.get("register", lambda: (_ for _ in ()).throw(AssertionError("computed twice")))
    assert second["workers"].tolist() == [10, 20, 30]
    assert np.shares_memory(first["workers"].to_numpy(), second["workers"].to_numpy())


def test_a_page_changing_its_frame_does_not_change_what_other_sessions_get() -> None:
    cache = ResultCache()
    mine = cache.get("register", _register)
    mine["workers"] = mine["workers"] * 2  # new column values
    mine.loc[0, "certification_id"] = "edited"  # one cell
    mine["note"] = "x"  # a new column
    theirs = cache.get("register", _register)
    assert theirs.to_dict("list") == {"certification_id": ["C1", "C2", "C3"], "workers": [10, 20, 30]}


def test_other_results_are_copies_a_page_may_change() -> None:
    cache = ResultCache()
    years = cache.get("years", lambda: [2019, 2020])
    years.append(2099)
    assert cache.get("years", list) == [2019, 2020]


def test_a_key_is_computed_once_while_many_sessions_wait_for_it() -> None:
    cache = ResultCache()
    calls: list[int] = []

    def slow() -> pd.DataFrame:
        calls.append(1)
        time.sleep(0.05)
        return _register()

    results: list[pd.DataFrame] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("register", slow))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert [len(r) for r in results] == [3] * 8


def test_a_failed_computation_is_not_kept() -> None:
    cache = ResultCache()

    def broken() -> pd.DataFrame:
        raise ValueError("query failed")

    with pytest.raises(ValueError, match="query failed"):
        cache.get("register", broken)
    assert cache.get("register", _register)["workers"].sum() == 60


def test_old_entries_are_recomputed_and_the_least_recent_leave_first() -> None:
    expiring = ResultCache(ttl=0.0)
    expiring.get("a", lambda: 1)
    assert expiring.get("a", lambda: 2) == 2  # older than the time to live

    small = ResultCache(max_entries=2)
    small.get("a", lambda: "A")
    small.get("b", lambda: "B")
    small.get("a", lambda: "not used")  # a is now the most recent
    small.get("c", lambda: "C")  # b leaves
    assert len(small) == 2
    assert small.get("a", lambda: "recomputed") == "A"
    assert small.get("b", lambda: "recomputed") == "recomputed"


def test_a_chart_fingerprint_follows_the_data_and_the_values_the_builder_reads() -> None:
    frame = _register()
    measure = "workers"

    def build(f: pd.DataFrame) -> object:
        return (f, measure)

    same = figure_fingerprint(build, frame)
    assert same is not None
    assert figure_fingerprint(build, _register()) == same  # equal data, equal fingerprint
    changed = frame.assign(workers=[10, 20, 31])
    assert figure_fingerprint(build, changed) != same
    measure = "certification_id"  # a value the builder reads from its closure
    assert figure_fingerprint(build, frame) != same


def test_a_builder_reading_an_object_without_a_stable_value_is_not_cached() -> None:
    class Opaque:
        pass

    thing = Opaque()
    assert figure_fingerprint(lambda f: (f, thing), _register()) is None


def test_long_arrays_a_builder_reads_are_compared_in_full() -> None:
    frame = _register()
    marks = np.arange(5000)

    def build(f: pd.DataFrame) -> object:
        return (f, marks)

    before = figure_fingerprint(build, frame)
    marks = np.arange(5000)
    marks[2500] = -1  # numpy's repr would elide this element
    assert figure_fingerprint(build, frame) != before


class _Snapshot:
    """Stands in for a Store: cached views only read its snapshot id."""

    def __init__(self, snapshot_id: str) -> None:
        self.snapshot_id = snapshot_id
        self.folder = f"/snapshots/{snapshot_id}"


def _output(tonnes: float | None) -> pd.DataFrame:
    return pd.DataFrame({
        "stage": ["bauxite_mining", "alumina_refining"],
        "output_t": [tonnes, None],
        "is_suppressed": [False, True],
        "suppression_note": [None, "suppressed (fewer than 5 reporters)"],
    })


def test_a_table_is_prepared_once_per_content_and_shared_with_its_labels_and_markings() -> None:
    from asi_me.ui.cache import pinned_store
    from asi_me.ui.widgets import prepared_table

    with pinned_store(_Snapshot("prepared-1")):
        shown, payload = prepared_table(_output(1200.0), key="output")
        again, same = prepared_table(_output(1200.0), key="output")  # an equal frame from another run
        _, changed = prepared_table(_output(900.0), key="output")
    assert same is payload
    sent = payload.to_pandas()
    assert list(sent.columns) == ["Stage", "Output (t)"]
    assert sent["Stage"].tolist() == ["Bauxite mining", "Alumina refining"]
    assert sent["Output (t)"].tolist() == ["1200", "suppressed (fewer than 5 reporters)"]
    assert changed.to_pandas()["Output (t)"].tolist() == ["900", "suppressed (fewer than 5 reporters)"]
    again["Stage"] = "edited"  # a page editing its copy leaves the shared table alone
    assert shown["Stage"].tolist() == ["Bauxite mining", "Alumina refining"]


def test_a_content_key_stands_for_the_frame_but_a_changed_shape_is_prepared_again() -> None:
    from asi_me.ui.cache import pinned_store
    from asi_me.ui.widgets import prepared_table

    with pinned_store(_Snapshot("prepared-2")):
        _, first = prepared_table(_output(1200.0), key="output", content_key=("public", "2024-01-31"))
        _, same = prepared_table(_output(900.0), key="output", content_key=("public", "2024-01-31"))
        _, other = prepared_table(_output(900.0), key="output", content_key=("public", "2023-12-31"))
        _, shorter = prepared_table(_output(900.0).head(1), key="output", content_key=("public", "2024-01-31"))
    assert same is first  # the caller's key names the content: no hashing of the frame
    assert other.to_pandas()["Output (t)"].tolist()[0] == "900"
    assert shorter.num_rows == 1


def test_a_page_run_reads_its_pinned_snapshot_and_the_pin_ends_with_the_run() -> None:
    from asi_me.ui import cache
    from asi_me.ui.cache import current_store, pinned_store

    outer, inner = _Snapshot("outer"), _Snapshot("inner")
    with pinned_store(outer):
        assert current_store() is outer
        with pinned_store(inner):
            assert current_store() is inner
        assert current_store() is outer
    seen: list[object] = []
    with pinned_store(outer):  # another session's thread does not see this run's pin
        worker = threading.Thread(target=lambda: seen.append(getattr(cache._run, "store", None)))
        worker.start()
        worker.join()
    assert seen == [None]


def test_a_miss_is_computed_inside_the_waiting_notice_and_a_hit_shows_none() -> None:
    cache = ResultCache()
    shown: list[str] = []

    class Notice:
        def __enter__(self):
            shown.append("spinner on")

        def __exit__(self, *exc):
            shown.append("spinner off")

    def compute() -> int:
        shown.append("computing")
        return 7

    assert cache.get("tiles", compute, waiting=Notice) == 7
    assert shown == ["spinner on", "computing", "spinner off"]
    assert cache.get("tiles", compute, waiting=Notice) == 7
    assert shown == ["spinner on", "computing", "spinner off"]  # a hit: no notice, nothing computed


def test_a_session_waiting_for_anothers_computation_sees_the_notice_too() -> None:
    cache = ResultCache()
    started, release = threading.Event(), threading.Event()
    notices: list[str] = []

    class Notice:
        def __init__(self, who: str) -> None:
            self.who = who

        def __enter__(self):
            notices.append(self.who)

        def __exit__(self, *exc):
            pass

    def slow() -> int:
        started.set()
        release.wait(5)
        return 1

    first = threading.Thread(target=lambda: cache.get("toc", slow, waiting=lambda: Notice("first")))
    first.start()
    started.wait(5)
    second: list[int] = []
    waiter = threading.Thread(target=lambda: second.append(cache.get("toc", slow, waiting=lambda: Notice("second"))))
    waiter.start()
    time.sleep(0.1)
    release.set()
    first.join(5)
    waiter.join(5)
    assert second == [1] and notices == ["first", "second"]
