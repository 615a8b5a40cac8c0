"""Day and week bounds in local time (DST days included) and totals from the store."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from presence.core.model import Span, SpanState
from presence.reports import Period, build_report, day_period, report_day, week_period
from presence.rules.schedule import day_window, wall_to_utc
from presence.settings.schema import ReportSettings
from presence.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
DEFAULT = ReportSettings()


# With days starting at 04:00, the 02:00/03:00 switch falls in the previous date's day.
@pytest.mark.parametrize(
    ("zone", "day", "day_start", "hours"),
    [
        (BERLIN, date(2026, 3, 28), "04:00", 23),  # spring forward on the 29th at 02:00
        (BERLIN, date(2026, 3, 29), "04:00", 24),
        (BERLIN, date(2026, 3, 29), "00:00", 23),
        (BERLIN, date(2026, 10, 24), "04:00", 25),  # fall back on the 25th at 03:00
        (BERLIN, date(2026, 10, 25), "00:00", 25),
        (BERLIN, date(2026, 6, 1), "04:00", 24),
        (NEW_YORK, date(2026, 3, 7), "04:00", 23),
        (NEW_YORK, date(2026, 11, 1), "00:00", 25),
    ],
)
def test_dst_days_are_23_or_25_hours(zone: ZoneInfo, day: date, day_start: str, hours: int) -> None:
    period = day_period(day, zone, ReportSettings(day_start=day_start))
    elapsed = (period.end.astimezone(UTC) - period.start.astimezone(UTC)).total_seconds()
    assert elapsed == hours * 3600
    assert period.start.astimezone(zone).hour == int(day_start[:2])


def test_report_day_starts_at_day_start() -> None:
    late = datetime(2026, 6, 2, 1, 30, tzinfo=BERLIN)  # 01:30: still June 1st's day
    assert report_day(late, BERLIN, DEFAULT) == date(2026, 6, 1)
    assert report_day(late, BERLIN, ReportSettings(day_start="00:00")) == date(2026, 6, 2)


@pytest.mark.parametrize(
    ("day", "local_start"),
    [
        # 02:30 is skipped on the spring-forward day: the day starts at the jump, 03:00 CEST.
        (date(2026, 3, 29), datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN)),
        # 02:30 shows twice on the fall-back day: the first one (CEST) starts the day.
        (date(2026, 10, 25), datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=BERLIN)),
    ],
)
def test_reports_and_rules_cut_a_dst_day_at_the_same_instant(
    day: date, local_start: datetime
) -> None:
    settings = ReportSettings(day_start="02:30")
    period = day_period(day, BERLIN, settings)
    assert period.start == local_start.astimezone(UTC)
    assert period.start == wall_to_utc(day, time(2, 30), BERLIN)
    # The days before and after tile time with it: no gap, no overlap.
    assert day_period(day - timedelta(days=1), BERLIN, settings).end == period.start
    assert day_period(day + timedelta(days=1), BERLIN, settings).start == period.end
    # The rules' day (limits count per day) is the report's day, around the cut and inside it.
    for instant in (
        period.start - timedelta(seconds=1),
        period.start,
        period.start + timedelta(minutes=10),
    ):
        start, end = day_window(instant, BERLIN, time(2, 30))
        expected = report_day(instant, BERLIN, settings)
        assert (start, end) == (
            day_period(expected, BERLIN, settings).start,
            day_period(expected, BERLIN, settings).end,
        )
    assert report_day(period.start - timedelta(seconds=1), BERLIN, settings) == day - timedelta(
        days=1
    )
    assert report_day(period.start, BERLIN, settings) == day


def test_week_starts_on_the_configured_day() -> None:
    thursday = date(2026, 11, 19)
    week = week_period(thursday, BERLIN, DEFAULT)
    assert week.local(week.start).date() == date(2026, 11, 16)
    assert (week.end - week.start).days == 7
    sunday_week = week_period(thursday, BERLIN, ReportSettings(week_start="sunday"))
    assert sunday_week.local(sunday_week.start).date() == date(2026, 11, 15)


def test_totals_equal_the_clipped_spans(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    device = store.device("laptop", "h", datetime.now(UTC))
    day = date(2026, 10, 24)  # 04:00 to 04:00 across the fall-back: 25 hours in Berlin
    period = day_period(day, BERLIN, DEFAULT)
    start = period.start.astimezone(UTC)
    spans = [
        # straddles the day start: only 30 min inside
        Span(
            start - timedelta(minutes=30),
            start + timedelta(minutes=30),
            "A",
            None,
            SpanState.ACTIVE,
        ),
        Span(start + timedelta(hours=2), start + timedelta(hours=3), "B", None, SpanState.ACTIVE),
        Span(start + timedelta(hours=3), start + timedelta(hours=4), "B", None, SpanState.IDLE),
        Span(start + timedelta(hours=4), start + timedelta(hours=5), None, None, SpanState.LOCKED),
        # straddles the day end (25 h later): 15 min inside
        Span(
            start + timedelta(hours=24, minutes=45),
            start + timedelta(hours=25, minutes=45),
            "A",
            None,
            SpanState.ACTIVE,
        ),
    ]
    store.save_spans(device.id, None, spans)
    report = build_report(store, period, ["laptop"], start + timedelta(days=3), DEFAULT).usage
    assert report.active_seconds == 30 * 60 + 3600 + 15 * 60
    assert report.idle_seconds == 3600
    assert report.locked_seconds == 3600
    assert report.elapsed_seconds == 25 * 3600
    assert report.unrecorded_seconds == 25 * 3600 - report.recorded_seconds
    assert [(a.app, a.active_seconds, a.idle_seconds) for a in report.apps] == [
        ("B", 3600, 3600),
        ("A", 45 * 60, 0),
    ]
    data = report.to_dict()
    assert set(data) >= {"period", "totals", "apps"}
    assert data["totals"]["active_seconds"] == report.active_seconds
    assert data["apps"][0] == {"app": "B", "active_seconds": 3600, "idle_seconds": 3600}
    full = build_report(store, period, ["laptop"], start + timedelta(days=3), DEFAULT).to_dict()
    assert {k: full[k] for k in ("totals", "apps", "devices")} == {
        k: data[k] for k in ("totals", "apps", "devices")
    }


def test_totals_clip_spans_at_both_ends_per_app_and_state(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    t0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)

    def at(seconds: float) -> datetime:
        return t0 + timedelta(seconds=seconds)

    device = store.device("laptop", "h", t0)
    store.device("desktop", "h2", t0)
    store.save_spans(
        device.id,
        None,
        [
            Span(at(0), at(100), "A", None, SpanState.ACTIVE),
            Span(at(100), at(160), "B", None, SpanState.ACTIVE),
            Span(at(160), at(400), "B", None, SpanState.IDLE),
            Span(at(400), at(500), None, None, SpanState.LOCKED),
        ],
    )
    period = Period(at(50), at(450), "test", BERLIN)
    report = build_report(store, period, ["laptop"], at(1000), DEFAULT).usage
    assert [(a.app, a.active_seconds, a.idle_seconds) for a in report.apps] == [
        ("B", 60, 240),
        ("A", 50, 0),
    ]
    assert (report.active_seconds, report.idle_seconds, report.locked_seconds) == (110, 240, 50)
    other = build_report(store, period, ["desktop"], at(1000), DEFAULT).usage
    assert other.apps == [] and other.recorded_seconds == 0


def test_pauses_count_as_paused_not_recorded(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    device = store.device("laptop", "h", datetime.now(UTC))
    period = day_period(date(2026, 6, 1), BERLIN, DEFAULT)
    start = period.start.astimezone(UTC)
    store.add_pause(device.id, start + timedelta(hours=1), start + timedelta(hours=2), "x")
    report = build_report(store, period, ["laptop"], start + timedelta(hours=3), DEFAULT).usage
    assert report.paused_seconds == 3600
    assert report.elapsed_seconds == 3 * 3600
