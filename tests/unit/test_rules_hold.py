"""Issue 10, rules that hold: each test is a way out of a rule that used to work."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from presence.core.clock import FakeClock
from presence.core.errors import ConfigError, InputError
from presence.core.model import InputCounts, Span, SpanState, WindowInfo
from presence.daemon.loop import Daemon
from presence.enforce import Enforcer
from presence.enforce.worker import EnforcementWorker
from presence.platform.capability import Capability
from presence.platform.log_notify import LogNotifier
from presence.rulebook import manage, overrides
from presence.rules.engine import Policy
from presence.rules.model import RuleKind, parse_rule
from presence.settings.files import Paths
from presence.settings.schema import PrivacySettings, Settings
from presence.store import RuleStore, Store
from presence.store.reporting import ReportQueries
from presence.tracking.categories import Categorizer, add_category, builtin_rules
from presence.tracking.privacy import Redactor
from presence.tracking.recorder import Recorder
from presence.tracking.sampler import Sampler
from presence.tracking.timeline import Timeline
from tests.unit.fakes import FakeCounter, FakeIdle, FakeLock, FakeWindow
from tests.unit.test_enforcer import BERLIN, FakeApps, FakeLocker, FakeNotifier, local
from tests.unit.test_enforcer import Rig as EnforcerRig
from tests.unit.test_rules_cli import Cli, cli, home  # noqa: F401 - the CLI's fixtures


class DaemonRig:
    """A daemon with fake backends, a fake clock and an enforcer, on a real SQLite file."""

    def __init__(self, tmp_path: Path, start: str) -> None:
        self.clock = FakeClock(local(start))
        self.store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
        device = self.store.device("laptop", "host", self.clock.now())
        self.device_id = device.id
        run = self.store.start_run(device.id, 1, "0", self.clock.now())
        self.rules = RuleStore(self.store)
        self.window = FakeWindow()
        self.idle = FakeIdle(self.clock)
        self.counter = FakeCounter()
        self.locker = FakeLocker()
        sampler = Sampler(
            self.clock,
            ZoneInfo("Europe/Berlin"),
            Redactor(PrivacySettings()),
            Capability("window", lambda: self.window),
            Capability("idle", lambda: self.idle),
            Capability("input", lambda: self.counter),
            Capability("lock", FakeLock),
        )
        self.daemon = Daemon(
            Settings(),
            self.clock,
            self.store,
            sampler,
            Timeline(120, 6),
            Recorder(self.store, device.id, run, 10),
            device.id,
            run,
        )
        self.daemon.enforcer = Enforcer(
            rules=self.rules,
            clock=self.clock,
            zone=BERLIN,
            device="laptop",
            device_id=device.id,
            policy=Policy(),
            idle_after=120,
            snooze_seconds=300,
            close_timeout=10,
            notifier=Capability("n", lambda: FakeNotifier(self.clock)),
            fallback=LogNotifier(),
            locker=Capability("l", lambda: self.locker),
            apps=Capability("a", FakeApps),
            categorize=lambda app, title: None,
        )
        self.daemon.enforcer.start()

    def add(self, kind: str, name: str, **fields: Any) -> None:
        manage.add_rule(self.rules, parse_rule(name, RuleKind(kind), fields), self.clock.now())

    def run(self, seconds: int) -> None:
        for _ in range(seconds):
            self.idle.touch()
            self.counter.value = self.counter.value + InputCounts(keys=1)
            self.daemon.tick()
            self.clock.advance(1)

    def kinds(self, rule: str) -> list[str]:
        now = self.clock.now()
        found = self.rules.events_between(now - timedelta(days=1), now + timedelta(days=1), rule)
        return [e.event for e in found]


def test_pausing_recording_does_not_pause_a_strict_lock_rule(tmp_path: Path) -> None:
    """Before issue 10 a pause handed the enforcer no observation: the lock never came."""
    rig = DaemonRig(tmp_path, "2026-01-15 21:58")
    rig.add(
        "tech-free", "night", days="daily", start="22:00", end="23:00", warn="", grace="0s",
        action="lock", strict=True,
    )  # fmt: skip
    now = rig.clock.now()
    rig.store.add_pause(rig.device_id, now, now + timedelta(hours=2), "just a call")
    rig.run(180)
    assert rig.locker.calls >= 1  # at the start (this one came before issue 10 too)
    rig.run(300)  # unlocked at once and used on: locked again, paused or not
    assert rig.locker.calls >= 2
    assert rig.kinds("night").count("action") >= 2
    end = rig.clock.now() + timedelta(hours=1)
    assert rig.store.spans_between(now, end) == []  # nothing recorded while paused


# -- the daemon is the judge; costs that escalate ---------------------------------------------


LOCK_NIGHT = {"days": "daily", "start": "22:00", "end": "23:00", "grace": "0s", "action": "lock"}


def _log_snooze(rig: EnforcerRig, minutes: float, **detail: Any) -> None:
    """A snooze written straight into the log (as any other writer could), not by the CLI."""
    now = rig.clock.now()
    [(_, occ, _)] = overrides.in_force(rig.rules, rig.device.id, now)
    until = (now + timedelta(minutes=minutes)).timestamp()
    rig.rules.log(
        now, "night", "snooze", occurrence=(occ.start, occ.end),
        detail={"until": until, **detail}, device_id=rig.device.id,
    )  # fmt: skip


def test_the_daemon_refuses_a_snooze_of_a_strict_rule_written_past_the_cli(
    tmp_path: Path,
) -> None:
    """Before issue 10 the daemon applied any snooze it found in the log."""
    rig = EnforcerRig(tmp_path, "2026-01-15 22:00")
    rig.add("tech-free", "night", **LOCK_NIGHT, strict=True)
    rig.run("2026-01-15 22:00:05")
    assert rig.locker.calls == 1
    _log_snooze(rig, 30)
    rig.run("2026-01-15 22:05")
    assert rig.locker.calls > 1  # still locked again and again
    refused = [d for e, d in rig.events("night") if e == "refused"]
    assert refused and refused[0]["of"] == "snooze" and "strict" in refused[0]["why"]


def test_the_daemon_refuses_snoozes_beyond_the_ladder(tmp_path: Path) -> None:
    rig = EnforcerRig(tmp_path, "2026-01-15 22:00")
    rig.add("tech-free", "night", **LOCK_NIGHT)
    rig.run("2026-01-15 22:00:05")
    _log_snooze(rig, 600)  # ten hours: longer than snooze_max
    _log_snooze(rig, 1)  # first: free
    rig.run("2026-01-15 22:00:10")
    _log_snooze(rig, 1)  # second: needs a reason
    _log_snooze(rig, 1, reason="call")
    _log_snooze(rig, 1, reason="call")  # third: needs the wait
    _log_snooze(rig, 1, reason="call", waited=60)
    _log_snooze(rig, 1, reason="call", waited=60)  # fourth: beyond the allowance of 3
    rig.run("2026-01-15 22:00:15")
    whys = [d["why"] for e, d in rig.events("night") if e == "refused"]
    assert len(whys) == 4
    assert "at most 15m" in whys[0] and "needs a reason" in whys[1]
    assert "waits" in whys[2] and "allows 3 snoozes" in whys[3]
    # a restart replays only the snoozes that stood
    rig.enforcer.shutdown()
    rig.enforcer = rig.build()
    assert rig.enforcer._state.tracks  # restored
    assert max(t.snoozes for t in rig.enforcer._state.tracks.values()) == 3


def test_a_third_snooze_waits_and_ctrl_c_cancels_it(tmp_path: Path) -> None:
    rig = EnforcerRig(tmp_path, "2026-01-15 22:00")
    rig.add("tech-free", "night", **LOCK_NIGHT)
    rig.run("2026-01-15 22:00:05")
    now = rig.clock.now()
    overrides.snooze(rig.rules, rig.device.id, now, 60)
    with pytest.raises(InputError, match="already"):
        overrides.snooze(rig.rules, rig.device.id, now, 60)
    overrides.snooze(rig.rules, rig.device.id, now, 60, reason="call")
    with pytest.raises(overrides.WaitFirst) as wait:
        overrides.snooze(rig.rules, rig.device.id, now, 60, reason="call")
    assert wait.value.seconds == 60
    slept: list[float] = []
    shown: list[float] = []
    overrides.sit_out(wait.value.seconds, slept.append, shown.append)
    assert sum(slept) == 60 and shown[0] == 60 and shown[-1] == 0

    def interrupted(_: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        overrides.sit_out(60, interrupted, shown.append)
    overrides.snooze(rig.rules, rig.device.id, now, 60, reason="call", waited=60)
    with pytest.raises(InputError, match="allows 3 snoozes"):
        overrides.snooze(rig.rules, rig.device.id, now, 60, reason="call", waited=60)
    with pytest.raises(InputError, match="at most 15m"):
        overrides.snooze(rig.rules, rig.device.id, now, 3600, reason="call", waited=60)
    rig.run("2026-01-15 22:00:10")
    assert "refused" not in rig.kinds("night")
    assert rig.kinds("night").count("snooze") == 3


def test_overrides_are_limited_per_week_by_the_cli_and_the_daemon(tmp_path: Path) -> None:
    rig = EnforcerRig(tmp_path, "2026-01-12 12:00")
    rig.add("tech-free", "night", **LOCK_NIGHT)
    day_start = local("2026-01-15 04:00").timetz()
    for _ in range(2):
        overrides.override(rig.rules, rig.device.id, BERLIN, rig.clock.now(), "night", "guests",
                           day_start)  # fmt: skip
        rig.clock.advance(86400)
    with pytest.raises(InputError, match="allows 2 a week"):
        overrides.override(rig.rules, rig.device.id, BERLIN, rig.clock.now(), "night", "guests",
                           day_start)  # fmt: skip
    # one written past the CLI is refused by the daemon, and the night is enforced
    rig.clock.set_wall(local("2026-01-14 21:59"))
    rig.rules.log(rig.clock.now(), "night", "override",
                  occurrence=(local("2026-01-14 22:00"), local("2026-01-14 23:00")),
                  detail={"reason": "guests"})  # fmt: skip
    rig.run("2026-01-14 22:00:05")
    assert rig.locker.calls == 1
    assert [d["of"] for e, d in rig.events("night") if e == "refused"] == ["override"]


# -- limits count what reports count ----------------------------------------------------------


def test_a_limit_on_a_title_matched_category_is_reached_and_enforced(tmp_path: Path) -> None:
    """Before issue 10 the usage meter categorised by app only: 30 minutes of YouTube in
    Firefox never counted against a `media` limit."""
    rig = EnforcerRig(tmp_path, "2026-01-15 10:00")
    rig.enforcer.shutdown()
    real = Categorizer(builtin_rules())
    rig.build = lambda: _with_categorize(rig, real.categorize)  # type: ignore[method-assign]
    rig.enforcer = rig.build()
    rig.add("limit", "media", categories="media", per_day="1m", grace="0s", warn="none",
            action="lock")  # fmt: skip
    youtube = "Cats - YouTube — Mozilla Firefox"
    rig.store.save_spans(
        rig.device.id, None,
        [
            Span(local("2026-01-15 09:00"), local("2026-01-15 09:30"), "firefox", youtube,
                 SpanState.ACTIVE),
            Span(local("2026-01-15 09:30"), local("2026-01-15 09:50"), "firefox", "Docs",
                 SpanState.ACTIVE, site="docs.python.org"),
        ],
    )  # fmt: skip
    rig.window = WindowInfo("firefox", youtube, 5)
    rig.run("2026-01-15 10:00:05")
    assert rig.kinds("media")[:2] == ["start", "action"] and rig.locker.calls >= 1
    assert rig.enforcer._usage.limits(rig.enforcer.rules, rig.clock.now(), 0)["media"] == 1800


def test_a_site_counts_as_part_of_the_title_for_a_limit(tmp_path: Path) -> None:
    rig = EnforcerRig(tmp_path, "2026-01-15 10:00")
    rig.enforcer.shutdown()
    real = Categorizer(builtin_rules())
    rig.build = lambda: _with_categorize(rig, real.categorize)  # type: ignore[method-assign]
    rig.enforcer = rig.build()
    rig.add("limit", "media", categories="media", per_day="10m", grace="0s", warn="none")
    rig.store.save_spans(
        rig.device.id, None,
        [Span(local("2026-01-15 09:00"), local("2026-01-15 09:20"), "chromium", "Cats",
              SpanState.ACTIVE, site="youtube.com")],
    )  # fmt: skip
    rig.window = WindowInfo("chromium", "Cats", 5, site="youtube.com")
    rig.run("2026-01-15 10:00:05")
    assert rig.kinds("media")[:1] == ["start"]


def _with_categorize(rig: EnforcerRig, categorize: Any) -> Enforcer:
    enforcer = Enforcer(
        rules=rig.rules, clock=rig.clock, zone=BERLIN, device="laptop", device_id=rig.device.id,
        policy=Policy(), idle_after=120, snooze_seconds=300, close_timeout=10,
        notifier=Capability("n", rig.build_notifier), fallback=LogNotifier(),
        locker=Capability("l", lambda: rig.locker), apps=Capability("a", lambda: rig.apps),
        categorize=categorize, paused_file=rig.paused_file,
    )  # fmt: skip
    enforcer.start()
    return enforcer


# -- enforcement off the sampler thread -------------------------------------------------------


class SlowLocker(FakeLocker):
    """A locker that blocks until released (at most 5 s), like a hung lock command."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def lock(self) -> bool:
        self.entered.set()
        self.release.wait(5)
        return super().lock()


