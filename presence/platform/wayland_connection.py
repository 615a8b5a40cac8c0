"""One Wayland client connection (pywayland), its registry, and the thread that dispatches it.

Shared by the Wayland protocol backends (`wayland_idle`, `wlr_toplevel`). Each backend opens
its own connection in its constructor; nothing connects at import. A probe connects, reads the
registry with one round trip and disconnects again, so probing leaves nothing open.

Threads: the constructor's thread binds globals and makes the first round trips; after
`start()` only the dispatch thread reads the socket and runs the event handlers, holding
`lock`. Another thread that sends a request (`request()`) takes the same lock, so a handler
never runs while a proxy is used elsewhere, and libwayland's own locking covers the socket.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from pywayland.client.display import Display

from presence.core.errors import BackendError
from presence.platform.base import Probe, Session
from presence.platform.selection import NO_WAYLAND_DISPLAY

log = logging.getLogger(__name__)

T = TypeVar("T")


def socket_path(session: Session) -> Path | None:
    """The compositor's socket: WAYLAND_DISPLAY, relative to XDG_RUNTIME_DIR unless absolute."""
    name = session.wayland_display
    if not name:
        return None
    if os.path.isabs(name):
        return Path(name)
    if not session.runtime_dir:
        return None
    return Path(session.runtime_dir, name)


def read_globals(session: Session) -> dict[str, int]:
    """Connect, list the compositor's globals (interface -> highest version), disconnect.

    Raises BackendError when there is no Wayland display or it cannot be reached.
    """
    display = _connect(session)
    found: dict[str, int] = {}

    def on_global(_registry: Any, _name: int, interface: str, version: int) -> None:
        found[interface] = max(version, found.get(interface, 0))

    try:
        registry = display.get_registry()
        registry.dispatcher["global"] = on_global
        if display.roundtrip() < 0:
            raise BackendError(f"the Wayland compositor at {socket_path(session)} did not answer")
    finally:
        display.disconnect()
    return found


def probe_globals(session: Session, needed: Iterable[str], purpose: str) -> Probe:
    """Whether the session's compositor advertises every interface in `needed`.

    Connects and disconnects (one round trip); no connection is left open.
    """
    path = socket_path(session)
    if path is None:
        return NO_WAYLAND_DISPLAY
    if not session.is_wayland:
        # A Wayland compositor nested in an X11 session sees only its own windows and input.
        return Probe.no(
            "an X11 session (XDG_SESSION_TYPE=x11): WAYLAND_DISPLAY names a nested compositor",
            "the X11 backends fit this session; force this one by name to use the nested one",
            forceable=True,
        )
    try:
        offered = read_globals(session)
    except BackendError as exc:
        return Probe.no(exc.message, exc.hint or "")
    missing = [name for name in needed if name not in offered]
    if missing:
        return Probe.no(
            f"the compositor does not offer {', '.join(missing)} ({purpose})",
            "use the compositor's own backend, or one of the other candidates",
        )
    return Probe.yes()


def _connect(session: Session) -> Display:
    path = socket_path(session)
    if path is None:
        raise BackendError(NO_WAYLAND_DISPLAY.reason, hint=NO_WAYLAND_DISPLAY.hint)
    display = Display(str(path))
    try:
        display.connect()
    except ValueError as exc:  # pywayland's way of saying wl_display_connect returned NULL
        raise BackendError(
            f"cannot connect to the Wayland compositor at {path}",
            hint="check that the compositor runs and that WAYLAND_DISPLAY names its socket",
        ) from exc
    return display


