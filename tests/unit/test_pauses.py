"""The pause services on a real SQLite file: what `presence pause` and `resume` write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from presence.store import Store
from presence.tracking import pauses

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def test_pause_then_resume(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    assert pauses.resume(store, "laptop", T0) == 0  # a device that never recorded: nothing
    made = pauses.pause(store, "laptop", T0, None, "  " + "x" * 300 + "  ")
    assert made.reason == "x" * 255 and made.until is None and made.start == T0
    device = store.find_device("laptop")
    assert device is not None and made.device_id == device.id
    assert store.active_pause(device.id, T0 + timedelta(hours=5)) is not None
    assert pauses.resume(store, "laptop", T0 + timedelta(hours=5)) == 1
    assert store.active_pause(device.id, T0 + timedelta(hours=5, seconds=1)) is None
    assert pauses.resume(store, "laptop", T0 + timedelta(hours=6)) == 0


def test_a_timed_pause_ends_by_itself(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    until = T0 + timedelta(minutes=30)
    pauses.pause(store, "laptop", T0, until, "dinner")
    device = store.find_device("laptop")
    assert device is not None
    assert store.active_pause(device.id, until - timedelta(seconds=1)) is not None
    assert store.active_pause(device.id, until) is None
    assert pauses.resume(store, "laptop", until) == 0
