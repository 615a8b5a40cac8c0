"""The real daemon against a scripted X11 session's truth: every second on the app and state
it belongs to, within 0.25 s.

The script (Xvfb, openbox, three xterms, a fake screensaver on a private session bus) has the
issue's case twice, idle that begins after focus moved on without input (so back-dating idle
crosses focus changes), a lock in the middle, unlocking into idle, and switches at fractional
seconds. Focus changes and inputs come from the test's own X connection (x11_driver), so their
instants are known to the millisecond; the daemon sees focus through X11 PropertyNotify and the
lock through the screensaver's ActiveChanged, so both boundaries land at the event.

The truth follows the documented rules (docs/architecture.md, "The timeline's invariants"):
idle after `idle_after` without input, back-dated to the last input but never into a lock;
locked time has no app. The script keeps every input-free stretch either clearly shorter or
clearly longer than `idle_after`, and the first input after an idle stretch is followed by a
pause longer than a tick: idle's return is read at a tick, which sees only the latest input.
"""

from __future__ import annotations

import bisect
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from presence.core.model import Span, SpanState
from presence.platform.dbus import RemoteObject, connect
from tests.integration.daemon_process import DaemonProcess, without_bus
from tests.integration.sessionbus import FakeService, PrivateBus
from tests.integration.x11_driver import XDriver
from tests.integration.xserver import XSession

pytestmark = pytest.mark.integration

IDLE_AFTER = 5.0
TOLERANCE = 0.25  # seconds per app and state
NO_SYSTEM_BUS = "unix:path=/nonexistent/presence-test-system-bus"
CONFIG = f'[sampling]\nidle_after = {IDLE_AFTER:g}\n[backends]\nlock = "screensaver"\n'
SCREENSAVER = RemoteObject(
    "org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver"
)


def every(start: float, stop: float, step: float) -> list[tuple[float, str]]:
    """Inputs from `start` to `stop` (inclusive), `step` apart."""
    count = int((stop - start) / step + 1e-9) + 1
    return [(round(start + i * step, 3), "input") for i in range(count)]


# (seconds after the start, action): "focus X", "input", "lock", "unlock", "end".
SCRIPT: list[tuple[float, str]] = sorted(
    [
        (0.00, "focus AppAlpha"),
        *every(0.13, 3.83, 0.37),
        (4.21, "focus AppBeta"),  # no input: idle from 3.83, across this switch
        (12.64, "focus AppGamma"),  # still none
        (15.17, "input"),  # idle ends; the next input comes after more than a tick
        *every(16.53, 20.63, 0.41),
        (21.07, "lock"),
        (27.44, "unlock"),  # 6.8 s after the last input: idle from the unlock on
        (29.31, "focus AppAlpha"),
        (31.76, "input"),
        *every(33.10, 35.25, 0.43),
        (35.72, "focus AppBeta"),
        *every(36.05, 38.39, 0.39),
        (38.93, "focus AppGamma"),  # no input from 38.39: idle noticed at 43.39, back-dated
        (41.58, "focus AppAlpha"),
        (46.19, "input"),
        *every(47.50, 48.30, 0.40),
        (48.77, "end"),
    ]
)


@dataclass
class Played:
    """When each action of the script really happened (wall clock, seconds since the epoch)."""

    focus: list[tuple[float, str]] = field(default_factory=list)
    inputs: list[float] = field(default_factory=list)
    locks: list[tuple[float, float]] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0


