"""Queries behind reports: grouped usage, an ordered stream of spans, the enforcement log and
the user's categories. Large results are streamed (generators), never loaded whole, so a
report's memory does not grow with history.

Each read is one SQL text in presence.store.reads (the sqlite3 reader of `presence today` runs
the same texts); this module runs them through SQLAlchemy and adds the writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, text
from sqlalchemy.exc import DBAPIError

from presence.store import reads
from presence.store.queries import Queries
from presence.store.reads import COUNTED, OUTCOMES
from presence.store.rows import CategoryRow, LogEvent, SpanRow, TitleUsage
from presence.store.schema import categories
from presence.store.tracking import Store, ts

__all__ = [  # the row types and constants live in rows.py and reads.py (no SQLAlchemy)
    "COUNTED",
    "OUTCOMES",
    "CategoryRow",
    "LogEvent",
    "ReportQueries",
    "SpanRow",
    "TitleUsage",
]

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

    # spans ---------------------------------------------------------------------------------

    def title_usage(
        self, start: datetime, end: datetime, device_ids: Sequence[int]
    ) -> Iterator[TitleUsage]:
        """Seconds per (app, title, state, site) in [start, end), clipped and summed in SQL."""
        return self._stream(reads.title_usage(start, end, device_ids, self.people))

    def span_rows(
        self, start: datetime, end: datetime, device_ids: Sequence[int]
    ) -> Iterator[SpanRow]:
        """Every span overlapping [start, end), oldest first, as plain tuples (not clipped)."""
        read = reads.span_rows(start, end, device_ids, self.people)
        with self._begin() as c:
            if c.dialect.name == "postgresql":
                yield from read.collect(_server_rows(c, text(read.sql).bindparams(**read.params)))
                return
            options = c.execution_options(stream_results=True, yield_per=5000)
            yield from read.collect(options.execute(text(read.sql), read.params))

    # enforcement log -----------------------------------------------------------------------

    def log_events(
        self, start: datetime, end: datetime, device_ids: Sequence[int] | None
    ) -> list[LogEvent]:
        """Events of occurrences that start in [start, end) (events without an occurrence: by
        their own time), for the outcomes and counted events, oldest first."""
        return self._fetch(reads.log_events(start, end, device_ids, self.people))

    def outcomes_before(
        self, until: datetime, rule_names: Sequence[str], device_ids: Sequence[int] | None
    ) -> Iterator[tuple[str, float, bool]]:
        """(rule, occurrence start, broken) of every decided occurrence starting before `until`,
        newest first per rule. An occurrence broken on any device is broken."""
        read = reads.outcomes_before(until, rule_names, device_ids, self.people)
        return self._stream(read, batch=1000)

    # categories ----------------------------------------------------------------------------

    def user_categories(self) -> list[CategoryRow]:
        return self._fetch(reads.user_categories())

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
