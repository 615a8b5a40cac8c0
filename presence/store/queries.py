"""The base of the query classes (Store, RuleStore, ReportQueries): one engine, one way in.

Every query runs inside `_begin()`, so a driver error always reaches the caller as a
StorageError with a hint (`database.storage_error`), never as a SQLAlchemy exception.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from presence.store import database
from presence.store.reads import Read

R = TypeVar("R")
T = TypeVar("T")


class Queries:
    """Holds the engine; subclasses add the queries.

    Thread contract: any thread, also several at once. Each call borrows its own connection
    from the engine's pool (which is thread-safe) for one transaction (`_begin`) and keeps
    nothing between calls; SQLAlchemy opens pooled SQLite connections with
    `check_same_thread=False`, and SQLite serialises writers itself (WAL, a 5 s busy timeout).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Connection]:
        """One transaction, committed when the block ends, rolled back when it raises.

        Raises StorageError for any driver error inside the block.
        """
        try:
            with self.engine.begin() as connection:
                yield connection
        except DBAPIError as exc:
            raise database.storage_error(exc, self.engine) from None

    def _fetch(self, read: Read[R]) -> R:
        """The result of `read` (presence.store.reads), built inside one transaction."""
        with self._begin() as c:
            return read.collect(c.execute(text(read.sql), read.params))

    def _stream(self, read: Read[Iterator[T]], batch: int = 2000) -> Iterator[T]:
        """The items of `read`, fetched `batch` rows at a time while the transaction holds."""
        with self._begin() as c:
            options = c.execution_options(stream_results=True, yield_per=batch)
            yield from read.collect(options.execute(text(read.sql), read.params))
