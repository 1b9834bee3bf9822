"""Background builds of long downloads: one build per file however many ask, progress in
words, a failure said plainly and retried on request, and no queue without end."""

from __future__ import annotations

import threading
import time

import pytest

from asi_me.ui import builds


def _wait(build: builds.Build, seconds: float = 10) -> builds.Build:
    deadline = time.monotonic() + seconds
    while not build.done and time.monotonic() < deadline:
        time.sleep(0.01)
    assert build.done, build.step
    return build


def test_one_build_per_file_with_its_steps_reported() -> None:
    registry = builds.Builds(workers=2)
    calls: list[str] = []
    release = threading.Event()

    def make(progress) -> bytes:
        calls.append("built")
        progress(0.25, "Slide 1 of 4")
        release.wait(5)
        progress(0.75, "Slide 3 of 4")
        return b"%PDF-1.7 pack"

    first = registry.start(("pack", "Europe"), "the board pack", make)
    second = registry.start(("pack", "Europe"), "the board pack", make)
    assert first is second  # a second visitor asking for the same file joins the build
    deadline = time.monotonic() + 5
    while first.step != "Slide 1 of 4" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (first.fraction, first.step, first.done) == (0.25, "Slide 1 of 4", False)
    release.set()
    _wait(first)
    assert (first.fraction, first.step, first.data, first.size, first.error) == (
        1.0, "Ready", b"%PDF-1.7 pack", 13, None)
    assert registry.start(("pack", "Europe"), "the board pack", make) is first  # served again, not rebuilt
    assert calls == ["built"]


def test_a_failure_is_said_plainly_logged_and_built_again_on_request(caplog: pytest.LogCaptureFixture) -> None:
    registry = builds.Builds(workers=1)
    attempts: list[int] = []

    def make(progress) -> bytes:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("disk full at /srv/asi/data/downloads")
        return b"PK zip"

    failed = _wait(registry.start("zip", "the zip of CSVs", make))
    assert failed.error is not None and failed.error.startswith("Sorry, the zip of CSVs could not be built")
    assert "/srv" not in failed.error and "disk full" not in failed.error  # the cause is for the log
    assert "disk full at /srv/asi/data/downloads" in caplog.text
    retried = _wait(registry.start("zip", "the zip of CSVs", make))
    assert retried is not failed and retried.error is None and retried.data == b"PK zip"


def test_no_more_than_the_limit_run_or_wait_and_the_rest_are_told_to_come_back(monkeypatch) -> None:
    monkeypatch.setattr(builds, "MAX_UNFINISHED", 3)
    registry = builds.Builds(workers=1)
    release = threading.Event()

    def make(progress) -> bytes:
        release.wait(5)
        return b"x"

    started = [registry.start(("pack", n), "the board pack", make) for n in range(3)]
    refused = registry.start(("pack", 3), "the board pack", make)
    assert refused.done and refused.error == builds.BUSY.format(what="the board pack")
    assert all(not b.done for b in started)  # one runs, two wait for the worker
    assert started[1].step == "Waiting for a free worker"
    release.set()
    for build in started:
        _wait(build)
    again = _wait(registry.start(("pack", 3), "the board pack", make))  # once there is room, it is built
    assert again.error is None and again.data == b"x"


def test_only_the_most_recent_finished_builds_are_kept(monkeypatch) -> None:
    registry = builds.Builds(workers=2, keep=2)
    for n in range(4):
        _wait(registry.start(n, "the board pack", lambda progress: b"pdf"))
    # starting the fourth trimmed the oldest finished ones: at most `keep` stay besides the newest
    assert registry.get(0) is None
    assert registry.get(3) is not None and registry.get(2) is not None


def test_a_file_built_to_disk_is_remembered_by_its_path_and_built_again_once_it_is_gone(tmp_path) -> None:
    registry = builds.Builds(workers=1)
    made: list[int] = []

    def make(progress):
        made.append(1)
        path = tmp_path / "table.csv"
        path.write_bytes(b"a,b\n1,2\n")
        return path

    first = _wait(registry.start("csv", "the table CSV", make))
    assert (first.path, first.size, first.data, first.error) == (tmp_path / "table.csv", 8, None, None)
    assert registry.start("csv", "the table CSV", make) is first and made == [1]
    first.path.unlink()  # the download folder evicted it
    again = _wait(registry.start("csv", "the table CSV", make))
    assert again is not first and made == [1, 1] and again.path.is_file()
