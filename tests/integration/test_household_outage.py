"""Two real daemons (two Xvfb displays) on one real PostgreSQL server that stops for ~18 s in the
middle (issue 12): after it returns, each device's recorded total matches what was done on it
within 2 s, and no span is stored twice (no uid twice, no two spans of a device overlapping)."""

from __future__ import annotations

import itertools
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from presence.core.model import SpanState
from tests.integration.daemon_process import DaemonProcess, spans_by_device, without_bus
from tests.integration.postgres import PostgresServer
from tests.integration.xserver import XSession, x_server

pytestmark = pytest.mark.integration

OUTAGE = 18.0


@pytest.fixture
def second_session() -> Iterator[XSession]:
    """A second X display, for the second device."""
    with x_server() as server:
        session = XSession(server)
        try:
            yield session
        finally:
            session.close()


def test_two_daemons_ride_out_a_server_outage(
    x_session: XSession,
    second_session: XSession,
    postgres_server: PostgresServer,
    pg_url: str,
    tmp_path: Path,
) -> None:
    sessions = {"alpha": x_session, "beta": second_session}
    daemons = {
        name: DaemonProcess(
            tmp_path / name,
            without_bus(session.env),
            f'[device]\nname = "{name}"\n[sampling]\nflush_every = 2\n'
            f'[database]\nurl = "{pg_url}"\n',
        )
        for name, session in sessions.items()
    }
    began: dict[str, float] = {}
    ended: dict[str, float] = {}
    try:
        for name, daemon in daemons.items():
            daemon.start()
            daemon.wait_for_log("using x11")
            session = sessions[name]
            _, window = session.spawn_xterm(f"App{name.title()}", f"{name} window")
            session.focus(window)  # returns once the focus is confirmed: the truth starts
            began[name] = time.time()
            session.type_text("ab")  # input now: active (idle_after 120 s) for the whole test
        time.sleep(6)
        postgres_server.stop()
        try:
            time.sleep(OUTAGE)
            for daemon in daemons.values():
                assert "spooling spans on disk" in daemon.log()
        finally:
            postgres_server.start()
        for daemon in daemons.values():
            daemon.wait_for_log("replayed", timeout=30)
        time.sleep(3)
        for name, daemon in daemons.items():
            ended[name] = time.time()
            assert daemon.stop(signal.SIGTERM) == 0
    finally:
        for daemon in daemons.values():
            daemon.kill()

    rows = spans_by_device(pg_url)
    for name in daemons:
        mine = rows[name]
        assert len({r.uid for r in mine}) == len(mine)
        ordered = sorted(mine, key=lambda r: r.start_ts)
        overlaps = [
            (a.uid, b.uid) for a, b in itertools.pairwise(ordered) if b.start_ts < a.end_ts - 1e-3
        ]
        assert not overlaps, f"{name}: spans stored twice: {overlaps}"
        app = f"App{name.title()}"
        active = [r for r in mine if r.app == app and SpanState(r.state) is SpanState.ACTIVE]
        recorded = sum(r.end_ts - r.start_ts for r in active)
        truth = ended[name] - began[name]
        assert abs(recorded - truth) <= 2.0, f"{name}: recorded {recorded:.1f} s, truth {truth:.1f}"
