"""Screen lock state from the desktop's screensaver service on the session bus.

The service's `ActiveChanged` signal is followed on a listener thread of its own: it wakes the
daemon at the moment the screen locks or unlocks (`watch`), so the lock boundary lands at the
event rather than the next tick. Between signals a reading is answered from what is known,
and `GetActive` is asked only when that is older than CONFIRM_EVERY seconds, when a signal is
still on its way, or when nothing is known (at the first reading, after the service left):
each GetActive costs the daemon about 1 ms of CPU, a third of its idle cost at a 1 s tick.
Without the listener (the bus refused the match rules) every reading asks GetActive. When
GetActive gets no answer in time, the state the last signal announced stands in.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from jeepney import (  # type: ignore[import-untyped, unused-ignore]
    HeaderFields,
    MatchRule,
    Message,
    MessageType,
)

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
)
from presence.platform.dbus_listener import BusListener

log = logging.getLogger(__name__)


def _same_named(bus_name: str) -> RemoteObject:
    """The screensaver convention: object and interface named after the service."""
    return RemoteObject(bus_name, "/" + bus_name.replace(".", "/"), bus_name)


GNOME_SCREEN_SHIELD = RemoteObject(
    "org.gnome.Shell.ScreenShield", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"
)
"""GNOME Shell's own lock screen. Since GNOME 42 the name org.gnome.ScreenSaver is a small
bus-activated gjs proxy in front of it; presence never asks the bus to start a service, so on
a desktop where nothing started that proxy only the shell's own name answers."""

# In order of preference. org.freedesktop.ScreenSaver is KDE's (and some others'); its
# freedesktop draft only standardises Inhibit, so GetActive is checked, not assumed. The
# others are the gnome-screensaver lineage, all with GetActive -> b.
SERVICES = (
    _same_named("org.freedesktop.ScreenSaver"),
    _same_named("org.gnome.ScreenSaver"),
    GNOME_SCREEN_SHIELD,
    *(
        _same_named(name)
        for name in ("org.mate.ScreenSaver", "org.cinnamon.ScreenSaver", "org.xfce.ScreenSaver")
    ),
)
LOCKED_TIMEOUT = 0.1  # the LockState contract: locked() returns within 100 ms
CONFIRM_EVERY = 10.0  # seconds a known state is trusted without asking GetActive again

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

    `ActiveChanged` signals are followed on a listener thread; `signalled` is the state the last
    one announced (None before any, and after the service left the bus).

    Thread contract: built and closed on the daemon's main thread; `locked()` on the sampler
    thread only; `watch`'s callback is called from the listener thread.
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
        self._lock = threading.Lock()
        self._signalled: bool | None = None  # what the last ActiveChanged said
        self._known: bool | None = None  # the last GetActive answer or signal, whichever last
        self._confirmed = float("-inf")  # time.monotonic() of the last GetActive answer
        self._changes = 0  # signals handled, so a GetActive answer older than one is not kept
        self._wake: Callable[[], None] | None = None
        self._listener = self._listen(session.session_bus)
        log.debug("screen lock state from %s", self.service.bus_name)

    def _listen(self, address: str) -> BusListener | None:
        """Follow ActiveChanged (and the service leaving the bus); None, with a debug line,
        when the bus refuses: polling alone still works."""
        service = self.service
        try:
            listener = BusListener(address, name="screensaver")
        except BackendError as exc:
            log.debug("not following ActiveChanged: %s", exc.message)
            return None
        try:
            listener.add_match(
                MatchRule(
                    type="signal",
                    sender=service.bus_name,
                    path=service.path,
                    interface=service.interface,
                    member="ActiveChanged",
                )
            )
            owner_rule = MatchRule(
                type="signal",
                sender="org.freedesktop.DBus",
                interface="org.freedesktop.DBus",
                member="NameOwnerChanged",
                path="/org/freedesktop/DBus",
            )
            owner_rule.add_arg_condition(0, service.bus_name)
            listener.add_match(owner_rule)
        except BackendError as exc:
            listener.close()
            log.debug("not following ActiveChanged: %s", exc.message)
            return None
        listener.start(self._on_signal)
        return listener

    def _on_signal(self, msg: Message) -> None:
        # On the listener thread. The bus routes signals of a well-known sender by its current
        # owner, so a replacement service's ActiveChanged arrives here too.
        if msg.header.message_type is not MessageType.signal:
            return
        member = msg.header.fields.get(HeaderFields.member)
        if member == "ActiveChanged":
            value = _as_bool(tuple(msg.body))
            if value is None:
                return
        elif member == "NameOwnerChanged":
            value = None  # the service left or was replaced: its last signal no longer holds
        else:
            return
        with self._lock:
            changed = value != self._signalled
            self._signalled = value
            self._known = value
            self._changes += 1
            wake = self._wake
        if changed and member == "ActiveChanged" and wake is not None:
            wake()

    @property
    def signalled(self) -> bool | None:
        """The state the last ActiveChanged announced; None before any. Any thread."""
        with self._lock:
            return self._signalled

    def watch(self, wake: Callable[[], None]) -> None:
        """Call `wake` (from the listener thread) when ActiveChanged announces a new state:
        the daemon reads `locked()` at once, so the lock boundary lands at the event."""
        with self._lock:
            self._wake = wake

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
        """Whether the screen is locked. Sampler thread only; returns within `timeout`.

        The known state (see the module docstring), else GetActive. When the service does not
        answer in time, the state its last ActiveChanged announced; None when there was none,
        or the service is gone (restarting, or replaced). Raises BackendError when the session
        bus connection is gone, or when the service answers with an error that will not go
        away.
        """
        known = self._trusted()
        if known is not None:
            return known
        with self._lock:
            changes = self._changes
        try:
            reply = self._bus.call(self.service, "GetActive", timeout=self._timeout)
        except DBusTimeoutError as exc:
            log.debug("no answer this time: %s", exc.message)
            return self.signalled
        except DBusCallError as exc:
            if exc.service_gone:
                log.debug("no answer this time: %s", exc.message)
                with self._lock:
                    self._known = None
                return None
            raise
        active = _as_bool(reply)
        if active is None:
            raise BackendError(
                f"{self.service.bus_name} GetActive returned {reply!r}, not a boolean",
                hint="this screensaver does not follow the interface presence knows; "
                "choose the logind lock backend",
            )
        with self._lock:
            if self._changes == changes:  # no signal overtook this answer
                self._known = active
                self._confirmed = time.monotonic()
        return active

    def _trusted(self) -> bool | None:
        """The known state when it may stand for GetActive now, else None."""
        listener = self._listener
        if listener is None:
            return None
        # Under the listener's guard: a signal the bus sent before this reading is either
        # handled already, or still unread and then GetActive is asked.
        with listener.guard:
            if listener.pending():
                return None
            with self._lock:
                if time.monotonic() - self._confirmed >= CONFIRM_EVERY:
                    return None
                return self._known

    def close(self) -> None:
        """Close the bus connections. Idempotent; main thread, after the sampler stopped."""
        if self._listener is not None:
            self._listener.close()
        self._bus.close()


def _as_bool(reply: tuple[object, ...]) -> bool | None:
    """GetActive's one boolean, or None for any other reply."""
    if len(reply) == 1 and isinstance(reply[0], bool):
        return reply[0]
    return None
