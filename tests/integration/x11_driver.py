"""Driving an X display at known instants: activations and key presses from the test's own
connection (EWMH client messages, XTest), timed when sent, for tests that compare what the
daemon recorded with what was done to the hundredth of a second.

xdotool spawns a process per action, so the moment an action takes effect is uncertain by the
process start-up (tens of milliseconds); here it is the instant the request is flushed.
"""

from __future__ import annotations

import time
from typing import Any

import Xlib.display
from Xlib import XK, X, Xatom
from Xlib.ext import xtest
from Xlib.protocol import event

from tests.integration.xserver import wait_until


class XDriver:
    """One connection to `display`; every method returns the wall time (time.time()) at which
    its request was sent. Not thread-safe."""

    def __init__(self, display: str) -> None:
        self._conn: Any = Xlib.display.Display(display)
        self._root = self._conn.screen().root
        self._active = self._conn.intern_atom("_NET_ACTIVE_WINDOW")
        # Shift types nothing into the focused terminal, yet is input to the server's idle
        # counter and to an XRecord listener like pynput's.
        self._shift = self._conn.keysym_to_keycode(XK.string_to_keysym("Shift_L"))

    def activate(self, wid: int) -> float:
        """Ask the window manager to activate `wid`, as a pager does; wait until it has."""
        message = event.ClientMessage(
            window=self._conn.create_resource_object("window", wid),
            client_type=self._active,
            data=(32, [2, X.CurrentTime, 0, 0, 0]),  # source 2: a pager's request
        )
        mask = X.SubstructureRedirectMask | X.SubstructureNotifyMask
        sent = time.time()
        self._root.send_event(message, event_mask=mask)
        self._conn.flush()
        wait_until(lambda: self.active_window() == wid, f"window {wid:#x} to become active")
        return sent

    def active_window(self) -> int | None:
        prop = self._root.get_property(self._active, Xatom.WINDOW, 0, 1)
        wid = int(prop.value[0]) if prop is not None and len(prop.value) else 0
        return wid or None

    def key(self) -> float:
        """Press and release Shift (XTest): one input event, now."""
        sent = time.time()
        xtest.fake_input(self._conn, X.KeyPress, self._shift)
        xtest.fake_input(self._conn, X.KeyRelease, self._shift)
        self._conn.sync()
        return sent

    def close(self) -> None:
        self._conn.close()
