"""presence on a real headless sway, run as the desktop test user: foot windows focused by
swaymsg, input typed by wtype, swaylock, and the real daemon recording and enforcing.

The backends are also driven in-process (the test runner may be root; it reaches the user's
IPC socket and process table as the daemon would).
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil
import pytest

from presence.core.model import SpanState
from presence.platform.base import Session
from presence.platform.locker_process import ProcessLockState
from presence.platform.sway_apps import SwayAppController
from presence.platform.sway_window import SwayWindowSource
from tests.integration.daemon_process import window_now
from tests.integration.wayland_sway import SwayServer, UserDaemonProcess
from tests.integration.xserver import wait_until

pytestmark = pytest.mark.integration

TOLERANCE = 0.25  # seconds per app: the target of issue 9
CONFIG = '[device]\nname = "swaybox"\n[reports]\ntimezone = "UTC"\n'
NO_SYSTEM_BUS = "unix:path=/nonexistent/presence-test-system-bus"


def session_env(sway: SwayServer) -> dict[str, str]:
    """The user's session environment for the daemon: no D-Bus of ours, no X display."""
    return {**sway.env, "DBUS_SYSTEM_BUS_ADDRESS": NO_SYSTEM_BUS}


def test_the_window_source_follows_focus_and_titles_by_events(sway_session: SwayServer) -> None:
    sway = sway_session
    sway.foot("alpha", "Alpha")
    # a window that renames itself (OSC 2) with the line typed into it
    sway.spawn(
        ["foot", "--app-id", "namer", "--title", "Namer", "sh", "-c",
         r"""read t; printf '\033]2;%s\007' "$t"; sleep 600"""]
    )  # fmt: skip
    wait_until(lambda: sway.window("namer"), "the namer window")
    source = SwayWindowSource(Session.from_env(sway.env))
    woken = threading.Semaphore(0)
    try:
        source.watch(woken.release)
        info = source.focused()
        assert info is not None and info.app == "namer" and info.title == "Namer"
        assert info.pid == sway.window("namer")["pid"]  # type: ignore[index]

        sway.focus("alpha")
        assert woken.acquire(timeout=5)
        info = source.focused()
        assert info is not None and (info.app, info.title) == ("alpha", "Alpha")

        sway.focus("namer")
        while woken.acquire(timeout=0.5):
            pass  # drain focus events
        sway.type("renamed by wtype\n")
        assert woken.acquire(timeout=5)
        wait_until(lambda: _title(source) == "renamed by wtype", "the new title")
    finally:
        source.close()


def _title(source: SwayWindowSource) -> str | None:
    info = source.focused()
    return info.title if info is not None else None


def test_swaylock_is_seen_as_locked(sway_session: SwayServer) -> None:
    sway = sway_session
    sway.foot("alpha")
    source = SwayWindowSource(Session.from_env(sway.env))
    lock = ProcessLockState(Session.from_env(sway.env), uid=sway.user.uid)
    try:
        assert ProcessLockState.probe(Session.from_env(sway.env)).ok
        assert lock.locked() is False
        assert source.focused() is not None
        sway.lock()
        assert lock.locked() is True
        assert source.focused() is None  # sway focuses nothing while locked
    finally:
        source.close()


def test_a_window_closed_through_sway(sway_session: SwayServer) -> None:
    sway = sway_session
    victim = sway.foot("victim", "to be closed")
    other = sway.foot("other", "left alone")
    apps = SwayAppController(Session.from_env(sway.env))
    try:
        windows = {w.app: w for w in apps.windows()}
        assert set(windows) == {"victim", "other"}
        assert windows["victim"].pid == victim.pid and windows["victim"].title == "to be closed"
        apps.close_window(windows["victim"])
        victim.wait(timeout=10)  # foot exits when its only window closes
        assert [w.app for w in apps.windows()] == ["other"]
        assert other.poll() is None
    finally:
        apps.close()


def test_recorded_spans_match_the_plan(sway_session: SwayServer, tmp_path: Path) -> None:
    """Windows focused at fractional times; each app's recorded active time within 0.25 s."""
    sway = sway_session
    for app in ("alpha", "beta", "gamma", "parking"):
        sway.foot(app, f"{app} window")
    root = sway.private_dir("daemon")
    daemon = UserDaemonProcess(sway.user, root, session_env(sway), CONFIG)
    daemon.start()
    truth: dict[str, float] = defaultdict(float)
    try:
        daemon.wait_for_log("using sway")
        # every backend built: the first sample is taken, later ones are at the events
        daemon.wait_for_log("whether the screen is locked: using locker-process")
        time.sleep(0.5)
        plan = [("alpha", 2.3), ("beta", 3.7), ("gamma", 1.45), ("alpha", 2.85), ("beta", 1.2)]
        previous: tuple[str, float] | None = None
        for app, seconds in plan:
            before = time.time()
            sway.focus(app, wait=False)  # swaymsg returns once sway has switched
            switched = (before + time.time()) / 2
            if previous is not None:
                truth[previous[0]] += switched - previous[1]
            previous = (app, switched)
            deadline = switched + seconds
            while time.time() < deadline - 0.4:
                sway.type("ab")
                time.sleep(0.3)
            time.sleep(max(0.0, deadline - time.time()))
        before = time.time()
        sway.focus("parking", wait=False)
        assert previous is not None
        truth[previous[0]] += (before + time.time()) / 2 - previous[1]
        time.sleep(1.5)
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
    recorded: dict[str, float] = defaultdict(float)
    for span in daemon.spans():
        if span.state is SpanState.ACTIVE and span.app is not None:
            recorded[span.app] += span.seconds
    errors = {app: recorded[app] - truth[app] for app in truth}
    assert all(abs(e) <= TOLERANCE for e in errors.values()), (errors, dict(recorded), truth)
    log = daemon.log()
    assert "Traceback" not in log
    assert "alpha window" not in log  # titles only at DEBUG


def test_a_close_apps_rule_closes_a_foot_window_and_swaylock_is_recorded(
    sway_session: SwayServer, tmp_path: Path
) -> None:
    sway = sway_session
    victim = sway.foot("victim", "to be closed")
    other = sway.foot("other", "left alone")
    root = sway.private_dir("daemon")
    daemon = UserDaemonProcess(sway.user, root, session_env(sway), CONFIG)
    done = daemon.cli(
        "rules", "add", "tech-free", "closing", *window_now(),
        "--apps", "victim", "--action", "close-apps", "--grace", "0s",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    daemon.start()
    try:
        daemon.wait_for_log("using sway")
        victim.wait(timeout=20)  # closed through sway: `[con_id=N] kill`
        assert other.poll() is None
        assert sway.window("victim") is None and sway.window("other") is not None
        sway.lock()  # and the daemon records the locked screen (locker-process)
        locked_at = time.time()
        time.sleep(2.5)
        assert daemon.stop(signal.SIGTERM) == 0
    except subprocess.TimeoutExpired:
        pytest.fail(f"the victim window was not closed:\n{daemon.log()[-3000:]}")
    finally:
        daemon.kill()
    assert "Traceback" not in daemon.log()
    assert psutil.pid_exists(other.pid)
    locked = [s for s in daemon.spans() if s.state is SpanState.LOCKED]
    assert locked and abs(locked[0].start.timestamp() - locked_at) <= 1.5, daemon.spans()
