"""Issue 10, rules that hold: the rule set's policy, the CLI saying who is watching, category
and day changes that loosen rules, and reports in the hours lived."""

from __future__ import annotations

import os
import socket
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from sqlalchemy import text

from presence.core.clock import FakeClock
from presence.core.errors import InputError, StorageError
from presence.core.model import Span, SpanState
from presence.daemon.parts import day_start as _day_start
from presence.daemon.parts import rules_zone as _rules_zone
from presence.daemon.session_lock import SessionLock
from presence.health.enforcement import enforcement_file
from presence.health.enforcement import write as publish
from presence.reports.activity import scan
from presence.reports.adherence import summarize
from presence.reports.overview import build_report
from presence.reports.periods import week_period
from presence.rulebook import manage
from presence.rulebook.policy import (
    change_policy,
    change_zone,
    defaults_for,
    defaults_from,
    rule_policy,
)
from presence.rules.model import RuleKind, parse_rule
from presence.rules.policy import BUILT_IN, RulePolicy, judge_override, judge_snooze, snooze_cost
from presence.settings.files import Paths, database_url, ensure_private_dir, load_settings
from presence.settings.schema import ReportSettings, Settings
from presence.store import RuleStore, Store, database
from presence.store.holder import RecorderLock
from presence.store.policy import PolicyRows
from presence.store.reporting import LogEvent
from tests.unit.test_enforcer import BERLIN, local
from tests.unit.test_rules_cli import Cli, cli, home  # noqa: F401 - the CLI's fixtures
from tests.unit.test_store_migrate import _alembic_upgrade

NIGHT = {"days": "daily", "start": "22:00", "end": "06:00", "strict": True}


