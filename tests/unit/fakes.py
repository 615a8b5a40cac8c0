"""Fake backends for unit tests of the sampling logic (never instead of integration tests)."""

from __future__ import annotations

from presence.core.clock import FakeClock
from presence.core.errors import BackendError
from presence.core.model import InputCounts, WindowInfo


class FakeWindow:
    name = "fake"

    def __init__(self) -> None:
        self.window: WindowInfo | None = WindowInfo("AppAlpha", "alpha", 100)
        self.broken = False
        self.closed = False

    def focused(self) -> WindowInfo | None:
        if self.broken:
            raise BackendError("display gone")
        return self.window

    def close(self) -> None:
        self.closed = True


class FakeIdle:
    name = "fake"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.last_input = clock.monotonic()

    def touch(self) -> None:
        self.last_input = self.clock.monotonic()

    def idle_seconds(self) -> float:
        return self.clock.monotonic() - self.last_input

    def close(self) -> None:
        pass


class FakeCounter:
    name = "fake"

    def __init__(self) -> None:
        self.value = InputCounts()

    def start(self) -> None:
        pass

    def counts(self) -> InputCounts:
        return self.value

    def seconds_since_input(self) -> float | None:
        return None

    def close(self) -> None:
        pass


class FakeLock:
    name = "fake"

    def __init__(self) -> None:
        self.is_locked: bool | None = False

    def locked(self) -> bool | None:
        return self.is_locked

    def close(self) -> None:
        pass
