"""Screen lock state from the desktop's screensaver service on the session bus (GetActive)."""

from __future__ import annotations

import logging

from presence.core.errors import BackendError
from presence.platform.base import Probe, Session
from presence.platform.dbus import (
    CONNECT_TIMEOUT,
    NOT_IMPLEMENTED,
    BusConnection,
    DBusCallError,
    DBusTimeoutError,
    RemoteObject,
    connect,
    probe_bus,
    unless_unanswered,
)

log = logging.getLogger(__name__)


def _same_named(bus_name: str) -> RemoteObject:
    """The screensaver convention: object and interface named after the service."""
    return RemoteObject(bus_name, "/" + bus_name.replace(".", "/"), bus_name)


# In order of preference. org.freedesktop.ScreenSaver is KDE's (and some others'); its
# freedesktop draft only standardises Inhibit, so GetActive is checked, not assumed. The
# others are the gnome-screensaver lineage, all with GetActive -> b.
SERVICES = tuple(
    _same_named(name)
    for name in (
        "org.freedesktop.ScreenSaver",
        "org.gnome.ScreenSaver",
        "org.mate.ScreenSaver",
        "org.cinnamon.ScreenSaver",
        "org.xfce.ScreenSaver",
    )
)
LOCKED_TIMEOUT = 0.1  # the LockState contract: locked() returns within 100 ms

NO_SESSION_BUS_HINT = (
    "run inside a desktop session whose D-Bus session bus is reachable: set "
    "DBUS_SESSION_BUS_ADDRESS, or install dbus-user-session so $XDG_RUNTIME_DIR/bus exists"
)
NO_SCREENSAVER_HINT = (
    "run your desktop's screen locker service (GNOME Shell, KDE's kscreenlocker, "
    "mate-screensaver, cinnamon-screensaver or xfce4-screensaver), or choose the logind "
    "lock backend"
)


class ScreenSaverLockState:
    """Whether the screen is locked, from the first screensaver service that answers GetActive.

    GetActive is true while the screensaver (and, where locking is enabled, the lock) is up.

    Thread contract: built and closed on the daemon's main thread; `locked()` on the sampler
    thread only.
    """

    name = "screensaver"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Whether the session has a session bus socket. Does not connect; side-effect free."""
        return probe_bus(session.session_bus, bus="session D-Bus", hint=NO_SESSION_BUS_HINT)

    def __init__(self, session: Session, *, timeout: float = LOCKED_TIMEOUT) -> None:
        """Connect to the session bus and pick the first service in SERVICES that answers.

        A service counts when its name has an owner and GetActive returns a boolean; nothing
        is started on the way (no bus activation). `timeout` bounds each `locked()` call.
        Raises BackendError when there is no session bus or no service answers.
        """
        if not session.session_bus:
            raise BackendError("no session D-Bus", hint=NO_SESSION_BUS_HINT)
        self._timeout = timeout
        self._bus: BusConnection = connect(session.session_bus, bus="session D-Bus")
        try:
            self.service = self._pick()
        except BackendError:
            self._bus.close()
            raise
        log.debug("screen lock state from %s", self.service.bus_name)

    def _pick(self) -> RemoteObject:
        tried: list[str] = []
        for service in SERVICES:
            if not self._bus.name_has_owner(service.bus_name, timeout=CONNECT_TIMEOUT):
                tried.append(f"{service.bus_name}: not running")
                continue
            try:
                reply = self._bus.call(service, "GetActive", timeout=CONNECT_TIMEOUT)
            except DBusCallError as exc:
                # An inhibit-only implementation of org.freedesktop.ScreenSaver (a power
                # manager, a portal) owns the name without GetActive: try the next service.
                reason = "has no GetActive" if exc.error_name in NOT_IMPLEMENTED else exc.message
                tried.append(f"{service.bus_name}: {reason}")
                continue
            except DBusTimeoutError:
                tried.append(f"{service.bus_name}: no answer within {CONNECT_TIMEOUT:g} s")
                continue
            if _as_bool(reply) is not None:
                return service
            tried.append(f"{service.bus_name}: GetActive returned {reply!r}, not a boolean")
        raise BackendError(
            f"no screensaver service answers GetActive on the session D-Bus ({'; '.join(tried)})",
            hint=NO_SCREENSAVER_HINT,
        )

    def locked(self) -> bool | None:
        """The chosen service's GetActive. Sampler thread only; returns within `timeout`.

        Returns None when the service does not answer in time or is gone (restarting, or the
        user replaced it). Raises BackendError when the session bus connection is gone, or
        when the service answers with an error that will not go away.
        """
        reply = unless_unanswered(
            lambda: self._bus.call(self.service, "GetActive", timeout=self._timeout)
        )
        if reply is None:
            return None
        active = _as_bool(reply)
        if active is None:
            raise BackendError(
                f"{self.service.bus_name} GetActive returned {reply!r}, not a boolean",
                hint="this screensaver does not follow the interface presence knows; "
                "choose the logind lock backend",
            )
        return active

    def close(self) -> None:
        """Close the bus connection. Idempotent; main thread, after the sampler stopped."""
        self._bus.close()


def _as_bool(reply: tuple[object, ...]) -> bool | None:
    """GetActive's one boolean, or None for any other reply."""
    if len(reply) == 1 and isinstance(reply[0], bool):
        return reply[0]
    return None
