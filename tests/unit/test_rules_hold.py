"""Issue 10, rules that hold: each test is a way out of a rule that used to work."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from presence.core.clock import FakeClock
from presence.core.model import InputCounts
from presence.daemon.main import Daemon
from presence.enforce import Enforcer
from presence.platform.capability import Capability
from presence.platform.log_notify import LogNotifier
from presence.rulebook import manage
from presence.rules.engine import Policy
from presence.rules.model import RuleKind, parse_rule
from presence.settings.schema import PrivacySettings, Settings
from presence.store import RuleStore, Store
from presence.tracking.privacy import Redactor
from presence.tracking.recorder import Recorder
from presence.tracking.sampler import Sampler
from presence.tracking.timeline import Timeline
from tests.unit.fakes import FakeCounter, FakeIdle, FakeLock, FakeWindow
from tests.unit.test_enforcer import BERLIN, FakeApps, FakeLocker, FakeNotifier, local


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
