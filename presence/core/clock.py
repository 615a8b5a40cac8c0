"""Time sources. Everything that reads the clock takes a `Clock`; tests use `FakeClock`."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Wall time (UTC, aware) and a monotonic reading, in seconds. Thread-safe."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The real clocks: `time.time()` for wall time, `time.monotonic()` for intervals.

    On Linux `CLOCK_MONOTONIC` stops while the machine is suspended, so a suspend shows up as a
    wall-clock step that the monotonic clock did not take (see `tracking.timeline.Timeline`).
    """

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time(), UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to. For tests and benchmarks."""

    def __init__(self, start: datetime, monotonic: float = 1000.0) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._mono = monotonic

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        """Move both clocks forward, as ordinary time passing does."""
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    def suspend(self, seconds: float) -> None:
        """Move the wall clock only, as a suspended machine sees it on resume."""
        self._now += timedelta(seconds=seconds)

    def set_wall(self, when: datetime) -> None:
        """Step the wall clock (an NTP step or a user changing the time)."""
        self._now = when.astimezone(UTC)
