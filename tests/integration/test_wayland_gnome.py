"""presence on a real headless GNOME Shell (Wayland), as the desktop test user.

The shell runs with presence's extension installed by `presence setup gnome` before it starts
(tests/integration/wayland_gnome.py). Real gtk3-demo and weston-terminal windows are focused
in a known plan through the extension's Activate (what a click does); input comes from a
Mutter RemoteDesktop session; the lock is GNOME's own (org.gnome.ScreenSaver Lock).

Only the GNOME 43-44 format of the extension can run on these machines (Debian 12 ships GNOME
Shell 43); the 45+ ES-module format is checked by tests/unit/test_gnome_setup.py with
`node --check`.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from jeepney import MatchRule  # type: ignore[import-untyped, unused-ignore]
from jeepney.bus_messages import message_bus  # type: ignore[import-untyped, unused-ignore]
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped, unused-ignore]

from presence.core.model import Span, SpanState
from presence.platform.base import Session
from presence.platform.gnome_shell import EXTENSION
from presence.platform.gnome_window import GnomeExtensionWindowSource
from presence.platform.screensaver_lock import ScreenSaverLockState
from tests.integration.components import require
from tests.integration.daemon_process import window, window_now
from tests.integration.desktop_user import REPO
from tests.integration.wayland_gnome import GnomeSession, GnomeWindow
from tests.integration.wayland_sway import UserDaemonProcess

pytestmark = pytest.mark.integration

DEMO = "gtk3-demo"
TERMINAL = "org.freedesktop.weston.wayland-terminal"
TOLERANCE = 0.25  # seconds per app (issue 9's target)
CONFIG = '[device]\nname = "gnomebox"\n[reports]\ntimezone = "UTC"\n[sampling]\nidle_after = 5\n'


def two_windows(session: GnomeSession) -> tuple[GnomeWindow, GnomeWindow]:
    require(DEMO, "weston-terminal")
    session.spawn([DEMO])
    session.spawn(["weston-terminal"])
    return session.wait_window(DEMO), session.wait_window(TERMINAL)


def active_between(spans: list[Span], start: float, end: float) -> dict[str | None, float]:
    """Seconds of active time per app inside [start, end] (epoch seconds)."""
    totals: dict[str | None, float] = defaultdict(float)
    for span in spans:
        if span.state is not SpanState.ACTIVE:
            continue
        overlap = min(span.end.timestamp(), end) - max(span.start.timestamp(), start)
        if overlap > 0:
            totals[span.app] += overlap
    return dict(totals)


def work(session: GnomeSession, window: GnomeWindow, seconds: float) -> tuple[float, float]:
    """Focus `window` and move the pointer every 0.4 s for `seconds`; returns (focused at,
    last input at)."""
    started = session.activate(window)
    last = session.poke()
    while time.time() - started < seconds - 0.4:
        time.sleep(0.4)
        last = session.poke()
    time.sleep(max(0.0, seconds - (time.time() - started)))
    return started, last


def answered(lock_state: ScreenSaverLockState) -> bool | None:
    """`locked()` once it answers: None means "cannot tell this time" (its 0.1 s limit, which
    the gjs proxy in front of the shell can exceed on a loaded machine)."""
    deadline = time.monotonic() + 5
    while (state := lock_state.locked()) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return state


def daemon_for(session: GnomeSession) -> UserDaemonProcess:
    # In the user's private runtime dir: pytest's tmp_path is closed to the test user.
    root = session.runtime / "daemon"
    root.mkdir()
    return UserDaemonProcess(session.user, root, session.env, CONFIG)


def test_the_daemon_records_the_plan_idle_and_the_lock(gnome_session: GnomeSession) -> None:
    session = gnome_session
    assert "Installed presence's GNOME Shell extension" in session.setup_output
    assert "log out and log in" in session.setup_output
    demo, terminal = two_windows(session)
    session.activate(demo)
    daemon = daemon_for(session)
    daemon.start()
    try:
        for backend in ("using gnome", "using mutter", "using screensaver"):
            daemon.wait_for_log(backend)
        for _ in range(3):  # active before the plan starts
            session.poke()
            time.sleep(0.4)
        truth: dict[str, float] = defaultdict(float)
        plan = [(terminal, 2.3), (demo, 1.7), (terminal, 3.1), (demo, 2.6), (terminal, 1.4)]
        begin = last_input = time.time()
        previous: tuple[str, float] | None = None
        for window, seconds in plan:
            started, last_input = work(session, window, seconds)
            if previous is not None:
                truth[previous[0]] += started - previous[1]
            previous = (window.wm_class, started)
        assert previous is not None
        truth[previous[0]] += last_input - previous[1]  # then idle, back-dated to the input
        time.sleep(5 + 2.0)  # no input: idle after 5 s
        locked_at = time.time()
        session.lock()
        assert session.locked()
        time.sleep(2.5)
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
    spans = daemon.spans()
    active = active_between(spans, begin, last_input + 5)
    for app in (DEMO, TERMINAL):
        assert abs(active.get(app, 0.0) - truth[app]) <= TOLERANCE, (active, truth, spans)
    # (before the plan the session had no input yet: idle too)
    idle = [s for s in spans if s.state is SpanState.IDLE and s.start.timestamp() > begin]
    assert idle, spans
    # Back-dated: idle starts at the last input, not when the threshold passed.
    assert abs(idle[0].start.timestamp() - last_input) <= 0.5, (idle[0], last_input)
    assert idle[0].app == TERMINAL
    locked = [s for s in spans if s.state is SpanState.LOCKED]
    assert locked, spans
    assert abs(locked[0].start.timestamp() - locked_at) <= 1.5, (locked[0], locked_at)
    assert any(s.title == "Wayland Terminal" for s in spans if s.app == TERMINAL)
    log = daemon.log()
    assert "Traceback" not in log
    assert "Wayland Terminal" not in log  # titles only at DEBUG


def test_focus_events_and_the_lock_signal_reach_the_backends(
    gnome_session: GnomeSession,
) -> None:
    session = gnome_session
    demo, terminal = two_windows(session)
    # A known start: whichever window mapped last may hold the focus, and activating the
    # window that already has it changes nothing (no signal to wait for).
    session.activate(terminal)
    presence_session = Session.from_env(session.env)
    source = GnomeExtensionWindowSource(presence_session)
    woken = threading.Event()
    source.watch(woken.set)
    lock_state = ScreenSaverLockState(presence_session)
    signals = open_dbus_connection(bus=session.bus_address)
    try:
        session.activate(demo)
        assert woken.wait(5)
        woken.clear()
        session.activate(terminal)
        assert woken.wait(5)  # the signal comes as the focus changes, not at a tick
        # (a late signal of the first switch may wake it first: the next one follows)
        deadline = time.monotonic() + 5
        while (seen := source.focused()) is None or seen.app != TERMINAL:
            assert time.monotonic() < deadline, seen
            time.sleep(0.01)
        assert seen.pid == terminal.pid
        assert source._pushed == (seen,)  # from the signal itself: no GetFocus round trip
        assert seen.title == "Wayland Terminal"
        assert lock_state.service.bus_name == "org.gnome.Shell.ScreenShield"  # no proxy started
        assert answered(lock_state) is False
        rule = MatchRule(type="signal", interface="org.gnome.ScreenSaver", member="ActiveChanged")
        signals.send_and_get_reply(message_bus.AddMatch(rule), timeout=10)
        with signals.filter(rule) as changes:
            session.lock()
            assert signals.recv_until_filtered(changes, timeout=10).body == (True,)
        assert answered(lock_state) is True
        # Disabled by the user: the shell drops it at once, the pushed copy is dropped with
        # its bus name, and the probe says what to do.
        session.user.run(
            ["gsettings", "set", "org.gnome.shell", "enabled-extensions", "[]"], session.env
        )
        deadline = time.monotonic() + 10
        while source.focused() is not None:
            assert time.monotonic() < deadline, "the extension stayed after it was disabled"
            time.sleep(0.05)
        probe = GnomeExtensionWindowSource.probe(presence_session)
        assert "not installed/enabled/running" in probe.reason, probe
        assert "presence setup gnome" in probe.hint
    finally:
        signals.close()
        lock_state.close()
        source.close()


def test_a_close_apps_rule_closes_a_real_window_and_setup_is_idempotent(
    gnome_session: GnomeSession,
) -> None:
    session = gnome_session
    _, terminal = two_windows(session)
    victim = next(p for p in session.processes if p.args == [DEMO])
    session.activate(terminal)
    daemon = daemon_for(session)
    added = daemon.cli(
        "rules", "add", "tech-free", "closing", *window_now(),
        "--apps", DEMO, "--action", "close-apps", "--grace", "0s",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    # The session's own settings and data dirs, where `presence setup gnome` installed it.
    doctor = session.user.run(
        [sys.executable, "-m", "presence", "doctor", "--json"], session.env, cwd=str(REPO)
    )
    assert doctor.returncode == 0, doctor.stderr
    chosen = {c["capability"]: c["backend"] for c in json.loads(doctor.stdout)["capabilities"]}
    assert chosen["window"] == "gnome" and chosen["apps"] == "gnome", chosen
    assert chosen["idle"] == "mutter", chosen
    note = [n for n in json.loads(doctor.stdout)["notes"] if n.startswith("GNOME:")]
    assert note and "enabled, running" in note[0] and "fix" not in note[0], note
    # Running setup again changes nothing and keeps the user's other extensions.
    session.user.run(
        ["gsettings", "set", "org.gnome.shell", "enabled-extensions", "['other@example.org', "
         "'presence@presence-desktop.github.io']"],
        session.env,
    )  # fmt: skip
    again = session.user.run(
        [sys.executable, "-m", "presence", "setup", "gnome"], session.env, cwd=str(REPO)
    )
    assert again.returncode == 0, again.stderr
    assert "Already installed" in again.stdout and "already enabled" in again.stdout
    listed = session.user.run(
        ["gsettings", "get", "org.gnome.shell", "enabled-extensions"], session.env
    ).stdout
    assert listed.strip() == "['other@example.org', 'presence@presence-desktop.github.io']"
    daemon.start()
    try:
        daemon.wait_for_log("using gnome")
        victim.wait(timeout=20)  # closed by the shell (the window's close), the app exited
        assert all(w.wm_class != DEMO for w in session.windows())
        assert any(w.wm_class == TERMINAL for w in session.windows())
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
    assert "Traceback" not in daemon.log()
    assert "presence@presence-desktop.github.io" not in session.log()  # no error of ours


def indicator_text(session: GnomeSession) -> str:
    """The extension's panel indicator text (its test method), "" while it is hidden."""
    (text,) = session.call(EXTENSION, "GetIndicatorText")
    return str(text)


