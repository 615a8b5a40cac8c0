"""Load presence's generated history into ActivityWatch's own storage (aw-core's datastore).

Run by benchmarks/activitywatch.py with the Python of the separate ActivityWatch venv (aw-core
pins platformdirs 3, presence needs 4, so the two cannot share one environment): this script
imports only the standard library and aw-core, never presence.

    python benchmarks/aw_load.py PRESENCE_DB HOSTNAME

The data directory is ActivityWatch's default (peewee storage, `peewee-sqlite.v2.db` under
`$XDG_DATA_HOME/activitywatch/aw-server/`): the caller points XDG_DATA_HOME at its bench folder,
so aw-server started with the same environment serves exactly this file.

Each presence span becomes what ActivityWatch's watchers would have written for it:
- the window watcher's bucket gets the focused window (app, title) of active and idle spans,
  consecutive spans of the same window merged into one event (as heartbeats merge); locked
  spans and the nights the daemon was stopped leave no window event;
- the AFK watcher's bucket gets "not-afk" for active spans and "afk" for idle and locked ones,
  consecutive spans of the same status merged; nothing while the daemon was stopped.
Prints one JSON line: {"window_events": n, "afk_events": n, "seconds": s}.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from aw_core.models import Event
from aw_datastore import Datastore
from aw_datastore.storages import PeeweeStorage

BATCH = 10_000
JOIN = 0.001  # seconds: spans this close are contiguous


def _merged(
    items: Iterator[tuple[float, float, dict[str, str]]],
) -> Iterator[tuple[float, float, dict[str, str]]]:
    """Contiguous items with equal data merged into one (start, end, data)."""
    current: tuple[float, float, dict[str, str]] | None = None
    for start, end, data in items:
        if current and current[2] == data and abs(start - current[1]) <= JOIN:
            current = (current[0], end, data)
            continue
        if current:
            yield current
        current = (start, end, data)
    if current:
        yield current


def _events(
    conn: sqlite3.Connection, window: bool
) -> Iterator[tuple[float, float, dict[str, str]]]:
    rows = conn.execute("SELECT start_ts, end_ts, app, title, state FROM spans ORDER BY start_ts")
    for start, end, app, title, state in rows:
        if window:
            if app is not None:
                yield start, end, {"app": app, "title": title or ""}
        else:
            yield start, end, {"status": "not-afk" if state == "active" else "afk"}


def _insert(bucket: Any, storage: Any, items: list[Event]) -> None:
    # One transaction per batch: aw-core's insert_many commits each chunk of 100 otherwise,
    # and a fsync per 100 events would make loading a year take far longer than reading it.
    with storage.db.atomic():
        bucket.insert(items)


def load(presence_db: str, hostname: str) -> dict[str, float]:
    """Create the two buckets and write every event; returns counts and seconds taken."""
    started = time.monotonic()
    datastore = Datastore(PeeweeStorage, testing=False)
    storage = datastore.storage_strategy
    created = datetime(2000, 1, 1, tzinfo=UTC)
    counts: dict[str, float] = {}
    conn = sqlite3.connect(f"file:{presence_db}?mode=ro", uri=True)
    for kind, client, type_, window in (
        ("window", "aw-watcher-window", "currentwindow", True),
        ("afk", "aw-watcher-afk", "afkstatus", False),
    ):
        bucket_id = f"{client}_{hostname}"
        if bucket_id in datastore.buckets():
            datastore.delete_bucket(bucket_id)
        bucket = datastore.create_bucket(bucket_id, type_, client, hostname, created)
        batch: list[Event] = []
        total = 0
        for start, end, data in _merged(_events(conn, window)):
            batch.append(
                Event(
                    timestamp=datetime.fromtimestamp(start, UTC),
                    duration=timedelta(seconds=end - start),
                    data=data,
                )
            )
            if len(batch) >= BATCH:
                _insert(bucket, storage, batch)
                total += len(batch)
                batch = []
        if batch:
            _insert(bucket, storage, batch)
            total += len(batch)
        counts[f"{kind}_events"] = total
    conn.close()
    storage.db.execute_sql("ANALYZE")
    storage.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    storage.db.close()
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts


if __name__ == "__main__":
    print(json.dumps(load(sys.argv[1], sys.argv[2])))
