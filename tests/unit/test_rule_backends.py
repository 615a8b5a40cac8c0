"""The enforcement backends' probes and fallbacks without a display or a bus, the process-tree
safety of the app controller, and the APScheduler glue firing at planned instants."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presence.daemon.scheduling import RuleTimer
from presence.platform.app_control import X11AppController, protected_pids
from presence.platform.base import Session
from presence.platform.log_notify import LogNotifier
from presence.platform.plyer_notify import PlyerNotifier
from presence.platform.screen_lock import SessionScreenLocker
from presence.platform.selection import choose

NO_BUS = {"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/presence-unit"}
BARE = Session(None, None, None, None, None)


def test_without_a_bus_notifications_go_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    choice = choose("notify", BARE, env={})
    assert choice.name == "log"
    assert [r.name for r in choice.rejected] == ["dbus", "plyer"]
    assert all("no session D-Bus" in r.reason for r in choice.rejected)
    notifier = choice.backend
    assert isinstance(notifier, LogNotifier)
    first = notifier.notify("Tech-free time in 10 min", "body")
    assert notifier.notify("again", "body", replaces_id=first) == first + 1
    assert "notification: Tech-free time in 10 min: body" in caplog.text


def test_plyer_refuses_a_session_without_a_bus_socket(tmp_path: Path) -> None:
    missing = Session(None, None, None, f"unix:path={tmp_path}/no-bus", None)
    probe = PlyerNotifier.probe(missing)
    assert not probe.ok and "does not exist" in probe.reason and "autolaunch" in probe.hint


def test_apps_need_x11() -> None:
    probe = X11AppController.probe(BARE)
    assert not probe.ok and "X11" in probe.hint
    assert choose("apps", BARE, env={}).backend is None


def test_a_forced_backend_by_environment() -> None:
    choice = choose("notify", BARE, env={"PRESENCE_BACKEND_NOTIFY": "none"})
    assert choice.backend is None and choice.rejected[0].reason.startswith("turned off")


def test_locking_with_no_way_fails_and_says_why(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shutil.which", lambda _name: None)
    probe = SessionScreenLocker.probe(BARE, env=NO_BUS)
    assert not probe.ok and "rules.lock_command" in probe.hint
    locker = SessionScreenLocker(BARE, env=NO_BUS, confirm_seconds=0.1)
    locker.use_command("false")
    assert locker.lock() is False
    assert "could not lock the screen" in caplog.text or "cannot confirm" in caplog.text
    locker.close()


def test_a_lock_command_that_cannot_be_confirmed_is_logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("shutil.which", lambda _name: None)
    marker = tmp_path / "locked"
    locker = SessionScreenLocker(BARE, env=NO_BUS)
    locker.use_command(f"touch {marker}")
    assert locker.lock() is False  # ran, but nothing can tell whether the screen locked
    assert marker.exists()
    assert locker.last_method == "rules.lock_command"
    assert "cannot confirm" in caplog.text


def test_presence_never_touches_itself_or_its_ancestors() -> None:
    protected = protected_pids()
    assert {1, os.getpid(), os.getppid()} <= protected


def test_the_timer_fires_at_planned_instants_and_replans() -> None:
    fired: list[float] = []
    done = threading.Event()

    def callback() -> None:
        fired.append(time.time())
        if len(fired) == 2:
            done.set()

    timer = RuleTimer(callback)
    timer.start()
    try:
        now = datetime.now(UTC)
        timer.plan([now + timedelta(seconds=30)])  # replaced below: never fires
        planned = [now + timedelta(seconds=0.3), now + timedelta(seconds=0.6)]
        timer.plan(planned)
        assert timer.planned == planned
        assert done.wait(5)
    finally:
        timer.shutdown()
    late = [f - p.timestamp() for f, p in zip(fired, planned, strict=True)]
    assert all(0 <= d < 0.5 for d in late), late
