"""The offline spool (issue 12): spans the shared database could not take, kept on local disk.

When the server is unreachable the recorder writes its batches here instead of holding them in
memory, so a daemon stopped or killed during an outage loses nothing it had flushed. When the
server answers again the spool is replayed in the order spans first arrived, in chunks, each
chunk deleted only after the server committed it; replay is idempotent because spans are
upserted by uid (a chunk written twice, after a crash between the commit and the delete,
changes nothing). A span spooled twice keeps its first place and its newest content.

The spool is a small SQLite file in the data dir, 0600 in a 0700 dir (titles may be in it). It
also remembers when the outage began, for `presence status`.

A daemon that starts while the server is away (offline first) has no run id from the server
yet: it begins an *offline run* here (a negative local id its spans are spooled under) and ends
it here when it stops offline. Replay creates each offline run on the server first (through the
caller's `open_run`, which also closes it when it ended), re-points its spooled spans to the
real id and forgets it in one local transaction, then replays the spans.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from presence.core.errors import StorageError
from presence.core.model import InputCounts, Span, SpanState

FILE_NAME = "spool.db"
CHUNK = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spooled (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    device_id INTEGER NOT NULL,
    run_id INTEGER,
    span TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS offline_runs (
    local INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    version TEXT NOT NULL,
    person TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    reason TEXT
);
"""


def _encode(span: Span) -> str:
    c = span.counts
    return json.dumps(
        [
            span.start.timestamp(),
            span.end.timestamp(),
            span.app,
            span.title,
            span.state.value,
            span.utc_offset,
            [c.keys, c.clicks, c.scrolls, c.moves],
            span.site,
        ]
    )


def _decode(uid: str, text: str) -> Span:
    start, end, app, title, state, offset, counts, site = json.loads(text)
    return Span(
        datetime.fromtimestamp(start, UTC),
        datetime.fromtimestamp(end, UTC),
        app,
        title,
        SpanState(state),
        offset,
        InputCounts(*counts),
        uid,
        site,
    )


@dataclass(frozen=True, slots=True)
class SpoolState:
    """What `presence status` says: how many spans wait, since when the server is away."""

    waiting: int
    offline_since: datetime | None


@dataclass(frozen=True, slots=True)
class OfflineRun:
    """A daemon run begun while the server was away; `local` is its (negative) spool id."""

    local: int
    device_id: int
    pid: int
    version: str
    person: str
    started: datetime
    ended: datetime | None
    reason: str | None


SaveSpans = Callable[[int, int | None, Sequence[Span]], None]
OpenRun = Callable[[OfflineRun], int]


