"""Closing, terminating, pausing and resuming applications on sway, through its IPC.

Windows are the views of the tree (GET_TREE); a window is closed with `[con_id=N] kill`
(sway(5) "kill": asks the client to close, as its close button would; the client may ask the
user to save first). `con_id` is an exact number, not a pattern, so no other window can match.
Processes are handled by `process_tree` (SIGTERM then SIGKILL, SIGSTOP, SIGCONT on the tree,
never presence itself, its ancestors or pid 1). i3 windows carry no pid, so on i3 only closing
works, and pausing needs a pid from elsewhere.
"""

from __future__ import annotations

import logging
import threading

from presence.platform.base import AppWindow, Probe, Session
from presence.platform.i3_ipc import GET_TREE, RUN_COMMAND, view_app, views
from presence.platform.process_tree import ProcessTreeControl, process_name, protected_pids
from presence.platform.sway_window import connect_checked, probe_socket

log = logging.getLogger(__name__)


class SwayAppController(ProcessTreeControl):
    """Application windows of one sway (or i3) session, and their processes.

    One IPC connection of its own. Thread contract: one thread at a time (the enforcer's
    lock); `close()` from any thread.
    """

    name = "sway"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Side-effect free: looks at the socket's file only; the constructor connects."""
        return probe_socket(session)

    def __init__(self, session: Session) -> None:
        """Connect to the IPC socket. Raises BackendError when it cannot be reached."""
        self._conn = connect_checked(session)
        self._lock = threading.Lock()
        self._protected = protected_pids()

    def windows(self) -> list[AppWindow]:
        """Application windows now open, in tree order. Raises BackendError when the IPC
        connection is gone."""
        with self._lock:
            tree = self._conn.request(GET_TREE)
        found = []
        for node in views(tree) if isinstance(tree, dict) else []:
            pid = node.get("pid") if isinstance(node.get("pid"), int) else None
            if pid is not None and pid in self._protected:
                continue
            props = node.get("window_properties") or {}
            title = node.get("name")
            found.append(
                AppWindow(
                    window=int(node["id"]),
                    app=view_app(node) or process_name(pid) or "unknown",
                    instance=str(props["instance"]) if props.get("instance") else None,
                    pid=pid,
                    title=str(title) if title is not None else None,
                )
            )
        return found

    def close_window(self, window: AppWindow) -> None:
        """Ask `window` to close (`[con_id=N] kill`); returns at once. A window gone meanwhile
        is not an error. Raises BackendError when the IPC connection is gone."""
        with self._lock:
            replies = self._conn.request(RUN_COMMAND, f"[con_id={int(window.window)}] kill")
        for reply in replies if isinstance(replies, list) else []:
            if isinstance(reply, dict) and not reply.get("success"):
                # "No matching node": the window closed on its own meanwhile.
                log.debug("closing window %d: %s", window.window, reply.get("error"))

    def close(self) -> None:
        """Close the IPC connection. Idempotent; never raises."""
        self._conn.close()
