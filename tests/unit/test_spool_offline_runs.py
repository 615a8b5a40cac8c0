"""The spool's offline runs (issue 12): a daemon started while the server was away spools its
spans under a negative local run id; replay creates the run first (once), re-points its spans
to the server's id, and a replay that fails half-way leaves the rest for the next one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presence.core.errors import StorageError
from presence.core.model import Span, SpanState
from presence.store.spool import OfflineRun, Spool

T0 = datetime(2026, 6, 1, 8, tzinfo=UTC)


def span(n: int) -> Span:
    start = T0 + timedelta(seconds=10 * n)
    return Span(start, start + timedelta(seconds=10), "app", None, SpanState.ACTIVE)


def test_offline_runs_are_created_once_and_their_spans_follow(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    first = spool.begin_run(7, 100, "1.0", "ana", T0)
    spool.put(7, first, [span(0), span(1)], T0)
    spool.end_run(first, T0 + timedelta(minutes=1), "stopped")
    second = spool.begin_run(7, 101, "1.0", "ana", T0 + timedelta(minutes=2))
    spool.put(7, second, [span(20)], T0)
    assert first < 0 and second < 0 and first != second

    opened: list[OfflineRun] = []
    saved: list[tuple[int, int | None, list[str]]] = []

    def open_run(run: OfflineRun) -> int:
        opened.append(run)
        return 1000 + len(opened)

    def save(device: int, run: int | None, spans: Sequence[Span]) -> None:
        saved.append((device, run, [s.uid for s in spans]))

    assert spool.replay(save, open_run) == 3
    assert [(r.local, r.pid, r.ended is not None, r.reason) for r in opened] == [
        (first, 100, True, "stopped"),
        (second, 101, False, None),
    ]
    assert spool.opened == {first: 1001, second: 1002}
    assert [(d, r, len(u)) for d, r, u in saved] == [(7, 1001, 2), (7, 1002, 1)]
    assert spool.replay(save, open_run) == 0 and len(opened) == 2  # nothing twice


def test_a_failed_replay_keeps_what_was_not_written(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    local = spool.begin_run(7, 100, "1.0", "ana", T0)
    spool.put(7, local, [span(0)], T0)

    def refused(device: int, run: int | None, spans: Sequence[Span]) -> None:
        raise StorageError("the server is away again")

    with pytest.raises(StorageError):
        spool.replay(refused, lambda run: 55)
    assert spool.state().waiting == 1
    later: list[int | None] = []
    assert spool.replay(lambda d, r, s: later.append(r), lambda run: 99) == 1
    assert later == [55]  # the run was created by the first try: not again


def test_without_open_run_offline_spans_are_saved_without_a_run(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.put(7, spool.begin_run(7, 100, "1.0", "ana", T0), [span(0)], T0)
    runs: list[int | None] = []
    assert spool.replay(lambda d, r, s: runs.append(r)) == 1
    assert runs == [None]
