"""The enforcer with fake backends, a fake clock and a real SQLite file: the enforcement log
(the reports' contract), notifications, snoozes, restarts, and the app and lock actions."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from presence.core.clock import FakeClock
from presence.core.errors import BackendError, ConfigError
from presence.core.model import Observation, Span, SpanState, WindowInfo
from presence.enforce import Enforcer
from presence.platform.base import AppWindow
from presence.platform.capability import Capability
from presence.platform.log_notify import LogNotifier
from presence.rulebook import manage, overrides
from presence.rules.engine import Policy
from presence.rules.model import RuleKind, parse_rule
from presence.store import RuleStore, Store

BERLIN = ZoneInfo("Europe/Berlin")


class FakeNotifier:
    name = "fake"
    actions_supported = True

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock
        self.shown: list[dict[str, Any]] = []
        self.callback: Callable[[int, str], None] | None = None
        self.broken = False
        self.failure: Exception | None = None  # raised by notify() when set
        self.attempts: list[float] = []  # the clock's monotonic time of every notify() call

    def notify(
        self,
        summary: str,
        body: str,
        *,
        replaces_id: int = 0,
        actions: Sequence[tuple[str, str]] = (),
    ) -> int:
        self.attempts.append(self.clock.monotonic() if self.clock is not None else 0.0)
        if self.failure is not None:
            raise self.failure
        if self.broken:
            raise BackendError("notification server gone")
        note = replaces_id or len(self.shown) + 1
        self.shown.append(
            {"id": note, "summary": summary, "body": body, "replaces": replaces_id,
             "actions": list(actions)}
        )  # fmt: skip
        return note

    def on_action(self, callback: Callable[[int, str], None]) -> None:
        self.callback = callback

    def close(self) -> None:
        pass


class FakeLocker:
    name = "fake"

    def __init__(self) -> None:
        self.calls = 0
        self.confirms = True

    def lock(self) -> bool:
        self.calls += 1
        return self.confirms

    def close(self) -> None:
        pass


class FakeApps:
    name = "fake"

    def __init__(self) -> None:
        self.open: list[AppWindow] = []
        self.asked: list[int] = []
        self.terminated: list[int] = []
        self.paused: set[int] = set()

    def windows(self) -> list[AppWindow]:
        return list(self.open)

    def close_window(self, window: AppWindow) -> None:
        self.asked.append(window.window)

    def terminate(self, pid: int) -> None:
        self.terminated.append(pid)
        self.open = [w for w in self.open if w.pid != pid]

    def pause(self, pid: int) -> list[int]:
        self.paused.add(pid)
        return [pid]

    def resume(self, pids: Sequence[int]) -> None:
        self.paused -= set(pids)

    def alive(self, pid: int) -> bool:
        return True

    def close(self) -> None:
        pass


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(UTC)


class Rig:
    def __init__(self, tmp_path: Path, start: str) -> None:
        self.path = tmp_path / "p.db"
        self.store = Store.open(f"sqlite:///{self.path}")
        self.device = self.store.device("laptop", "host", local(start))
        self.rules = RuleStore(self.store)
        self.clock = FakeClock(local(start))
        self.notifier = FakeNotifier(self.clock)
        self.notifier_error: Exception | None = None  # raised by the notifier's factory
        self.locker = FakeLocker()
        self.apps = FakeApps()
        self.paused_file = tmp_path / "paused.json"
        self.window: WindowInfo | None = WindowInfo("xterm", "t", 10)
        self.idle = 0.0
        self.locked = False
        self.enforcer = self.build()

    def build(self) -> Enforcer:
        enforcer = Enforcer(
            rules=self.rules,
            clock=self.clock,
            zone=BERLIN,
            device="laptop",
            device_id=self.device.id,
            policy=Policy(),
            idle_after=120,
            snooze_seconds=300,
            close_timeout=10,
            notifier=Capability("n", self.build_notifier),
            fallback=LogNotifier(),
            locker=Capability("l", lambda: self.locker),
            apps=Capability("a", lambda: self.apps),
            categorize=lambda app, title: "social" if app == "mastodon" else None,
            paused_file=self.paused_file,
        )
        enforcer.start()
        return enforcer

    def build_notifier(self) -> FakeNotifier:
        """The notifier capability's factory (called on the first notification)."""
        if self.notifier_error is not None:
            raise self.notifier_error
        return self.notifier

    def add(self, kind: str, name: str, **fields: Any) -> None:
        manage.add_rule(self.rules, parse_rule(name, RuleKind(kind), fields), self.clock.now())

    def tick(self, span: Span | None = None) -> None:
        obs = Observation(
            wall=self.clock.now(),
            mono=self.clock.monotonic(),
            window=self.window,
            idle_seconds=self.idle,
            counts=None,
            locked=self.locked,
        )
        self.enforcer.on_tick(obs, span)

    def run(self, until: str, every: float = 1.0) -> None:
        while self.clock.now() < local(until):
            self.clock.advance(every)
            self.tick()

    def events(self, rule: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        found = self.rules.events_between(
            self.clock.now() - timedelta(days=5), self.clock.now() + timedelta(days=1), rule
        )
        return [(e.event, e.detail) for e in found]

    def kinds(self, rule: str | None = None) -> list[str]:
        return [e for e, _ in self.events(rule)]


NIGHT = {"days": "daily", "start": "22:00", "end": "23:00", "warn": "10m,1m", "grace": "60s"}


def test_a_night_in_the_log_with_its_outcome(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 21:45")
    rig.add("tech-free", "night", **NIGHT)
    # ten minutes at the screen inside the window, recorded as a span
    rig.store.save_spans(
        rig.device.id,
        None,
        [
            Span(
                local("2026-01-15 22:05"),
                local("2026-01-15 22:15"),
                "xterm",
                None,
                SpanState.ACTIVE,
            )
        ],
    )
    rig.run("2026-01-15 22:20", every=5)
    rig.idle = 600.0  # away for the rest: no more nudges
    rig.run("2026-01-15 23:05", every=5)
    kinds = rig.kinds("night")
    assert kinds == ["warning", "warning", "start", "action", "nudge", "nudge", "nudge", "end",
                     "broken"]  # fmt: skip
    events = rig.events("night")
    assert [d.get("lead") for e, d in events if e == "warning"] == [600.0, 60.0]
    assert events[-1][1]["minutes_used"] == pytest.approx(10.0)
    row = rig.rules.events_between(local("2026-01-15 00:00"), local("2026-01-16 00:00"))[0]
    assert row.occurrence_start == local("2026-01-15 22:00").timestamp()
    assert row.occurrence_end == local("2026-01-15 23:00").timestamp()
    assert row.device_id == rig.device.id


def test_notifications_count_down_in_place_and_offer_a_snooze(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 21:49")
    rig.add("tech-free", "night", **NIGHT)
    rig.run("2026-01-15 22:01:30", every=1)
    shown = rig.notifier.shown
    assert [n["summary"] for n in shown] == [
        "Tech-free time in 10 min",
        "Tech-free time in 1 min",
        "Tech-free time has started",
        "Tech-free time until 23:00",
    ]
    assert "“night” 22:00 to 23:00. After 1 min: reminders" in shown[0]["body"]
    assert {n["id"] for n in shown} == {1}  # one notification, replaced in place
    assert shown[0]["actions"] == [] and shown[2]["actions"] == [("snooze", "Snooze 5 min")]


def test_snooze_from_the_notification_then_refused(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 22:00")
    rig.add("tech-free", "night", **NIGHT)
    rig.run("2026-01-15 22:01:10")
    assert rig.notifier.callback is not None
    rig.notifier.callback(1, "snooze")
    assert rig.kinds("night")[-1] == "snooze"
    assert rig.notifier.shown[-1]["summary"] == "Snoozed until 22:06:10"
    before = len(rig.kinds("night"))
    rig.run("2026-01-15 22:05:50")
    assert len(rig.kinds("night")) == before  # no nudge while snoozed
    rig.run("2026-01-15 22:06:10")
    assert rig.kinds("night")[-1] == "nudge"
    rig.notifier.callback(1, "snooze")
    assert rig.notifier.shown[-1]["summary"] == "Snooze refused"
    assert rig.kinds("night").count("snooze") == 1


def test_cli_snooze_and_override_take_effect_within_a_tick(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 22:00")
    rig.add("tech-free", "night", **NIGHT, action="lock")
    rig.run("2026-01-15 22:01:05")
    assert rig.locker.calls == 1
    now = rig.clock.now()
    overrides.snooze(rig.rules, rig.device.id, now, 600)
    with pytest.raises(Exception, match="snoozed 1 time already"):
        overrides.snooze(rig.rules, rig.device.id, now, 600)
    rig.locked = False
    rig.run("2026-01-15 22:10")
    assert rig.locker.calls == 1  # unlocked and used, but snoozed
    overrides.override(
        rig.rules,
        rig.device.id,
        BERLIN,
        rig.clock.now(),
        "night",
        "guests",
        local("2026-01-15 04:00").timetz(),
    )
    rig.run("2026-01-15 22:30")
    assert rig.locker.calls == 1
    assert rig.kinds("night").count("override") == 1


def test_a_restart_repeats_nothing(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 21:49")
    rig.add("tech-free", "night", **NIGHT)
    rig.run("2026-01-15 22:03")
    before = rig.kinds("night")
    rig.enforcer.shutdown()
    rig.enforcer = rig.build()  # a new daemon: its engine state comes from the log
    rig.run("2026-01-15 22:04")
    assert rig.kinds("night") == before
    rig.run("2026-01-15 23:01", every=10)
    kinds = rig.kinds("night")
    assert kinds.count("start") == 1 and kinds.count("end") == 1 and kinds.count("warning") == 2


def test_a_rule_added_later_is_enforced_within_a_tick(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 22:30")
    rig.run("2026-01-15 22:30:05")
    rig.add("tech-free", "night", **{**NIGHT, "grace": "0s"})
    rig.clock.advance(1)
    rig.tick()
    assert rig.kinds("night") == ["start", "action"]


def test_pause_apps_on_focus_and_resume_at_the_end_and_on_shutdown(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 21:59")
    rig.add("focus", "deep", **{**NIGHT, "grace": "0s"}, apps="firefox", action="pause-apps")
    rig.apps.open = [AppWindow(1, "firefox", "Navigator", 100), AppWindow(2, "xterm", "xterm", 200)]
    rig.run("2026-01-15 22:00:30")
    assert rig.apps.paused == set()  # firefox has no focus yet
    rig.window = WindowInfo("firefox", "news", 100)
    rig.clock.advance(1)
    rig.tick()
    assert rig.apps.paused == {100}
    assert rig.paused_file.exists()
    assert rig.notifier.shown[-1]["summary"] == "Paused firefox"
    rig.run("2026-01-15 23:00:05", every=5)
    assert rig.apps.paused == set()  # resumed at the end
    assert not rig.paused_file.exists()
    # the next night, a shutdown resumes it too
    rig.run("2026-01-16 22:00:30", every=60)
    assert rig.apps.paused == {100}
    rig.enforcer.shutdown()
    assert rig.apps.paused == set()


def test_close_apps_then_terminate_what_stays(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 22:00:50")
    rig.add("tech-free", "night", **NIGHT, action="close-apps", apps="firefox")
    rig.apps.open = [AppWindow(1, "firefox", "Navigator", 100), AppWindow(2, "xterm", "xterm", 200)]
    rig.run("2026-01-15 22:01:02")
    assert rig.apps.asked == [1]
    rig.run("2026-01-15 22:01:08")
    assert rig.apps.terminated == []
    rig.run("2026-01-15 22:01:13")
    assert rig.apps.terminated == [100]
    # reopened inside the window: closed again
    rig.apps.open.append(AppWindow(3, "Firefox", "Navigator", 101))
    rig.run("2026-01-15 22:01:15")
    assert rig.apps.asked == [1, 3]
    actions = [d for e, d in rig.events("night") if e == "action"]
    assert [a["apps"] for a in actions] == [["firefox"], ["Firefox"]]


def test_lock_not_confirmed_is_an_error_once(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 22:00:50")
    rig.add("tech-free", "night", **NIGHT, action="lock")
    rig.locker.confirms = False
    rig.run("2026-01-15 22:03")
    assert rig.locker.calls > 1  # still unlocked and used: it tries again
    assert rig.kinds("night").count("error") == 1


def test_a_broken_notifier_falls_back_to_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rig = Rig(tmp_path, "2026-01-15 21:59:55")
    rig.add("tech-free", "night", **NIGHT)
    rig.notifier.broken = True
    rig.run("2026-01-15 22:00:05")
    assert "notification: Tech-free time has started" in caplog.text
    assert rig.kinds("night") == ["warning", "start"]


def test_limit_counts_stored_and_open_spans(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 10:00")
    rig.add("limit", "social", categories="social", per_day="1h", grace="0s", warn="none")
    rig.store.save_spans(
        rig.device.id,
        None,
        [
            Span(
                local("2026-01-15 09:00"),
                local("2026-01-15 09:58"),
                "mastodon",
                None,
                SpanState.ACTIVE,
            )
        ],
    )
    rig.window = WindowInfo("mastodon", "home", 5)
    open_span = Span(
        local("2026-01-15 10:00"), local("2026-01-15 10:01"), "mastodon", None, SpanState.ACTIVE
    )
    rig.clock.set_wall(local("2026-01-15 10:01"))
    rig.tick(open_span)
    assert rig.kinds("social") == []  # 59 minutes
    open_span.end = local("2026-01-15 10:02:30")
    rig.clock.set_wall(open_span.end)
    rig.tick(open_span)
    assert rig.kinds("social") == ["start", "action"]
    open_span.end = local("2026-01-15 10:05")
    rig.store.save_spans(rig.device.id, None, [open_span])  # the recorder's flush
    rig.clock.set_wall(local("2026-01-16 04:00:01"))
    rig.tick(None)
    assert rig.kinds("social")[-2:] == ["end", "broken"]
    assert rig.events("social")[-1][1]["minutes_used"] == pytest.approx(63.0)


def test_a_persistently_failing_notifier_is_counted_and_backed_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rig = Rig(tmp_path, "2026-01-15 21:45")
    rig.add("tech-free", "night", **NIGHT)
    rig.notifier.failure = RuntimeError("a bug in the notifier")  # not a BackendError
    with caplog.at_level(logging.DEBUG):
        rig.run("2026-01-15 23:05", every=5)
    # Enforcement went on: every step is in the log, and the fallback showed each notification.
    assert rig.kinds("night")[:4] == ["warning", "warning", "start", "action"]
    assert rig.kinds("night")[-2:] == ["end", "kept"]
    assert "notification: Tech-free time has started" in caplog.text
    # Retried with back-off: 30 s, then doubling (each wait at least as long as planned).
    attempts = rig.notifier.attempts
    assert len(attempts) >= 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert all(gap >= min(30 * 2**i, 600) for i, gap in enumerate(gaps))
    # Said once at WARNING (and once more when the back-off reached its cap), not per try.
    warned = [
        r for r in caplog.records if r.name == "presence.core.faults" and r.levelname == "WARNING"
    ]
    assert 1 <= len(warned) <= 2
    assert "this is a bug" in warned[0].getMessage()
    # Counted, and visible to `presence status` and `doctor`.
    (snap,) = [f for f in rig.enforcer.faults() if f.name == "n"]
    assert snap.failures == snap.streak == len(attempts)
    assert snap.failing and snap.retry_in > 0
    assert snap.last_error == "RuntimeError: a bug in the notifier"
    # A notifier that works again ends the run of failures; the count stays.
    failed = len(attempts)
    rig.notifier.failure = None
    rig.add("tech-free", "later", **{**NIGHT, "start": "23:30", "end": "23:40"})
    rig.run("2026-01-15 23:35", every=5)
    assert rig.notifier.shown
    (snap,) = [f for f in rig.enforcer.faults() if f.name == "n"]
    assert not snap.failing and snap.failures == failed


def test_a_fatal_error_met_on_the_timer_thread_stops_the_next_tick(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 21:49:59")
    rig.add("tech-free", "night", **NIGHT)

    rig.notifier_error = ConfigError("PRESENCE_BACKEND_NOTIFY asks for backend 'nonsense'")
    rig.clock.advance(2)  # the 10-minute warning is due
    rig.enforcer.on_timer()  # the timer thread: never raises
    with pytest.raises(ConfigError, match="nonsense"):
        rig.tick()
