"""A real headless GNOME Shell (Wayland) session for integration tests, run as the desktop
test user, with presence's extension installed by `presence setup gnome`.

A pytest plugin (registered in tests/conftest.py). Fixture `gnome_session`:

- a private session bus and a private stand-in system bus (`dbus-daemon`s of the test user with
  the harness's configuration: nothing is bus-activated or autolaunched);
- a fake `org.gnome.DisplayManager` on the system bus: GNOME Shell offers its lock screen and
  `org.gnome.ScreenSaver` only when it believes a display manager runs;
- the extension installed and enabled (`presence setup gnome`, with the keyfile settings
  backend in the user's private config dir, read by the shell too) BEFORE the shell starts:
  GNOME finds extensions only at start;
- `gnome-shell --headless --wayland --virtual-monitor 1280x800`, the Overview left through the
  shell's public `OverviewActive` property (the shell starts in it, and while it is shown new
  windows get no focus), the welcome tour switched off in the settings.

Both buses admit any local user (`<allow user="*"/>`), so the test process itself (root under
CI) talks to them with jeepney: the extension's methods (`Activate` focuses a window as a click
would, `ListWindows`), and a Mutter RemoteDesktop session whose pointer motion resets the idle
time (a RemoteDesktop session lives as long as the connection that created it).

Traps (see the project's WAYLAND.md): where /run/systemd/seats exists the shell dies without a
system bus; the lock screen needs the display manager; the Overview at start.

    python -m tests.integration.wayland_gnome display-manager --address ADDR

serves the fake display manager (used by the fixture).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress, new_method_call  # type: ignore[import-untyped, unused-ignore]
from jeepney.bus_messages import (  # type: ignore[import-untyped, unused-ignore]
    DBusNameFlags,
    message_bus,
)
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped, unused-ignore]

from presence.platform.dbus import BusConnection, DBusCallError, RemoteObject, connect
from presence.platform.gnome_shell import EXTENSION
from tests.integration.components import missing_component, require
from tests.integration.desktop_user import REPO, DesktopUser
from tests.integration.fake_services import FakeObject, serve
from tests.integration.sessionbus import _CONFIG, _read_line, _stop
from tests.integration.user_session import abandon, discard, stop_processes, user_bus

START_TIMEOUT = 40.0  # the shell answers in ~1 s; a loaded 2-core machine needs margin
WIDTH, HEIGHT = 1280, 800
SHELL = RemoteObject("org.gnome.Shell", "/org/gnome/Shell", "org.gnome.Shell")
# The shell's own lock screen. org.gnome.ScreenSaver is a bus-activated gjs proxy in front of
# it; presence never activates services, so the harness leaves the proxy out, as a desktop
# where nothing started it would.
SCREENSAVER = RemoteObject(
    "org.gnome.Shell.ScreenShield", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"
)
IDLE_MONITOR = RemoteObject(
    "org.gnome.Mutter.IdleMonitor",
    "/org/gnome/Mutter/IdleMonitor/Core",
    "org.gnome.Mutter.IdleMonitor",
)
REMOTE_DESKTOP = RemoteObject(
    "org.gnome.Mutter.RemoteDesktop",
    "/org/gnome/Mutter/RemoteDesktop",
    "org.gnome.Mutter.RemoteDesktop",
)
SESSION_IFACE = "org.gnome.Mutter.RemoteDesktop.Session"
DISPLAY_MANAGER = "org.gnome.DisplayManager"


@dataclass(frozen=True, slots=True)
class GnomeWindow:
    """One window as the extension's ListWindows reports it."""

    id: int
    wm_class: str
    title: str
    app_id: str
    pid: int


