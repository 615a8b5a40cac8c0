"""The focused window on an X11 display, read with python-xlib (EWMH first, ICCCM as fallback)."""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import Xlib.display
import Xlib.error
from Xlib import X, Xatom
from Xlib.ext import res

from presence.core.errors import BackendError
from presence.core.model import WindowInfo
from presence.platform.base import Probe, Session
from presence.platform.process_tree import process_name
from presence.platform.x11_display import CONNECTION_LOST, connect, probe_display
from presence.platform.x11_focus_events import X11FocusWatcher

log = logging.getLogger(__name__)

WM_REFRESH_SECONDS = 5.0
"""How long the window manager's EWMH support is trusted before it is read again.

A window manager can be replaced (`openbox --replace`) or start after the daemon; a few seconds
of staleness only delays the switch between the EWMH and the input-focus path.
"""

_TITLE_LONGS = 1024  # titles are read up to 4 KiB: one round trip, bounded memory
_CLASS_LONGS = 256
_SUPPORTED_LONGS = 1024  # _NET_SUPPORTED lists ~100 atoms on common window managers
_MAX_DESCENT = 200  # windows examined when looking below a frame for its client

# Errors that mean "this window went away while we read it", not "the display is gone".
_VANISHED = (Xlib.error.XError,)
# Errors that mean the connection itself is unusable.


