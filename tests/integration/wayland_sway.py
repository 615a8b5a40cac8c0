"""A private headless sway for integration tests, run as the desktop test user, with real clients.

`sway_server(user)` starts one (a context manager, for benchmarks too); the `sway_session`
fixture hands each test its own (sway starts in about 0.1 s, so a fresh compositor per test
costs nothing and no window leaks from one test to the next). Everything runs as the
`wayland_user` (tests/integration/desktop_user.py): the compositor, `foot` windows, `wtype`,
`swaylock`, `swaymsg`, and the daemon under test (`UserDaemonProcess`).

Facts this relies on (../shared/WAYLAND.md): `WLR_BACKENDS=headless WLR_RENDERER=pixman
WLR_LIBINPUT_NO_DEVICES=1` runs sway without GPU or input devices; its Wayland socket is
`wayland-1`; `SWAYSOCK` is `$XDG_RUNTIME_DIR/sway-ipc.*.sock`; criteria are regular expressions
(anchor them); `wtype` resets idle, `swaymsg seat - cursor press` does not. Registered as a
pytest plugin in tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.integration.components import require
from tests.integration.daemon_process import DaemonProcess
from tests.integration.desktop_user import REPO, DesktopUser
from tests.integration.xserver import WAIT, wait_until

BINARIES = ("sway", "swaymsg", "foot", "wtype")

# No bar, no key bindings, no Xwayland: only swaymsg moves the focus, and nothing draws or
# runs that a test did not ask for. New windows take the focus (sway's default).
SWAY_CONFIG = """\
xwayland disable
output HEADLESS-1 resolution 1280x800
focus_follows_mouse no
default_border normal
"""


def _ensure_sway_packages() -> None:
    require(*BINARIES)


class SwayServer:
    """One headless sway run as `user`. `stop()` ends it and every client spawned through it."""

    def __init__(self, user: DesktopUser) -> None:
        self.user = user
        self.runtime_dir: Path | None = None
        self.proc: subprocess.Popen[Any] | None = None
        self.env: dict[str, str] = {}
        self._clients: list[subprocess.Popen[Any]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SwayServer:
        """Start sway and wait until its IPC socket answers. Skips (fails under CI) without it."""
        _ensure_sway_packages()
        runtime = self.user.private_dir("presence-sway-")
        self.runtime_dir = runtime
        config = runtime / "sway.conf"
        config.write_text(SWAY_CONFIG)
        self.user.chown(config)
        env = self.user.base_env(runtime)
        env.update(
            WLR_BACKENDS="headless",
            WLR_RENDERER="pixman",
            WLR_LIBINPUT_NO_DEVICES="1",
            XDG_SESSION_TYPE="wayland",
            XDG_CURRENT_DESKTOP="sway",
        )
        log = (runtime / "sway.log").open("wb")
        try:
            self.proc = self.user.popen(
                ["sway", "-c", str(config)],
                env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                cwd="/",
            )
        finally:
            log.close()
        try:
            sock = wait_until(self._ipc_socket, "sway's IPC socket")
            env.update(WAYLAND_DISPLAY="wayland-1", SWAYSOCK=str(sock))
            for var in ("WLR_BACKENDS", "WLR_RENDERER", "WLR_LIBINPUT_NO_DEVICES"):
                env.pop(var)  # the compositor's own settings, not the session's
            self.env = env
            wait_until(lambda: self._swaymsg("-t", "get_version").returncode == 0, "sway IPC")
        except BaseException:
            self.stop()
            raise
        return self

    def _ipc_socket(self) -> Path | None:
        assert self.runtime_dir is not None and self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"sway exited with status {self.proc.returncode}{self.log_tail()}")
        found = sorted(self.runtime_dir.glob("sway-ipc.*.sock"))
        if found and (self.runtime_dir / "wayland-1").exists():
            return found[0]
        return None

    def log_tail(self) -> str:
        path = self.runtime_dir / "sway.log" if self.runtime_dir else None
        text = path.read_text(errors="replace") if path and path.exists() else ""
        return f":\n{text[-2000:]}" if text else ""

    def stop(self) -> None:
        """End the clients (each in its own process group), then sway. Idempotent."""
        while self._clients:
            _stop_group(self._clients.pop())
        if self.proc is not None:
            _stop_group(self.proc)
            self.proc = None
        if self.runtime_dir is not None:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            self.runtime_dir = None

    def __enter__(self) -> SwayServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def private_dir(self, name: str) -> Path:
        """A new 0700 directory of the user inside this session's runtime dir, removed with
        it at stop (e.g. the root of a UserDaemonProcess)."""
        assert self.runtime_dir is not None, "sway was not started"
        path = self.runtime_dir / name
        path.mkdir(mode=0o700)
        self.user.chown(path)
        return path

    # -- clients and control -----------------------------------------------------------------

    def spawn(
        self, argv: Sequence[str], env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> subprocess.Popen[Any]:
        """Start `argv` as the user in this session (its own process group, killed at stop)."""
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        kwargs.setdefault("start_new_session", True)
        kwargs.setdefault("cwd", "/")
        proc = self.user.popen(argv, {**self.env, **(env or {})}, **kwargs)
        self._clients.append(proc)
        return proc

    def foot(self, app_id: str, title: str | None = None) -> subprocess.Popen[Any]:
        """A foot terminal with `app_id` (and `title`), mapped and focused; its process."""
        proc = self.spawn(
            ["foot", "--app-id", app_id, "--title", title or app_id, "sh", "-c", "sleep 600"]
        )
        wait_until(lambda: self.window(app_id), f"a foot window with app_id {app_id}")
        if proc.poll() is not None:
            pytest.fail(f"foot exited with status {proc.returncode}")
        return proc

    def _swaymsg(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.user.run(["swaymsg", *args], self.env, timeout=WAIT, cwd="/")

    def msg(self, *args: str) -> str:
        """Run `swaymsg ARGS` as the user; its stdout. Fails the test when swaymsg fails."""
        done = self._swaymsg(*args)
        if done.returncode != 0:
            pytest.fail(f"swaymsg {' '.join(args)} failed: {done.stdout}{done.stderr}")
        return done.stdout

    def tree(self) -> dict[str, Any]:
        tree: dict[str, Any] = json.loads(self.msg("-r", "-t", "get_tree"))
        return tree

    def windows(self) -> list[dict[str, Any]]:
        """Every view (node with a pid) in the tree."""
        found: list[dict[str, Any]] = []

        def walk(node: dict[str, Any]) -> None:
            if node.get("pid"):
                found.append(node)
            for child in node.get("nodes", []) + node.get("floating_nodes", []):
                walk(child)

        walk(self.tree())
        return found

    def window(self, app_id: str) -> dict[str, Any] | None:
        return next((w for w in self.windows() if w.get("app_id") == app_id), None)

    def focused(self) -> dict[str, Any] | None:
        """The focused view, or None (nothing focused, or swaylock holds the screen)."""
        return next((w for w in self.windows() if w.get("focused")), None)

    def focus(self, app_id: str, wait: bool = True) -> None:
        """Focus the window with `app_id` (anchored criteria); with `wait`, until sway says so."""
        self.msg(f'[app_id="^{app_id}$"] focus')
        if wait:
            wait_until(
                lambda: (self.focused() or {}).get("app_id") == app_id,
                f"{app_id} to be focused",
            )

    def type(self, text: str) -> None:
        """Type `text` with wtype (virtual-keyboard protocol): real input, resets idle.

        wtype uploads its own keymap first; foot drops a key that arrives right behind it
        (seen with foot 1.13), so wtype waits 50 ms (`-s 50`) before the first key.
        """
        done = self.user.run(["wtype", "-s", "50", text], self.env, timeout=WAIT, cwd="/")
        if done.returncode != 0:
            pytest.fail(f"wtype failed: {done.stderr}")

    def lock(self) -> subprocess.Popen[Any]:
        """Run swaylock (not daemonised, so stop() ends it) and wait until focus is gone."""
        require("swaylock")
        proc = self.spawn(["swaylock"])
        wait_until(lambda: self.focused() is None, "swaylock to take the focus")
        return proc


def _stop_group(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """SIGTERM `proc`'s process group (foot's shell and sleep too), then SIGKILL; reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(grace)
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # children left behind by a leader that exited


