"""The Wayland protocol backends against real compositors: idle notifications (KDE's on headless
sway 1.7, ext-idle-notify on headless KWin), wlr-foreign-toplevel focus and close on sway, and
one daemon run on sway with these backends forced by name."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable

import pytest

from presence.core.errors import BackendError
from presence.core.model import SpanState
from presence.platform.base import Session
from presence.platform.selection import choose
from presence.platform.wayland_idle import ExtIdleNotifyIdle, KdeIdle
from presence.platform.wlr_toplevel import WlrForeignToplevelWindowSource, WlrToplevelAppController
from tests.integration.daemon_process import window_now
from tests.integration.wayland_kwin import KWinSession
from tests.integration.wayland_sway import SwayServer, UserDaemonProcess
from tests.integration.xserver import wait_until

pytestmark = pytest.mark.integration

TOLERANCE = 0.25  # seconds: the accuracy target
CONFIG = '[reports]\ntimezone = "UTC"\n'
# The daemon gets no system bus of the machine's: its logind is not this test session's.
NO_SYSTEM_BUS = "unix:path=/nonexistent/presence-test-system-bus"


def _session(env: dict[str, str]) -> Session:
    return Session.from_env(env)


def _input_then_check(idle: KdeIdle | ExtIdleNotifyIdle, give_input: Callable[[], object]) -> None:
    """Give input, then check idle resets and is back-dated to that input within TOLERANCE."""
    before = time.monotonic()
    give_input()
    after = time.monotonic()
    wait_until(lambda: idle.idle_seconds() < after - before + 0.5, "idle to reset", timeout=5)
    time.sleep(2.0)  # past the 1 s notification: idle again, back-dated
    now = time.monotonic()
    last_input = now - idle.idle_seconds()
    assert before - TOLERANCE <= last_input <= after + TOLERANCE, (before, last_input, after)


def test_kde_idle_grows_and_resets_on_input(sway_session: SwayServer) -> None:
    session = _session(sway_session.env)
    choice = choose("idle", session, env={"PRESENCE_BACKEND_IDLE": "kde-idle"})
    assert choice.name == "kde-idle", choice.rejected
    idle = choice.backend
    assert isinstance(idle, KdeIdle)
    try:
        start = time.monotonic()
        time.sleep(2.5)
        first = idle.idle_seconds()
        # Nothing happened since the notification was made: idle counts from then.
        assert abs(first - (time.monotonic() - start)) <= TOLERANCE
        time.sleep(1.0)
        assert idle.idle_seconds() - first == pytest.approx(1.0, abs=TOLERANCE)
        _input_then_check(idle, lambda: sway_session.type("hello"))
        _input_then_check(idle, lambda: sway_session.msg("seat", "-", "cursor", "move", "5", "5"))
    finally:
        idle.close()
        idle.close()  # idempotent


def test_ext_idle_notify_on_kwin(kwin_session: KWinSession) -> None:
    # sway 1.7 (wlroots 0.15) does not offer ext_idle_notifier_v1; KWin 5.27 does.
    session = _session(kwin_session.env)
    probe = ExtIdleNotifyIdle.probe(session)
    assert probe.ok, probe
    idle = ExtIdleNotifyIdle(session)
    try:
        start = time.monotonic()
        time.sleep(2.5)
        assert abs(idle.idle_seconds() - (time.monotonic() - start)) <= TOLERANCE
        _input_then_check(idle, lambda: kwin_session.screensaver("SimulateUserActivity"))
    finally:
        idle.close()


def test_wlr_window_source_follows_focus_by_events(sway_session: SwayServer) -> None:
    sway_session.foot("alpha", "Alpha window")
    sway_session.foot("beta", "Beta window")
    session = _session(sway_session.env)
    choice = choose("window", session, env={"PRESENCE_BACKEND_WINDOW": "wlr"})
    assert choice.name == "wlr", choice.rejected
    source = choice.backend
    assert isinstance(source, WlrForeignToplevelWindowSource)
    woken = threading.Event()
    woken_at: list[float] = []

    def wake() -> None:
        woken_at.append(time.monotonic())
        woken.set()

    try:
        source.watch(wake)
        focused = source.focused()
        assert focused is not None
        assert (focused.app, focused.title, focused.pid) == ("beta", "Beta window", None)
        for app_id, title in (("alpha", "Alpha window"), ("beta", "Beta window")):
            woken.clear()
            sway_session.focus(app_id, wait=False)
            sent = time.monotonic()  # swaymsg returned: sway has moved the focus
            assert woken.wait(5), f"no wake for {app_id}"
            assert woken_at[-1] - sent <= 0.1, (woken_at[-1] - sent, app_id)
            focused = source.focused()
            assert focused is not None
            assert (focused.app, focused.title) == (app_id, title)
    finally:
        source.close()
        source.close()


def test_wlr_closes_a_window_through_the_protocol(sway_session: SwayServer) -> None:
    keep = sway_session.foot("keep", "Keep me")
    doomed = sway_session.foot("doomed", "Close me")
    session = _session(sway_session.env)
    choice = choose("apps", session, env={"PRESENCE_BACKEND_APPS": "wlr"})
    assert choice.name == "wlr", choice.rejected
    apps = choice.backend
    assert isinstance(apps, WlrToplevelAppController)
    try:
        windows = {w.app: w for w in apps.windows()}
        assert set(windows) == {"keep", "doomed"}
        assert windows["doomed"].title == "Close me"
        assert windows["doomed"].pid is None  # the protocol gives none
        apps.close_window(windows["doomed"])
        wait_until(lambda: sway_session.window("doomed") is None, "the window to close")
        wait_until(lambda: doomed.poll() is not None, "foot to exit")
        wait_until(lambda: [w.app for w in apps.windows()] == ["keep"], "the list to follow")
        assert keep.poll() is None
    finally:
        apps.close()


def test_daemon_on_sway_with_wlr_and_kde_idle(sway_session: SwayServer) -> None:
    sway_session.foot("alpha", "Alpha window")
    sway_session.foot("beta", "Beta window")
    sway_session.foot("park", "Parked here")
    env = dict(
        sway_session.env,
        PRESENCE_BACKEND_WINDOW="wlr",
        PRESENCE_BACKEND_IDLE="kde-idle",
        DBUS_SYSTEM_BUS_ADDRESS=NO_SYSTEM_BUS,
    )
    assert sway_session.runtime_dir is not None
    root = sway_session.runtime_dir / "daemon"  # the test user's own (0700) directory
    root.mkdir()
    daemon = UserDaemonProcess(
        sway_session.user, root, env, CONFIG + "[sampling]\nidle_after = 30\n"
    )
    daemon.start()
    truth: dict[str, float] = defaultdict(float)
    try:
        daemon.wait_for_log("using wlr")
        daemon.wait_for_log("using kde-idle")
        plan = [("alpha", 2.3), ("beta", 3.1), ("alpha", 1.7), ("beta", 2.6)]
        for app_id, seconds in plan:
            sway_session.focus(app_id, wait=False)
            started = time.time()  # swaymsg returned: the focus has moved
            sway_session.type("x")
            time.sleep(max(0.0, seconds - (time.time() - started)))
            truth[app_id] += time.time() - started
        sway_session.focus("park", wait=False)  # the plan ends here; park is not compared
        time.sleep(1.2)
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    spans = daemon.spans()
    active: dict[str | None, float] = defaultdict(float)
    for span in spans:
        if span.state is SpanState.ACTIVE:
            active[span.app] += span.seconds
    # Before the plan, park (focused last) was recorded from the daemon's start: not compared.
    assert abs(active["alpha"] - truth["alpha"]) <= TOLERANCE, (active, truth, spans)
    assert abs(active["beta"] - truth["beta"]) <= TOLERANCE, (active, truth, spans)
    assert "Alpha window" in {s.title for s in spans if s.app == "alpha"}
    assert "Traceback" not in daemon.log()


def test_a_compositor_gone_is_a_backend_error(sway_session: SwayServer) -> None:
    sway_session.foot("alpha", "Alpha window")
    session = _session(sway_session.env)
    idle = KdeIdle(session)
    window = WlrForeignToplevelWindowSource(session)
    try:
        assert window.focused() is not None
        sway_session.stop()

        def failing(read: Callable[[], object]) -> bool:
            try:
                read()
            except BackendError:
                return True
            return False

        wait_until(lambda: failing(idle.idle_seconds), "idle to fail", timeout=5)
        wait_until(lambda: failing(window.focused), "the window source to fail", timeout=5)
    finally:
        started = time.monotonic()
        idle.close()
        window.close()
        assert time.monotonic() - started < 1.0  # nothing hangs on a dead connection


def test_a_close_apps_rule_closes_through_wlr(sway_session: SwayServer) -> None:
    victim = sway_session.foot("victim", "to be closed")
    other = sway_session.foot("other", "left alone")
    assert sway_session.runtime_dir is not None
    root = sway_session.runtime_dir / "daemon"
    root.mkdir()
    env = dict(sway_session.env, PRESENCE_BACKEND_APPS="wlr", DBUS_SYSTEM_BUS_ADDRESS=NO_SYSTEM_BUS)
    daemon = UserDaemonProcess(sway_session.user, root, env, CONFIG)
    done = daemon.cli(
        "rules", "add", "tech-free", "closing", *window_now(),
        "--apps", "victim", "--action", "close-apps", "--grace", "0s",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    daemon.start()
    try:
        daemon.wait_for_log("using wlr")
        wait_until(lambda: victim.poll() is not None, "the victim to be closed", timeout=20)
        assert other.poll() is None
        assert sway_session.window("victim") is None
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    log = daemon.log()
    assert "gives no process ids" in log  # said once, honestly
    assert "Traceback" not in log


def test_wlr_title_change_is_pushed(sway_session: SwayServer) -> None:
    # foot takes a new title from OSC 2, as a shell prompt sets it.
    script = "sleep 3; printf '\\033]2;%s\\007' 'Second title'; sleep 600"
    sway_session.spawn(["foot", "--app-id", "titled", "--title", "First title", "sh", "-c", script])
    wait_until(lambda: sway_session.window("titled"), "the foot window")
    source = WlrForeignToplevelWindowSource(_session(sway_session.env))
    seen: list[str | None] = []
    changed = threading.Event()

    def wake() -> None:
        focused = source.focused()
        seen.append(None if focused is None else focused.title)
        if seen[-1] == "Second title":
            changed.set()

    try:
        source.watch(wake)
        assert changed.wait(10), seen
        focused = source.focused()
        assert focused is not None and (focused.app, focused.title) == ("titled", "Second title")
    finally:
        source.close()
