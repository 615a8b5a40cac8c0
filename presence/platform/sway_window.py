"""The focused window on sway (and i3, which speaks the same IPC), read over its IPC socket.

`focused()` asks for the tree (GET_TREE) and walks to the focused view: app = sway's `app_id`
for native Wayland clients, else the X11 class (Xwayland clients, and every i3 window);
title = `name`; pid = `pid` (sway only; i3 does not report one). While swaylock holds the
screen sway focuses no node at all, so `focused()` returns None.

Changes are pushed: `watch(wake)` subscribes to window and workspace events on a second
connection read by its own thread (sway-ipc(7) "EVENTS"), and calls `wake()` on every focus,
title and close change, so boundaries land at the event, not at the next tick.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from collections.abc import Callable
from typing import Any

from presence.core.errors import BackendError
from presence.core.model import WindowInfo
from presence.platform.base import Probe, Session
from presence.platform.i3_ipc import (
    GET_TREE,
    GET_VERSION,
    SHUTDOWN_EVENT,
    SUBSCRIBE,
    WINDOW_EVENT,
    WORKSPACE_EVENT,
    I3Connection,
    IpcError,
    focused_view,
    view_app,
)
from presence.platform.process_tree import process_name

log = logging.getLogger(__name__)

NO_SOCKET_HINT = "run inside a sway or i3 session (SWAYSOCK or I3SOCK names its IPC socket)"
# Window event changes after which the focused window or its title may differ (sway-ipc(7)).
_WINDOW_CHANGES = frozenset({"focus", "title", "close", "new", "move", "floating"})
_WORKSPACE_CHANGES = frozenset({"focus", "empty", "init", "move"})
_STOP_WAIT = 2.0  # seconds close() waits for the listener thread


def probe_socket(session: Session) -> Probe:
    """Whether the session names an i3/sway IPC socket that exists. Does not connect."""
    path = session.sway_socket
    if not path:
        return Probe.no("no sway or i3 IPC socket (SWAYSOCK, I3SOCK unset)", hint=NO_SOCKET_HINT)
    try:
        is_socket = stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError as exc:
        return Probe.no(f"the IPC socket {path} is unreachable: {exc.strerror}", NO_SOCKET_HINT)
    if not is_socket:
        return Probe.no(f"{path} is not a socket", hint=NO_SOCKET_HINT)
    return Probe.yes(f"IPC socket {path}")


def connect_checked(session: Session) -> I3Connection:
    """A connection to the session's IPC socket that has answered GET_VERSION.

    Raises BackendError when there is none or it does not answer as i3/sway would.
    """
    if not session.sway_socket:
        raise BackendError("no sway or i3 IPC socket", hint=NO_SOCKET_HINT)
    conn = I3Connection(session.sway_socket)
    try:
        version = conn.request(GET_VERSION)
    except IpcError:
        conn.close()
        raise
    if not isinstance(version, dict) or "major" not in version:
        conn.close()
        raise BackendError(f"{session.sway_socket} does not answer as sway or i3 would")
    log.debug("IPC: %s", version.get("human_readable", version.get("major")))
    return conn


class SwayWindowSource:
    """The focused view of one sway (or i3) session.

    Thread contract: `focused()` on the sampler thread; the listener started by `watch()`
    owns its own connection; `close()` from the daemon's main thread. The request connection
    is guarded by a lock, so a `close()` racing a `focused()` cannot interleave messages.
    """

    name = "sway"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Side-effect free: looks at the socket's file only; the constructor connects."""
        return probe_socket(session)

    def __init__(self, session: Session) -> None:
        """Connect to the IPC socket. Raises BackendError when it cannot be reached."""
        self._session = session
        self._conn = connect_checked(session)
        self._lock = threading.Lock()
        self._events: I3Connection | None = None
        self._listener: threading.Thread | None = None

    def focused(self) -> WindowInfo | None:
        """The focused application window, or None (an empty workspace, swaylock).

        Sampler thread. Raises BackendError when the IPC connection is gone.
        """
        with self._lock:
            tree = self._conn.request(GET_TREE)
        node = focused_view(tree) if isinstance(tree, dict) else None
        if node is None:
            return None
        pid = node.get("pid") if isinstance(node.get("pid"), int) else None
        app = view_app(node) or process_name(pid) or "unknown"
        title = node.get("name")
        log.debug("focused: app=%s pid=%s title=%r", app, pid, title)
        return WindowInfo(app=app, title=str(title) if title is not None else None, pid=pid)

    def watch(self, wake: Callable[[], None]) -> None:
        """Subscribe to window and workspace events on a second connection; a daemon thread
        calls `wake()` after each focus, title or close change. Raises BackendError when the
        subscription is refused."""
        if self._listener is not None:
            return
        assert self._session.sway_socket is not None  # the constructor checked it
        events = I3Connection(self._session.sway_socket)
        try:
            reply = events.request(SUBSCRIBE, json.dumps(["window", "workspace", "shutdown"]))
            events.settimeout(None)  # events come when they come
        except IpcError:
            events.close()
            raise
        if not (isinstance(reply, dict) and reply.get("success")):
            events.close()
            raise BackendError(f"sway refused the event subscription: {reply}")
        self._events = events
        self._listener = threading.Thread(
            target=self._listen, args=(events, wake), name="sway-events", daemon=True
        )
        self._listener.start()

    def _listen(self, events: I3Connection, wake: Callable[[], None]) -> None:
        while True:
            try:
                kind, body = events.read_message()
            except IpcError as exc:
                if not events.closed:
                    log.warning("sway events stopped (%s); focus is read at each tick", exc)
                return
            if _is_change(kind, body):
                wake()
            elif kind == SHUTDOWN_EVENT:
                log.info("sway is shutting down")
                return

    def close(self) -> None:
        """Close both connections and stop the listener. Idempotent; never raises."""
        if self._events is not None:
            self._events.close()
        with self._lock:
            self._conn.close()
        if self._listener is not None and self._listener is not threading.current_thread():
            self._listener.join(_STOP_WAIT)


def _is_change(kind: int, body: Any) -> bool:
    """Whether an event may change the focused window or its title."""
    change = body.get("change") if isinstance(body, dict) else None
    if kind == WINDOW_EVENT:
        return change in _WINDOW_CHANGES
    if kind == WORKSPACE_EVENT:
        return change in _WORKSPACE_CHANGES
    return False
