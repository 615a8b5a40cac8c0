"""Enforcement off the sampler thread (issue 10): recording never waits for an action.

The daemon's tick hands its observation and open span to `EnforcementWorker.submit`, which
only stores them (the span copied: the sampler thread goes on changing its own) and wakes
the worker thread; the worker runs `Enforcer.on_tick` with the latest tick. A tick that
comes while an evaluation is still running (a locker taking seconds) replaces the one
waiting: the enforcer only needs the latest observation, since use is measured from spans.

Fatal errors: `Enforcer.on_tick` raises a fatal error (`presence.core.faults`) on the
worker thread; the worker keeps it and stops, and the next `submit` raises it on the
sampler thread, so the daemon loop stops with its message as before.
"""

from __future__ import annotations

import logging
import threading

from presence.core.faults import describe
from presence.core.model import Observation, Span
from presence.enforce.enforcer import Enforcer

log = logging.getLogger(__name__)


class EnforcementWorker:
    """Runs an enforcer's ticks on its own thread. `start()`, `submit()` each tick, `stop()`."""

    def __init__(self, enforcer: Enforcer) -> None:
        self._enforcer = enforcer
        self._cond = threading.Condition()
        self._waiting: tuple[Observation | None, Span | None] | None = None
        self._stopping = False
        self._busy = False
        self._fatal: BaseException | None = None
        self.replaced = 0  # ticks replaced by a newer one before the enforcer took them
        self._thread = threading.Thread(target=self._run, name="enforcer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, obs: Observation | None, open_span: Span | None) -> None:
        """Hand over one tick (sampler thread). Never waits for the enforcer; raises the
        fatal error the enforcer met on the worker thread, if any."""
        if self._fatal is not None:
            raise self._fatal
        span = None if open_span is None else open_span.copy()
        with self._cond:
            if self._waiting is not None:
                self.replaced += 1
            self._waiting = (obs, span)
            self._cond.notify()

    def idle(self, timeout: float) -> bool:
        """Wait until no tick is waiting or being evaluated (tests); returns whether so."""
        with self._cond:
            return self._cond.wait_for(
                lambda: (self._waiting is None and not self._busy) or self._stopping, timeout
            )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking ticks and wait up to `timeout` s for the one being evaluated. Main
        thread; never raises."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("enforcement still busy after %g s; stopping without it", timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._waiting is not None or self._stopping)
                if self._stopping:
                    return
                assert self._waiting is not None  # the wait_for condition
                obs, span = self._waiting
                self._waiting = None
                self._busy = True
            try:
                self._enforcer.on_tick(obs, span)
            except BaseException as exc:
                log.error("enforcement stops: %s", describe(exc))
                self._fatal = exc  # raised by the next submit, on the sampler thread
                return
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