class Spool:
    """The spool file. One writer (the recorder, sampler thread); readers may be other
    processes (`presence status`). Methods raise StorageError when the file fails."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # offline run (negative local id) -> its id on the server, filled by `replay`
        self.opened: dict[int, int] = {}

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
            if self.path.stat().st_mode & 0o077:
                self.path.chmod(0o600)
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(
                f"cannot open the offline spool {self.path}: {exc}",
                hint="check the data directory's permissions and free space",
            ) from None
        return conn

    def put(self, device_id: int, run_id: int | None, spans: Sequence[Span], now: datetime) -> None:
        """Keep `spans` (newest content per uid, first place kept); durable on return."""
        conn = self._connect()
        try:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT INTO spooled (uid, device_id, run_id, span) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(uid) DO UPDATE SET span = excluded.span",
                    [(s.uid, device_id, run_id, _encode(s)) for s in spans],
                )
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('offline_since', ?)",
                    (str(now.timestamp()),),
                )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot write the offline spool {self.path}: {exc}") from None
        finally:
            conn.close()

    def state(self) -> SpoolState:
        """How many spans wait and since when (none: 0, None). Never creates the file."""
        if not self.path.exists():
            return SpoolState(0, None)
        conn = self._connect()
        try:
            waiting = int(conn.execute("SELECT count(*) FROM spooled").fetchone()[0])
            row = conn.execute("SELECT value FROM meta WHERE key = 'offline_since'").fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read the offline spool {self.path}: {exc}") from None
        finally:
            conn.close()
        since = None if row is None else datetime.fromtimestamp(float(row[0]), UTC)
        return SpoolState(waiting, since)

    def begin_run(
        self, device_id: int, pid: int, version: str, person: str, started: datetime
    ) -> int:
        """Begin an offline run; returns its local id (negative, never a server's run id)."""
        conn = self._connect()
        try:
            with conn:
                cursor = conn.execute(
                    "INSERT INTO offline_runs (device_id, pid, version, person, started) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (device_id, pid, version, person, started.timestamp()),
                )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot write the offline spool {self.path}: {exc}") from None
        finally:
            conn.close()
        assert cursor.lastrowid is not None  # an INSERT into an AUTOINCREMENT table
        return -int(cursor.lastrowid)

    def end_run(self, local: int, ended: datetime, reason: str) -> None:
        """Record that the offline run `local` ended (created and closed on replay)."""
        conn = self._connect()
        try:
            with conn:
                conn.execute(
                    "UPDATE offline_runs SET ended = ?, reason = ? WHERE local = ?",
                    (ended.timestamp(), reason, -local),
                )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot write the offline spool {self.path}: {exc}") from None
        finally:
            conn.close()

    def _open_runs(self, conn: sqlite3.Connection, open_run: OpenRun) -> None:
        """Create every offline run on the server (open_run), then re-point its spans and
        forget it in one local transaction. Raises what open_run raises."""
        rows = conn.execute(
            "SELECT local, device_id, pid, version, person, started, ended, reason "
            "FROM offline_runs ORDER BY local"
        ).fetchall()
        for local, device_id, pid, version, person, started, ended, reason in rows:
            run = OfflineRun(
                -local,
                device_id,
                pid,
                version,
                person,
                datetime.fromtimestamp(started, UTC),
                None if ended is None else datetime.fromtimestamp(ended, UTC),
                reason,
            )
            real = open_run(run)
            with conn:  # one transaction: isolation_level=None would commit each statement
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("UPDATE spooled SET run_id = ? WHERE run_id = ?", (real, -local))
                conn.execute("DELETE FROM offline_runs WHERE local = ?", (local,))
            self.opened[-local] = real

    def replay(self, save: SaveSpans, open_run: OpenRun | None = None) -> int:
        """Hand every spooled span to `save` in arrival order, a chunk at a time, deleting each
        chunk once `save` returned; returns how many were replayed. Offline runs are created
        first through `open_run` (their server ids land in `opened`); without it their spans
        are saved with no run. When `save` or `open_run` raises (StorageError: the server is
        away again) what is left stays spooled and it re-raises.
        """
        if not self.path.exists():
            return 0
        conn = self._connect()
        done = 0
        try:
            if open_run is not None:
                self._open_runs(conn, open_run)
            while True:
                rows = conn.execute(
                    "SELECT seq, uid, device_id, run_id, span FROM spooled ORDER BY seq LIMIT ?",
                    (CHUNK,),
                ).fetchall()
                if not rows:
                    conn.execute("DELETE FROM meta WHERE key = 'offline_since'")
                    return done
                # one call per (device, run) stretch, in order
                start = 0
                for i in range(1, len(rows) + 1):
                    if i == len(rows) or rows[i][2:4] != rows[start][2:4]:
                        batch = [_decode(r[1], r[4]) for r in rows[start:i]]
                        run = rows[start][3]
                        save(rows[start][2], None if run is not None and run < 0 else run, batch)
                        start = i
                conn.execute("DELETE FROM spooled WHERE seq <= ?", (rows[-1][0],))
                done += len(rows)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read the offline spool {self.path}: {exc}") from None
        finally:
            conn.close()


def spool_for(engine_dialect: str, data_dir: Path) -> Spool | None:
    """The spool of a daemon writing to a database of `engine_dialect` (e.g. "postgresql"):
    None for SQLite, a local file already (a spool beside it would fail with it)."""
    return None if engine_dialect == "sqlite" else Spool(data_dir / FILE_NAME)
