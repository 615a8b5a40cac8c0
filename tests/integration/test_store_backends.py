"""The store, rules, reports and `data check` on every backend: SQLite files and a real PostgreSQL.

Parametrized like aw-core's datastore tests: each test takes `store_url`, once per backend. The
PostgreSQL half needs the server from tests/integration/postgres.py (skipped with the package
to install, or failed under CI=true, when it is missing).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from presence.core.model import Span, SpanState
from presence.store import RuleStore, Store, database, maintenance
from presence.store.holder import RecorderLock
from presence.store.reporting import ReportQueries
from presence.store.schema import metadata
from tests.unit.conftest import private_home
from tests.unit.test_cli import cli
from tests.unit.test_household_report import check_totals, fill

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
BACKENDS = ["sqlite", "postgresql"]
__all__ = ["private_home"]  # the fixture, shared with the unit tests


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of a new empty database on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'presence.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url)
    try:
        yield opened
    finally:
        opened.close()


def test_migrations_build_exactly_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, metadata) == []
        assert context.get_current_revision() == database.HEAD_REVISION


def test_alembic_from_empty_builds_the_declared_schema(store_url: str) -> None:
    engine = database.create(store_url)
    try:
        database.upgrade(engine)  # Alembic itself, script by script (not create_if_empty)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, metadata) == []
            assert context.get_current_revision() == database.HEAD_REVISION
    finally:
        engine.dispose()


def test_upsert_by_uid_is_idempotent(store: Store) -> None:
    device = store.device("laptop", "host", T0)
    run = store.start_run(device.id, 1, "0", T0)
    span = Span(at(0), at(10), "A", "t", SpanState.ACTIVE)
    store.save_spans(device.id, run, [span])
    span.end = at(25)
    store.save_spans(device.id, run, [span])
    store.save_spans(device.id, run, [span])
    spans = store.spans_between(at(0), at(100))
    assert len(spans) == 1 and spans[0].end == at(25) and spans[0].uid == span.uid


def test_title_usage_clips_spans_to_the_period_in_sql(store: Store) -> None:
    device = store.device("laptop", "host", T0)
    store.save_spans(
        device.id,
        None,
        [
            Span(at(0), at(100), "A", None, SpanState.ACTIVE),
            Span(at(100), at(160), "B", None, SpanState.ACTIVE),
            Span(at(160), at(400), "B", None, SpanState.IDLE),
            Span(at(400), at(500), None, None, SpanState.LOCKED),
        ],
    )
    queries = ReportQueries.of(store)
    usage = {(u.app, u.state): u.seconds for u in queries.title_usage(at(50), at(450), [device.id])}
    assert usage == {
        ("A", "active"): 50,
        ("B", "active"): 60,
        ("B", "idle"): 240,
        (None, "locked"): 50,
    }
    other = store.device("desktop", "host2", T0)
    assert list(queries.title_usage(at(0), at(500), [other.id])) == []


def test_household_totals_add_up_to_the_report(store: Store) -> None:
    # issue 12: per device, person and zone, grouped in SQL (spans joined to their run)
    fill(store)
    found = check_totals(store)
    assert [p.name for p in found.people] == ["ana", "ben", None]


def test_pauses_and_runs(store: Store) -> None:
    device = store.device("laptop", "host", T0)
    store.add_pause(device.id, at(0), at(60), "lunch")
    assert store.active_pause(device.id, at(30)) is not None
    assert store.active_pause(device.id, at(60)) is None
    run = store.start_run(device.id, 123, "0.1", at(0))
    store.heartbeat(run, at(10))
    store.end_run(run, at(20), "stopped")
    latest = store.latest_run(device.id)
    assert latest is not None and latest.ended == at(20) and latest.end_reason == "stopped"
    assert [r.id for r in store.runs_between(at(5), at(6), [device.id])] == [run]


def test_rules_and_the_enforcement_log(store: Store) -> None:
    rules = RuleStore(store)
    fields = {"days": "daily", "start": "22:00", "end": "06:00", "action": "lock"}
    rules.add_rule("evening", "tech-free", fields, True, T0)
    assert [r.name for r in rules.rules()] == ["evening"]
    before = rules.fingerprint()
    rules.replace_rule("evening", {**fields, "start": "21:00"}, True, at(1))
    assert rules.fingerprint() != before
    event = rules.log(at(2), "evening", "warning", occurrence=(at(0), at(60)))
    assert [e.id for e in rules.events_after(0, ["warning"])] == [event]
    assert rules.delete_rule("evening") and rules.rules() == []


def test_one_recorder_per_device(store: Store) -> None:
    lock = RecorderLock(store.engine)
    held = lock.take("laptop", 1, "host-a", T0)
    with pytest.raises(Exception, match="host-a"):
        lock.take("laptop", 2, "host-b", at(1))
    assert lock.refresh(held, at(5))
    lock.release(held)
    assert lock.holder("laptop") is None


def test_data_check_finds_a_sound_database(store: Store, store_url: str) -> None:
    report = maintenance.check(store_url)
    assert report.problems == ()


def test_processes_migrating_one_empty_database_at_once(store_url: str) -> None:
    """Two processes open one empty database at the same moment: both succeed, one schema."""
    script = (
        "import sys, time\n"
        "from presence.store import Store\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "Store.open(sys.argv[1]).close()\n"
    )
    start_at = str(datetime.now(UTC).timestamp() + 1.5)  # both past their imports by then
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, store_url, start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for child in children:
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
    engine = database.create(store_url)
    try:
        assert database.current_revision(engine) == database.HEAD_REVISION
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    finally:
        engine.dispose()


@pytest.fixture
def configured(
    store_url: str, private_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Store]:
    """A config naming `store_url` and the device `laptop`, with a week of spans recorded."""
    monkeypatch.setenv("COLUMNS", "200")
    config = private_home / "cfg" / "presence" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        f'[device]\nname = "laptop"\n[reports]\ntimezone = "UTC"\n[database]\nurl = "{store_url}"\n'
    )
    store = Store.open(store_url)
    device = store.device("laptop", "h", T0)
    week = datetime(2026, 6, 1, 10, tzinfo=UTC)  # a Monday
    store.save_spans(
        device.id,
        None,
        [
            Span(
                week + timedelta(days=n),
                week + timedelta(days=n, minutes=30),
                "firefox",
                "t",
                SpanState.ACTIVE,
            )
            for n in range(7)
        ],
    )
    try:
        yield store
    finally:
        store.close()


def test_cli_reports_rules_and_check(
    configured: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = cli(capsys, monkeypatch, "report", "--date", "2026-06-03", "-f", "json")
    assert code == 0, err
    assert json.loads(out)["totals"]["active_seconds"] == 7 * 30 * 60
    code, out, err = cli(
        capsys,
        monkeypatch,
        *("rules", "add", "device-free", "dinner", "--days", "daily"),
        *("--start", "18:00", "--end", "19:00"),
    )
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, "rules", "list", "--json")
    assert code == 0, err
    assert [r["name"] for r in json.loads(out)] == ["dinner"]
    code, out, err = cli(capsys, monkeypatch, "data", "check")
    assert code == 0, out + err
