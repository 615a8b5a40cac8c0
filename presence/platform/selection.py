"""Choosing a backend per capability: an ordered candidate list, each probed without side effects.

The first candidate whose probe passes and whose constructor succeeds wins. An environment
variable (`PRESENCE_BACKEND_<CAPABILITY>`, e.g. `PRESENCE_BACKEND_WINDOW=x11`) or the settings'
`backends.<capability>` forces one by name; `none` turns the capability off. Every rejected
candidate keeps its reason and fix, which `presence doctor` prints.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from presence.core.errors import BackendError
from presence.platform.base import Probe, Session

log = logging.getLogger(__name__)

# capability -> ordered candidates as (name, "module:Class"); imported only when probed.
CANDIDATES: dict[str, list[tuple[str, str]]] = {
    "window": [
        ("sway", "presence.platform.sway_window:SwayWindowSource"),
        ("hyprland", "presence.platform.hyprland_window:HyprlandWindowSource"),
        ("x11", "presence.platform.x11_window:X11WindowSource"),
        ("gnome", "presence.platform.gnome_window:GnomeExtensionWindowSource"),
        ("kwin", "presence.platform.kwin_window:KWinScriptWindowSource"),
        ("wlr", "presence.platform.wlr_toplevel:WlrForeignToplevelWindowSource"),
    ],
    "idle": [
        ("ext-idle-notify", "presence.platform.wayland_idle:ExtIdleNotifyIdle"),
        ("kde-idle", "presence.platform.wayland_idle:KdeIdle"),
        ("xscreensaver", "presence.platform.x11_idle:XScreenSaverIdle"),
        ("mutter", "presence.platform.mutter_idle:MutterIdleMonitorIdle"),
    ],
    "input": [("pynput", "presence.platform.pynput_input:PynputInputCounter")],
    "lock": [
        # First: on sway/Hyprland logind's LockedHint stays false (swaylock, hyprlock do not
        # set it); its probe passes only in Wayland sessions other than GNOME and KDE.
        ("locker-process", "presence.platform.locker_process:ProcessLockState"),
        ("logind", "presence.platform.logind_lock:LogindLockState"),
        ("screensaver", "presence.platform.screensaver_lock:ScreenSaverLockState"),
    ],
    "notify": [
        ("dbus", "presence.platform.dbus_notify:DBusNotifier"),
        ("plyer", "presence.platform.plyer_notify:PlyerNotifier"),
        ("log", "presence.platform.log_notify:LogNotifier"),
    ],
    "locker": [("session", "presence.platform.screen_lock:SessionScreenLocker")],
    "apps": [
        ("sway", "presence.platform.sway_apps:SwayAppController"),
        ("hyprland", "presence.platform.hyprland_apps:HyprlandAppController"),
        ("x11", "presence.platform.app_control:X11AppController"),
        ("gnome", "presence.platform.gnome_apps:GnomeExtensionAppController"),
        ("kwin", "presence.platform.kwin_apps:KWinAppController"),
        ("wlr", "presence.platform.wlr_toplevel:WlrToplevelAppController"),
    ],
}

# Modules that load pywayland (and cffi, about 3 MB the daemon would keep all day). Without a
# Wayland display their probes can only say no, so that answer is given without importing them.
NEEDS_WAYLAND_DISPLAY = frozenset(
    {"presence.platform.wayland_idle", "presence.platform.wlr_toplevel"}
)
NO_WAYLAND_DISPLAY = Probe.no(
    "not a Wayland session (WAYLAND_DISPLAY is not set)",
    "run presence inside a Wayland session (WAYLAND_DISPLAY set)",
)

CAPABILITY_PURPOSE = {
    "window": "focused application and window title",
    "idle": "seconds since the last input",
    "input": "counts of key presses, clicks, scrolls and pointer moves",
    "lock": "whether the screen is locked",
    "notify": "notifications (rule warnings and nudges)",
    "locker": "locking the screen (the lock action)",
    "apps": "closing and pausing apps (the close-apps and pause-apps actions)",
}

AUTO = "auto"
OFF = "none"


@dataclass(frozen=True, slots=True)
class Rejection:
    name: str
    reason: str
    hint: str


@dataclass(slots=True)
class Choice:
    """The outcome of choosing a backend for one capability."""

    capability: str
    backend: Any | None = None
    name: str | None = None
    forced_by: str | None = None
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return self.backend is not None


def _load(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def forced_name(
    capability: str, configured: str = AUTO, env: Mapping[str, str] | None = None
) -> tuple[str, str | None]:
    """The candidate name asked for (or `auto`) and what asked for it."""
    env = os.environ if env is None else env
    var = f"PRESENCE_BACKEND_{capability.upper()}"
    if env.get(var):
        return env[var].strip().lower(), var
    if configured and configured != AUTO:
        return configured, f"backends.{capability}"
    return AUTO, None


def choose(
    capability: str,
    session: Session,
    configured: str = AUTO,
    env: Mapping[str, str] | None = None,
) -> Choice:
    """Probe the candidates for `capability` and build the first that works.

    Raises BackendError when a forced name is not a candidate of this capability.
    """
    candidates = CANDIDATES[capability]
    wanted, forced_by = forced_name(capability, configured, env)
    choice = Choice(capability, forced_by=forced_by)
    if wanted == OFF:
        choice.rejected.append(Rejection(OFF, f"turned off by {forced_by}", ""))
        return choice
    names = [name for name, _ in candidates]
    if wanted != AUTO and wanted not in names:
        raise BackendError(
            f"{forced_by} asks for backend {wanted!r}, which is not a {capability} backend",
            hint=f"use one of: {', '.join([*names, AUTO, OFF])}",
        )
    for name, path in candidates:
        if wanted not in (AUTO, name):
            continue
        if not session.wayland_display and path.partition(":")[0] in NEEDS_WAYLAND_DISPLAY:
            choice.rejected.append(
                Rejection(name, NO_WAYLAND_DISPLAY.reason, NO_WAYLAND_DISPLAY.hint)
            )
            continue
        try:
            cls = _load(path)
            probe: Probe = cls.probe(session)
        except ImportError as exc:
            choice.rejected.append(
                Rejection(name, f"cannot import: {exc}", "reinstall presence with its dependencies")
            )
            continue
        if not probe.ok and probe.forceable and wanted == name:
            # The user asked for this one by name: an advisory rejection (an X11 backend in a
            # Wayland session) is theirs to override; say so once.
            log.warning("%s backend %s forced by %s: %s", capability, name, forced_by, probe.reason)
        elif not probe.ok:
            choice.rejected.append(Rejection(name, probe.reason, probe.hint))
            continue
        try:
            choice.backend = cls(session)
        except BackendError as exc:
            choice.rejected.append(Rejection(name, exc.message, exc.hint or ""))
            continue
        choice.name = name
        log.debug("%s backend: %s", capability, name)
        return choice
    return choice
