"""Your data, out and gone: every row of a period, streamed (`presence export`), and rows
deleted on request (`presence data forget`).

Export reads spans, daemon runs, pauses and the enforcement log of every device, oldest first,
as plain dicts (the schema is docs/export.md); spans are streamed so a year does not sit in
memory. Forget deletes, in one transaction, the spans of an app (case-insensitively: `firefox`
is `Firefox`), or everything that ended before an instant: spans, runs, pauses and
enforcement events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select

from presence.core.model import MAX_SPAN_SECONDS
from presence.store.queries import Queries
from presence.store.schema import daemon_runs, devices, enforcement_log, pauses, spans
from presence.store.tracking import Store, dt, ts


def _iso(value: float | None) -> str | None:
    return None if value is None else dt(float(value)).isoformat()


class ExportQueries(Queries):
    """Rows of [start, end) for `presence export`. Raises StorageError. Thread: as Store."""

    @classmethod
    def of(cls, store: Store) -> ExportQueries:
        return cls(store.engine)

    def device_names(self) -> dict[int, str]:
        with self._begin() as c:
            return {int(i): str(n) for i, n in c.execute(select(devices.c.id, devices.c.name))}

    def spans(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Spans overlapping [start, end), oldest first (not clipped), streamed."""
        lo, hi = ts(start), ts(end)
        names = self.device_names()
        s = spans.c
        query = (
            select(
                s.uid,
                s.device_id,
                s.start_ts,
                s.end_ts,
                s.utc_offset,
                s.app,
                s.title,
                s.state,
                s.site,
                s["keys"],
                s.clicks,
                s.scrolls,
                s.moves,
            )
            .where(s.start_ts >= lo - MAX_SPAN_SECONDS, s.start_ts < hi, s.end_ts > lo)
            .order_by(s.start_ts)
        )
        with self._begin() as c:
            rows = c.execution_options(stream_results=True, yield_per=5000).execute(query)
            for r in rows:
                m = r._mapping  # `keys` is a Row method: the column is read by name
                yield {
                    "uid": r.uid,
                    "device": names.get(r.device_id),
                    "start": _iso(r.start_ts),
                    "end": _iso(r.end_ts),
                    "utc_offset": r.utc_offset,
                    "app": r.app,
                    "title": r.title,
                    "state": r.state,
                    "site": r.site,
                    "keys": m["keys"],
                    "clicks": r.clicks,
                    "scrolls": r.scrolls,
                    "moves": r.moves,
                }

    def runs(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Daemon runs overlapping [start, end) (a crashed run counts to its last heartbeat)."""
        lo, hi = ts(start), ts(end)
        r = daemon_runs.c
        finish = func.coalesce(r.ended, r.last_seen)
        names = self.device_names()
        query = select(daemon_runs).where(r.started < hi, finish > lo).order_by(r.started)
        with self._begin() as c:
            return [
                {
                    "device": names.get(row.device_id),
                    "started": _iso(row.started),
                    "last_seen": _iso(row.last_seen),
                    "ended": _iso(row.ended),
                    "end_reason": row.end_reason,
                    "pid": row.pid,
                    "version": row.version,
                }
                for row in c.execute(query)
            ]

    def pauses(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Pauses that start before `end` and had not ended by `start`."""
        lo, hi = ts(start), ts(end)
        p = pauses.c
        over = func.coalesce(p.ended_ts, p.until_ts)
        names = self.device_names()
        query = (
            select(pauses)
            .where(p.start_ts < hi, or_(over.is_(None), over > lo))
            .order_by(p.start_ts)
        )
        with self._begin() as c:
            return [
                {
                    "device": names.get(row.device_id),
                    "start": _iso(row.start_ts),
                    "until": _iso(row.until_ts),
                    "ended": _iso(row.ended_ts),
                    "reason": row.reason,
                }
                for row in c.execute(query)
            ]

    def enforcement(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Enforcement events logged in [start, end), oldest first."""
        lo, hi = ts(start), ts(end)
        log = enforcement_log.c
        names = self.device_names()
        query = select(enforcement_log).where(log.ts >= lo, log.ts < hi).order_by(log.ts, log.id)
        with self._begin() as c:
            return [
                {
                    "time": _iso(row.ts),
                    "device": None if row.device_id is None else names.get(row.device_id),
                    "rule": row.rule_name,
                    "occurrence_start": _iso(row.occurrence_start),
                    "occurrence_end": _iso(row.occurrence_end),
                    "event": row.event,
                    "detail": json.loads(row.detail) if row.detail else {},
                }
                for row in c.execute(query)
            ]


@dataclass(frozen=True, slots=True)
class Forgotten:
    """How many rows of each kind were (or would be) deleted."""

    spans: int = 0
    runs: int = 0
    pauses: int = 0
    events: int = 0

    @property
    def total(self) -> int:
        return self.spans + self.runs + self.pauses + self.events


class Forgetting(Queries):
    """Deletes on request. Raises StorageError. Thread: as Store."""

    @classmethod
    def of(cls, store: Store) -> Forgetting:
        return cls(store.engine)

    def app(self, name: str, *, dry_run: bool = False) -> Forgotten:
        """Every span of the app `name` (case-insensitive), on every device."""
        where = func.lower(spans.c.app) == name.lower()
        with self._begin() as c:
            count = int(
                c.execute(select(func.count()).select_from(spans).where(where)).scalar_one()
            )
            if not dry_run:
                c.execute(delete(spans).where(where))
        return Forgotten(spans=count)

    def before(self, instant: datetime, *, dry_run: bool = False) -> Forgotten:
        """Everything that ended before `instant`: spans, runs (not a running one), pauses and
        enforcement events. A span or run reaching past `instant` is kept whole."""
        cut = ts(instant)
        r, p = daemon_runs.c, pauses.c
        over = func.coalesce(p.ended_ts, p.until_ts)
        wheres = {
            "spans": (spans, spans.c.end_ts <= cut),
            "pauses": (pauses, and_(over.is_not(None), over <= cut)),
            "events": (enforcement_log, enforcement_log.c.ts < cut),
        }
        counts: dict[str, int] = {}
        with self._begin() as c:
            for key, (table, where) in wheres.items():
                counts[key] = int(
                    c.execute(select(func.count()).select_from(table).where(where)).scalar_one()
                )
                if not dry_run:
                    c.execute(delete(table).where(where))
            # a run some kept span still points at stays (spans.run_id references it)
            referenced = select(spans.c.run_id).where(
                spans.c.run_id.is_not(None), spans.c.end_ts > cut
            )
            runs_where = and_(r.ended.is_not(None), r.ended <= cut, r.id.not_in(referenced))
            counts["runs"] = int(
                c.execute(
                    select(func.count()).select_from(daemon_runs).where(runs_where)
                ).scalar_one()
            )
            if not dry_run:
                c.execute(delete(daemon_runs).where(runs_where))
        return Forgotten(**counts)
