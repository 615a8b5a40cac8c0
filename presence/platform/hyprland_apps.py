"""Closing, terminating, pausing and resuming applications on Hyprland, through its IPC.

Windows are the mapped clients of `j/clients`; a window is closed with
`dispatch closewindow address:0xADDR` (wiki.hypr.land "Dispatchers": closes the window
politely, as its close button would). The address names exactly one window. Processes are
handled by `process_tree` (SIGTERM then SIGKILL, SIGSTOP, SIGCONT on the tree, never presence
itself, its ancestors or pid 1).
"""

from __future__ import annotations

import logging
from pathlib import Path

from presence.platform.base import AppWindow, Probe, Session
from presence.platform.hyprland_window import (
    probe_hyprland,
    request,
    request_json,
    require_socket_dir,
    window_info,
)
from presence.platform.process_tree import ProcessTreeControl, protected_pids

log = logging.getLogger(__name__)


class HyprlandAppController(ProcessTreeControl):
    """Application windows of one Hyprland instance, and their processes.

    No connection is kept (Hyprland serves one request per connection). Thread contract: one
    thread at a time (the enforcer's lock).
    """

    name = "hyprland"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Side-effect free: looks at the socket's file only."""
        return probe_hyprland(session)

    def __init__(self, session: Session) -> None:
        """Find the instance's sockets. Raises BackendError when there are none."""
        self._dir: Path = require_socket_dir(session)
        self._protected = protected_pids()

    def windows(self) -> list[AppWindow]:
        """Mapped clients now open. Raises BackendError when Hyprland does not answer."""
        clients = request_json(self._dir, "j/clients")
        found = []
        for client in clients if isinstance(clients, list) else []:
            if not isinstance(client, dict) or client.get("mapped") is False:
                continue
            info = window_info(client)
            if info is None or (info.pid is not None and info.pid in self._protected):
                continue
            try:
                address = int(str(client["address"]), 16)
            except ValueError:
                continue
            found.append(
                AppWindow(
                    window=address,
                    app=info.app,
                    instance=str(client.get("initialClass") or "") or None,
                    pid=info.pid,
                    title=info.title,
                )
            )
        return found

    def close_window(self, window: AppWindow) -> None:
        """Ask `window` to close; returns at once. A window gone meanwhile is not an error.
        Raises BackendError when Hyprland does not answer."""
        reply = request(self._dir, f"dispatch closewindow address:{window.window:#x}")
        if reply.strip() != b"ok":
            log.debug("closing window %#x: %s", window.window, reply[:200])

    def close(self) -> None:
        """Nothing is kept open."""
