"""Rules enforced by the real daemon (`python -m presence run`) against real components:
dunst on a private session bus (notifications, their text, the snooze button), a screensaver
service that is asked to lock, and real xterms on Xvfb with openbox that are closed, paused
and resumed. Rules are added with the real CLI.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest

from presence.platform.base import Session
from presence.platform.plyer_notify import PlyerNotifier
from tests.integration.components import require
from tests.integration.daemon_process import DaemonProcess, window, window_now
from tests.integration.monitor_output import call_times
from tests.integration.sessionbus import REPO, BusRecorder, FakeService, PrivateBus
from tests.integration.xserver import XSession, wait_until

pytestmark = pytest.mark.integration

CONFIG = '[device]\nname = "testbox"\n[reports]\ntimezone = "UTC"\n'
NO_SYSTEM_BUS = "unix:path=/nonexistent/presence-test-system-bus"
LATE = 2.0  # seconds a notification or an action may come after its instant (issue 3)


def presence(env: Mapping[str, str], *args: str) -> str:
    """Run the real CLI with the daemon's environment; fails the test on a non-zero exit."""
    done = subprocess.run(
        [sys.executable, "-m", "presence", *args],
        env=dict(env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"presence {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


def log_events(daemon: DaemonProcess, rule: str) -> list[tuple[str, str | None, float]]:
    with sqlite3.connect(daemon.db_path) as db:
        rows = db.execute(
            "SELECT event, detail, ts FROM enforcement_log WHERE rule_name = ? ORDER BY id",
            (rule,),
        ).fetchall()
    return [(str(e), d, float(t)) for e, d, t in rows]


def wait_for_event(daemon: DaemonProcess, rule: str, event: str, timeout: float = 20) -> None:
    wait_until(
        lambda: any(e == event for e, _, _ in log_events(daemon, rule)) or None,
        f"{event} of {rule} in the enforcement log",
        timeout,
    )


@pytest.fixture
def dunst(x_session: XSession, session_bus: PrivateBus, tmp_path: Path) -> Iterator[dict[str, str]]:
    """dunst, the real notification server, on the private session bus and the test display."""
    require("dunst", "dunstctl")
    config = tmp_path / "dunstrc"
    config.write_text("[global]\n    follow = none\n")
    env = {**x_session.env, "DBUS_SESSION_BUS_ADDRESS": session_bus.address}
    proc = subprocess.Popen(
        ["dunst", "-config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: (
                subprocess.run(
                    ["dunstctl", "is-paused"], env=env, capture_output=True, check=False
                ).returncode
                == 0
                or None
            ),
            "dunst to own org.freedesktop.Notifications",
        )
        yield env
    finally:
        proc.terminate()
        proc.wait(10)


def test_notifications_on_the_bus_on_time_with_a_working_snooze(
    dunst: dict[str, str], session_bus: PrivateBus, tmp_path: Path
) -> None:
    env = {**dunst, "DBUS_SYSTEM_BUS_ADDRESS": NO_SYSTEM_BUS}
    daemon = DaemonProcess(tmp_path / "d", env, CONFIG)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=9)
    soon = window(start, start + timedelta(minutes=5))
    presence(
        daemon.env, "rules", "add", "tech-free", "soon", *soon, "--warn", "4s", "--grace", "2s"
    )
    with BusRecorder(session_bus.address, tmp_path / "bus.log") as bus:
        daemon.start()
        try:
            bus.wait_for('string "Tech-free time in 4 s"', timeout=30)
            text = bus.wait_for('string "Tech-free time has started"', timeout=30)
            assert "“soon” until" in text
            bus.wait_for('string "Tech-free time until', timeout=30)  # the nudge after grace
            # warnings and start on time, replacing one notification (the countdown)
            warned = call_times(bus.text(), "Notify", "Tech-free time in 4 s")[0]
            started = call_times(bus.text(), "Notify", "has started")[0]
            assert 0 <= warned - (start.timestamp() - 4) <= LATE
            assert 0 <= started - start.timestamp() <= LATE
            # Notify(app_name, replaces_id, ...): the start replaces the warning (the countdown)
            replaced = (
                r'"presence"\n\s+uint32 ([1-9]\d*)\n\s+string ""\n\s+string "Tech-free time has'
            )
            assert re.search(replaced, bus.text())
            assert 'string "Snooze 5 min"' in bus.text()
            # the user clicks "Snooze 5 min" in dunst
            subprocess.run(["dunstctl", "action", "0"], env=dunst, check=True, timeout=30)
            bus.wait_for("member=ActionInvoked")
            wait_for_event(daemon, "soon", "snooze")
            bus.wait_for('string "Snoozed until', timeout=30)
            assert daemon.stop(signal.SIGTERM) == 0
        finally:
            daemon.kill()
    assert "Traceback" not in daemon.log()
    events = [e for e, _, _ in log_events(daemon, "soon")]
    assert events[:4] == ["warning", "start", "action", "snooze"]


def test_a_lock_request_reaches_the_screensaver(
    session_bus: PrivateBus, fake_screensaver: FakeService, tmp_path: Path
) -> None:
    env = {**session_bus.env, "DBUS_SYSTEM_BUS_ADDRESS": NO_SYSTEM_BUS}
    env.pop("DISPLAY", None)
    daemon = DaemonProcess(tmp_path / "d", env, CONFIG)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=7)
    bedtime = window(start, start + timedelta(minutes=5))
    presence(daemon.env, "rules", "add", "tech-free", "bedtime", *bedtime, "--action", "lock",
             "--grace", "1s")  # fmt: skip
    with BusRecorder(session_bus.address, tmp_path / "bus.log") as bus:
        daemon.start()
        try:
            text = bus.wait_for("member=Lock", timeout=30)
            locked = call_times(text, "Lock", "destination=org.freedesktop.ScreenSaver")[0]
            assert 0 <= locked - (start.timestamp() + 1) <= LATE
            wait_for_event(daemon, "bedtime", "action")
            assert daemon.stop(signal.SIGTERM) == 0
        finally:
            daemon.kill()
    action = next(d for e, d, _ in log_events(daemon, "bedtime") if e == "action")
    assert action is not None and '"confirmed": true' in action
    assert "screen locked via org.freedesktop.ScreenSaver" in daemon.log()


