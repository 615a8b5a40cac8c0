"""`check` and `repair` on real SQLite files written by the store, then damaged on purpose."""

from __future__ import annotations

import sqlite3
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from presence.core.errors import StorageError
from presence.core.model import Span
from presence.store import Store, maintenance
from presence.store.maintenance import RepairReport, check, repair
from presence.store.restore import TableRecovery
from tests.corruption import (
    garble_header,
    garble_span_page,
    make_database,
    page_size,
    truncate_half,
)

COUNT = 1500
STAMP = datetime(2026, 11, 22, 9, 30, 5)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "presence" / "presence.db"


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def spans_after(path: Path) -> dict[str, Span]:
    store = Store.open(url(path), migrate=False, create=False)
    try:
        found = store.spans_between(
            datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        )
    finally:
        store.close()
    return {s.uid: s for s in found}


def span_ids(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        ids = [int(r[0]) for r in conn.execute("SELECT id FROM spans ORDER BY id")]
    conn.close()
    return ids


def table(report: RepairReport, name: str) -> TableRecovery:
    return next(t for t in report.tables if t.table == name)


def assert_rebuilt_and_sound(path: Path, report: RepairReport, damaged: bytes) -> None:
    assert report.rebuilt and report.after is not None and report.after.ok
    assert check(url(path)).ok
    assert [b.name for b in report.backup] == ["presence.db.broken-20261122-093005"]
    assert report.backup[0].read_bytes() == damaged  # the damaged file, as it was
    assert stat.S_IMODE(report.backup[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert table(report, "devices").recovered == 1
    assert table(report, "daemon_runs").recovered == 1


def test_a_sound_database_passes_and_repair_leaves_it_alone(db: Path) -> None:
    make_database(db, 10)
    report = check(url(db))
    assert report.ok and report.problems == ()
    assert any("schema revision" in note for note in report.notes)
    before = db.read_bytes()
    assert repair(url(db), device_name="laptop", stamp=STAMP).rebuilt is False
    assert db.read_bytes() == before and list(db.parent.glob("*.broken-*")) == []


def test_garbage_over_a_page_loses_only_that_page(db: Path) -> None:
    spans = make_database(db, COUNT)
    garble_span_page(db, spans)
    damaged = db.read_bytes()
    found = check(url(db))
    assert not found.ok and found.repairable
    assert any("malformed" in p for p in found.problems)

    report = repair(url(db), device_name="laptop", stamp=STAMP)
    assert_rebuilt_and_sound(db, report, damaged)
    recovered = spans_after(db)
    lost = COUNT - len(recovered)
    per_page = page_size(db) // 60  # a span row takes more than 60 bytes
    assert 0 < lost <= per_page
    assert table(report, "spans").recovered == len(recovered)
    assert table(report, "spans").lost == lost  # counted exactly: ids are dense
    for uid, span in recovered.items():  # what came back is exactly what was written
        original = next(s for s in spans if s.uid == uid)
        assert span == original
    ids = span_ids(db)
    missing = sorted(set(range(1, COUNT + 1)) - set(ids))
    assert missing == list(range(missing[0], missing[0] + lost))  # one page: one run of ids


def test_a_truncated_file_gives_back_what_precedes_the_cut(db: Path) -> None:
    make_database(db, COUNT)
    truncate_half(db)
    damaged = db.read_bytes()
    found = check(url(db))
    assert not found.ok
    assert any("truncated" in p for p in found.problems)

    report = repair(url(db), device_name="laptop", stamp=STAMP)
    assert_rebuilt_and_sound(db, report, damaged)
    assert report.header == "page count corrected"
    spans = table(report, "spans")
    assert spans.tail_unreadable and 0 < spans.recovered < COUNT
    assert span_ids(db) == list(range(1, spans.recovered + 1))  # a prefix, nothing invented


def test_a_garbage_header_is_rebuilt_and_every_row_comes_back(db: Path) -> None:
    spans = make_database(db, COUNT)
    garble_header(db)
    damaged = db.read_bytes()
    found = check(url(db))
    assert not found.ok and "header" in found.problems[0]

    report = repair(url(db), device_name="laptop", stamp=STAMP)
    assert_rebuilt_and_sound(db, report, damaged)
    assert report.header == "rebuilt"
    assert table(report, "spans").recovered == COUNT and table(report, "spans").lost == 0
    assert spans_after(db) == {s.uid: s for s in spans}


def test_rows_whose_device_and_run_were_lost_are_kept(db: Path) -> None:
    make_database(db, 20)
    with sqlite3.connect(db) as conn:  # as if the pages holding them had been lost
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("DELETE FROM daemon_runs")
        conn.execute("DELETE FROM devices")
    conn.close()
    report = repair(url(db), device_name="laptop", stamp=STAMP, force=True)
    assert table(report, "spans").recovered == 20 and table(report, "spans").adjusted == 20
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT id, name FROM devices").fetchall() == [(1, "laptop")]
        assert conn.execute("SELECT count(*) FROM spans WHERE run_id IS NULL").fetchone() == (20,)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


def test_the_sqlite3_shell_recover_is_used_when_it_works(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in shell, not the real one: it answers `.recover` with a dump of the file.

    Covered: when a shell's `.recover` works, repair loads the SQL it prints and rebuilds from
    that file. NOT covered here: the real `.recover` reading damaged pages. Debian 12's shell
    (3.40) is built without SQLITE_ENABLE_DBPAGE_VTAB, so its `.recover` fails; the real shell
    is run by tests/integration/test_data_repair.py::test_repair_with_the_installed_sqlite3_shell
    (repair detects that and reads row by row).
    """
    shell = tmp_path / "bin" / "sqlite3"
    shell.parent.mkdir()
    shell.write_text(
        "#!/bin/sh\n"
        '[ "$1" = ":memory:" ] && exit 0\n'
        f'exec {sys.executable} -c "import sqlite3, sys; '
        'print(\';\\n\'.join(sqlite3.connect(sys.argv[1]).iterdump()))" "$1"\n'
    )
    shell.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shell.parent}:/usr/bin:/bin")
    make_database(db, 50)
    report = repair(url(db), device_name="laptop", stamp=STAMP, force=True)
    assert report.method == "sqlite3 .recover"
    assert table(report, "spans").recovered == 50


def test_repair_is_for_sqlite_only() -> None:
    with pytest.raises(StorageError, match="SQLite files only"):
        repair("postgresql://u@localhost/presence", device_name="x", stamp=STAMP)


def test_check_without_a_database_says_how_to_start(db: Path) -> None:
    with pytest.raises(StorageError) as caught:
        check(url(db))
    assert str(db) in caught.value.message and "presence run" in (caught.value.hint or "")


def test_a_newer_schema_is_a_problem(db: Path) -> None:
    make_database(db, 1)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    report = check(url(db))
    assert not report.ok and not report.repairable
    assert "newer than this presence" in report.problems[0]


def test_the_backup_never_overwrites_an_earlier_one(db: Path) -> None:
    make_database(db, 5)
    first = repair(url(db), device_name="laptop", stamp=STAMP, force=True)
    second = repair(url(db), device_name="laptop", stamp=STAMP, force=True)
    assert first.backup[0].name == "presence.db.broken-20261122-093005"
    assert second.backup[0].name == "presence.db.broken-20261122-093005-2"
    assert first.backup[0].exists()
    assert len(spans_after(db)) == 5


def test_a_failed_rebuild_leaves_the_database_as_it_was(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spans = make_database(db, COUNT)
    garble_span_page(db, spans)
    damaged = db.read_bytes()

    def disk_full(*_: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(maintenance, "copy_tables", disk_full)
    with pytest.raises(StorageError) as caught:
        repair(url(db), device_name="laptop", stamp=STAMP)
    assert "disk is full" in caught.value.message and "left as it was" in caught.value.message
    assert db.read_bytes() == damaged
    names = sorted(p.name for p in db.parent.iterdir())
    assert names == ["presence.db", "presence.db.broken-20261122-093005"]  # no leftovers


def test_an_empty_file_is_a_new_database_not_a_damaged_one(db: Path) -> None:
    db.parent.mkdir(mode=0o700)
    db.touch(mode=0o600)  # what a crash between creating the file and migrating leaves
    report = check(url(db))
    assert report.ok and any("presence run" in note for note in report.notes)
