"""Fake desktop services for integration tests, served with jeepney on a private bus.

    python -m tests.integration.fake_services screensaver --address ADDR [--flavour gnome]
    python -m tests.integration.fake_services screensaver --address ADDR --inhibit-only
    python -m tests.integration.fake_services logind --address ADDR [--no-session]

Each claims its well-known name, prints `ready <unique name>` on stdout, and serves until it
is terminated or the bus goes away. A test changes the state over D-Bus with the service's own
setter (`SetActive(b)` on a screensaver, `SetLockedHint(b)` on the logind session), both real
methods of the interfaces faked here, so nothing test-only is needed on the bus.

Fakes stand in for a desktop's services so the backends' D-Bus code meets a real bus; they
are not a replacement for testing against the real services.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from jeepney import (  # type: ignore[import-untyped, unused-ignore]
    DBusAddress,
    HeaderFields,
    Message,
    MessageType,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import (  # type: ignore[import-untyped, unused-ignore]
    DBusNameFlags,
    message_bus,
)
from jeepney.io.blocking import (  # type: ignore[import-untyped, unused-ignore]
    DBusConnection,
    open_dbus_connection,
)

PROPERTIES = "org.freedesktop.DBus.Properties"
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
UNKNOWN_OBJECT = "org.freedesktop.DBus.Error.UnknownObject"
UNKNOWN_PROPERTY = "org.freedesktop.DBus.Error.UnknownProperty"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
PRIMARY_OWNER = 1  # RequestName's reply when we got the name (D-Bus specification)

# (interface, member) -> handler(message) -> (signature, body) of the reply
Handler = Callable[[Message], tuple[str | None, tuple[Any, ...]]]


class MethodError(Exception):
    """Raised by a handler to answer with a D-Bus error."""

    def __init__(self, name: str, text: str) -> None:
        super().__init__(text)
        self.name = name
        self.text = text


class FakeObject:
    """One object path serving methods and read-only properties of one interface."""

    def __init__(self, conn: DBusConnection, path: str, interface: str) -> None:
        self.conn = conn
        self.path = path
        self.interface = interface
        self.methods: dict[tuple[str, str], Handler] = {}
        self.properties: dict[str, tuple[str, Any]] = {}  # name -> (signature, value)
        self.methods[(PROPERTIES, "Get")] = self._get
        self.methods[(PROPERTIES, "GetAll")] = self._get_all

    def emit(self, member: str, signature: str, body: tuple[Any, ...], interface: str = "") -> None:
        emitter = DBusAddress(self.path, interface=interface or self.interface)
        self.conn.send(new_signal(emitter, member, signature, body))

    def set_property(self, name: str, value: Any) -> None:
        signature, old = self.properties[name]
        self.properties[name] = (signature, value)
        if old != value:
            changed = {name: (signature, value)}
            self.emit("PropertiesChanged", "sa{sv}as", (self.interface, changed, []), PROPERTIES)

    def _get(self, msg: Message) -> tuple[str | None, tuple[Any, ...]]:
        interface, name = msg.body
        if interface != self.interface or name not in self.properties:
            raise MethodError(UNKNOWN_PROPERTY, f"no property {interface}.{name}")
        return "v", (self.properties[name],)

    def _get_all(self, msg: Message) -> tuple[str | None, tuple[Any, ...]]:
        (interface,) = msg.body
        values = dict(self.properties) if interface == self.interface else {}
        return "a{sv}", (values,)

    def dispatch(self, msg: Message) -> tuple[str | None, tuple[Any, ...]]:
        interface = msg.header.fields.get(HeaderFields.interface)
        member = msg.header.fields[HeaderFields.member]
        for (iface, name), handler in self.methods.items():
            # The interface field is optional in a method call (D-Bus specification).
            if name == member and interface in (None, iface):
                return handler(msg)
        raise MethodError(UNKNOWN_METHOD, f"no method {interface}.{member}")


def _bool_arg(msg: Message) -> bool:
    (value,) = msg.body
    if not isinstance(value, bool):
        raise MethodError(INVALID_ARGS, "expected one boolean")
    return value


def screensaver(conn: DBusConnection, flavour: str, inhibit_only: bool) -> tuple[str, FakeObject]:
    """A screensaver service: org.<flavour>.ScreenSaver with GetActive/SetActive/Lock.

    Flavour `gnome-shield` is GNOME Shell's own name for it: org.gnome.Shell.ScreenShield
    serving org.gnome.ScreenSaver at /org/gnome/ScreenSaver (no proxy in front)."""
    if flavour == "gnome-shield":
        bus_name, name = "org.gnome.Shell.ScreenShield", "org.gnome.ScreenSaver"
    else:
        bus_name = name = f"org.{flavour}.ScreenSaver"
    obj = FakeObject(conn, "/" + name.replace(".", "/"), name)
    cookies = iter(range(1, 1 << 31))
    obj.methods[(name, "Inhibit")] = lambda msg: ("u", (next(cookies),))
    obj.methods[(name, "UnInhibit")] = lambda msg: (None, ())
    if inhibit_only:
        # Like a power manager that owns org.freedesktop.ScreenSaver for inhibition only.
        return name, obj
    state = {"active": False}

    def set_active(value: bool) -> None:
        if state["active"] != value:
            state["active"] = value
            obj.emit("ActiveChanged", "b", (value,))

    def on_set_active(msg: Message) -> tuple[str | None, tuple[Any, ...]]:
        set_active(_bool_arg(msg))
        return None, ()

    def on_lock(msg: Message) -> tuple[str | None, tuple[Any, ...]]:
        set_active(True)
        return None, ()

    obj.methods[(name, "GetActive")] = lambda msg: ("b", (state["active"],))
    obj.methods[(name, "SetActive")] = on_set_active
    obj.methods[(name, "Lock")] = on_lock
    return bus_name, obj


def logind(conn: DBusConnection) -> tuple[str, FakeObject]:
    """org.freedesktop.login1 with one session at session/auto: LockedHint, Lock, Unlock."""
    interface = "org.freedesktop.login1.Session"
    obj = FakeObject(conn, "/org/freedesktop/login1/session/auto", interface)
    obj.properties.update({"Id": ("s", "1"), "Active": ("b", True), "LockedHint": ("b", False)})

    def on_set_locked_hint(msg: Message) -> tuple[str | None, tuple[Any, ...]]:
        obj.set_property("LockedHint", _bool_arg(msg))
        return None, ()

    def on_lock(msg: Message) -> tuple[str | None, tuple[Any, ...]]:
        # Real logind only emits Lock for the session's locker, which then sets the hint;
        # the fake plays both parts.
        obj.emit("Lock", "", ())
        obj.set_property("LockedHint", True)
        return None, ()

    def on_unlock(msg: Message) -> tuple[str | None, tuple[Any, ...]]:
        obj.emit("Unlock", "", ())
        obj.set_property("LockedHint", False)
        return None, ()

    obj.methods[(interface, "SetLockedHint")] = on_set_locked_hint
    obj.methods[(interface, "Lock")] = on_lock
    obj.methods[(interface, "Unlock")] = on_unlock
    return "org.freedesktop.login1", obj


def serve(conn: DBusConnection, objects: dict[str, FakeObject]) -> None:
    """Answer method calls until the bus connection closes."""
    while True:
        try:
            msg = conn.receive()
        except (ConnectionError, OSError):
            return
        if msg.header.message_type is not MessageType.method_call:
            continue
        path = msg.header.fields.get(HeaderFields.path)
        try:
            obj = objects.get(path)
            if obj is None:
                raise MethodError(UNKNOWN_OBJECT, f"no object at {path}")
            signature, body = obj.dispatch(msg)
            reply = new_method_return(msg, signature, body)
        except MethodError as exc:
            reply = new_error(msg, exc.name, "s", (exc.text,))
        try:
            conn.send(reply)
        except OSError:
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.integration.fake_services")
    parser.add_argument("service", choices=["screensaver", "logind"])
    parser.add_argument("--address", required=True, help="the private bus to serve on")
    parser.add_argument("--flavour", default="freedesktop", help="org.<flavour>.ScreenSaver")
    parser.add_argument("--inhibit-only", action="store_true", help="screensaver: no GetActive")
    parser.add_argument("--no-session", action="store_true", help="logind: no session/auto")
    args = parser.parse_args(argv)

    conn = open_dbus_connection(bus=args.address, auth_timeout=10.0)
    if args.service == "screensaver":
        name, obj = screensaver(conn, args.flavour, args.inhibit_only)
    else:
        name, obj = logind(conn)
    objects = {} if args.no_session else {obj.path: obj}
    reply = conn.send_and_get_reply(
        message_bus.RequestName(name, DBusNameFlags.do_not_queue), timeout=10.0
    )
    if reply.body != (PRIMARY_OWNER,):
        print(f"cannot own {name}: RequestName answered {reply.body}", file=sys.stderr)
        return 1
    print(f"ready {conn.unique_name}", flush=True)
    serve(conn, objects)
    return 0


if __name__ == "__main__":
    sys.exit(main())