class X11WindowSource:
    """The focused application window of one X display.

    Uses `_NET_ACTIVE_WINDOW` when the window manager advertises it (EWMH), else the input
    focus walked to the ICCCM client window (the one carrying WM_STATE). One connection,
    opened in the constructor; `focused()` costs about five round trips and belongs to the
    sampler thread (python-xlib connections must not be shared across threads without care).
    `watch(wake)` pushes focus and title changes from a thread with a second connection
    (x11_focus_events); `close()` stops it.
    """

    name = "x11"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Side-effect free: only looks at the session; the constructor connects."""
        return probe_display(session)

    def __init__(self, session: Session) -> None:
        """Connect to the session's X display and intern the atoms used on every read.

        Raises BackendError when there is no display or it cannot be reached.
        """
        self._session = session
        self._display = connect(session)
        self._closed = False
        self._watcher: X11FocusWatcher | None = None
        try:
            self._root = self._display.screen().root
            atom = self._display.intern_atom
            self._net_active_window = atom("_NET_ACTIVE_WINDOW")
            self._net_supported = atom("_NET_SUPPORTED")
            self._net_wm_check = atom("_NET_SUPPORTING_WM_CHECK")
            self._net_wm_pid = atom("_NET_WM_PID")
            self._net_wm_name = atom("_NET_WM_NAME")
            self._utf8_string = atom("UTF8_STRING")
            self._compound_text = atom("COMPOUND_TEXT")
            self._wm_state = atom("WM_STATE")
            self._hostname = socket.gethostname().lower().split(".")[0]
            # XRes reports the pid the server saw on the client's socket (SO_PEERCRED).
            self._has_xres = bool(self._display.has_extension(res.extname))
        except (*CONNECTION_LOST, Xlib.error.XError) as exc:
            self.close()
            raise BackendError(
                f"the X display {session.x11_display} failed during setup: {exc}",
                hint="check that the X server is running and accepts connections",
            ) from exc
        self._wm = _WindowManager(check=None, ewmh_active=False)
        self._wm_read_at: float | None = None

    def focused(self) -> WindowInfo | None:
        """The focused application window, or None.

        None when nothing has focus, the focus is on the root, on the window manager's own
        windows, or the window vanished while it was read. Sampler thread only.
        Raises BackendError when the connection to the X server is gone.
        """
        try:
            window = self._focused_client()
            if window is None:
                return None
            return self._describe(window)
        except _VANISHED as exc:
            # BadWindow/BadDrawable/BadMatch: the window was destroyed between two requests.
            log.debug("focused window vanished while read: %s", exc)
            return None
        except CONNECTION_LOST as exc:
            raise BackendError(
                f"lost the connection to the X display: {exc}",
                hint="the X server stopped; restart presence inside the new session",
            ) from exc

    def watch(self, wake: Callable[[], None]) -> None:
        """Call `wake()` from a listener thread after each focus or title change.

        The listener has its own connection (a second X11WindowSource, used by that thread
        only). Idempotent. Raises BackendError when the display cannot be reached.
        """
        if self._watcher is not None or self._closed:
            return
        reader = X11WindowSource(self._session)
        watcher = X11FocusWatcher(reader, wake)
        try:
            watcher.start()
        except (*CONNECTION_LOST, Xlib.error.XError) as exc:
            watcher.stop()
            raise BackendError(
                f"cannot watch focus changes on {self._session.x11_display}: {exc}",
                hint="check that the X server is running and accepts connections",
            ) from exc
        self._watcher = watcher

    @property
    def display(self) -> Any:
        """This source's own connection (for the thread that owns the source)."""
        return self._display

    def focused_client(self) -> Any | None:
        """The focused client window object, or None; raises Xlib errors as they come.

        The owning thread only: `focused()` for the sampler, the focus watcher for its reader.
        """
        return self._focused_client()

    def close(self) -> None:
        """Stop the focus watcher and close the connection. Idempotent; never raises."""
        if self._watcher is not None:
            self._watcher.stop()
        if self._closed:
            return
        self._closed = True
        try:
            self._display.close()
        except (*CONNECTION_LOST, Xlib.error.XError):
            pass  # the server is already gone: nothing left to release

    # -- finding the window ------------------------------------------------------------------

    def _focused_client(self) -> Any | None:
        wm = self._window_manager()
        if wm.ewmh_active:
            # EWMH: the window manager keeps _NET_ACTIVE_WINDOW on the root, naming the client
            # window (not its frame); absent or None means no window is active.
            prop = self._root.get_property(self._net_active_window, Xatom.WINDOW, 0, 1)
            wid = int(prop.value[0]) if prop is not None and len(prop.value) else X.NONE
            if wid == X.NONE:
                return None
            window = self._display.create_resource_object("window", wid)
        else:
            focus = self._display.get_input_focus().focus
            if isinstance(focus, int):  # X.NONE or X.PointerRoot
                return None
            window = self._client_of(focus)
            if window is None:
                return None
        if window.id in (self._root.id, wm.check):
            # The supporting-WM-check window is the window manager's own (EWMH
            # _NET_SUPPORTING_WM_CHECK); openbox focuses it when no client has focus.
            return None
        return window

    def _window_manager(self) -> _WindowManager:
        now = time.monotonic()
        if self._wm_read_at is None or now - self._wm_read_at >= WM_REFRESH_SECONDS:
            self._wm = self._read_window_manager()
            self._wm_read_at = now
        return self._wm

    def _read_window_manager(self) -> _WindowManager:
        """Which EWMH window manager runs, if any (EWMH "Root Window Properties")."""
        prop = self._root.get_property(self._net_wm_check, Xatom.WINDOW, 0, 1)
        if prop is None or not len(prop.value):
            return _WindowManager(check=None, ewmh_active=False)
        check_id = int(prop.value[0])
        check = self._display.create_resource_object("window", check_id)
        try:
            # EWMH: the check window must point to itself; a stale root property left by a
            # window manager that died points to a destroyed or foreign window.
            own = check.get_property(self._net_wm_check, Xatom.WINDOW, 0, 1)
        except _VANISHED:
            own = None
        if own is None or not len(own.value) or int(own.value[0]) != check_id:
            return _WindowManager(check=None, ewmh_active=False)
        supported = self._root.get_property(self._net_supported, Xatom.ATOM, 0, _SUPPORTED_LONGS)
        atoms = set(supported.value) if supported is not None else set()
        return _WindowManager(check=check_id, ewmh_active=self._net_active_window in atoms)

    def _has_wm_state(self, window: Any) -> bool:
        # A zero-length read returns the type only: presence without the data.
        return window.get_property(self._wm_state, X.AnyPropertyType, 0, 0) is not None

    def _client_of(self, window: Any) -> Any | None:
        """The ICCCM client window (carrying WM_STATE, ICCCM 4.1.3.1) for a focus window.

        Walks up from the focus (an application may focus a child of its top-level), then,
        when the focus is on a window manager frame, down into the frame. Without any window
        manager, the focused top-level itself when it carries WM_CLASS.
        """
        current = window
        while current.id != self._root.id:
            if self._has_wm_state(current):
                return current
            parent = current.query_tree().parent
            if not parent or parent.id == self._root.id:
                break
            current = parent
        if current.id == self._root.id:
            return None
        # Breadth first: the client sits right below its frame in reparenting managers.
        queue = list(current.query_tree().children)
        seen = 0
        while queue and seen < _MAX_DESCENT:
            candidate = queue.pop(0)
            seen += 1
            if self._has_wm_state(candidate):
                return candidate
            queue.extend(candidate.query_tree().children)
        # No window manager at all (a bare X server, a kiosk): nobody sets WM_STATE, and the
        # top-level is the application's own window if it names itself with WM_CLASS.
        wm_class = current.get_property(Xatom.WM_CLASS, Xatom.STRING, 0, 0)
        return current if wm_class is not None else None

    # -- describing it -----------------------------------------------------------------------

    def _describe(self, window: Any) -> WindowInfo:
        wm_class = window.get_property(Xatom.WM_CLASS, X.AnyPropertyType, 0, _CLASS_LONGS)
        pid = self._pid(window)
        title = self._title(window)
        app = _class_of(wm_class) or process_name(pid) or "unknown"
        log.debug("focused: app=%s pid=%s title=%r", app, pid, title)
        return WindowInfo(app=app, title=title, pid=pid)

    def _pid(self, window: Any) -> int | None:
        # The server's view (XRes) comes first: _NET_WM_PID is whatever the client wrote,
        # which is a namespaced pid inside Flatpak/containers and a remote host's pid for
        # forwarded clients (EWMH ties it to WM_CLIENT_MACHINE). A wrong pid here would make
        # the enforcer pause or close an unrelated process.
        if self._has_xres:
            pid = self._xres_pid(window)
            if pid is not None:
                return pid
        prop = window.get_property(self._net_wm_pid, Xatom.CARDINAL, 0, 1)
        if prop is None or not len(prop.value) or int(prop.value[0]) <= 0:
            return None
        # EWMH: _NET_WM_PID names a process on the host in WM_CLIENT_MACHINE, which must be
        # set with it; a forwarded client's pid means nothing here.
        machine = window.get_property(Xatom.WM_CLIENT_MACHINE, X.AnyPropertyType, 0, 64)
        if machine is not None and machine.format == 8 and not self._is_local(machine.value):
            return None
        return int(prop.value[0])

    def _is_local(self, machine: Any) -> bool:
        # ICCCM allows a short name, EWMH asks for the FQDN: compare the first labels.
        name = _bytes(machine).rstrip(b"\0").decode("latin-1").lower().split(".")[0]
        return name in (self._hostname, "localhost")

    def _xres_pid(self, window: Any) -> int | None:
        spec = {"client": window.id, "mask": res.LocalClientPIDMask}
        reply = self._display.res_query_client_ids([spec])
        for client_id in reply.ids:
            # Empty for clients the server cannot identify (TCP connections, some proxies).
            if client_id.spec.mask == res.LocalClientPIDMask and client_id.value:
                pid = int(client_id.value[0])
                return pid if pid > 0 else None
        return None

    def _title(self, window: Any) -> str | None:
        # EWMH _NET_WM_NAME (UTF-8) is preferred over ICCCM WM_NAME when both are present.
        # Any type is accepted: a read with the wrong type returns no data, which would look
        # like an empty title, and a few clients do write _NET_WM_NAME as STRING.
        for atom in (self._net_wm_name, Xatom.WM_NAME):
            prop = window.get_property(atom, X.AnyPropertyType, 0, _TITLE_LONGS)
            if prop is not None and prop.format == 8:
                return self._decode_text(prop.property_type, _bytes(prop.value))
        return None

    def _decode_text(self, type_atom: int, data: bytes) -> str:
        if type_atom == self._utf8_string:
            return data.decode("utf-8", "replace")
        if type_atom == self._compound_text:
            return decode_compound_text(data)
        # ICCCM: STRING is ISO 8859-1; anything else is a guess, and Latin-1 never fails.
        return data.decode("latin-1")


