"""One recorder per database (issue 11): the row the database holds for each device."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from presence.core.errors import AlreadyRunningError, ExitCode
from presence.store import Store
from presence.store.holder import STALE_AFTER, RecorderLock

NOW = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.fixture
def lock(tmp_path: Path) -> RecorderLock:
    return RecorderLock(Store.open(f"sqlite:///{tmp_path / 'p.db'}").engine)


def test_a_second_daemon_is_refused_naming_pid_host_and_since(lock: RecorderLock) -> None:
    held = lock.take("laptop", os.getpid(), "here", NOW)
    with pytest.raises(AlreadyRunningError) as refused:
        lock.take("laptop", 4242, "there", NOW + timedelta(seconds=5))
    assert refused.value.exit_code == ExitCode.ALREADY_RUNNING
    assert f"pid {os.getpid()} on here" in refused.value.message
    assert "since 2026-11-29 20:00:00 UTC" in refused.value.message
    assert refused.value.hint and "device.name" in refused.value.hint
    assert lock.holder("laptop") == held
    # another device name in the same database is recorded by its own daemon
    assert lock.take("desktop", 4242, "there", NOW).device == "desktop"


def test_a_live_holder_on_this_host_is_not_taken_over_before_its_heartbeat_ages(
    lock: RecorderLock,
) -> None:
    lock.take("laptop", os.getpid(), "here", NOW)
    with pytest.raises(AlreadyRunningError):
        lock.take("laptop", 4242, "here", NOW + timedelta(seconds=STALE_AFTER - 1))


def test_a_stale_holder_is_taken_over(lock: RecorderLock) -> None:
    old = lock.take("laptop", 4242, "elsewhere", NOW)
    later = NOW + timedelta(seconds=STALE_AFTER + 1)
    new = lock.take("laptop", 777, "here", later)
    assert new.token != old.token and lock.holder("laptop") == new
    assert not lock.refresh(old, later)  # the old holder learns it lost the row
    lock.release(old)  # and cannot release the new holder's row
    assert lock.holder("laptop") == new


def test_a_dead_pid_on_this_host_is_taken_over_at_once(lock: RecorderLock) -> None:
    lock.take("laptop", _dead_pid(), "here", NOW)
    assert lock.take("laptop", os.getpid(), "here", NOW + timedelta(seconds=1)).pid == os.getpid()


def test_refresh_and_release(lock: RecorderLock) -> None:
    held = lock.take("laptop", os.getpid(), "here", NOW)
    later = NOW + timedelta(seconds=STALE_AFTER * 3)
    assert lock.refresh(held, later)
    current = lock.holder("laptop")
    assert current is not None and current.heartbeat == later
    lock.release(held)
    assert lock.holder("laptop") is None
    assert lock.take("laptop", 4242, "there", later).pid == 4242


def test_a_new_database_has_the_table(tmp_path: Path) -> None:
    created = Store.open(f"sqlite:///{tmp_path / 'new.db'}")
    assert "recorders" in inspect(created.engine).get_table_names()


def test_status_and_repair_name_the_daemon_the_database_names(private_home: Path) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from presence.cli.app import app  # noqa: PLC0415
    from presence.settings.files import Paths  # noqa: PLC0415

    paths = Paths.resolve()
    paths.data_dir.mkdir(parents=True)
    store = Store.open(f"sqlite:///{paths.default_database}")
    from presence.settings.files import load_settings  # noqa: PLC0415

    device = load_settings(paths.config_file).device.name
    RecorderLock(store.engine).take(device, os.getpid(), "elsewhere", datetime.now(UTC))
    runner = CliRunner()
    status = runner.invoke(app, ["status", "--json"])
    assert status.exit_code == 0 and f'"pid": {os.getpid()}' in status.output
    repair = runner.invoke(app, ["data", "repair", "--force"])
    assert isinstance(repair.exception, AlreadyRunningError)
    assert f"pid {os.getpid()} on elsewhere" in repair.exception.message


def test_status_after_kill_9_does_not_show_the_previous_runs_last_span(tmp_path: Path) -> None:
    from presence.core.model import Span, SpanState  # noqa: PLC0415
    from presence.health.status import daemon_status  # noqa: PLC0415

    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    device = store.device("laptop", "here", NOW)
    first = store.start_run(device.id, _dead_pid(), "test", NOW)
    store.save_spans(
        device.id,
        first,
        [Span(NOW, NOW + timedelta(minutes=1), "firefox", None, SpanState.ACTIVE)],
    )
    later = NOW + timedelta(minutes=5)
    store.start_run(device.id, os.getpid(), "test", later)  # restarted; nothing flushed yet
    status = daemon_status(store, "laptop", os.getpid(), later + timedelta(seconds=3))
    assert status.running and status.current is None


def test_the_latest_span_at_a_focus_change_is_the_new_one(tmp_path: Path) -> None:
    from presence.core.model import Span, SpanState  # noqa: PLC0415
    from presence.tracking.recorder import Recorder  # noqa: PLC0415

    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    device = store.device("laptop", "here", NOW)
    change = NOW + timedelta(seconds=3)
    old = Span(NOW, change, "xterm", None, SpanState.ACTIVE)
    new = Span(change, change, "firefox", None, SpanState.ACTIVE)  # just opened
    run = store.start_run(device.id, os.getpid(), "test", NOW)
    recorder = Recorder(store, device.id, run, 10.0)
    assert recorder.record([old], new, 3.0)  # written at once, not at the next flush
    latest = store.latest_span(device.id)
    assert latest is not None and latest.app == "firefox"


def test_a_row_of_this_very_process_is_taken_over(lock: RecorderLock) -> None:
    old = lock.take("laptop", os.getpid(), "here", NOW)  # e.g. a daemon built twice in a test
    new = lock.take("laptop", os.getpid(), "here", NOW + timedelta(seconds=1))
    assert new.token != old.token and lock.holder("laptop") == new
