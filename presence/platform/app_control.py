"""Closing, terminating, pausing and resuming applications on an X11 display.

Windows come from the window manager's `_NET_CLIENT_LIST` (EWMH "Root Window Properties"),
or, without an EWMH manager, from the root's children carrying WM_STATE (ICCCM 4.1.3.1).
A window is closed politely: `_NET_CLOSE_WINDOW` to the window manager (EWMH "Root Window
Messages"), which then asks the client with WM_DELETE_WINDOW and may offer to save work;
without such a manager, WM_DELETE_WINDOW straight to a client that lists it in WM_PROTOCOLS
(ICCCM 4.2.8.1). Processes are handled by `process_tree` (psutil): a process tree is
terminated (SIGTERM, then SIGKILL after a short wait), stopped (SIGSTOP) and continued
(SIGCONT).

Safety: presence's own process and its ancestors (the terminal it may run in: stopping that
would block presence's own output) are never listed, stopped or terminated, nor is pid 1.
Pids come from the X server (X-Resource extension, SO_PEERCRED) before `_NET_WM_PID`, which a
sandboxed or remote client can set to a pid that is not its own here.
"""

from __future__ import annotations

import logging
from typing import Any

import Xlib.display
import Xlib.error
from Xlib import X, Xatom
from Xlib.ext import res
from Xlib.protocol import event

from presence.core.errors import BackendError
from presence.platform.base import AppWindow, Probe, Session
from presence.platform.process_tree import ProcessTreeControl, process_name, protected_pids
from presence.platform.x11_display import CONNECTION_LOST, connect, probe_display

log = logging.getLogger(__name__)

__all__ = ["X11AppController", "protected_pids"]  # protected_pids: for older importers

_CLASS_LONGS = 256
_TITLE_LONGS = 256
_LIST_LONGS = 4096  # _NET_CLIENT_LIST of up to 4096 windows
# EWMH _NET_CLOSE_WINDOW data.l[1]: 2 = "pager or other client acting for the user"; the
# user asked for this by making the rule, and managers may ignore requests marked 1.
_SOURCE_USER = 2
_SKIPPED_TYPES = ("_NET_WM_WINDOW_TYPE_DOCK", "_NET_WM_WINDOW_TYPE_DESKTOP")