@dataclass(frozen=True, slots=True)
class _WindowManager:
    check: int | None  # the _NET_SUPPORTING_WM_CHECK window, not an application
    ewmh_active: bool  # _NET_ACTIVE_WINDOW is listed in _NET_SUPPORTED


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else bytes(value)


def _class_of(prop: Any) -> str | None:
    """The class part of ICCCM WM_CLASS: two NUL-terminated Latin-1 strings, instance first."""
    if prop is None or prop.format != 8:
        return None
    parts = _bytes(prop.value).split(b"\0")
    if len(parts) < 2 or not parts[1]:
        return None
    return parts[1].decode("latin-1")


# COMPOUND_TEXT (X Consortium "Compound Text Encoding"): Latin-1 by default, other character
# sets switched in by ISO 2022 escapes. GL stays ASCII in practice, so the GR designation
# decides how high bytes decode; the multi-byte GR sets are the EUC encodings of their sets.
_CT_ESCAPE = re.compile(rb"\x1b(?:%[G@]|\$[()*+-]?[\x40-\x7e]|[()*+,./-][\x20-\x2f]*[\x30-\x7e])")
_CT_CHARSETS = {
    b"\x1b-A": "latin-1",
    b"\x1b-B": "iso8859-2",
    b"\x1b-C": "iso8859-3",
    b"\x1b-D": "iso8859-4",
    b"\x1b-F": "iso8859-7",
    b"\x1b-G": "iso8859-6",
    b"\x1b-H": "iso8859-8",
    b"\x1b-L": "iso8859-5",
    b"\x1b-M": "iso8859-9",
    b"\x1b$)A": "gb2312",
    b"\x1b$)B": "euc_jp",
    b"\x1b$)C": "euc_kr",
    b"\x1b%G": "utf-8",  # XFree86 extension: UTF-8 until ESC % @
    b"\x1b%@": "latin-1",
}


def decode_compound_text(data: bytes) -> str:
    """Decode an ICCCM COMPOUND_TEXT value; unknown character sets decode as Latin-1."""
    out: list[str] = []
    charset = "latin-1"
    pos = 0
    for match in _CT_ESCAPE.finditer(data):
        out.append(data[pos : match.start()].decode(charset, "replace"))
        # A GL designation (ESC ( B) leaves GR alone; unknown GR sets fall back to Latin-1.
        escape = match.group()
        if escape in _CT_CHARSETS:
            charset = _CT_CHARSETS[escape]
        elif not escape.startswith(b"\x1b("):
            charset = "latin-1"
        pos = match.end()
    out.append(data[pos:].decode(charset, "replace"))
    return "".join(out)
