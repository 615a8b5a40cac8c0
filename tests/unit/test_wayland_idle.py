"""Idle on Wayland: the back-dating arithmetic of idle notifications, and the probes."""

from __future__ import annotations

from pathlib import Path

import pytest

from presence.platform.base import Session
from presence.platform.wayland_connection import socket_path
from presence.platform.wayland_idle import TIMEOUT, ExtIdleNotifyIdle, IdleTimer, KdeIdle


def test_idled_back_dates_to_the_last_input() -> None:
    timer = IdleTimer(timeout=1.0, now=100.0)
    timer.idled(at=130.0)  # no input for 1 s, heard at 130: the last input was at 129
    assert timer.idle
    assert timer.idle_seconds(130.0) == pytest.approx(1.0)
    assert timer.idle_seconds(190.5) == pytest.approx(61.5)


def test_resumed_means_input_now() -> None:
    timer = IdleTimer(timeout=1.0, now=0.0)
    timer.idled(at=10.0)
    timer.resumed(at=42.0)
    assert not timer.idle
    assert timer.idle_seconds(42.0) == 0.0
    # A tick 0.4 s later places the return at the input that ended idle (42.0).
    assert timer.idle_seconds(42.4) == pytest.approx(0.4)


def test_active_is_capped_at_the_timeout() -> None:
    # No idled event means some input came within the last timeout: never report more.
    timer = IdleTimer(timeout=1.0, now=0.0)
    timer.resumed(at=5.0)
    assert timer.idle_seconds(500.0) == 1.0


def test_starts_active_from_the_notification() -> None:
    timer = IdleTimer(timeout=2.0, now=50.0)
    assert not timer.idle
    assert timer.idle_seconds(50.5) == pytest.approx(0.5)
    timer.idled(at=52.0)  # already idle when presence started: seen from the start
    assert timer.idle_seconds(60.0) == pytest.approx(10.0)


def test_never_negative() -> None:
    timer = IdleTimer(timeout=1.0, now=10.0)
    timer.resumed(at=12.0)
    assert timer.idle_seconds(11.0) == 0.0  # an event stamped after the reading


def test_resolution_is_short() -> None:
    assert 0 < TIMEOUT <= 1.0


@pytest.mark.parametrize("backend", [ExtIdleNotifyIdle, KdeIdle])
def test_probe_outside_wayland(backend: type[KdeIdle]) -> None:
    session = Session(None, None, "x11", None, "/run/user/1000")
    probe = backend.probe(session)
    assert not probe.ok
    assert "WAYLAND_DISPLAY" in probe.reason


@pytest.mark.parametrize("backend", [ExtIdleNotifyIdle, KdeIdle])
def test_probe_without_a_compositor(backend: type[KdeIdle], tmp_path: Path) -> None:
    session = Session(None, "wayland-9", "wayland", None, str(tmp_path))
    probe = backend.probe(session)
    assert not probe.ok
    assert str(tmp_path / "wayland-9") in probe.reason
    assert probe.hint


def test_probe_in_an_x11_session_with_a_nested_compositor(tmp_path: Path) -> None:
    session = Session(":0", "wayland-1", "x11", None, str(tmp_path))
    probe = KdeIdle.probe(session)
    assert not probe.ok
    assert probe.forceable  # forcing it by name still reaches the nested compositor


def test_socket_path() -> None:
    assert socket_path(Session(None, "wayland-1", None, None, "/run/user/7")) == Path(
        "/run/user/7/wayland-1"
    )
    assert socket_path(Session(None, "/tmp/w.sock", None, None, None)) == Path("/tmp/w.sock")
    assert socket_path(Session(None, "wayland-1", None, None, None)) is None
    assert socket_path(Session(None, None, None, None, "/run/user/7")) is None
