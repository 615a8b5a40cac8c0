"""Closing, terminating, pausing and resuming applications on GNOME, through presence's shell
extension (windows) and the process table (processes).

Windows are listed and closed by the extension (`ListWindows`, `CloseWindow`: Mutter's
`meta_window_delete`, which asks the client politely, as the window's close button does);
the processes behind them are handled exactly as on X11 (SIGTERM then SIGKILL, SIGSTOP,
SIGCONT on the whole tree, never presence itself, its ancestors or pid 1).
"""

from __future__ import annotations

import logging

from presence.core.errors import BackendError
from presence.platform.app_control import X11AppController, protected_pids
from presence.platform.base import AppWindow, Probe, Session
from presence.platform.dbus import BusConnection, connect, unless_unanswered
from presence.platform.gnome_shell import EXTENSION, NO_SESSION_BUS_HINT, probe_extension

log = logging.getLogger(__name__)

CALL_TIMEOUT = 2.0  # listing and closing are enforcement actions, not per-tick reads


class GnomeExtensionAppController:
    """Application windows of a GNOME Shell session, and their processes.

    One session bus connection of its own. Thread contract: one thread at a time (the
    enforcer's lock).
    """

    name = "gnome"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Whether presence's GNOME extension answers at the expected version."""
        return probe_extension(session, "closing windows")

    def __init__(self, session: Session) -> None:
        """Connect to the session bus. Raises BackendError when there is none."""
        if not session.session_bus:
            raise BackendError("no session D-Bus", hint=NO_SESSION_BUS_HINT)
        self._bus: BusConnection = connect(session.session_bus, bus="session D-Bus")
        self._protected = protected_pids()

    def windows(self) -> list[AppWindow]:
        """Application windows now open (GNOME's Alt+Tab list). [] when the extension does not
        answer this time; BackendError when the bus connection is gone."""
        reply = unless_unanswered(
            lambda: self._bus.call(EXTENSION, "ListWindows", timeout=CALL_TIMEOUT)
        )
        if reply is None:
            return []
        found = []
        for window_id, wm_class, title, app_id, pid in reply[0]:
            if pid and pid in self._protected:
                continue
            app = str(wm_class) or str(app_id).removesuffix(".desktop") or "unknown"
            # The desktop-file id names the app too (as WM_CLASS's instance does on X11).
            other = str(app_id).removesuffix(".desktop")
            found.append(
                AppWindow(
                    window=int(window_id),
                    app=app,
                    instance=other if other and other != app else None,
                    pid=int(pid) or None,
                    title=str(title) or None,
                )
            )
        return found

    def close_window(self, window: AppWindow) -> None:
        """Ask politely for `window` to close; returns at once. A window gone meanwhile is not
        an error. Raises BackendError when the bus connection is gone."""
        reply = unless_unanswered(
            lambda: self._bus.call(
                EXTENSION, "CloseWindow", "t", (window.window,), timeout=CALL_TIMEOUT
            )
        )
        if reply is not None and not reply[0]:
            log.debug("window %d was gone before it was closed", window.window)

    # The process side is the same as on X11: the functions are shared, not copied, until the
    # process handling moves to a module of its own.
    _tree = X11AppController._tree
    terminate = X11AppController.terminate
    pause = X11AppController.pause
    resume = X11AppController.resume
    alive = X11AppController.alive

    def close(self) -> None:
        """Close the bus connection. Idempotent; never raises."""
        self._bus.close()
