"""The error policy of the daemon's loops (presence.core.faults) and its published counts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from presence.core.errors import BackendError, ConfigError
from presence.core.faults import RETRY_CAP, FaultBook, Faults, describe, is_fatal
from presence.health import faults as published

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def test_back_off_doubles_from_30_s_to_the_cap() -> None:
    faults = Faults("idle time")
    delays = [faults.failed(BackendError("gone"), mono=0.0, wall=T0) for _ in range(8)]
    assert delays == [30, 60, 120, 240, 480, 600, 600, 600]
    assert not faults.ready(599.0) and faults.ready(600.0)
    faults.succeeded()
    assert faults.ready(0.0) and faults.streak == 0 and faults.failures == 8
    assert faults.failed(BackendError("gone"), mono=0.0, wall=T0) == 30


def test_said_once_at_warning_then_at_the_cap_then_at_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    faults = Faults("the lock state")
    with caplog.at_level(logging.DEBUG, logger="presence.core.faults"):
        for _ in range(10):
            faults.failed(BackendError("bus gone", hint="start it"), mono=0.0, wall=T0)
        faults.succeeded()
    levels = [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records]
    assert [lv for lv, _ in levels].count("WARNING") == 2
    assert levels[0] == ("WARNING", "the lock state failed")
    assert "bus gone (start it); retrying in 30 s" in caplog.records[0].getMessage()
    assert caplog.records[-1].levelname == "INFO"
    assert "works again after 10 failures" in caplog.records[-1].getMessage()
    assert RETRY_CAP == 600


def test_a_bug_is_logged_with_its_traceback() -> None:
    faults = Faults("notifications")
    try:
        raise KeyError("id")
    except KeyError as exc:
        faults.failed(exc, mono=0.0, wall=T0)
    snap = faults.snapshot()
    assert snap is not None and snap.last_error == "KeyError: 'id'"


def test_fatal_errors_are_raised_again_and_not_counted() -> None:
    faults = Faults("the focused window")
    with pytest.raises(ConfigError):
        faults.failed(ConfigError("no such backend"), mono=0.0)
    assert faults.failures == 0 and faults.snapshot() is None
    assert (
        is_fatal(MemoryError()) and not is_fatal(RuntimeError()) and not is_fatal(BackendError("x"))
    )
    assert describe(BackendError("gone", hint="fix")) == "gone (fix)"


def test_a_fault_book_keeps_one_record_per_part() -> None:
    book = FaultBook("enforcement: ")
    book.part("reading the log").failed(BackendError("locked"), mono=5.0, wall=T0)
    book.worked("reading the rules")  # never failed: nothing recorded
    (snap,) = book.snapshots()
    assert snap.name == "enforcement: reading the log" and snap.retry_in == 30
    book.worked("reading the log")
    (snap,) = book.snapshots()
    assert not snap.failing and snap.failures == 1


def test_published_counts_round_trip_and_bad_files_read_as_none(tmp_path: Path) -> None:
    faults = Faults("idle time")
    faults.failed(BackendError("gone"), mono=0.0, wall=T0)
    path = published.fault_file(tmp_path)
    snap = faults.snapshot()
    assert snap is not None
    published.write(path, [snap])
    assert published.read(path) == [snap]
    assert "idle time: failing (1 in a row" in published.describe(snap)
    path.write_text("{not json")
    assert published.read(path) == []
    published.remove(path)
    assert published.read(path) == []
