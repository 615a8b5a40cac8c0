"""The last-resort notifier: the daemon's log (stderr, which systemd sends to the journal)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence

from presence.platform.base import Probe, Session

log = logging.getLogger(__name__)


class LogNotifier:
    """Writes each notification to the log at WARNING, so it shows at every log level but
    ERROR. Always available; never raises. Any thread."""

    name = "log"
    actions_supported = False

    @classmethod
    def probe(cls, session: Session) -> Probe:
        return Probe.yes("the daemon's log")

    def __init__(self, session: Session | None = None) -> None:
        self._ids = itertools.count(1)

    def notify(
        self,
        summary: str,
        body: str,
        *,
        replaces_id: int = 0,
        actions: Sequence[tuple[str, str]] = (),
    ) -> int:
        """Log the notification; returns a fresh id (`replaces_id` and `actions` are moot)."""
        log.warning("notification: %s: %s", summary, body)
        return next(self._ids)

    def on_action(self, callback: Callable[[int, str], None]) -> None:
        """No buttons in a log: the callback is never called."""

    def close(self) -> None:
        """Nothing to release."""
