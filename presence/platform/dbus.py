"""D-Bus connections for the platform layer: connect to an explicit address, call, read a property.

Addresses and the side-effect-free probe are in `dbus_address` (re-exported here).

Everything here speaks through jeepney's blocking API to a bus named by an explicit address
(`Session.session_bus`, or `system_bus_address()`). Nothing here ever autolaunches a bus: an
`autolaunch:` address is refused, and jeepney itself never spawns anything.

Failures become `BackendError` subclasses, so a backend can tell them apart:

- `BusDisconnectedError`: the connection to the bus is gone; the `BusConnection` is dead.
- `DBusTimeoutError`: no reply in time; the connection stays usable (a late reply is dropped).
- `DBusCallError`: the peer (or the bus on its behalf) answered with a D-Bus error;
  `service_gone` says whether that means the service has no owner right now.

Thread contract: a `BusConnection` may be shared between threads; calls on one connection are
serialised by a lock, so a slow call delays the others on the same connection. Backends that
must answer quickly (the sampler's) should own their connection rather than share one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

# jeepney ships no type information; these ignores stay quiet if a mypy override is added.
from jeepney import (  # type: ignore[import-untyped, unused-ignore]
    AuthenticationError,
    DBusAddress,
    DBusErrorResponse,
    Message,
    MessageFlag,
    Properties,
    new_method_call,
)
from jeepney.io.blocking import (  # type: ignore[import-untyped, unused-ignore]
    DBusConnection,
    open_dbus_connection,
)
from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped, unused-ignore]

from presence.core.errors import BackendError

# Addresses and probing live in dbus_address; re-exported here, the one import point for D-Bus.
from presence.platform.dbus_address import (
    SYSTEM_BUS_ADDRESS,
    UnixTarget,
    probe_bus,
    system_bus_address,
    unix_targets,
)

__all__ = [
    "ACCESS_DENIED",
    "CALL_TIMEOUT",
    "CONNECT_TIMEOUT",
    "INVALID_ARGS",
    "NAME_HAS_NO_OWNER",
    "NOT_IMPLEMENTED",
    "NOT_SUPPORTED",
    "NO_REPLY",
    "SERVICE_GONE",
    "SERVICE_UNKNOWN",
    "SYSTEM_BUS_ADDRESS",
    "UNKNOWN_INTERFACE",
    "UNKNOWN_METHOD",
    "UNKNOWN_OBJECT",
    "UNKNOWN_PROPERTY",
    "BusConnection",
    "BusDisconnectedError",
    "DBusCallError",
    "DBusTimeoutError",
    "RemoteObject",
    "UnixTarget",
    "call_error",
    "connect",
    "open_first",
    "probe_bus",
    "system_bus_address",
    "unix_targets",
    "unless_unanswered",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

CONNECT_TIMEOUT = 2.0  # seconds for connect + authentication, generous for a loaded machine
CALL_TIMEOUT = 1.0  # default seconds to wait for a method reply

# Error names from the D-Bus specification ("Message Bus Messages").
SERVICE_UNKNOWN = "org.freedesktop.DBus.Error.ServiceUnknown"
NAME_HAS_NO_OWNER = "org.freedesktop.DBus.Error.NameHasNoOwner"
NO_REPLY = "org.freedesktop.DBus.Error.NoReply"
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
UNKNOWN_OBJECT = "org.freedesktop.DBus.Error.UnknownObject"
UNKNOWN_INTERFACE = "org.freedesktop.DBus.Error.UnknownInterface"
UNKNOWN_PROPERTY = "org.freedesktop.DBus.Error.UnknownProperty"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
NOT_SUPPORTED = "org.freedesktop.DBus.Error.NotSupported"
ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"

# The bus answers ServiceUnknown/NameHasNoOwner for a name nobody owns, and NoReply when the
# owner disconnected before replying: all three mean "the service is not there right now".
SERVICE_GONE = frozenset({SERVICE_UNKNOWN, NAME_HAS_NO_OWNER, NO_REPLY})
# The service is there but does not implement what was asked: asking again will not help.
NOT_IMPLEMENTED = frozenset(
    {UNKNOWN_METHOD, UNKNOWN_OBJECT, UNKNOWN_INTERFACE, UNKNOWN_PROPERTY, NOT_SUPPORTED}
)

_BUS = DBusAddress(
    "/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus"
)


class DBusCallError(BackendError):
    """The peer, or the bus on its behalf, answered a call with a D-Bus error.

    `error_name` is the D-Bus error name (e.g. `org.freedesktop.DBus.Error.ServiceUnknown`).
    """

    def __init__(self, message: str, *, error_name: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.error_name = error_name

    @property
    def service_gone(self) -> bool:
        """True when the error means the service has no owner right now (it may come back)."""
        return self.error_name in SERVICE_GONE


class DBusTimeoutError(BackendError):
    """No reply arrived in time. The connection stays usable; a late reply is discarded."""


class BusDisconnectedError(BackendError):
    """The connection to the bus is gone (the bus stopped or closed us). It cannot be reused."""


@dataclass(frozen=True, slots=True)
class RemoteObject:
    """One interface of one object of one service: where a call or property read goes."""

    bus_name: str
    path: str
    interface: str

    def __str__(self) -> str:
        return f"{self.bus_name} {self.path} ({self.interface})"


def unless_unanswered(read: Callable[[], T]) -> T | None:
    """`read()`, or None when the service did not answer in time or has no owner right now:
    a passing state for a reading retried every tick. Other errors propagate."""
    try:
        return read()
    except DBusTimeoutError as exc:
        log.debug("no answer this time: %s", exc.message)
        return None
    except DBusCallError as exc:
        if exc.service_gone:
            log.debug("no answer this time: %s", exc.message)
            return None
        raise


Conn = TypeVar("Conn")


def open_first(
    address: str,
    opener: Callable[[UnixTarget, float], Conn],
    *,
    bus: str = "D-Bus",
    timeout: float = CONNECT_TIMEOUT,
) -> Conn:
    """`opener(target, timeout)` for each unix socket of `address` in turn; the first that
    connects and authenticates. The one connect step of every D-Bus user here, whichever
    jeepney I/O flavour `opener` builds (blocking, threading).

    `bus` names the bus in messages ("session D-Bus"). Blocks up to `timeout` seconds per
    socket tried. Raises `BackendError` (with a hint) when none can be used. Any thread.
    """
    targets = unix_targets(address)
    if not targets:
        raise BackendError(
            f"{bus} address {address!r} has no unix:path= or unix:abstract= socket",
            hint="presence speaks D-Bus over unix sockets only (and never autolaunches a bus)",
        )
    failures: list[str] = []
    hint = f"check that the {bus} is running and that {address} is its address"
    for target in targets:
        where = target.path or f"@{target.abstract}"
        try:
            conn = opener(target, timeout)
        except FileNotFoundError:
            failures.append(f"{where}: no such socket")
        except ConnectionRefusedError:
            failures.append(f"{where}: connection refused (the bus is not running)")
        except PermissionError:
            failures.append(f"{where}: permission denied")
            hint = f"run presence as a user allowed to connect to {where}"
        except TimeoutError:
            failures.append(f"{where}: no answer within {timeout:g} s")
            hint = f"the {bus} at {where} is hung or overloaded; try again, or restart it"
        except AuthenticationError as exc:
            failures.append(f"{where}: authentication refused ({exc})")
            hint = f"the {bus} at {where} belongs to another user; use your own session's bus"
        except OSError as exc:
            failures.append(f"{where}: {exc.strerror or exc}")
        else:
            log.debug("connected to %s at %s", bus, where)
            return conn
    raise BackendError(f"cannot connect to the {bus}: {'; '.join(failures)}", hint=hint)


def _open_blocking(target: UnixTarget, timeout: float) -> DBusConnection:
    # jeepney's auth_timeout bounds connect + SASL; its Hello() call has no timeout, but a bus
    # that completed authentication answers Hello at once.
    return open_dbus_connection(bus=target.address, auth_timeout=timeout)


def connect(address: str, *, bus: str = "D-Bus", timeout: float = CONNECT_TIMEOUT) -> BusConnection:
    """Open a blocking connection to the bus at `address`, trying each unix socket in order.

    Returns a `BusConnection` the caller must `close()`. Raises `BackendError` (with a hint)
    as `open_first` does. Any thread.
    """
    conn = open_first(address, _open_blocking, bus=bus, timeout=timeout)
    log.debug("%s connection %s", bus, conn.unique_name)
    return BusConnection(conn, address=address, bus=bus)


class BusConnection:
    """One blocking connection to one bus. Build it with `connect()`.

    Thread contract: any thread may call; calls on one connection are serialised. After a
    `BusDisconnectedError` every further call raises it again at once.
    """

    def __init__(self, conn: DBusConnection, *, address: str, bus: str) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._gone: str | None = None  # why the connection is unusable, once it is
        self.address = address
        self.bus = bus
        self.unique_name: str = conn.unique_name

    def call(
        self,
        obj: RemoteObject,
        method: str,
        signature: str = "",
        body: tuple[Any, ...] = (),
        *,
        timeout: float = CALL_TIMEOUT,
        auto_start: bool = False,
    ) -> tuple[Any, ...]:
        """Call `method` on `obj` with `body` of D-Bus `signature`; return the reply's body.

        Blocks up to `timeout` seconds. Values are jeepney's: a variant is a
        `(signature, value)` pair, a dict is a dict, a struct a tuple. With `auto_start` the bus
        may start (bus-activate) the service to answer; without it an absent service is an
        error. Raises `DBusTimeoutError`, `DBusCallError`, or `BusDisconnectedError`.
        """
        msg = new_method_call(
            DBusAddress(obj.path, bus_name=obj.bus_name, interface=obj.interface),
            method,
            signature or None,
            body,
        )
        return self._send(
            msg, f"{obj.interface}.{method} on {obj.bus_name}", timeout, auto_start=auto_start
        )

    def get_property(
        self,
        obj: RemoteObject,
        name: str,
        *,
        signature: str | None = None,
        timeout: float = CALL_TIMEOUT,
        auto_start: bool = False,
    ) -> Any:
        """Read property `name` of `obj.interface` (org.freedesktop.DBus.Properties.Get).

        Returns the value unwrapped from its variant. With `signature`, a value of another type
        raises `DBusCallError` (error_name INVALID_ARGS): a service that changed its API is not
        a transient failure. `auto_start` and the other failures are as for `call()`.
        """
        address = DBusAddress(obj.path, bus_name=obj.bus_name, interface=obj.interface)
        what = f"property {obj.interface}.{name} of {obj.bus_name} {obj.path}"
        body = self._send(Properties(address).get(name), what, timeout, auto_start=auto_start)
        if len(body) != 1 or not isinstance(body[0], tuple) or len(body[0]) != 2:
            raise DBusCallError(
                f"{what}: the reply {body!r} is not one variant",
                error_name=INVALID_ARGS,
                hint="this service does not follow org.freedesktop.DBus.Properties; "
                "choose another backend",
            )
        variant_signature, value = body[0]
        if signature is not None and variant_signature != signature:
            raise DBusCallError(
                f"{what} has type {variant_signature!r}, expected {signature!r}",
                error_name=INVALID_ARGS,
                hint="this service does not follow the interface presence knows; "
                "choose another backend",
            )
        return value

    def name_has_owner(self, name: str, *, timeout: float = CALL_TIMEOUT) -> bool:
        """Whether bus name `name` has an owner right now (org.freedesktop.DBus.NameHasOwner).

        Never starts a service (unlike calling it, which may bus-activate it). Raises like
        `call()`.
        """
        body = self._send(
            new_method_call(_BUS, "NameHasOwner", "s", (name,)), f"NameHasOwner({name})", timeout
        )
        return bool(body[0])

    def close(self) -> None:
        """Close the connection. Idempotent; any thread (waits for a call in flight)."""
        with self._lock:
            if self._gone is None:
                self._gone = "the connection was closed"
            self._conn.close()

    def __enter__(self) -> BusConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(
        self, msg: Message, what: str, timeout: float, *, auto_start: bool = False
    ) -> tuple[Any, ...]:
        if not auto_start:
            # A monitor polling every second must not start a screensaver or a notification
            # daemon as a side effect: NO_AUTO_START (D-Bus specification, "Message Format",
            # header flags) makes the bus answer ServiceUnknown instead of activating.
            msg.header.flags |= MessageFlag.no_auto_start
        with self._lock:
            if self._gone is not None:
                raise BusDisconnectedError(
                    f"{what}: the {self.bus} connection is gone ({self._gone})",
                    hint=f"restart presence once the {self.bus} is back",
                )
            try:
                reply = self._conn.send_and_get_reply(msg, timeout=timeout)
            except TimeoutError as exc:
                # Checked before OSError, whose subclass it is. A late reply carries an old
                # serial and send_and_get_reply skips it, so the connection stays usable.
                raise DBusTimeoutError(
                    f"{what}: no reply within {timeout:g} s",
                    hint="the service is busy or hung; presence will ask again",
                ) from exc
            except (OSError, ValueError) as exc:
                # ValueError: jeepney's parser on a corrupt stream; nothing after it can be
                # trusted, so it ends the connection like a reset does.
                self._gone = str(exc) or type(exc).__name__
                self._conn.close()
                raise BusDisconnectedError(
                    f"{what}: lost the {self.bus} connection ({self._gone})",
                    hint=f"restart presence once the {self.bus} is back",
                ) from exc
        try:
            body: tuple[Any, ...] = unwrap_msg(reply)
        except DBusErrorResponse as exc:
            raise call_error(what, exc) from exc
        return body


def call_error(what: str, exc: DBusErrorResponse) -> DBusCallError:
    """The `DBusCallError` for an error reply to `what`, with a hint by error name."""
    name: str = exc.name or "(unnamed error)"
    detail = exc.data[0] if exc.data and isinstance(exc.data[0], str) else ""
    message = f"{what} failed: {name}" + (f": {detail}" if detail else "")
    if name in SERVICE_GONE:
        hint = "the service is not running; start it (or the desktop component that provides it)"
    elif name in NOT_IMPLEMENTED:
        hint = "this service does not implement what presence needs; choose another backend"
    elif name == ACCESS_DENIED:
        hint = "a D-Bus policy forbids this call for your user; see the service's bus policy"
    else:
        hint = "see the service's log for why it failed"
    return DBusCallError(message, error_name=name, hint=hint)
