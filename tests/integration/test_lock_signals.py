"""The screensaver lock state follows `ActiveChanged` on a real private bus (fake service):
the daemon is woken at the lock and the unlock, and a reading that gets no answer in time
falls back to what the last signal said. (KWin's own ActiveChanged is tested in
tests/integration/test_wayland_kwin.py.)"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def watching(
    bus: PrivateBus, timeout: float
) -> Iterator[tuple[ScreenSaverLockState, threading.Event]]:
    """The lock-state backend on `bus`, watched (the event is set at each wake); closed after."""
    backend = ScreenSaverLockState(Session.from_env(bus.env), timeout=timeout)
    woken = threading.Event()
    backend.watch(woken.set)
    try:
        yield backend, woken
    finally:
        backend.close()


def lock(service: FakeService, woken: threading.Event) -> None:
    """The screensaver says it is active; the backend must wake."""
    screensaver_active(service, True)
    wait_for(woken, "no wake at the lock")


def test_active_changed_wakes_and_is_remembered(
    session_bus: PrivateBus, fake_screensaver: FakeService
) -> None:
    with watching(session_bus, 5.0) as (backend, woken):
        assert backend.signalled is None
        lock(fake_screensaver, woken)
        assert backend.signalled is True
        assert backend.locked() is True
        screensaver_active(fake_screensaver, False)
        wait_for(woken, "no wake at the unlock")
        assert backend.signalled is False


def test_no_answer_in_time_falls_back_to_the_last_signal(
    session_bus: PrivateBus, fake_screensaver: FakeService
) -> None:
    with watching(session_bus, 0.3) as (backend, woken):
        lock(fake_screensaver, woken)
        os.kill(fake_screensaver.pid, signal.SIGSTOP)
        try:
            assert backend.locked() is True  # GetActive timed out; the signal said locked
        finally:
            os.kill(fake_screensaver.pid, signal.SIGCONT)


def test_a_service_that_leaves_takes_its_signalled_state_along(
    session_bus: PrivateBus, fake_screensaver: FakeService
) -> None:
    with watching(session_bus, 5.0) as (backend, woken):
        lock(fake_screensaver, woken)
        fake_screensaver.stop()
        deadline = time.monotonic() + WAIT
        while backend.signalled is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert backend.signalled is None
        assert backend.locked() is None
