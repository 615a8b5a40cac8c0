"""The focused window on KWin (KDE Plasma, Wayland or X11), pushed by a KWin script presence loads.

At start the source owns `io.github.presence_desktop.Presence.KWin` on the session bus, loads
kwin/focus.js into KWin over D-Bus (`org.kde.kwin.Scripting`), and the script calls back
`Activated`, `CaptionChanged` and `Deactivated` as focus and titles change (KWin 5's
`workspace.clientActivated` and KWin 6's `workspace.windowActivated` alike: the script checks
which exists). The script is unloaded at `close()`. Nothing is polled: `focused()` returns the
last report, and each change wakes the daemon (FocusEvents) so the boundary lands at the event.

KWin first deactivates the old window (a null active window) and then activates the new one:
a `Deactivated` is believed only when no activation follows within DEBOUNCE seconds. KWin
marks duplicate captions with a " <2>" suffix, which is not part of the title and is removed.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from presence.core.errors import BackendError
from presence.core.model import WindowInfo
from presence.platform.base import Probe, Session
from presence.platform.dbus import BusConnection, connect
from presence.platform.kwin.scripting import (
    INTERFACE,
    PATH,
    SERVICE,
    KWinScripts,
    ScriptReceiver,
    probe_kwin,
    render,
)
from presence.platform.process_tree import process_name

log = logging.getLogger(__name__)

PLUGIN = "presence-focus"  # the script's name in KWin (isScriptLoaded, unloadScript)
DEBOUNCE = 0.1  # seconds a null active window must last to count (KWin sends it mid-switch)
# KWin's duplicate-caption marker: " <N>", after a left-to-right mark in right-to-left text.
_SUFFIX = re.compile(r" \u200e?<\d+>$")
_REPORT = "sssss"  # resourceClass, caption, pid, desktopFileName, internalId


@dataclass(frozen=True, slots=True)
class Reported:
    """One window as the focus script describes it."""

    app: str
    title: str | None
    pid: int | None
    internal_id: str

    @classmethod
    def parse(cls, body: tuple[Any, ...]) -> Reported:
        """The five strings of Activated/CaptionChanged. Raises ValueError for anything else."""
        if len(body) != len(_REPORT) or not all(isinstance(v, str) for v in body):
            raise ValueError(f"expected {len(_REPORT)} strings ({_REPORT}), got {body!r}")
        resource_class, caption, pid_text, desktop_file, internal_id = body
        try:
            pid = int(float(pid_text))  # KWin 5 may format the number as "1234" or "1234.0"
        except ValueError:
            pid = 0
        app = resource_class or desktop_file or process_name(pid if pid > 0 else None) or "unknown"
        title = _SUFFIX.sub("", caption) or None
        return cls(app, title, pid if pid > 0 else None, internal_id)

    def info(self) -> WindowInfo:
        return WindowInfo(self.app, self.title, self.pid)


class FocusState:
    """The focused window as the script last reported it, with the null-window debounce.

    The receiver's thread feeds it (`on_call`, `on_deadline`, `on_kwin_owner`); the sampler
    thread reads `focused()`. A lock guards the state; `wake` is called outside it.
    """

    def __init__(
        self,
        *,
        debounce: float = DEBOUNCE,
        clock: Callable[[], float] = time.monotonic,
        reload: Callable[[], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._debounce = debounce
        self._clock = clock
        self._reload = reload
        self._current: Reported | None = None
        self._null_due: float | None = None  # when a pending Deactivated becomes true
        self._lost: str | None = None  # why no report can arrive any more
        self.reports = 0  # calls handled, for tests and debugging
        self.wake: Callable[[], None] | None = None

    def focused(self) -> WindowInfo | None:
        """The window reported active, or None. Raises BackendError once the connection the
        script reports to is gone (the daemon then builds the source again)."""
        with self._lock:
            if self._lost is not None:
                raise BackendError(
                    f"lost the session D-Bus connection KWin reports to ({self._lost})",
                    hint="presence reconnects by itself once the session bus is back",
                )
            return None if self._current is None else self._current.info()

    def on_call(self, member: str, body: tuple[Any, ...]) -> None:
        """Handle one script call. Raises ValueError for an unknown member or bad arguments."""
        changed = False
        if member == "Activated":
            window = Reported.parse(body)
            with self._lock:
                self._null_due = None
                changed = window != self._current
                self._current = window
        elif member == "CaptionChanged":
            window = Reported.parse(body)
            with self._lock:
                # Only the window that has focus matters; a late report of one that lost it
                # (or of one whose deactivation is pending) is ignored.
                if (
                    self._current is not None
                    and self._null_due is None
                    and self._current.internal_id == window.internal_id
                    and window != self._current
                ):
                    self._current = window
                    changed = True
        elif member == "Deactivated":
            if body:
                raise ValueError(f"Deactivated takes no arguments, got {body!r}")
            with self._lock:
                if self._current is not None and self._null_due is None:
                    self._null_due = self._clock() + self._debounce
        else:
            raise ValueError(f"no method {member!r}")
        self.reports += 1
        if changed:
            self._notify()

    def deadline(self) -> float | None:
        with self._lock:
            return self._null_due

    def on_deadline(self) -> None:
        """The pending deactivation lasted DEBOUNCE: nothing has focus."""
        with self._lock:
            if self._null_due is None or self._clock() < self._null_due:
                return
            self._null_due = None
            self._current = None
        self._notify()

    def on_kwin_owner(self, owner: str | None) -> None:
        """KWin left (nothing known has focus) or restarted (its scripts are gone: reload)."""
        with self._lock:
            had = self._current is not None
            self._current = None
            self._null_due = None
        if had:
            self._notify()
        if owner is not None and self._reload is not None:
            log.info("KWin restarted: loading the focus script again")
            self._reload()

    def on_lost(self, reason: str) -> None:
        with self._lock:
            self._lost = reason
        self._notify()

    def _notify(self) -> None:
        wake = self.wake
        if wake is not None:
            wake()


class KWinScriptWindowSource:
    """The focused window from presence's KWin script (see the module docstring).

    Thread contract: built and closed on the daemon's main thread; `focused()` on the sampler
    thread; the script's calls are served on the receiver's own thread, which calls `wake`.
    """

    name = "kwin"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """A session bus socket, in a session that does not name another compositor.
        Does not connect; side-effect free."""
        return probe_kwin(session)

    def __init__(self, session: Session, *, debounce: float = DEBOUNCE) -> None:
        """Own the D-Bus name, load the focus script, and start serving its calls.

        Raises BackendError when there is no session bus, KWin is not on it, another daemon
        owns the name, or KWin refuses the script.
        """
        if not session.session_bus:
            raise BackendError("no session D-Bus", hint="run inside a KDE Plasma session")
        self._bus: BusConnection = connect(session.session_bus, bus="session D-Bus")
        self._receiver: ScriptReceiver | None = None
        self._scripts: KWinScripts | None = None
        self._closed = False
        self.state = FocusState(debounce=debounce, reload=self._load_quietly)
        try:
            self._scripts = KWinScripts(self._bus, session.runtime_dir)
            self._receiver = ScriptReceiver(session.session_bus, self.state, own=SERVICE)
            self._load()
        except BackendError:
            self.close()
            raise
        log.debug("KWin focus script %s loaded, reporting to %s", PLUGIN, SERVICE)

    def _load(self) -> None:
        assert self._scripts is not None
        source = render("focus.js", {"SERVICE": SERVICE, "PATH": PATH, "INTERFACE": INTERFACE})
        self._scripts.load(PLUGIN, source)

    def _load_quietly(self) -> None:
        # On the receiver's thread, after KWin restarted: a failure is logged, not raised.
        try:
            self._load()
        except BackendError as exc:
            log.warning("cannot load the KWin focus script again: %s", exc.message)

    def watch(self, wake: Callable[[], None]) -> None:
        """Call `wake` (from the receiver's thread) after each focus or title change."""
        self.state.wake = wake

    def focused(self) -> WindowInfo | None:
        """The last window KWin reported active; None when none is (or KWin left the bus).
        Never blocks on D-Bus. Raises BackendError once the receiver's connection is gone."""
        return self.state.focused()

    def close(self) -> None:
        """Unload the script, stop serving, release the name. Idempotent; main thread."""
        if self._closed:
            return
        self._closed = True
        if self._scripts is not None:
            try:
                self._scripts.unload(PLUGIN)
            except BackendError as exc:
                log.debug("cannot unload the KWin script %s: %s", PLUGIN, exc.message)
            self._scripts.close()
        if self._receiver is not None:
            self._receiver.close()
        self._bus.close()