@contextlib.contextmanager
def sway_server(user: DesktopUser) -> Iterator[SwayServer]:
    """A started headless sway for `user`, stopped (with its clients) on exit."""
    server = SwayServer(user)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def sway_session(wayland_user: DesktopUser) -> Iterator[SwayServer]:
    """A fresh headless sway per test, as the test user; its clients are killed at the end."""
    with sway_server(wayland_user) as server:
        yield server


class UserDaemonProcess(DaemonProcess):
    """`presence run` as the desktop user inside a sway (or other Wayland) session.

    Unlike DaemonProcess, XDG_RUNTIME_DIR stays the session's (WAYLAND_DISPLAY is relative
    to it, and the daemon's lock file belongs there as on a real desktop); config and data
    live under `root`, a directory owned by the user.
    """

    def __init__(
        self, user: DesktopUser, root: Path, env: Mapping[str, str], config: str = ""
    ) -> None:
        super().__init__(root, env, config)
        self.user = user
        self.env["XDG_RUNTIME_DIR"] = env["XDG_RUNTIME_DIR"]
        for path in [root, *root.rglob("*")]:
            user.chown(path)

    def start(self, *args: str, wait_for: str = "recording device", timeout: float = 30) -> None:
        self._log_offset = len(self.log())
        log = self.log_path.open("ab")
        self.user.chown(self.log_path)
        try:
            self.proc = self.user.popen(
                [sys.executable, "-m", "presence", *args, "run"],
                self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=str(REPO),
            )
        finally:
            log.close()
        self.wait_for_log(wait_for, timeout)

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run `presence ARGS` (the CLI) as the user with the daemon's config and data."""
        return self.user.run(
            [sys.executable, "-m", "presence", *args], self.env, timeout=timeout, cwd=str(REPO)
        )
