"""Windows of wlroots compositors (labwc, river, wayfire, niri, sway...) through
`zwlr_foreign_toplevel_manager_v1`: the focused window, event-driven, and closing windows.

The compositor announces every toplevel with a handle, then its `title`, `app_id` and `state`
(an array holding `activated` for the focused one), applied together at `done`; `closed` ends
it. The protocol gives no process id: a window's pid is None, so the sampler records no pid,
an app that ignores the protocol's `close` request is not terminated afterwards, and
pause-apps cannot stop it (both need a pid). Compositors with their own IPC (sway, Hyprland)
have their own backends ahead of this one; it is for the others.
"""

from __future__ import annotations

import array
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from presence.core.model import WindowInfo
from presence.platform.base import AppWindow, Probe, Session
from presence.platform.process_tree import ProcessTreeControl, protected_pids
from presence.platform.wayland_connection import WaylandConnection, probe_globals
from presence.platform.wayland_protocols.wlr_foreign_toplevel_management_unstable_v1 import (
    ZwlrForeignToplevelHandleV1,
    ZwlrForeignToplevelManagerV1,
)

log = logging.getLogger(__name__)

ACTIVATED = int(ZwlrForeignToplevelHandleV1.state.activated)
UNKNOWN_APP = "unknown"
_MANAGER_VERSION = 3


@dataclass(slots=True)
class Toplevel:
    """One toplevel as last applied (at `done`). `key` is presence's own number for it."""

    key: int
    app_id: str | None = None
    title: str | None = None
    activated: bool = False


@dataclass(slots=True)
class _Pending:
    app_id: str | None = None
    title: str | None = None
    activated: bool | None = None


@dataclass(slots=True)
class ToplevelTracker:
    """The protocol's state machine, without Wayland: pending properties applied at `done`.

    A toplevel is listed from its first `done`. The focused one is the toplevel whose applied
    state holds `activated`; when several do (more than one seat), the latest activated.
    Not thread-safe: the owner locks.
    """

    _applied: dict[int, Toplevel] = field(default_factory=dict)
    _pending: dict[int, _Pending] = field(default_factory=dict)
    _activated_at: dict[int, int] = field(default_factory=dict)
    _sequence: int = 0

    def new(self, key: int) -> None:
        self._pending[key] = _Pending()

    def title(self, key: int, title: str) -> None:
        self._pending.setdefault(key, _Pending()).title = title

    def app_id(self, key: int, app_id: str) -> None:
        self._pending.setdefault(key, _Pending()).app_id = app_id

    def state(self, key: int, states: Sequence[int]) -> None:
        self._pending.setdefault(key, _Pending()).activated = ACTIVATED in states

    def done(self, key: int) -> None:
        """Apply what arrived for `key` since its last `done`."""
        pending = self._pending.pop(key, _Pending())
        top = self._applied.setdefault(key, Toplevel(key))
        if pending.title is not None:
            top.title = pending.title
        if pending.app_id is not None:
            top.app_id = pending.app_id
        if pending.activated is not None:
            if pending.activated and not top.activated:
                self._sequence += 1
                self._activated_at[key] = self._sequence
            top.activated = pending.activated

    def closed(self, key: int) -> None:
        self._applied.pop(key, None)
        self._pending.pop(key, None)
        self._activated_at.pop(key, None)

    def focused(self) -> Toplevel | None:
        active = [t for t in self._applied.values() if t.activated]
        if not active:
            return None
        return max(active, key=lambda t: self._activated_at.get(t.key, 0))

    def toplevels(self) -> list[Toplevel]:
        """Every listed toplevel, oldest first (copies: safe to hand to another thread)."""
        return [Toplevel(t.key, t.app_id, t.title, t.activated) for t in self._applied.values()]


def states_of(data: bytes) -> list[int]:
    """The protocol's `state` array: 32-bit unsigned values in the host's byte order."""
    usable = len(data) - len(data) % 4
    return list(array.array("I", data[:usable]))


