"""Seconds since the last input, from the X server's MIT-SCREEN-SAVER extension."""

from __future__ import annotations

import logging
from typing import Any

import Xlib.display
import Xlib.error
from Xlib.ext import screensaver

from presence.core.errors import BackendError
from presence.platform.base import Probe, Session
from presence.platform.x11_display import CONNECTION_LOST, connect, probe_display

log = logging.getLogger(__name__)


class XScreenSaverIdle:
    """Idle time as the X server counts it: the time since the last input event it processed.

    Under Xwayland this only sees input delivered to X11 windows, so a Wayland session wants
    a Wayland idle source ahead of this one. One connection, opened in the constructor;
    `idle_seconds()` is one round trip and belongs to the sampler thread.
    """

    name = "xscreensaver"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Side-effect free: only looks at the session; the constructor connects."""
        return probe_display(session, capability="idle")

    def __init__(self, session: Session) -> None:
        """Connect to the session's X display and check for MIT-SCREEN-SAVER.

        Raises BackendError when the display cannot be reached or lacks the extension.
        """
        self._display: Any = connect(session)
        self._closed = False
        if not self._display.has_extension(screensaver.extname):
            self.close()
            raise BackendError(
                f"the X server on {session.x11_display} lacks the MIT-SCREEN-SAVER extension",
                hint=(
                    "some servers (Xvnc, Xpra, nested or minimal builds) leave it out; use "
                    "Xorg or Xvfb, or turn the idle capability off with PRESENCE_BACKEND_IDLE=none"
                ),
            )
        self._root = self._display.screen().root

    def idle_seconds(self) -> float:
        """Seconds since the server last saw keyboard or pointer input. Sampler thread only.

        Raises BackendError when the connection to the X server is gone.
        """
        try:
            info = self._root.screensaver_query_info()
        except (*CONNECTION_LOST, Xlib.error.XError) as exc:
            raise BackendError(
                f"cannot read the idle time from the X server: {exc}",
                hint="the X server stopped; restart presence inside the new session",
            ) from exc
        return float(info.idle) / 1000.0

    def close(self) -> None:
        """Close the connection. Idempotent; never raises."""
        if self._closed:
            return
        self._closed = True
        try:
            self._display.close()
        except (*CONNECTION_LOST, Xlib.error.XError):
            pass  # the server is already gone: nothing left to release
