"""A real headless KWin (Wayland) session for integration tests, run as the desktop test user.

A pytest plugin (registered in tests/conftest.py). Fixture `kwin_session`: a private session bus
(a `dbus-daemon` of the test user, with the harness's private configuration: nothing is ever
bus-activated or autolaunched) and `kwin_wayland --virtual` on it, with Xwayland. `spawn()`
starts clients (weston-terminal, gtk3-demo); `activate()`, `windows()` and `script()` act
through one-shot KWin scripts loaded over D-Bus, as a user's shortcut would; `dbus()` calls
anything on the session's bus as the test user (the bus admits only its own user).

Traps (see the project's WAYLAND.md): /usr/bin/kwin_wayland carries the file capability
`cap_sys_resource=ep`, and exec fails ("Operation not permitted", even as root) where the
bounding set lacks it, as on these VMs and in Docker: the harness runs a copy without xattrs
whose name still ends in `kwin_wayland` (KWin's Qt platform plugin checks the name).
`KWIN_WAYLAND_NO_PERMISSION_CHECKS=1` exposes the fake-input protocol: tests only.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.components import require
from tests.integration.desktop_user import DesktopUser
from tests.integration.sessionbus import _CONFIG
from tests.integration.user_session import abandon, discard, stop_processes, user_bus

KWIN_BINARY = "/usr/bin/kwin_wayland"
START_TIMEOUT = 30.0  # seconds: KWin starts in ~0.2 s, Xwayland and a loaded machine add more
WIDTH, HEIGHT = 1280, 800
_SCRIPT_IDS = itertools.count(1)


@dataclass(frozen=True, slots=True)
class KWinWindow:
    """One window as a listing script saw it."""

    resource_class: str
    caption: str
    pid: int
    internal_id: str
    active: bool


@dataclass
class KWinSession:
    """A running headless KWin. `env` is what a client (or the daemon) of this session gets."""

    user: DesktopUser
    runtime: Path
    bus_address: str
    socket: str
    env: dict[str, str]
    log_path: Path
    work: Path
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)
    started_at: float = 0.0  # when the last script ran (time.time())

    # -- running things ----------------------------------------------------------------------

    def client_env(self, **extra: str) -> dict[str, str]:
        env = dict(self.env)
        env.update(extra)
        return env

    def spawn(self, argv: Sequence[str], **extra_env: str) -> subprocess.Popen[Any]:
        """Start a Wayland client as the test user; stopped at teardown."""
        out = (self.work / f"client-{len(self.processes)}.log").open("wb")
        process = self.user.popen(
            argv,
            self.client_env(GDK_BACKEND="wayland", **extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        out.close()
        self.processes.append(process)
        return process

    def dbus(
        self, dest: str, path: str, method: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """`dbus-send --print-reply` on the session bus as the test user."""
        result = self.user.run(
            [
                "dbus-send",
                f"--bus={self.bus_address}",
                "--print-reply",
                "--reply-timeout=10000",
                f"--dest={dest}",
                path,
                method,
                *args,
            ],
            self.env,
        )
        if check and result.returncode != 0:
            pytest.fail(f"dbus-send {method} failed: {result.stderr.strip()}\n{self.log()[-2000:]}")
        return result

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    # -- scripts -----------------------------------------------------------------------------

    def script(self, source: str, *, wait_for: str | None = None, timeout: float = 10.0) -> str:
        """Run `source` once as a KWin script; with `wait_for`, return the first log line (its
        `print()` output, "js: ...") containing that marker. The script is unloaded after."""
        name = f"presence-test-{os.getpid()}-{next(_SCRIPT_IDS)}"
        path = self.work / f"{name}.js"
        path.write_text(source)
        path.chmod(0o644)
        offset = len(self.log())
        loaded = self.dbus(
            "org.kde.KWin",
            "/Scripting",
            "org.kde.kwin.Scripting.loadScript",
            f"string:{path}",
            f"string:{name}",
        )
        if "int32 -1" in loaded.stdout:
            pytest.fail(f"KWin refused the script {path}: {self.log()[-2000:]}")
        before = time.time()
        self.dbus("org.kde.KWin", "/Scripting", "org.kde.kwin.Scripting.start")
        # KWin runs a new script inside start(): its effects happened within this call.
        self.started_at = (before + time.time()) / 2
        line = ""
        if wait_for is not None:
            deadline = time.monotonic() + timeout
            while not line:
                found = [ln for ln in self.log()[offset:].splitlines() if wait_for in ln]
                if found:
                    line = found[0]
                elif time.monotonic() > deadline:
                    pytest.fail(f"script {name} printed no {wait_for!r}: {self.log()[-2000:]}")
                else:
                    time.sleep(0.02)
        self.dbus(
            "org.kde.KWin", "/Scripting", "org.kde.kwin.Scripting.unloadScript", f"string:{name}"
        )
        return line

    def windows(self) -> list[KWinWindow]:
        """The normal windows KWin manages now."""
        marker = f"windows-{next(_SCRIPT_IDS)}"
        line = self.script(
            _PRELUDE + "var out = [];\n"
            "for (var i = 0; i < all.length; i++) {\n"
            "  var w = all[i]; if (!w.normalWindow) continue;\n"
            "  out.push([String(w.resourceClass), String(w.caption), Number(w.pid),\n"
            "            String(w.internalId), w === active]); }\n"
            f"print({json.dumps(marker)} + ' ' + JSON.stringify(out));\n",
            wait_for=marker,
        )
        rows = json.loads(line.split(marker, 1)[1])
        return [KWinWindow(r[0], r[1], int(r[2]), r[3], bool(r[4])) for r in rows]

    def wait_window(self, resource_class: str, timeout: float = START_TIMEOUT) -> KWinWindow:
        """Wait until a window of `resource_class` is managed; return the newest one."""
        deadline = time.monotonic() + timeout
        while True:
            found = [w for w in self.windows() if w.resource_class == resource_class]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                pytest.fail(f"no {resource_class} window within {timeout:g} s: {self.windows()}")
            time.sleep(0.1)

    def activate(self, window: KWinWindow) -> float:
        """Give `window` the focus; returns the time.time() at which KWin switched (the middle
        of the call that ran the script)."""
        marker = f"activated-{next(_SCRIPT_IDS)}"
        line = self.script(
            _PRELUDE + f"var target = {json.dumps(window.internal_id)}; var ok = false;\n"
            "for (var i = 0; i < all.length; i++) {\n"
            "  if (String(all[i].internalId) === target) {\n"
            "    if (workspace.activeWindow !== undefined) workspace.activeWindow = all[i];\n"
            "    else workspace.activeClient = all[i];\n"
            "    ok = true; } }\n"
            f"print({json.dumps(marker)} + ' ' + ok);\n",
            wait_for=marker,
        )
        if not line.endswith("true"):
            pytest.fail(f"window {window} is gone: {self.windows()}")
        return self.started_at

    def script_loaded(self, name: str) -> bool:
        reply = self.dbus(
            "org.kde.KWin", "/Scripting", "org.kde.kwin.Scripting.isScriptLoaded", f"string:{name}"
        )
        return "boolean true" in reply.stdout

    # -- the screen saver --------------------------------------------------------------------

    def screensaver(self, method: str) -> str:
        return self.dbus(
            "org.freedesktop.ScreenSaver",
            "/org/freedesktop/ScreenSaver",
            f"org.freedesktop.ScreenSaver.{method}",
        ).stdout

    def locked(self) -> bool:
        return "boolean true" in self.screensaver("GetActive")

    def stop(self) -> None:
        stop_processes(self.processes)


# KWin 6 renamed clients to windows: `windowList()`/`activeWindow`; KWin 5 has
# `clientList()`/`activeClient`.
_PRELUDE = (
    "var all = workspace.windowList ? workspace.windowList() : workspace.clientList();\n"
    "var active = workspace.activeWindow !== undefined ? workspace.activeWindow"
    " : workspace.activeClient;\n"
)


def _kwin_copy(directory: Path) -> Path:
    """A copy of kwin_wayland without its file capability (see the module docstring)."""
    copy = directory / "kwin_wayland"
    shutil.copyfile(KWIN_BINARY, copy)  # copyfile copies data only: no xattrs, no capability
    copy.chmod(0o755)
    return copy


def _private_bus(
    user: DesktopUser, runtime: Path, work: Path
) -> tuple[subprocess.Popen[bytes], str]:
    text = _CONFIG.format(directory=runtime, servicedir="")
    return user_bus(user, runtime, work / "bus.conf", text, "dbus-daemon", START_TIMEOUT)


def start_kwin(user: DesktopUser, socket: str = "presence-kwin") -> KWinSession:
    """Start a private session bus and a headless KWin on it as `user`.

    Fails the test when KWin does not offer /Scripting on the bus within START_TIMEOUT.
    """
    require("kwin_wayland", "dbus-daemon", "dbus-send", "Xwayland")
    # The copy and the scripts live in a directory the test user can read but not change.
    work = Path(tempfile.mkdtemp(prefix="presence-kwin-", dir="/tmp"))
    work.chmod(0o755)
    runtime = user.private_dir("presence-kwin-run-")
    processes: list[subprocess.Popen[Any]] = []
    try:
        binary = _kwin_copy(work)
        bus, address = _private_bus(user, runtime, work)
        processes.append(bus)
        env = user.base_env(runtime)
        env.update(
            DBUS_SESSION_BUS_ADDRESS=address,
            WAYLAND_DISPLAY=socket,
            XDG_SESSION_TYPE="wayland",
            XDG_CURRENT_DESKTOP="KDE",
            QT_QPA_PLATFORM="wayland",
        )
        kwin_env = dict(env, KWIN_COMPOSE="Q", KWIN_WAYLAND_NO_PERMISSION_CHECKS="1")
        kwin_env.pop("WAYLAND_DISPLAY")
        log_path = work / "kwin.log"
        with log_path.open("wb") as log:
            kwin = user.popen(
                [
                    str(binary),
                    "--virtual",
                    "--width",
                    str(WIDTH),
                    "--height",
                    str(HEIGHT),
                    "--xwayland",
                    "--socket",
                    socket,
                    "--no-global-shortcuts",
                    "--no-kactivities",
                ],
                kwin_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        processes.append(kwin)
        session = KWinSession(user, runtime, address, socket, env, log_path, work, processes)
        deadline = time.monotonic() + START_TIMEOUT
        while session.dbus(
            "org.kde.KWin",
            "/Scripting",
            "org.freedesktop.DBus.Introspectable.Introspect",
            check=False,
        ).returncode:
            if kwin.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"KWin did not start ({kwin.poll()}): {session.log()[-3000:]}")
            time.sleep(0.05)
        return session
    except BaseException:
        abandon(processes, runtime, work)
        raise


@pytest.fixture
def kwin_session(wayland_user: DesktopUser) -> Iterator[KWinSession]:
    """A fresh headless KWin with its own session bus, stopped (clients first) at teardown."""
    session = start_kwin(wayland_user)
    try:
        yield session
    finally:
        discard(session)
