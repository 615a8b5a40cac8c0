"""One capability's backend, rebuilt after a failure: shared by the sampler and the enforcer.

A backend that raises is closed, and rebuilt RETRY_SECONDS later; the first failure is said once
at WARNING with its reason, and the failures are counted for `presence status` and `doctor`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from presence.core.errors import BackendError

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
