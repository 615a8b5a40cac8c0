"""Adherence counts match the enforcement log (rows inserted directly, as the rules engine
writes them), and the not-recording intervals match daemon runs and pauses."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from presence.reports import build_report, day_period, week_period
from presence.reports.gaps import complement, intersect, union
from presence.settings.schema import ReportSettings
from presence.store import Store
from presence.store.schema import enforcement_log

BERLIN = ZoneInfo("Europe/Berlin")
SETTINGS = ReportSettings()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'p.db'}")


def log(
    store: Store,
    rule: str,
    occurrence: datetime | None,
    event: str,
    at: datetime | None = None,
    device_id: int | None = None,
    minutes_used: float | None = None,
) -> None:
    when = at or occurrence
    assert when is not None
    detail = None if minutes_used is None else json.dumps({"minutes_used": minutes_used})
    with store.engine.begin() as c:
        c.execute(
            insert(enforcement_log).values(
                ts=when.timestamp(),
                device_id=device_id,
                rule_id=None,
                rule_name=rule,
                occurrence_start=None if occurrence is None else occurrence.timestamp(),
                occurrence_end=None,
                event=event,
                detail=detail,
            )
        )


def evening(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 21, tzinfo=BERLIN).astimezone(UTC)


def test_adherence_counts_match_the_log(store: Store) -> None:
    laptop = store.device("laptop", "h", datetime.now(UTC))
    desktop = store.device("desktop", "h", datetime.now(UTC))
    week = week_period(date(2026, 10, 21), BERLIN, SETTINGS)  # 19th to 25th, with fall back
    monday = date(2026, 10, 19)
    # Before the week: kept, broken, kept, kept (the streak runs on into the week).
    for days, outcome in ((-4, "kept"), (-3, "broken"), (-2, "kept"), (-1, "kept")):
        log(store, "evenings", evening(monday + timedelta(days=days)), outcome, device_id=laptop.id)
    outcomes = ["kept", "kept", "broken", "kept", "kept", "kept", "kept"]
    for i, outcome in enumerate(outcomes):
        occurrence = evening(monday + timedelta(days=i))
        log(store, "evenings", occurrence, "warning", occurrence - timedelta(minutes=10))
        log(store, "evenings", occurrence, "start", device_id=laptop.id)
        used = 12.5 if outcome == "broken" else 0.0
        log(
            store,
            "evenings",
            occurrence,
            outcome,
            occurrence + timedelta(hours=3),
            laptop.id,
            minutes_used=used,
        )
    wed = evening(monday + timedelta(days=2))
    log(store, "evenings", wed, "snooze", wed + timedelta(minutes=5), laptop.id)
    log(store, "evenings", wed, "snooze", wed + timedelta(minutes=15), laptop.id)
    log(store, "evenings", wed, "override", wed + timedelta(minutes=30), laptop.id)
    # The same occurrence broken on another device too: still one broken occurrence, minutes add.
    log(store, "evenings", wed, "broken", wed + timedelta(hours=3), desktop.id, minutes_used=2.5)
    # Sunday's occurrence ends after the week ends (kept at 00:00 Monday): it belongs to this week.
    # A second rule whose current occurrence is still open.
    sunday = evening(monday + timedelta(days=6))
    log(store, "focus", sunday + timedelta(hours=2), "start", device_id=laptop.id)
    # A warning alone (an occurrence that never started) is no occurrence.
    log(store, "focus", sunday + timedelta(hours=1), "warning", device_id=laptop.id)
    # Next week's occurrence does not count here.
    log(store, "evenings", evening(monday + timedelta(days=7)), "broken", device_id=laptop.id)

    report = build_report(store, week, ["laptop", "desktop"], week.end, SETTINGS)
    rules = {r.rule: r for r in report.adherence.rules}
    evenings = rules["evenings"]
    assert (evenings.occurrences, evenings.kept, evenings.broken, evenings.pending) == (7, 6, 1, 0)
    assert evenings.minutes_used == 15.0
    assert (evenings.snoozes, evenings.overrides) == (2, 1)
    assert evenings.streak == 4  # Thursday to Sunday; Wednesday was broken
    focus = rules["focus"]
    assert (focus.occurrences, focus.kept, focus.broken, focus.pending, focus.streak) == (
        1,
        0,
        0,
        1,
        0,
    )
    totals = report.to_dict()["adherence"]["totals"]
    assert totals == {
        "occurrences": 8,
        "kept": 6,
        "broken": 1,
        "pending": 1,
        "minutes_used": 15.0,
        "snoozes": 2,
        "overrides": 1,
    }
    # One device only: the desktop's extra minutes are not its business.
    laptop_only = build_report(store, week, ["laptop"], week.end, SETTINGS)
    assert {r.rule: r for r in laptop_only.adherence.rules}["evenings"].minutes_used == 12.5


def test_streak_counts_back_past_the_period(store: Store) -> None:
    laptop = store.device("laptop", "h", datetime.now(UTC))
    first = date(2026, 6, 1)
    for i in range(20):
        log(store, "r", evening(first + timedelta(days=i)), "kept", device_id=laptop.id)
    day = day_period(first + timedelta(days=19), BERLIN, SETTINGS)
    report = build_report(store, day, ["laptop"], day.end, SETTINGS)
    assert report.adherence.rules[0].streak == 20
    assert report.adherence.rules[0].kept == 1


def test_interval_arithmetic() -> None:
    covered = union([(5, 8), (1, 3), (2, 4), (10, 10)])
    assert covered == [(1, 4), (5, 8)]
    assert complement(covered, 0, 12) == [(0, 1), (4, 5), (8, 12)]
    assert complement(covered, 2, 6) == [(4, 5)]
    assert intersect(covered, [(3, 6), (7, 20)]) == [(3, 4), (5, 6), (7, 8)]


def test_not_recording_lists_runs_gaps_and_pauses(store: Store) -> None:
    laptop = store.device("laptop", "h", datetime.now(UTC))
    day = day_period(date(2026, 6, 1), BERLIN, SETTINGS)
    t0 = day.start

    def at(hours: float) -> datetime:
        return t0 + timedelta(hours=hours)

    installed = store.start_run(laptop.id, 0, "t", at(-30))  # presence ran before this day
    store.end_run(installed, at(-29), "stopped")
    first = store.start_run(laptop.id, 1, "t", at(2))
    store.end_run(first, at(6), "stopped")
    crashed = store.start_run(laptop.id, 2, "t", at(8))
    store.heartbeat(crashed, at(9))  # crashed: counts until its last heartbeat
    current = store.start_run(laptop.id, 3, "t", at(10))
    now = at(12)
    store.heartbeat(current, now - timedelta(seconds=5))  # still running: counts until now
    store.add_pause(laptop.id, at(3), at(4), "call")
    store.add_pause(laptop.id, at(8.5), None, "lunch")  # until `presence resume`: still on

    report = build_report(store, day, ["laptop"], now, SETTINGS)
    gaps = report.gaps
    kinds = [(g.kind, g.start, g.end, g.reason) for g in gaps.intervals]
    assert kinds == [
        ("not running", at(0), at(2), None),
        ("paused", at(3), at(4), "call"),
        ("not running", at(6), at(8), None),
        ("paused", at(8.5), at(9), "lunch"),
        ("not running", at(9), at(10), None),
        ("paused", at(10), at(12), "lunch"),
    ]
    assert gaps.not_running_seconds == 5 * 3600
    assert gaps.paused_seconds == 3.5 * 3600
    data = report.to_dict()["not_recording"]
    assert data["not_running_seconds"] == 5 * 3600
    assert data["intervals"][1]["reason"] == "call"
    # totals.paused_seconds is all time inside pauses; between 9 and 10 nothing ran at all, so
    # not_recording counts that hour as not running rather than paused.
    assert report.usage.paused_seconds == 3600 + 3.5 * 3600
    assert report.usage.unrecorded_seconds == 12 * 3600


def test_a_device_that_never_ran_is_not_running(store: Store) -> None:
    day = day_period(date(2026, 6, 1), BERLIN, SETTINGS)
    report = build_report(store, day, ["ghost"], day.start + timedelta(hours=3), SETTINGS)
    assert report.gaps.not_running_seconds == 3 * 3600
    assert report.usage.unrecorded_seconds == 3 * 3600


def test_time_before_the_first_run_is_no_gap(store: Store) -> None:
    laptop = store.device("laptop", "h", datetime.now(UTC))
    week = week_period(date(2026, 6, 3), BERLIN, SETTINGS)

    def at(hours: float) -> datetime:
        return week.start + timedelta(hours=hours)

    first = store.start_run(laptop.id, 1, "t", at(50))  # installed mid-week
    store.end_run(first, at(60), "stopped")
    gaps = build_report(store, week, ["laptop"], at(70), SETTINGS).gaps
    assert [(g.kind, g.start, g.end) for g in gaps.intervals] == [("not running", at(60), at(70))]
    # a device that never ran has no "not running" time at all
    store.device("desktop", "h", datetime.now(UTC))
    gaps = build_report(store, week, ["desktop"], at(70), SETTINGS).gaps
    assert gaps.intervals == [] and gaps.not_running_seconds == 0
