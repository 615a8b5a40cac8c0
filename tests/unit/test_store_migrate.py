"""A new database gets the declared schema without Alembic; an old one is upgraded by Alembic in a
child process. The schema created equals the one the migrations build."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from presence.core.errors import StorageError
from presence.store import Store, database
from presence.store.schema import metadata


def _shape(engine: Engine) -> dict[str, Any]:
    """Everything the reflection sees of each table: columns, keys, indexes, uniques."""
    found = inspect(engine)
    shape: dict[str, Any] = {}
    for table in sorted(found.get_table_names()):
        shape[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                for c in found.get_columns(table)
            ],
            "primary_key": found.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in found.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in found.get_indexes(table)
            ),
            "uniques": sorted(
                tuple(u["column_names"]) for u in found.get_unique_constraints(table)
            ),
        }
    return shape


def _alembic_upgrade(engine: Engine, revision: str) -> None:
    config = database._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_created_schema_equals_the_migrated_one(tmp_path: Path) -> None:
    created = database.create(f"sqlite:///{tmp_path / 'created.db'}")
    migrated = database.create(f"sqlite:///{tmp_path / 'migrated.db'}")
    assert database.create_if_empty(created)
    _alembic_upgrade(migrated, "head")
    assert _shape(created) == _shape(migrated)
    for engine in (created, migrated):
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
            assert MigrationContext.configure(connection).get_current_revision() == (
                database.HEAD_REVISION
            )


def test_a_new_database_is_made_without_importing_alembic(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from presence.store import Store\n"
        "Store.open(sys.argv[1]).close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    url = f"sqlite:///{tmp_path / 'p.db'}"
    out = subprocess.run(
        [sys.executable, "-c", script, url], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    with sqlite3.connect(tmp_path / "p.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (database.HEAD_REVISION,)
        ]


def test_processes_starting_at_once_create_the_schema_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    errors: list[BaseException] = []
    go = threading.Barrier(4)

    def start() -> None:
        try:
            go.wait()
            Store.open(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite3.connect(tmp_path / "p.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (database.HEAD_REVISION,)
        ]


def test_an_old_schema_is_upgraded_in_a_child_process(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    engine = database.create(f"sqlite:///{path}")
    _alembic_upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO devices (name, hostname, created) VALUES ('desk', 'host', 0)"
        )
    engine.dispose()
    store = Store.open(f"sqlite:///{path}")
    try:
        assert database.current_revision(store.engine) == database.HEAD_REVISION
        assert [d.name for d in store.devices()] == ["desk"]
    finally:
        store.close()


def test_a_newer_schema_is_refused_with_the_childs_message(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    Store.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StorageError) as caught:
        Store.open(f"sqlite:///{path}")
    assert "newer than this presence" in caught.value.message
    assert caught.value.hint is not None and "upgrade presence" in caught.value.hint
