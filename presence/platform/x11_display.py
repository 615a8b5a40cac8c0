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


XWAYLAND_REASON = "this is a Wayland session: X11 would see only Xwayland windows"


def probe_display(
    session: Session, hint: str = NO_DISPLAY_HINT, capability: str = "window"
) -> Probe:
    """Side-effect free: only looks at the session; `connect()` does the connecting.

    In a Wayland session DISPLAY points at Xwayland, which sees only X11 clients' windows and
    input: the rejection names what works instead, and forcing the backend by name overrides
    it (issue 9).
    """
    if session.is_wayland:
        alternative = wayland_alternative(session, capability)
        if not session.x11_display:
            return Probe.no("no X display (a Wayland session)", hint=alternative)
        return Probe.no(XWAYLAND_REASON, hint=alternative, forceable=True)
    if not session.x11_display:
        return Probe.no("no X display", hint=hint)
    return Probe.yes(f"X display {session.x11_display}")


def wayland_alternative(session: Session, capability: str) -> str:
    """What to use instead of an X11 backend in this Wayland session, for `capability`."""
    found = session.compositor
    if capability == "window":
        name = found or "wlr"
        return f"use the {name} backend (PRESENCE_BACKEND_WINDOW={name}, or leave it on auto)"
    if capability == "apps":
        if found in ("sway", "hyprland", "kwin", "gnome"):
            return f"use the {found} backend (or leave backends.apps on auto)"
        return "closing apps needs the compositor's own interface; none was found here"
    if capability == "idle":
        mechanism = "Mutter's IdleMonitor" if found == "gnome" else "ext-idle-notify or KDE idle"
        return f"use a Wayland idle backend ({mechanism}; leave backends.idle on auto)"
    if capability == "input":
        return "Wayland compositors give no client global input counts: counts stay unavailable"
    return "use the Wayland backend for this compositor (leave it on auto)"


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
