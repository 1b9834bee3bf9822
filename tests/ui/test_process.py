"""Page runs are admitted a few at a time, and the heap is frozen once per screen."""

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

    assert process._concurrent_runs(None) == 2
    assert process._concurrent_runs(" 4 ") == 4
    for raw in ("two", "0", "-1"):
        with pytest.raises(ValueError, match=rf"ASI_CONCURRENT_RUNS='{raw}' is not a positive whole number"):
            process._concurrent_runs(raw)
