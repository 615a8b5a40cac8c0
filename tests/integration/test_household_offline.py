"""Offline first (issue 12), against a real PostgreSQL stopped in the middle: the recorder spools
refused batches to a 0600 file on disk, `presence status` says so, and the spool is replayed in
order with no duplicate and no lost span, also by the next daemon when the first one stopped
during the outage."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presence.core.model import Span, SpanState
from presence.store import Store
from presence.store.spool import FILE_NAME, Spool
from presence.tracking.recorder import Recorder
from tests.integration.postgres import PostgresServer
from tests.unit.conftest import private_home
from tests.unit.test_cli import cli

pytestmark = pytest.mark.integration
__all__ = ["private_home"]

T0 = datetime(2026, 6, 1, 8, tzinfo=UTC)


def span(n: int, seconds: float = 10.0) -> Span:
    start = T0 + timedelta(seconds=n * seconds)
    return Span(start, start + timedelta(seconds=seconds), f"app{n % 3}", None, SpanState.ACTIVE)


@pytest.fixture
def shared(pg_url: str, postgres_server: PostgresServer) -> Iterator[Store]:
    store = Store.open(pg_url)
    try:
        yield store
    finally:
        if postgres_server.process is None:
            postgres_server.start()
        store.close()


def test_an_outage_is_spooled_on_disk_and_replayed_once(
    shared: Store,
    postgres_server: PostgresServer,
    private_home: Path,
    pg_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data_dir = private_home / "data" / "presence"
    spool = Spool(data_dir / FILE_NAME)
    device = shared.device("laptop", "h", T0)
    run = shared.start_run(device.id, 1, "t", T0)
    recorder = Recorder(shared, device.id, run, flush_every=0.0, spool=spool)
    truth: dict[str, Span] = {}

    def record(n: int, mono: float) -> None:
        item = span(n)
        truth[item.uid] = item
        recorder.record([item], None, mono)

    for n in range(5):
        record(n, float(n))
    assert len(shared.spans_between(T0, T0 + timedelta(days=1))) == 5

    postgres_server.stop()  # the outage
    for n in range(5, 40):
        record(n, float(n))
    revised = next(
        s for s in truth.values() if s.app == "app1" and s.start > T0 + timedelta(minutes=1)
    )
    revised = revised.copy()
    revised.state = SpanState.IDLE  # the timeline revised a span it closed: same uid, new state
    truth[revised.uid] = revised
    recorder.record([revised], None, 41.0)
    assert recorder.pending == 0, "refused spans left memory for the spool"
    waiting = spool.state()
    assert waiting.waiting == 35 and waiting.offline_since is not None
    assert stat.S_IMODE(spool.path.stat().st_mode) == 0o600

    config = private_home / "cfg" / "presence" / "config.toml"
    config.parent.mkdir()
    config.write_text(f'[device]\nname = "laptop"\n[database]\nurl = "{pg_url}"\n')
    code, out, err = cli(capsys, monkeypatch, "status")
    assert "offline since" in out and "35 spans waiting" in out
    assert code != 0  # the database itself cannot be reached: said as an error, no traceback
    assert "Traceback" not in err

    # The daemon stops during the outage; the server returns; the next daemon replays.
    postgres_server.start()
    after = Recorder(shared, device.id, run, flush_every=0.0, spool=Spool(spool.path))
    late = span(40)
    truth[late.uid] = late
    assert after.record([late], None, 100.0)
    stored = shared.spans_between(T0, T0 + timedelta(days=1))
    assert len(stored) == len({s.uid for s in stored}) == len(truth) == 41  # no duplicate
    assert {s.uid: (s.start, s.end, s.state) for s in stored} == {
        uid: (s.start, s.end, s.state) for uid, s in truth.items()
    }
    assert spool.state().waiting == 0 and spool.state().offline_since is None
    # Replaying again (a crash between commit and delete) changes nothing.
    assert Spool(spool.path).replay(shared.save_spans) == 0