def test_a_config_file_with_cooldown_0_does_not_loosen_a_shared_rule(
    cli: Cli,  # noqa: F811 - the fixture imported above
    home: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before issue 10, `PRESENCE_CONFIG=zero.toml presence rules remove night` removed it."""
    cli.ok("rules", "add", "tech-free", "night", "--days", "daily", "--start", "22:00",
           "--end", "06:00", "--strict")  # fmt: skip
    zero = home / "zero.toml"
    zero.write_text('[device]\nname = "laptop"\n[rules]\ncooldown = 0\n')
    monkeypatch.setenv("PRESENCE_CONFIG", str(zero))
    assert "will be removed at" in cli.ok("rules", "remove", "night")
    assert "will be disabled at" in cli.ok("rules", "disable", "night")
    weaker = home / "weaker.toml"
    weaker.write_text(
        '[[rules]]\nname = "night"\nkind = "tech-free"\ndays = "daily"\n'
        'start = "23:00"\nend = "06:00"\n'
    )
    assert "will be changed at" in cli.ok("rules", "import", str(weaker))
    [rule] = cli.rules()
    assert rule["strict"] is True and rule["enabled"] is True and rule["start"] == "22:00"


def test_the_policy_is_seeded_once_and_loosening_it_waits(tmp_path: Path) -> None:
    store = RuleStore(Store.open(f"sqlite:///{tmp_path / 'p.db'}"))
    now = local("2026-01-15 12:00")
    night = parse_rule("night", RuleKind.TECH_FREE, NIGHT)
    manage.add_rule(store, night, now, defaults=defaults_from(3600, 600))
    assert rule_policy(store, now).cooldown == 3600  # the first rule pinned the file's values
    assert rule_policy(store, now, defaults_from(0)).cooldown == 3600  # another file: ignored
    change = change_policy(store, {"cooldown": 0, "snoozes": 1}, now)
    assert change.effective == now + timedelta(hours=1) and "cooldown lowered" in change.reasons
    assert rule_policy(store, now).snoozes == 3  # the whole change waits
    assert manage.remove_rule(store, "night", now, 0).change.effective > now
    later = now + timedelta(hours=1, seconds=1)
    assert rule_policy(store, later) == RulePolicy(cooldown=0, snooze=600, snoozes=1)
    assert change_policy(store, {"snooze_wait": 120}, later).immediate  # tightening
    with pytest.raises(InputError, match="snooze_max"):
        change_policy(store, {"snooze": 1800}, later)


def test_an_upgraded_database_with_rules_gets_the_built_in_policy(tmp_path: Path) -> None:
    engine = database.create(f"sqlite:///{tmp_path / 'old.db'}")
    _alembic_upgrade(engine, "0005")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO rules (name, kind, spec, enabled, created, updated, pending_delete)"
                " VALUES ('night', 'tech-free', '{}', 1, 0, 0, 0)"
            )
        )
    _alembic_upgrade(engine, "head")
    store = RuleStore(Store(engine))
    assert rule_policy(store, local("2026-01-15 12:00"), defaults_from(0)) == BUILT_IN


def test_the_snooze_ladder() -> None:
    rule = parse_rule("night", RuleKind.TECH_FREE, {**NIGHT, "strict": False})
    strict = parse_rule("night", RuleKind.TECH_FREE, NIGHT)
    assert snooze_cost(rule, BUILT_IN, 0).needs_reason is False
    assert snooze_cost(rule, BUILT_IN, 1).needs_reason is True
    assert snooze_cost(rule, BUILT_IN, 2).wait == 60
    assert snooze_cost(rule, BUILT_IN, 3).refused is not None
    assert snooze_cost(strict, BUILT_IN, 0).refused is not None
    assert judge_snooze(rule, BUILT_IN, 2, reason="x", seconds=300, waited=60) is None
    assert judge_snooze(rule, BUILT_IN, 2, reason="x", seconds=300, waited=0) is not None
    assert judge_snooze(rule, BUILT_IN, 1, reason="", seconds=300, waited=0) is not None
    assert judge_snooze(rule, BUILT_IN, 0, reason=None, seconds=36000, waited=0) is not None
    assert judge_override(rule, BUILT_IN, 1, reason="guests") is None
    assert judge_override(rule, BUILT_IN, 2, reason="guests") is not None
    assert judge_override(strict, BUILT_IN, 0, reason="guests") is not None


# -- say when nothing is watching -------------------------------------------------------------


def test_commands_say_when_no_daemon_watches_or_it_cannot_act(
    cli: Cli,  # noqa: F811 - the fixture imported above
    home: Path,  # noqa: F811
) -> None:
    """Before issue 10, `rules add` said "in force now" with no daemon running."""
    out = cli.ok("rules", "add", "tech-free", "night", "--days", "daily", "--start", "22:00",
                 "--end", "06:00", "--action", "lock")  # fmt: skip
    assert "no presence daemon is running for device 'laptop'" in out
    assert "no presence daemon is running" in cli.ok("pause", "5m")
    assert "Rules stay in force" in cli.ok("pause", "5m")
    # a live daemon (this process stands in for it) that found no screen locker here
    paths = Paths.resolve()
    store = Store.open(database_url(load_settings(paths.config_file), paths))
    RecorderLock(store.engine).take("laptop", os.getpid(), socket.gethostname(), datetime.now(UTC))
    ensure_private_dir(paths.runtime_dir)
    publish(enforcement_file(paths.runtime_dir), {"notify": "dbus", "lock": None, "apps": "x"})
    out = cli.ok("rules", "add", "tech-free", "late", "--days", "daily", "--start", "23:00",
                 "--end", "06:00", "--action", "lock")  # fmt: skip
    assert f"the daemon (pid {os.getpid()}) cannot lock the screen" in out
    out = cli.ok("focus", "25m", "--apps", "firefox")
    assert f"The daemon (pid {os.getpid()}) enforces this" in out
    # presence status: what it can enforce here, and the actions that failed in the last day
    RuleStore(store).log(datetime.now(UTC), "late", "error",
                         detail={"action": "lock", "reason": "no screen locker works"})  # fmt: skip
    lock = SessionLock(paths.lock_file)
    lock.acquire()
    try:
        out = cli.ok("status")
    finally:
        lock.release()
    assert "enforcement: show notifications: dbus; lock the screen: no" in out
    assert "late (lock): no screen locker works" in out


def test_the_weekly_report_does_not_count_refused_snoozes() -> None:
    def event(kind: str, detail: str | None = None) -> LogEvent:
        return LogEvent("night", 1.0, 2.0, kind, detail, 1)

    events = [event("start"), event("snooze"), event("snooze"),
              event("refused", '{"of": "snooze", "why": "strict"}'), event("override"),
              event("refused", '{"of": "override", "why": "2 a week"}')]  # fmt: skip
    night = summarize(events)["night"]
    assert (night.snoozes, night.overrides) == (1, 0)


def test_the_rules_day_is_cut_where_the_rule_set_says(tmp_path: Path) -> None:
    """Before issue 10 a device's `reports.day_start` moved the limits' day at once."""
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    rules = RuleStore(store)
    clock = FakeClock(local("2026-01-15 12:00"))
    limit = parse_rule("social", RuleKind.LIMIT, {"categories": "social", "per_day": "30m"})
    manage.add_rule(rules, limit, clock.now(), defaults=defaults_for(Settings()))
    moved = msgspec.structs.replace(
        Settings(), reports=msgspec.structs.replace(Settings().reports, day_start="12:00")
    )
    assert _day_start(store, clock, moved) == time(4, 0)
    change = change_policy(rules, {"day_start": 12 * 3600}, clock.now())
    assert change.reasons == ("day_start moved",)
    assert _day_start(store, clock, moved) == time(4, 0)  # until the cooldown is over


def test_a_category_change_that_empties_a_limit_is_refused(
    cli: Cli,  # noqa: F811 - the fixture imported above
    home: Path,  # noqa: F811
) -> None:
    """Before issue 10, `categories add work --title youtube` took YouTube out of `media`
    at once, and a media limit with it."""
    cli.ok("rules", "add", "limit", "media", "--categories", "media", "--per-day", "30m")
    paths = Paths.resolve()
    store = Store.open(database_url(load_settings(paths.config_file), paths))
    now = datetime.now(UTC)
    device = store.device("laptop", "host", now)
    watched = Span(now - timedelta(hours=2), now - timedelta(hours=1), "firefox",
                   "Cats - YouTube — Mozilla Firefox", SpanState.ACTIVE)  # fmt: skip
    store.save_spans(device.id, None, [watched])
    code, _, err = cli("categories", "add", "work", "--title", "youtube")
    assert code == 7 and "out of 'media' (targeted by 'media')" in err
    assert "Added" in cli.ok("categories", "add", "reading", "--title", "arxiv")
    cli.ok("categories", "add", "media", "--title", "kitten")
    assert "Removed 1 rule" in cli.ok("categories", "remove", "media")  # nothing recorded moves


# -- local days where they were lived ---------------------------------------------------------


def _lived(text: str, zone: str) -> tuple[float, int]:
    """A local wall time in `zone`: its UTC epoch seconds and the offset then."""
    when = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))
    offset = when.utcoffset()
    assert offset is not None
    return when.timestamp(), int(offset.total_seconds())


def test_a_trip_is_reported_in_the_hours_lived(tmp_path: Path) -> None:
    """A week reported in Berlin (clocks go forward on Sunday the 29th) with days in Tokyo
    and an evening in New York: each span in the day and hour it was lived. Before issue 10
    all were cut in Berlin's hours (the Tokyo morning became a Wednesday night)."""
    settings = ReportSettings()  # days start at 04:00
    period = week_period(date(2026, 3, 25), BERLIN, settings)  # Mon 23rd to Sun 29th
    rows = []
    for start, end, zone in [
        ("2026-03-23 05:00", "2026-03-23 06:00", "Asia/Tokyo"),  # before the week in UTC
        ("2026-03-26 10:00", "2026-03-26 11:00", "Asia/Tokyo"),  # Wed 02:00 in Berlin
        ("2026-03-29 10:00", "2026-03-29 10:30", "Europe/Berlin"),  # after the change
        ("2026-03-29 23:00", "2026-03-29 23:30", "America/New_York"),  # Mon 05:00 in Berlin
    ]:
        lo, offset = _lived(start, zone)
        hi, _ = _lived(end, zone)
        rows.append((lo, hi, 1, "xterm", "t", "active", None, offset))
    rows.sort()
    activity = scan(rows, period, settings, 300)
    heat = activity.heat
    assert heat[0][5] == 3600 and heat[3][10] == 3600  # Monday 05:00, Thursday 10:00
    assert heat[6][10] == 1800 and heat[6][23] == 1800  # Sunday 10:00 and 23:00
    assert heat[2][2] == 0  # not Wednesday night, as Berlin's clock has it
    assert sum(map(sum, heat)) == activity.active_seconds == 3600 + 3600 + 1800 + 1800
    by_day = {d.day.isoformat(): d.active_seconds for d in activity.days}
    assert by_day["2026-03-23"] == 3600 and by_day["2026-03-26"] == 3600
    assert by_day["2026-03-29"] == 3600 and by_day["2026-03-25"] == 0
    # the report reads the spans around the period too (the trip's edges)
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    device = store.device("laptop", "h", datetime.now(UTC))
    store.save_spans(device.id, None, [
        Span(datetime.fromtimestamp(lo, UTC), datetime.fromtimestamp(hi, UTC), "xterm", "t",
             SpanState.ACTIVE, utc_offset=offset)
        for lo, hi, *_, offset in rows
    ])  # fmt: skip
    report = build_report(store, period, ["laptop"], period.end + timedelta(days=1), settings)
    assert report.usage.active_seconds == 10800


def test_a_read_only_role_reads_the_policy_without_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A household device may only read the policy (issue 12): due changes and missing names
    are answered in memory instead of failing every read."""
    store = RuleStore(Store.open(f"sqlite:///{tmp_path / 'p.db'}"))
    now = local("2026-01-15 12:00")
    rule_policy(store, now, defaults_from(3600))
    change_policy(store, {"snoozes": 5}, now)  # waits an hour

    def refused(*_: Any, **__: Any) -> None:
        raise StorageError("permission denied for table rule_policy", hint="ask the owner")

    monkeypatch.setattr(PolicyRows, "apply_due", refused)
    monkeypatch.setattr(PolicyRows, "seed", refused)
    assert rule_policy(store, now).snoozes == 3
    assert rule_policy(store, now + timedelta(hours=2)).snoozes == 5  # due: overlaid


def test_the_rules_zone_is_the_rule_sets(tmp_path: Path) -> None:
    """Before issue 10 a device's `reports.timezone` moved every window at once: set to Los
    Angeles, a Berlin evening's 22:00 became 07:00."""
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    rules = RuleStore(store)
    clock = FakeClock(local("2026-01-15 12:00"))
    berlin = msgspec.structs.replace(
        Settings(), reports=msgspec.structs.replace(Settings().reports, timezone="Europe/Berlin")
    )
    night = parse_rule("night", RuleKind.TECH_FREE, NIGHT)
    manage.add_rule(rules, night, clock.now(), defaults=defaults_for(berlin))
    elsewhere = msgspec.structs.replace(
        berlin, reports=msgspec.structs.replace(berlin.reports, timezone="America/Los_Angeles")
    )
    assert _rules_zone(store, clock, elsewhere) == ZoneInfo("Europe/Berlin")
    change = change_zone(rules, "America/Los_Angeles", clock.now())
    assert change.reasons == ("zone changed",)
    assert _rules_zone(store, clock, elsewhere) == ZoneInfo("Europe/Berlin")  # waits
    clock.advance(86401)
    assert _rules_zone(store, clock, elsewhere) == ZoneInfo("America/Los_Angeles")
    with pytest.raises(InputError, match="not a time zone"):
        change_zone(rules, "Mars/Olympus", clock.now())