def test_a_slow_locker_does_not_hold_up_recording(tmp_path: Path) -> None:
    """Before issue 10 the lock ran inside the tick: recording stood still while it hung."""
    rig = DaemonRig(tmp_path, "2026-01-15 21:59:50")
    slow = SlowLocker()
    rig.locker = slow
    assert rig.daemon.enforcer is not None
    worker = EnforcementWorker(rig.daemon.enforcer)
    rig.daemon.enforce_worker = worker
    worker.start()
    rig.add("tech-free", "night", days="daily", start="22:00", end="23:00", warn="",
            grace="0s", action="lock")  # fmt: skip
    try:
        rig.run(11)  # into the window: the worker starts locking and hangs
        assert slow.entered.wait(5)
        rig.run(30)  # the sampler goes on while the locker hangs
        still_locking = not slow.release.is_set() and slow.calls == 0
        assert still_locking
        assert worker.replaced > 0  # ticks that came meanwhile: only the latest is kept
    finally:
        slow.release.set()
        assert worker.idle(5)
        worker.stop()
    rig.daemon.recorder.record([], rig.daemon.timeline.open, float("inf"))
    start = local("2026-01-15 21:59:50")
    [span] = rig.store.spans_between(start, start + timedelta(minutes=5))
    assert span.seconds == 40  # one span, not cut while the lock hung
    assert slow.calls >= 1


