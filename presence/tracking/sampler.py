"""Reading the desktop once a tick: backends in, one privacy-filtered Observation out.

The error policy is `presence.core.faults`: a backend that raises anything but a fatal error
(a `BackendError` or a bug of its own) is closed, counted, said once at WARNING and rebuilt
after a back-off; the tick goes on without that reading. A fatal error (a forced backend that
does not exist) propagates and stops the daemon with its message. A failure in the sampler's
own code (privacy filter, observation) is not a backend's: it propagates too, because
recording on with a broken recorder would store wrong spans.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import tzinfo
from typing import Any

from presence.core.clock import Clock
from presence.core.faults import FaultSnapshot
from presence.core.model import Observation, WindowInfo
from presence.platform.base import IdleSource, InputCounter, LockState, WindowSource
from presence.platform.capability import B, Capability
from presence.tracking.privacy import Redactor
from presence.tracking.sites import BrowserReports

log = logging.getLogger(__name__)


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
        *,
        sites: BrowserReports | None = None,
    ) -> None:
        self.clock = clock
        self.sites = sites  # the browser extension's reports (issue 14); None: no sites
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
        if self.sites is not None:
            self.sites.watch()

    def missing(self) -> list[str]:
        """The capabilities with no working backend right now."""
        caps = (self.window, self.idle, self.counter, self.lock)
        return [cap.name for cap in caps if cap.backend is None]

    def faults(self) -> list[FaultSnapshot]:
        """The capabilities that failed since the start, for `presence status` and `doctor`."""
        caps = (self.window, self.idle, self.counter, self.lock)
        return [snap for cap in caps if (snap := cap.snapshot()) is not None]

    def sample(self) -> Observation:
        """Read every capability once. Raises only a fatal error (see the module docstring)."""
        mono = self.clock.monotonic()
        wall = self.clock.now()
        window = self._read(self.window, mono, lambda b: b.focused())
        counts = None
        since_input: float | None = None
        read = self._read(self.counter, mono, lambda b: (b.counts(), b.seconds_since_input()))
        if read is not None:
            counts, since_input = read
        idle = self._read(self.idle, mono, lambda b: b.idle_seconds())
        if idle is None and read is not None:
            # No idle source: fall back to the input counter's own clock of the last event.
            idle = since_input if since_input is not None else 0.0
        locked = self._read(self.lock, mono, lambda b: b.locked())
        kept = self.redactor.apply(window)
        if kept is not None and self.sites is not None:
            site = self.sites.site(kept.app)
            if site is not None:
                kept = replace(kept, site=site)
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
        """`read(backend)`, or None when there is no backend or it failed (counted)."""
        backend = cap.get(mono)
        if backend is None:
            return None
        try:
            value = read(backend)
        except Exception as exc:
            cap.failed(exc, mono, wall=self.clock.now())
            return None
        cap.worked()
        return value

    def close(self) -> None:
        if self.sites is not None:
            self.sites.close()
        for cap in (self.window, self.idle, self.counter, self.lock):
            try:
                cap.close()
            except Exception:
                log.debug("closing %s raised", cap.name, exc_info=True)
