"""The report's activity on PostgreSQL: the server sums (presence.store.activity_sums), this
module folds the sums into the same `Activity` that `activity.scan` computes from every span
(issue 12: a household's year is 4.5 M spans; streaming them into Python took 25 s).

The spans at the period's edges, and those placed by the report's zone (offset 0) or longer
than a span may be, come back as rows and go through `scan` itself (days, heat map, titles);
the rest come as seconds per lived hour, day and state and per (app, title, state, site),
and as "units" of sessions: a device's active spans between gaps of at least the session
break. `Sessions` replays scan's session logic on the edge spans one by one and on the units
whole, in start order; a unit never holds the start of a session (its gaps are all shorter
than the break), so the sessions, their lengths and the app switches come out as scan's.

Imports no SQLAlchemy until `server_activity` runs (the SQLite path never does).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from presence.reports.activity import STATES, Activity, DayUsage, Session, scan
from presence.reports.periods import Period, lived_day_edges
from presence.settings.schema import ReportSettings
from presence.store.rows import SpanRow, TitleUsage

if TYPE_CHECKING:
    from presence.store.activity_sums import Sums

Unit = tuple[float, float, float, int, str | None, str | None, int]
"""(start_ts, start, end, device, first app, last app, app switches inside)."""


class Sessions:
    """scan's session logic, fed one span (`span`) or one unit (`unit`) at a time, in start
    order. `open_end` is the latest end seen: a unit's end is the latest of its spans."""

    def __init__(self, session_break: float) -> None:
        self.session_break = session_break
        self.count = 0
        self.total = 0.0
        self.longest = (0.0, 0.0)
        self.open_start = self.open_end = -1.0
        self.switches = 0
        self.last_app: dict[int, str | None] = {}

    def unit(
        self,
        start: float,
        end: float,
        device: int,
        first_app: str | None,
        last_app: str | None,
        switches: int,
    ) -> None:
        if start - self.open_end >= self.session_break or self.open_end < 0:
            self._close()
            self.count += 1
            self.open_start, self.open_end = start, end
            self.last_app.clear()
        else:
            self.open_end = max(self.open_end, end)
            if device in self.last_app and self.last_app[device] != first_app:
                self.switches += 1
        self.switches += switches
        self.last_app[device] = last_app

    def span(self, start: float, end: float, device: int, app: str | None) -> None:
        self.unit(start, end, device, app, app, 0)

    def _close(self) -> None:
        if self.open_end >= 0:
            self.total += self.open_end - self.open_start
            if self.open_end - self.open_start > self.longest[1] - self.longest[0]:
                self.longest = (self.open_start, self.open_end)

    def finish(self, activity: Activity) -> None:
        self._close()
        self.open_end = -1.0
        activity.sessions = self.count
        activity.session_seconds = self.total
        activity.switches = self.switches
        activity.longest = None
        if self.longest[1] > self.longest[0]:
            activity.longest = Session(
                datetime.fromtimestamp(self.longest[0], UTC),
                datetime.fromtimestamp(self.longest[1], UTC),
            )


def units(rows: Sequence[Any]) -> list[Unit]:
    """The units of presence.store.activity_sums' rows (ordered by device and start): a unit
    starts at each `cut` row and ends with the row before the device's next cut, or with the
    device's last row. Its end is the latest end of its spans: the previous end of the next
    cut, of any row ending before the row before it, or the last row's own end."""
    found: list[Unit] = []
    unit: list[Any] | None = None  # [start_ts, start, end, device, first, last, switches, base]
    for device, start_ts, start, end, app, previous_end, previous_app, cut, count, last in rows:
        if cut:
            if unit is not None:  # the device's unit before this one ends with the row before
                unit[2] = max(unit[2], previous_end)
                unit[5], unit[6] = previous_app, count - unit[7]
                found.append((unit[0], unit[1], unit[2], unit[3], unit[4], unit[5], unit[6]))
            unit = [start_ts, start, end, device, app, app, 0, count]
        else:
            assert unit is not None  # each device's first row is a cut (no previous end)
            unit[2] = max(unit[2], previous_end)
        if last:
            unit[2] = max(unit[2], end)
            unit[5], unit[6] = app, count - unit[7]
            found.append((unit[0], unit[1], unit[2], unit[3], unit[4], unit[5], unit[6]))
            unit = None
    return found


