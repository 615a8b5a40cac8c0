"""The screensaver lock state follows `ActiveChanged` on a real private bus (fake service):
the daemon is woken at the lock and the unlock, and a reading that gets no answer in time
falls back to what the last signal said. (KWin's own ActiveChanged is tested in
tests/integration/test_wayland_kwin.py.)"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from presence.platform.base import Session
from presence.platform.screensaver_lock import ScreenSaverLockState
from tests.integration.sessionbus import FakeService, PrivateBus, screensaver_active

pytestmark = pytest.mark.integration

WAIT = 20.0


def wait_for(event: threading.Event, what: str) -> None:
    if not event.wait(WAIT):
        pytest.fail(f"{what} within {WAIT:g} s")
    event.clear()


def test_active_changed_wakes_and_is_remembered(
    session_bus: PrivateBus, fake_screensaver: FakeService
) -> None:
    backend = ScreenSaverLockState(Session.from_env(session_bus.env), timeout=5.0)
    woken = threading.Event()
    backend.watch(woken.set)
    try:
        assert backend.signalled is None
        screensaver_active(fake_screensaver, True)
        wait_for(woken, "no wake at the lock")
        assert backend.signalled is True
        assert backend.locked() is True
        screensaver_active(fake_screensaver, False)
        wait_for(woken, "no wake at the unlock")
        assert backend.signalled is False
    finally:
        backend.close()


def test_no_answer_in_time_falls_back_to_the_last_signal(
    session_bus: PrivateBus, fake_screensaver: FakeService
) -> None:
    backend = ScreenSaverLockState(Session.from_env(session_bus.env), timeout=0.3)
    woken = threading.Event()
    backend.watch(woken.set)
    try:
        screensaver_active(fake_screensaver, True)
        wait_for(woken, "no wake at the lock")
        os.kill(fake_screensaver.pid, signal.SIGSTOP)
        try:
            assert backend.locked() is True  # GetActive timed out; the signal said locked
        finally:
            os.kill(fake_screensaver.pid, signal.SIGCONT)
    finally:
        backend.close()


def test_a_service_that_leaves_takes_its_signalled_state_along(
    session_bus: PrivateBus, fake_screensaver: FakeService
) -> None:
    backend = ScreenSaverLockState(Session.from_env(session_bus.env), timeout=5.0)
    woken = threading.Event()
    backend.watch(woken.set)
    try:
        screensaver_active(fake_screensaver, True)
        wait_for(woken, "no wake at the lock")
        fake_screensaver.stop()
        deadline = time.monotonic() + WAIT
        while backend.signalled is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert backend.signalled is None
        assert backend.locked() is None
    finally:
        backend.close()