@dataclass
class GnomeSession:
    """A running headless GNOME Shell. `env` is what a client (or the daemon) of it gets."""

    user: DesktopUser
    runtime: Path
    work: Path
    bus_address: str
    system_address: str
    env: dict[str, str]
    log_path: Path
    setup_output: str
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)
    bus: BusConnection | None = None
    _input_session: str | None = None

    # -- running things ----------------------------------------------------------------------

    def spawn(self, argv: Sequence[str], **extra_env: str) -> subprocess.Popen[Any]:
        """Start a Wayland client as the test user; stopped at teardown."""
        out = (self.work / f"client-{len(self.processes)}.log").open("wb")
        process = self.user.popen(
            argv,
            dict(self.env, GDK_BACKEND="wayland", **extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        out.close()
        self.processes.append(process)
        return process

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def call(self, obj: RemoteObject, method: str, signature: str = "", *args: Any) -> Any:
        assert self.bus is not None
        return self.bus.call(obj, method, signature, tuple(args), timeout=10.0)

    # -- windows -----------------------------------------------------------------------------

    def windows(self) -> list[GnomeWindow]:
        (rows,) = self.call(EXTENSION, "ListWindows")
        return [GnomeWindow(int(i), c, t, a, int(p)) for i, c, t, a, p in rows]

    def focus(self) -> tuple[str, str, int, str]:
        wm_class, title, pid, app_id = self.call(EXTENSION, "GetFocus")
        return str(wm_class), str(title), int(pid), str(app_id)

    def wait_window(self, wm_class: str, timeout: float = START_TIMEOUT) -> GnomeWindow:
        """Wait until a window of `wm_class` is managed; return the newest one."""
        deadline = time.monotonic() + timeout
        while True:
            found = [w for w in self.windows() if w.wm_class == wm_class]
            if found:
                return max(found, key=lambda w: w.id)
            if time.monotonic() > deadline:
                pytest.fail(f"no {wm_class} window within {timeout:g} s: {self.windows()}")
            time.sleep(0.1)

    def activate(self, window: GnomeWindow, timeout: float = 10.0) -> float:
        """Give `window` the focus (the extension's Activate, as a click would) and wait until
        the shell reports it focused; returns time.time() when the shell answered the last
        Activate (it moves the focus before it answers). Asks again after 0.5 s without the
        focus: a window mapped just before may still take the focus once."""
        deadline = time.monotonic() + timeout
        while True:
            (found,) = self.call(EXTENSION, "Activate", "t", window.id)
            answered = time.time()
            if not found:
                pytest.fail(f"window {window} is gone: {self.windows()}")
            retry = time.monotonic() + 0.5
            while time.monotonic() < retry:
                wm_class, _, pid, _ = self.focus()
                if (wm_class, pid) == (window.wm_class, window.pid):
                    return answered
                time.sleep(0.005)
            if time.monotonic() > deadline:
                pytest.fail(f"{window} did not get the focus: {self.focus()}")

    def leave_overview(self) -> None:
        """Hide the Overview through org.gnome.Shell's public OverviewActive property."""
        assert self.bus is not None
        msg = new_method_call(
            DBusAddress(
                SHELL.path, bus_name=SHELL.bus_name, interface="org.freedesktop.DBus.Properties"
            ),
            "Set",
            "ssv",
            (SHELL.interface, "OverviewActive", ("b", False)),
        )
        # The shell opens the Overview once its start-up animation ends: a request made during
        # the animation can be overtaken. Ask again until it stays closed for a moment.
        deadline = time.monotonic() + START_TIMEOUT
        closed_since: float | None = None
        while closed_since is None or time.monotonic() - closed_since < 0.5:
            try:
                active = self.bus.get_property(SHELL, "OverviewActive", signature="b")
            except DBusCallError:  # the shell owns its name before it exports /org/gnome/Shell
                active = None
            if active is None:
                closed_since = None
            elif active:
                closed_since = None
                self.bus._send(msg, "OverviewActive = false", 10.0)
            elif closed_since is None:
                closed_since = time.monotonic()
            if time.monotonic() > deadline:
                pytest.fail("the Overview did not close")
            time.sleep(0.1)

    # -- input and idle ----------------------------------------------------------------------

    def poke(self) -> float:
        """One relative pointer motion through a Mutter RemoteDesktop session (it resets the
        idle time as real input does); returns time.time() just after."""
        if self._input_session is None:
            (path,) = self.call(REMOTE_DESKTOP, "CreateSession")
            self._input_session = str(path)
            self.call(RemoteObject(REMOTE_DESKTOP.bus_name, path, SESSION_IFACE), "Start")
        session = RemoteObject(REMOTE_DESKTOP.bus_name, self._input_session, SESSION_IFACE)
        self.call(session, "NotifyPointerMotionRelative", "dd", 1.0, 1.0)
        return time.time()

    def idle_ms(self) -> int:
        (millis,) = self.call(IDLE_MONITOR, "GetIdletime")
        return int(millis)

    # -- the screen saver --------------------------------------------------------------------

    def lock(self) -> None:
        self.call(SCREENSAVER, "Lock")

    def locked(self) -> bool:
        (active,) = self.call(SCREENSAVER, "GetActive")
        return bool(active)

    def stop(self) -> None:
        if self.bus is not None:
            self.bus.close()
        stop_processes(self.processes)


def _bus_config(directory: Path, servicedir: Path | None) -> str:
    # Any local user may connect: the test process (root under CI) drives the session.
    activation = f"\n  <servicedir>{servicedir}</servicedir>" if servicedir else ""
    return _CONFIG.format(directory=directory, servicedir=activation).replace(
        '<policy context="default">', '<policy context="default">\n    <allow user="*"/>'
    )


def _private_bus(
    user: DesktopUser, runtime: Path, work: Path, name: str, servicedir: Path | None = None
) -> tuple[Any, str]:
    directory = runtime / name
    directory.mkdir(mode=0o755)
    user.chown(directory)
    text = _bus_config(directory, servicedir)
    return user_bus(
        user, runtime, work / f"{name}.conf", text, f"dbus-daemon ({name})", START_TIMEOUT
    )


def _display_manager(address: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.wayland_gnome",
            "display-manager",
            "--address",
            address,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        _read_line(process, START_TIMEOUT, "fake display manager")
    except (TimeoutError, RuntimeError):
        _stop(process)
        raise
    return process


def start_gnome(user: DesktopUser, socket: str = "presence-gnome") -> GnomeSession:
    """Buses, display manager, `presence setup gnome`, then the shell, as `user`.

    Fails the test when the shell or the extension does not answer within START_TIMEOUT.
    """
    require("gnome-shell", "dbus-daemon", "gsettings", "gjs")
    if not Path("/run/systemd/seats").exists():
        # Without it GNOME Shell 43 has no lock screen (loginManager.haveSystemd()).
        missing_component("/run/systemd/seats", "run the tests on a systemd machine")
    work = Path(tempfile.mkdtemp(prefix="presence-gnome-", dir="/tmp"))
    work.chmod(0o755)
    runtime = user.private_dir("presence-gnome-run-")
    processes: list[subprocess.Popen[Any]] = []
    try:
        session_bus, address = _private_bus(user, runtime, work, "session")
        processes.append(session_bus)
        system_bus, system_address = _private_bus(user, runtime, work, "system")
        processes.append(system_bus)
        processes.append(_display_manager(system_address))
        env = user.base_env(runtime)
        env.update(
            DBUS_SESSION_BUS_ADDRESS=address,
            DBUS_SYSTEM_BUS_ADDRESS=system_address,
            GSETTINGS_BACKEND="keyfile",  # the user's private config dir; read by the shell too
            WAYLAND_DISPLAY=socket,
            XDG_SESSION_TYPE="wayland",
            XDG_CURRENT_DESKTOP="GNOME",
            NO_AT_BRIDGE="1",
        )
        setup = user.run([sys.executable, "-m", "presence", "setup", "gnome"], env, cwd=str(REPO))
        if setup.returncode != 0:
            pytest.fail(f"presence setup gnome failed: {setup.stdout}{setup.stderr}")
        welcome = [
            "gsettings",
            "set",
            "org.gnome.shell",
            "welcome-dialog-last-shown-version",
            "999",
        ]
        user.run(welcome, env)  # the welcome tour would take the focus
        shell_env = dict(env)
        shell_env.pop("WAYLAND_DISPLAY")
        log_path = work / "gnome-shell.log"
        with log_path.open("wb") as log:
            shell = user.popen(
                [
                    "gnome-shell",
                    "--headless",
                    "--wayland",
                    "--virtual-monitor",
                    f"{WIDTH}x{HEIGHT}",
                    "--wayland-display",
                    socket,
                ],
                shell_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        processes.append(shell)
        session = GnomeSession(
            user, runtime, work, address, system_address, env, log_path, setup.stdout, processes
        )
        session.bus = connect(address, bus="test session bus")
        deadline = time.monotonic() + START_TIMEOUT
        while not session.bus.name_has_owner(EXTENSION.bus_name):
            if shell.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"GNOME Shell with presence's extension did not start ({shell.poll()}): "
                    f"{session.log()[-3000:]}"
                )
            time.sleep(0.05)
        session.leave_overview()
        while not session.bus.name_has_owner(SCREENSAVER.bus_name):
            if time.monotonic() > deadline:
                pytest.fail(f"GNOME Shell's lock screen did not appear: {session.log()[-3000:]}")
            time.sleep(0.05)
        return session
    except BaseException:
        abandon(processes, runtime, work)
        raise


@pytest.fixture
def gnome_session(wayland_user: DesktopUser) -> Iterator[GnomeSession]:
    """A fresh headless GNOME Shell with its own buses, stopped (clients first) at teardown."""
    session = start_gnome(wayland_user)
    try:
        yield session
    finally:
        discard(session)


# -- the fake display manager --------------------------------------------------------------


def serve_display_manager(address: str) -> int:
    """org.gnome.DisplayManager with the Manager's Version property and RegisterSession."""
    conn = open_dbus_connection(bus=address, auth_timeout=10.0)
    interface = "org.gnome.DisplayManager.Manager"
    manager = FakeObject(conn, "/org/gnome/DisplayManager/Manager", interface)
    manager.properties["Version"] = ("s", "43.0")
    manager.methods[(interface, "RegisterSession")] = lambda msg: (None, ())
    reply = conn.send_and_get_reply(
        message_bus.RequestName(DISPLAY_MANAGER, DBusNameFlags.do_not_queue), timeout=10.0
    )
    if reply.body != (1,):
        print(f"cannot own {DISPLAY_MANAGER}: {reply.body}", file=sys.stderr)
        return 1
    print(f"ready {conn.unique_name}", flush=True)
    serve(conn, {manager.path: manager})
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.integration.wayland_gnome")
    parser.add_argument("service", choices=["display-manager"])
    parser.add_argument("--address", required=True)
    args = parser.parse_args(argv)
    return serve_display_manager(args.address)


if __name__ == "__main__":
    sys.exit(main())
