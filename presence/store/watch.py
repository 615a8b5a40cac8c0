"""Has the database changed since a reader last looked? A cheap answer for per-tick readers.

The daemon asks the database the same questions every tick (a pause in force? new snoozes or
overrides in the log? rules changed?) and the answer almost never changes; each question
through SQLAlchemy costs about a millisecond of CPU, most of the daemon's cost (issue 9).
SQLite's `PRAGMA data_version`, read on a connection of our own, changes whenever ANOTHER
connection commits: the CLI's, another daemon's, and this daemon's own pooled connections
alike. One pragma on an idle connection costs microseconds; a reader queries again only
when it changed (or every `every` seconds, a bound on anything it cannot see).

PostgreSQL (and in-memory SQLite) offer no such counter here: `Changes.stale` is then always
True and readers query every time, as before.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    from presence.store.tracking import Pause, Store

REREAD_EVERY = 60.0
"""Seconds after which a reader queries again even when the counter did not move."""


class DataVersion:
    """`PRAGMA data_version` of one SQLite file, on a private connection opened on first use.

    Thread contract: any thread (a lock serialises the connection).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def current(self) -> int | None:
        """The counter now, or None when it cannot be read (then readers query)."""
        with self._lock:
            try:
                if self._connection is None:
                    # Never writes; autocommit, so that no read transaction stays open.
                    self._connection = sqlite3.connect(
                        self._path, check_same_thread=False, isolation_level=None, timeout=1.0
                    )
                return int(self._connection.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error:
                self._close()
                return None

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


_lock = threading.Lock()
_versions: weakref.WeakKeyDictionary[Engine, DataVersion] = weakref.WeakKeyDictionary()


def data_version(engine: Engine) -> DataVersion | None:
    """The counter of `engine`'s SQLite file, shared by its readers; None for other databases."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
        return None
    with _lock:
        version = _versions.get(engine)
        if version is None:
            version = _versions[engine] = DataVersion(Path(database).expanduser())
        return version


def forget(engine: Engine) -> None:
    """Close `engine`'s counter connection (the store closes)."""
    with _lock:
        version = _versions.pop(engine, None)
    if version is not None:
        version.close()


class Changes:
    """One reader's last look at the database: `stale()` says when it must query again.

    Thread contract: one reader (one thread); the counter underneath is shared.
    """

    def __init__(self, engine: Engine, every: float = REREAD_EVERY) -> None:
        self._version = data_version(engine)
        self._every = every
        self._seen: int | None = None
        self._at = float("-inf")

    def stale(self, mono: float) -> bool:
        """True when the reader must query: the database changed since the last True (or it
        cannot tell), or `every` seconds passed. Read it BEFORE querying: a commit between
        the two moves the counter, so the next call is True again and nothing is missed."""
        current = None if self._version is None else self._version.current()
        if current is None or current != self._seen or mono - self._at >= self._every:
            self._seen, self._at = current, mono
            return True
        return False

    def again(self) -> None:
        """The query failed: the next `stale()` is True."""
        self._seen = None


class PauseWatch:
    """`Store.active_pause` for a caller that asks every tick: queried again only when the
    database changed (a `presence pause` or `resume` from the CLI: seen at the next tick),
    the pause in force ended, or REREAD_EVERY passed.

    Thread contract: one caller (the daemon's tick). Raises StorageError as active_pause.
    """

    def __init__(self, store: Store, device_id: int) -> None:
        self._store = store
        self._device_id = device_id
        self._changes = Changes(store.engine)
        self._pause: Pause | None = None

    def active(self, now: datetime, mono: float) -> Pause | None:
        """The pause in force at `now`, if any."""
        stale = self._changes.stale(mono)
        if stale or (self._pause is not None and not self._pause.active(now)):
            try:
                self._pause = self._store.active_pause(self._device_id, now)
            except BaseException:
                self._changes.again()
                self._pause = None
                raise
        return self._pause
