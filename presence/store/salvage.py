"""Reading what can still be read out of a damaged SQLite file (for `presence data repair`).

Three tools, tried by `presence.store.maintenance.repair` in this order:

- `rebuild_header`: a file whose 100-byte header is garbage ("file is not a database") gets a
  plausible header back, so SQLite can reach the pages behind it, which are usually intact;
  `fit_page_count` makes a truncated file's header admit the pages it lost.
- `recover_with_cli`: the `sqlite3` shell's `.recover`, which reads every page directly. It
  needs a library built with SQLITE_ENABLE_DBPAGE_VTAB, which Debian's is not, so it is only
  used when a probe shows it works.
- `RowReader`: pure Python. Walks a table in rowid order; where a page cannot be read, it
  searches forward for the next rowid SQLite can seek to and carries on from there.

Everything here works on a scratch copy: the damaged file itself is never written.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
MAX_ROWID = 2**63 - 1
# SQLite's default page size since 3.12 comes first; the rest are every size it allows.
PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512)
RECOVER_TIMEOUT_S = 600


def quoted(identifier: str) -> str:
    """An SQL identifier (table or column name, from a schema) quoted for SQLite."""
    return '"' + identifier.replace('"', '""') + '"'


def header_is_valid(path: Path) -> bool:
    """Whether the file starts with SQLite's magic string and a legal page size."""
    with path.open("rb") as f:
        header = f.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
        return False
    (raw,) = struct.unpack(">H", header[16:18])
    size = 65536 if raw == 1 else raw
    return size in PAGE_SIZES


def _header(page_size: int, pages: int, wal: bool) -> bytes:
    """A header as SQLite writes it (file format 4, UTF-8, no auto-vacuum, empty freelist).

    The change counter equals version-valid-for, so SQLite trusts the page count. Pages that
    were on the freelist become unreferenced; nothing reads them, so that is harmless.
    """
    journal = 2 if wal else 1  # 2: WAL, so an existing -wal file is replayed
    version = sqlite3.sqlite_version_info
    return b"".join(
        (
            MAGIC,
            struct.pack(">H", 1 if page_size == 65536 else page_size),
            bytes((journal, journal, 0, 64, 32, 32)),
            struct.pack(">IIII", 1, pages, 0, 0),  # change counter, pages, freelist trunk/count
            struct.pack(">IIII", 1, 4, 0, 0),  # schema cookie, format, cache size, vacuum root
            struct.pack(">IIII", 1, 0, 0, 0),  # UTF-8, user version, incr. vacuum, app id
            bytes(20),
            struct.pack(">II", 1, version[0] * 1_000_000 + version[1] * 1000 + version[2]),
        )
    )


