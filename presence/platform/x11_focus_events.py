"""Focus and title changes on an X11 display, pushed as they happen (PropertyNotify, FocusOut).

The window manager announces the active window in the root's `_NET_ACTIVE_WINDOW` (EWMH);
the focused client announces its title in `_NET_WM_NAME` / `WM_NAME`. A listener thread, on a
connection of its own, selects PropertyChangeMask on the root and on the focused client window
(re-selected whenever the focus moves) and FocusChangeMask on both, for window managers
without EWMH and displays without any. Each change calls `wake()`; the sampler then reads the
window on its own connection. The tick stays the safety net: a change missed in a race (a title
set between reading the focus and selecting on the new window) is seen at the next tick.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import Xlib.error
from Xlib import X, Xatom

from presence.platform.x11_display import CONNECTION_LOST

if TYPE_CHECKING:
    from presence.platform.x11_window import X11WindowSource

log = logging.getLogger(__name__)

STOP_WAIT = 2.0
"""Seconds `stop()` waits for the listener thread to end."""

_CLIENT_MASK = X.PropertyChangeMask | X.FocusChangeMask


class X11FocusWatcher:
    """Calls `wake()` from its own thread after each focus or title change on one display.

    `reader` is a window source on a connection of its own, used only by the listener thread
    (python-xlib connections are not shared between threads); it finds the focused client
    exactly as `focused()` does. `stop()` may be called from any thread; it is idempotent.
    """

    def __init__(self, reader: X11WindowSource, wake: Callable[[], None]) -> None:
        self._reader = reader
        self._wake = wake
        self._stop_read, self._stop_write = os.pipe()
        self._stopping = threading.Event()
        self._watched: Any = None
        self._thread = threading.Thread(target=self._run, name="x11-focus-events", daemon=True)

    def start(self) -> None:
        """Select the events and start the listener. Raises the X errors of the first reads."""
        display = self._reader.display
        self._root = display.screen().root
        self._active_atom = display.intern_atom("_NET_ACTIVE_WINDOW")
        self._titles = {display.intern_atom("_NET_WM_NAME"), Xatom.WM_NAME}
        self._root.change_attributes(event_mask=_CLIENT_MASK)
        self._follow_focus()
        display.flush()
        self._thread.start()

    def stop(self) -> None:
        """Stop the listener and close its connection. Idempotent; never raises."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        with contextlib.suppress(OSError):
            os.write(self._stop_write, b"x")
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(STOP_WAIT)
        if not self._thread.is_alive():
            # The thread is gone (or never ran): nothing else uses the reader or the pipe now.
            self._reader.close()
            for fd in (self._stop_read, self._stop_write):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _run(self) -> None:
        display = self._reader.display
        try:
            while not self._stopping.is_set():
                if not display.pending_events():
                    ready, _, _ = select.select([display.fileno(), self._stop_read], [], [])
                    if self._stop_read in ready:
                        return
                    continue
                if self._handle(display.next_event()):
                    self._wake()
        except CONNECTION_LOST as exc:
            if not self._stopping.is_set():
                log.warning("X11 focus events stopped (%s); focus is read at each tick", exc)
        except Exception:
            # A listener that dies must not take the daemon with it: the tick still samples.
            log.exception("X11 focus events failed; focus is read at each tick")

    def _handle(self, event: Any) -> bool:
        """Whether `event` may change what `focused()` returns; follows the focus if it moved."""
        if event.type == X.PropertyNotify:
            window = event.window.id
            if window == self._root.id:
                return event.atom == self._active_atom and self._follow_focus()
            watched = self._watched
            return watched is not None and window == watched.id and event.atom in self._titles
        if event.type in (X.FocusIn, X.FocusOut):
            return self._follow_focus()
        return False

    def _follow_focus(self) -> bool:
        """Watch the focused client now; True when it is another window than before."""
        try:
            client = self._reader.focused_client()
        except Xlib.error.XError:
            client = None  # it vanished while read: the next event or tick tells
        before = self._watched
        if (client and client.id) == (before and before.id):
            return False
        if before is not None:
            before.change_attributes(event_mask=X.NoEventMask, onerror=Xlib.error.CatchError())
        if client is not None:
            client.change_attributes(event_mask=_CLIENT_MASK, onerror=Xlib.error.CatchError())
        self._watched = client
        self._reader.display.flush()
        return True
