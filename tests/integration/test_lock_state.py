"""The lock-state backends against fake services on real, private D-Bus buses.

Contract under test, for both backends:
- locked() reads the service's state: False, then True once the test flips it;
- the service gone (its name has no owner) or hung (no reply in time): locked() is None, and
  reads again once the service is back;
- the bus gone: locked() raises BackendError, and keeps raising;
- nothing is ever started: no bus is autolaunched, no service is bus-activated.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from presence.core.errors import BackendError
from presence.platform.base import Session
from presence.platform.dbus import DBusCallError, connect
from presence.platform.logind_lock import LogindLockState
from presence.platform.screensaver_lock import SERVICES, ScreenSaverLockState
from tests.integration.components import require
from tests.integration.sessionbus import (
    REPO,
    BusRecorder,
    FakeService,
    PrivateBus,
    logind_locked_hint,
    screensaver_active,
)

pytestmark = pytest.mark.integration

READ_TIMEOUT = 5.0  # per locked() call where the test wants an answer, not a None
POLL_TIMEOUT = 20.0


def wait_until_none(backend: ScreenSaverLockState | LogindLockState) -> None:
    """Poll until locked() is None: the bus drops a name when it sees the owner's socket close."""
    deadline = time.monotonic() + POLL_TIMEOUT
    while backend.locked() is not None:
        if time.monotonic() > deadline:
            pytest.fail(f"locked() still answers {POLL_TIMEOUT:g} s after the service stopped")
        time.sleep(0.02)


# ---- ScreenSaverLockState on a private session bus ---------------------------------------


def test_screensaver_reads_the_services_state(
    session_bus: PrivateBus, fake_screensaver: FakeService
) -> None:
    session = Session.from_env(session_bus.env)
    assert ScreenSaverLockState.probe(session).ok
    backend = ScreenSaverLockState(session, timeout=READ_TIMEOUT)
    try:
        assert backend.service.bus_name == "org.freedesktop.ScreenSaver"
        assert backend.locked() is False
        screensaver_active(fake_screensaver, True)
        assert backend.locked() is True
        screensaver_active(fake_screensaver, False)
        assert backend.locked() is False
        fake_screensaver.call(
            "org.freedesktop.ScreenSaver",
            "/org/freedesktop/ScreenSaver",
            "org.freedesktop.ScreenSaver.Lock",
        )
        assert backend.locked() is True
    finally:
        backend.close()


def test_screensaver_service_gone_reads_none_until_it_is_back(
    session_bus: PrivateBus, fake_screensaver: FakeService
) -> None:
    backend = ScreenSaverLockState(Session.from_env(session_bus.env), timeout=READ_TIMEOUT)
    try:
        fake_screensaver.stop()
        wait_until_none(backend)
        assert backend.locked() is None  # and stays None while nobody owns the name
        replacement = FakeService(session_bus, "screensaver")
        try:
            screensaver_active(replacement, True)
            assert backend.locked() is True
        finally:
            replacement.stop()
    finally:
        backend.close()


