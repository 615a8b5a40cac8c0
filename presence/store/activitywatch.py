"""Reading ActivityWatch's history: its peewee SQLite database, or an export JSON file.

aw-server's peewee storage (`peewee-sqlite.v2.db`) keeps buckets in `bucketmodel` (`key`,
`id` such as `aw-watcher-window_myhost`, `type` such as `currentwindow`/`afkstatus`,
`hostname`) and events in `eventmodel` (`bucket_id` -> `bucketmodel.key`, `timestamp` as
`2026-11-15 08:57:10.821000+00:00`, `duration` in seconds, `datastr` JSON). The file is opened
read-only (sqlite3 `mode=ro`), so an ActivityWatch running on it is not disturbed; events are
streamed in timestamp order from its (bucket_id, timestamp) index, never all held.

An export (`aw-server`'s `/api/0/export`, or the web UI's "Export all buckets as JSON") is
`{"buckets": {ID: {"id", "type", "hostname", "events": [{"id", "timestamp", "duration",
"data"}]}}}`; it is read whole (its size is the user's choice of export).

Issue 13 (a year, about 700k events, in well under a minute): events are plain tuples with
instants as integer microseconds since the epoch (exactly what `datetime` arithmetic gives,
without an object per event), and an event's `datastr` is decoded once per distinct text.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from presence.core.errors import InputError
from presence.core.model import Span, SpanState
from presence.store.queries import Queries
from presence.store.tracking import Store

T = TypeVar("T")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
DECODED_KEPT = 20_000
"""Distinct `datastr` texts whose decoding is kept (a bounded cache: memory stays flat)."""

AwEvent = tuple[int | str, int, int, Any]
"""One event: ActivityWatch's id (stable across reads of one database), start and end in
microseconds since the epoch (end >= start), and what `decode` made of its data."""

ImportedSpan = tuple[str, int, int, int, str, str | None, str]
"""A span to write: uid, start and end in microseconds since the epoch, UTC offset in
seconds, app, title, state (a `SpanState` value)."""


@dataclass(frozen=True, slots=True)
class AwBucket:
    key: str  # the bucket's id: aw-watcher-window_myhost
    type: str
    hostname: str
    events: int


def micros(seconds: float) -> int:
    """`timedelta(seconds=seconds)` in whole microseconds (rounded half to even, as it is),
    without making the timedelta. `seconds` must be finite."""
    fraction, whole = math.modf(seconds)
    return int(whole) * 1_000_000 + round(fraction * 1e6)


def _duration(seconds: float) -> int:
    # as `timedelta(seconds=max(0.0, seconds))`: negative (and NaN) is an empty event; so is a
    # length no datetime can hold (about 3,000 years), which used to end in an OverflowError
    if not 0.0 < seconds < 1e11:
        return 0
    return micros(seconds)


def _not_aw(path: Path, why: str) -> InputError:
    return InputError(
        f"{path} is not an ActivityWatch database or export ({why})",
        hint="give aw-server's peewee-sqlite.v2.db (by default under "
        "~/.local/share/activitywatch/aw-server/) or a JSON file exported from ActivityWatch",
    )


def _damaged(path: Path, event: str, bucket: str, exc: Exception) -> InputError:
    why = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
    return InputError(
        f"{path}: {event} of bucket {bucket} is damaged ({why})",
        hint="check the file with ActivityWatch (a database: `sqlite3 FILE 'PRAGMA "
        "integrity_check'`), or export the buckets again from its web UI",
    )


def instant(text: str) -> int:
    """An ISO 8601 instant in microseconds since the epoch (no zone: UTC).
    Raises ValueError for text that is not one."""
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - EPOCH) // ONE_US


class AwSource:
    """ActivityWatch's buckets and their events, from a database or an export."""

    def __init__(self, path: Path) -> None:
        """Raises InputError when `path` is missing or is neither of the two."""
        self.path = path
        if not path.is_file():
            raise InputError(
                f"no such file: {path}",
                hint="give the path of ActivityWatch's database or of an export",
            )
        with path.open("rb") as head:
            start = head.read(16)
        self._db: sqlite3.Connection | None = None
        self._export: dict[str, Any] | None = None
        if start.startswith(b"SQLite format 3"):
            self._open_database()
        else:
            self._open_export()

    def _open_database(self) -> None:
        try:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.Error as exc:
            raise _not_aw(self.path, str(exc)) from None
        if not {"bucketmodel", "eventmodel"} <= tables:
            db.close()
            raise _not_aw(self.path, "an SQLite file without ActivityWatch's tables")
        self._db = db

    def _open_export(self) -> None:
        try:
            data = json.loads(self.path.read_bytes())
        except (ValueError, UnicodeDecodeError):
            raise _not_aw(self.path, "neither SQLite nor JSON") from None
        buckets = data.get("buckets") if isinstance(data, dict) else None
        if not isinstance(buckets, dict):
            raise _not_aw(self.path, 'JSON without "buckets"')
        self._export = buckets

    def buckets(self) -> list[AwBucket]:
        """Every bucket with its number of events."""
        if self._db is not None:
            rows = self._db.execute(
                "SELECT b.id, b.type, b.hostname, COUNT(e.id) FROM bucketmodel b "
                "LEFT JOIN eventmodel e ON e.bucket_id = b.key GROUP BY b.key ORDER BY b.key"
            )
            return [AwBucket(str(k), str(t), str(h), int(n)) for k, t, h, n in rows]
        assert self._export is not None
        return [
            AwBucket(
                str(b.get("id", key)),
                str(b.get("type", "")),
                str(b.get("hostname", "unknown")),
                len(b.get("events") or []),
            )
            for key, b in self._export.items()
        ]

    def events(self, bucket: str, decode: Callable[[dict[str, Any]], T]) -> Iterator[AwEvent]:
        """The bucket's events, oldest first (streamed from a database), each with
        `decode(data)`; `decode` is called once per distinct data of a database."""
        if self._db is not None:
            return self._rows(bucket, decode)
        assert self._export is not None
        found = next(
            (b for key, b in self._export.items() if str(b.get("id", key)) == bucket), None
        )
        events = [] if found is None else list(found.get("events") or [])
        parsed = []
        for i, e in enumerate(events):
            try:
                start = instant(str(e["timestamp"]))
                end = start + _duration(float(e.get("duration") or 0.0))
                event_id = e.get("id", f"{e['timestamp']}#{i}")
                parsed.append((event_id, start, end, decode(dict(e.get("data") or {}))))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise _damaged(self.path, f"event {i + 1}", bucket, exc) from None
        parsed.sort(key=lambda e: e[1])
        return iter(parsed)

    def _rows(self, bucket: str, decode: Callable[[dict[str, Any]], T]) -> Iterator[AwEvent]:
        assert self._db is not None
        rows = self._db.execute(
            "SELECT e.id, e.timestamp, e.duration, e.datastr FROM eventmodel e "
            "JOIN bucketmodel b ON e.bucket_id = b.key WHERE b.id = ? ORDER BY e.timestamp",
            (bucket,),
        )
        decoded: dict[str, T] = {}
        for event_id, stamp, duration, datastr in rows:
            try:
                value = decoded.get(datastr, decoded)
                if value is decoded:
                    if len(decoded) >= DECODED_KEPT:
                        decoded.clear()
                    data = json.loads(datastr)
                    value = decoded[datastr] = decode(data if isinstance(data, dict) else {})
                start = instant(stamp)
                end = start + _duration(float(duration))
            except (ValueError, TypeError) as exc:
                raise _damaged(self.path, f"event {event_id}", bucket, exc) from None
            yield int(event_id), start, end, value

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


