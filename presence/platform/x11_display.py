"""The session's X display, as the X11 backends connect to it: the probe, the connection and
the errors that mean it failed or went away. Imported only by X11 backend modules."""

from __future__ import annotations

from typing import Any

import Xlib.display
import Xlib.error

from presence.core.errors import BackendError
from presence.platform.base import Probe, Session

CONNECTION_LOST = (Xlib.error.ConnectionClosedError, OSError)
"""Raised by a call on a connection whose server died or whose socket closed."""

CONNECT_FAILED = (
    Xlib.error.DisplayError,
    Xlib.error.ConnectionClosedError,
    Xlib.error.XauthError,
    Xlib.error.XNoAuthError,
    OSError,
)
"""Raised by `Xlib.display.Display()` when the display cannot be reached or refuses us."""

NO_DISPLAY_HINT = "run inside an X11 session or set DISPLAY"


def probe_display(session: Session, hint: str = NO_DISPLAY_HINT) -> Probe:
    """Side-effect free: only looks at the session; `connect()` does the connecting."""
    if not session.x11_display:
        return Probe.no("no X display", hint=hint)
    return Probe.yes(f"X display {session.x11_display}")


def connect(session: Session) -> Any:
    """A new connection to the session's display. Raises BackendError with a fix."""
    if not session.x11_display:
        raise BackendError("no X display", hint=NO_DISPLAY_HINT)
    try:
        return Xlib.display.Display(session.x11_display)
    except CONNECT_FAILED as exc:
        raise BackendError(
            f"cannot connect to the X display {session.x11_display}: {exc}",
            hint="check that the X server is running and that DISPLAY and XAUTHORITY are right",
        ) from exc
