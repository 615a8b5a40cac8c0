"""One recorder per database (issue 11): two daemons with different runtime directories on one
database, the second refused naming the first; a stale row (old heartbeat, pid gone) taken
over."""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from pathlib import Path

import pytest

from tests.integration.daemon_process import DaemonProcess, without_bus

pytestmark = pytest.mark.integration


def _env() -> dict[str, str]:
    env = without_bus(os.environ)
    env.pop("DISPLAY", None)  # no desktop needed: the lock is taken before any backend
    env.pop("WAYLAND_DISPLAY", None)
    return env


def test_a_second_daemon_on_the_same_database_is_refused(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    config = f'[database]\nurl = "sqlite:///{database}"\n'
    first = DaemonProcess(tmp_path / "one", _env(), config=config)
    second = DaemonProcess(tmp_path / "two", _env(), config=config)  # its own runtime dir
    first.start()
    try:
        second.start(wait_for="another presence daemon records device")
        assert second.proc is not None and second.proc.wait(20) == 8
        assert first.proc is not None
        assert f"pid {first.proc.pid} on {socket.gethostname()}, since" in second.log()
        assert "Traceback" not in second.log()
        assert first.proc.poll() is None  # the first records on
        with sqlite3.connect(database) as db:
            runs = db.execute("SELECT pid FROM daemon_runs").fetchall()
        assert runs == [(first.proc.pid,)]  # the refused one never started a run
    finally:
        first.kill()


def test_a_stale_row_is_taken_over(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    config = f'[database]\nurl = "sqlite:///{database}"\n'
    first = DaemonProcess(tmp_path / "one", _env(), config=config)
    first.start()
    first.kill()  # kill -9: the row stays behind, its pid gone
    with sqlite3.connect(database) as db:
        (pid,) = db.execute("SELECT pid FROM recorders").fetchone()
        # make it look like a holder on another host that stopped beating long ago
        db.execute(
            "UPDATE recorders SET hostname = 'elsewhere', heartbeat = ?", (time.time() - 3600,)
        )
    second = DaemonProcess(tmp_path / "two", _env(), config=config)
    second.start()
    try:
        assert second.proc is not None
        with sqlite3.connect(database) as db:
            row = db.execute("SELECT pid, hostname FROM recorders").fetchone()
        assert row == (second.proc.pid, socket.gethostname()) and row[0] != pid
        assert second.stop() == 0
    finally:
        second.kill()
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM recorders").fetchone() == (0,)  # released
