"""Report periods: local days, weeks, months and date ranges, as UTC instants.

Days start at `reports.day_start` and weeks at `reports.week_start`, in the user's zone. Bounds
are computed in local time and converted to UTC, so a DST day is 23 or 25 hours long and every
sum over it is still right. Everything that subtracts instants does so in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from presence.rules.schedule import wall_to_utc
from presence.settings.schema import ReportSettings

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9998, 12, 31)
"""The report dates presence accepts. Wide enough for any record, and narrow enough that a
period, the one before it and ten years of trends stay inside datetime's years 1 to 9999."""


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) as aware UTC instants, cut in `zone`.

    UTC on purpose: subtracting two datetimes that share one ZoneInfo gives wall-clock time,
    which is wrong by an hour across a DST change. `kind` is day, week, month or range;
    `first` and `last` are the local report days it covers (inclusive).
    """

    start: datetime
    end: datetime
    label: str
    zone: tzinfo
    kind: str = "range"
    first: date | None = None
    last: date | None = None

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    @property
    def days(self) -> int:
        if self.first is None or self.last is None:
            return max(1, round(self.hours / 24))
        return (self.last - self.first).days + 1

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.zone)


def day_start_time(settings: ReportSettings) -> time:
    hours, minutes = settings.day_start.split(":")
    return time(int(hours), int(minutes))


def day_start_at(day: date, zone: tzinfo, settings: ReportSettings) -> datetime:
    """The UTC instant the report day `day` starts: the first instant the local clock reads
    `day_start` or later, so reports cut days exactly where the rules do (one function for
    both, `rules.schedule.wall_to_utc`). A repeated time counts the first time; a time skipped
    by a spring-forward change starts the day at the jump."""
    return wall_to_utc(day, day_start_time(settings), zone)


def report_day(now: datetime, zone: tzinfo, settings: ReportSettings) -> date:
    """The date whose report day contains `now` (before day_start it is still yesterday)."""
    day = now.astimezone(zone).date()
    # Compared as instants, not wall times: in a repeated hour a wall time says nothing.
    return day - timedelta(days=1) if day_start_at(day, zone, settings) > now else day


def day_period(day: date, zone: tzinfo, settings: ReportSettings) -> Period:
    begin = day_start_at(day, zone, settings)
    end = day_start_at(day + timedelta(days=1), zone, settings)
    return Period(begin, end, day.isoformat(), zone, "day", day, day)


def week_first(day: date, settings: ReportSettings) -> date:
    """The first date of the report week containing `day`."""
    return day - timedelta(days=(day.weekday() - WEEKDAYS.index(settings.week_start)) % 7)


def week_period(day: date, zone: tzinfo, settings: ReportSettings) -> Period:
    first = week_first(day, settings)
    last = first + timedelta(days=6)
    begin = day_start_at(first, zone, settings)
    end = day_start_at(last + timedelta(days=1), zone, settings)
    iso = first.isocalendar()
    label = f"week of {first.isoformat()} ({iso.year}-W{iso.week:02d})"
    return Period(begin, end, label, zone, "week", first, last)


def month_period(day: date, zone: tzinfo, settings: ReportSettings) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    begin = day_start_at(first, zone, settings)
    end = day_start_at(following, zone, settings)
    label = f"{first:%Y-%m} ({MONTHS[first.month - 1]} {first.year})"
    return Period(begin, end, label, zone, "month", first, following - timedelta(days=1))


def range_period(first: date, last: date, zone: tzinfo, settings: ReportSettings) -> Period:
    """The report days `first` to `last`, both included. Raises ValueError if last < first."""
    if last < first:
        raise ValueError(f"{last} is before {first}")
    begin = day_start_at(first, zone, settings)
    end = day_start_at(last + timedelta(days=1), zone, settings)
    label = f"{first.isoformat()} to {last.isoformat()}"
    return Period(begin, end, label, zone, "range", first, last)


def previous_period(period: Period, settings: ReportSettings) -> Period:
    """The period of the same kind just before `period` (for a range: as many days)."""
    first = period.first or report_day(period.start, period.zone, settings)
    if period.kind == "day":
        return day_period(first - timedelta(days=1), period.zone, settings)
    if period.kind == "week":
        return week_period(first - timedelta(days=7), period.zone, settings)
    if period.kind == "month":
        return month_period(first - timedelta(days=1), period.zone, settings)
    days = timedelta(days=period.days)
    return range_period(first - days, first - timedelta(days=1), period.zone, settings)


def day_edges(period: Period, settings: ReportSettings) -> list[tuple[date, float]]:
    """Each report day of `period` with the UTC epoch second it starts, then the end."""
    first = period.first or report_day(period.start, period.zone, settings)
    edges: list[tuple[date, float]] = []
    day = first
    while True:
        at = day_start_at(day, period.zone, settings)
        edges.append((day, at.timestamp()))
        if at >= period.end:
            return edges
        day += timedelta(days=1)


def lived_day_edges(period: Period, settings: ReportSettings) -> list[float]:
    """`day_edges` on the lived clock (issue 10): each day's start as the wall time it is
    everywhere (naive local time counted as if it were UTC), so that a span placed by its own
    recorded offset (`start_ts + utc_offset`) falls in the day and hour it was lived in."""
    first = period.first or report_day(period.start, period.zone, settings)
    cut = day_start_time(settings)
    days = [day for day, _ in day_edges(period, settings)]
    assert days and days[0] == first  # day_edges starts at the period's first day
    return [datetime.combine(day, cut, UTC).timestamp() for day in days]


def hour_edges(period: Period) -> tuple[list[float], list[int], list[int]]:
    """The local clock hours inside `period`: their UTC starts (then the end), and each one's
    local weekday (0 = Monday) and hour of day.

    A 25-hour day has its repeated hour twice (both count as that hour); a 23-hour day lacks
    the skipped one. The first and last may be partial hours (a day_start such as 04:30).
    """
    starts: list[float] = []
    weekdays: list[int] = []
    hours: list[int] = []
    at = period.start.timestamp()
    end = period.end.timestamp()
    while at < end:
        local = datetime.fromtimestamp(at, UTC).astimezone(period.zone)
        starts.append(at)
        weekdays.append(local.weekday())
        hours.append(local.hour)
        into = local.minute * 60 + local.second + local.microsecond / 1e6
        at += 3600 - into
    starts.append(end)
    return starts, weekdays, hours
