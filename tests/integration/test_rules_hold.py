"""Issue 10, rules that hold, against the real daemon (`python -m presence run`) and the real
CLI: a strict lock rule still locks while recording is paused (the fake screensaver of
test_enforcement), a limit on a category matched by window title closes a real xterm on
Xvfb, and the third snooze of an occurrence waits (a countdown that Ctrl-C cancels).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presence.core.model import Span, SpanState
from presence.store import Store
from tests.integration.components import require
from tests.integration.daemon_process import DaemonProcess, window, window_now
from tests.integration.sessionbus import REPO, BusRecorder, FakeService, PrivateBus
from tests.integration.test_enforcement import (
    CONFIG,
    NO_SYSTEM_BUS,
    log_events,
    presence,
    wait_for_event,
)
from tests.integration.xserver import XSession

pytestmark = pytest.mark.integration


def _spans(daemon: DaemonProcess) -> int:
    with sqlite3.connect(daemon.db_path) as db:
        return int(db.execute("SELECT COUNT(*) FROM spans").fetchone()[0])


def test_a_strict_lock_rule_still_locks_while_recording_is_paused(
    session_bus: PrivateBus, fake_screensaver: FakeService, tmp_path: Path
) -> None:
    env = {**session_bus.env, "DBUS_SYSTEM_BUS_ADDRESS": NO_SYSTEM_BUS}
    env.pop("DISPLAY", None)
    daemon = DaemonProcess(tmp_path / "d", env, CONFIG)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=7)
    bedtime = window(start, start + timedelta(minutes=5))
    presence(daemon.env, "rules", "add", "tech-free", "bedtime", *bedtime, "--action", "lock",
             "--grace", "1s", "--strict")  # fmt: skip
    presence(daemon.env, "pause", "10m", "--reason", "just a call")
    with BusRecorder(session_bus.address, tmp_path / "bus.log") as bus:
        daemon.start()
        try:
            bus.wait_for("member=Lock", timeout=30)
            wait_for_event(daemon, "bedtime", "action")
            assert daemon.stop(signal.SIGTERM) == 0
        finally:
            daemon.kill()
    assert "Traceback" not in daemon.log()
    assert _spans(daemon) == 0  # recording stayed paused


def test_a_limit_on_a_title_matched_category_closes_a_real_xterm(
    x_session: XSession, tmp_path: Path
) -> None:
    require("xterm")
    proc, wid = x_session.spawn_xterm("Viewer", "Cats compilation - YouTube")
    x_session.focus(wid)
    env = {**x_session.env, "DBUS_SYSTEM_BUS_ADDRESS": NO_SYSTEM_BUS}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    # CONFIG ends in [reports]: today began half an hour ago (UTC), so the 20 minutes below
    # lie in it at any hour (with days from midnight the test failed just after 00:00)
    now = datetime.now(UTC).replace(microsecond=0)
    day_start = (now - timedelta(minutes=30)).strftime("%H:%M")
    daemon = DaemonProcess(tmp_path / "d", env, CONFIG + f'day_start = "{day_start}"\n')
    # 20 minutes of the same video watched earlier today
    daemon.db_path.parent.mkdir(parents=True, exist_ok=True)
    store = Store.open(f"sqlite:///{daemon.db_path}")
    device = store.device("testbox", socket.gethostname(), now)
    earlier = Span(now - timedelta(minutes=21), now - timedelta(minutes=1),
                   "viewer", "Cats compilation - YouTube", SpanState.ACTIVE)  # fmt: skip
    store.save_spans(device.id, None, [earlier])
    store.close()
    presence(daemon.env, "rules", "add", "limit", "media", "--categories", "media",
             "--per-day", "1m", "--action", "close-apps", "--grace", "0s")  # fmt: skip
    daemon.start()
    try:
        proc.wait(timeout=30)  # closed: its title makes it media, and media is over its limit
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
    assert "Traceback" not in daemon.log()
    assert [e for e, _, _ in log_events(daemon, "media")][:2] == ["start", "action"]


def test_the_third_snooze_waits_and_ctrl_c_cancels_it(x_session: XSession, tmp_path: Path) -> None:
    env = {**x_session.env, "DBUS_SYSTEM_BUS_ADDRESS": NO_SYSTEM_BUS}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    # cooldown 0 seeds the new rule set's policy, so that a short wait can be set at once
    daemon = DaemonProcess(tmp_path / "d", env, CONFIG + "[rules]\ncooldown = 0\n")
    presence(daemon.env, "rules", "add", "tech-free", "evening", *window_now())
    presence(daemon.env, "rules", "policy", "--snooze-wait", "3s", "--cooldown", "1d")
    daemon.start()
    try:
        wait_for_event(daemon, "evening", "start")
        presence(daemon.env, "snooze", "1m")
        presence(daemon.env, "snooze", "1m", "--reason", "a call")
        third = [sys.executable, "-m", "presence", "snooze", "1m", "--reason", "a call"]
        cancelled = subprocess.Popen(third, env=daemon.env, cwd=REPO, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        assert cancelled.stdout is not None
        said = cancelled.stdout.readline()  # the countdown has begun (PYTHONUNBUFFERED)
        assert "waits 3s first" in said
        cancelled.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = cancelled.communicate(timeout=30)
        assert cancelled.returncode != 0 and "cancelled" in err, (out, err)
        began = time.monotonic()
        out = presence(daemon.env, "snooze", "1m", "--reason", "a call")
        assert time.monotonic() - began >= 3 and "Snoozed 'evening'" in out
        time.sleep(2)  # a tick or two for the daemon to judge it
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
    events = [e for e, _, _ in log_events(daemon, "evening")]
    assert events.count("snooze") == 3 and "refused" not in events


def test_a_config_file_with_cooldown_0_does_not_loosen_a_shared_rule(tmp_path: Path) -> None:
    """`PRESENCE_CONFIG=zero.toml presence rules remove night` through the real entry point."""
    daemon = DaemonProcess(tmp_path / "d", dict(os.environ), CONFIG)
    presence(daemon.env, "rules", "add", "tech-free", "night", "--days", "daily",
             "--start", "22:00", "--end", "06:00", "--strict")  # fmt: skip
    zero = tmp_path / "zero.toml"
    zero.write_text(CONFIG + "[rules]\ncooldown = 0\n")
    out = presence({**daemon.env, "PRESENCE_CONFIG": str(zero)}, "rules", "remove", "night")
    assert "will be removed at" in out
    assert "night" in presence(daemon.env, "rules", "list")
