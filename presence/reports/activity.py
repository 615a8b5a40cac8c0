"""One ordered pass over a period's spans: per-day totals, the hour-of-day by day-of-week heat
map, sessions, app switches, and the seconds per app, title and state. Rows are streamed from
the store; only the period's buckets (one per local hour) and one sum per distinct (app,
title, state) are kept, so memory does not grow with the number of spans.

Sessions: a session is a stretch of active use; it ends when the user is away (idle, locked,
or nothing recorded) for at least `session_break` (default 5 minutes) before the next active
time. Its length runs from its first active second to its last, short breaks included.
Across devices, active time is merged: working on the laptop while the desktop idles is one
session. App switches: consecutive active spans on one device whose app differs,
inside one session.

Local days where they were lived (issue 10): each span is placed in the day and hour of the
UTC offset it was recorded with, not of the report's zone, so a week spent in another zone is
reported in the hours lived. Days are cut on that "lived clock" (`lived_day_edges`: the wall
time counted as if it were UTC); a span recorded in the report's own zone lands exactly where
the zone's clock puts it, clock changes included. An offset of 0 is read as "not known" and
the span is placed by the report's zone (spans imported or written without an offset; for
someone living at UTC+0 the two agree).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from presence.reports.periods import WEEKDAYS, Period, day_edges, hour_edges, lived_day_edges
from presence.settings.schema import ReportSettings
from presence.store.rows import SpanRow, TitleUsage

STATES = ("active", "idle", "locked")


@dataclass(slots=True)
class DayUsage:
    """One report day: its bounds and seconds per state (spans clipped to the day)."""

    day: date
    start: datetime
    end: datetime
    active_seconds: float = 0.0
    idle_seconds: float = 0.0
    locked_seconds: float = 0.0

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def to_dict(self, period: Period) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "weekday": WEEKDAYS[self.day.weekday()],
            "start": period.local(self.start).isoformat(),
            "end": period.local(self.end).isoformat(),
            "hours": round(self.hours, 3),
            "active_seconds": round(self.active_seconds, 3),
            "idle_seconds": round(self.idle_seconds, 3),
            "locked_seconds": round(self.locked_seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class Session:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(slots=True)
class Activity:
    """What the ordered pass found. `heat[w][h]`: active seconds on weekday w (0 = Monday) in
    local hour h, summed over the period; `hourly[h]`: the same over all weekdays."""

    days: list[DayUsage]
    heat: list[list[float]] = field(default_factory=lambda: [[0.0] * 24 for _ in range(7)])
    sessions: int = 0
    session_seconds: float = 0.0
    longest: Session | None = None
    switches: int = 0
    active_seconds: float = 0.0
    session_break: float = 300.0
    # Seconds per (app, title, state, site), as ReportQueries.title_usage gives them:
    # summed here, in the pass that reads every span anyway, rather than in a second query.
    titles: list[TitleUsage] = field(default_factory=list)

    @property
    def hourly(self) -> list[float]:
        return [sum(row[h] for row in self.heat) for h in range(24)]

    @property
    def switches_per_active_hour(self) -> float:
        return self.switches / (self.active_seconds / 3600) if self.active_seconds >= 60 else 0.0


def _spread(
    edges: list[float], start: float, end: float, add: list[float], stride: int, offset: int
) -> None:
    """Add the parts of [start, end) that fall in each bucket [edges[i], edges[i+1]) to
    add[i * stride + offset]. Spans are at most an hour, so this loops once or twice."""
    i = bisect_right(edges, start) - 1
    last = len(edges) - 1
    while start < end and i < last:
        cut = edges[i + 1]
        cut = min(cut, end)
        if i >= 0:
            add[i * stride + offset] += cut - start
        start = cut
        i += 1


def _lived_hours(heat: list[list[float]], start: float, end: float) -> None:
    """Add [start, end) on the lived clock (seconds, wall time as if UTC) to the heat map."""
    hour = int(start // 3600)
    while start < end:
        cut = min(end, (hour + 1) * 3600.0)
        day = hour // 24
        heat[(day + 3) % 7][hour % 24] += cut - start  # 1970-01-01 was a Thursday (3)
        start = cut
        hour += 1


def scan(  # noqa: PLR0915 - one hot loop over every span: a call per row would cost
    rows: Iterable[SpanRow], period: Period, settings: ReportSettings, session_break: float
) -> Activity:
    """Fold the spans `rows` (ordered by start) into an Activity for `period`."""
    lo, hi = period.start.timestamp(), period.end.timestamp()
    days = day_edges(period, settings)
    day_at = [at for _, at in days]
    lived = lived_day_edges(period, settings)
    lived_lo, lived_hi = lived[0], lived[-1]  # the period on the lived clock
    per_day = [0.0] * (3 * (len(days) - 1))
    hours, weekdays, clock = hour_edges(period)
    per_hour = [0.0] * (len(hours) - 1)
    heat = [[0.0] * 24 for _ in range(7)]
    state_index = {state: i for i, state in enumerate(STATES)}

    sessions = 0
    session_total = 0.0
    longest = (0.0, 0.0)
    open_start = open_end = -1.0
    switches = 0
    last_app: dict[int, str | None] = {}
    active = 0.0
    titles: dict[tuple[str | None, str | None, str, str | None], float] = {}
    day = lived_day = hour_at = 0  # the buckets the last span fell in (fast paths below)

    for row_start, row_end, device, app, title, state, site, offset in rows:
        if offset:
            # on the lived clock: where the span was lived, by the offset it was recorded with
            lived_start, lived_end = row_start + offset, row_end + offset
            lived_start = lived_lo if lived_start < lived_lo else lived_start
            lived_end = lived_hi if lived_end > lived_hi else lived_end
            start, end = lived_start - offset, lived_end - offset
        else:  # no offset known: the report's zone
            start = lo if row_start < lo else row_start  # faster than max() in this hot loop
            end = hi if row_end > hi else row_end
        if end <= start:
            continue
        key = (app, title, state, site)
        titles[key] = titles.get(key, 0.0) + (end - start)
        index = state_index.get(state, 1)
        # Fast paths, the same sums: most spans lie inside the bucket the previous one was in
        # (rows come by start); the general case (_spread, _lived_hours) splits at the edges.
        if offset:
            if lived[lived_day] <= lived_start and lived_end <= lived[lived_day + 1]:
                per_day[3 * lived_day + index] += lived_end - lived_start
            else:
                _spread(lived, lived_start, lived_end, per_day, 3, index)
                lived_day = min(max(bisect_right(lived, lived_start) - 1, 0), len(lived) - 2)
        elif day_at[day] <= start and end <= day_at[day + 1]:
            per_day[3 * day + index] += end - start
        else:
            _spread(day_at, start, end, per_day, 3, index)
            day = min(max(bisect_right(day_at, start) - 1, 0), len(day_at) - 2)
        if index:
            continue
        active += end - start
        if offset:
            hour = int(lived_start // 3600)
            if lived_end <= (hour + 1) * 3600.0:
                heat[(hour // 24 + 3) % 7][hour % 24] += lived_end - lived_start  # see _lived_hours
            else:
                _lived_hours(heat, lived_start, lived_end)
        elif hours[hour_at] <= start and end <= hours[hour_at + 1]:
            per_hour[hour_at] += end - start
        else:
            _spread(hours, start, end, per_hour, 1, 0)
            hour_at = min(max(bisect_right(hours, start) - 1, 0), len(hours) - 2)
        if start - open_end >= session_break or open_end < 0:
            if open_end >= 0:
                session_total += open_end - open_start
                if open_end - open_start > longest[1] - longest[0]:
                    longest = (open_start, open_end)
            sessions += 1
            open_start, open_end = start, end
            last_app.clear()
        else:
            open_end = max(open_end, end)
            if device in last_app and last_app[device] != app:
                switches += 1
        last_app[device] = app
    if open_end >= 0:
        session_total += open_end - open_start
        if open_end - open_start > longest[1] - longest[0]:
            longest = (open_start, open_end)

    result = Activity(
        heat=heat,
        days=[
            DayUsage(
                day,
                datetime.fromtimestamp(at, UTC),
                datetime.fromtimestamp(days[i + 1][1], UTC),
                per_day[3 * i],
                per_day[3 * i + 1],
                per_day[3 * i + 2],
            )
            for i, (day, at) in enumerate(days[:-1])
        ],
        sessions=sessions,
        session_seconds=session_total,
        switches=switches,
        active_seconds=active,
        session_break=session_break,
        titles=[
            TitleUsage(app, title, state, seconds, site)
            for (app, title, state, site), seconds in titles.items()
        ],
    )
    if longest[1] > longest[0]:
        result.longest = Session(
            datetime.fromtimestamp(longest[0], UTC), datetime.fromtimestamp(longest[1], UTC)
        )
    for seconds, weekday, hour in zip(per_hour, weekdays, clock, strict=False):
        heat[weekday][hour] += seconds
    return result
