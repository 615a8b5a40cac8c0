"""Checking and repairing the database: `presence data check` and `presence data repair`.

`check` never writes. `repair` (SQLite only) keeps a backup of the damaged files, reads what
it can into a new database made by our migrations, and swaps it in with one rename, so at
every moment the database file is either the old one or the complete new one. The caller
must make sure no daemon writes meanwhile (the CLI holds the session lock).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
import struct
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from presence.core.errors import PresenceError, StorageError
from presence.store import database
from presence.store.holder import Holder, RecorderLock
from presence.store.restore import TableRecovery, copy_tables, restore_order
from presence.store.salvage import (
    HEADER_SIZE,
    fit_page_count,
    header_is_valid,
    rebuild_header,
    recover_with_cli,
)
from presence.store.schema import metadata
from presence.store.tracking import Store

log = logging.getLogger(__name__)

INTEGRITY_LINES = 20  # integrity_check stops after this many problems; enough to judge by
SIDE_FILES = ("-wal", "-shm")  # SQLite's write-ahead log and its index, next to the file


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What `check` found. `problems` make the check fail; `notes` are for information."""

    database: str
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    repairable: bool = False  # damage in a SQLite file, which `repair` rebuilds around

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class RepairReport:
    """What `repair` did. `rebuilt` is False when the check passed and nothing was done."""

    before: CheckReport
    rebuilt: bool = False
    backup: tuple[Path, ...] = ()
    method: str = ""
    header: str = ""  # what was done to the damaged file's header first, if anything
    tables: tuple[TableRecovery, ...] = ()
    after: CheckReport | None = None


# check ---------------------------------------------------------------------------------------


def check(url: str) -> CheckReport:
    """Check the database at `url` without writing to it.

    SQLite: the header, `PRAGMA integrity_check`, then the schema revision and tables.
    PostgreSQL: a connection, then the schema revision and tables.
    Raises StorageError only when there is nothing to check (no SQLite file yet).
    """
    path = database.sqlite_path(url)
    if path is not None:
        if not path.exists():
            raise StorageError(
                f"no database at {path} yet",
                hint="start the daemon with `presence run` to begin recording",
            )
        problems = _sqlite_problems(path)
        if problems:
            return CheckReport(str(path), tuple(problems), repairable=True)
    where = str(path) if path else make_url(url).render_as_string(hide_password=True)
    problems, notes = _schema_findings(url, path)
    return CheckReport(where, tuple(problems), tuple(notes))


def _sqlite_problems(path: Path) -> list[str]:
    if path.stat().st_size == 0:
        return []  # SQLite's empty database: `presence run` creates the tables in it
    if not header_is_valid(path):
        return [
            "the file header is damaged: the file no longer starts like a SQLite database "
            "(`presence data repair` can rebuild the header and read the pages behind it)"
        ]
    try:
        # mode=rw: never create a file; the check itself writes nothing.
        conn = sqlite3.connect(_check_uri(path), uri=True, timeout=5)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open {path}: {exc}", hint="check its permissions") from None
    try:
        rows = conn.execute(f"PRAGMA integrity_check({INTEGRITY_LINES})").fetchall()
        problems = [line for (text,) in rows for line in str(text).splitlines() if line != "ok"]
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise StorageError(
                f"{path} is locked by another program", hint="try again in a moment"
            ) from None
        problems = [str(exc)]
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    finally:
        conn.close()
    if problems:
        problems.extend(_size_problems(path))
    return problems


def _check_uri(path: Path) -> str:
    """How a check opens the file: read-write without creating it, or, when its directory
    cannot be written (a read-only mount), immutable: SQLite then reads a WAL database without
    its -shm file, and nobody can change the file meanwhile anyway (issue 11: a read-only
    directory is not a damaged database)."""
    if database.read_only_dir(path.parent):
        return f"{path.as_uri()}?mode=ro&immutable=1"
    return f"{path.as_uri()}?mode=rw"


