"""Report reads on a SQLite file through the standard library's sqlite3: no SQLAlchemy.

`presence today` and `presence report` (presence.cli.report_fast) read through this when they
can (issue 13: "instant everyday commands": SQLAlchemy alone costs 150-200 ms to import). It
runs the SQL texts of presence.store.reads, the ones the full Store runs through SQLAlchemy,
so both paths read the same rows. It only reads: the file is opened read-only and must be
stamped at HEAD_REVISION; anything else (no file yet, an older or newer schema, another
database, a file it cannot open) makes `open` return None, and the caller takes the full path,
which creates, migrates and explains errors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from presence.store import reads
from presence.store.reads import HEAD_REVISION, Read
from presence.store.rows import CategoryRow, Device, LogEvent, Pause, Run, SpanRow, TitleUsage

BUSY_TIMEOUT_MS = 5000  # as presence.store.database: the daemon may be writing
PREFIX = "sqlite:///"

R = TypeVar("R")
T = TypeVar("T")


def sqlite_file(url: str) -> Path | None:
    """The file of a plain `sqlite:///path` URL; None for anything this reader leaves to
    SQLAlchemy (other databases, drivers, query strings, escapes, `~`, in-memory)."""
    if not url.startswith(PREFIX):
        return None
    path = url[len(PREFIX) :]
    if not path or path == ":memory:" or any(c in path for c in "?#%~"):
        return None
    return Path(path)


class SqliteReads:
    """A read-only connection to a SQLite file at the head schema, with the report reads.

    Satisfies presence.store.reads.ReportSource (and, through `report_queries`, ReportReads).
    Raises sqlite3.Error. One thread; `close` when done.
    """

    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection, people: Sequence[str] | None = None):
        self.connection = connection
        self.people = people

    @classmethod
    def open(cls, url: str) -> SqliteReads | None:
        """The reader of the database at `url`, or None when the full path must answer."""
        path = sqlite_file(url)
        if path is None:
            return None
        try:
            if not path.is_file():
                return None
            uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
            connection = sqlite3.connect(uri, uri=True, isolation_level=None)
        except (OSError, sqlite3.Error):
            return None
        try:
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA query_only=1")
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:  # not a database, damaged, locked, or never migrated
            connection.close()
            return None
        if row is None or row[0] != HEAD_REVISION:
            connection.close()
            return None
        return cls(connection)

    def close(self) -> None:
        self.connection.close()

    def _fetch(self, read: Read[R]) -> R:
        return read.collect(self.connection.execute(read.sql, read.params))

    def _stream(self, read: Read[Iterator[T]]) -> Iterator[T]:
        # a sqlite3 cursor fetches as it is iterated: no generator of ours in between (the
        # spans of a month pass through here, and each layer costs per row)
        return read.collect(self.connection.execute(read.sql, read.params))

    # ReportSource --------------------------------------------------------------------------

    def find_device(self, name: str) -> Device | None:
        return self._fetch(reads.find_device(name))

    def devices(self) -> list[Device]:
        return self._fetch(reads.devices())

    def runs_between(self, start: datetime, end: datetime, device_ids: Sequence[int]) -> list[Run]:
        return self._fetch(reads.runs_between(start, end, device_ids))

    def pauses_between(
        self, start: datetime, end: datetime, device_ids: Sequence[int]
    ) -> list[Pause]:
        return self._fetch(reads.pauses_between(start, end, device_ids))

    def first_runs(self, device_ids: Sequence[int]) -> dict[int, datetime]:
        return self._fetch(reads.first_runs(device_ids))

    def report_queries(self, people: Sequence[str] | None = None) -> SqliteReads:
        return SqliteReads(self.connection, people)

    # ReportReads ---------------------------------------------------------------------------

    def span_rows(
        self, start: datetime, end: datetime, device_ids: Sequence[int]
    ) -> Iterator[SpanRow]:
        return self._stream(reads.span_rows(start, end, device_ids, self.people))

    def title_usage(
        self, start: datetime, end: datetime, device_ids: Sequence[int]
    ) -> Iterator[TitleUsage]:
        return self._stream(reads.title_usage(start, end, device_ids, self.people))

    def log_events(
        self, start: datetime, end: datetime, device_ids: Sequence[int] | None
    ) -> list[LogEvent]:
        return self._fetch(reads.log_events(start, end, device_ids, self.people))

    def outcomes_before(
        self, until: datetime, rule_names: Sequence[str], device_ids: Sequence[int] | None
    ) -> Iterator[tuple[str, float, bool]]:
        return self._stream(reads.outcomes_before(until, rule_names, device_ids, self.people))

    def user_categories(self) -> list[CategoryRow]:
        return self._fetch(reads.user_categories())
