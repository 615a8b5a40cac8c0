"""The daemon's tick loop with fake backends and a fake clock, on a real SQLite file."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from presence.core.clock import FakeClock
from presence.core.errors import ConfigError, StorageError
from presence.core.model import InputCounts, Span, SpanState, WindowInfo
from presence.daemon.loop import Daemon
from presence.daemon.parts import factory as _factory
from presence.health import faults as published
from presence.health.status import daemon_status
from presence.platform.base import Session
from presence.platform.capability import Capability
from presence.settings.schema import PrivacySettings, Settings
from presence.store import Store
from presence.tracking.privacy import Redactor
from presence.tracking.recorder import Recorder
from presence.tracking.sampler import Sampler
from presence.tracking.timeline import Timeline
from tests.unit.fakes import FakeCounter, FakeIdle, FakeLock, FakeWindow

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


class Rig:
    def __init__(self, tmp_path: Path, privacy: PrivacySettings | None = None) -> None:
        self.clock = FakeClock(T0)
        self.settings = Settings()
        self.store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
        device = self.store.device("laptop", "host", T0)
        run = self.store.start_run(device.id, 1, "0", T0)
        self.window = FakeWindow()
        self.idle = FakeIdle(self.clock)
        self.counter = FakeCounter()
        self.lock = FakeLock()
        self.sampler = Sampler(
            self.clock,
            ZoneInfo("Europe/Berlin"),
            Redactor(privacy or PrivacySettings()),
            Capability("window", lambda: self.window),
            Capability("idle", lambda: self.idle),
            Capability("input", lambda: self.counter),
            Capability("lock", lambda: self.lock),
        )
        self.daemon = Daemon(
            self.settings,
            self.clock,
            self.store,
            self.sampler,
            Timeline(120, 6),
            Recorder(self.store, device.id, run, 10),
            device.id,
            run,
        )

    def run(self, seconds: int, typing: bool = True) -> None:
        for _ in range(seconds):
            if typing:
                self.idle.touch()
                self.counter.value = self.counter.value + InputCounts(keys=1)
            self.daemon.tick()
            self.clock.advance(1)

    def spans(self, flush: bool = True) -> list[Span]:
        if flush:  # write the open span as a due flush would
            self.daemon.recorder.record([], self.daemon.timeline.open, float("inf"))
        return self.store.spans_between(T0 - timedelta(days=1), T0 + timedelta(days=1))


def test_ticks_become_spans_in_the_database(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.run(20)
    rig.window.window = WindowInfo("AppBeta", "beta", 200)
    rig.run(10)
    spans = rig.spans()
    assert [(s.app, s.seconds) for s in spans] == [("AppAlpha", 20), ("AppBeta", 9)]
    assert spans[0].utc_offset == 7200  # Berlin summer time


def test_open_span_is_flushed_at_least_every_ten_seconds(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.run(25)
    spans = rig.spans(flush=False)
    assert len(spans) == 1
    assert spans[0].end >= T0 + timedelta(seconds=14)  # flushed at 0, 10, 20


def test_shutdown_flushes_and_ends_the_run(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.run(7)
    rig.daemon.shutdown("stopped")
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    spans = store.spans_between(T0, T0 + timedelta(hours=1))
    assert spans[0].end == T0 + timedelta(seconds=6)
    run = store.latest_run(rig.daemon.device_id)
    assert run is not None and run.ended is not None and run.end_reason == "stopped"


def test_pause_closes_the_span_and_records_nothing(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.run(10)
    rig.store.add_pause(
        rig.daemon.device_id, rig.clock.now(), rig.clock.now() + timedelta(seconds=30), "call"
    )
    rig.run(30)
    rig.run(10)
    spans = rig.spans()
    assert [(s.start - T0).total_seconds() for s in spans] == [0, 40]
    assert spans[0].end == T0 + timedelta(seconds=9)
    assert sum(s.seconds for s in spans) == 9 + 9


def test_a_failing_backend_does_not_stop_recording(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.run(5)
    rig.window.broken = True
    rig.run(5)  # window unreadable: recorded as no window, never raises
    assert rig.window.closed
    spans = rig.spans()
    assert [s.app for s in spans] == ["AppAlpha", None]


def test_locked_screen_recorded_as_locked(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.run(5)
    rig.lock.is_locked = True
    rig.run(5, typing=False)
    assert [s.state for s in rig.spans()] == [SpanState.ACTIVE, SpanState.LOCKED]


def test_storage_failure_holds_spans_until_the_database_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = Rig(tmp_path)
    real = rig.store.save_spans

    def refuse(*args: object) -> None:
        raise StorageError("disk full")

    monkeypatch.setattr(rig.store, "save_spans", refuse)
    rig.run(5)
    rig.window.window = WindowInfo("AppBeta", "beta")
    rig.run(5)
    assert rig.daemon.recorder.pending >= 2
    monkeypatch.setattr(rig.store, "save_spans", real)
    rig.run(11)
    assert rig.daemon.recorder.pending == 0
    assert [s.app for s in rig.spans()] == ["AppAlpha", "AppBeta"]


def test_excluded_app_recorded_without_name_or_title(tmp_path: Path) -> None:
    rig = Rig(tmp_path, PrivacySettings(exclude_apps=["AppAlpha"]))
    rig.run(5)
    rig.daemon.shutdown("stopped")
    spans = Store.open(f"sqlite:///{tmp_path / 'p.db'}").spans_between(T0, T0 + timedelta(hours=1))
    assert [(s.app, s.title) for s in spans] == [("[excluded]", None)]


class Exploding:
    """A backend whose every reading raises an exception that is not a BackendError (a bug)."""

    name = "exploding"

    def __init__(self) -> None:
        self.calls = 0
        self.closed = 0

    def idle_seconds(self) -> float:
        self.calls += 1
        raise ZeroDivisionError("division by zero")

    def close(self) -> None:
        self.closed += 1


def test_a_backend_raising_a_bug_does_not_end_the_sampler(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    exploding = Exploding()
    built: list[float] = []

    def build() -> Exploding:
        built.append(rig.clock.monotonic())
        return exploding

    rig.sampler.idle = Capability("idle time", build)
    rig.run(200)  # never raises
    # Recording went on without idle time: the input counter's clock stands in.
    assert [s.app for s in rig.spans()] == ["AppAlpha"]
    # Closed and rebuilt after 30 s, then 60 s, then 120 s: backed off, not every tick.
    assert [b - built[0] for b in built] == [0, 30, 90]
    assert exploding.calls == exploding.closed == 3
    (snap,) = rig.sampler.faults()
    assert (snap.name, snap.failures, snap.streak) == ("idle time", 3, 3)
    assert snap.last_error == "ZeroDivisionError: division by zero"


def test_a_fatal_backend_error_stops_the_daemon_with_its_message(tmp_path: Path) -> None:
    rig = Rig(tmp_path)

    def build() -> None:
        raise ConfigError("PRESENCE_BACKEND_IDLE asks for backend 'nonsense'", hint="use one of")

    rig.sampler.idle = Capability("idle time", build)
    with pytest.raises(ConfigError, match="nonsense"):
        rig.daemon.tick()


def test_failures_are_published_for_status_while_running(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.daemon.fault_file = tmp_path / "run" / "faults.json"
    rig.daemon.fault_file.parent.mkdir()
    rig.run(3)
    rig.daemon.publish_faults()
    assert not rig.daemon.fault_file.exists()  # nothing failed: nothing to say
    rig.window.broken = True
    rig.run(3)
    rig.daemon.publish_faults()
    assert stat.S_IMODE(rig.daemon.fault_file.stat().st_mode) == 0o600
    status = daemon_status(rig.store, "laptop", os.getpid(), rig.clock.now(), rig.daemon.fault_file)
    (snap,) = status.faults
    assert (snap.name, snap.failures, snap.failing) == ("window", 1, True)
    assert snap.last_error == "display gone"
    assert status.to_dict()["faults"] == [published.to_dict(snap)]
    rig.daemon.shutdown("stopped")
    assert not rig.daemon.fault_file.exists()


def test_a_forced_backend_that_does_not_exist_is_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESENCE_BACKEND_IDLE", "nonsense")
    rig = Rig(tmp_path)
    rig.sampler.idle = Capability("idle time", _factory("idle", Session.from_env({}), "auto"))
    with pytest.raises(ConfigError) as raised:
        rig.daemon.tick()
    assert "PRESENCE_BACKEND_IDLE asks for backend 'nonsense'" in raised.value.message
    assert raised.value.hint is not None and raised.value.hint.startswith("use one of")