def test_screensaver_hung_service_reads_none_within_the_timeout(
    session_bus: PrivateBus, fake_screensaver: FakeService
) -> None:
    timeout = 0.3
    backend = ScreenSaverLockState(Session.from_env(session_bus.env), timeout=timeout)
    try:
        os.kill(fake_screensaver.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            assert backend.locked() is None
            elapsed = time.monotonic() - started
        finally:
            os.kill(fake_screensaver.pid, signal.SIGCONT)
        assert timeout <= elapsed < timeout + 2.0
        # The late reply to the timed-out call is skipped; a fresh call reads the new state
        # (polled: on a busy machine one call may still miss the short timeout).
        screensaver_active(fake_screensaver, True)
        deadline = time.monotonic() + POLL_TIMEOUT
        while (value := backend.locked()) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert value is True
    finally:
        backend.close()


def test_screensaver_bus_gone_raises(
    session_bus: PrivateBus, fake_screensaver: FakeService
) -> None:
    backend = ScreenSaverLockState(Session.from_env(session_bus.env), timeout=READ_TIMEOUT)
    try:
        assert backend.locked() is False
        session_bus.stop()
        with pytest.raises(BackendError, match="session D-Bus connection") as first:
            backend.locked()
        assert first.value.hint
        with pytest.raises(BackendError, match="connection is gone"):
            backend.locked()
    finally:
        backend.close()
    # With the bus gone, its socket is gone too: the probe says so before anyone connects.
    probe = ScreenSaverLockState.probe(Session.from_env(session_bus.env))
    assert not probe.ok
    assert "does not exist" in probe.reason
    assert "DBUS_SESSION_BUS_ADDRESS" in probe.hint


def test_screensaver_skips_services_without_get_active(session_bus: PrivateBus) -> None:
    # An inhibit-only org.freedesktop.ScreenSaver (a power manager) comes first in the order;
    # the backend must move on to the GNOME one, which answers GetActive.
    inhibit_only = FakeService(session_bus, "screensaver", "--inhibit-only")
    gnome = FakeService(session_bus, "screensaver", "--flavour", "gnome")
    try:
        backend = ScreenSaverLockState(Session.from_env(session_bus.env), timeout=READ_TIMEOUT)
        try:
            assert backend.service.bus_name == "org.gnome.ScreenSaver"
            assert backend.locked() is False
            gnome.call(
                "org.gnome.ScreenSaver",
                "/org/gnome/ScreenSaver",
                "org.gnome.ScreenSaver.SetActive",
                "boolean:true",
            )
            assert backend.locked() is True
        finally:
            backend.close()
    finally:
        gnome.stop()
        inhibit_only.stop()


def test_screensaver_reads_gnome_shells_own_name(session_bus: PrivateBus) -> None:
    """GNOME 42+: org.gnome.ScreenSaver is a bus-activated proxy that presence never starts;
    the shell's own org.gnome.Shell.ScreenShield answers the same interface."""
    shield = FakeService(session_bus, "screensaver", "--flavour", "gnome-shield")
    try:
        backend = ScreenSaverLockState(Session.from_env(session_bus.env), timeout=READ_TIMEOUT)
        try:
            assert backend.service.bus_name == "org.gnome.Shell.ScreenShield"
            assert backend.locked() is False
            shield.call(
                "org.gnome.Shell.ScreenShield",
                "/org/gnome/ScreenSaver",
                "org.gnome.ScreenSaver.Lock",
            )
            assert backend.locked() is True
        finally:
            backend.close()
    finally:
        shield.stop()


def test_screensaver_without_any_service_says_what_to_run(session_bus: PrivateBus) -> None:
    with pytest.raises(BackendError) as raised:
        ScreenSaverLockState(Session.from_env(session_bus.env))
    for service in SERVICES:
        assert f"{service.bus_name}: not running" in raised.value.message
    assert raised.value.hint is not None
    assert "gnome" in raised.value.hint.lower()


def test_screensaver_never_activates_a_service(tmp_path: Path) -> None:
    require("dbus-daemon", "dbus-send")
    marker = tmp_path / "activated"
    services = tmp_path / "services"
    services.mkdir()
    # An activatable screensaver that only leaves a mark: if the bus ever starts it, we know.
    (services / "org.freedesktop.ScreenSaver.service").write_text(
        "[D-BUS Service]\nName=org.freedesktop.ScreenSaver\n"
        f"Exec=/bin/sh -c 'touch {marker}; exit 1'\n"
    )
    bus = PrivateBus("DBUS_SESSION_BUS_ADDRESS", servicedir=services)
    try:
        session = Session.from_env(bus.env)
        saver = FakeService(bus, "screensaver")
        try:
            backend = ScreenSaverLockState(session, timeout=READ_TIMEOUT)
        finally:
            saver.stop()
        try:
            wait_until_none(backend)
        finally:
            backend.close()
        with pytest.raises(BackendError):  # nothing answers GetActive, and nothing starts
            ScreenSaverLockState(session)
        assert not marker.exists()
        # The control: the same call allowed to auto-start does start the service.
        # (exit 1 makes the bus answer at once rather than wait for the name to be claimed.)
        with connect(bus.address) as conn, pytest.raises(DBusCallError) as raised:
            conn.call(SERVICES[0], "GetActive", timeout=POLL_TIMEOUT, auto_start=True)
        assert raised.value.error_name == "org.freedesktop.DBus.Error.Spawn.ChildExited"
        assert marker.exists()
    finally:
        bus.stop()


def test_bus_recorder_sees_the_calls_and_the_signals(
    session_bus: PrivateBus, fake_screensaver: FakeService, tmp_path: Path
) -> None:
    backend = ScreenSaverLockState(Session.from_env(session_bus.env), timeout=READ_TIMEOUT)
    try:
        with BusRecorder(session_bus.address, tmp_path / "bus.log") as recorder:
            backend.locked()
            recorder.wait_for("member=GetActive")
            screensaver_active(fake_screensaver, True)
            text = recorder.wait_for("member=ActiveChanged")
            assert "boolean true" in text.split("member=ActiveChanged", 1)[1]
    finally:
        backend.close()


def test_locked_meets_its_time_contract(
    session_bus: PrivateBus, fake_screensaver: FakeService
) -> None:
    backend = ScreenSaverLockState(Session.from_env(session_bus.env), timeout=READ_TIMEOUT)
    try:
        durations = []
        for _ in range(200):
            started = time.perf_counter()
            assert backend.locked() is False
            durations.append(time.perf_counter() - started)
    finally:
        backend.close()
    # LockState promises an answer within 100 ms; the median leaves room for a busy machine.
    assert statistics.median(durations) < 0.1


# ---- LogindLockState on a stand-in system bus --------------------------------------------


def test_logind_reads_locked_hint_both_ways(
    system_like_bus: PrivateBus, fake_logind: FakeService
) -> None:
    session = Session.from_env({})
    assert LogindLockState.probe(session, env=system_like_bus.env).ok
    backend = LogindLockState(session, env=system_like_bus.env, timeout=READ_TIMEOUT)
    try:
        assert backend.locked() is False
        logind_locked_hint(fake_logind, True)
        assert backend.locked() is True
        logind_locked_hint(fake_logind, False)
        assert backend.locked() is False
        fake_logind.call(
            "org.freedesktop.login1",
            "/org/freedesktop/login1/session/auto",
            "org.freedesktop.login1.Session.Lock",
        )
        assert backend.locked() is True
    finally:
        backend.close()


def test_logind_reads_the_system_bus_from_the_environment(
    system_like_bus: PrivateBus, fake_logind: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", system_like_bus.address)
    session = Session.from_env({})
    assert LogindLockState.probe(session).ok
    backend = LogindLockState(session, timeout=READ_TIMEOUT)
    try:
        logind_locked_hint(fake_logind, True)
        assert backend.locked() is True
    finally:
        backend.close()


def test_logind_service_gone_reads_none_and_bus_gone_raises(
    system_like_bus: PrivateBus, fake_logind: FakeService
) -> None:
    backend = LogindLockState(Session.from_env({}), env=system_like_bus.env, timeout=READ_TIMEOUT)
    try:
        fake_logind.stop()
        wait_until_none(backend)
        system_like_bus.stop()
        with pytest.raises(BackendError, match="system D-Bus connection"):
            backend.locked()
    finally:
        backend.close()
    probe = LogindLockState.probe(Session.from_env({}), env=system_like_bus.env)
    assert not probe.ok
    assert probe.reason.startswith("no system D-Bus")
    assert "DBUS_SYSTEM_BUS_ADDRESS" in probe.hint


def test_logind_not_running(system_like_bus: PrivateBus) -> None:
    with pytest.raises(BackendError, match="systemd-logind is not running") as raised:
        LogindLockState(Session.from_env({}), env=system_like_bus.env)
    assert raised.value.hint


def test_logind_without_a_session(system_like_bus: PrivateBus) -> None:
    service = FakeService(system_like_bus, "logind", "--no-session")
    try:
        with pytest.raises(BackendError, match="not running inside a logind session") as raised:
            LogindLockState(Session.from_env({}), env=system_like_bus.env)
        assert raised.value.hint
        assert "graphical login" in raised.value.hint
    finally:
        service.stop()


# ---- no bus at all -------------------------------------------------------------------------

# Runs in a child that is a child subreaper (prctl PR_SET_CHILD_SUBREAPER): a bus autolaunched
# by anything in it would daemonise and be re-parented to the child, so it cannot escape the
# count, and other people's dbus-daemons on this machine cannot enter it.
_NO_BUS_CHILD = """
import ctypes, json
import psutil
from presence.core.errors import BackendError
from presence.platform.base import Session
from presence.platform.logind_lock import LogindLockState
from presence.platform.screensaver_lock import ScreenSaverLockState

PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
session = Session.from_env()
probe = ScreenSaverLockState.probe(session)
logind = LogindLockState.probe(session)
errors = []
for backend in (ScreenSaverLockState, LogindLockState):
    try:
        backend(session).close()
    except BackendError as exc:
        errors.append(exc.message)
print(json.dumps({
    "session_bus": session.session_bus,
    "probe": [probe.ok, probe.reason, probe.hint],
    "logind": [logind.ok, logind.reason, logind.hint],
    "errors": errors,
    "children": [p.name() for p in psutil.Process().children(recursive=True)],
}))
"""


def test_without_a_bus_nothing_is_autolaunched(tmp_path: Path) -> None:
    require("dbus-daemon")  # without it, nothing could be autolaunched and the test proves nothing
    runtime_dir = tmp_path / "runtime"  # exists, but holds no `bus` socket
    runtime_dir.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"}
    }
    env["XDG_RUNTIME_DIR"] = str(runtime_dir)
    env["DBUS_SYSTEM_BUS_ADDRESS"] = f"unix:path={tmp_path}/no-system-bus"
    result = subprocess.run(
        [sys.executable, "-c", _NO_BUS_CHILD],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["session_bus"] is None
    assert report["probe"] == [False, "no session D-Bus", report["probe"][2]]
    assert "DBUS_SESSION_BUS_ADDRESS" in report["probe"][2]
    assert report["logind"][:2] == [
        False,
        f"no system D-Bus: socket {tmp_path}/no-system-bus does not exist",
    ]
    assert report["errors"][0] == "no session D-Bus"
    assert report["errors"][1].startswith("cannot connect to the system D-Bus")
    assert report["children"] == []  # no dbus-daemon, no dbus-launch: nothing was started
