"""`presence data check|repair` and the daemon, as processes, on damaged database files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from presence.store.maintenance import repair
from presence.store.salvage import recover_with_cli
from tests.corruption import garble_header, garble_span_page, make_database, truncate_half
from tests.integration.components import require
from tests.integration.daemon_process import DaemonProcess, without_bus

pytestmark = pytest.mark.integration

COUNT = 1500


def presence(daemon: DaemonProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """The `presence` CLI with the daemon's private XDG directories."""
    return subprocess.run(
        [sys.executable, "-m", "presence", *args],
        env=daemon.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def daemon(tmp_path: Path) -> DaemonProcess:
    env = without_bus(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    process = DaemonProcess(tmp_path, env)
    process.db_path.parent.mkdir(mode=0o700)
    return process


def test_check_then_repair_then_check(daemon: DaemonProcess) -> None:
    spans = make_database(daemon.db_path, COUNT)
    garble_span_page(daemon.db_path, spans)

    checked = presence(daemon, "data", "check")
    assert checked.returncode == 4
    assert f"{daemon.db_path}: damaged" in checked.stdout
    assert "malformed" in checked.stdout
    assert "presence data repair" in checked.stderr
    assert "Traceback" not in checked.stdout + checked.stderr

    repaired = presence(daemon, "data", "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "Backed up the damaged files:" in repaired.stdout
    backups = list(daemon.db_path.parent.glob("presence.db.broken-*"))
    assert len(backups) == 1 and str(backups[0]) in repaired.stdout
    spans_line = next(ln for ln in repaired.stdout.splitlines() if ln.startswith("  spans:"))
    recovered = int(spans_line.split()[1])
    lost = int(spans_line.split(",")[1].split()[0])
    assert recovered + lost == COUNT and 0 < lost < 100

    assert presence(daemon, "data", "check").returncode == 0
    with sqlite3.connect(daemon.db_path) as db:
        assert db.execute("SELECT count(*) FROM spans").fetchone() == (recovered,)
    db.close()


@pytest.mark.parametrize("damage", [garble_header, truncate_half], ids=["header", "truncated"])
def test_the_daemon_on_a_damaged_database_points_at_repair(
    daemon: DaemonProcess, damage: Callable[[Path], None]
) -> None:
    make_database(daemon.db_path, COUNT)
    damage(daemon.db_path)
    daemon.start(wait_for="presence data repair")
    try:
        assert daemon.proc is not None and daemon.proc.wait(30) == 4
    finally:
        daemon.kill()
    log = daemon.log()
    assert f"the database sqlite:///{daemon.db_path} is damaged" in log
    assert "Traceback" not in log


def test_repair_is_refused_while_the_daemon_records(daemon: DaemonProcess) -> None:
    daemon.start()
    try:
        refused = presence(daemon, "data", "repair", "--force")
        assert daemon.proc is not None
        assert refused.returncode == 8
        assert f"pid {daemon.proc.pid}" in refused.stderr
        assert "systemctl --user stop presence" in refused.stderr
        assert list(daemon.db_path.parent.glob("*.broken-*")) == []
        assert daemon.proc.poll() is None  # untouched, still recording
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
    assert presence(daemon, "data", "repair", "--force").returncode == 0  # and once stopped


def test_the_daemon_reports_damage_inside_the_file_after_start(daemon: DaemonProcess) -> None:
    """Damage the schema read cannot see is found by the check that runs after READY."""
    spans = make_database(daemon.db_path, COUNT)
    garble_span_page(daemon.db_path, spans)
    daemon.start(wait_for="the database is damaged")
    try:
        assert daemon.proc is not None and daemon.proc.poll() is None  # still running
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
    log = daemon.log()
    assert "presence data repair" in log
    assert "Traceback" not in log


def test_repair_with_the_installed_sqlite3_shell(tmp_path: Path) -> None:
    """The real `sqlite3` shell, not a stand-in: repair uses its `.recover` exactly when that
    works here, and else reads row by row, losing nothing to the attempt.

    Not covered here: a successful real `.recover` where the shell lacks it. Debian 12's shell
    (3.40) is built without SQLITE_ENABLE_DBPAGE_VTAB, so its `.recover` fails ("SQL logic
    error"); loading what a working `.recover` prints is tested in
    tests/unit/test_maintenance.py with a stand-in shell.
    """
    require("sqlite3")
    probe = subprocess.run(
        ["sqlite3", ":memory:", ".recover"], capture_output=True, timeout=30, check=False
    )
    works = probe.returncode == 0 and b"error" not in probe.stderr.lower()
    db = tmp_path / "presence" / "presence.db"
    spans = make_database(db, COUNT)
    garble_span_page(db, spans)

    into = tmp_path / "recovered.db"
    assert recover_with_cli(db, into) is works
    if works:
        with sqlite3.connect(into) as rebuilt:
            (count,) = rebuilt.execute("SELECT count(*) FROM spans").fetchone()
        rebuilt.close()
        assert 0 < count <= COUNT
    else:
        assert not into.exists()  # a failed attempt leaves nothing behind

    report = repair(f"sqlite:///{db}", device_name="laptop", stamp=datetime(2026, 11, 22, 9, 30))
    assert report.method == ("sqlite3 .recover" if works else "row by row")
    spans_table = next(t for t in report.tables if t.table == "spans")
    assert 0 < spans_table.recovered < COUNT
    with sqlite3.connect(db) as repaired:
        assert repaired.execute("SELECT count(*) FROM spans").fetchone() == (spans_table.recovered,)
        assert repaired.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    repaired.close()
