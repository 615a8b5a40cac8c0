"""One D-Bus object that presence serves on the session bus: properties and methods.

The plumbing only (jeepney): owning the well-known name, answering `Introspect`,
`org.freedesktop.DBus.Properties` (`Get`, `GetAll`; every property is read-only) and
`org.freedesktop.DBus.Peer.Ping`, handing the interface's own method calls to handlers, and
sending `PropertiesChanged`. What the properties say and what the methods do is the daemon's
(presence.daemon.bus_service).

Threads: calls are served on the listener's thread (BusListener); `changed()` may be called
from any other thread. Sends are serialised by a lock, as jeepney's blocking connection is not
safe to write from two threads at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
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

from presence.core.errors import BackendError
from presence.platform.dbus import INVALID_ARGS, UNKNOWN_METHOD, UNKNOWN_PROPERTY
from presence.platform.dbus_listener import BusListener

log = logging.getLogger(__name__)

PROPERTIES = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
PEER = "org.freedesktop.DBus.Peer"
PROPERTY_READ_ONLY = "org.freedesktop.DBus.Error.PropertyReadOnly"

Value = tuple[str, Any]
"""A D-Bus value with its signature: ("s", "firefox")."""

Handler = Callable[[tuple[Any, ...]], tuple[str, tuple[Any, ...]]]
"""A method: takes the call's body; returns the reply's signature and body. Raises
`Refused` for an answer that is an error."""


class Refused(Exception):
    """A method call answered with a D-Bus error `name` and a human-readable `message`."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


class ObjectServer:
    """Serves one object at `path` with `interface` under the well-known `name`."""

    def __init__(
        self,
        address: str,
        *,
        name: str,
        path: str,
        interface: str,
        introspection: str,
        properties: Callable[[], Mapping[str, Value]],
        methods: Mapping[str, tuple[str, Handler]],
    ) -> None:
        """Connect, own `name`, and serve. `methods` maps a member to (its in-signature,
        handler). Raises BackendError when there is no bus at `address` or another connection
        owns `name` (another daemon of this session)."""
        self.name, self.path, self.interface = name, path, interface
        self._introspection = introspection
        self._properties = properties
        self._methods = dict(methods)
        self._send_lock = threading.Lock()
        self._emitter = DBusAddress(path, interface=interface)
        self._listener = BusListener(address, name="bus-service")
        try:
            if not self._listener.request_name(name):
                raise BackendError(
                    f"the D-Bus name {name} is taken: another presence daemon serves it",
                    hint="`presence status` shows which daemon runs",
                )
        except BackendError:
            self._listener.close()
            raise
        self._listener.start(self._handle)

    def changed(self, values: Mapping[str, Value]) -> None:
        """Send `PropertiesChanged` for `values` (nothing when empty). Any thread."""
        if not values:
            return
        msg = new_signal(
            self._emitter, "PropertiesChanged", "sa{sv}as", (self.interface, dict(values), [])
        )
        msg.header.fields[HeaderFields.interface] = PROPERTIES
        self._send(msg)

    def close(self) -> None:
        """Stop serving and release the name. Idempotent; not from the listener thread."""
        self._listener.close()

    def _send(self, msg: Message) -> None:
        with self._send_lock:
            self._listener.send(msg)

    def _handle(self, msg: Message) -> None:
        """One incoming message (listener thread): answer the calls made to our object."""
        header = msg.header
        if header.message_type is not MessageType.method_call:
            return
        fields = header.fields
        path = fields.get(HeaderFields.path)
        if path != self.path:
            if fields.get(HeaderFields.member) == "Introspect":
                self._send(new_method_return(msg, "s", (self._node_xml(path),)))
            return
        interface, member = fields.get(HeaderFields.interface), fields.get(HeaderFields.member)
        given = fields.get(HeaderFields.signature, "")
        try:
            signature, body = self._answer(interface, member, msg.body, given)
        except Refused as exc:
            self._send(new_error(msg, exc.name, "s", (exc.message,)))
            return
        self._send(new_method_return(msg, signature, body))

    def _answer(
        self, interface: str | None, member: str | None, body: tuple[Any, ...], given: str
    ) -> tuple[str | None, tuple[Any, ...]]:
        if member == "Introspect" and interface in (INTROSPECTABLE, None):
            return "s", (self._introspection,)
        if member == "Ping" and interface in (PEER, None):
            return None, ()
        if interface == PROPERTIES:
            return self._property_call(member, body)
        if interface in (self.interface, None) and member in self._methods:
            signature, handler = self._methods[member]
            if given != signature:
                raise Refused(INVALID_ARGS, f"{member} takes ({signature})")
            return handler(body)
        raise Refused(UNKNOWN_METHOD, f"no method {member} on {interface}")

    def _property_call(
        self, member: str | None, body: tuple[Any, ...]
    ) -> tuple[str | None, tuple[Any, ...]]:
        if member == "GetAll" and body and body[0] == self.interface:
            return "a{sv}", (dict(self._properties()),)
        if member == "GetAll":
            return "a{sv}", ({},)
        if member == "Get" and len(body) == 2:
            values = self._properties()
            if body[0] != self.interface or body[1] not in values:
                raise Refused(UNKNOWN_PROPERTY, f"no property {body[1]} on {body[0]}")
            return "v", (values[body[1]],)
        if member == "Set":
            raise Refused(PROPERTY_READ_ONLY, "every property of presence is read-only")
        raise Refused(UNKNOWN_METHOD, f"no method {member} on {PROPERTIES}")

    def _node_xml(self, path: str | None) -> str:
        """Introspection of a path above our object: the child node leading to it, so that
        a browser of the bus (d-spy, busctl tree) finds it from "/"."""
        prefix = "/" if path in (None, "/") else f"{path}/"
        if not self.path.startswith(prefix):
            return "<node/>"
        child = self.path[len(prefix) :].split("/", 1)[0]
        return f'<node><node name="{child}"/></node>'
