"""The focused window on Hyprland, from its two IPC sockets (https://wiki.hypr.land/IPC/).

- The request socket `$XDG_RUNTIME_DIR/hypr/$HYPRLAND_INSTANCE_SIGNATURE/.socket.sock`
  (`/tmp/hypr/...` before Hyprland 0.40) takes one hyprctl-style command per connection
  (`j/activewindow`: the active client as JSON, `{}` when none) and closes after its reply.
  Hyprland serves it synchronously and freezes while a client holds it open, so every request
  opens, writes, reads to the end and closes at once, under a short timeout.
- The event socket `.socket2.sock` streams lines `EVENT>>DATA`. Focus and title changes
  (`activewindowv2>>ADDRESS`, `windowtitle>>ADDRESS`, `windowtitlev2>>ADDRESS,TITLE`,
  `closewindow>>ADDRESS`, workspace and monitor changes) wake the sampler; `focused()` then
  asks for the active window, so one code path reads what the tick reads too.

app = the client's `class` (Wayland app id, or the X11 class under Xwayland), else
`initialClass`; title = `title`; pid = `pid`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from presence.core.errors import BackendError
from presence.core.model import WindowInfo
from presence.platform.base import Probe, Session
from presence.platform.process_tree import process_name

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 1.0  # Hyprland answers in microseconds; longer means it is stuck
MAX_REPLY = 16 * 1024 * 1024
NO_INSTANCE_HINT = "run inside a Hyprland session (HYPRLAND_INSTANCE_SIGNATURE names it)"
LOST_HINT = "Hyprland's IPC socket went away; restart presence inside the new session"

# Events after which the active window or its title may differ (wiki.hypr.land/IPC "Events").
WAKE_EVENTS = frozenset(
    {
        "activewindowv2",
        "windowtitle",
        "windowtitlev2",
        "closewindow",
        "openwindow",
        "workspace",
        "workspacev2",
        "focusedmon",
        "focusedmonv2",
        "movewindow",
        "movewindowv2",
    }
)
_STOP_WAIT = 2.0


def socket_dir(session: Session) -> Path | None:
    """The directory holding this instance's sockets, or None when there is none."""
    signature = session.hyprland_instance
    if not signature or "/" in signature:
        return None
    candidates = []
    if session.runtime_dir:
        candidates.append(Path(session.runtime_dir, "hypr", signature))  # Hyprland >= 0.40
    # Hyprland before 0.40 used this fixed path; _is_socket checks that the socket is ours.
    candidates.append(Path("/tmp/hypr", signature))  # noqa: S108
    for path in candidates:
        if _is_socket(path / ".socket.sock"):
            return path
    return None


def require_socket_dir(session: Session) -> Path:
    """socket_dir(session); raises BackendError (with the hint) when there is none."""
    directory = socket_dir(session)
    if directory is None:
        raise BackendError("no Hyprland IPC socket", hint=NO_INSTANCE_HINT)
    return directory