class WaylandConnection:
    """A connection, its registry's globals, and (after `start`) a thread dispatching events.

    Raises BackendError from the constructor when the compositor cannot be reached.
    `after_dispatch` is called on the dispatch thread after each batch of events was handled
    (outside `lock`), e.g. to wake the daemon once for a burst of changes.
    """

    def __init__(self, session: Session, thread_name: str) -> None:
        self.display = _connect(session)
        self.lock = threading.RLock()
        self.globals: dict[str, tuple[int, int]] = {}  # interface -> (name, version)
        self.error: str | None = None  # why the connection died, once it did
        self.after_dispatch: Callable[[], None] | None = None
        self._thread_name = thread_name
        self._thread: threading.Thread | None = None
        self._stop_r, self._stop_w = os.pipe()
        self._closed = False
        try:
            self.registry = self.display.get_registry()
            self.registry.dispatcher["global"] = self._on_global
            self.roundtrip()
        except BaseException:
            self.close()
            raise

    def _on_global(self, _registry: Any, name: int, interface: str, version: int) -> None:
        self.globals.setdefault(interface, (name, version))

    def bind(self, interface: type[Any], version: int) -> Any:
        """Bind the global of `interface` at min(`version`, the compositor's).

        Raises BackendError when the compositor does not offer it.
        """
        entry = self.globals.get(interface.name)
        if entry is None:
            raise BackendError(f"the compositor does not offer {interface.name}")
        name, offered = entry
        return self.registry.bind(name, interface, min(version, offered))

    def version_of(self, interface: type[Any]) -> int:
        """The version the compositor offers of `interface` (0: not offered)."""
        entry = self.globals.get(interface.name)
        return 0 if entry is None else entry[1]

    def roundtrip(self) -> None:
        """Wait until the compositor handled every request so far. Constructor thread only,
        before `start()`. Raises BackendError when the connection is gone."""
        if self.display.roundtrip() < 0:
            raise BackendError("the Wayland compositor closed the connection")

    def start(self) -> None:
        """Start the dispatch thread (a daemon thread; `close()` stops it)."""
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self.error is None and not self._closed

    def check(self) -> None:
        """Raise BackendError when the connection died (the compositor quit)."""
        if self.error is not None:
            raise BackendError(
                f"lost the connection to the Wayland compositor: {self.error}",
                hint="the compositor stopped; restart presence inside the new session",
            )

    def request(self, send: Callable[[], T]) -> T:
        """Run `send` (which sends requests on proxies of this connection) under the lock and
        flush. Any thread. Raises BackendError when the connection died."""
        self.check()
        with self.lock:
            result = send()
            self.display.flush()
        return result

    def _run(self) -> None:
        fd = self.display.get_fd()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.register(self._stop_r, select.POLLIN)
        try:
            while True:
                with self.lock:
                    self.display.dispatch(block=False)  # events a round trip left queued
                    self.display.flush()
                ready = dict(poller.poll())
                if self._stop_r in ready:
                    return
                if ready.get(fd, 0) & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    with self.lock:
                        # The socket is readable, so this reads without blocking, then runs
                        # the handlers of every complete message read.
                        if self.display.dispatch(block=True) < 0:
                            raise RuntimeError("dispatch failed")
                    if self.after_dispatch is not None:
                        self.after_dispatch()
        except (RuntimeError, OSError) as exc:
            # Said at DEBUG only: the owner raises BackendError at its next read, which the
            # capability reports once.
            self.error = f"the compositor closed the connection ({exc})"
            log.debug("Wayland connection lost (%s): %s", self._thread_name, self.error)
            if self.after_dispatch is not None:
                with contextlib.suppress(Exception):
                    self.after_dispatch()  # let the owner notice at once

    def close(self, before_disconnect: Callable[[], None] | None = None) -> None:
        """Stop the dispatch thread, run `before_disconnect` (releasing objects politely), and
        disconnect. Idempotent; never raises."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            os.write(self._stop_w, b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        if before_disconnect is not None and self.error is None:
            try:
                with self.lock:
                    before_disconnect()
                    self.display.flush()
            except Exception as exc:  # the compositor may be gone already
                log.debug("releasing Wayland objects: %s", exc)
        with contextlib.suppress(Exception):
            self.display.disconnect()
        for fd in (self._stop_r, self._stop_w):
            with contextlib.suppress(OSError):
                os.close(fd)
