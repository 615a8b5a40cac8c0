"""One Store used from several threads at once, as the daemon does (sampler, timer, db-check):
the thread contract of `Queries` on a real SQLite file."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from presence.core.model import Span, SpanState
from presence.store import RuleStore, Store

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def test_three_threads_share_one_store(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    device = store.device("laptop", "host", T0)
    run = store.start_run(device.id, 1, "0", T0)
    rules = RuleStore(store)
    errors: list[BaseException] = []
    go = threading.Barrier(3)

    def guarded(work: Callable[[], None]) -> None:
        try:
            go.wait()
            work()
        except BaseException as exc:
            errors.append(exc)

    def sampler() -> None:
        for i in range(50):
            at = T0 + timedelta(seconds=i)
            span = Span(at, at + timedelta(seconds=1), "xterm", None, SpanState.ACTIVE)
            store.save_spans(device.id, run, [span])
            store.heartbeat(run, at)

    def timer() -> None:
        for i in range(50):
            rules.log(T0 + timedelta(seconds=i), "night", "nudge", device_id=device.id)
            rules.events_after(0, ("snooze", "override"))

    def checker() -> None:
        for _ in range(10):
            assert store.quick_check() == []

    threads = [threading.Thread(target=guarded, args=(w,)) for w in (sampler, timer, checker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.spans_between(T0, T0 + timedelta(minutes=5))) == 50
    assert len(rules.events_between(T0, T0 + timedelta(minutes=5))) == 50
    store.close()
