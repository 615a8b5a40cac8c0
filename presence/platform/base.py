"""Capability protocols, the probe result, and the session a backend is probed against."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from presence.core.model import InputCounts, WindowInfo


@dataclass(frozen=True, slots=True)
class Probe:
    """Whether a backend can work here. A rejection carries the reason and a fix."""

    ok: bool
    reason: str = ""
    hint: str = ""
    # A rejection that only advises against automatic choice (an X11 backend in a Wayland
    # session sees Xwayland alone); forcing the backend by name overrides it.
    forceable: bool = False

    @classmethod
    def yes(cls, reason: str = "") -> Probe:
        return cls(True, reason)

    @classmethod
    def no(cls, reason: str, hint: str = "", *, forceable: bool = False) -> Probe:
        return cls(False, reason, hint, forceable)


@dataclass(frozen=True, slots=True)
class Session:
    """The desktop session's environment, read once; probes look at this, not at os.environ."""

    x11_display: str | None
    wayland_display: str | None
    session_type: str | None
    session_bus: str | None  # a D-Bus address; never autolaunched
    runtime_dir: str | None
    sway_socket: str | None = None  # SWAYSOCK, else I3SOCK: the i3/sway IPC socket
    hyprland_instance: str | None = None  # HYPRLAND_INSTANCE_SIGNATURE
    desktop: str | None = None  # XDG_CURRENT_DESKTOP, e.g. "sway", "KDE", "GNOME"

    @property
    def is_wayland(self) -> bool:
        """A Wayland session: XDG_SESSION_TYPE says so, or WAYLAND_DISPLAY is set and the
        session does not declare itself X11 (a nested Wayland compositor inside X11)."""
        if self.session_type == "wayland":
            return True
        return bool(self.wayland_display) and self.session_type != "x11"

    @property
    def compositor(self) -> str | None:
        """The compositor the session names: "sway" (or i3), "hyprland", "kwin", "gnome"."""
        if self.sway_socket:
            return "sway"
        if self.hyprland_instance:
            return "hyprland"
        desktops = {d.strip().lower() for d in (self.desktop or "").split(":")}
        if "kde" in desktops:
            return "kwin"
        if desktops & {"gnome", "gnome-classic", "ubuntu"}:
            return "gnome"
        named = sorted(desktops & {"sway", "hyprland"})
        return named[0] if named else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Session:
        env = os.environ if env is None else env
        runtime_dir = env.get("XDG_RUNTIME_DIR") or None
        bus = env.get("DBUS_SESSION_BUS_ADDRESS") or None
        if bus is None and runtime_dir and Path(runtime_dir, "bus").exists():
            # The systemd user bus (dbus-broker/dbus-daemon --user) lives here when the session
            # did not export DBUS_SESSION_BUS_ADDRESS; autolaunching a bus is never an option.
            bus = f"unix:path={runtime_dir}/bus"
        if bus is not None and bus.startswith("autolaunch:"):
            bus = None
        return cls(
            x11_display=env.get("DISPLAY") or None,
            wayland_display=env.get("WAYLAND_DISPLAY") or None,
            session_type=env.get("XDG_SESSION_TYPE") or None,
            session_bus=bus,
            runtime_dir=runtime_dir,
            sway_socket=env.get("SWAYSOCK") or env.get("I3SOCK") or _sway_socket(runtime_dir),
            hyprland_instance=env.get("HYPRLAND_INSTANCE_SIGNATURE") or None,
            desktop=env.get("XDG_CURRENT_DESKTOP") or None,
        )


def _sway_socket(runtime_dir: str | None) -> str | None:
    """The IPC socket of the one sway of this user running now, when SWAYSOCK is not set.

    A systemd user service often lacks SWAYSOCK (the session did not import it). sway names
    its socket `sway-ipc.UID.PID.sock` in the runtime dir (sway's ipc-server.c); it is used
    only when exactly one belongs to a live process, never guessed between two sessions.
    """
    if not runtime_dir:
        return None
    live = []
    for path in Path(runtime_dir).glob(f"sway-ipc.{os.getuid()}.*.sock"):
        pid = path.name.split(".")[2]
        if pid.isdigit() and Path("/proc", pid).exists():
            live.append(str(path))
    return live[0] if len(live) == 1 else None


