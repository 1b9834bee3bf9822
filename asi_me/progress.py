"""How a long build reports how far it has got: `progress(fraction, step)` with a fraction
from 0 to 1 and the step in plain words ("Writing members.csv, 3 of 15"). The core calls it;
the screens draw it (asi_me/ui/builds.py)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]


def silent(fraction: float, step: str) -> None:
    """The default: nobody is watching."""


def steps(progress: Progress | None, total: int, start: float = 0.0, end: float = 1.0) -> Callable[[int, str], None]:
    """A reporter for step `i` (from 0) of `total` equal steps spread over `start`..`end`."""
    report = progress or silent
    span = end - start

    def step(i: int, text: str) -> None:
        report(start + span * min(max(i, 0), total) / max(total, 1), text)

    return step