def _status(proc: subprocess.Popen[Any]) -> str:
    try:
        return str(psutil.Process(proc.pid).status())
    except psutil.NoSuchProcess:
        return "gone"


def test_an_xterm_closed_and_another_paused_and_resumed(
    x_session: XSession, tmp_path: Path
) -> None:
    require("xterm")
    victim, _ = x_session.spawn_xterm("Victim", "to be closed")
    frozen, frozen_wid = x_session.spawn_xterm("Frozen", "to be paused")
    other, other_wid = x_session.spawn_xterm("Other", "left alone")
    x_session.focus(other_wid)
    env = {**x_session.env, "DBUS_SYSTEM_BUS_ADDRESS": NO_SYSTEM_BUS}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    daemon = DaemonProcess(tmp_path / "d", env, CONFIG)
    span = window_now()
    presence(
        daemon.env,
        "rules",
        "add",
        "tech-free",
        "closing",
        *span,
        "--apps",
        "victim",
        "--action",
        "close-apps",
        "--grace",
        "0s",
    )
    presence(daemon.env, "rules", "add", "focus", "calm", *span, "--apps", "frozen",
             "--action", "pause-apps", "--grace", "0s")  # fmt: skip
    daemon.start()
    try:
        # closed politely (_NET_CLOSE_WINDOW through openbox, then WM_DELETE_WINDOW)
        victim.wait(timeout=20)
        assert _status(frozen) != psutil.STATUS_STOPPED  # no focus yet: not paused
        focused = time.monotonic()
        x_session.focus(frozen_wid)
        wait_until(
            lambda: _status(frozen) == psutil.STATUS_STOPPED or None, "the xterm to be stopped"
        )
        assert time.monotonic() - focused <= LATE + 1  # + the focus change itself
        assert _status(other) != psutil.STATUS_STOPPED
        presence(daemon.env, "override", "calm", "--reason", "the test is over")
        wait_until(
            lambda: _status(frozen) not in (psutil.STATUS_STOPPED, "gone") or None,
            "the xterm to be resumed",
        )
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
        if _status(frozen) == psutil.STATUS_STOPPED:
            os.kill(frozen.pid, signal.SIGCONT)
    assert "Traceback" not in daemon.log()
    closing = [e for e, _, _ in log_events(daemon, "closing")]
    assert closing[:2] == ["start", "action"]
    calm = [e for e, _, _ in log_events(daemon, "calm")]
    assert calm[:3] == ["start", "action", "override"]


def test_the_plyer_fallback_reaches_the_notification_server(
    dunst: dict[str, str], session_bus: PrivateBus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require("notify-send")
    # plyer runs notify-send with the process environment: point it at the private bus
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus.address)
    notifier = PlyerNotifier(Session.from_env())
    with BusRecorder(session_bus.address, tmp_path / "bus.log") as bus:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # plyer warns that dbus-python is not installed
            notifier.notify("Tech-free time in 10 min", "“evening” 22:00 to 06:00.")
        text = bus.wait_for('string "Tech-free time in 10 min"')
    assert "“evening” 22:00 to 06:00." in text
