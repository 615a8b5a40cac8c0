"""Seconds since the last input on GNOME, from Mutter's idle monitor on the session bus.

`org.gnome.Mutter.IdleMonitor` at `/org/gnome/Mutter/IdleMonitor/Core` answers `GetIdletime`
with the milliseconds since the last user input the compositor saw (keyboard, pointer, touch),
for Wayland and X11 GNOME sessions alike. One call per tick costs about a millisecond, so the
idle time is polled rather than tracked with AddIdleWatch/WatchFired, whose one-shot watches
would have to be re-armed after every input.
"""

from __future__ import annotations

import logging

from presence.core.errors import BackendError
from presence.platform.base import Probe, Session
from presence.platform.dbus import (
    CONNECT_TIMEOUT,
    BusConnection,
    RemoteObject,
    connect,
    probe_bus,
)

log = logging.getLogger(__name__)

IDLE_MONITOR = RemoteObject(
    "org.gnome.Mutter.IdleMonitor",
    "/org/gnome/Mutter/IdleMonitor/Core",
    "org.gnome.Mutter.IdleMonitor",
)
IDLE_TIMEOUT = 0.5  # generous against a loaded machine; the monitor answers in about 1 ms

NO_SESSION_BUS_HINT = "run inside the GNOME session, whose session D-Bus must be reachable"
NO_MUTTER_HINT = "this idle backend works in GNOME sessions (Mutter); choose another idle backend"


class MutterIdleMonitorIdle:
    """Idle time from Mutter's core idle monitor, over a session bus connection of its own.

    Thread contract: built and closed on the daemon's main thread; `idle_seconds()` on the
    sampler thread only.
    """

    name = "mutter"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Whether Mutter's idle monitor has an owner on the session bus (asks the bus only;
        side-effect free, nothing is activated)."""
        bus_probe = probe_bus(session.session_bus, bus="session D-Bus", hint=NO_SESSION_BUS_HINT)
        if not bus_probe.ok or session.session_bus is None:
            return bus_probe
        try:
            with connect(session.session_bus, bus="session D-Bus") as bus:
                running = bus.name_has_owner(IDLE_MONITOR.bus_name, timeout=CONNECT_TIMEOUT)
        except BackendError as exc:
            return Probe.no(exc.message, hint=exc.hint or NO_SESSION_BUS_HINT)
        if not running:
            return Probe.no(
                "org.gnome.Mutter.IdleMonitor is not on the session D-Bus (not a GNOME session)",
                hint=NO_MUTTER_HINT,
            )
        return Probe.yes()

    def __init__(self, session: Session, *, timeout: float = IDLE_TIMEOUT) -> None:
        """Connect and read the idle time once. Raises BackendError when that fails."""
        if not session.session_bus:
            raise BackendError("no session D-Bus", hint=NO_SESSION_BUS_HINT)
        self._timeout = timeout
        self._bus: BusConnection = connect(session.session_bus, bus="session D-Bus")
        try:
            self.idle_seconds()
        except BackendError:
            self._bus.close()
            raise

    def idle_seconds(self) -> float:
        """Seconds since the last input Mutter saw. Sampler thread only.

        Raises BackendError when the call fails (the shell gone or restarting, or no answer
        within the timeout): the sampler treats that as no reading this tick.
        """
        (millis,) = self._bus.call(IDLE_MONITOR, "GetIdletime", timeout=self._timeout)
        return int(millis) / 1000.0

    def close(self) -> None:
        """Close the bus connection. Idempotent; main thread."""
        self._bus.close()
