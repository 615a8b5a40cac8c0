"""Locking the screen: every way a Linux desktop offers, in order, each confirmed.

The ways, in order (issue 3):
1. logind `Session.Lock()` on `session/auto` (system bus): logind signals the session's locker;
2. `org.freedesktop.ScreenSaver.Lock()` (KDE, and others implementing the freedesktop draft);
3. `org.gnome.ScreenSaver.Lock()` (GNOME Shell and the gnome-screensaver lineage);
4. `xdg-screensaver lock` (xdg-utils: knows xscreensaver, xautolock, light-locker, ...);
5. the command in `rules.lock_command`, if any.

A way "works" only once the desktop confirms the lock: logind's `LockedHint` turns true, or a
screensaver's `GetActive()` answers true. A way that was accepted but not confirmed within
CONFIRM_SECONDS (logind's Lock with no locker listening, a stub service) passes to the next.
When no confirmation source exists at all, the first accepted way is taken as done and the
failure to confirm is logged.

No bus is ever autolaunched: D-Bus calls use explicit addresses, and the subprocesses get
DBUS_SESSION_BUS_ADDRESS set (to a dead address when the session has no bus), because libdbus
inside them would otherwise autolaunch one.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from typing import Any

from presence.core.errors import BackendError
from presence.platform.base import Probe, Session
from presence.platform.dbus import (
    BusConnection,
    RemoteObject,
    connect,
    probe_bus,
    system_bus_address,
)
from presence.platform.logind_lock import SESSION_AUTO

log = logging.getLogger(__name__)

CONFIRM_SECONDS = 2.0  # how long a way has to show the screen locked
COMMAND_TIMEOUT = 5.0  # seconds a lock command may take before it is abandoned
CALL_TIMEOUT = 1.0
_POLL = 0.05
NO_BUS = "unix:path=/nonexistent/presence-no-session-bus"

FREEDESKTOP = RemoteObject(
    "org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver"
)
GNOME = RemoteObject("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver")
# GNOME Shell's own name for the same interface (org.gnome.ScreenSaver is a bus-activated
# proxy in front of it since GNOME 42, and presence never activates services).
GNOME_SHIELD = RemoteObject(
    "org.gnome.Shell.ScreenShield", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"
)


class SessionScreenLocker:
    """Locks the screen through the first way that works and is confirmed.

    Connections to the session and system buses are opened in the constructor when their
    sockets exist (a missing bus only removes the ways that need it). Thread contract: one
    thread at a time (the enforcer's lock); `lock()` blocks up to a few seconds per way
    that is accepted but not confirmed.
    """

    name = "session"

    @classmethod
    def probe(cls, session: Session, env: Mapping[str, str] | None = None) -> Probe:
        """Whether any way may work: a session bus, a system bus, or xdg-screensaver."""
        if session.session_bus or probe_bus(system_bus_address(env), bus="", hint="").ok:
            return Probe.yes()
        if shutil.which("xdg-screensaver"):
            return Probe.yes("xdg-screensaver")
        return Probe.no(
            "no session bus, no system bus and no xdg-screensaver",
            hint="install xdg-utils, or set rules.lock_command to a command that locks the screen",
        )

    def __init__(
        self,
        session: Session,
        *,
        env: Mapping[str, str] | None = None,
        confirm_seconds: float = CONFIRM_SECONDS,
    ) -> None:
        self._session = session
        self._confirm_seconds = confirm_seconds
        self._command: list[str] = []
        self.last_method: str | None = None
        self._session_bus = _maybe_connect(session.session_bus, "session D-Bus")
        system = system_bus_address(env)
        self._system_bus = (
            _maybe_connect(system, "system D-Bus")
            if probe_bus(system, bus="system D-Bus", hint="").ok
            else None
        )

    def use_command(self, command: str) -> None:
        """Try `command` (split like a shell would, not run by one) after the built-in ways.
        Raises BackendError when it cannot be split."""
        try:
            self._command = shlex.split(command)
        except ValueError as exc:
            raise BackendError(
                f"rules.lock_command {command!r} cannot be split: {exc}",
                hint="quote it as you would in a shell",
            ) from exc

    def lock(self) -> bool:
        """Lock the screen; True once confirmed. Never raises: every failure is logged."""
        tried: list[str] = []
        accepted: str | None = None
        confirmers = self._confirmers()
        for method, attempt in self._ways():
            try:
                attempt()
            except (BackendError, OSError, subprocess.SubprocessError) as exc:
                tried.append(f"{method}: {getattr(exc, 'message', None) or exc}")
                continue
            accepted = accepted or method
            if not confirmers:
                break
            if self._wait_locked(confirmers):
                self.last_method = method
                log.info("screen locked via %s", method)
                return True
            tried.append(f"{method}: accepted, but the screen did not report locked")
        self.last_method = accepted
        if accepted is not None and not confirmers:
            log.warning(
                "asked %s to lock the screen but cannot confirm it: neither logind's LockedHint "
                "nor a screensaver's GetActive is available",
                accepted,
            )
        else:
            log.warning("could not lock the screen: %s", "; ".join(tried) or "no way to try")
        return False

    def _ways(self) -> list[tuple[str, Callable[[], None]]]:
        ways: list[tuple[str, Callable[[], None]]] = []
        system, bus = self._system_bus, self._session_bus
        if system is not None:
            ways.append(("logind", lambda: _call(system, SESSION_AUTO, "Lock")))
        if bus is not None:
            ways.append(("org.freedesktop.ScreenSaver", lambda: _call(bus, FREEDESKTOP, "Lock")))
            ways.append(("org.gnome.ScreenSaver", lambda: _call(bus, GNOME, "Lock")))
            ways.append(("org.gnome.Shell.ScreenShield", lambda: _call(bus, GNOME_SHIELD, "Lock")))
        if shutil.which("xdg-screensaver"):
            ways.append(("xdg-screensaver", lambda: self._run(["xdg-screensaver", "lock"])))
        if self._command:
            command = self._command
            ways.append(("rules.lock_command", lambda: self._run(command)))
        return ways

    def _confirmers(self) -> list[Callable[[], bool]]:
        """Sources that can tell the screen is locked, checked for existence now."""
        found: list[Callable[[], bool]] = []
        system, bus = self._system_bus, self._session_bus
        if system is not None and _answers(
            lambda: system.get_property(SESSION_AUTO, "LockedHint", signature="b")
        ):
            found.append(
                lambda: bool(system.get_property(SESSION_AUTO, "LockedHint", signature="b"))
            )
        if bus is not None:
            for service in (FREEDESKTOP, GNOME, GNOME_SHIELD):
                active = _get_active(bus, service)
                if _answers(active):
                    found.append(active)
        return found

    def _wait_locked(self, confirmers: list[Callable[[], bool]]) -> bool:
        deadline = time.monotonic() + self._confirm_seconds
        while True:
            for confirm in confirmers:
                try:
                    if confirm():
                        return True
                except BackendError:
                    continue
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL)

    def _run(self, argv: list[str]) -> None:
        env = dict(os.environ)
        # Without an address libdbus in the child would autolaunch a bus (dbus-launch).
        env["DBUS_SESSION_BUS_ADDRESS"] = self._session.session_bus or NO_BUS
        done = subprocess.run(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            detail = done.stderr.decode(errors="replace").strip()[:200]
            raise BackendError(f"{argv[0]} exited with {done.returncode}: {detail}")

    def close(self) -> None:
        """Close the bus connections. Idempotent."""
        for bus in (self._session_bus, self._system_bus):
            if bus is not None:
                bus.close()


def _maybe_connect(address: str | None, what: str) -> BusConnection | None:
    if not address:
        return None
    try:
        return connect(address, bus=what)
    except BackendError as exc:
        log.debug("locking without the %s: %s", what, exc.message)
        return None


def _call(bus: BusConnection, obj: RemoteObject, method: str) -> None:
    bus.call(obj, method, timeout=CALL_TIMEOUT)


def _get_active(bus: BusConnection, service: RemoteObject) -> Callable[[], bool]:
    def active() -> bool:
        return bus.call(service, "GetActive", timeout=CALL_TIMEOUT) == (True,)

    return active


def _answers(read: Callable[[], Any]) -> bool:
    try:
        read()
    except BackendError:
        return False
    return True
