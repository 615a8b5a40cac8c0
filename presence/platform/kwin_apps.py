"""Closing, terminating, pausing and resuming applications on KWin (KDE Plasma), through scripts.

KWin offers no D-Bus call to list or close windows; its scripts can. For each request presence
loads a one-shot script (kwin/windows.js lists the normal windows, kwin/close.js calls
`closeWindow()` on one, as its close button would, so the app may ask to save), which reports
back to the unique bus name of this controller's own connection, and unloads it when the script
said it is done. A window is named by KWin's `internalId` (a UUID), carried in
`AppWindow.window` as its 128-bit integer. Processes are handled by `process_tree`.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import uuid
from typing import Any

from presence.core.errors import BackendError
from presence.platform.base import AppWindow, Probe, Session
from presence.platform.dbus import BusConnection, connect
from presence.platform.kwin.scripting import (
    INTERFACE,
    PATH,
    KWinScripts,
    ScriptReceiver,
    probe_kwin,
    render,
)
from presence.platform.process_tree import ProcessTreeControl, process_name, protected_pids

log = logging.getLogger(__name__)

REPLY_TIMEOUT = 2.0  # seconds a one-shot script has to report back
_WINDOW = "ssssss"  # token, resourceClass, resourceName, caption, pid, internalId


class OneShotReplies:
    """Collects what one-shot scripts report, per request token (the CallSink of the receiver).

    `expect(token)` before loading the script; `wait(token)` returns the rows once `Done`
    arrived. Receiver thread feeds it; the enforcer's thread waits.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, list[tuple[str, ...]]] = {}
        self._done: dict[str, threading.Event] = {}

    def expect(self, token: str) -> None:
        with self._lock:
            self._rows[token] = []
            self._done[token] = threading.Event()

    def wait(self, token: str, timeout: float) -> list[tuple[str, ...]] | None:
        """The rows reported for `token`, or None when `Done` did not arrive in time."""
        done = self._done[token]
        finished = done.wait(timeout)
        with self._lock:
            rows = self._rows.pop(token)
            del self._done[token]
        return rows if finished else None

    def on_call(self, member: str, body: tuple[Any, ...]) -> None:
        if not body or not all(isinstance(v, str) for v in body):
            raise ValueError(f"{member} takes strings, got {body!r}")
        token = body[0]
        with self._lock:
            if token not in self._rows:
                return  # a request that already timed out
            if member == "Window":
                if len(body) != len(_WINDOW):
                    raise ValueError(f"Window takes {len(_WINDOW)} strings, got {body!r}")
                self._rows[token].append(tuple(body[1:]))
            elif member == "Done":
                self._done[token].set()
            else:
                raise ValueError(f"no method {member!r}")

    def deadline(self) -> float | None:
        return None

    def on_deadline(self) -> None:
        pass

    def on_kwin_owner(self, owner: str | None) -> None:
        pass

    def on_lost(self, reason: str) -> None:
        log.debug("the KWin apps receiver lost its connection: %s", reason)


class KWinAppController(ProcessTreeControl):
    """Application windows managed by KWin, and their processes.

    Thread contract: one thread at a time (the enforcer's lock); the scripts' reports are
    served on the receiver's own thread.
    """

    name = "kwin"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """A session bus socket in a session that does not name another compositor.
        Side-effect free; the constructor checks that KWin answers."""
        return probe_kwin(session)

    def __init__(self, session: Session) -> None:
        """Connect to the session bus and check KWin's scripting. Raises BackendError."""
        if not session.session_bus:
            raise BackendError("no session D-Bus", hint="run inside a KDE Plasma session")
        self._bus: BusConnection = connect(session.session_bus, bus="session D-Bus")
        self._replies = OneShotReplies()
        self._receiver: ScriptReceiver | None = None
        self._scripts: KWinScripts | None = None
        self._ids = itertools.count(1)
        try:
            self._scripts = KWinScripts(self._bus, session.runtime_dir)
            self._receiver = ScriptReceiver(session.session_bus, self._replies)
        except BackendError:
            self.close()
            raise
        self._protected = protected_pids()

    def _run(self, template: str, **values: str) -> list[tuple[str, ...]]:
        assert self._scripts is not None and self._receiver is not None
        token = uuid.uuid4().hex
        plugin = f"presence-{template.removesuffix('.js')}-{os.getpid()}-{next(self._ids)}"
        source = render(
            template,
            {
                "SERVICE": self._receiver.name,
                "PATH": PATH,
                "INTERFACE": INTERFACE,
                "TOKEN": token,
                **values,
            },
        )
        self._replies.expect(token)
        try:
            self._scripts.load(plugin, source)
            rows = self._replies.wait(token, REPLY_TIMEOUT)
        finally:
            try:
                self._scripts.unload(plugin)
            except BackendError as exc:
                log.debug("cannot unload the KWin script %s: %s", plugin, exc.message)
        if rows is None:
            raise BackendError(
                f"KWin's script {plugin} did not report back within {REPLY_TIMEOUT:g} s",
                hint="see KWin's log (journalctl --user) for the script error",
            )
        return rows

    def windows(self) -> list[AppWindow]:
        """The normal windows KWin manages, never presence's own or its ancestors'.
        Raises BackendError when KWin does not answer."""
        found = []
        for resource_class, resource_name, caption, pid_text, internal_id in self._run(
            "windows.js"
        ):
            try:
                window = uuid.UUID(internal_id).int
            except ValueError:
                log.debug("KWin window id %r is not a UUID", internal_id)
                continue
            pid = _pid(pid_text)
            if pid is not None and pid in self._protected:
                continue
            app = resource_class or process_name(pid) or "unknown"
            found.append(AppWindow(window, app, resource_name or None, pid, caption or None))
        return found

    def close_window(self, window: AppWindow) -> None:
        """Ask KWin to close `window` as its close button would; returns once the script ran
        (the app may still refuse, or ask to save). Raises BackendError when KWin does not
        answer."""
        target = "{" + str(uuid.UUID(int=window.window)) + "}"
        self._run("close.js", TARGET=target)

    def close(self) -> None:
        """Stop the receiver and close the connections. Idempotent; never raises."""
        if self._receiver is not None:
            self._receiver.close()
            self._receiver = None
        if self._scripts is not None:
            self._scripts.close()
            self._scripts = None
        self._bus.close()


def _pid(text: str) -> int | None:
    try:
        pid = int(float(text))
    except ValueError:
        return None
    return pid if pid > 0 else None
