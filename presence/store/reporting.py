"""Queries behind reports: grouped usage, an ordered stream of spans, the enforcement log and
the user's categories. Large results are streamed (generators), never loaded whole, so a
report's memory does not grow with history.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, or_, select
from sqlalchemy.exc import DBAPIError

from presence.core.model import MAX_SPAN_SECONDS
from presence.store.queries import Queries
from presence.store.schema import categories, daemon_runs, enforcement_log, spans
from presence.store.tracking import Store, ts

OUTCOMES = ("kept", "broken")
COUNTED = ("kept", "broken", "snooze", "override", "start", "warning", "action", "nudge")

SpanRow = tuple[float, float, int, str | None, str | None, str, str | None, int]
"""(start_ts, end_ts, device_id, app, title, state, site, utc_offset) of one span, not
clipped; `utc_offset` is the offset (seconds) of the zone it was recorded in."""


@dataclass(frozen=True, slots=True)
class TitleUsage:
    """Seconds of one (app, title, state, site) inside a period, spans clipped to it."""

    app: str | None
    title: str | None
    state: str
    seconds: float
    site: str | None = None  # the browser tab's site (issue 14)


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One row of the enforcement log."""

    rule_name: str
    occurrence_start: float | None
    ts: float
    event: str
    detail: str | None
    device_id: int | None


@dataclass(frozen=True, slots=True)
class CategoryRow:
    """A user's category rule as stored."""

    id: int
    name: str
    app_pattern: str | None
    title_pattern: str | None
    replaces_builtin: bool
    created: float


PG_BATCH = 2000


def _server_rows(c: Connection, query: Any) -> Iterator[Any]:
    """The rows of `query` on PostgreSQL through the driver's own server-side cursor, binary,
    in batches of PG_BATCH: plain tuples, without SQLAlchemy's per-row work (a year of a
    household is millions of rows: 40 % less time than the same stream through SQLAlchemy).
    Raises DBAPIError (turned into StorageError by `_begin`)."""
    compiled = query.compile(dialect=c.dialect, compile_kwargs={"render_postcompile": True})
    raw = c.connection.driver_connection
    assert raw is not None  # a live connection inside `_begin`
    try:
        with raw.cursor(name="presence_span_rows", binary=True) as cursor:
            cursor.execute(str(compiled), compiled.params)
            while rows := cursor.fetchmany(PG_BATCH):
                yield from rows
    except c.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError(str(compiled), None, exc) from None


