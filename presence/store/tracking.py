"""Queries for what the daemon records: devices, runs, spans, pauses. Returns model objects."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from presence.core.model import MAX_SPAN_SECONDS, InputCounts, Span, SpanState
from presence.store import database, reads, watch
from presence.store.queries import Queries
from presence.store.rows import PAUSE_COLUMNS, RUN_COLUMNS, Device, Pause, Run, dt, ts
from presence.store.rows import pause as _pause
from presence.store.rows import run as _run
from presence.store.schema import daemon_runs, devices, pauses, spans

if TYPE_CHECKING:
    from presence.store.reporting import ReportQueries

__all__ = ["Device", "Pause", "Run", "Store", "dt", "ts"]  # Device...ts: presence.store.rows

_RUN = [daemon_runs.c[name] for name in RUN_COLUMNS.split(", ")]
_PAUSE = [pauses.c[name] for name in PAUSE_COLUMNS.split(", ")]


def _span(row: Any) -> Span:
    return Span(
        start=dt(row.start_ts),
        end=dt(row.end_ts),
        app=row.app,
        title=row.title,
        state=SpanState(row.state),
        utc_offset=row.utc_offset,
        counts=InputCounts(row.keys, row.clicks, row.scrolls, row.moves),
        uid=row.uid,
        site=row.site,
    )


class Store(Queries):
    """The database, as the daemon, the reports and the CLI use it. One per process.

    Every method raises StorageError (never a driver exception) when the database fails.
    Thread contract: any thread, also several at once (see `Queries`): the daemon's sampler
    (spans, heartbeats), its timer (the enforcer's reads and log writes) and its db-check
    thread share one Store.
    """

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, create: bool = True) -> Store:
        """Open (creating and migrating when asked) the database at `url`."""
        engine = database.create(url, create_file=create)
        store = cls(engine)
        if migrate:
            database.migrate(engine)
        return store

    @property
    def dialect(self) -> str:
        """The database kind: `sqlite` or `postgresql`."""
        return str(self.engine.dialect.name)

    def report_queries(self, people: Sequence[str] | None = None) -> ReportQueries:
        """The report queries on this database (only the time of `people`; None: all)."""
        from presence.store.reporting import ReportQueries  # noqa: PLC0415 - it imports us

        return ReportQueries.of(self, people)

    def close(self) -> None:
        watch.forget(self.engine)
        self.engine.dispose()

    def quick_check(self, limit: int = 5) -> list[str]:
        """SQLite's `PRAGMA quick_check`: the problems found (none: []). Reads every page, so
        it takes a while on a large file; other databases check themselves and return []."""
        if self.engine.dialect.name != "sqlite":
            return []
        with self._begin() as c:
            rows = c.exec_driver_sql(f"PRAGMA quick_check({int(limit)})").all()
        found = [str(r[0]) for r in rows]
        return [] if found == ["ok"] else found

    # devices -------------------------------------------------------------------------------

    def device(self, name: str, hostname: str, now: datetime) -> Device:
        """The device called `name`, created on first use."""
        with self._begin() as c:
            row = c.execute(select(devices).where(devices.c.name == name)).first()
            if row is None:
                c.execute(insert(devices).values(name=name, hostname=hostname, created=ts(now)))
                row = c.execute(select(devices).where(devices.c.name == name)).one()
        return Device(row.id, row.name, row.hostname)

    def find_device(self, name: str) -> Device | None:
        return self._fetch(reads.find_device(name))

    def devices(self) -> list[Device]:
        return self._fetch(reads.devices())

    # runs ----------------------------------------------------------------------------------

    def start_run(self, device_id: int, pid: int, version: str, now: datetime) -> int:
        with self._begin() as c:
            result = c.execute(
                insert(daemon_runs).values(
                    device_id=device_id,
                    started=ts(now),
                    last_seen=ts(now),
                    pid=pid,
                    version=version,
                )
            )
            key = result.inserted_primary_key
            assert key is not None  # an INSERT into a table with a primary key returns it
            return int(key[0])

    def heartbeat(self, run_id: int, now: datetime) -> None:
        with self._begin() as c:
            c.execute(
                update(daemon_runs).where(daemon_runs.c.id == run_id).values(last_seen=ts(now))
            )

    def end_run(self, run_id: int, now: datetime, reason: str) -> None:
        with self._begin() as c:
            c.execute(
                update(daemon_runs)
                .where(daemon_runs.c.id == run_id)
                .values(last_seen=ts(now), ended=ts(now), end_reason=reason)
            )

    def latest_run(self, device_id: int) -> Run | None:
        with self._begin() as c:
            row = c.execute(
                select(*_RUN)
                .where(daemon_runs.c.device_id == device_id)
                .order_by(daemon_runs.c.started.desc(), daemon_runs.c.id.desc())
                .limit(1)
            ).first()
        return None if row is None else _run(row)

    def runs_between(self, start: datetime, end: datetime, device_ids: Sequence[int]) -> list[Run]:
        """Runs that overlap [start, end), a crashed run counting until its last heartbeat."""
        return self._fetch(reads.runs_between(start, end, device_ids))

    def first_runs(self, device_ids: Sequence[int]) -> dict[int, datetime]:
        """When each device's first run started (devices that never ran are left out)."""
        return self._fetch(reads.first_runs(device_ids))

    # spans ---------------------------------------------------------------------------------

    def save_spans(self, device_id: int, run_id: int | None, items: Sequence[Span]) -> None:
        """Insert or update spans by their uid, in one transaction (idempotent)."""
        if not items:
            return
        values = [
            {
                "uid": s.uid,
                "device_id": device_id,
                "run_id": run_id,
                "start_ts": ts(s.start),
                "end_ts": ts(s.end),
                "utc_offset": s.utc_offset,
                "app": s.app,
                "title": s.title,
                "state": s.state.value,
                "keys": s.counts.keys,
                "clicks": s.counts.clicks,
                "scrolls": s.counts.scrolls,
                "moves": s.counts.moves,
                "site": s.site,
            }
            for s in items
        ]
        with self._begin() as c:
            c.execute(self._upsert(c), values)

    def _upsert(self, c: Connection) -> Any:
        # Imported for the engine at hand: `sqlalchemy.dialects.postgresql` (asyncpg and all)
        # would cost every command on SQLite ~40 ms at import (issue 13).
        name = "postgresql" if c.dialect.name == "postgresql" else "sqlite"
        dialect: Any = importlib.import_module(f"sqlalchemy.dialects.{name}")
        stmt = dialect.insert(spans)
        changing = (
            "start_ts",
            "end_ts",
            "app",
            "title",
            "state",
            "keys",
            "clicks",
            "scrolls",
            "moves",
            "site",
        )
        return stmt.on_conflict_do_update(
            index_elements=[spans.c.uid],
            set_={name: stmt.excluded[name] for name in changing},
        )

    def _overlapping(self, start: datetime, end: datetime) -> Any:
        # Spans never exceed MAX_SPAN_SECONDS, so a lower bound on start_ts keeps this indexed.
        return and_(
            spans.c.start_ts >= ts(start) - MAX_SPAN_SECONDS,
            spans.c.start_ts < ts(end),
            spans.c.end_ts > ts(start),
        )

    def spans_between(
        self, start: datetime, end: datetime, device_ids: Sequence[int] | None = None
    ) -> list[Span]:
        """Spans overlapping [start, end), oldest first, not clipped."""
        query = select(spans).where(self._overlapping(start, end)).order_by(spans.c.start_ts)
        if device_ids is not None:
            query = query.where(spans.c.device_id.in_(device_ids))
        with self._begin() as c:
            return [_span(r) for r in c.execute(query)]

    def latest_span(self, device_id: int) -> Span | None:
        """The span that ends last; of spans ending together, the one that started last: the
        open span just written at a focus change ends (for now) where the closed one ends,
        and is the current one (issue 11: `status` showed the previous app until a flush)."""
        with self._begin() as c:
            row = c.execute(
                select(spans)
                .where(spans.c.device_id == device_id)
                .order_by(spans.c.end_ts.desc(), spans.c.start_ts.desc(), spans.c.id.desc())
                .limit(1)
            ).first()
        return None if row is None else _span(row)

    # pauses --------------------------------------------------------------------------------

    def add_pause(
        self, device_id: int, start: datetime, until: datetime | None, reason: str
    ) -> Pause:
        with self._begin() as c:
            result = c.execute(
                insert(pauses).values(
                    device_id=device_id,
                    start_ts=ts(start),
                    until_ts=None if until is None else ts(until),
                    reason=reason,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            row = c.execute(select(*_PAUSE).where(pauses.c.id == key[0])).one()
        return _pause(row)

    def _open_pauses(self, device_id: int, now: datetime) -> Any:
        return and_(
            pauses.c.device_id == device_id,
            pauses.c.start_ts <= ts(now),
            pauses.c.ended_ts.is_(None),
            or_(pauses.c.until_ts.is_(None), pauses.c.until_ts > ts(now)),
        )

    def active_pause(self, device_id: int, now: datetime) -> Pause | None:
        """The pause in force at `now`, if any (the latest started, when several are)."""
        with self._begin() as c:
            row = c.execute(
                select(*_PAUSE)
                .where(self._open_pauses(device_id, now))
                .order_by(pauses.c.start_ts.desc())
                .limit(1)
            ).first()
        return None if row is None else _pause(row)

    def end_pauses(self, device_id: int, now: datetime) -> int:
        """End every pause in force at `now`; returns how many were ended."""
        with self._begin() as c:
            result = c.execute(
                update(pauses).where(self._open_pauses(device_id, now)).values(ended_ts=ts(now))
            )
            return int(result.rowcount)

    def pauses_between(
        self, start: datetime, end: datetime, device_ids: Sequence[int]
    ) -> list[Pause]:
        """Pauses that overlap [start, end), oldest first."""
        return self._fetch(reads.pauses_between(start, end, device_ids))
