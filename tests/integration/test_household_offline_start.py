"""Offline first, fully (issue 12): the real daemon (Xvfb) starts while its PostgreSQL server is
stopped, records into the on-disk spool and enforces a rule from its on-disk copy of the rules;
when the server returns, the next daemon replays everything once and the offline run is created
(and closed) on the server."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from presence.core.model import SpanState
from presence.store import Store
from presence.store.offline import RULES_FILE, STATE_FILE
from presence.store.schema import daemon_runs
from presence.store.spool import FILE_NAME, Spool
from tests.integration.daemon_process import DaemonProcess, file_mode, without_bus
from tests.integration.postgres import PostgresServer
from tests.unit.conftest import private_home
from tests.unit.test_cli import cli

pytestmark = pytest.mark.integration
__all__ = ["private_home"]


def wait(predicate: Callable[[], bool], limit: float, what: str, daemon: DaemonProcess) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not within {limit} s\n{daemon.log()}"
        time.sleep(0.2)


def test_a_daemon_starts_offline_and_its_spool_is_replayed_once(
    x_session: Any,
    postgres_server: PostgresServer,
    pg_url: str,
    private_home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = tmp_path / "locked"
    config = (
        '[device]\nname = "desk"\n[reports]\ntimezone = "UTC"\n'
        f'[database]\nurl = "{pg_url}"\n[rules]\nlock_command = "touch {marker}"\n'
    )
    owner = private_home / "cfg" / "presence" / "config.toml"
    owner.parent.mkdir()
    owner.write_text(config.replace('"desk"', '"owner"'))
    now = datetime.now(UTC)
    code, _, err = cli(
        capsys,
        monkeypatch,
        *("rules", "add", "device-free", "desk-free", "--device", "desk"),
        *("--days", "daily", "--action", "lock", "--grace", "0s"),
        *("--start", (now - timedelta(minutes=1)).strftime("%H:%M")),
        *("--end", (now + timedelta(hours=1)).strftime("%H:%M")),
    )
    assert code == 0, err
    _, window = x_session.spawn_xterm("AppOffline", "offline window")
    daemon = DaemonProcess(tmp_path / "desk", without_bus(x_session.env), config)
    data_dir = daemon.root / "data" / "presence"
    daemon.start()  # online: the local state and the rule copy are written
    try:
        wait(marker.exists, 20, "the rule enforced online", daemon)
        assert daemon.stop() == 0
        assert file_mode(data_dir / STATE_FILE) == 0o600
        assert file_mode(data_dir / RULES_FILE) == 0o600
        assert "desk-free" in (data_dir / RULES_FILE).read_text()
        marker.unlink()

        postgres_server.stop()  # the outage: the next daemon starts without its server
        daemon.start(wait_for="starting offline")
        daemon.wait_for_log("recording device")
        x_session.focus(window)
        began = time.time()
        while time.time() - began < 4:
            x_session.type_text("ab")
            time.sleep(0.5)
        wait(marker.exists, 20, "the rule enforced from the copy, offline", daemon)
        assert daemon.stop() == 0
        spool = Spool(data_dir / FILE_NAME)
        waiting = spool.state()
        assert waiting.waiting > 0 and waiting.offline_since is not None
        assert file_mode(spool.path) == 0o600
    finally:
        daemon.kill()
        if postgres_server.process is None:
            postgres_server.start()

    daemon.start()  # the server is back: this daemon replays the spool first
    try:
        daemon.wait_for_log("replayed")
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    assert Spool(data_dir / FILE_NAME).state().waiting == 0
    store = Store.open(pg_url)
    try:
        device = store.find_device("desk")
        assert device is not None
        far = datetime.now(UTC) + timedelta(hours=1)
        stored = [s for s in store.spans_between(far - timedelta(days=1), far)]
        with store.engine.connect() as c:
            runs = c.execute(select(daemon_runs).where(daemon_runs.c.device_id == device.id)).all()
    finally:
        store.close()
    assert len(stored) == len({s.uid for s in stored})  # no duplicate
    assert len(runs) == 3 and all(r.ended is not None for r in runs)  # the offline one too
    offline_run = sorted(runs, key=lambda r: r.started)[1]
    offline = [s for s in stored if offline_run.started <= s.start.timestamp() <= offline_run.ended]
    active = sum(
        s.seconds for s in offline if s.app == "AppOffline" and s.state is SpanState.ACTIVE
    )
    assert active >= 3.0, f"the offline typing was recorded and replayed ({active:.1f} s)"
    assert all(r.person for r in runs)
