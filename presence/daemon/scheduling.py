"""The daemon's scheduling glue: APScheduler fires the enforcer exactly when a warning, a start
or the end of a grace period is due, between the daemon's ticks.

APScheduler is imported here and nowhere else. The enforcer computes the instants (pure
engine, `upcoming_instants`) and hands them over with `plan()`; each becomes a one-shot
`date` job calling back into the enforcer on APScheduler's thread. Ticks re-evaluate every
second anyway, so a job lost to a suspend (APScheduler waits on a monotonic clock, which
stops while suspended), a misfire or a clock step costs at most one tick of delay, and a job
firing late or twice changes nothing: the engine's record of what was done decides.

APScheduler (with the asyncio and ssl modules it pulls in, about 10 MB) is imported when the
first instant is planned: a daemon with no rules never loads it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

MAX_JOBS = 64
"""At most this many instants are planned at once (the nearest); later ones are planned again
as the plan is renewed."""
MISFIRE_GRACE = 30
"""Seconds a job may run late; later than that, the ticks have already done its work."""


class RuleTimer:
    """One BackgroundScheduler whose jobs call `callback` at planned instants.

    Thread contract: `start`, `plan` and `shutdown` from any thread (serialised by a lock);
    `callback` runs on APScheduler's worker thread and must serialise itself (the enforcer
    takes its own lock).
    """

    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback = callback
        self._lock = threading.Lock()
        self._scheduler: Any = None  # created by the first non-empty plan
        self._started = False
        self.planned: list[datetime] = []

    def _running_scheduler(self) -> Any:
        """The BackgroundScheduler, created and started on first use. Hold `_lock`."""
        if self._scheduler is None:
            from apscheduler.schedulers.background import (  # noqa: PLC0415 - see module doc
                BackgroundScheduler,
            )

            # One worker: two instants a millisecond apart run one after the other.
            self._scheduler = BackgroundScheduler(
                timezone=UTC,
                executors={"default": {"type": "threadpool", "max_workers": 1}},
                job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE},
            )
            self._scheduler.start()
        return self._scheduler

    def start(self) -> None:
        """Accept plans from now on (the scheduler itself starts with the first instant)."""
        with self._lock:
            self._started = True

    def plan(self, instants: Sequence[datetime]) -> None:
        """Replace the planned instants (aware datetimes) with `instants`."""
        chosen = sorted(set(instants))[:MAX_JOBS]
        with self._lock:
            if not self._started or (not chosen and self._scheduler is None):
                return
            from apscheduler.triggers.date import DateTrigger  # noqa: PLC0415 - see module doc

            scheduler = self._running_scheduler()
            scheduler.remove_all_jobs()
            for when in chosen:
                scheduler.add_job(self._fire, DateTrigger(run_date=when))
            self.planned = chosen
        if chosen:
            log.debug("next rule instant %s (%d planned)", chosen[0].isoformat(), len(chosen))

    def _fire(self) -> None:
        try:
            self._callback()
        except Exception:
            log.exception("the rule timer's callback failed")

    def shutdown(self) -> None:
        """Stop the scheduler without waiting for a running job. Idempotent."""
        with self._lock:
            if self._scheduler is not None:
                self._scheduler.shutdown(wait=False)
                self._scheduler = None
            self._started = False
