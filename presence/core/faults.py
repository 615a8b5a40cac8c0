"""One error policy for the daemon's two loops (the sampler's tick and the enforcer).

A failure is either fatal or transient:

- **Fatal** (`is_fatal`): a `ConfigError`, e.g. a forced backend name that does not exist
  (`PRESENCE_BACKEND_WINDOW=nonsense`), and `MemoryError`. Retrying cannot mend them, so the
  loop stops and the daemon exits with the error's message and hint (systemd shows it).
- **Transient**: everything else, a backend's `BackendError` as much as an unexpected
  exception (a bug in one backend costs that capability, not the whole recording). It is
  logged once at WARNING when a run of failures starts (with the traceback when it is not a
  `PresenceError`: that is a bug), again at WARNING when the back-off reaches its cap, and at
  DEBUG in between; it is counted; and the part is retried after RETRY_SECONDS, doubling to
  RETRY_CAP. A success ends the run of failures (said at INFO).

`Faults` keeps that record for one part (a capability, or a step of the enforcer); its
`snapshot()` is what the daemon publishes for `presence status` and `presence doctor`.
Thread contract: one `Faults` is used under its owner's serialisation (the sampler thread, or
the enforcer's lock); `snapshot()` returns a copy any thread may keep.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from presence.core.errors import ConfigError, PresenceError

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0
"""The first wait before a failed part is tried again."""

RETRY_CAP = 600.0
"""The longest wait: a part failing for hours is still tried every 10 minutes."""


def is_fatal(exc: BaseException) -> bool:
    """Whether `exc` stops the daemon instead of being retried (see the module docstring)."""
    return isinstance(exc, ConfigError | MemoryError)


def describe(exc: BaseException) -> str:
    """One line for a log or `presence status`: the message and hint of a PresenceError, the
    type and text of anything else."""
    if isinstance(exc, PresenceError):
        return exc.message + (f" ({exc.hint})" if exc.hint else "")
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True, slots=True)
class FaultSnapshot:
    """A part's failures at one moment, as `presence status` and `doctor` show them."""

    name: str
    failures: int  # since the daemon started
    streak: int  # consecutive failures, 0 once it works again
    last_error: str
    last_at: datetime  # UTC
    retry_in: float  # seconds until the next attempt (0: now)

    @property
    def failing(self) -> bool:
        return self.streak > 0


class Faults:
    """The failures of one part: counted, logged without spam, retried with back-off."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failures = 0
        self.streak = 0
        self.last_error: str | None = None
        self.last_at: datetime | None = None
        self.retry_at = float("-inf")  # monotonic seconds
        self._mono = 0.0  # the last monotonic instant seen, for snapshot()

    def ready(self, mono: float) -> bool:
        """Whether the part may be tried at `mono` (not inside a back-off wait)."""
        self._mono = mono
        return mono >= self.retry_at

    def failed(self, exc: BaseException, mono: float, *, wall: datetime | None = None) -> float:
        """Record a failure at `mono`; returns the seconds until the next attempt.

        Raises `exc` again when it is fatal (`is_fatal`).
        """
        if is_fatal(exc):
            raise exc
        self.failures += 1
        self.streak += 1
        self.last_error = describe(exc)
        self.last_at = wall or datetime.now(UTC)
        self._mono = mono
        delay = self.delay()
        self.retry_at = mono + delay
        bug = None if isinstance(exc, PresenceError) else exc
        if self.streak == 1:
            log.warning(
                "%s failed: %s; retrying in %g s%s",
                self.name,
                self.last_error,
                delay,
                " (this is a bug; please report it)" if bug else "",
                exc_info=bug,
            )
        elif delay >= RETRY_CAP and self.delay(self.streak - 1) < RETRY_CAP:
            log.warning(
                "%s still failing after %d attempts (%s); retrying every %g s",
                self.name,
                self.streak,
                self.last_error,
                RETRY_CAP,
            )
        else:
            log.debug("%s failed again (%d in a row): %s", self.name, self.streak, self.last_error)
        return delay

    def delay(self, streak: int | None = None) -> float:
        """The wait after the `streak`-th consecutive failure (default: the current one)."""
        n = self.streak if streak is None else streak
        return 0.0 if n <= 0 else min(RETRY_SECONDS * 2 ** (n - 1), RETRY_CAP)

    def wait(self, mono: float) -> None:
        """Try again no sooner than RETRY_SECONDS from `mono`, without counting a failure (the
        part is unavailable rather than failing, e.g. no backend fits this session)."""
        self._mono = mono
        self.retry_at = mono + RETRY_SECONDS

    def succeeded(self) -> None:
        """The part works (again): the run of failures is over."""
        if self.streak:
            log.info("%s works again after %d failures", self.name, self.streak)
        self.streak = 0
        self.retry_at = float("-inf")

    def snapshot(self) -> FaultSnapshot | None:
        """The record so far, or None when the part never failed."""
        if self.failures == 0 or self.last_error is None or self.last_at is None:
            return None
        retry_in = max(0.0, self.retry_at - self._mono) if self.streak else 0.0
        return FaultSnapshot(
            self.name, self.failures, self.streak, self.last_error, self.last_at, retry_in
        )


class FaultBook:
    """The `Faults` of several parts of one owner (the enforcer's steps), made on first use."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._parts: dict[str, Faults] = {}

    def part(self, name: str) -> Faults:
        """The record of part `name` (created empty the first time)."""
        faults = self._parts.get(name)
        if faults is None:
            faults = self._parts[name] = Faults(f"{self._prefix}{name}")
        return faults

    def worked(self, name: str) -> None:
        """Part `name` worked: a run of its failures, if any, is over."""
        faults = self._parts.get(name)
        if faults is not None and faults.streak:
            faults.succeeded()

    def snapshots(self) -> list[FaultSnapshot]:
        """Every part that failed since the start."""
        return [snap for f in self._parts.values() if (snap := f.snapshot()) is not None]
