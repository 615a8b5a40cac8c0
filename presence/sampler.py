"""Reading the desktop once a tick: backends in, one privacy-filtered Observation out.

A backend that fails is closed and retried later; the sampler never raises for a backend
hiccup, and says once (at WARNING) what it cannot see and how to fix it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, Generic, TypeVar

from presence.clock import Clock
from presence.errors import BackendError
from presence.model import Observation, WindowInfo
from presence.platform.base import IdleSource, InputCounter, LockState, WindowSource
from presence.privacy import Redactor

log = logging.getLogger(__name__)

B = TypeVar("B")

RETRY_SECONDS = 30.0
"""How long a failed capability waits before its backend is chosen again."""


@dataclass(slots=True)
class Capability(Generic[B]):
    """One capability's backend, with the factory that (re)builds it after a failure.

    `factory` returns a backend, or None with the reason already explained (e.g. by doctor).
    """

    name: str
    factory: Callable[[], B | None]
    backend: B | None = None
    retry_at: float = 0.0
    warned: bool = False
    failures: int = field(default=0)

    def get(self, mono: float) -> B | None:
        if self.backend is None and mono >= self.retry_at:
            self.retry_at = mono + RETRY_SECONDS
            try:
                self.backend = self.factory()
            except BackendError as exc:
                self._warn(f"{exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
            if self.backend is not None and self.warned:
                log.warning("%s is available again", self.name)
                self.warned = False
        return self.backend

    def failed(self, exc: Exception, mono: float) -> None:
        """Drop the backend after an error; it is rebuilt after RETRY_SECONDS."""
        self.failures += 1
        backend, self.backend = self.backend, None
        self.retry_at = mono + RETRY_SECONDS
        self._warn(f"{exc}; retrying every {RETRY_SECONDS:g} s")
        close = getattr(backend, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                log.debug("closing the failed %s backend raised", self.name, exc_info=True)

    def _warn(self, reason: str) -> None:
        if not self.warned:
            log.warning("cannot read %s: %s", self.name, reason)
            self.warned = True

    def close(self) -> None:
        if self.backend is not None:
            close: Any = getattr(self.backend, "close", None)
            if close is not None:
                close()
            self.backend = None


class Sampler:
    """Reads every capability once per tick. Sampler thread only."""

    def __init__(
        self,
        clock: Clock,
        zone: tzinfo,
        redactor: Redactor,
        window: Capability[WindowSource],
        idle: Capability[IdleSource],
        counter: Capability[InputCounter],
        lock: Capability[LockState],
    ) -> None:
        self.clock = clock
        self.zone = zone
        self.redactor = redactor
        self.window = window
        self.idle = idle
        self.counter = counter
        self.lock = lock
        self._last_window: WindowInfo | None = None

    def rebuild(self, capabilities: tuple[Capability[Any], ...]) -> None:
        """Replace every capability (after `close()`), e.g. when `[backends]` changed."""
        self.window, self.idle, self.counter, self.lock = capabilities

    def missing(self) -> list[str]:
        """The capabilities with no working backend right now."""
        caps = (self.window, self.idle, self.counter, self.lock)
        return [cap.name for cap in caps if cap.backend is None]

    def sample(self) -> Observation:
        mono = self.clock.monotonic()
        wall = self.clock.now()
        window = self._read(self.window, mono, lambda b: b.focused())
        counter = self.counter.get(mono)
        counts = None
        since_input: float | None = None
        if counter is not None:
            counts = counter.counts()
            since_input = counter.seconds_since_input()
        idle = self._read(self.idle, mono, lambda b: b.idle_seconds())
        if idle is None and counter is not None:
            # No idle source: fall back to the input counter's own clock of the last event.
            idle = since_input if since_input is not None else 0.0
        locked = self._read(self.lock, mono, lambda b: b.locked())
        kept = self.redactor.apply(window)
        if kept != self._last_window:
            # Titles are logged at DEBUG only (privacy): INFO and above never see them.
            log.debug("focus: %s", kept)
            self._last_window = kept
        offset = wall.astimezone(self.zone).utcoffset()
        return Observation(
            wall=wall,
            mono=mono,
            window=kept,
            idle_seconds=idle,
            counts=counts,
            locked=locked,
            utc_offset=int(offset.total_seconds()) if offset is not None else 0,
        )

    def _read(self, cap: Capability[B], mono: float, read: Callable[[B], Any]) -> Any:
        backend = cap.get(mono)
        if backend is None:
            return None
        try:
            return read(backend)
        except BackendError as exc:
            cap.failed(exc, mono)
            return None

    def close(self) -> None:
        for cap in (self.window, self.idle, self.counter, self.lock):
            try:
                cap.close()
            except Exception:
                log.debug("closing %s raised", cap.name, exc_info=True)