def _is_socket(path: Path) -> bool:
    """A socket owned by this user (in shared /tmp another user could plant one)."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    return stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid()


def probe_hyprland(session: Session) -> Probe:
    """Whether the session names a Hyprland instance whose request socket exists. Does not
    connect (a connection held open would stall Hyprland)."""
    if not session.hyprland_instance:
        return Probe.no("not a Hyprland session (HYPRLAND_INSTANCE_SIGNATURE unset)")
    found = socket_dir(session)
    if found is None:
        return Probe.no(
            f"no socket of the Hyprland instance {session.hyprland_instance}",
            hint=NO_INSTANCE_HINT,
        )
    return Probe.yes(f"IPC sockets in {found}")


def request(directory: Path, command: str, timeout: float = REQUEST_TIMEOUT) -> bytes:
    """Send one command to the request socket and return the whole reply.

    Raises BackendError when the socket cannot be reached or the reply does not come.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(directory / ".socket.sock"))
        sock.sendall(command.encode())
        chunks = []
        size = 0
        while chunk := sock.recv(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_REPLY:
                raise BackendError(f"Hyprland's reply to {command!r} is over {MAX_REPLY} bytes")
        return b"".join(chunks)
    except OSError as exc:
        raise BackendError(
            f"Hyprland IPC request {command!r} failed: {exc}", hint=LOST_HINT
        ) from exc
    finally:
        sock.close()


def request_json(directory: Path, command: str) -> Any:
    """`request()` for a `j/` command, decoded. Raises BackendError on garbage."""
    reply = request(directory, command)
    try:
        return json.loads(reply)
    except ValueError as exc:
        raise BackendError(f"Hyprland's reply to {command!r} is not JSON: {reply[:80]!r}") from exc


def parse_event(line: bytes) -> tuple[str, str] | None:
    """An event line `EVENT>>DATA` as (event, data); None for a line that is not one."""
    text = line.decode("utf-8", "replace").rstrip("\n")
    name, sep, data = text.partition(">>")
    return (name, data) if sep and name else None


def window_info(client: Any) -> WindowInfo | None:
    """A client object (`j/activewindow`, `j/clients`) as a WindowInfo; None for `{}`."""
    if not isinstance(client, dict) or not client.get("address"):
        return None
    pid = client.get("pid")
    pid = pid if isinstance(pid, int) and pid > 0 else None
    app = str(client.get("class") or client.get("initialClass") or "") or process_name(pid)
    title = client.get("title")
    return WindowInfo(
        app=app or "unknown", title=str(title) if title is not None else None, pid=pid
    )


class HyprlandWindowSource:
    """The active client of one Hyprland instance.

    Thread contract: `focused()` on the sampler thread (each call its own short connection);
    the listener started by `watch()` owns the event socket; `close()` from the main thread.
    """

    name = "hyprland"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Side-effect free: looks at the socket's file only."""
        return probe_hyprland(session)

    def __init__(self, session: Session) -> None:
        """Check that the instance answers. Raises BackendError when it does not."""
        directory = require_socket_dir(session)
        self._dir = directory
        version = request_json(directory, "j/version")
        log.debug("Hyprland %s", version.get("tag") if isinstance(version, dict) else version)
        self._events: socket.socket | None = None
        self._listener: threading.Thread | None = None
        self._closing = threading.Event()

    def focused(self) -> WindowInfo | None:
        """The active client, or None (no window focused). Sampler thread.

        Raises BackendError when Hyprland does not answer.
        """
        info = window_info(request_json(self._dir, "j/activewindow"))
        if info is not None:
            log.debug("focused: app=%s pid=%s title=%r", info.app, info.pid, info.title)
        return info

    def watch(self, wake: Callable[[], None]) -> None:
        """Connect to the event socket; a daemon thread calls `wake()` after each focus, title,
        close or workspace change. Raises BackendError when the socket cannot be reached."""
        if self._listener is not None:
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(self._dir / ".socket2.sock"))
        except OSError as exc:
            sock.close()
            raise BackendError(f"cannot connect to Hyprland's event socket: {exc}") from exc
        self._events = sock
        self._listener = threading.Thread(
            target=self._listen, args=(sock, wake), name="hyprland-events", daemon=True
        )
        self._listener.start()

    def _listen(self, sock: socket.socket, wake: Callable[[], None]) -> None:
        with sock.makefile("rb") as lines:
            try:
                for line in lines:
                    event = parse_event(line)
                    if event is not None and event[0] in WAKE_EVENTS:
                        wake()
            except (OSError, ValueError) as exc:  # ValueError: read on a closed file
                if not self._closing.is_set():
                    log.warning("Hyprland events stopped (%s); focus is read at each tick", exc)
                return
        if not self._closing.is_set():
            log.warning("Hyprland closed its event socket; focus is read at each tick")

    def close(self) -> None:
        """Stop the listener. Idempotent; never raises."""
        self._closing.set()
        if self._events is not None:
            with contextlib.suppress(OSError):  # the peer may already be gone
                self._events.shutdown(socket.SHUT_RDWR)
            self._events.close()
        if self._listener is not None and self._listener is not threading.current_thread():
            self._listener.join(_STOP_WAIT)
