"""Page runs are admitted a few at a time (giving the slot back while they wait for DuckDB or
for another session's result), and the heap is frozen once per screen."""

from __future__ import annotations

import gc
import threading
import time

from asi_me.ui import process


def test_no_more_page_runs_execute_at_once_than_there_are_slots() -> None:
    running, most = 0, 0
    counter = threading.Lock()

    def page_run() -> None:
        nonlocal running, most
        with process.run_slot() as obtained:
            assert obtained
            with counter:
                running += 1
                most = max(most, running)
            time.sleep(0.02)
            with counter:
                running -= 1

    threads = [threading.Thread(target=page_run) for _ in range(3 * process.CONCURRENT_RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == process.CONCURRENT_RUNS


def test_a_failing_run_gives_its_slot_back() -> None:
    for _ in range(process.CONCURRENT_RUNS + 1):
        try:
            with process.run_slot():
                raise RuntimeError("page failed")
        except RuntimeError:
            pass
    with process.run_slot() as obtained:
        assert obtained


def test_the_heap_is_frozen_once_per_screen() -> None:
    try:
        assert process.freeze_heap_once("test-screen") is True
        assert gc.get_freeze_count() > 0
        assert process.freeze_heap_once("test-screen") is False
    finally:
        gc.unfreeze()


def test_a_bad_concurrent_runs_setting_is_named_with_what_to_set() -> None:
    import pytest

    assert process._concurrent_runs(None) == 1
    assert process._concurrent_runs(" 4 ") == 4
    for raw in ("two", "0", "-1"):
        with pytest.raises(ValueError, match=rf"ASI_CONCURRENT_RUNS='{raw}' is not a positive whole number"):
            process._concurrent_runs(raw)


def _free_slots() -> int:
    taken = 0
    while process._slots.acquire(blocking=False):
        taken += 1
    for _ in range(taken):
        process._slots.release()
    return taken


def _other_run_gets_a_slot_while(wait_inside: object) -> bool:
    """Run `wait_inside(event)` in a page run; meanwhile another page run asks for a slot."""
    inside, done = threading.Event(), threading.Event()
    got: list[bool] = []

    def first_run() -> None:
        with process.run_slot():
            for _ in range(process.CONCURRENT_RUNS - 1):  # fill the remaining slots
                assert process._slots.acquire(blocking=False)
            try:
                wait_inside(inside)  # type: ignore[operator]
            finally:
                for _ in range(process.CONCURRENT_RUNS - 1):
                    process._slots.release()
        done.set()

    thread = threading.Thread(target=first_run)
    thread.start()
    assert inside.wait(5)
    got.append(process._slots.acquire(timeout=0.5))  # the first run waits 1.5 s more
    if got[0]:
        process._slots.release()
    thread.join(10)
    assert done.is_set()
    return got[0]


def test_a_run_waiting_for_a_query_lets_the_next_run_in(tmp_path) -> None:
    import duckdb

    from asi_me.data import store

    con = duckdb.connect()
    release = threading.Event()

    def slow_query(inside: threading.Event) -> None:
        # what Store.query does around DuckDB's work
        with store._wait_hook():
            inside.set()
            assert release.wait(5)
            con.execute("select 1").fetchall()

    def let_go() -> None:
        time.sleep(1.5)
        release.set()

    threading.Thread(target=let_go).start()
    assert _other_run_gets_a_slot_while(slow_query)
    assert _free_slots() == process.CONCURRENT_RUNS


def test_without_the_wait_the_next_run_queues() -> None:
    def busy(inside: threading.Event) -> None:
        inside.set()
        time.sleep(1.5)  # Python work: the slot stays taken

    assert not _other_run_gets_a_slot_while(busy)
    assert _free_slots() == process.CONCURRENT_RUNS


def test_a_run_whose_slot_was_taken_meanwhile_goes_on_without_one_and_never_gives_back_two() -> None:
    with process.run_slot() as obtained:
        assert obtained
        with process.slot_released():
            assert process._slots.acquire(blocking=False)  # the next run takes it meanwhile
        assert process._held.slot is False  # goes on without a slot rather than wait (no deadlock)
        process._slots.release()  # the next run ends
    assert _free_slots() == process.CONCURRENT_RUNS


def test_waiting_for_another_sessions_result_does_not_hold_a_slot() -> None:
    from asi_me.ui.cache import ResultCache

    results = ResultCache()
    computing, finish = threading.Event(), threading.Event()
    seen: list[object] = []

    def compute() -> str:
        computing.set()
        assert finish.wait(5)
        return "value"

    def first_session() -> None:
        seen.append(results.get("key", compute))

    def second_session(inside: threading.Event) -> None:
        threading.Timer(0.2, inside.set).start()
        threading.Timer(1.7, finish.set).start()
        seen.append(results.get("key", lambda: "computed twice"))

    first = threading.Thread(target=first_session)
    first.start()
    assert computing.wait(5)
    assert _other_run_gets_a_slot_while(second_session)
    first.join(5)
    assert seen == ["value", "value"]
    assert _free_slots() == process.CONCURRENT_RUNS