class X11AppController(ProcessTreeControl):
    """Application windows of one X display, and their processes.

    One X connection of its own, opened in the constructor. Thread contract: one thread at a
    time (the enforcer's lock); python-xlib connections are not thread-safe.
    """

    name = "x11"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Side-effect free: only looks at the session; the constructor connects."""
        return probe_display(
            session, "closing and pausing apps needs an X11 session (or a Wayland one)", "apps"
        )

    def __init__(self, session: Session) -> None:
        """Connect to the session's X display. Raises BackendError when it cannot."""
        self._display: Any = connect(session)
        self._root = self._display.screen().root
        atom = self._display.intern_atom
        self._atoms = {
            name: atom(name)
            for name in (
                "_NET_CLIENT_LIST",
                "_NET_CLOSE_WINDOW",
                "_NET_SUPPORTED",
                "_NET_WM_PID",
                "_NET_WM_NAME",
                "_NET_WM_WINDOW_TYPE",
                "UTF8_STRING",
                "WM_STATE",
                "WM_PROTOCOLS",
                "WM_DELETE_WINDOW",
                *_SKIPPED_TYPES,
            )
        }
        self._has_xres = bool(self._display.has_extension(res.extname))
        self._protected = protected_pids()

    # -- windows ---------------------------------------------------------------------------

    def windows(self) -> list[AppWindow]:
        """Application windows now open, in stacking-list order. Raises BackendError when the
        X connection is gone; a window that vanishes while it is read is skipped."""
        try:
            ids = self._client_ids()
            found = []
            for wid in ids:
                try:
                    described = self._describe(wid)
                except Xlib.error.XError:
                    continue  # destroyed between two requests
                if described is not None:
                    found.append(described)
            return found
        except CONNECTION_LOST as exc:
            raise BackendError(
                f"lost the connection to the X display: {exc}",
                hint="the X server stopped; restart presence inside the new session",
            ) from exc

    def _client_ids(self) -> list[int]:
        prop = self._root.get_property(
            self._atoms["_NET_CLIENT_LIST"], Xatom.WINDOW, 0, _LIST_LONGS
        )
        if prop is not None and len(prop.value):
            return [int(w) for w in prop.value]
        ids = []
        for top in self._root.query_tree().children:
            for candidate in (top, *top.query_tree().children):
                if candidate.get_property(self._atoms["WM_STATE"], X.AnyPropertyType, 0, 0):
                    ids.append(candidate.id)
                    break
        return ids

    def _describe(self, wid: int) -> AppWindow | None:
        window = self._display.create_resource_object("window", wid)
        types = window.get_property(self._atoms["_NET_WM_WINDOW_TYPE"], Xatom.ATOM, 0, 16)
        if types is not None and {self._atoms[t] for t in _SKIPPED_TYPES} & set(types.value):
            return None  # panels and the desktop are not applications to close
        wm_class = window.get_property(Xatom.WM_CLASS, Xatom.STRING, 0, _CLASS_LONGS)
        instance, cls = _class_parts(wm_class)
        pid = self._pid(window)
        if pid is not None and pid in self._protected:
            return None
        title_prop = window.get_property(
            self._atoms["_NET_WM_NAME"], self._atoms["UTF8_STRING"], 0, _TITLE_LONGS
        )
        title = None
        if title_prop is not None and title_prop.format == 8:
            title = bytes(title_prop.value).decode("utf-8", "replace")
        app = cls or process_name(pid) or "unknown"
        return AppWindow(window=wid, app=app, instance=instance, pid=pid, title=title)

    def _pid(self, window: Any) -> int | None:
        if self._has_xres:
            reply = self._display.res_query_client_ids(
                [{"client": window.id, "mask": res.LocalClientPIDMask}]
            )
            for client_id in reply.ids:
                if client_id.spec.mask == res.LocalClientPIDMask and client_id.value:
                    pid = int(client_id.value[0])
                    return pid if pid > 0 else None
        prop = window.get_property(self._atoms["_NET_WM_PID"], Xatom.CARDINAL, 0, 1)
        if prop is not None and len(prop.value) and int(prop.value[0]) > 0:
            return int(prop.value[0])
        return None

    def close_window(self, window: AppWindow) -> None:
        """Ask politely for `window` to close; returns at once (the client may refuse or ask
        the user to save first). Raises BackendError when the X connection is gone."""
        try:
            target = self._display.create_resource_object("window", window.window)
            catch = Xlib.error.CatchError()  # a window gone meanwhile is not an error here
            if self._wm_supports("_NET_CLOSE_WINDOW"):
                message = event.ClientMessage(
                    window=target,
                    client_type=self._atoms["_NET_CLOSE_WINDOW"],
                    data=(32, [X.CurrentTime, _SOURCE_USER, 0, 0, 0]),
                )
                mask = X.SubstructureRedirectMask | X.SubstructureNotifyMask
                self._root.send_event(message, event_mask=mask, onerror=catch)
            elif self._speaks_delete(target):
                message = event.ClientMessage(
                    window=target,
                    client_type=self._atoms["WM_PROTOCOLS"],
                    data=(32, [self._atoms["WM_DELETE_WINDOW"], X.CurrentTime, 0, 0, 0]),
                )
                target.send_event(message, event_mask=X.NoEventMask, onerror=catch)
            else:
                log.debug(
                    "window %#x has no polite way to close; it is terminated later", window.window
                )
                return
            self._display.flush()
        except Xlib.error.XError as exc:
            log.debug("closing window %#x: %s", window.window, exc)
        except CONNECTION_LOST as exc:
            raise BackendError(f"lost the connection to the X display: {exc}") from exc

    def _wm_supports(self, name: str) -> bool:
        prop = self._root.get_property(self._atoms["_NET_SUPPORTED"], Xatom.ATOM, 0, 1024)
        return prop is not None and self._atoms[name] in set(prop.value)

    def _speaks_delete(self, window: Any) -> bool:
        try:
            protocols = window.get_wm_protocols() or []
        except Xlib.error.XError:
            return False
        return self._atoms["WM_DELETE_WINDOW"] in protocols

    def close(self) -> None:
        """Close the X connection. Idempotent; never raises."""
        try:
            self._display.close()
        except (Xlib.error.XError, *CONNECTION_LOST):
            pass


def _class_parts(prop: Any) -> tuple[str | None, str | None]:
    """ICCCM WM_CLASS: instance and class, two NUL-terminated Latin-1 strings."""
    if prop is None or prop.format != 8:
        return None, None
    parts = bytes(prop.value).split(b"\0")
    instance = parts[0].decode("latin-1") if parts and parts[0] else None
    cls = parts[1].decode("latin-1") if len(parts) > 1 and parts[1] else None
    return instance, cls
