"""One capability's backend, rebuilt after a failure: shared by the sampler and the enforcer.

The error policy is `presence.core.faults`: a backend that raises (anything but a fatal error)
is closed, the failure is counted and said once at WARNING, and the backend is rebuilt after a
back-off (30 s doubling to 10 min). The counts are published for `presence status` and
`doctor`. No backend fitting the session is not a failure: it is explained once (by the
factory) and looked for again every RETRY_SECONDS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from presence.core.faults import RETRY_SECONDS, Faults, FaultSnapshot

log = logging.getLogger(__name__)

B = TypeVar("B")

__all__ = ["RETRY_SECONDS", "B", "Capability"]


class Capability(Generic[B]):
    """One capability's backend, with the factory that (re)builds it after a failure.

    `factory` returns a backend, or None with the reason already explained (e.g. by doctor);
    it may raise, which counts as a failure. Thread contract: the owner serialises every call
    (the sampler thread, or the enforcer's lock).
    """

    __slots__ = ("backend", "factory", "faults", "name")

    def __init__(self, name: str, factory: Callable[[], B | None]) -> None:
        self.name = name
        self.factory = factory
        self.backend: B | None = None
        self.faults = Faults(name)

    @property
    def failures(self) -> int:
        """Failures since the daemon started."""
        return self.faults.failures

    def get(self, mono: float) -> B | None:
        """The backend, built now if there is none and the back-off allows; None meanwhile.

        Raises only a fatal error (`presence.core.faults.is_fatal`), e.g. a forced backend
        name that does not exist.
        """
        if self.backend is None and self.faults.ready(mono):
            try:
                self.backend = self.factory()
            except Exception as exc:
                self.faults.failed(exc, mono)
                return None
            if self.backend is None:
                self.faults.wait(mono)
        return self.backend

    def worked(self) -> None:
        """The backend answered: a run of failures is over (building it is not enough: a
        backend that builds and then fails at every use must still back off)."""
        if self.faults.streak:
            self.faults.succeeded()

    def failed(self, exc: BaseException, mono: float, *, wall: datetime | None = None) -> None:
        """Drop the backend after `exc`; it is rebuilt after the back-off.

        Raises `exc` again when it is fatal (the backend is closed first).
        """
        backend, self.backend = self.backend, None
        close = getattr(backend, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                log.debug("closing the failed %s backend raised", self.name, exc_info=True)
        self.faults.failed(exc, mono, wall=wall)

    def snapshot(self) -> FaultSnapshot | None:
        """Its failures so far (None: none), for `presence status` and `doctor`."""
        return self.faults.snapshot()

    def close(self) -> None:
        if self.backend is not None:
            close: Any = getattr(self.backend, "close", None)
            self.backend = None
            if close is not None:
                close()
