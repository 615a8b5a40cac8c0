"""The focused window on GNOME Shell, from presence's own shell extension over the session bus.

The extension and its D-Bus interface are described in presence/platform/gnome_shell.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from jeepney import MatchRule  # type: ignore[import-untyped, unused-ignore]

from presence.core.errors import BackendError
from presence.core.model import WindowInfo
from presence.platform.base import Probe, Session
from presence.platform.dbus import connect, unless_unanswered
from presence.platform.dbus_listener import BusListener
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


class GnomeExtensionWindowSource:
    """The focused window as presence's GNOME Shell extension reports it.

    `focused()` asks the extension (GetFocus) on a connection of its own. Once `watch(wake)`
    listens (a second connection, on its own thread), each FocusChanged signal carries the
    focused window, which `focused()` then returns without a round trip: the shell emits it on
    every focus and title change. The copy is dropped, and GetFocus asked again, when the
    extension's bus name changes owner (the shell restarting, the extension disabled) or the
    listening connection is lost. Thread contract: built and closed on the daemon's main
    thread; `focused()` on the sampler thread only; `wake` is called from the listener thread.
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
        self._listener: BusListener | None = None
        self._lock = threading.Lock()  # guards _pushed between the listener and the sampler
        # The window the last FocusChanged carried, in a 1-tuple; None while unknown.
        self._pushed: tuple[WindowInfo | None] | None = None

    def focused(self) -> WindowInfo | None:
        """The focused window, or None when nothing has focus or the extension did not answer
        this time (the shell restarting). Raises BackendError when the bus connection is gone.
        """
        with self._lock:
            pushed = self._pushed
        if pushed is not None:
            return pushed[0]
        reply = unless_unanswered(
            lambda: self._bus.call(EXTENSION, "GetFocus", timeout=self._timeout)
        )
        return None if reply is None else window_info(reply)

    def watch(self, wake: Callable[[], None]) -> None:
        """Call `wake()` on the listener thread after each FocusChanged signal (and when the
        extension comes or goes), once `focused()` returns the window it carries.

        Raises BackendError when the listening connection cannot be opened. Call once.
        """
        listener = BusListener(self._address, name="gnome-focus")
        # No sender in the rule: a signal's sender is the shell's unique name, which a local
        # match against the well-known name would miss; the interface is presence's own.
        rule = MatchRule(
            type="signal",
            interface=EXTENSION_INTERFACE,
            member="FocusChanged",
            path=EXTENSION_PATH,
        )
        owner = MatchRule(
            type="signal",
            sender="org.freedesktop.DBus",
            interface="org.freedesktop.DBus",
            member="NameOwnerChanged",
            path="/org/freedesktop/DBus",
        )
        owner.add_arg_condition(0, EXTENSION_BUS_NAME)
        try:
            listener.add_match(rule)
            listener.add_match(owner)
        except BackendError:
            listener.close()
            raise

        def handle(msg: Any) -> None:
            if rule.matches(msg):
                try:
                    pushed: tuple[WindowInfo | None] | None = (window_info(msg.body),)
                except (TypeError, ValueError):
                    pushed = None  # not what the extension sends: ask it instead
            elif owner.matches(msg):
                pushed = None
            else:
                return
            with self._lock:
                self._pushed = pushed
            wake()

        def lost(reason: str) -> None:
            # Back to asking on every tick; the sampler's own connection reports a dead bus.
            with self._lock:
                self._pushed = None

        listener.start(handle, on_lost=lost)
        self._listener = listener

    def close(self) -> None:
        """Stop the listener and close the connections. Idempotent; main thread."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            self._pushed = None
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
