"""Revised spans reach the database: the recorder re-sends them by uid, the store upserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from presence.core.model import InputCounts, Observation, Span, SpanState, WindowInfo
from presence.store import Store
from presence.tracking.recorder import Recorder
from presence.tracking.timeline import Timeline

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
A = WindowInfo("AppAlpha", "alpha")
B = WindowInfo("AppBeta", "beta")
C = WindowInfo("AppGamma", "gamma")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_save_spans_rewrites_start_end_and_state_of_an_existing_uid(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    device = store.device("d", "h", T0)
    span = Span(at(0), at(20), "AppAlpha", "alpha", SpanState.ACTIVE, counts=InputCounts(keys=3))
    store.save_spans(device.id, None, [span])
    revised = Span(at(5), at(10), "AppAlpha", "alpha", SpanState.IDLE, uid=span.uid)
    store.save_spans(device.id, None, [revised])
    rows = store.spans_between(at(-1), at(30))
    assert [(s.uid, s.start, s.end, s.state, s.counts) for s in rows] == [
        (span.uid, at(5), at(10), SpanState.IDLE, InputCounts())
    ]


def test_the_issue_case_is_stored_with_every_second_on_its_app(tmp_path: Path) -> None:
    """Timeline, recorder and SQLite store together on the issue's reproduction."""
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    device = store.device("d", "h", T0)
    timeline = Timeline(120, gap_after=1e9)
    run_id = store.start_run(device.id, 1, "test", T0)
    recorder = Recorder(store, device.id, run_id, flush_every=10)
    last_input = 0.0
    for t, window, typed in [
        (0, A, True),
        (10, A, True),
        (20, B, False),
        (200, C, False),
        (210, C, True),
        (230, C, False),
    ]:
        last_input = t if typed else last_input
        obs = Observation(at(t), t, window, t - last_input, None, False)
        recorder.record(timeline.observe(obs), timeline.open, float(t))
    recorder.record(timeline.close(at(230)), None, 230.0)
    assert recorder.flush(230.0)
    rows = store.spans_between(at(-1), at(300))
    assert [(s.start, s.end, s.app, s.state) for s in rows] == [
        (at(0), at(10), "AppAlpha", SpanState.ACTIVE),
        (at(10), at(20), "AppAlpha", SpanState.IDLE),
        (at(20), at(200), "AppBeta", SpanState.IDLE),
        (at(200), at(210), "AppGamma", SpanState.IDLE),
        (at(210), at(230), "AppGamma", SpanState.ACTIVE),
    ]
