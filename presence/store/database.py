"""Opening the database: engine, SQLite pragmas and file modes, schema creation and migrations."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from presence.core.errors import StorageError
from presence.store.reads import HEAD_REVISION as HEAD_REVISION  # noqa: PLC0414 - re-exported

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 5000


def _alembic_config() -> Any:
    from alembic.config import Config  # noqa: PLC0415 - only when migrating (see HEAD_REVISION)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    """The head of the migration scripts themselves (imports Alembic)."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    head: str | None = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision stamped in the database, None for a database never migrated."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def read_only_dir(directory: Path) -> bool:
    """True when files cannot be created in `directory`: a read-only mount (which binds root
    too), or permissions this user lacks."""
    try:
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    return not os.access(directory, os.W_OK)


def _prepare_sqlite_file(path: Path) -> None:
    """Create the directory 0700 and the file 0600 before SQLite does (with the umask's mode).

    SQLite gives the -wal and -shm files the database file's permissions, so they follow.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.parent.stat().st_mode & 0o077 and path.parent.name == "presence":
        path.parent.chmod(0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


def _set_wal(cursor: Any) -> None:
    """Put the file in WAL mode (it stays so). Switching needs an exclusive lock, and SQLite
    answers "database is locked" at once, without the busy timeout, while another process
    starting beside us holds the new file: retry for up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # WAL: the CLI reads while the daemon writes. NORMAL is durable across a process crash
        # (kill -9); only an OS crash may lose the last transactions.
        _set_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def create(url: str, *, create_file: bool = True) -> Engine:
    """An engine for `url`. SQLite files are created private (0700 dir, 0600 file).

    Raises StorageError for a malformed URL, a missing driver, or an unwritable location.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(
            f"database.url {url!r} is not a database URL",
            hint="use sqlite:////path/to/presence.db or postgresql://user@host/db",
        ) from None
    path = sqlite_path(url)
    if path is not None:
        if not create_file and not path.exists():
            raise StorageError(
                f"no database at {path} yet",
                hint="start the daemon with `presence run` to begin recording",
            )
        try:
            _prepare_sqlite_file(path)
        except OSError as exc:
            if path.exists():  # issue 11: it exists; what fails is writing beside it
                raise StorageError(
                    f"cannot open the database {path} for writing: {exc.strerror}",
                    hint=f"presence writes to it and beside it (-wal, -shm): make {path.parent} "
                    "writable (e.g. remount it read-write), or set database.url",
                ) from None
            raise StorageError(
                f"cannot create the database {path}: {exc.strerror}",
                hint="check the directory's permissions and free space, or set database.url",
            ) from None
    try:
        engine = create_engine(parsed, pool_pre_ping=parsed.get_backend_name() != "sqlite")
    except (ImportError, SQLAlchemyError) as exc:
        raise StorageError(
            f"cannot use database {parsed.render_as_string(hide_password=True)}: {exc}",
            hint="for PostgreSQL install a driver: pip install 'psycopg[binary]'",
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is already there).

    Alembic (about 11 MB that a long-running process would keep) is never imported here: an
    empty database gets the declared schema (`store/schema.py`) stamped at head, under the
    database's write lock so that two processes starting at once on one new database create
    it once (`create_if_empty`); an older schema is upgraded by Alembic in a short child process
    (`python -m presence.store.migrate`). Blocks until done; any thread.

    Raises StorageError when the database cannot be read or is newer than this version.
    """
    try:
        current = current_revision(engine)
        if current == HEAD_REVISION or (current is None and create_if_empty(engine)):
            return
    except DBAPIError as exc:
        raise storage_error(exc, engine) from None
    from presence.store.migrate import upgrade_in_child  # noqa: PLC0415 - rare: an old schema

    upgrade_in_child(engine.url.render_as_string(hide_password=False))


VERSION_TABLE = "alembic_version"
# The advisory lock key PostgreSQL processes creating a new schema take (any constant will do,
# as long as every presence uses the same one): "presence" in ASCII, as an int64.
_PG_LOCK_KEY = 0x70726573656E6365


def create_if_empty(engine: Engine) -> bool:
    """Create the declared schema, stamped at HEAD_REVISION, when the database holds none of it.

    Runs in one transaction holding the write lock (SQLite `BEGIN IMMEDIATE`, a PostgreSQL
    transaction-level advisory lock), and looks again once it holds it: a second process that
    waited finds the schema made and does nothing. Returns True when the schema is at head
    afterwards; False when the database already holds tables (or another database kind), which
    Alembic must handle. Raises DBAPIError.
    """
    from sqlalchemy import Column, MetaData, String, Table, insert  # noqa: PLC0415

    from presence.store.schema import metadata  # noqa: PLC0415

    if engine.dialect.name not in ("sqlite", "postgresql"):
        return False
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            # pysqlite begins transactions only before DML; an explicit BEGIN IMMEDIATE takes
            # the write lock now, so the check below and the CREATEs are one atomic step.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        found = inspect(connection)
        if found.has_table(VERSION_TABLE):
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
            return row is not None and str(row[0]) == HEAD_REVISION
        if any(found.has_table(name) for name in metadata.tables):
            return False
        log.info("creating the database schema (revision %s)", HEAD_REVISION)
        metadata.create_all(connection)
        # The table Alembic keeps its revision in, as Alembic itself creates it.
        version = Table(
            VERSION_TABLE,
            MetaData(),
            Column("version_num", String(32), primary_key=True),
        )
        version.create(connection)
        connection.execute(insert(version).values(version_num=HEAD_REVISION))
    return True


def upgrade(engine: Engine) -> None:
    """Upgrade the schema to head with Alembic, in this process (imports Alembic: the child
    process of `migrate`, and tests). Raises StorageError."""
    from alembic import command  # noqa: PLC0415 - only when a migration is due
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    config = _alembic_config()
    script = ScriptDirectory.from_config(config)
    try:
        with engine.begin() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            if current == script.get_current_head():
                return
            if current is not None and current not in {r.revision for r in script.walk_revisions()}:
                raise StorageError(
                    f"the database is at schema revision {current}, newer than this presence",
                    hint="upgrade presence, or point database.url at another database",
                )
            log.info("migrating the database from %s to %s", current, script.get_current_head())
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except DBAPIError as exc:
        raise storage_error(exc, engine) from None


def storage_error(exc: DBAPIError, engine: Engine) -> StorageError:
    """Turn a driver error into a message a user can act on."""
    where = engine.url.render_as_string(hide_password=True)
    text = str(exc.orig)
    if "file is not a database" in text or "malformed" in text:
        return StorageError(
            f"the database {where} is damaged: {text}",
            hint="stop presence, then run `presence data repair`: it backs up the damaged file "
            "and recovers what can still be read (`presence data check` lists the problems)",
        )
    if "readonly" in text or "read-only" in text:
        return StorageError(f"the database {where} is read-only", hint="check file permissions")
    if getattr(exc.orig, "sqlstate", None) == "42501" or "permission denied" in text:
        # issue 12: a device's role on a household database may not change rules or zones
        return StorageError(
            f"the database {where} refused this change: {text.splitlines()[0]}",
            hint="this device's database role may record and read, not change rules, zones or "
            "other devices: make the change as the household's owner (their database.url, "
            "or `presence household add-owner`)",
        )
    if "disk" in text and "full" in text:
        return StorageError(f"the disk holding {where} is full", hint="free some space")
    return StorageError(f"database error on {where}: {text}")
