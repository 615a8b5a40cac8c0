"""What the close-apps and pause-apps actions have done, and what they still owe.

Closing is two-step: a polite request (the window manager asks the app, which may ask the
user to save), then, if the window is still there after `rules.close_timeout`, the process
tree is terminated. Pausing stops a process tree until its occurrence is no longer in force
(over, snoozed, overridden, its rule gone) or the daemon stops; the pids are also written to
a file in the runtime directory, so a daemon that crashed resumes them when it starts again.

Thread contract: the enforcer's lock is held for every call.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from presence.core.errors import BackendError
from presence.core.faults import describe
from presence.platform.base import AppController, AppWindow
from presence.platform.capability import Capability
from presence.rules.model import Rule

log = logging.getLogger(__name__)

OccurrenceKey = tuple[str, float]
Categorize = Callable[[str | None, str | None], str | None]
T = TypeVar("T")


@dataclass(slots=True)
class _Closing:
    key: OccurrenceKey
    pid: int | None
    app: str
    deadline: float  # monotonic seconds


def targeted(
    rule: Rule, window: AppWindow, focused_app: str | None, categorize: Categorize
) -> bool:
    """Whether the action of `rule` applies to `window`.

    With `focused_app` (a focus or limit rule acting on the app that has focus) the windows
    of that app; otherwise every window the rule targets. The WM_CLASS class and instance
    both count as the app's name (`chrome` names neither of Google Chrome's, so spell it
    `google-chrome`); an app named in `--allow` is spared whichever name matched.
    """
    names = [n for n in (window.app, window.instance) if n]
    if focused_app is not None:
        return focused_app.lower() in {n.lower() for n in names}
    allowed = {a.lower() for a in rule.allow}
    if any(n.lower() in allowed for n in names):
        return False
    category = categorize(window.app, window.title)
    categories = [category] if category else []
    return any(rule.targets(n, categories) for n in names)


class AppActions:
    """Closes and pauses the apps a rule targets, and undoes pauses when told."""

    def __init__(
        self,
        controller: Capability[AppController],
        close_timeout: float,
        paused_file: Path | None = None,
    ) -> None:
        self._controller = controller
        self._close_timeout = close_timeout
        self._paused_file = paused_file
        self._closing: dict[int, _Closing] = {}  # window id -> pending close
        self._paused: dict[OccurrenceKey, dict[int, list[int]]] = {}  # key -> pid -> tree
        self._leftover = self._read_leftover()

    def available(self, mono: float) -> AppController | None:
        controller = self._controller.get(mono)
        if controller is not None and self._leftover:
            # A previous daemon stopped these and could not continue them (it crashed).
            log.warning("resuming %d processes a previous run left paused", len(self._leftover))
            controller.resume(self._leftover)
            self._leftover = []
            self._write()
        return controller

    def close(
        self,
        key: OccurrenceKey,
        rule: Rule,
        focused_app: str | None,
        categorize: Categorize,
        mono: float,
    ) -> list[str]:
        """Ask every targeted window not yet asked to close; returns the apps asked now.
        Raises BackendError when no app controller is available."""
        controller = self._need(mono)
        asked = []
        for window in self._windows(controller, mono):
            if window.window in self._closing:
                continue
            if not targeted(rule, window, focused_app, categorize):
                continue
            self._use(mono, controller.close_window, window)
            self._closing[window.window] = _Closing(
                key, window.pid, window.app, mono + self._close_timeout
            )
            asked.append(window.app)
        return asked

    def pause(
        self,
        key: OccurrenceKey,
        rule: Rule,
        focused_app: str | None,
        categorize: Categorize,
        mono: float,
    ) -> list[str]:
        """Stop every targeted app not stopped yet; returns the apps stopped now.
        Raises BackendError when no app controller is available."""
        controller = self._need(mono)
        stopped_now = []
        held = {pid for trees in self._paused.values() for pid in trees}
        for window in self._windows(controller, mono):
            if window.pid is None or window.pid in held:
                continue
            if not targeted(rule, window, focused_app, categorize):
                continue
            pids = self._use(mono, controller.pause, window.pid)
            if pids:
                self._paused.setdefault(key, {})[window.pid] = pids
                held.add(window.pid)
                stopped_now.append(window.app)
        if stopped_now:
            self._write()
        return stopped_now

    def follow_up(self, in_force: Iterable[OccurrenceKey], mono: float) -> list[str]:
        """Terminate what ignored its close request past the timeout; resume the apps of
        occurrences no longer in force. Returns the apps terminated."""
        keep = set(in_force)
        for key in [k for k in self._paused if k not in keep]:
            self.release(key, mono)
        if not self._closing:
            return []
        controller = self._controller.get(mono)
        if controller is None:
            return []
        try:
            open_ids = {w.window for w in self._use(mono, controller.windows)}
        except BackendError:
            return []
        terminated: list[str] = []
        for wid, closing in list(self._closing.items()):
            if wid not in open_ids:
                del self._closing[wid]  # closed, as asked
            elif mono >= closing.deadline:
                del self._closing[wid]
                if closing.pid is not None:
                    log.info(
                        "%s did not close within %g s: terminating it",
                        closing.app,
                        self._close_timeout,
                    )
                    try:
                        self._use(mono, controller.terminate, closing.pid)
                    except BackendError:
                        return terminated  # the controller is gone; counted, backed off
                    terminated.append(closing.app)
        return terminated

    def release(self, key: OccurrenceKey, mono: float) -> list[int]:
        """Resume every app paused for `key`; returns the pids continued."""
        trees = self._paused.pop(key, {})
        pids = [pid for tree in trees.values() for pid in tree]
        if pids:
            controller = self._controller.get(mono)
            try:
                if controller is None:
                    raise BackendError("no app controller")
                self._use(mono, controller.resume, pids)
            except BackendError:
                self._leftover += pids  # resumed as soon as a controller is back
            self._write()
        return pids

    def release_all(self, mono: float) -> None:
        """Resume everything paused (daemon shutdown)."""
        for key in list(self._paused):
            self.release(key, mono)
        if not self._leftover:
            return
        controller = self._controller.get(mono)
        if controller is not None:
            controller.resume(self._leftover)
            self._leftover = []
            self._write()

    @property
    def paused_pids(self) -> list[int]:
        return [pid for trees in self._paused.values() for tree in trees.values() for pid in tree]

    def _need(self, mono: float) -> AppController:
        controller = self.available(mono)
        if controller is None:
            raise BackendError(
                "no way to close or pause apps here",
                hint="closing and pausing apps needs an X11 session; see `presence doctor`",
            )
        return controller

    def _windows(self, controller: AppController, mono: float) -> list[AppWindow]:
        return self._use(mono, controller.windows)

    def _use(self, mono: float, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)` on the controller. Any failure (a bug too) is counted by the capability,
        which drops the controller and backs off, and raised as a BackendError; a fatal error
        is raised as it is."""
        try:
            value = call(*args)
        except Exception as exc:
            self._controller.failed(exc, mono)  # raises a fatal error again
            if isinstance(exc, BackendError):
                raise
            raise BackendError(f"the app controller failed: {describe(exc)}") from exc
        self._controller.worked()
        return value

    def _read_leftover(self) -> list[int]:
        if self._paused_file is None:
            return []
        try:
            data = json.loads(self._paused_file.read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("cannot read %s: %s", self._paused_file, exc)
            return []
        return [int(p) for p in data.get("pids", []) if isinstance(p, int)]

    def _write(self) -> None:
        if self._paused_file is None:
            return
        pids = self.paused_pids + self._leftover
        try:
            if not pids:
                self._paused_file.unlink(missing_ok=True)
                return
            tmp = self._paused_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"pids": pids}))
            os.replace(tmp, self._paused_file)  # atomic: a crash never leaves half a list
        except OSError as exc:
            log.warning("cannot record paused processes in %s: %s", self._paused_file, exc)