def _size_problems(path: Path) -> list[str]:
    """Explain a failed check by the file's size, when the header records it reliably."""
    with path.open("rb") as f:
        header = f.read(HEADER_SIZE)
    (raw,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if raw == 1 else raw
    changes, pages = struct.unpack(">II", header[24:32])
    (valid_for,) = struct.unpack(">I", header[92:96])
    size = path.stat().st_size
    if size % page_size:
        return [f"the file size ({size} bytes) is not a whole number of {page_size}-byte pages"]
    if valid_for == changes and size // page_size < pages:
        return [
            f"the file holds {size // page_size} pages but its header says {pages}: "
            "it was cut short (truncated)"
        ]
    return []


def _known_revisions() -> set[str]:
    script = ScriptDirectory(str(database.MIGRATIONS))
    return {r.revision for r in script.walk_revisions()}


def _schema_findings(url: str, path: Path | None) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    notes: list[str] = []
    if path is None:
        engine = database.create(url, create_file=False)
    else:
        # Not database.create: its connect hook sets journal_mode, and a check never writes.
        uri = _check_uri(path)
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            present = set(inspect(connection).get_table_names())
    except DBAPIError as exc:
        return [database.storage_error(exc, engine).message], notes
    finally:
        engine.dispose()
    head = database.head_revision()
    if current is None:
        notes.append("no presence tables yet: `presence run` creates them")
    elif current not in _known_revisions():
        problems.append(f"schema revision {current} is newer than this presence (head {head})")
    elif current != head:
        notes.append(f"schema revision {current}: `presence run` migrates it to {head}")
    else:
        missing = sorted(set(metadata.tables) - present)
        if missing:
            problems.append(f"tables missing at revision {current}: {', '.join(missing)}")
        notes.append(f"schema revision {current} (current)")
    return problems, notes


# repair --------------------------------------------------------------------------------------


def repair(url: str, *, device_name: str, stamp: datetime, force: bool = False) -> RepairReport:
    """Rebuild the SQLite database at `url` from what can still be read of it.

    Does nothing (rebuilt=False) when `check` passes, unless `force`. Otherwise: copies the
    file and its -wal/-shm to `<name>.broken-<stamp>` (0600) first, rebuilds into a new file
    made by our migrations, replaces the old file with one rename and checks the result.
    Rows that refer to a lost row are kept where that is safe: a lost run is unset, a lost
    device is re-created (named `device_name` if free, else `recovered-<id>`).
    Raises StorageError for PostgreSQL, a missing file, or when the backup cannot be written.
    """
    path = database.sqlite_path(url)
    if path is None:
        raise StorageError(
            "`presence data repair` works on SQLite files only",
            hint="for PostgreSQL restore from your backups (pg_dump/pg_restore)",
        )
    before = check(url)
    if before.ok and not force:
        return RepairReport(before)
    backup = _backup(path, stamp)
    work = Path(tempfile.mkdtemp(prefix=".repair-", dir=path.parent))
    swapping = False
    try:
        fresh = work / "presence.db"
        engine = database.create(f"sqlite:///{fresh}")
        try:
            database.migrate(engine)
        finally:
            engine.dispose()
        damaged = work / "damaged.db"
        for suffix in ("", *SIDE_FILES):
            if (source := Path(f"{path}{suffix}")).exists():
                shutil.copyfile(source, f"{damaged}{suffix}")
        tables = restore_order(fresh)
        if header_is_valid(damaged):
            header = "page count corrected" if fit_page_count(damaged) else ""
        else:
            header = "rebuilt" if rebuild_header(damaged, tables) is not None else ""
        recovered = work / "recovered.db"
        method = "sqlite3 .recover" if recover_with_cli(damaged, recovered) else "row by row"
        source = recovered if method == "sqlite3 .recover" else damaged
        results = copy_tables(source, fresh, tables, device_name)
        swapping = True  # until here the old files were only read
        for suffix in SIDE_FILES:
            # The old log must go before the new file arrives: SQLite would replay it into it.
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.replace(fresh, path)
        _fsync_dir(path.parent)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        if swapping:
            raise StorageError(
                f"cannot put the rebuilt database in place of {path}: {reason}",
                hint=f"copy the backup {backup[0]} (and its -wal) back to {path.name}",
            ) from None
        raise StorageError(
            f"cannot rebuild {path}: {reason}; it was left as it was",
            hint=f"free some space and try again; a copy of it is kept as {backup[0]}",
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("rebuilt %s (%s); backup at %s", path, method, backup[0])
    return RepairReport(
        before,
        rebuilt=True,
        backup=backup,
        method=method,
        header=header,
        tables=tuple(results),
        after=check(url),
    )


def _backup(path: Path, stamp: datetime) -> tuple[Path, ...]:
    """Copy the database and its side files to `<name>.broken-<stamp>[-n]`, 0600, synced."""
    base = f"{path}.broken-{stamp:%Y%m%d-%H%M%S}"
    n = 1
    while any(Path(f"{base}{suffix}").exists() for suffix in ("", *SIDE_FILES)):
        n += 1
        base = f"{path}.broken-{stamp:%Y%m%d-%H%M%S}-{n}"
    written: list[Path] = []
    try:
        for suffix in ("", *SIDE_FILES):
            source = Path(f"{path}{suffix}")
            if not source.exists():
                continue
            target = Path(f"{base}{suffix}")
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            written.append(target)
            with source.open("rb") as src, os.fdopen(fd, "wb") as dst:
                shutil.copyfileobj(src, dst)
                dst.flush()
                os.fsync(dst.fileno())
    except OSError as exc:
        for partial in written:
            partial.unlink(missing_ok=True)
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise StorageError(
                f"cannot back up {path} before repairing it: {exc.strerror}",
                hint=f"presence writes the backup and the rebuilt file beside it: make "
                f"{path.parent} writable (e.g. remount it read-write), then try again",
            ) from None
        raise StorageError(
            f"cannot back up {path} before repairing it: {exc.strerror}",
            hint="free some space (the backup needs as much as the database), then try again",
        ) from None
    return tuple(written)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def live_recorder(
    url: str, device_name: str, now: datetime, hostname: str
) -> tuple[bool, Holder | None]:
    """Whether the database's recorder table can be read, and the live daemon it names as
    recording `device_name` (None: none, or stale). Never raises: an unreadable database
    answers (False, None), and the caller falls back on the session lock."""
    try:
        store = Store.open(url, migrate=False, create=False)
    except PresenceError:
        return False, None
    try:
        holder = RecorderLock(store.engine).holder(device_name)
    except PresenceError:
        return False, None
    finally:
        store.close()
    return True, None if holder is None or holder.stale(now, hostname) else holder