def _readable(path: Path, tables: list[str]) -> bool:
    """Whether SQLite reads the schema and the first row of each of `tables` in `path`."""
    conn = sqlite3.connect(path)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        for table in tables:
            if table in names:
                query = f"SELECT * FROM {quoted(table)} NOT INDEXED LIMIT 1"  # noqa: S608
                conn.execute(query).fetchall()
        return bool(names & set(tables)) or not tables
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def rebuild_header(path: Path, tables: list[str]) -> int | None:
    """Give `path` (a scratch copy) a fresh header; returns the page size that reads, or None.

    The page size is not known once the header is gone: each size that divides the file is
    tried until SQLite can read the schema and the first rows of `tables`. On None the file's
    original header is put back.
    """
    with path.open("rb") as f:
        original = f.read(HEADER_SIZE)
    size = path.stat().st_size
    wal = path.with_name(path.name + "-wal").exists()
    for page_size in PAGE_SIZES:
        if size < page_size or size % page_size:
            continue
        with path.open("r+b") as f:
            f.write(_header(page_size, size // page_size, wal))
        if _readable(path, tables):
            log.info("rebuilt the damaged header of %s (page size %d)", path, page_size)
            return page_size
    with path.open("r+b") as f:
        f.write(original)
    return None


def fit_page_count(path: Path) -> bool:
    """Make a truncated file's header claim only the pages still there. Returns whether it did.

    SQLite trusts the header's page count and calls the whole file malformed when pages it
    counts are missing, so not even the schema on page 1 could be read without this.
    """
    with path.open("r+b") as f:
        header = f.read(HEADER_SIZE)
        (raw,) = struct.unpack(">H", header[16:18])
        page_size = 65536 if raw == 1 else raw
        pages = path.stat().st_size // page_size
        (claimed,) = struct.unpack(">I", header[28:32])
        if claimed <= pages:
            return False
        f.seek(28)
        f.write(struct.pack(">I", pages))
    return True


def _cli_recover_works(sqlite3_bin: str) -> bool:
    """`.recover` fails at once ("SQL logic error") without the sqlite_dbpage table."""
    try:
        probe = subprocess.run(
            [sqlite3_bin, ":memory:", ".recover"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0 and b"error" not in probe.stderr.lower()


def recover_with_cli(damaged: Path, into: Path) -> bool:
    """Rebuild `damaged` into a new file `into` with `sqlite3 .recover`.

    Returns False (leaving nothing at `into`) when there is no `sqlite3` shell, its `.recover`
    does not work on this system, or it fails on this file; the caller then reads row by row.
    """
    sqlite3_bin = shutil.which("sqlite3")
    if sqlite3_bin is None or not _cli_recover_works(sqlite3_bin):
        return False
    try:
        dumped = subprocess.run(
            [sqlite3_bin, str(damaged), ".recover"],
            capture_output=True,
            timeout=RECOVER_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("sqlite3 .recover failed: %s", exc)
        return False
    if dumped.returncode != 0:
        log.warning("sqlite3 .recover failed: %s", dumped.stderr.decode(errors="replace").strip())
        return False
    conn = sqlite3.connect(into)
    try:
        conn.executescript(dumped.stdout.decode("utf-8", errors="replace"))
    except sqlite3.Error as exc:
        log.warning("the SQL from sqlite3 .recover did not load: %s", exc)
        conn.close()
        into.unlink(missing_ok=True)
        return False
    conn.close()
    return True


class RowReader:
    """Reads one table of a damaged database in rowid order, skipping what cannot be read.

    After `rows()` is exhausted: `lost` counts rowids skipped between readable stretches
    (presence's tables get dense rowids, so that is the number of rows lost there), and
    `tail_unreadable` says reading stopped at damage with nothing readable after it, so rows
    beyond the last one read may be lost too, uncounted. `error` is set when the table could
    not be read at all.
    """

    def __init__(self, conn: sqlite3.Connection, table: str, columns: list[str]) -> None:
        self.conn = conn
        self.table = table
        self.columns = columns
        self.lost = 0
        self.tail_unreadable = False
        self.error: str | None = None
        cols = ", ".join(map(quoted, columns))
        # NOT INDEXED: walk the table's own b-tree; a damaged index must not hide rows.
        # (Identifiers come from the schema, quoted; values are bound.)
        source = f"FROM {quoted(table)} NOT INDEXED WHERE rowid > ? ORDER BY rowid"
        self._query = f"SELECT rowid, {cols} {source}"
        self._probe = f"SELECT rowid {source} LIMIT 1"

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Yield (rowid, *columns) for every readable row, oldest rowid first."""
        after = -MAX_ROWID - 1  # rows come strictly after this rowid
        last: int | None = None  # the last rowid yielded
        while True:
            try:
                for row in self.conn.execute(self._query, (after,)):
                    after = last = int(row[0])
                    yield row
                return
            except sqlite3.DatabaseError as exc:
                resumed = self._skip(after)
                if resumed is None:
                    if last is None:
                        self.error = str(exc)
                    self.tail_unreadable = last is not None
                    return
                seek, first = resumed
                self.lost += max(0, first - (last if last is not None else 0) - 1)
                log.info(
                    "%s: unreadable rows after rowid %s, resuming at %d", self.table, last, first
                )
                after = seek

    def _seek(self, after: int) -> int | None:
        """The first rowid after `after`; -1 when there is none; None when the seek fails."""
        try:
            row = self.conn.execute(self._probe, (after,)).fetchone()
        except sqlite3.DatabaseError:
            return None
        return -1 if row is None else int(row[0])

    def _skip(self, failed: int) -> tuple[int, int] | None:
        """Past damage after rowid `failed`: (a rowid to seek after, the first row there).

        Steps forward exponentially until a seek works, then bisects back to the first rowid
        that seeks, so at most a page's worth of rows is skipped. None: nothing readable after.
        """
        bad, step = failed, 1
        while True:
            candidate = min(failed + step, MAX_ROWID)
            first = self._seek(candidate)
            if first is not None:
                break
            if candidate == MAX_ROWID:
                return None
            bad, step = candidate, step * 2
        good = candidate
        while good - bad > 1:  # invariant: seeking after `bad` fails, after `good` works
            middle = (bad + good) // 2
            found = self._seek(middle)
            if found is None:
                bad = middle
            else:
                good, first = middle, found
        return None if first == -1 else (good, first)