def bar_text(daemon: UserDaemonProcess) -> str:
    done = daemon.cli("status", "--format", "waybar")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["text"])


def shows_the_bar_text(session: GnomeSession, daemon: UserDaemonProcess, lag: float = 2.0) -> str:
    """The indicator's text once it equals `presence status --format waybar`'s, read up to
    `lag` seconds after the CLI's (the two read the daemon at different instants)."""
    expected = bar_text(daemon)
    deadline = time.monotonic() + lag
    while (shown := indicator_text(session)) != expected:
        assert time.monotonic() < deadline, (shown, expected)
        time.sleep(0.1)
    return shown


def test_the_panel_indicator_shows_the_status_bar_text(gnome_session: GnomeSession) -> None:
    session = gnome_session
    assert indicator_text(session) == ""  # no daemon on the bus: hidden
    daemon = daemon_for(session)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now + timedelta(minutes=45)
    added = daemon.cli(
        "rules", "add", "tech-free", "evening", *window(start, start + timedelta(minutes=30))
    )
    assert added.returncode == 0, added.stderr
    daemon.start()
    try:
        session.poke()
        deadline = time.monotonic() + 15
        while not indicator_text(session):  # the daemon's name appears, then its properties
            assert time.monotonic() < deadline, daemon.log()[-2000:]
            time.sleep(0.1)
        shown = shows_the_bar_text(session, daemon)
        assert "evening in 4" in shown, shown  # today's total, then the window 44-45 min away
        paused = daemon.cli("pause", "--reason", "testing the indicator")
        assert paused.returncode == 0, paused.stderr
        deadline = time.monotonic() + 10  # the daemon notices at its next tick, then signals
        while indicator_text(session) != "paused":
            assert time.monotonic() < deadline, indicator_text(session)
            time.sleep(0.1)
        assert shows_the_bar_text(session, daemon) == "paused"
        assert daemon.stop(signal.SIGTERM) == 0
        deadline = time.monotonic() + 10
        while indicator_text(session):  # the daemon left the bus: hidden again
            assert time.monotonic() < deadline, indicator_text(session)
            time.sleep(0.1)
    finally:
        daemon.kill()
    assert "Traceback" not in daemon.log()
    assert "presence@presence-desktop.github.io" not in session.log()  # no error of ours
