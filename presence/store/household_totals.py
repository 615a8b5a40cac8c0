"""The household section of a report (issue 12): seconds per device, person and state in a
period, summed in SQL, and the zones and people of the devices a report covers.

One grouped query (spans joined to the run that recorded them for its person) serves every
per-device, per-person and per-zone total; it reads the period's spans on the
(device_id, start_ts) index like the report's own queries and returns a few rows per device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from presence.core.model import MAX_SPAN_SECONDS
from presence.store.queries import Queries
from presence.store.schema import daemon_runs, devices, spans
from presence.store.tracking import Store, ts

FURTHEST_OFFSET = 14 * 3600.0
"""The largest UTC offset a span may carry (Kiribati): how far from the period's lived bounds
a span's UTC start may lie and still be lived inside them."""


@dataclass(frozen=True, slots=True)
class Clip:
    """Where a report cuts spans: [start, end) in UTC for spans without a known offset, and
    [lived_start, lived_end) on the lived clock (wall time counted as if UTC; issue 10) for
    spans with one, as `reports.activity.scan` does, so the sums here add up to its totals."""

    start: datetime
    end: datetime
    lived_start: float
    lived_end: float


@dataclass(frozen=True, slots=True)
class PersonSeconds:
    """Seconds one person spent in one state on one device inside a period (clipped to it).
    `person` is None for spans of no known run or a run without a person."""

    device_id: int
    person: str | None
    state: str
    seconds: float


def seconds_query(clip: Clip, device_ids: Sequence[int], people: Sequence[str] | None) -> Any:
    """The grouped SELECT behind `HouseholdTotals.seconds` (a function of its own, so that its
    plan can be read with EXPLAIN)."""
    lo, hi = ts(clip.start), ts(clip.end)
    s, runs = spans.c, daemon_runs.c
    # a span with an offset is cut where it was lived: [lived_start - offset, ...)
    lower = case((s.utc_offset == 0, lo), else_=clip.lived_start - s.utc_offset)
    upper = case((s.utc_offset == 0, hi), else_=clip.lived_end - s.utc_offset)
    first = case((s.start_ts < lower, lower), else_=s.start_ts)
    last = case((s.end_ts > upper, upper), else_=s.end_ts)
    clauses: list[Any] = [
        s.device_id.in_(device_ids),
        # spans are at most MAX_SPAN_SECONDS long: these bounds keep the index in use
        s.start_ts >= min(lo, clip.lived_start - FURTHEST_OFFSET) - MAX_SPAN_SECONDS,
        s.start_ts < max(hi, clip.lived_end + FURTHEST_OFFSET),
        last > first,
    ]
    if people is not None:
        clauses.append(runs.person.in_(people))
    return (
        select(s.device_id, runs.person, s.state, func.sum(last - first))
        .select_from(spans.outerjoin(daemon_runs, s.run_id == runs.id))
        .where(and_(*clauses))
        .group_by(s.device_id, runs.person, s.state)
    )


class HouseholdTotals(Queries):
    """Read-only queries for the household section. Raises StorageError. Thread: as Store."""

    @classmethod
    def of(cls, store: Store) -> HouseholdTotals:
        return cls(store.engine)

    def seconds(
        self, clip: Clip, device_ids: Sequence[int], people: Sequence[str] | None = None
    ) -> list[PersonSeconds]:
        """Seconds per (device, person, state) of the spans of `device_ids` inside `clip`,
        clipped and summed in SQL; with `people`, only spans of runs those people ran."""
        if not device_ids:
            return []
        with self._begin() as c:
            rows = c.execute(seconds_query(clip, device_ids, people)).all()
        return [
            PersonSeconds(int(device), person, state, float(total or 0.0))
            for device, person, state, total in rows
        ]

    def places(self, device_ids: Sequence[int]) -> dict[int, str | None]:
        """The zone of each device (None: in no zone)."""
        if not device_ids:
            return {}
        query = select(devices.c.id, devices.c.zone).where(devices.c.id.in_(device_ids))
        with self._begin() as c:
            return {int(device): zone for device, zone in c.execute(query)}

    def runners(self, start: datetime, end: datetime, device_ids: Sequence[int]) -> list[str]:
        """The people who ran a daemon of `device_ids` at some time in [start, end), by name
        (a run still open counts until its last heartbeat)."""
        if not device_ids:
            return []
        runs = daemon_runs.c
        query = (
            select(runs.person)
            .where(
                runs.device_id.in_(device_ids),
                runs.person.is_not(None),
                runs.started < ts(end),
                or_(
                    runs.ended >= ts(start), and_(runs.ended.is_(None), runs.last_seen >= ts(start))
                ),
            )
            .distinct()
            .order_by(runs.person)
        )
        with self._begin() as c:
            return [str(person) for (person,) in c.execute(query)]
