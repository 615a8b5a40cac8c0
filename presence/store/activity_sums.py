"""The report's activity pass summed by PostgreSQL (issue 12: a household's year is millions of
spans; streaming each into Python took 25 s). PostgreSQL only; presence.reports.activity_sums
folds what these queries return into the same `Activity` as `activity.scan`.

The spans `span_rows` would stream (the same WHERE: presence.store.reads._overlapping) are cut
in three by start time, on the order `scan` reads them in:

- the head (start <= `t_head`, the latest start of a span clipped at the period's start on its
  lived clock) and the tail (start >= `t_tail`, the earliest start of a span clipped at the
  end) come back as rows, with every span placed by the report's zone (offset 0) or longer
  than MAX_SPAN_SECONDS: Python runs them through scan's own code;
- the middle is summed here: seconds per lived hour, lived day and state (a span is at most
  an hour, so it touches two hours and two days at most: its first part and the rest are
  summed apart, as scan splits it), seconds per (app, title, state, site), and the "units"
  of the sessions (below).

Middle spans are not clipped, so their times are the plain `start_ts + utc_offset -
utc_offset` that scan computes (the same float operations: the figures are the same up to
the order of summation). For timestamps of 2004 to 2038 (2^30 to 2^31 s) `+ offset - offset`
is exact, so the middle's computed starts follow `start_ts` order, and hours and days found by
division (FLOOR) are those scan finds.

Units: a device's active spans in start order, cut wherever the gap since the previous one's
end is at least the session break. No session can start inside a unit, so merging the units
of all devices in start order (presence.reports.activity_sums) gives scan's sessions and
switches. Window functions (LAG, then a running SUM) find the cuts; only each unit's first
span, each device's last span and any span ending before the one before it (overlapping
spans: the unit's end is the latest end of its spans) come back, with the running count of
app switches inside the units.

The queries run at once on separate connections (threads): PostgreSQL runs window functions
on one core, so the units are split by device.
"""

# ruff: noqa: S608 - the texts hold only our constants and reads._overlapping's own clauses

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from presence.core.model import MAX_SPAN_SECONDS
from presence.store.queries import Queries
from presence.store.reads import _overlapping
from presence.store.rows import SpanRow, TitleUsage

MAX_OFFSET = 86400.0
"""Recorded offsets are under a day (datetime.utcoffset): bounds the index ranges searched for
the spans clipped at the period's edges."""

UNIT_GROUPS = 3
"""Connections the units query is split over (by device): window functions run on one core."""

WORKERS = 4
"""Queries running at once."""

SumRow = tuple[float, float, str, float, float, float, float]
"""(lived hour, lived day index, state, seconds in the hour, seconds spilling into the next
hour, seconds in the day, seconds spilling into the next day)."""

UnitRow = tuple[int, float, float, float, str | None, float | None, str | None, bool, int, bool]
"""(device_id, start_ts, start, end, app, previous end, previous app, starts a unit, app
switches so far on the device, last span of the device)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What to sum: the spans `span_rows(start, end, device_ids)` of `people` would give,
    for the period [lo, hi) (UTC) and [lived_lo, lived_hi) on the lived clock."""

    start: datetime
    end: datetime
    device_ids: Sequence[int]
    people: Sequence[str] | None
    lo: float
    hi: float
    lived_lo: float
    lived_hi: float
    session_break: float


@dataclass(slots=True)
class Sums:
    """What the server summed (see the module docstring)."""

    t_head: float
    t_tail: float
    raw: list[SpanRow] = field(default_factory=list)
    sums: list[SumRow] = field(default_factory=list)
    titles: list[TitleUsage] = field(default_factory=list)
    units: list[UnitRow] = field(default_factory=list)


_CLIPPED_AT_START = (
    "CASE WHEN utc_offset = 0 THEN start_ts < :plo ELSE start_ts + utc_offset < :llo END"
)
_CLIPPED_AT_END = "CASE WHEN utc_offset = 0 THEN end_ts > :phi ELSE end_ts + utc_offset > :lhi END"
_MIDDLE = (
    "start_ts > :t_head AND start_ts < :t_tail "
    "AND end_ts + utc_offset - utc_offset > start_ts + utc_offset - utc_offset"
)
_SUMMED = f"{_MIDDLE} AND utc_offset <> 0 AND end_ts - start_ts <= :max_span"

_SUMS = """
SELECT h, d, state,
  SUM(LEAST(le, (h + 1) * 3600.0) - ls),
  SUM(CASE WHEN le > (h + 1) * 3600.0 THEN le - (h + 1) * 3600.0 ELSE 0 END),
  SUM(LEAST(le, :llo + (d + 1) * 86400.0) - ls),
  SUM(CASE WHEN le > :llo + (d + 1) * 86400.0 THEN le - (:llo + (d + 1) * 86400.0) ELSE 0 END)
FROM (
  SELECT state, start_ts + utc_offset AS ls, end_ts + utc_offset AS le,
    FLOOR((start_ts + utc_offset) / 3600.0) AS h,
    FLOOR((start_ts + utc_offset - :llo) / 86400.0) AS d
  FROM spans WHERE {where} AND {summed}
) placed
GROUP BY h, d, state
"""

_TITLES = """
SELECT app, title, state, site,
  SUM((end_ts + utc_offset - utc_offset) - (start_ts + utc_offset - utc_offset))
FROM spans WHERE {where} AND {summed}
GROUP BY app, title, state, site
"""