class ReportQueries(Queries):
    """Read-mostly queries for reports and the categories the user added.

    Raises StorageError (never a driver exception). Generators hold a connection until they are
    exhausted or closed. Thread contract: as Store.
    """

    people: Sequence[str] | None = None
    """Only spans of daemons these people ran (issue 12: a shared PC); None: everyone's."""

    @classmethod
    def of(cls, store: Store, people: Sequence[str] | None = None) -> ReportQueries:
        queries = cls(store.engine)
        queries.people = people
        return queries

    def _overlapping(self, lo: float, hi: float, device_ids: Sequence[int]) -> Any:
        # Spans never exceed MAX_SPAN_SECONDS: the lower bound on start_ts keeps this indexed.
        clauses = [
            spans.c.device_id.in_(device_ids),
            spans.c.start_ts >= lo - MAX_SPAN_SECONDS,
            spans.c.start_ts < hi,
            spans.c.end_ts > lo,
        ]
        if self.people is not None:
            runs = select(daemon_runs.c.id).where(daemon_runs.c.person.in_(self.people))
            clauses.append(spans.c.run_id.in_(runs))
        return and_(*clauses)

    # spans ---------------------------------------------------------------------------------

    def title_usage(
        self, start: datetime, end: datetime, device_ids: Sequence[int]
    ) -> Iterator[TitleUsage]:
        """Seconds per (app, title, state, site) in [start, end), clipped and summed in SQL."""
        lo, hi = ts(start), ts(end)
        clipped = case((spans.c.end_ts > hi, hi), else_=spans.c.end_ts) - case(
            (spans.c.start_ts < lo, lo), else_=spans.c.start_ts
        )
        query = (
            select(spans.c.app, spans.c.title, spans.c.state, spans.c.site, func.sum(clipped))
            .where(self._overlapping(lo, hi, device_ids))
            .group_by(spans.c.app, spans.c.title, spans.c.state, spans.c.site)
        )
        with self._begin() as c:
            result = c.execution_options(stream_results=True, yield_per=2000).execute(query)
            for app, title, state, site, seconds in result:
                yield TitleUsage(app, title, state, float(seconds or 0.0), site)

    def span_rows(
        self, start: datetime, end: datetime, device_ids: Sequence[int]
    ) -> Iterator[SpanRow]:
        """Every span overlapping [start, end), oldest first, as plain tuples (not clipped)."""
        lo, hi = ts(start), ts(end)
        query = (
            select(
                spans.c.start_ts,
                spans.c.end_ts,
                spans.c.device_id,
                spans.c.app,
                spans.c.title,
                spans.c.state,
                spans.c.site,
                spans.c.utc_offset,
            )
            .where(self._overlapping(lo, hi, device_ids))
            .order_by(spans.c.start_ts)
        )
        with self._begin() as c:
            if c.dialect.name == "postgresql":
                yield from _server_rows(c, query)
                return
            result = c.execution_options(stream_results=True, yield_per=5000).execute(query)
            yield from result

    # enforcement log -----------------------------------------------------------------------

    @staticmethod
    def _for_devices(device_ids: Sequence[int] | None) -> Any:
        if device_ids is None:
            return and_(True)
        # Events without a device (rules shared by all devices) count for every device.
        return or_(
            enforcement_log.c.device_id.in_(device_ids), enforcement_log.c.device_id.is_(None)
        )

    def _for_people(self) -> Any:
        """With `people` (issue 12: adherence per person), only events logged while one of
        them ran the daemon of the event's device; events without a device count for all."""
        if self.people is None:
            return and_(True)
        log, runs = enforcement_log.c, daemon_runs.c
        theirs = (
            select(runs.id)
            .where(
                runs.device_id == log.device_id,
                runs.person.in_(self.people),
                runs.started <= log.ts,
                or_(runs.ended.is_(None), runs.ended >= log.ts),
            )
            .exists()
        )
        return or_(log.device_id.is_(None), theirs)

    def log_events(
        self, start: datetime, end: datetime, device_ids: Sequence[int] | None
    ) -> list[LogEvent]:
        """Events of occurrences that start in [start, end) (events without an occurrence: by
        their own time), for the outcomes and counted events, oldest first."""
        lo, hi = ts(start), ts(end)
        log = enforcement_log.c
        in_period = or_(
            and_(log.occurrence_start >= lo, log.occurrence_start < hi),
            and_(log.occurrence_start.is_(None), log.ts >= lo, log.ts < hi),
        )
        query = (
            select(
                log.rule_name, log.occurrence_start, log.ts, log.event, log.detail, log.device_id
            )
            .where(
                in_period, log.event.in_(COUNTED), self._for_devices(device_ids), self._for_people()
            )
            .order_by(log.rule_name, log.occurrence_start, log.ts)
        )
        with self._begin() as c:
            return [LogEvent(*row) for row in c.execute(query)]

    def outcomes_before(
        self, until: datetime, rule_names: Sequence[str], device_ids: Sequence[int] | None
    ) -> Iterator[tuple[str, float, bool]]:
        """(rule, occurrence start, broken) of every decided occurrence starting before `until`,
        newest first per rule. An occurrence broken on any device is broken."""
        log = enforcement_log.c
        broken = func.max(case((log.event == "broken", 1), else_=0))
        query = (
            select(log.rule_name, log.occurrence_start, broken)
            .where(
                log.rule_name.in_(rule_names),
                log.event.in_(OUTCOMES),
                log.occurrence_start.is_not(None),
                log.occurrence_start < ts(until),
                self._for_devices(device_ids),
                self._for_people(),
            )
            .group_by(log.rule_name, log.occurrence_start)
            .order_by(log.rule_name, log.occurrence_start.desc())
        )
        with self._begin() as c:
            result = c.execution_options(stream_results=True, yield_per=1000).execute(query)
            for name, occurrence, was_broken in result:
                yield name, float(occurrence), bool(was_broken)

    # categories ----------------------------------------------------------------------------

    def user_categories(self) -> list[CategoryRow]:
        with self._begin() as c:
            rows = c.execute(select(categories).order_by(categories.c.name, categories.c.id))
            return [
                CategoryRow(
                    r.id,
                    r.name,
                    r.app_pattern,
                    r.title_pattern,
                    bool(r.replaces_builtin),
                    r.created,
                )
                for r in rows
            ]

    def add_category(
        self,
        name: str,
        app_pattern: str | None,
        title_pattern: str | None,
        replaces_builtin: bool,
        now: datetime,
    ) -> int:
        with self._begin() as c:
            result = c.execute(
                insert(categories).values(
                    name=name,
                    app_pattern=app_pattern,
                    title_pattern=title_pattern,
                    replaces_builtin=int(replaces_builtin),
                    created=ts(now),
                )
            )
            key = result.inserted_primary_key
            assert key is not None  # an INSERT into a table with a primary key returns it
            return int(key[0])

    def remove_categories(
        self, name: str, app_pattern: str | None = None, title_pattern: str | None = None
    ) -> int:
        """Delete the user's rules of `name` (only those with the given patterns, if any)."""
        query = delete(categories).where(categories.c.name == name)
        if app_pattern is not None:
            query = query.where(categories.c.app_pattern == app_pattern)
        if title_pattern is not None:
            query = query.where(categories.c.title_pattern == title_pattern)
        with self._begin() as c:
            return int(c.execute(query).rowcount)