class _ToplevelClient:
    """A connection bound to the toplevel manager, keeping a ToplevelTracker and the handles.

    Handlers run on the connection's dispatch thread; `_lock` guards the tracker for readers
    on other threads. `on_batch` runs after each batch of events (dispatch thread).
    """

    def __init__(self, session: Session, thread: str) -> None:
        self._lock = threading.Lock()
        self._tracker = ToplevelTracker()
        self._handles: dict[int, Any] = {}  # key -> handle proxy (kept: pywayland needs it)
        self._next_key = 1
        self._finished = False
        self._conn = WaylandConnection(session, thread)
        try:
            self._manager = self._conn.bind(ZwlrForeignToplevelManagerV1, _MANAGER_VERSION)
            self._manager.dispatcher["toplevel"] = self._on_toplevel
            self._manager.dispatcher["finished"] = self._on_finished
            self._conn.roundtrip()  # the toplevel announcements
            self._conn.roundtrip()  # and every handle's first properties
        except BaseException:
            self._conn.close()
            raise

    def _on_toplevel(self, _manager: Any, handle: Any) -> None:
        key = self._next_key
        self._next_key += 1
        self._handles[key] = handle
        with self._lock:
            self._tracker.new(key)
        handle.dispatcher["title"] = lambda _h, title: self._update(key, "title", title)
        handle.dispatcher["app_id"] = lambda _h, app_id: self._update(key, "app_id", app_id)
        handle.dispatcher["state"] = lambda _h, data: self._update(key, "state", states_of(data))
        handle.dispatcher["done"] = lambda _h: self._update(key, "done")
        handle.dispatcher["closed"] = lambda _h: self._on_closed(key)

    def _update(self, key: int, what: str, *value: Any) -> None:
        with self._lock:
            getattr(self._tracker, what)(key, *value)

    def _on_closed(self, key: int) -> None:
        with self._lock:
            self._tracker.closed(key)
        handle = self._handles.pop(key, None)
        if handle is not None:
            handle.destroy()  # the protocol asks clients to destroy a closed handle

    def _on_finished(self, _manager: Any) -> None:
        self._finished = True
        self._conn.error = "the compositor stopped listing toplevels (finished)"

    def _check(self) -> None:
        self._conn.check()

    def _release(self) -> None:
        for handle in self._handles.values():
            handle.destroy()
        self._handles.clear()
        if not self._finished:
            self._manager.stop()

    def close(self) -> None:
        """Stop listening and disconnect. Idempotent; never raises."""
        self._conn.close(self._release)


class WlrForeignToplevelWindowSource(_ToplevelClient):
    """The focused window from wlr-foreign-toplevel: app = app_id, the title; pid None.

    Event-driven (`FocusEvents`): after a batch of events that changed the focused window or
    its title, `wake()` is called from the dispatch thread. `focused()` reads shared state
    under a lock and belongs to the sampler thread.
    """

    name = "wlr"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Connects, reads the compositor's globals and disconnects: nothing stays open."""
        return probe_globals(session, (ZwlrForeignToplevelManagerV1.name,), "the window list")

    def __init__(self, session: Session) -> None:
        """Connect and read the current toplevels. Raises BackendError when the compositor
        cannot be reached or lacks the protocol."""
        super().__init__(session, "presence-wlr-window")
        self._wake: Callable[[], None] | None = None
        self._reported = self._snapshot()
        self._conn.after_dispatch = self._after_batch
        self._conn.start()

    def watch(self, wake: Callable[[], None]) -> None:
        """Call `wake()` (dispatch thread) after each change of focus or title."""
        self._wake = wake

    def _snapshot(self) -> tuple[int, str | None, str | None] | None:
        with self._lock:
            top = self._tracker.focused()
        return None if top is None else (top.key, top.app_id, top.title)

    def _after_batch(self) -> None:
        # A focus move arrives as two toplevels' state+done in one batch; comparing once per
        # batch wakes the daemon once, with the new window already applied.
        now = self._snapshot()
        if now != self._reported:
            self._reported = now
            if self._wake is not None:
                self._wake()

    def focused(self) -> WindowInfo | None:
        """The activated toplevel, or None. Sampler thread.

        Raises BackendError when the connection to the compositor is gone."""
        self._check()
        with self._lock:
            top = self._tracker.focused()
        if top is None:
            return None
        return WindowInfo(app=top.app_id or UNKNOWN_APP, title=top.title, pid=None)


class WlrToplevelAppController(_ToplevelClient, ProcessTreeControl):
    """Closing windows through wlr-foreign-toplevel's `close` request (as the window's own
    close button would). The protocol gives no pids, so windows are listed with pid None:
    an app that ignores `close` is not terminated and pause-apps cannot stop it (said once).
    Process handling for pids known otherwise (e.g. paused by an earlier run) is
    ProcessTreeControl's. Enforcer's lock held for every call.
    """

    name = "wlr"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Connects, reads the compositor's globals and disconnects: nothing stays open."""
        return probe_globals(
            session, (ZwlrForeignToplevelManagerV1.name,), "closing windows through it"
        )

    def __init__(self, session: Session) -> None:
        """Connect and read the current toplevels. Raises BackendError when it cannot."""
        self._protected = protected_pids()
        super().__init__(session, "presence-wlr-apps")
        self._said_no_pids = False
        self._conn.start()

    def windows(self) -> list[AppWindow]:
        """The compositor's toplevels (pid None). Raises BackendError when it is gone."""
        self._check()
        if not self._said_no_pids:
            self._said_no_pids = True
            log.info(
                "wlr-foreign-toplevel gives no process ids: windows are closed through the "
                "compositor, but an app that ignores the request is not terminated, and "
                "pause-apps cannot stop apps here"
            )
        with self._lock:
            tops = self._tracker.toplevels()
        return [
            AppWindow(
                window=t.key, app=t.app_id or UNKNOWN_APP, instance=None, pid=None, title=t.title
            )
            for t in tops
        ]

    def close_window(self, window: AppWindow) -> None:
        """Send `close` for the window; returns at once (the app may ask to save first). A
        window gone meanwhile is not an error. Raises BackendError when the compositor is
        gone."""

        def send() -> None:
            handle = self._handles.get(window.window)
            if handle is None:
                log.debug("window %d closed before the close request", window.window)
                return
            handle.close()

        self._conn.request(send)
