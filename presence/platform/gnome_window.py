"""The focused window on GNOME Shell, from presence's own shell extension over the session bus.

The extension and its D-Bus interface are described in presence/platform/gnome_shell.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from jeepney import MatchRule, MessageType  # type: ignore[import-untyped, unused-ignore]
from jeepney.bus_messages import message_bus  # type: ignore[import-untyped, unused-ignore]
from jeepney.io.blocking import (  # type: ignore[import-untyped, unused-ignore]
    DBusConnection,
    open_dbus_connection,
)

from presence.core.errors import BackendError
from presence.core.model import WindowInfo
from presence.platform.base import Probe, Session
from presence.platform.dbus import CONNECT_TIMEOUT, connect, unix_targets, unless_unanswered
from presence.platform.gnome_shell import (
    EXTENSION,
    EXTENSION_BUS_NAME,
    EXTENSION_INTERFACE,
    EXTENSION_PATH,
    NO_SESSION_BUS_HINT,
    probe_extension,
)

log = logging.getLogger(__name__)

# The WindowSource contract asks for 50 ms; the shell answers in about 1 ms, but on a loaded
# machine a 50 ms limit would turn a slow answer into "nothing focused" in the record.
FOCUS_TIMEOUT = 0.5
LISTEN_POLL = 0.25  # seconds the listener blocks before checking whether it should stop


class GnomeExtensionWindowSource:
    """The focused window as presence's GNOME Shell extension reports it.

    `focused()` asks the extension (GetFocus) on a connection of its own; `watch(wake)` listens
    for FocusChanged on a second connection, on its own thread. Thread contract: built and
    closed on the daemon's main thread; `focused()` on the sampler thread only; `wake` is
    called from the listener thread.
    """

    name = "gnome"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Whether the extension answers on the session bus at the expected version."""
        return probe_extension(session, "the focused window")

    def __init__(self, session: Session, *, timeout: float = FOCUS_TIMEOUT) -> None:
        """Connect to the session bus. Raises BackendError when there is none."""
        if not session.session_bus:
            raise BackendError("no session D-Bus", hint=NO_SESSION_BUS_HINT)
        self._address = session.session_bus
        self._timeout = timeout
        self._bus = connect(session.session_bus, bus="session D-Bus")
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None

    def focused(self) -> WindowInfo | None:
        """The focused window, or None when nothing has focus or the extension did not answer
        this time (the shell restarting). Raises BackendError when the bus connection is gone.
        """
        reply = unless_unanswered(
            lambda: self._bus.call(EXTENSION, "GetFocus", timeout=self._timeout)
        )
        return None if reply is None else window_info(reply)

    def watch(self, wake: Callable[[], None]) -> None:
        """Call `wake()` on the listener thread after each FocusChanged signal.

        Raises BackendError when the listening connection cannot be opened. Call once.
        """
        conn = _open_raw(self._address)
        rule = MatchRule(
            type="signal",
            sender=EXTENSION_BUS_NAME,
            interface=EXTENSION_INTERFACE,
            member="FocusChanged",
            path=EXTENSION_PATH,
        )
        try:
            conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            conn.close()
            raise BackendError(f"cannot listen for the GNOME extension's signals: {exc}") from exc
        self._listener = threading.Thread(
            target=self._listen, args=(conn, rule, wake), name="presence-gnome-focus", daemon=True
        )
        self._listener.start()

    def _listen(self, conn: DBusConnection, rule: Any, wake: Callable[[], None]) -> None:
        try:
            while not self._stop.is_set():
                try:
                    msg = conn.receive(timeout=LISTEN_POLL)
                except TimeoutError:
                    continue
                if msg.header.message_type is MessageType.signal and rule.matches(msg):
                    wake()
        except (OSError, ValueError) as exc:
            # The bus went away: the sampler's own connection reports it on the next tick.
            log.warning("stopped listening to the GNOME extension: %s", exc)
        finally:
            conn.close()

    def close(self) -> None:
        """Stop the listener and close the connections. Idempotent; main thread."""
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=2 * LISTEN_POLL + 1)
            self._listener = None
        self._bus.close()


def window_info(reply: tuple[Any, ...]) -> WindowInfo | None:
    """A WindowInfo from GetFocus's or FocusChanged's (wm_class, title, pid, app_id).

    The app is the WM_CLASS (on Wayland, Mutter sets it to the client's app id), else the
    desktop-file id without `.desktop`. None when nothing has focus.
    """
    wm_class, title, pid, app_id = reply
    app = str(wm_class) or str(app_id).removesuffix(".desktop")
    if not app:
        return None
    return WindowInfo(app=app, title=str(title) or None, pid=int(pid) or None)


def _open_raw(address: str) -> DBusConnection:
    failures = []
    for target in unix_targets(address):
        try:
            return open_dbus_connection(bus=target.address, auth_timeout=CONNECT_TIMEOUT)
        except (OSError, ValueError) as exc:
            failures.append(f"{target.path or target.abstract}: {exc}")
    raise BackendError(
        f"cannot connect to the session D-Bus at {address}: {'; '.join(failures) or 'no socket'}",
        hint=NO_SESSION_BUS_HINT,
    )
