"""Occurrences in local time: DST spring and autumn days in Europe/Berlin and America/New_York,
windows crossing midnight, one-off dates, and windows that DST empties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from presence.rules.model import Rule, RuleKind, parse_rule
from presence.rules.schedule import (
    day_window,
    occurrence_on,
    occurrences,
    upcoming,
    wall_to_utc,
    week_coverage,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        # an ordinary winter and summer day
        (BERLIN, "2026-01-15", "22:00", "2026-01-15 21:00"),
        (BERLIN, "2026-07-15", "22:00", "2026-07-15 20:00"),
        # spring forward (02:00 CET -> 03:00 CEST): a skipped time starts when the clocks jump
        (BERLIN, "2026-03-29", "01:59", "2026-03-29 00:59"),
        (BERLIN, "2026-03-29", "02:00", "2026-03-29 01:00"),
        (BERLIN, "2026-03-29", "02:30", "2026-03-29 01:00"),
        (BERLIN, "2026-03-29", "03:00", "2026-03-29 01:00"),
        (BERLIN, "2026-03-29", "03:01", "2026-03-29 01:01"),
        # fall back (03:00 CEST -> 02:00 CET): a repeated time is the first one (fold=0)
        (BERLIN, "2026-10-25", "02:30", "2026-10-25 00:30"),
        (BERLIN, "2026-10-25", "03:00", "2026-10-25 02:00"),
        (NEW_YORK, "2026-03-08", "02:30", "2026-03-08 07:00"),
        (NEW_YORK, "2026-03-08", "03:00", "2026-03-08 07:00"),
        (NEW_YORK, "2026-11-01", "01:30", "2026-11-01 05:30"),
        (NEW_YORK, "2026-11-01", "02:00", "2026-11-01 07:00"),
    ],
)
def test_wall_to_utc(zone: ZoneInfo, day: str, at: str, expected: str) -> None:
    got = wall_to_utc(date.fromisoformat(day), time.fromisoformat(at), zone)
    assert got == utc(expected)


def tech_free(start: str, end: str, days: str = "daily", **extra: object) -> Rule:
    return parse_rule("r", RuleKind.TECH_FREE, {"days": days, "start": start, "end": end, **extra})


@pytest.mark.parametrize(
    ("zone", "day", "window", "start", "end", "hours"),
    [
        # crossing midnight, ordinary nights
        (BERLIN, "2026-01-15", ("22:00", "06:00"), "2026-01-15 21:00", "2026-01-16 05:00", 8),
        (NEW_YORK, "2026-07-15", ("22:00", "06:00"), "2026-07-16 02:00", "2026-07-16 10:00", 8),
        # the nights the clocks change: 7 h in spring, 9 h in autumn
        (BERLIN, "2026-03-28", ("22:00", "06:00"), "2026-03-28 21:00", "2026-03-29 04:00", 7),
        (BERLIN, "2026-10-24", ("22:00", "06:00"), "2026-10-24 20:00", "2026-10-25 05:00", 9),
        (NEW_YORK, "2026-03-07", ("22:00", "06:00"), "2026-03-08 03:00", "2026-03-08 10:00", 7),
        (NEW_YORK, "2026-10-31", ("22:00", "06:00"), "2026-11-01 02:00", "2026-11-01 11:00", 9),
        # a window starting inside the skipped hour starts at the jump
        (BERLIN, "2026-03-29", ("02:15", "03:30"), "2026-03-29 01:00", "2026-03-29 01:30", 0.5),
        # a window inside the repeated hour happens once, in its first pass
        (BERLIN, "2026-10-25", ("02:00", "02:45"), "2026-10-25 00:00", "2026-10-25 00:45", 0.75),
        (NEW_YORK, "2026-11-01", ("01:00", "01:30"), "2026-11-01 05:00", "2026-11-01 05:30", 0.5),
    ],
)
def test_occurrence_on_a_day(
    zone: ZoneInfo,
    day: str,
    window: tuple[str, str],
    start: str,
    end: str,
    hours: float,
) -> None:
    occ = occurrence_on(tech_free(*window), date.fromisoformat(day), zone)
    assert occ is not None and occ.end is not None
    assert (occ.start, occ.end) == (utc(start), utc(end))
    assert (occ.end - occ.start) == timedelta(hours=hours)


def test_a_window_inside_the_skipped_hour_does_not_happen() -> None:
    rule = tech_free("02:00", "02:30")
    assert occurrence_on(rule, date(2026, 3, 29), BERLIN) is None
    assert occurrence_on(rule, date(2026, 3, 30), BERLIN) is not None


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK])
def test_a_year_of_nights_is_one_occurrence_per_night(zone: ZoneInfo) -> None:
    rule = tech_free("22:00", "06:00")
    lo = datetime(2026, 1, 1, 12, tzinfo=zone)
    found = occurrences(rule, zone, lo, lo + timedelta(days=365))
    assert len(found) == 365
    starts = [o.start.astimezone(zone) for o in found]
    assert all(s.hour == 22 and s.minute == 0 for s in starts)
    assert len({s.date() for s in starts}) == 365
    lengths = sorted({(o.end - o.start).total_seconds() / 3600 for o in found if o.end})
    assert lengths == [7.0, 8.0, 9.0]  # the two clock-change nights


def test_days_and_one_off_dates() -> None:
    weekdays = tech_free("09:00", "17:00", "weekdays")
    week = occurrences(weekdays, BERLIN, utc("2026-11-23 00:00"), utc("2026-11-30 00:00"))
    assert [o.start.astimezone(BERLIN).strftime("%a") for o in week] == [
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
    ]
    one_off = parse_rule(
        "xmas", RuleKind.TECH_FREE, {"on": "2026-12-24", "start": "18:00", "end": "23:00"}
    )
    found = occurrences(one_off, BERLIN, utc("2026-12-01 00:00"), utc("2027-01-31 00:00"))
    assert [(o.start, o.end) for o in found] == [(utc("2026-12-24 17:00"), utc("2026-12-24 22:00"))]
    assert occurrences(one_off, BERLIN, utc("2027-12-01 00:00"), utc("2027-12-31 00:00")) == []


def test_an_occurrence_in_progress_is_found_and_upcoming_includes_it() -> None:
    rule = tech_free("22:00", "06:00")
    now = utc("2026-01-16 02:00")  # 03:00 in Berlin, inside the night that began at 22:00
    found = upcoming(rule, BERLIN, now, within=timedelta(days=2))
    assert found[0].start == utc("2026-01-15 21:00")
    assert found[0].contains(now)
    assert [o.start for o in found[1:]] == [utc("2026-01-16 21:00"), utc("2026-01-17 21:00")]


def test_ad_hoc_window() -> None:
    rule = parse_rule(
        "f",
        RuleKind.FOCUS,
        {"at": "2026-11-22T10:00:00+01:00", "until": "2026-11-22T10:25:00+01:00", "apps": "x"},
    )
    found = occurrences(rule, BERLIN, utc("2026-11-22 00:00"), utc("2026-11-23 00:00"))
    assert [(o.start, o.end) for o in found] == [(utc("2026-11-22 09:00"), utc("2026-11-22 09:25"))]


@pytest.mark.parametrize(
    ("zone", "now", "start", "end"),
    [
        (BERLIN, "2026-11-22 10:00", "2026-11-22 03:00", "2026-11-23 03:00"),
        (BERLIN, "2026-11-22 02:59", "2026-11-21 03:00", "2026-11-22 03:00"),  # before 04:00
        # the user's day across the spring change is 23 h long, across the autumn one 25 h
        (BERLIN, "2026-03-28 12:00", "2026-03-28 03:00", "2026-03-29 02:00"),
        (BERLIN, "2026-10-24 12:00", "2026-10-24 02:00", "2026-10-25 03:00"),
    ],
)
def test_day_window(zone: ZoneInfo, now: str, start: str, end: str) -> None:
    assert day_window(utc(now), zone, time(4)) == (utc(start), utc(end))


def test_week_coverage_wraps_sunday_night() -> None:
    rule = tech_free("22:00", "06:00", "sun")
    assert week_coverage(rule) == [(0, 6 * 3600), (6 * 86400 + 22 * 3600, 7 * 86400)]
