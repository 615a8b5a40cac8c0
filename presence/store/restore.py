"""Copying what `salvage` reads into a new database made by our migrations (for repair).

Tables are filled parents first. A row that refers to a lost row is kept where that is safe:
a lost run is unset (spans survive without it), a lost device is re-created, since losing
one device row would otherwise take every span of that device with it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from presence.store.salvage import RowReader, quoted


@dataclass(frozen=True, slots=True)
class TableRecovery:
    """One table's outcome. `lost` counts rows known to be lost (unreadable or rejected);
    `tail_unreadable`: rows after the last one recovered could not be read and are not
    counted; `adjusted`: rows kept although a row they refer to was lost."""

    table: str
    recovered: int
    lost: int
    tail_unreadable: bool = False
    adjusted: int = 0
    error: str | None = None


def restore_order(fresh: Path) -> list[str]:
    """The new database's tables, each after the tables it refers to."""
    conn = sqlite3.connect(fresh)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version' ORDER BY name"
            )
        ]
        parents = {
            n: {r[2] for r in conn.execute(f"PRAGMA foreign_key_list({quoted(n)})")} - {n}
            for n in names
        }
    finally:
        conn.close()
    order: list[str] = []
    while len(order) < len(names):
        ready = [n for n in names if n not in order and parents[n] <= set(order)]
        order.extend(ready or [n for n in names if n not in order])  # a cycle: keep going
    return order


def copy_tables(
    source_path: Path, fresh: Path, tables: list[str], device_name: str
) -> list[TableRecovery]:
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(fresh, isolation_level=None)
    try:
        # DELETE journal for the copy: the finished file must be complete without a -wal
        # beside it, since only the main file is renamed into place. The daemon turns WAL
        # back on when it opens it.
        target.execute("PRAGMA journal_mode=DELETE")
        target.execute("PRAGMA foreign_keys=ON")
        target.execute("BEGIN")
        try:
            present = {r[0] for r in source.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as exc:
            target.execute("ROLLBACK")
            return [TableRecovery(t, 0, 0, error=f"schema unreadable: {exc}") for t in tables]
        copier = _Copier(source, target, device_name)
        results = [
            copier.copy(table)
            if table in present
            else TableRecovery(table, 0, 0, error="not in the damaged file")
            for table in tables
        ]
        target.execute("COMMIT")
        return results
    finally:
        source.close()
        target.close()


@dataclass(slots=True)
class _Copier:
    """Copies tables row by row into the new database, mending references to lost rows."""

    source: sqlite3.Connection
    target: sqlite3.Connection
    device_name: str
    _ids: dict[tuple[str, str], set[object]] = field(default_factory=dict)

    def copy(self, table: str) -> TableRecovery:
        info = self.target.execute(f"PRAGMA table_info({quoted(table)})").fetchall()
        not_null = {r[1] for r in info if r[3]}
        try:
            have = {r[1] for r in self.source.execute(f"PRAGMA table_info({quoted(table)})")}
        except sqlite3.DatabaseError as exc:
            return TableRecovery(table, 0, 0, error=str(exc))
        columns = [r[1] for r in info if r[1] in have]
        refs = {
            r[3]: (r[2], r[4])
            for r in self.target.execute(f"PRAGMA foreign_key_list({quoted(table)})")
        }
        names = ", ".join(map(quoted, columns))
        marks = ", ".join("?" * len(columns))
        insert = f"INSERT INTO {quoted(table)} ({names}) VALUES ({marks})"  # noqa: S608
        reader = RowReader(self.source, table, columns)
        recovered = rejected = adjusted = 0
        for row in reader.rows():
            values = dict(zip(columns, row[1:], strict=True))
            mended = self._mend(values, refs, not_null)
            if mended is None:
                rejected += 1
                continue
            try:
                self.target.execute(insert, [values[c] for c in columns])
            except sqlite3.IntegrityError:
                # A value the schema refuses: garbage read as a row, a duplicate. Any other
                # error (a full disk) aborts the repair instead of dropping every row.
                rejected += 1
                continue
            recovered += 1
            adjusted += mended
        if reader.error:
            return TableRecovery(table, 0, rejected, error=reader.error)
        return TableRecovery(
            table, recovered, reader.lost + rejected, reader.tail_unreadable, adjusted
        )

    def _mend(
        self, values: dict[str, object], refs: dict[str, tuple[str, str]], not_null: set[str]
    ) -> int | None:
        """Point references to lost rows somewhere valid. Returns rows adjusted (0/1), or
        None when the row cannot be kept."""
        adjusted = 0
        for column, (parent, key) in refs.items():
            value = values.get(column)
            if value is None or value in self._known(parent, key):
                continue
            if parent == "devices" and self._recreate_device(value):
                adjusted = 1
            elif column not in not_null:
                values[column] = None  # e.g. a span whose run was lost: kept, without its run
                adjusted = 1
            else:
                return None
        return adjusted

    def _known(self, table: str, column: str) -> set[object]:
        if (table, column) not in self._ids:
            query = f"SELECT {quoted(column)} FROM {quoted(table)}"  # noqa: S608
            rows = self.target.execute(query)
            self._ids[table, column] = {r[0] for r in rows}
        return self._ids[table, column]

    def _recreate_device(self, device_id: object) -> bool:
        # A lost device row would take every span of that device with it; a stand-in keeps
        # them. On a single machine's database the lost device is almost surely this one.
        names = {r[0] for r in self.target.execute("SELECT name FROM devices")}
        name = self.device_name if self.device_name not in names else f"recovered-{device_id}"
        try:
            self.target.execute(
                "INSERT INTO devices (id, name, hostname, created) VALUES (?, ?, 'unknown', 0)",
                (device_id, name),
            )
        except sqlite3.IntegrityError:
            return False
        self._known("devices", "id").add(device_id)
        return True
