"""A small client of the i3/sway IPC protocol (https://i3wm.org/docs/ipc.html, sway-ipc(7)).

A message is the magic string "i3-ipc", the payload length and the message type (two 32-bit
integers in the host's byte order), then the payload (JSON for replies and events). Event
replies have the high bit of the type set. sway speaks the same protocol as i3 with a few
additions (`app_id`, `pid`), so one client serves both.

Why our own client and not the `i3ipc` package: the protocol is a 14-byte header and JSON;
what presence needs (one blocking request connection for the sampler, one subscription read on
a listener thread, a close that unblocks that read) is under a hundred lines, and the package
brings its own threads and event dispatch, which we would have to work around.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from typing import Any

from presence.core.errors import BackendError

MAGIC = b"i3-ipc"
HEADER = struct.Struct("=6sII")  # magic, payload length, type: host byte order per the spec

RUN_COMMAND = 0
SUBSCRIBE = 2
GET_TREE = 4
GET_VERSION = 7
EVENT_BIT = 1 << 31
WINDOW_EVENT = EVENT_BIT | 3
WORKSPACE_EVENT = EVENT_BIT | 0
SHUTDOWN_EVENT = EVENT_BIT | 6

MAX_PAYLOAD = 64 * 1024 * 1024  # a tree of thousands of windows is a few MB; more is garbage
REQUEST_TIMEOUT = 2.0  # seconds a request may take before the compositor counts as hung

LOST_HINT = "the compositor's IPC socket went away; restart presence inside the new session"


class IpcError(BackendError):
    """The IPC connection failed or the compositor sent something that is not the protocol."""


class I3Connection:
    """One connection to an i3/sway IPC socket.

    Thread contract: `request()` and `read_message()` belong to one thread at a time (the
    owner guards it); `close()` may be called from any thread and unblocks a pending read.
    """

    def __init__(self, path: str, timeout: float | None = REQUEST_TIMEOUT) -> None:
        """Connect to the socket at `path`; `timeout` bounds each read (None: block).

        Raises IpcError when the socket cannot be reached.
        """
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._closed = threading.Event()
        try:
            self._sock.connect(path)
        except OSError as exc:
            self._sock.close()
            raise IpcError(
                f"cannot connect to the IPC socket {path}: {exc}",
                hint="check that sway (or i3) runs and that SWAYSOCK (or I3SOCK) names its socket",
            ) from exc

    def request(self, kind: int, payload: str = "") -> Any:
        """Send one message and return its decoded reply. Raises IpcError when the connection
        fails or the reply is not the protocol."""
        self.send(kind, payload)
        reply_kind, body = self.read_message()
        if reply_kind != kind:
            raise IpcError(f"IPC reply of type {reply_kind:#x} to a request of type {kind}")
        return body

    def send(self, kind: int, payload: str = "") -> None:
        data = payload.encode()
        try:
            self._sock.sendall(HEADER.pack(MAGIC, len(data), kind) + data)
        except OSError as exc:
            raise IpcError(f"lost the IPC connection: {exc}", hint=LOST_HINT) from exc

    def read_message(self) -> tuple[int, Any]:
        """The next message: (type, decoded JSON). Blocks up to the timeout.

        Raises IpcError when the connection closes, times out or sends garbage.
        """
        magic, length, kind = HEADER.unpack(self._read(HEADER.size))
        if magic != MAGIC or length > MAX_PAYLOAD:
            raise IpcError(f"not an i3 IPC message (magic {magic!r}, length {length})")
        body = self._read(length)
        try:
            return kind, json.loads(body)
        except ValueError as exc:
            raise IpcError(f"IPC message of type {kind:#x} is not JSON: {exc}") from exc

    def _read(self, size: int) -> bytes:
        chunks = []
        remaining = size
        while remaining:
            try:
                chunk = self._sock.recv(min(remaining, 1 << 20))
            except OSError as exc:  # socket.timeout is an OSError too
                raise IpcError(f"lost the IPC connection: {exc}", hint=LOST_HINT) from exc
            if not chunk:
                raise IpcError("the compositor closed the IPC connection", hint=LOST_HINT)
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def settimeout(self, timeout: float | None) -> None:
        """Bound each later read by `timeout` seconds (None: block until data or close)."""
        self._sock.settimeout(timeout)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """Close the connection; a read blocked on it in another thread returns an IpcError.
        Idempotent; never raises."""
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):  # never connected, or the peer already went away
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


def views(node: dict[str, Any]) -> list[dict[str, Any]]:
    """Every application window (view) under `node`, tiled and floating, depth first.

    A view is a container holding a client: sway gives it an `app_id` (native Wayland) or
    `window_properties` (Xwayland); i3 gives `window` (the X11 id) and `window_properties`.
    """
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if is_view(current):
            found.append(current)
        children = list(current.get("nodes") or []) + list(current.get("floating_nodes") or [])
        stack.extend(reversed(children))
    return found


def is_view(node: dict[str, Any]) -> bool:
    """Whether `node` holds a client window (not a workspace, output or split container)."""
    return node.get("type") in ("con", "floating_con") and bool(
        node.get("app_id") is not None or node.get("window_properties") or node.get("window")
    )


def focused_view(tree: dict[str, Any]) -> dict[str, Any] | None:
    """The focused view in a GET_TREE reply, or None.

    None when the focus is on an empty workspace or an output, or no node is focused at all
    (sway while swaylock holds the screen).
    """
    stack = [tree]
    while stack:
        current = stack.pop()
        if current.get("focused"):
            return current if is_view(current) else None
        stack.extend(current.get("nodes") or [])
        stack.extend(current.get("floating_nodes") or [])
    return None


def view_app(node: dict[str, Any]) -> str | None:
    """What the sampler records as the app: sway's `app_id`, else the X11 class (Xwayland, i3),
    else the X11 instance."""
    app_id = node.get("app_id")
    if app_id:
        return str(app_id)
    props = node.get("window_properties") or {}
    for key in ("class", "instance"):
        if props.get(key):
            return str(props[key])
    return None