def play(x: XDriver, windows: dict[str, int], lock: RemoteObject, bus: str) -> Played:
    played = Played()
    conn = connect(bus, bus="test session bus")
    try:
        played.inputs.append(x.key())  # active when the script starts
        time.sleep(0.3)
        start = time.time()
        played.start = start
        locked_at = 0.0
        for offset, action in SCRIPT:
            time.sleep(max(0.0, start + offset - time.time()))
            if action.startswith("focus "):
                app = action.split()[1]
                played.focus.append((x.activate(windows[app]), app))
            elif action == "input":
                played.inputs.append(x.key())
            elif action in ("lock", "unlock"):
                sent = time.time()
                conn.call(lock, "SetActive", "b", (action == "lock",))
                # The state changes between sending and the reply: take the middle.
                at = (sent + time.time()) / 2
                if action == "lock":
                    locked_at = at
                else:
                    played.locks.append((locked_at, at))
            else:
                played.end = x.activate(windows["Parking"])
        return played
    finally:
        conn.close()


Key = tuple[str | None, SpanState]


def truth(played: Played, step: float = 0.001) -> dict[Key, float]:
    """Seconds per (app, state) between the script's start and end, by the documented rules."""
    focus_at = [t for t, _ in played.focus]
    inputs = sorted(played.inputs)
    out: dict[Key, float] = defaultdict(float)
    t = played.start + step / 2
    while t < played.end:
        if any(on <= t < off for on, off in played.locks):
            out[None, SpanState.LOCKED] += step
        else:
            app = played.focus[bisect.bisect_right(focus_at, t) - 1][1]
            i = bisect.bisect_right(inputs, t)
            last = inputs[i - 1]
            nxt = inputs[i] if i < len(inputs) else played.end
            lock_next = min((on for on, _ in played.locks if on > t), default=played.end)
            # Idle when the input-free stretch (cut short by a lock) reaches idle_after; the
            # script keeps every stretch seconds away from that threshold.
            idle = min(nxt, lock_next) - last >= IDLE_AFTER
            out[app, SpanState.IDLE if idle else SpanState.ACTIVE] += step
        t += step
    return dict(out)


def recorded(spans: list[Span], start: float, end: float) -> dict[Key, float]:
    out: dict[Key, float] = defaultdict(float)
    for span in spans:
        a, b = max(span.start.timestamp(), start), min(span.end.timestamp(), end)
        if b > a:
            out[span.app, span.state] += b - a
    return dict(out)


@pytest.fixture
def screensaver_session(
    x_session: XSession, session_bus: PrivateBus, fake_screensaver: FakeService
) -> Iterator[dict[str, str]]:
    env = without_bus(x_session.env)
    env["DBUS_SESSION_BUS_ADDRESS"] = session_bus.address
    env["DBUS_SYSTEM_BUS_ADDRESS"] = NO_SYSTEM_BUS
    yield env


def test_every_second_lands_on_its_app_and_state(
    x_session: XSession, screensaver_session: dict[str, str], tmp_path: Path
) -> None:
    windows = {
        app: x_session.spawn_xterm(app, app.lower())[1]
        for app in ("AppAlpha", "AppBeta", "AppGamma", "Parking")
    }
    x = XDriver(x_session.display)
    x.activate(windows["Parking"])
    daemon = DaemonProcess(tmp_path, screensaver_session, CONFIG)
    daemon.start()
    try:
        daemon.wait_for_log("using x11")
        daemon.wait_for_log("using xscreensaver")
        daemon.wait_for_log("using screensaver")
        played = play(x, windows, SCREENSAVER, screensaver_session["DBUS_SESSION_BUS_ADDRESS"])
        time.sleep(1.5)
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
        x.close()
    want = truth(played)
    got = recorded(daemon.spans(), played.start, played.end)
    report = [
        f"{app or '-':9s} {state.value:6s} truth {want.get((app, state), 0):6.2f} s  "
        f"recorded {got.get((app, state), 0):6.2f} s  "
        f"error {got.get((app, state), 0) - want.get((app, state), 0):+.3f} s"
        for app, state in sorted(want.keys() | got.keys(), key=str)
    ]
    print("\n".join(report))
    for key in want.keys() | got.keys():
        error = got.get(key, 0.0) - want.get(key, 0.0)
        assert abs(error) <= TOLERANCE, "\n".join(report)
    assert "Traceback" not in daemon.log()