def test_a_fatal_error_on_the_enforcers_thread_stops_the_daemon_loop(tmp_path: Path) -> None:
    rig = DaemonRig(tmp_path, "2026-01-15 12:00")
    enforcer = rig.daemon.enforcer
    assert enforcer is not None

    def fatal(obs: Any, span: Any) -> None:
        raise ConfigError("a forced locker does not exist", hint="fix the config")

    enforcer.on_tick = fatal  # type: ignore[method-assign,assignment]
    worker = EnforcementWorker(enforcer)
    rig.daemon.enforce_worker = worker
    worker.start()
    rig.run(1)
    assert worker.idle(5)
    with pytest.raises(ConfigError, match="forced locker"):
        rig.run(1)
    worker.stop()


# -- reload means reload ----------------------------------------------------------------------


def test_sighup_applies_rules_reports_and_categories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before issue 10 a reload ignored [rules], [reports], the enforcement backends and
    the categories: the enforcer went on with what it was built with."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/presence-test-bus")
    rig = DaemonRig(tmp_path, "2026-01-15 12:00")
    config = tmp_path / "config.toml"
    config.write_text('[device]\nname = "laptop"\n[rules]\nnudge_every = "10m"\n'
                      '[reports]\ntimezone = "Asia/Tokyo"\n')  # fmt: skip
    rig.daemon.paths = Paths(config, tmp_path / "data", tmp_path / "run")
    add_category(ReportQueries.of(rig.store), "cats", None, "kitten", False, rig.clock.now())
    before = rig.daemon.enforcer
    rig.daemon.reload()
    after = rig.daemon.enforcer
    assert after is not None and after is not before
    assert after._policy.nudge_every == 600
    assert after._zone == ZoneInfo("Asia/Tokyo") and rig.daemon.sampler.zone == after._zone
    assert after._categorize("xterm", "kitten video") == "cats"
    assert rig.daemon.enforce_worker is not None
    rig.run(2)  # ticks go to the new enforcer's worker
    rig.daemon.enforce_worker.stop()
    after.shutdown()


def test_a_snooze_logged_while_no_daemon_ran_is_judged_at_start(tmp_path: Path) -> None:
    rig = EnforcerRig(tmp_path, "2026-01-15 22:00")
    rig.add("tech-free", "night", **LOCK_NIGHT, strict=True)
    rig.run("2026-01-15 22:00:05")
    rig.enforcer.shutdown()  # the daemon stops; meanwhile a snooze is written to the log
    _log_snooze(rig, 30)
    rig.enforcer = rig.build()  # no daemon run covers it: judged now, and refused
    calls = rig.locker.calls
    rig.run("2026-01-15 22:02")
    assert rig.locker.calls > calls
    refused = [d for e, d in rig.events("night") if e == "refused"]
    assert len(refused) == 1 and "strict" in refused[0]["why"]
    rig.enforcer.shutdown()
    rig.enforcer = rig.build()  # refused once, not again
    assert [e for e, _ in rig.events("night")].count("refused") == 1
