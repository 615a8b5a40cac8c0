"""One household on one real PostgreSQL (issue 12): devices register, zones and people, rules
that target zones, and a rule changed on one device enforced on another (measured).

The enforcers here run against the real server with the real clock; only their screen locker
and notifier are the unit tests' recording fakes (no desktop session is needed to see the
decision: the shared enforcement log is what the reports read).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from presence.core.clock import SystemClock
from presence.core.model import Observation, Span, SpanState, WindowInfo
from presence.enforce import Enforcer
from presence.platform.capability import Capability
from presence.platform.log_notify import LogNotifier
from presence.rulebook import household
from presence.rules.engine import Policy
from presence.store import RuleStore, Store
from tests.unit.conftest import private_home
from tests.unit.test_cli import cli
from tests.unit.test_enforcer import FakeApps, FakeLocker, FakeNotifier

pytestmark = pytest.mark.integration
__all__ = ["private_home"]

UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture
def shared(pg_url: str) -> Iterator[Store]:
    store = Store.open(pg_url)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def on_laptop(pg_url: str, private_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI as the device `laptop` on the shared database."""
    monkeypatch.setenv("COLUMNS", "200")
    config = private_home / "cfg" / "presence" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        f'[device]\nname = "laptop"\n[reports]\ntimezone = "UTC"\n[database]\nurl = "{pg_url}"\n'
    )
    yield


def register(store: Store, name: str, person: str) -> int:
    now = datetime.now(UTC)
    device = store.device(name, f"{name}-host", now)
    run = store.start_run(device.id, 1, "test", now)
    household.register(store, device.id, run, person, now)
    return device.id


