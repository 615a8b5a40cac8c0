"""A private X session for integration tests: Xvfb, openbox, real clients, xdotool to drive them.

`x_server()` starts one (a context manager); the `x_display` fixture shares one per test module
and `x_session` hands each test a view of it whose clients are killed at the test's end.
Registered as a pytest plugin in tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import Xlib.display
import Xlib.error
from Xlib import X, Xatom

from tests.integration.components import require

T = TypeVar("T")

WAIT = 30.0
"""Seconds any wait may take. Generous: the machine is small and shared with other tests."""

BINARIES = ("Xvfb", "openbox", "xdotool", "xterm", "wish")

# A fixed window manager configuration, independent of the user's: one desktop (scrolling on
# the root would otherwise switch desktops and hide every window) and no mouse or key bindings,
# so only xdotool moves the focus.
OPENBOX_RC = """<?xml version="1.0" encoding="UTF-8"?>
<openbox_config xmlns="http://openbox.org/3.4/rc">
  <focus><focusNew>yes</focusNew><followMouse>no</followMouse></focus>
  <placement><policy>Smart</policy></placement>
  <desktops><number>1</number></desktops>
  <keyboard></keyboard>
  <mouse></mouse>
</openbox_config>
"""


def wait_until(predicate: Callable[[], T | None], what: str, timeout: float = WAIT) -> T:
    """Poll `predicate` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def stop_process(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """Terminate `proc`, then kill it if it outlives `grace` seconds; reap it either way."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


class XServer:
    """One Xvfb, with openbox on it unless `window_manager` is False. `stop()` ends both.

    `disabled_extensions` are turned off in Xvfb (`-extension NAME`), to test fallbacks.
    """

    def __init__(
        self, window_manager: bool = True, disabled_extensions: tuple[str, ...] = ()
    ) -> None:
        self.window_manager = window_manager
        self.disabled_extensions = disabled_extensions
        self._tmp_dir: Path | None = None
        self._procs: list[subprocess.Popen[Any]] = []
        self.xvfb: subprocess.Popen[Any] | None = None
        self.openbox: subprocess.Popen[Any] | None = None
        self.display = ""
        self.env: dict[str, str] = {}
        self._conn: Any = None
        self.wm_check: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> XServer:
        """Start Xvfb (and openbox); skip the test, or fail it under CI, without the binaries."""
        require(*BINARIES)
        self._tmp_dir = Path(tempfile.mkdtemp(prefix="presence-x-"))
        try:
            self._start_xvfb()
            if self.window_manager:
                self._start_openbox()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_xvfb(self) -> None:
        read_fd, write_fd = os.pipe()
        log = (self._tmp / "xvfb.log").open("wb")
        try:
            # -displayfd: the server picks a free display and writes its number when it is
            # ready for connections, so there is no race with other tests' servers.
            self.xvfb = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24"]
                + ["-nolisten", "tcp", "-noreset"]
                + [arg for name in self.disabled_extensions for arg in ("-extension", name)],
                pass_fds=(write_fd,),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        finally:
            os.close(write_fd)
            log.close()
        self._procs.append(self.xvfb)
        try:
            number = self._read_display_number(read_fd)
        finally:
            os.close(read_fd)
        self.display = f":{number}"
        env = dict(os.environ)
        env["DISPLAY"] = self.display
        # Nothing in a test may find or autolaunch a session bus or a session manager.
        for var in ("DBUS_SESSION_BUS_ADDRESS", "SESSION_MANAGER", "WAYLAND_DISPLAY"):
            env.pop(var, None)
        self.env = env
        self._conn = Xlib.display.Display(self.display)

    def _read_display_number(self, fd: int) -> int:
        data = b""
        deadline = time.monotonic() + WAIT
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"Xvfb did not report a display within {WAIT:.0f} s{self._log_tail()}")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 64)
                if not chunk:
                    pytest.fail(f"Xvfb exited before reporting a display{self._log_tail()}")
                data += chunk
        return int(data.strip())

    def _log_tail(self) -> str:
        path = self._tmp / "xvfb.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f":\n{text[-2000:]}" if text else ""

    def _start_openbox(self) -> None:
        rc = self._tmp / "rc.xml"
        rc.write_text(OPENBOX_RC)
        env = dict(self.env)
        env["XDG_CONFIG_HOME"] = str(self._tmp / "config")  # keep the user's config out
        env["XDG_CACHE_HOME"] = str(self._tmp / "cache")
        self.openbox = subprocess.Popen(
            ["openbox", "--sm-disable", "--config-file", str(rc)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._procs.append(self.openbox)
        self.wm_check = wait_until(self._live_wm_check, "openbox to set _NET_SUPPORTING_WM_CHECK")
        # Openbox focuses its own check window when no client has focus, shortly after it
        # sets the check property. A client mapped before that loses its focus to it.
        wait_until(
            lambda: self.input_focus() == self.wm_check, "openbox to focus its own check window"
        )

    def stop(self) -> None:
        """End every process started here, newest first. Idempotent."""
        if self._conn is not None:
            with contextlib.suppress(Xlib.error.ConnectionClosedError, OSError):
                self._conn.close()
            self._conn = None
        while self._procs:
            stop_process(self._procs.pop())
        if self._tmp_dir is not None:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
            self._tmp_dir = None

    @property
    def _tmp(self) -> Path:
        assert self._tmp_dir is not None, "the server was not started"
        return self._tmp_dir

    def __enter__(self) -> XServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- reading the server ------------------------------------------------------------------

    def _window(self, wid: int) -> Any:
        return self._conn.create_resource_object("window", wid)

    def _live_wm_check(self) -> int | None:
        if self.openbox is not None and self.openbox.poll() is not None:
            pytest.fail(f"openbox exited with status {self.openbox.returncode}")
        root = self._conn.screen().root
        atom = self._conn.intern_atom("_NET_SUPPORTING_WM_CHECK")
        prop = root.get_property(atom, Xatom.WINDOW, 0, 1)
        return int(prop.value[0]) if prop is not None and len(prop.value) else None

    def input_focus(self) -> int | None:
        """The window holding the X input focus, or None for None/PointerRoot."""
        focus = self._conn.get_input_focus().focus
        return None if isinstance(focus, int) else int(focus.id)

    def active_window(self) -> int | None:
        """The root's _NET_ACTIVE_WINDOW, or None when unset or None."""
        root = self._conn.screen().root
        atom = self._conn.intern_atom("_NET_ACTIVE_WINDOW")
        prop = root.get_property(atom, Xatom.WINDOW, 0, 1)
        wid = int(prop.value[0]) if prop is not None and len(prop.value) else 0
        return wid or None

    @property
    def root(self) -> int:
        return int(self._conn.screen().root.id)

    def toplevel_of(self, wid: int) -> int:
        """The ancestor of `wid` that is a child of the root: the frame under a reparenting WM."""
        root = self._conn.screen().root.id
        current = wid
        while True:
            parent = self._window(current).query_tree().parent
            if not parent or parent.id == root:
                return current
            current = parent.id

    def children_of(self, wid: int) -> list[int]:
        return [child.id for child in self._window(wid).query_tree().children]

    def reparent_into_frame(self, wid: int) -> int:
        """Do to `wid` what a reparenting window manager does; returns the new frame's id.

        The frame is a child of the root owned by this harness; the client gets WM_STATE
        (ICCCM 4.1.3.1), which a window manager sets. For servers without a window manager:
        openbox would take the focus back from a frame the test focuses.
        """
        frame = self._conn.screen().root.create_window(0, 0, 600, 400, 0, X.CopyFromParent)
        client = self._window(wid)
        client.reparent(frame, 0, 0)
        wm_state = self._conn.intern_atom("WM_STATE")
        client.change_property(wm_state, wm_state, 32, [1, X.NONE])  # NormalState, no icon
        frame.map()
        client.map()
        self._conn.sync()
        return int(frame.id)

    def set_input_focus(self, wid: int) -> None:
        """XSetInputFocus on any window, bypassing the window manager."""
        self._conn.set_input_focus(self._window(wid), X.RevertToParent, X.CurrentTime)
        self._conn.sync()

    def window_exists(self, wid: int) -> bool:
        try:
            self._window(wid).get_attributes()
        except Xlib.error.XError:
            return False
        return True

    def set_property(self, wid: int, name: str, type_name: str, data: bytes) -> None:
        """Replace an 8-bit property of a window, as its client would."""
        window = self._window(wid)
        atom, prop_type = self._conn.intern_atom(name), self._conn.intern_atom(type_name)
        window.change_property(atom, prop_type, 8, data)
        self._conn.sync()

    def delete_property(self, wid: int, name: str) -> None:
        self._window(wid).delete_property(self._conn.intern_atom(name))
        self._conn.sync()

    def kill_server(self) -> None:
        """Kill Xvfb without ceremony, as a crashing display server would go."""
        if self.xvfb is not None and self.xvfb.poll() is None:
            self.xvfb.send_signal(signal.SIGKILL)
            self.xvfb.wait(WAIT)


class XSession:
    """One test's use of an X server: spawns clients, drives input, kills its clients at the end."""

    def __init__(self, server: XServer) -> None:
        self.server = server
        self.display = server.display
        self.env = server.env
        self._clients: list[tuple[subprocess.Popen[Any], int | None]] = []

    def _run(self, *args: str, stdin: bytes | None = None) -> str:
        done = subprocess.run(
            list(args), env=self.env, input=stdin, capture_output=True, timeout=WAIT, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.decode()}")
        return done.stdout.decode()

    def _find_window(self, proc: subprocess.Popen[Any], cls: str) -> int:
        try:
            out = self._run(
                "xdotool",
                "search",
                "--sync",
                "--onlyvisible",
                "--limit",
                "1",
                "--class",
                f"^{cls}$",
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"no visible window of class {cls} within {WAIT:.0f} s")
        if proc.poll() is not None:
            pytest.fail(f"{proc.args!r} exited with status {proc.returncode}")
        return int(out.split()[0])

    def spawn_xterm(self, cls: str, title: str) -> tuple[subprocess.Popen[Any], int]:
        """An xterm with WM_CLASS class `cls` and title `title`, mapped; (process, window id)."""
        proc = subprocess.Popen(
            ["xterm", "-class", cls, "-T", title, "-e", "sleep", "3600"],
            # xterm reads its arguments in the locale's encoding: make that UTF-8, like `title`.
            env={**self.env, "LC_ALL": "C.UTF-8"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._clients.append((proc, None))
        wid = self._find_window(proc, cls)
        self._clients[-1] = (proc, wid)
        return proc, wid

    def spawn_tk(self, title: str, class_name: str) -> tuple[subprocess.Popen[Any], int]:
        """A Tk toplevel of class `class_name` and title `title`, mapped; (process, window id).

        wish 8.6 has no -class option (the main window's class is its capitalised -name), so
        the script withdraws "." and opens a toplevel with -class. Tk sets no _NET_WM_PID.
        The script comes on stdin, which stays open: wish exits at end of input.
        """
        proc = subprocess.Popen(
            ["wish", "-name", class_name.lower()],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._clients.append((proc, None))
        script = (
            "wm withdraw .\n"
            f"toplevel .app -class {{{class_name}}} -width 320 -height 200\n"
            f"wm title .app {{{title}}}\n"
            "update\n"
        )
        assert proc.stdin is not None
        proc.stdin.write(script.encode())
        proc.stdin.flush()
        wid = self._find_window(proc, class_name)
        self._clients[-1] = (proc, wid)
        return proc, wid

    def focus(self, window_id: int) -> None:
        """Make `window_id` the active, focused window, and wait until the manager says so.

        Without a window manager there is no "active window": the input focus is set directly.
        """
        if not self.server.window_manager:
            self._run("xdotool", "windowfocus", "--sync", str(window_id))
            wait_until(
                lambda: self.server.input_focus() == window_id,
                f"window {window_id:#x} to hold the input focus",
            )
            return
        try:
            self._run("xdotool", "windowactivate", "--sync", str(window_id))
        except subprocess.TimeoutExpired:
            self._run("xdotool", "windowfocus", "--sync", str(window_id))
        wait_until(
            lambda: self.server.active_window() == window_id,
            f"window {window_id:#x} to become the active window",
        )

    def type_text(self, text: str, delay_ms: int = 20) -> None:
        # From stdin: the text never shows in a process list (it may be a test's "secret").
        self._run("xdotool", "type", "--delay", str(delay_ms), "--file", "-", stdin=text.encode())

    def key(self, keysym: str) -> None:
        self._run("xdotool", "key", keysym)

    def click(self, button: int = 1) -> None:
        self._run("xdotool", "click", str(button))

    def move_pointer(self, x: int, y: int) -> None:
        # No --sync: it waits for the pointer to move and hangs when it is already there.
        self._run("xdotool", "mousemove", str(x), str(y))

    def scroll(self, down: bool = True, clicks: int = 1) -> None:
        # X11 core protocol: buttons 4 and 5 are the wheel (up, down).
        self._run("xdotool", "click", "--repeat", str(clicks), "5" if down else "4")

    def close(self) -> None:
        """Stop this test's clients and wait until their windows are gone from the server."""
        clients, self._clients = self._clients, []
        for proc, _ in clients:
            stop_process(proc)
        if self.server.xvfb is None or self.server.xvfb.poll() is not None:
            return
        for _, wid in clients:
            if wid is not None:
                wait_until(functools.partial(self._gone, wid), f"window {wid:#x} to be destroyed")

    def _gone(self, wid: int) -> bool:
        return not self.server.window_exists(wid)


@contextlib.contextmanager
def x_server(
    window_manager: bool = True, disabled_extensions: tuple[str, ...] = ()
) -> Iterator[XServer]:
    """A fresh Xvfb (with openbox unless told otherwise), for tests that need their own."""
    server = XServer(window_manager, disabled_extensions).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def x_display() -> Iterator[XServer]:
    """One X server per test module: starting Xvfb and openbox costs about half a second."""
    with x_server() as server:
        yield server


@pytest.fixture
def x_session(x_display: XServer) -> Iterator[XSession]:
    """The module's X server, with the test's clients killed at teardown."""
    session = XSession(x_display)
    try:
        yield session
    finally:
        session.close()
