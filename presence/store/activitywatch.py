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
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from presence.core.errors import InputError
from presence.core.model import Span
from presence.store.queries import Queries
from presence.store.tracking import Store, ts


@dataclass(frozen=True, slots=True)
class AwBucket:
    key: str  # the bucket's id: aw-watcher-window_myhost
    type: str
    hostname: str
    events: int


@dataclass(frozen=True, slots=True)
class AwEvent:
    """One event; `id` is ActivityWatch's own (stable across reads of one database)."""

    id: int | str
    start: datetime
    seconds: float
    data: dict[str, Any]
    end: datetime = field(init=False)

    def __post_init__(self) -> None:
        end = self.start + timedelta(seconds=max(0.0, self.seconds))
        object.__setattr__(self, "end", end)


def _not_aw(path: Path, why: str) -> InputError:
    return InputError(
        f"{path} is not an ActivityWatch database or export ({why})",
        hint="give aw-server's peewee-sqlite.v2.db (by default under "
        "~/.local/share/activitywatch/aw-server/) or a JSON file exported from ActivityWatch",
    )


def _instant(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


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

    def events(self, bucket: str) -> Iterator[AwEvent]:
        """The bucket's events, oldest first (streamed from a database)."""
        if self._db is not None:
            rows = self._db.execute(
                "SELECT e.id, e.timestamp, e.duration, e.datastr FROM eventmodel e "
                "JOIN bucketmodel b ON e.bucket_id = b.key WHERE b.id = ? ORDER BY e.timestamp",
                (bucket,),
            )
            for event_id, stamp, duration, datastr in rows:
                yield AwEvent(int(event_id), _instant(stamp), float(duration), json.loads(datastr))
            return
        assert self._export is not None
        found = next(
            (b for key, b in self._export.items() if str(b.get("id", key)) == bucket), None
        )
        events = [] if found is None else list(found.get("events") or [])
        parsed = [
            AwEvent(
                e.get("id", f"{e['timestamp']}#{i}"),
                _instant(str(e["timestamp"])),
                float(e.get("duration") or 0.0),
                dict(e.get("data") or {}),
            )
            for i, e in enumerate(events)
        ]
        yield from sorted(parsed, key=lambda e: e.start)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


_UPSERT = (
    "INSERT INTO spans (uid, device_id, run_id, start_ts, end_ts, utc_offset, app, title, "
    "state, keys, clicks, scrolls, moves, site) "
    "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, NULL) "
    "ON CONFLICT (uid) DO UPDATE SET start_ts = excluded.start_ts, end_ts = excluded.end_ts, "
    "utc_offset = excluded.utc_offset, app = excluded.app, title = excluded.title, "
    "state = excluded.state"
)


class SpanWriter(Queries):
    """Writes imported spans by uid (an import again replaces them with themselves).

    On SQLite through the driver's own executemany: the general upsert (Store.save_spans)
    costs about 120 us a row through SQLAlchemy's statement layer, which made a year of
    ActivityWatch history take two minutes. Elsewhere (PostgreSQL) it is Store.save_spans.
    Raises StorageError. Thread: as Store.
    """

    def __init__(self, store: Store) -> None:
        super().__init__(store.engine)
        self._store = store

    def save(self, device_id: int, items: Sequence[Span]) -> None:
        if self.engine.dialect.name != "sqlite":
            self._store.save_spans(device_id, None, items)
            return
        rows = [
            (s.uid, device_id, ts(s.start), ts(s.end), s.utc_offset, s.app, s.title, s.state.value)
            for s in items
        ]
        with self._begin() as c:
            c.exec_driver_sql(_UPSERT, rows)
