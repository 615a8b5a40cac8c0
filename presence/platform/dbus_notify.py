"""Notifications through the freedesktop notification server (org.freedesktop.Notifications).

Desktop Notifications Specification 1.2: `Notify(app_name, replaces_id, app_icon, summary,
body, actions, hints, expire_timeout) -> id`; a non-zero `replaces_id` updates that
notification in place (the warning countdown uses it); `actions` is a flat list of
(key, label) pairs; the server emits `ActionInvoked(id, key)` when a button is clicked.

Servers send ActionInvoked to the connection that sent Notify (dunst, GNOME Shell and
KDE address it to the sender), so one connection both sends and listens: jeepney's threading
router, whose receiver thread matches replies and hands signals to a filter queue, read by
a listener thread of ours that calls the action callback.

The connection goes to the session bus named by `Session.session_bus` only; nothing here
autolaunches a bus (jeepney never does, and an `autolaunch:` address is refused). Unlike the
lock-state probes, Notify may bus-activate the notification server: that is how desktops
start one on demand, and a notification is what the user asked for.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

from jeepney import (  # type: ignore[import-untyped, unused-ignore]
    DBusAddress,
    DBusErrorResponse,
    MatchRule,
    MessageType,
    new_method_call,
)
from jeepney.bus_messages import message_bus  # type: ignore[import-untyped, unused-ignore]
from jeepney.io.common import RouterClosed  # type: ignore[import-untyped, unused-ignore]
from jeepney.io.threading import (  # type: ignore[import-untyped, unused-ignore]
    DBusConnection,
    DBusRouter,
    open_dbus_connection,
)
from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped, unused-ignore]

from presence.core.errors import BackendError
from presence.platform.base import Probe, Session
from presence.platform.dbus import (
    CONNECT_TIMEOUT,
    BusDisconnectedError,
    DBusTimeoutError,
    UnixTarget,
    call_error,
    open_first,
    probe_bus,
)

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
_SERVER = DBusAddress(PATH, bus_name=BUS_NAME, interface=BUS_NAME)
CALL_TIMEOUT = 2.0  # the Notifier contract: notify() returns within 2 s
_URGENCY_NORMAL = 1  # hints["urgency"]: 0 low, 1 normal, 2 critical (specification, "Urgency")

NO_SESSION_BUS_HINT = (
    "run inside a desktop session whose D-Bus session bus is reachable (DBUS_SESSION_BUS_ADDRESS "
    "or $XDG_RUNTIME_DIR/bus)"
)
NO_SERVER_HINT = (
    "run a notification server (your desktop's, or dunst, mako, xfce4-notifyd); presence falls "
    "back to plyer, then to its log"
)


class DBusNotifier:
    """Notifications with buttons and in-place updates, over a jeepney connection of its own.

    Thread contract: built on any thread (the enforcer builds it lazily, under its lock, on
    whichever of the sampler and timer threads first notifies; nothing here belongs to the
    building thread: jeepney's router reads on a receiver thread of its own). `notify()` from
    any thread (calls are matched to replies by the router, so concurrent calls are safe);
    the action callback runs on the listener thread; `close()` from any thread but the
    listener's (the callback must not close it), idempotent.
    """

    name = "dbus"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Whether the session has a session bus socket. Does not connect; side-effect free."""
        return probe_bus(session.session_bus, bus="session D-Bus", hint=NO_SESSION_BUS_HINT)

    def __init__(self, session: Session, *, app_name: str = "presence") -> None:
        """Connect, and check that a notification server runs or can be activated.

        Raises BackendError when there is no session bus or no notification server.
        """
        if not session.session_bus:
            raise BackendError("no session D-Bus", hint=NO_SESSION_BUS_HINT)
        self.app_name = app_name
        self._conn = open_first(
            session.session_bus, _open_threaded, bus="session D-Bus", timeout=CONNECT_TIMEOUT
        )
        self._router = DBusRouter(self._conn)
        self._callback: Callable[[int, str], None] | None = None
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        self._actions: Any = None
        try:
            self._check_server()
            caps = self._call("GetCapabilities", None, ())[0]
        except BackendError:
            self.close()
            raise
        self.actions_supported = "actions" in caps
        self.server_capabilities = tuple(caps)

    def _check_server(self) -> None:
        bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
        owned = self._raw(new_method_call(bus, "NameHasOwner", "s", (BUS_NAME,)), "NameHasOwner")
        if owned[0]:
            return
        names = self._raw(new_method_call(bus, "ListActivatableNames"), "ListActivatableNames")
        if BUS_NAME not in names[0]:
            raise BackendError(
                "no notification server on the session D-Bus (org.freedesktop.Notifications "
                "has no owner and cannot be activated)",
                hint=NO_SERVER_HINT,
            )

    def notify(
        self,
        summary: str,
        body: str,
        *,
        replaces_id: int = 0,
        actions: Sequence[tuple[str, str]] = (),
    ) -> int:
        """Show (or, with `replaces_id`, update) a notification; returns its id.

        Raises BackendError when the server or the bus is gone, or does not answer in 2 s.
        """
        flat: list[str] = []
        if self.actions_supported:
            for key, label in actions:
                flat += [key, label]
        hints = {"urgency": ("y", _URGENCY_NORMAL)}
        body_args = (self.app_name, replaces_id, "", summary, body, flat, hints, -1)
        reply = self._call("Notify", "susssasa{sv}i", body_args)
        return int(reply[0])

    def on_action(self, callback: Callable[[int, str], None]) -> None:
        """Call `callback(id, key)` on the listener thread when a button is clicked."""
        self._callback = callback
        if self._listener is not None:
            return
        rule = MatchRule(type="signal", interface=BUS_NAME, member="ActionInvoked", path=PATH)
        # Also ask the bus for it, for servers that broadcast the signal instead.
        try:
            self._raw(message_bus.AddMatch(rule), "AddMatch")
        except BackendError as exc:
            log.debug("AddMatch for ActionInvoked failed: %s", exc.message)
        self._actions = self._router.filter(rule, queue=queue.Queue(maxsize=64))
        self._listener = threading.Thread(
            target=self._listen, name="presence-notify-actions", daemon=True
        )
        self._listener.start()

    def _listen(self) -> None:
        inbox: queue.Queue[Any] = self._actions.queue
        while not self._stop.is_set():
            try:
                msg = inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                notification_id, key = msg.body
            except (TypeError, ValueError):
                continue
            callback = self._callback
            if callback is None:
                continue
            try:
                callback(int(notification_id), str(key))
            except Exception:
                log.exception("the notification action callback failed")

    def close(self) -> None:
        """Stop the listener and close the connection. Idempotent; any thread but the
        listener's."""
        self._stop.set()
        if self._listener is not None and self._listener is not threading.current_thread():
            self._listener.join(timeout=2)
        if self._actions is not None:
            self._actions.close()
            self._actions = None
        try:
            self._router.close()
        finally:
            self._conn.close()

    def _call(self, method: str, signature: str | None, body: tuple[Any, ...]) -> Any:
        msg = new_method_call(_SERVER, method, signature, body)
        return self._raw(msg, f"{BUS_NAME}.{method}")

    def _raw(self, msg: Any, what: str) -> Any:
        """Send `msg`, wait for its reply. Raises the errors of platform/dbus.py: a
        `DBusTimeoutError`, a `BusDisconnectedError`, or a `DBusCallError` (whose hint names
        the notification server when it is gone)."""
        try:
            reply = self._router.send_and_get_reply(msg, timeout=CALL_TIMEOUT)
        except TimeoutError as exc:
            raise DBusTimeoutError(
                f"{what}: no reply within {CALL_TIMEOUT:g} s",
                hint="the notification server is busy or hung",
            ) from exc
        except (RouterClosed, OSError) as exc:
            raise BusDisconnectedError(
                f"{what}: lost the session D-Bus connection ({exc})",
                hint="presence reconnects when the session bus is back",
            ) from exc
        if reply.header.message_type is MessageType.error:
            try:
                unwrap_msg(reply)
            except DBusErrorResponse as exc:
                error = call_error(what, exc)
                if error.service_gone:
                    error.hint = NO_SERVER_HINT
                raise error from exc
        return reply.body


def _open_threaded(target: UnixTarget, timeout: float) -> DBusConnection:
    # The threading flavour of jeepney: its router matches replies on a receiver thread, so a
    # button's ActionInvoked signal arrives while nobody is waiting on a reply.
    return open_dbus_connection(bus=target.address, auth_timeout=timeout)
