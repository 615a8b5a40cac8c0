"""The full report against brute force: totals, days and the heat map equal the spans they cover,
across day and week boundaries and DST; the change against the previous period is right."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from presence.core.model import Span, SpanState
from presence.reports import (
    Period,
    build_report,
    day_period,
    month_period,
    previous_period,
    range_period,
    week_period,
)
from presence.reports.periods import hour_edges
from presence.settings.schema import ReportSettings, Weekday
from presence.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
STATES = (SpanState.ACTIVE, SpanState.ACTIVE, SpanState.IDLE, SpanState.LOCKED)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'p.db'}")


def random_spans(start: datetime, end: datetime, seed: int) -> list[Span]:
    """Minute-aligned spans of 1-60 minutes with gaps, from before `start` to after `end`."""
    rng = random.Random(seed)
    at = start.replace(second=0, microsecond=0) - timedelta(hours=2)
    spans = []
    while at < end + timedelta(hours=2):
        length = timedelta(minutes=rng.randint(1, 60))
        state = rng.choice(STATES)
        app = None if state is SpanState.LOCKED else rng.choice(["firefox", "Code", "Slack"])
        spans.append(Span(at, at + length, app, "t", state))
        at += length + timedelta(minutes=rng.choice([0, 0, 0, 3, 10, 90]))
    return spans


def clipped(span: Span, lo: datetime, hi: datetime) -> float:
    return max(0.0, (min(span.end, hi) - max(span.start, lo)).total_seconds())


def brute_heat(spans: list[Span], period: Period) -> list[list[float]]:
    """Active seconds per (local weekday, local hour), minute by minute."""
    heat = [[0.0] * 24 for _ in range(7)]
    for span in spans:
        if span.state is not SpanState.ACTIVE:
            continue
        at = max(span.start, period.start)
        while at < min(span.end, period.end):
            local = at.astimezone(period.zone)
            heat[local.weekday()][local.hour] += 60
            at += timedelta(minutes=1)
    return heat


CASES = [
    # zone, day inside the period, kind, day_start, week_start
    (BERLIN, date(2026, 3, 25), "week", "04:00", "monday"),  # spring forward on Sunday 29th
    (BERLIN, date(2026, 10, 21), "week", "04:00", "monday"),  # fall back on Sunday 25th
    (BERLIN, date(2026, 10, 24), "day", "04:00", "monday"),  # the 25-hour day
    (BERLIN, date(2026, 3, 29), "day", "00:00", "monday"),  # the 23-hour day from midnight
    (BERLIN, date(2026, 3, 10), "month", "04:30", "monday"),  # a month with the spring change
    (NEW_YORK, date(2026, 3, 5), "week", "00:00", "sunday"),  # spring forward on the 8th
    (NEW_YORK, date(2026, 10, 31), "day", "04:00", "monday"),  # 25 h: fall back on Nov 1st
    (NEW_YORK, date(2026, 10, 28), "range", "04:00", "monday"),  # 10 days across fall back
    (ZoneInfo("Asia/Kolkata"), date(2026, 6, 3), "week", "04:30", "monday"),  # UTC+5:30
    (ZoneInfo("Australia/Lord_Howe"), date(2026, 4, 2), "week", "04:00", "monday"),  # 30-min DST
]


@pytest.mark.parametrize(("zone", "day", "kind", "day_start", "week_start"), CASES)
def test_totals_days_and_heat_equal_the_spans(
    store: Store, zone: ZoneInfo, day: date, kind: str, day_start: str, week_start: Weekday
) -> None:
    settings = ReportSettings(day_start=day_start, week_start=week_start)
    makers = {"day": day_period, "week": week_period, "month": month_period}
    if kind == "range":
        period = range_period(day, day + timedelta(days=9), zone, settings)
    else:
        period = makers[kind](day, zone, settings)
    device = store.device("laptop", "h", datetime.now(UTC))
    spans = random_spans(period.start, period.end, seed=day.toordinal())
    store.save_spans(device.id, None, spans)
    report = build_report(store, period, ["laptop"], period.end + timedelta(days=1), settings)

    def total(state: SpanState) -> float:
        return sum(clipped(s, period.start, period.end) for s in spans if s.state is state)

    usage = report.usage
    assert usage.active_seconds == pytest.approx(total(SpanState.ACTIVE))
    assert usage.idle_seconds == pytest.approx(total(SpanState.IDLE))
    assert usage.locked_seconds == pytest.approx(total(SpanState.LOCKED))
    assert sum(a.active_seconds for a in report.apps) == pytest.approx(usage.active_seconds)
    assert sum(c.active_seconds for c in report.categories) == pytest.approx(usage.active_seconds)

    # Days: each one equals its own day_period, and they tile the period (23/25 h days too).
    days = report.activity.days
    assert days[0].start == period.start and days[-1].end == period.end
    assert len(days) == period.days
    for entry in days:
        own = day_period(entry.day, zone, settings)
        assert (entry.start, entry.end) == (own.start, own.end)
        expected = sum(clipped(s, own.start, own.end) for s in spans if s.state is SpanState.ACTIVE)
        assert entry.active_seconds == pytest.approx(expected)
    assert sum(d.locked_seconds for d in days) == pytest.approx(usage.locked_seconds)

    heat = report.activity.heat
    flat = [seconds for row in heat for seconds in row]
    assert flat == pytest.approx([seconds for row in brute_heat(spans, period) for seconds in row])
    assert sum(map(sum, heat)) == pytest.approx(usage.active_seconds)
    data = report.to_dict()
    assert data["period"]["hours"] == pytest.approx(period.hours)
    assert sum(d["active_seconds"] for d in data["days"]) == pytest.approx(usage.active_seconds)


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        (BERLIN, date(2026, 3, 28), 23),
        (BERLIN, date(2026, 10, 24), 25),
        (NEW_YORK, date(2026, 3, 7), 23),
    ],
)
def test_hour_buckets_of_dst_days(zone: ZoneInfo, day: date, hours: int) -> None:
    period = day_period(day, zone, ReportSettings())
    starts, _, clock = hour_edges(period)
    assert len(starts) - 1 == hours
    assert len(clock) == hours
    if hours == 25:
        assert sorted(clock).count(2 if zone is BERLIN else 1) == 2  # the repeated hour


def test_previous_periods() -> None:
    settings = ReportSettings()
    week = week_period(date(2026, 11, 19), BERLIN, settings)
    assert previous_period(week, settings).first == date(2026, 11, 9)
    march = month_period(date(2026, 3, 10), BERLIN, settings)
    assert previous_period(march, settings).first == date(2026, 2, 1)
    assert previous_period(march, settings).last == date(2026, 2, 28)
    days = range_period(date(2026, 1, 10), date(2026, 1, 19), BERLIN, settings)
    before = previous_period(days, settings)
    assert (before.first, before.last) == (date(2025, 12, 31), date(2026, 1, 9))
    day = day_period(date(2026, 3, 29), BERLIN, settings)
    assert previous_period(day, settings).hours == 23  # with 04:00 starts, the 28th has 23 h


def test_change_against_the_previous_week(store: Store) -> None:
    settings = ReportSettings()
    week = week_period(date(2026, 10, 28), BERLIN, settings)  # the week after fall back
    before = previous_period(week, settings)
    device = store.device("laptop", "h", datetime.now(UTC))
    at, prev_at = week.start + timedelta(hours=5), before.start + timedelta(hours=5)
    store.save_spans(
        device.id,
        None,
        [
            Span(
                at,
                at + timedelta(hours=1),
                "firefox",
                "YouTube - Mozilla Firefox",
                SpanState.ACTIVE,
            ),
            Span(
                at + timedelta(hours=1), at + timedelta(hours=2), "Code", "x.py", SpanState.ACTIVE
            ),
            Span(prev_at, prev_at + timedelta(minutes=30), "firefox", "news", SpanState.ACTIVE),
            Span(
                prev_at + timedelta(hours=2),
                prev_at + timedelta(hours=3),
                "Slack",
                "a",
                SpanState.ACTIVE,
            ),
            # the last hour of the previous week (a 169-hour week) counts for it, not for this one
            Span(week.start - timedelta(hours=1), week.start, "Code", "y.py", SpanState.ACTIVE),
        ],
    )
    report = build_report(store, week, ["laptop"], week.end, settings)
    data = report.to_dict()
    assert data["previous"]["totals"]["active_seconds"] == 9000
    assert data["change"]["active_seconds"] == 7200 - 9000
    assert data["change"]["active_ratio"] == pytest.approx(-0.2)
    apps = {a["app"]: a for a in data["apps_detail"]}
    assert apps["firefox"]["previous_active_seconds"] == 1800
    assert apps["firefox"]["change_seconds"] == 1800
    assert apps["firefox"]["category"] == "media"  # a YouTube tab: the title rule wins
    categories = {c["category"]: c for c in data["categories"]}
    assert categories["communication"]["active_seconds"] == 0  # Slack: only before
    assert categories["communication"]["change_seconds"] == -3600
    assert data["apps"] == [
        {"app": "Code", "active_seconds": 3600, "idle_seconds": 0},
        {"app": "firefox", "active_seconds": 3600, "idle_seconds": 0},
    ]


def test_sessions_and_switches(store: Store) -> None:
    settings = ReportSettings()
    day = day_period(date(2026, 6, 1), BERLIN, settings)
    device = store.device("laptop", "h", datetime.now(UTC))
    t = day.start + timedelta(hours=4)

    def at(minutes: float) -> datetime:
        return t + timedelta(minutes=minutes)

    store.save_spans(
        device.id,
        None,
        [
            Span(at(0), at(10), "A", "1", SpanState.ACTIVE),
            Span(at(10), at(20), "B", "1", SpanState.ACTIVE),  # switch
            Span(at(20), at(24), "B", "1", SpanState.IDLE),  # 4 min away: same session
            Span(at(24), at(30), "A", "1", SpanState.ACTIVE),  # switch
            Span(at(30), at(31), "A", "2", SpanState.ACTIVE),  # same app, new title: no switch
            # 5 minutes without input: a new session, and its first span is no switch
            Span(at(36), at(50), "B", "1", SpanState.ACTIVE),
            Span(at(50), at(120), None, None, SpanState.LOCKED),
            Span(at(120), at(125), "A", "1", SpanState.ACTIVE),
        ],
    )
    report = build_report(store, day, ["laptop"], day.end, settings)
    activity = report.activity
    assert activity.sessions == 3
    assert activity.longest is not None and activity.longest.seconds == 31 * 60
    assert activity.longest.start == at(0)
    assert activity.session_seconds == (31 + 14 + 5) * 60
    assert activity.switches == 2
    assert activity.switches_per_active_hour == pytest.approx(2 / (46 / 60))  # 46 active min
    data = report.to_dict()
    assert data["sessions"]["count"] == 3 and data["switches"]["count"] == 2
