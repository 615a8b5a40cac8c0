"""The focused window on GNOME Shell, from presence's own shell extension over the session bus.

The extension and its D-Bus interface are described in presence/platform/gnome_shell.py.
"""

from __future__ import annotations

import logging
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
        self._listener: BusListener | None = None

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
        listener = BusListener(self._address, name="gnome-focus")
        # No sender in the rule: a signal's sender is the shell's unique name, which a local
        # match against the well-known name would miss; the interface is presence's own.
        rule = MatchRule(
            type="signal",
            interface=EXTENSION_INTERFACE,
            member="FocusChanged",
            path=EXTENSION_PATH,
        )
        try:
            listener.add_match(rule)
        except BackendError:
            listener.close()
            raise

        def handle(msg: Any) -> None:
            if rule.matches(msg):
                wake()

        # A lost connection is logged by the listener; the sampler's own connection reports
        # it on the next tick, and the tick goes on as the safety net.
        listener.start(handle)
        self._listener = listener

    def close(self) -> None:
        """Stop the listener and close the connections. Idempotent; main thread."""
        if self._listener is not None:
            self._listener.close()
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
