"""Seconds since the last input on Wayland, from the compositor's idle notifications.

Two protocols say the same thing: `ext-idle-notify-v1` (wlroots 0.16 and later, KWin, Mutter
45 and later) and KDE's older `org_kde_kwin_idle` (KWin; wlroots before 0.17, e.g. sway 1.7 on
Debian 12). Neither gives an idle time: a client registers a timeout and hears `idled` when no
input came for that long, and `resumed` at the next input. So presence registers a short
timeout (`TIMEOUT`, 1 s) and back-dates: `idled` at t means the last input was at t - timeout.
While active, the last input lies within the last timeout seconds (no `idled` came); the
upper bound is reported, so a return from idle lands at the input that ended it.

The protocols know nothing before the notification exists: a user already idle when presence
starts is seen idle from the start of presence.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

from pywayland.protocol.ext_idle_notify_v1 import ExtIdleNotifierV1
from pywayland.protocol.wayland import WlSeat

from presence.platform.base import Probe, Session
from presence.platform.wayland_connection import WaylandConnection, probe_globals
from presence.platform.wayland_protocols.idle import OrgKdeKwinIdle

log = logging.getLogger(__name__)

TIMEOUT = 1.0
"""Seconds of no input after which the compositor says `idled`: the resolution of the answer.
Short, so going idle is back-dated exactly; each pause in typing longer than this costs one
`idled` and one `resumed` event, which is cheap."""


class IdleTimer:
    """The back-dating arithmetic, on monotonic seconds. Not thread-safe: the owner locks.

    Starts active, as the notification does: its timer starts when it is created.
    """

    def __init__(self, timeout: float, now: float) -> None:
        self.timeout = timeout
        self.idle = False
        self._mark = now  # while idle: the last input; while active: the last resume

    def idled(self, at: float) -> None:
        """No input for `timeout` seconds, as heard at `at`: the last input was at at - timeout."""
        self.idle = True
        self._mark = at - self.timeout

    def resumed(self, at: float) -> None:
        """Input at `at` after an idle stretch."""
        self.idle = False
        self._mark = at

    def idle_seconds(self, now: float) -> float:
        """Seconds since the last input as far as the events tell, never negative."""
        since = max(0.0, now - self._mark)
        return since if self.idle else min(since, self.timeout)


class _WaylandIdle:
    """The shared part: a connection dispatched on its own thread, feeding an IdleTimer."""

    name: ClassVar[str]
    _GLOBAL: ClassVar[type[Any]]
    _PURPOSE = "idle notifications"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Connects, reads the compositor's globals and disconnects: nothing stays open."""
        return probe_globals(session, (cls._GLOBAL.name, WlSeat.name), cls._PURPOSE)

    def __init__(self, session: Session, clock: Callable[[], float] = time.monotonic) -> None:
        """Connect, register a notification of TIMEOUT seconds, start the dispatch thread.

        Raises BackendError when the compositor cannot be reached or lacks the protocol.
        """
        self._clock = clock
        self._lock = threading.Lock()
        self._conn = WaylandConnection(session, f"presence-{self.name}")
        try:
            seat = self._conn.bind(WlSeat, 1)
            manager = self._conn.bind(self._GLOBAL, self._GLOBAL.version)
            self._objects = (seat, manager)
            self._timer = IdleTimer(TIMEOUT, clock())
            self._notification = self._register(manager, seat, int(TIMEOUT * 1000))
            self._conn.roundtrip()
        except BaseException:
            self._conn.close()
            raise
        self._conn.start()

    def _register(self, manager: Any, seat: Any, timeout_ms: int) -> Any:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

    def _on_idle(self, *_: Any) -> None:
        with self._lock:
            self._timer.idled(self._clock())
        log.debug("%s: idle", self.name)

    def _on_resumed(self, *_: Any) -> None:
        with self._lock:
            self._timer.resumed(self._clock())
        log.debug("%s: resumed", self.name)

    def idle_seconds(self) -> float:
        """Seconds since the last input (resolution TIMEOUT while active). Sampler thread.

        Raises BackendError when the connection to the compositor is gone.
        """
        self._conn.check()
        with self._lock:
            return self._timer.idle_seconds(self._clock())

    def close(self) -> None:
        """Release the notification and disconnect. Idempotent; never raises."""
        self._conn.close(self._release)


class ExtIdleNotifyIdle(_WaylandIdle):
    """`ext_idle_notifier_v1`. From version 2 on, `get_input_idle_notification` is used: only
    input counts, so a video player's idle inhibitor does not pass for a user at the keys."""

    name = "ext-idle-notify"
    _GLOBAL = ExtIdleNotifierV1

    def _register(self, manager: Any, seat: Any, timeout_ms: int) -> Any:
        if self._conn.version_of(ExtIdleNotifierV1) >= 2:
            notification = manager.get_input_idle_notification(timeout_ms, seat)
        else:
            notification = manager.get_idle_notification(timeout_ms, seat)
        notification.dispatcher["idled"] = self._on_idle
        notification.dispatcher["resumed"] = self._on_resumed
        return notification

    def _release(self) -> None:
        self._notification.destroy()
        self._objects[1].destroy()


class KdeIdle(_WaylandIdle):
    """KDE's `org_kde_kwin_idle` (KWin; wlroots before 0.17 such as sway 1.7). Where the
    compositor honours idle inhibitors for it (sway does), a fullscreen video keeps the user
    "active"."""

    name = "kde-idle"
    _GLOBAL = OrgKdeKwinIdle

    def _register(self, manager: Any, seat: Any, timeout_ms: int) -> Any:
        timeout = manager.get_idle_timeout(seat, timeout_ms)
        timeout.dispatcher["idle"] = self._on_idle
        timeout.dispatcher["resumed"] = self._on_resumed
        return timeout

    def _release(self) -> None:
        self._notification.release()
