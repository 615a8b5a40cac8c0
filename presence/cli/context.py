"""What every command shares: the settings file, loaded once, and the database, opened lazily."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from presence.core.errors import StorageError
from presence.settings.files import Paths, database_url, load_settings
from presence.settings.schema import Settings

if TYPE_CHECKING:
    # Imported where used: `presence --help` and commands without a database skip SQLAlchemy.
    from presence.store import RuleStore, Store
    from presence.store.reporting import ReportQueries
    from presence.store.sqlite_reads import SqliteReads


@dataclass(slots=True)
class AppContext:
    config_file: Path | None = None
    debug: bool = False
    _paths: Paths | None = None
    _settings: Settings | None = None
    _store: Store | None = None

    @property
    def paths(self) -> Paths:
        if self._paths is None:
            self._paths = Paths.resolve(self.config_file)
        return self._paths

    @property
    def settings(self) -> Settings:
        """The validated settings; raises ConfigError naming the file and key."""
        if self._settings is None:
            self._settings = load_settings(self.paths.config_file)
        return self._settings

    def store(self, *, create: bool = True) -> Store:
        """The database, migrated, opened once per command. With create=False a missing SQLite
        file is an error."""
        if self._store is not None:
            return self._store
        try:
            self.paths.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StorageError(
                f"cannot create the data directory {self.paths.data_dir}: {exc.strerror}",
                hint="make its parent writable, or choose another with PRESENCE_DATA_DIR",
            ) from None
        from presence.store import Store  # noqa: PLC0415 - see the imports above

        self._store = Store.open(database_url(self.settings, self.paths), create=create)
        return self._store

    def sqlite_reads(self) -> SqliteReads | None:
        """The database read through sqlite3 without SQLAlchemy (presence.cli.report_fast),
        or None when `store()` must open it: not SQLite, no file yet, not at the head schema."""
        from presence.store.sqlite_reads import SqliteReads  # noqa: PLC0415

        return SqliteReads.open(database_url(self.settings, self.paths))

    def rule_store(self) -> RuleStore:
        """The rules and the enforcement log, on the database of `store()`."""
        from presence.store import RuleStore  # noqa: PLC0415

        return RuleStore(self.store())

    def report_queries(self) -> ReportQueries:
        """The report queries and the user's categories, on the database of `store()`."""
        from presence.store.reporting import ReportQueries  # noqa: PLC0415

        return ReportQueries.of(self.store())
