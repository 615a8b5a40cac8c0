"""The store on real SQLite files: modes, migrations, idempotent upserts, clipping in SQL."""

from __future__ import annotations

import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presence.core.errors import StorageError
from presence.store import Store
from presence.store.database import HEAD_REVISION, head_revision

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'data' / 'presence.db'}")


def test_database_is_private_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "presence" / "presence.db"
    Store.open(f"sqlite:///{path}").close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert (
            db.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()
        )


def test_head_constant_matches_the_migration_scripts() -> None:
    assert head_revision() == HEAD_REVISION


def test_migrate_twice_is_a_noop(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    url = f"sqlite:///{path}"
    store = Store.open(url)
    store.device("laptop", "host", T0)
    store.close()
    with sqlite3.connect(path) as db:
        schema = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        # data_version changes when another connection commits anything to the file.
        version = db.execute("PRAGMA data_version").fetchone()[0]
        Store.open(url).close()
        assert db.execute("PRAGMA data_version").fetchone()[0] == version, "the second open wrote"
        assert db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == (
            schema
        )
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (HEAD_REVISION,)
        ]
        assert db.execute("SELECT name FROM devices").fetchall() == [("laptop",)]
    db.close()


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    path.write_bytes(b"this is not sqlite" * 100)
    path.chmod(0o600)
    with pytest.raises(StorageError) as caught:
        Store.open(f"sqlite:///{path}")
    assert "damaged" in caught.value.message and str(path) in caught.value.message


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(StorageError):
        Store.open("nonsense")


def test_pauses(store: Store) -> None:
    device = store.device("laptop", "host", T0)
    store.add_pause(device.id, at(0), at(60), "lunch")
    assert store.active_pause(device.id, at(30)) is not None
    assert store.active_pause(device.id, at(60)) is None
    store.add_pause(device.id, at(100), None, "meeting")
    assert store.active_pause(device.id, at(5000)) is not None
    assert store.end_pauses(device.id, at(200)) == 1
    assert store.active_pause(device.id, at(201)) is None
    pauses = store.pauses_between(at(0), at(1000), [device.id])
    assert [(p.reason, p.end_at()) for p in pauses] == [("lunch", at(60)), ("meeting", at(200))]


def test_runs(store: Store) -> None:
    device = store.device("laptop", "host", T0)
    run = store.start_run(device.id, 123, "0.1", at(0))
    store.heartbeat(run, at(10))
    latest = store.latest_run(device.id)
    assert latest is not None and latest.last_seen == at(10) and latest.ended is None
    store.end_run(run, at(20), "stopped")
    latest = store.latest_run(device.id)
    assert latest is not None and latest.ended == at(20) and latest.end_reason == "stopped"
    assert [r.id for r in store.runs_between(at(5), at(6), [device.id])] == [run]