def test_devices_and_zones_through_the_cli(
    shared: Store,
    on_laptop: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register(shared, "laptop", "ana")
    register(shared, "family-pc", "ana")
    register(shared, "family-pc", "ben")
    register(shared, "tablet", "ben")

    def ok(*args: str) -> str:
        code, out, err = cli(capsys, monkeypatch, *args)
        assert code == 0, err
        return out

    ok("devices", "set-zone", "tablet", "bedroom")
    ok("devices", "set-zone", "family-pc", "living-room")
    listed = {d["name"]: d for d in json.loads(ok("devices", "list", "--json"))}
    assert set(listed) == {"laptop", "family-pc", "tablet"}
    assert listed["family-pc"]["people"] == ["ana", "ben"]  # a shared PC: each person apart
    assert listed["tablet"]["zone"] == "bedroom" and listed["laptop"]["zone"] is None
    assert listed["tablet"]["platform"] and listed["tablet"]["last_seen"]
    assert json.loads(ok("zones", "list", "--json")) == [
        {"name": "bedroom", "devices": ["tablet"]},
        {"name": "living-room", "devices": ["family-pc"]},
    ]
    ok("devices", "rename", "tablet", "kids-tablet")
    assert "kids-tablet" in ok("zones", "list")
    code, _, err = cli(capsys, monkeypatch, "devices", "rename", "nothing", "x")
    assert code != 0 and "presence devices list" in err
    assert "0 spans deleted" in ok("devices", "forget", "laptop", "--yes")
    names = [d["name"] for d in json.loads(ok("devices", "list", "--json"))]
    assert names == ["family-pc", "kids-tablet"]


def build_enforcer(store: Store, name: str, device_id: int, locker: FakeLocker) -> Enforcer:
    enforcer = Enforcer(
        rules=RuleStore(store),
        clock=SystemClock(),
        zone=UTC_ZONE,
        device=name,
        device_id=device_id,
        policy=Policy(),
        idle_after=120,
        snooze_seconds=300,
        close_timeout=10,
        notifier=Capability("n", FakeNotifier),
        fallback=LogNotifier(),
        locker=Capability("l", lambda: locker),
        apps=Capability("a", FakeApps),
        person="ben",
        place_of=household.place_reader(store, device_id),
    )
    enforcer.start()
    return enforcer


def tick(enforcer: Enforcer) -> None:
    clock = SystemClock()
    enforcer.on_tick(
        Observation(
            wall=clock.now(),
            mono=clock.monotonic(),
            window=WindowInfo("xterm", "t", 10),
            idle_seconds=0.0,
            counts=None,
            locked=False,
        ),
        None,
    )


def until(predicate: object, enforcer: Enforcer, limit: float) -> float:
    """Tick `enforcer` every second until `predicate()` holds; returns the seconds it took."""
    assert callable(predicate)
    began = time.monotonic()
    while not predicate():
        assert time.monotonic() - began < limit, f"not within {limit} s"
        tick(enforcer)
        time.sleep(1.0)
    return time.monotonic() - began


def test_a_zone_rule_added_on_one_device_is_enforced_on_another(
    shared: Store,
    pg_url: str,
    on_laptop: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tablet = register(shared, "tablet", "ben")
    register(shared, "laptop", "ana")
    household.set_zone(shared, "tablet", "bedroom")
    other = Store.open(pg_url)  # the tablet's own connection to the server
    locker = FakeLocker()
    enforcer = build_enforcer(other, "tablet", tablet, locker)
    try:
        tick(enforcer)
        assert locker.calls == 0
        now = datetime.now(UTC)
        start = (now - timedelta(minutes=1)).strftime("%H:%M")
        end = (now + timedelta(hours=1)).strftime("%H:%M")
        code, _, err = cli(
            capsys,
            monkeypatch,
            *("rules", "add", "device-free", "bedroom-nights", "--zone", "bedroom"),
            *("--days", "daily", "--start", start, "--end", end, "--action", "lock"),
            *("--grace", "0s"),
        )
        assert code == 0, err
        took = until(lambda: locker.calls > 0, enforcer, limit=60)
        # The laptop is in no zone: the rule does not bind it.
        code, out, _ = cli(capsys, monkeypatch, "rules", "list")
        assert "zone:bedroom" in out
        # The tablet leaves the bedroom: the rule lets go of it (its occurrence ends) within
        # PLACE_EVERY (15 s) and a tick.
        household.set_zone(shared, "tablet", "office")
        rules = RuleStore(shared)

        def ended() -> bool:
            events = rules.events_between(now - timedelta(hours=1), now + timedelta(hours=2))
            return any(e.rule_name == "bedroom-nights" and e.event == "end" for e in events)

        left = until(ended, enforcer, limit=40)
        print(f"rule added -> enforced: {took:.1f} s; zone left -> released: {left:.1f} s")
    finally:
        enforcer.shutdown()
        other.close()


def test_a_household_week_by_device_and_zone(
    shared: Store,
    on_laptop: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monday = datetime(2026, 6, 1, 10, tzinfo=UTC)
    minutes = {"laptop": 30, "tablet": 20, "family-pc": 45}
    for name, length in minutes.items():
        device_id = register(shared, name, "ana")
        shared.save_spans(
            device_id,
            None,
            [
                Span(monday + timedelta(days=n), monday + timedelta(days=n, minutes=length),
                     "firefox", None, SpanState.ACTIVE)
                for n in range(7)
            ],
        )  # fmt: skip
    household.set_zone(shared, "tablet", "bedroom")
    household.set_zone(shared, "family-pc", "bedroom")

    def active(*args: str) -> float:
        code, out, err = cli(
            capsys, monkeypatch, "report", "--week", "--date", "2026-06-03", "-f", "json", *args
        )
        assert code == 0, err
        return float(json.loads(out)["totals"]["active_seconds"])

    assert active() == 7 * 30 * 60  # this device
    assert active("--device", "all") == 7 * (30 + 20 + 45) * 60
    assert active("--zone", "bedroom") == 7 * (20 + 45) * 60
    assert active("--zone", "bedroom", "--device", "tablet") == 7 * 20 * 60
    code, _, err = cli(capsys, monkeypatch, "report", "--zone", "attic")
    assert code != 0 and "bedroom" in err


def test_a_shared_pc_reports_each_person_apart(
    shared: Store,
    on_laptop: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monday = datetime(2026, 6, 1, 10, tzinfo=UTC)
    pc = shared.device("family-pc", "pc", monday)
    for person, hour, minutes in (("ana", 0, 40), ("ben", 3, 25)):
        run = shared.start_run(pc.id, 1, "t", monday)
        household.register(shared, pc.id, run, person, monday)
        start = monday + timedelta(hours=hour)
        shared.save_spans(
            pc.id,
            run,
            [Span(start, start + timedelta(minutes=minutes), "x", None, SpanState.ACTIVE)],
        )

    def active(*args: str) -> float:
        code, out, err = cli(
            capsys, monkeypatch, "report", "--week", "--date", "2026-06-03", "-f", "json",
            "--device", "family-pc", *args,
        )  # fmt: skip
        assert code == 0, err
        return float(json.loads(out)["totals"]["active_seconds"])

    assert active() == active("--person", "all") == 65 * 60
    assert active("--person", "ana") == 40 * 60
    assert active("--person", "ben") == 25 * 60
    assert active("--person", "ana,ben") == 65 * 60
    code, _, err = cli(capsys, monkeypatch, "report", "--person", "carl")
    assert code != 0 and "ana, ben" in err