def _clipped(
    row: SpanRow, lo: float, hi: float, lived_lo: float, lived_hi: float
) -> tuple[float, float]:
    """(start, end) of `row` clipped to the period as scan clips it."""
    row_start, row_end, _, _, _, _, _, offset = row
    if offset:
        lived_start = max(row_start + offset, lived_lo)
        lived_end = min(row_end + offset, lived_hi)
        return lived_start - offset, lived_end - offset
    return max(row_start, lo), min(row_end, hi)


def fold(sums: Sums, period: Period, settings: ReportSettings, session_break: float) -> Activity:
    """The Activity of `period` from the server's `sums`."""
    activity = scan(sums.raw, period, settings, session_break)  # the rows, as ever
    lived = lived_day_edges(period, settings)
    index = {state: i for i, state in enumerate(STATES)}
    days, heat = activity.days, activity.heat
    for hour, day, state, in_hour, next_hour, in_day, next_day in sums.sums:
        slot = index.get(state, 1)
        _add(days[int(day)], slot, in_day)
        if next_day:
            _add(days[int(day) + 1], slot, next_day)
        if slot == 0:
            h = int(hour)
            heat[(h // 24 + 3) % 7][h % 24] += in_hour  # 1970-01-01 was a Thursday (3)
            if next_hour:
                heat[((h + 1) // 24 + 3) % 7][(h + 1) % 24] += next_hour
    titles: dict[tuple[str | None, str | None, str, str | None], float] = {}
    for usage in (*activity.titles, *sums.titles):
        key = (usage.app, usage.title, usage.state, usage.site)
        titles[key] = titles.get(key, 0.0) + usage.seconds
    activity.active_seconds += sum(u.seconds for u in sums.titles if u.state == "active")
    activity.titles = [
        TitleUsage(app, title, state, seconds, site)
        for (app, title, state, site), seconds in titles.items()
    ]

    # in scan's order: the head's spans, the middle's units, the tail's spans
    sessions = Sessions(session_break)
    edges = (period.start.timestamp(), period.end.timestamp(), lived[0], lived[-1])

    def one_by_one(rows: Iterable[SpanRow]) -> None:
        for row in rows:
            start, end = _clipped(row, *edges)
            if row[5] == "active" and end > start:
                sessions.span(start, end, row[2], row[3])

    one_by_one(r for r in sums.raw if r[0] <= sums.t_head)
    for unit in sorted(units(sums.units), key=lambda u: (u[0], u[3])):
        sessions.unit(*unit[1:])
    one_by_one(r for r in sums.raw if r[0] >= sums.t_tail and r[0] > sums.t_head)
    sessions.finish(activity)
    return activity


def _add(day: DayUsage, slot: int, seconds: float) -> None:
    if slot == 0:
        day.active_seconds += seconds
    elif slot == 1:
        day.idle_seconds += seconds
    else:
        day.locked_seconds += seconds


def server_activity(
    source: Any,
    period: Period,
    settings: ReportSettings,
    device_ids: Sequence[int],
    people: Sequence[str] | None,
    span_start: datetime,
    span_end: datetime,
) -> Activity:
    """The Activity of `period` summed by PostgreSQL (`source`: a Store on PostgreSQL), for
    the spans `span_rows(span_start, span_end, device_ids)` of `people` would stream.
    Raises StorageError."""
    from presence.store.activity_sums import ActivitySums, Scope  # noqa: PLC0415 - SQLAlchemy

    lived = lived_day_edges(period, settings)
    scope = Scope(
        span_start,
        span_end,
        device_ids,
        people,
        period.start.timestamp(),
        period.end.timestamp(),
        lived[0],
        lived[-1],
        settings.session_break,
    )
    return fold(ActivitySums(source.engine).read(scope), period, settings, settings.session_break)
