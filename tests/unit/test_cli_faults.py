"""What failed in the running daemon, as `presence status` and `presence doctor` show it (the
counts the daemon publishes in the runtime directory; see presence.core.faults)."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from presence.cli import main
from presence.core.errors import BackendError
from presence.core.faults import Faults
from presence.daemon.session_lock import SessionLock
from presence.health import faults as published
from presence.settings.files import Paths, database_url
from presence.settings.schema import Settings
from presence.store import Store
from presence.store.holder import RecorderLock

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["presence", *args])
    with pytest.raises(SystemExit) as exited:
        main()
        raise SystemExit(0)
    out, _ = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out


@pytest.fixture
def running(private_home: Path) -> Iterator[Paths]:
    """A daemon holding the session lock, whose notifier failed three times in a row..."""
    paths = Paths.resolve()
    lock = SessionLock(paths.lock_file)
    lock.acquire()
    # ... and recording this device in its database (the row `presence status` asks).
    store = Store.open(database_url(Settings(), paths))
    RecorderLock(store.engine).take(
        Settings().device.name, os.getpid(), socket.gethostname(), datetime.now(UTC)
    )
    store.close()
    faults = Faults("notifications")
    for _ in range(3):
        faults.failed(BackendError("notification server gone"), mono=0.0, wall=T0)
    snap = faults.snapshot()
    assert snap is not None
    published.write(published.fault_file(paths.runtime_dir), [snap])
    yield paths
    lock.release()


def test_status_shows_what_fails(
    running: Paths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = cli(capsys, monkeypatch, "status")
    assert code == 0
    assert "problem: notifications: failing (3 in a row" in out
    assert "last: notification server gone" in out
    code, out = cli(capsys, monkeypatch, "status", "--json")
    (fault,) = json.loads(out)["faults"]
    assert fault["part"] == "notifications" and fault["failures"] == fault["in_a_row"] == 3


def test_doctor_shows_what_fails(
    running: Paths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = cli(capsys, monkeypatch, "doctor")
    assert code == 0 and "daemon: notifications: failing (3 in a row" in out
    code, out = cli(capsys, monkeypatch, "doctor", "--json")
    assert json.loads(out)["faults"][0]["last_error"] == "notification server gone"


def test_counts_left_by_a_daemon_that_is_gone_are_not_shown(
    private_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = Paths.resolve()
    paths.runtime_dir.mkdir(mode=0o700)
    faults = Faults("idle time")
    faults.failed(BackendError("gone"), mono=0.0, wall=T0)
    snap = faults.snapshot()
    assert snap is not None
    published.write(published.fault_file(paths.runtime_dir), [snap])  # e.g. after a kill -9
    code, out = cli(capsys, monkeypatch, "status", "--json")
    assert code == 0 and json.loads(out)["faults"] == []
    code, out = cli(capsys, monkeypatch, "doctor", "--json")
    assert json.loads(out)["faults"] == []
