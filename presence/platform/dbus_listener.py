"""A D-Bus connection read on a thread of its own: for signals and for calls made to presence.

`BusConnection` (platform/dbus.py) is for calls presence makes and waits for. A backend that
must hear signals (a screensaver's `ActiveChanged`) or serve method calls (a KWin script's
`callDBus`) opens a `BusListener`: set it up (match rules, a well-known name) with `call()`,
then `start()` a thread that hands every incoming message to `handle`, which may answer with
`send()`. The sampler thread never waits on it. Like platform/dbus.py, it connects to an
explicit address only and never autolaunches a bus.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import select
import socket
import threading
import time
from collections.abc import Callable

from jeepney import (  # type: ignore[import-untyped, unused-ignore]
    MatchRule,
    Message,
    MessageType,
    message_bus,
)
from jeepney.io.blocking import (  # type: ignore[import-untyped, unused-ignore]
    DBusConnection,
    open_dbus_connection,
)

from presence.core.errors import BackendError
from presence.platform.dbus import CONNECT_TIMEOUT, UnixTarget, open_first

log = logging.getLogger(__name__)

_DO_NOT_QUEUE = 4  # RequestName flag (D-Bus specification, "Message Bus Messages")
_GRANTED = (1, 4)  # RequestName replies: primary owner, already the owner


class BusListener:
    """One connection to the bus at `address`, served on its own thread once started.

    Thread contract: `call()`, `add_match()` and `request_name()` before `start()`, from the
    thread that built it; afterwards only the listener thread reads, and `send()` is for
    `handle` (on that thread). `close()` from any other thread.
    """

    def __init__(self, address: str, *, bus: str = "session D-Bus", name: str = "listener"):
        """Connect. Raises BackendError when no socket of `address` accepts us."""
        self.bus = bus
        self._name = name
        self._closing = False
        self._thread: threading.Thread | None = None
        # Held by the thread while it reads and handles what arrived (see `pending`).
        self.guard = threading.Lock()
        self.lost = False  # the connection ended other than by close()
        self._conn: DBusConnection = open_first(address, _open_blocking, bus=bus)
        self.unique_name: str = self._conn.unique_name

    def call(self, msg: Message) -> Message:
        """Send `msg` and return the reply (a method return or an error message).
        Before `start()` only. Raises BackendError when the bus does not answer in time."""
        try:
            reply: Message = self._conn.send_and_get_reply(msg, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BackendError(
                f"the {self.bus} did not answer: {exc}", hint=f"check that the {self.bus} runs"
            ) from exc
        return reply

    def add_match(self, rule: MatchRule) -> None:
        """Receive the messages `rule` matches. Raises BackendError when the bus refuses."""
        reply = self.call(message_bus.AddMatch(rule))
        if reply.header.message_type is not MessageType.method_return:
            raise BackendError(f"the {self.bus} refused a match rule: {reply.body!r}")

    def request_name(self, name: str) -> bool:
        """Own the well-known `name` (not queued): False when another connection has it."""
        reply = self.call(message_bus.RequestName(name, _DO_NOT_QUEUE))
        return reply.header.message_type is MessageType.method_return and reply.body[0] in _GRANTED

    def name_owner(self, name: str) -> str | None:
        """The unique name owning `name` now, or None. Before `start()` only."""
        reply = self.call(message_bus.GetNameOwner(name))
        if reply.header.message_type is not MessageType.method_return:
            return None
        return str(reply.body[0])

    def start(
        self,
        handle: Callable[[Message], None],
        *,
        on_lost: Callable[[str], None] | None = None,
        deadline: Callable[[], float | None] | None = None,
        on_deadline: Callable[[], None] | None = None,
    ) -> None:
        """Serve on a daemon thread: `handle(msg)` for each message; `on_deadline()` when the
        time.monotonic() instant `deadline()` returns passes with nothing received; `on_lost`
        once, when the connection ends other than by `close()`. `handle` and `on_lost` run
        holding `guard`. An exception in a callback is logged and the thread goes on."""

        def lost(exc: BaseException) -> None:
            self.lost = True
            if not self._closing:
                reason = str(exc) or type(exc).__name__
                log.warning("%s: lost the %s connection: %s", self._name, self.bus, reason)
                if on_lost is not None:
                    self._guarded(functools.partial(on_lost, reason))

        def run() -> None:
            while True:
                due = deadline() if deadline is not None else None
                timeout = None if due is None else max(0.0, due - time.monotonic())
                try:
                    readable, _, _ = select.select([self._conn.sock], [], [], timeout)
                except (OSError, ValueError) as exc:
                    lost(exc)
                    return
                if not readable:
                    if on_deadline is not None:
                        self._guarded(on_deadline)
                    continue
                # Read and handle under `guard`: a reader holding it sees either a message
                # still unread (`pending()`) or its effect, never a message half handled.
                with self.guard:
                    messages, error = self._drain()
                    for msg in messages:
                        self._guarded(functools.partial(handle, msg))
                    if error is not None:
                        lost(error)
                        return

        self._thread = threading.Thread(target=run, name=f"presence-{self._name}", daemon=True)
        self._thread.start()

    def _drain(self) -> tuple[list[Message], BaseException | None]:
        """Every complete message readable now, and the error that ended the reading, if any."""
        messages: list[Message] = []
        while True:
            try:
                messages.append(self._conn.receive(timeout=0))
            except TimeoutError:
                return messages, None
            except (OSError, ValueError) as exc:
                return messages, exc

    def pending(self) -> bool:
        """Whether something arrived that the thread has not handled yet (a message, or the
        end of the connection); call it holding `guard`. Any thread."""
        if self.lost:
            return True
        try:
            readable, _, _ = select.select([self._conn.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def _guarded(self, action: Callable[[], None]) -> None:
        # A bug in handling one message must not end the thread: log it and serve the next.
        try:
            action()
        except Exception:
            log.exception("%s: handling a D-Bus message failed", self._name)

    def send(self, msg: Message) -> None:
        """Send `msg` (a reply, say); a failure is logged: the thread sees the loss itself."""
        try:
            self._conn.send(msg)
        except OSError as exc:
            log.debug("%s: cannot send: %s", self._name, exc)

    def close(self) -> None:
        """Stop the thread and close the connection (releasing any name). Idempotent; not
        from the listener thread."""
        if self._closing:
            return
        self._closing = True
        with contextlib.suppress(OSError):
            # shutdown() wakes the thread blocked in recv(); close() alone may not.
            self._conn.sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._conn.close()


def _open_blocking(target: UnixTarget, timeout: float) -> DBusConnection:
    return open_dbus_connection(bus=target.address, auth_timeout=timeout)