_RAW = """
SELECT start_ts, end_ts, device_id, app, title, state, site, utc_offset
FROM spans WHERE {where}
  AND (start_ts <= :t_head OR start_ts >= :t_tail OR utc_offset = 0
       OR end_ts - start_ts > :max_span)
ORDER BY start_ts, device_id, id
"""

_UNITS = """
SELECT device_id, start_ts, cs, ce, app, pe, pa, cut, switches, last FROM (
  SELECT *, SUM(CASE WHEN NOT cut AND app IS DISTINCT FROM pa THEN 1 ELSE 0 END) OVER (
      PARTITION BY device_id ORDER BY start_ts, id ROWS UNBOUNDED PRECEDING) AS switches
  FROM (
    SELECT *, (pe IS NULL OR cs - pe >= :brk) AS cut FROM (
      SELECT device_id, id, start_ts, app,
        start_ts + utc_offset - utc_offset AS cs, end_ts + utc_offset - utc_offset AS ce,
        LAG(end_ts + utc_offset - utc_offset) OVER w AS pe, LAG(app) OVER w AS pa,
        LEAD(id) OVER w IS NULL AS last
      FROM spans WHERE {where} AND state = 'active' AND {middle}
      WINDOW w AS (PARTITION BY device_id ORDER BY start_ts, id)
    ) lagged
  ) cuts
) counted
WHERE cut OR ce < pe OR last
ORDER BY device_id, start_ts, id
"""


class ActivitySums(Queries):
    """Runs the queries above. Raises StorageError (never a driver exception). Thread
    contract: as Store (each query borrows its own pooled connection)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        if engine.dialect.name != "postgresql":
            raise ValueError(f"ActivitySums runs on PostgreSQL, not {engine.dialect.name}")

    def _where(self, scope: Scope, device_ids: Sequence[int]) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {
            "plo": scope.lo,
            "phi": scope.hi,
            "llo": scope.lived_lo,
            "lhi": scope.lived_hi,
            "brk": float(scope.session_break),
            "max_span": MAX_SPAN_SECONDS,
        }
        where = _overlapping(scope.start, scope.end, device_ids, scope.people, params)
        return where, params

    def _all(self, sql: str, params: dict[str, Any], *, hashed: bool = False) -> list[Any]:
        with self._begin() as c:
            # JIT compiling these plans costs about a second and saves less; sorting a year of
            # a device for the window functions wants more than the default 4 MB
            c.execute(text("SET LOCAL jit = off"))
            c.execute(text("SET LOCAL work_mem = '64MB'"))
            if hashed:
                # the planner underestimates the rows these filters keep (tenfold) and sorts
                # millions of titles to group them; a hash table of the groups is 3x faster
                c.execute(text("SET LOCAL enable_sort = off"))
            return [tuple(r) for r in c.execute(text(sql), params)]

    def _edges(self, scope: Scope) -> tuple[float, float]:
        """(t_head, t_tail): the latest start of a span clipped at the period's start, the
        earliest start of one clipped at its end (-inf, inf: none). Both searches are index
        ranges of a day or two."""
        where, params = self._where(scope, scope.device_ids)
        params["head_to"] = max(scope.lo, scope.lived_lo + MAX_OFFSET)
        params["tail_from"] = min(scope.hi, scope.lived_hi - MAX_OFFSET) - MAX_SPAN_SECONDS
        sql = (
            f"SELECT (SELECT MAX(start_ts) FROM spans WHERE {where} "
            f"AND start_ts < :head_to AND {_CLIPPED_AT_START}), "
            f"(SELECT MIN(start_ts) FROM spans WHERE {where} "
            f"AND start_ts >= :tail_from AND {_CLIPPED_AT_END})"
        )
        head, tail = self._all(sql, params)[0]
        return (
            float("-inf") if head is None else float(head),
            float("inf") if tail is None else float(tail),
        )

    def read(self, scope: Scope) -> Sums:
        """Everything presence.reports.activity_sums needs for `scope`."""
        t_head, t_tail = self._edges(scope)
        t_tail = max(t_tail, t_head)  # a short period with far-flung offsets: no middle
        out = Sums(t_head, t_tail)
        ids = list(scope.device_ids)
        groups = [ids[i::UNIT_GROUPS] for i in range(min(UNIT_GROUPS, len(ids)))]

        def run(sql: str, device_ids: Sequence[int]) -> Callable[[], list[Any]]:
            where, params = self._where(scope, device_ids)
            params.update(t_head=t_head, t_tail=t_tail)
            query = sql.format(where=where, summed=_SUMMED, middle=_MIDDLE)
            return lambda: self._all(query, params, hashed=sql in (_SUMS, _TITLES))

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            units = [pool.submit(run(_UNITS, group)) for group in groups]
            sums = pool.submit(run(_SUMS, ids))
            titles = pool.submit(run(_TITLES, ids))
            raw = pool.submit(run(_RAW, ids))
            out.raw = raw.result()
            out.sums = [
                (float(h), float(d), str(state), float(a), float(b), float(c), float(e))
                for h, d, state, a, b, c, e in sums.result()
            ]
            out.titles = [
                TitleUsage(app, title, state, float(seconds), site)
                for app, title, state, site, seconds in titles.result()
            ]
            for group in units:
                out.units.extend(group.result())
        return out
