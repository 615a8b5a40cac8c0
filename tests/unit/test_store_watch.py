"""Change detection for per-tick readers (presence/store/watch.py, issue 9): a write from
another connection (the CLI) is noticed at the next look; with nothing committed, no query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from presence.enforce.ruleset import RuleSet
from presence.rulebook import manage
from presence.rules.model import RuleKind, parse_rule
from presence.store import RuleStore, Store
from presence.store.watch import REREAD_EVERY, Changes, PauseWatch, data_version

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'p.db'}"


def test_a_commit_from_another_process_is_seen_once(url: str) -> None:
    daemon = Store.open(url)
    cli = Store.open(url, migrate=False)  # another engine: another process's connections
    device = cli.device("laptop", "host", T0)
    changes = Changes(daemon.engine)
    assert changes.stale(0.0)  # the first look always reads
    assert not changes.stale(1.0)
    cli.add_pause(device.id, T0, None, "call")
    assert changes.stale(2.0)
    assert not changes.stale(3.0)
    assert changes.stale(3.0 + REREAD_EVERY)  # the bound on what the counter cannot see
    daemon.close()
    cli.close()


def test_a_failed_query_is_retried(url: str) -> None:
    store = Store.open(url)
    changes = Changes(store.engine)
    assert changes.stale(0.0)
    changes.again()
    assert changes.stale(1.0)
    assert not changes.stale(2.0)
    store.close()


def test_databases_without_a_counter_are_always_read() -> None:
    store = Store.open("sqlite://")  # in memory: no file for a second connection
    assert data_version(store.engine) is None
    changes = Changes(store.engine)
    assert changes.stale(0.0) and changes.stale(0.0)
    store.close()


class CountingStore(Store):
    """A real store that counts its active_pause queries."""

    queries = 0

    def active_pause(self, device_id: int, now: datetime) -> Any:
        self.queries += 1
        return super().active_pause(device_id, now)


def test_pause_watch_queries_only_when_something_changed(url: str) -> None:
    daemon = CountingStore.open(url)
    assert isinstance(daemon, CountingStore)
    cli = Store.open(url, migrate=False)
    device = cli.device("laptop", "host", T0)
    watch = PauseWatch(daemon, device.id)
    assert watch.active(T0, 0.0) is None
    for tick in range(1, 30):
        assert watch.active(T0 + timedelta(seconds=tick), float(tick)) is None
    assert daemon.queries == 1  # nothing committed: no query

    # `presence pause 10s` from the CLI: seen at the next tick
    cli.add_pause(device.id, T0 + timedelta(seconds=30), T0 + timedelta(seconds=40), "call")
    pause = watch.active(T0 + timedelta(seconds=31), 31.0)
    assert pause is not None and pause.reason == "call"
    assert watch.active(T0 + timedelta(seconds=35), 35.0) is not None
    assert daemon.queries == 2
    # it runs out with no write: noticed from its end, read again once
    assert watch.active(T0 + timedelta(seconds=40), 40.0) is None
    assert watch.active(T0 + timedelta(seconds=41), 41.0) is None
    assert daemon.queries == 3

    # `presence pause` then `presence resume`: each noticed at the next tick
    cli.add_pause(device.id, T0 + timedelta(seconds=50), None, "lunch")
    assert watch.active(T0 + timedelta(seconds=51), 51.0) is not None
    cli.end_pauses(device.id, T0 + timedelta(seconds=55))
    assert watch.active(T0 + timedelta(seconds=56), 56.0) is None
    daemon.close()
    cli.close()


def test_pause_watch_reads_again_after_a_failure(url: str, monkeypatch: Any) -> None:
    store = CountingStore.open(url)
    assert isinstance(store, CountingStore)
    device = store.device("laptop", "host", T0)
    watch = PauseWatch(store, device.id)
    real = Store.active_pause

    def broken(self: Store, device_id: int, now: datetime) -> Any:
        raise RuntimeError("database gone")

    monkeypatch.setattr(Store, "active_pause", broken)
    with pytest.raises(RuntimeError):
        watch.active(T0, 0.0)
    monkeypatch.setattr(Store, "active_pause", real)
    assert watch.active(T0 + timedelta(seconds=1), 1.0) is None
    assert store.queries == 2
    store.close()


class CountingRules(RuleStore):
    """Real rule queries, counted."""

    reads = 0

    def fingerprint(self) -> tuple[Any, ...]:
        self.reads += 1
        return super().fingerprint()


def test_the_rule_set_reads_the_rules_only_after_a_change(url: str) -> None:
    daemon = Store.open(url)
    cli = RuleStore(Store.open(url, migrate=False))
    rules = CountingRules(daemon)
    ruleset = RuleSet(rules)
    ruleset.refresh(T0, force=True)
    for tick in range(1, 20):
        ruleset.refresh(T0 + timedelta(seconds=tick))
    assert rules.reads == 1 and ruleset.rules == []

    # `presence rules add` from the CLI: in force at the next tick
    night = {"days": "daily", "start": "22:00", "end": "23:00"}
    manage.add_rule(cli, parse_rule("night", RuleKind("tech-free"), night), T0)
    ruleset.refresh(T0 + timedelta(seconds=20))
    assert [r.name for r in ruleset.rules] == ["night"]
    ruleset.refresh(T0 + timedelta(seconds=21))
    assert rules.reads == 2