class WindowSource(Protocol):
    """The focused window. `focused()` returns within 50 ms; sampler thread only.

    Returns None when no application window has focus (the desktop, the window manager's own
    windows, a window that vanished while it was read). Raises BackendError only when the
    connection itself is gone (the display server died).
    """

    name: str

    def focused(self) -> WindowInfo | None: ...

    def close(self) -> None: ...


class FocusEvents(Protocol):
    """A window source that also pushes changes (X11 PropertyNotify, sway/Hyprland IPC events,
    KWin script and GNOME extension callbacks), so boundaries land at the event, not the tick.

    `watch(wake)` starts listening, on the source's own thread; after each focus or title change
    it calls `wake()` (from that thread) once `focused()` would return the new window. The
    daemon then samples at once; the tick stays the safety net. `focused()` still runs on the
    sampler thread only, so a source guards the state it shares with its listener.
    """

    def watch(self, wake: Callable[[], None]) -> None: ...


class IdleSource(Protocol):
    """Seconds since the user's last input. Returns within 50 ms; sampler thread only.

    Raises BackendError when the source is gone.
    """

    name: str

    def idle_seconds(self) -> float: ...

    def close(self) -> None: ...


class InputCounter(Protocol):
    """Cumulative counts of key presses, clicks, scrolls and pointer moves since `start()`.

    Counts only: no key identity is kept, not even for the duration of a tick. The listeners
    run in their own threads; `counts()` may be called from the sampler thread at any time.
    `seconds_since_input()` is None until the first event.
    """

    name: str

    def start(self) -> None: ...

    def counts(self) -> InputCounts: ...

    def seconds_since_input(self) -> float | None: ...

    def close(self) -> None: ...


class LockState(Protocol):
    """Whether the session's screen is locked. Returns within 100 ms; sampler thread only.

    Returns None when the state cannot be told this time (a transient failure).
    """

    name: str

    def locked(self) -> bool | None: ...

    def close(self) -> None: ...


# -- enforcement (issue 3: rules) -------------------------------------------------------------


class Notifier(Protocol):
    """Desktop notifications.

    `notify()` shows one and returns its id (> 0); with `replaces_id` (an id it returned) the
    earlier notification is updated in place where the mechanism can, e.g. a countdown.
    `actions` are (key, label) buttons; a mechanism without buttons ignores them, and
    `actions_supported` says so. Returns within 2 s. Raises BackendError when the mechanism
    is gone. Called with the enforcer's lock held, from the sampler or the timer thread.

    `on_action(callback)` registers `callback(notification_id, action_key)`, called from the
    notifier's own listener thread when the user clicks a button.
    """

    name: str
    actions_supported: bool

    def notify(
        self,
        summary: str,
        body: str,
        *,
        replaces_id: int = 0,
        actions: Sequence[tuple[str, str]] = (),
    ) -> int: ...

    def on_action(self, callback: Callable[[int, str], None]) -> None: ...

    def close(self) -> None: ...


class ScreenLocker(Protocol):
    """Locks the session's screen. `lock()` returns whether the lock was confirmed (the
    desktop reports it locked), within a few seconds; False (after logging why) when no way
    worked or none could be confirmed. Enforcer's lock held; any thread."""

    name: str

    def lock(self) -> bool: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class AppWindow:
    """One application window as an AppController lists it. `app` is the WM_CLASS class
    (what the sampler records), `instance` the WM_CLASS instance; `pid` None when unknown."""

    window: int
    app: str
    instance: str | None
    pid: int | None
    title: str | None = None


class AppController(Protocol):
    """Closes, terminates, pauses and resumes applications.

    `windows()` lists application windows (never the caller's own process or its ancestors).
    `close_window()` asks politely and returns at once. `terminate(pid)` ends the process
    tree (SIGTERM, then SIGKILL for what outlives a short wait). `pause(pid)` stops the tree
    (SIGSTOP) and returns the pids stopped; `resume(pids)` continues them (SIGCONT).
    `alive(pid)`: whether the process still runs. Process errors (gone, not ours) are
    swallowed; BackendError when the display connection is gone. Enforcer's lock held.
    """

    name: str

    def windows(self) -> list[AppWindow]: ...

    def close_window(self, window: AppWindow) -> None: ...

    def terminate(self, pid: int) -> None: ...

    def pause(self, pid: int) -> list[int]: ...

    def resume(self, pids: Sequence[int]) -> None: ...

    def alive(self, pid: int) -> bool: ...

    def close(self) -> None: ...