_UPSERT = (
    # {device} is the device's id (an int); instants come in as integer microseconds: SQLite
    # divides them as Python would (IEEE double division), without a tuple a row to convert
    "INSERT INTO spans (uid, device_id, run_id, start_ts, end_ts, utc_offset, app, title, "
    "state, keys, clicks, scrolls, moves, site) "
    "VALUES (?1, {device}, NULL, ?2 / 1000000.0, ?3 / 1000000.0, ?4, ?5, ?6, ?7, 0, 0, 0, 0, "
    "NULL) ON CONFLICT (uid) DO UPDATE SET start_ts = excluded.start_ts, "
    "end_ts = excluded.end_ts, utc_offset = excluded.utc_offset, app = excluded.app, "
    "title = excluded.title, state = excluded.state"
)


class SpanWriter(Queries):
    """Writes imported spans by uid (an import again replaces them with themselves).

    On SQLite through the driver's own executemany (the general upsert, Store.save_spans,
    costs about 120 us a row through SQLAlchemy's statement layer), CHUNK rows a call, and a
    transaction a second rather than one a chunk: the uid index (random hex) has a page
    changed by almost every row, and each commit writes every page it changed to the WAL
    (which a checkpoint then copies back), so the year's import spent more time committing
    5,000-row transactions than inserting. A second keeps the daemon, which waits up to 5 s
    for the write lock, from being refused. Elsewhere (PostgreSQL) it is Store.save_spans, a
    chunk a transaction. Raises StorageError. Thread: as Store.
    """

    CHUNK = 5000
    COMMIT_SECONDS = 1.0
    COMMIT_ROWS = 200_000  # the WAL a transaction leaves stays a few tens of MB

    def __init__(self, store: Store) -> None:
        super().__init__(store.engine)
        self._store = store

    def save(self, device_id: int, spans: Iterable[ImportedSpan]) -> None:
        """Write every span of `spans` (an iterator is consumed as it goes, never held)."""
        items = iter(spans)
        if self.engine.dialect.name != "sqlite":
            while part := list(islice(items, self.CHUNK)):
                self._store.save_spans(device_id, None, [_span(s) for s in part])
            return
        upsert = _UPSERT.format(device=int(device_id))
        chunk = list(islice(items, self.CHUNK))
        while chunk:
            written, deadline = 0, time.monotonic() + self.COMMIT_SECONDS
            with self._begin() as c:
                while chunk:
                    c.exec_driver_sql(upsert, chunk)
                    written += len(chunk)
                    chunk = list(islice(items, self.CHUNK))
                    if written >= self.COMMIT_ROWS or time.monotonic() >= deadline:
                        break


def _span(item: ImportedSpan) -> Span:
    uid, start, end, offset, app, title, state = item
    return Span(
        EPOCH + timedelta(microseconds=start),
        EPOCH + timedelta(microseconds=end),
        app,
        title,
        SpanState(state),
        utc_offset=offset,
        uid=uid,
    )
