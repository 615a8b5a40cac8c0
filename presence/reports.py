"""Usage reports: what the screen was used for in a local day or week, from the store.

Days start at `reports.day_start` and weeks at `reports.week_start`, in the user's zone, so a
DST day is 23 or 25 hours long and its totals are still right (bounds are computed in local
time and converted to UTC; spans are stored in UTC and clipped to the bounds in SQL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from presence.config import ReportSettings
from presence.model import SpanState
from presence.store import Store

NO_WINDOW = "(no window)"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) as aware UTC instants, cut in `zone`.

    UTC on purpose: subtracting two datetimes that share one ZoneInfo gives wall-clock time,
    which is wrong by an hour across a DST change.
    """

    start: datetime
    end: datetime
    label: str
    zone: tzinfo

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.zone)


def _day_start(settings: ReportSettings) -> time:
    hours, minutes = settings.day_start.split(":")
    return time(int(hours), int(minutes))


def _at(day: date, clock_time: time, zone: tzinfo) -> datetime:
    # fold=0: on an autumn day whose start time repeats, the day starts at the first one.
    return datetime.combine(day, clock_time, tzinfo=zone).astimezone(UTC)


def report_day(now: datetime, zone: tzinfo, settings: ReportSettings) -> date:
    """The date whose report day contains `now` (before day_start it is still yesterday)."""
    local = now.astimezone(zone)
    start = _day_start(settings)
    return local.date() - timedelta(days=1) if local.time() < start else local.date()


def day_period(day: date, zone: tzinfo, settings: ReportSettings) -> Period:
    start = _day_start(settings)
    begin, end = _at(day, start, zone), _at(day + timedelta(days=1), start, zone)
    return Period(begin, end, day.isoformat(), zone)


def week_period(day: date, zone: tzinfo, settings: ReportSettings) -> Period:
    first = WEEKDAYS.index(settings.week_start)
    monday_based = (day.weekday() - first) % 7
    week_first = day - timedelta(days=monday_based)
    start = _day_start(settings)
    begin = _at(week_first, start, zone)
    end = _at(week_first + timedelta(days=7), start, zone)
    iso = week_first.isocalendar()
    label = f"week of {week_first.isoformat()} ({iso.year}-W{iso.week:02d})"
    return Period(begin, end, label, zone)


@dataclass(slots=True)
class AppUsage:
    app: str
    active_seconds: float = 0.0
    idle_seconds: float = 0.0


@dataclass(slots=True)
class UsageReport:
    """Seconds per state and per app in a period, and how much of it was not recorded."""

    period: Period
    devices: list[str]
    active_seconds: float = 0.0
    idle_seconds: float = 0.0
    locked_seconds: float = 0.0
    paused_seconds: float = 0.0
    elapsed_seconds: float = 0.0  # the part of the period that has happened
    apps: list[AppUsage] = field(default_factory=list)

    @property
    def recorded_seconds(self) -> float:
        return self.active_seconds + self.idle_seconds + self.locked_seconds

    @property
    def unrecorded_seconds(self) -> float:
        """Time presence was not watching: not running, suspended, or paused."""
        return max(0.0, self.elapsed_seconds - self.recorded_seconds)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (docs/reports.md): seconds as numbers, instants ISO 8601."""
        return {
            "period": {
                "start": self.period.local(self.period.start).isoformat(),
                "end": self.period.local(self.period.end).isoformat(),
                "label": self.period.label,
                "hours": round(self.period.hours, 3),
            },
            "devices": self.devices,
            "totals": {
                "active_seconds": round(self.active_seconds, 3),
                "idle_seconds": round(self.idle_seconds, 3),
                "locked_seconds": round(self.locked_seconds, 3),
                "recorded_seconds": round(self.recorded_seconds, 3),
                "paused_seconds": round(self.paused_seconds, 3),
                "unrecorded_seconds": round(self.unrecorded_seconds, 3),
            },
            "apps": [
                {
                    "app": a.app,
                    "active_seconds": round(a.active_seconds, 3),
                    "idle_seconds": round(a.idle_seconds, 3),
                }
                for a in self.apps
            ],
        }


def usage_report(
    store: Store, period: Period, device_names: list[str], now: datetime
) -> UsageReport:
    """Totals and per-app seconds for `period` on the named devices (sorted by active time)."""
    found = [d for d in (store.find_device(n) for n in device_names) if d is not None]
    ids = [d.id for d in found]
    report = UsageReport(period, [d.name for d in found])
    until = min(period.end, max(period.start, now.astimezone(UTC)))
    report.elapsed_seconds = max(0.0, (until - period.start).total_seconds()) * max(1, len(ids))
    if not ids:
        return report
    apps: dict[str, AppUsage] = {}
    for usage in store.usage(period.start, period.end, ids):
        if usage.state is SpanState.LOCKED:
            report.locked_seconds += usage.seconds
            continue
        entry = apps.setdefault(usage.app or NO_WINDOW, AppUsage(usage.app or NO_WINDOW))
        if usage.state is SpanState.ACTIVE:
            entry.active_seconds += usage.seconds
            report.active_seconds += usage.seconds
        else:
            entry.idle_seconds += usage.seconds
            report.idle_seconds += usage.seconds
    for pause in store.pauses_between(period.start, until, ids):
        end = pause.end_at() or until
        report.paused_seconds += max(
            0.0, (min(end, until) - max(pause.start, period.start)).total_seconds()
        )
    report.apps = sorted(apps.values(), key=lambda a: (-a.active_seconds, -a.idle_seconds, a.app))
    return report
