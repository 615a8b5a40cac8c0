"""Span merging, idle back-dating, gaps: the timeline driven tick by tick with a fake clock."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from presence.core.clock import FakeClock
from presence.core.model import InputCounts, Observation, Span, SpanState, WindowInfo
from presence.tracking.timeline import Timeline

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
A = WindowInfo("AppAlpha", "alpha")
B = WindowInfo("AppBeta", "beta")


class Driver:
    """Feeds a timeline one observation per second, collecting every closed span."""

    def __init__(self, idle_after: float = 120, gap_after: float = 6) -> None:
        self.clock = FakeClock(T0)
        self.timeline = Timeline(idle_after, gap_after)
        self.closed: list[Span] = []
        self.last_input = 0.0  # seconds since T0 of the last input
        self.keys = 0

    def tick(self, window: WindowInfo | None = A, *, locked: bool = False, typed: int = 0) -> None:
        now = (self.clock.now() - T0).total_seconds()
        if typed:
            self.keys += typed
            self.last_input = now
        obs = Observation(
            wall=self.clock.now(),
            mono=self.clock.monotonic(),
            window=window,
            idle_seconds=now - self.last_input,
            counts=InputCounts(keys=self.keys),
            locked=locked,
        )
        self.closed += self.timeline.observe(obs)

    def run(self, seconds: int, window: WindowInfo | None = A, **kw: object) -> None:
        for _ in range(seconds):
            self.tick(window, **kw)  # type: ignore[arg-type]
            self.clock.advance(1)

    def finish(self) -> list[Span]:
        last = self.clock.now() - timedelta(seconds=1)
        return self.closed + self.timeline.close(last)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_ticks_of_one_window_merge_into_one_span() -> None:
    d = Driver()
    d.run(30, typed=1)
    spans = d.finish()
    assert len(spans) == 1
    assert (spans[0].start, spans[0].end, spans[0].app) == (at(0), at(29), "AppAlpha")
    assert spans[0].state is SpanState.ACTIVE


def test_switching_windows_tiles_time_without_gaps() -> None:
    d = Driver()
    d.run(10, A, typed=1)
    d.run(5, B, typed=1)
    d.run(7, A, typed=1)
    spans = d.finish()
    assert [s.app for s in spans] == ["AppAlpha", "AppBeta", "AppAlpha"]
    for before, after in itertools.pairwise(spans):
        assert before.end == after.start
    assert [s.seconds for s in spans] == [10, 5, 6]


def test_title_change_splits_a_span() -> None:
    d = Driver()
    d.run(3, A, typed=1)
    d.run(3, WindowInfo("AppAlpha", "other"), typed=1)
    assert [s.title for s in d.finish()] == ["alpha", "other"]


def test_idle_is_back_dated_to_the_last_input() -> None:
    d = Driver(idle_after=120)
    d.tick(typed=1)  # input at t=0
    d.clock.advance(1)
    d.run(200)  # no input from t=1 on: idle from t=120 on, back-dated to t=0
    spans = d.finish()
    assert [s.state for s in spans] == [SpanState.IDLE]  # relabelled: no input after t=0
    d = Driver(idle_after=120)
    d.run(30, typed=1)  # last input at t=29
    d.run(200)
    spans = d.finish()
    assert [s.state for s in spans] == [SpanState.ACTIVE, SpanState.IDLE]
    assert spans[0].end == at(29) == spans[1].start


def test_return_from_idle_starts_at_the_input() -> None:
    d = Driver(idle_after=10)
    d.run(5, typed=1)  # last input t=4
    d.run(20)  # idle from t=14, back-dated to t=4
    d.run(5, typed=1)  # input at t=25
    spans = d.finish()
    assert [s.state for s in spans] == [SpanState.ACTIVE, SpanState.IDLE, SpanState.ACTIVE]
    assert spans[1].start == at(4) and spans[1].end == at(25) == spans[2].start


def test_locked_screen_is_its_own_state_without_app() -> None:
    d = Driver()
    d.run(5, typed=1)
    d.run(5, locked=True)
    d.run(5, typed=1)
    spans = d.finish()
    assert [(s.state, s.app) for s in spans] == [
        (SpanState.ACTIVE, "AppAlpha"),
        (SpanState.LOCKED, None),
        (SpanState.ACTIVE, "AppAlpha"),
    ]
    assert spans[1].start == at(5) and spans[1].end == at(10)


def test_suspend_ends_the_span_at_the_last_good_tick() -> None:
    d = Driver()
    d.run(10, typed=1)  # ticks t=0..9
    d.clock.suspend(3600)  # wall jumps, monotonic does not
    d.run(5, typed=1)
    spans = d.finish()
    assert len(spans) == 2
    assert spans[0].end == at(9)
    assert spans[1].start == at(3610)
    assert sum(s.seconds for s in spans) == 9 + 4


def test_a_stopped_process_is_a_gap_too() -> None:
    d = Driver(gap_after=6)
    d.run(5, typed=1)
    d.clock.advance(60)  # both clocks: SIGSTOP, or a starved machine
    d.run(5, typed=1)
    spans = d.finish()
    assert spans[0].end == at(4) and spans[1].start == at(65)


def test_wall_clock_step_back_is_a_gap() -> None:
    d = Driver()
    d.run(5, typed=1)
    d.clock.set_wall(d.clock.now() - timedelta(hours=1))
    d.run(3, typed=1)
    spans = d.finish()
    assert len(spans) == 2 and spans[0].end == at(4)


def test_slightly_late_ticks_are_not_gaps() -> None:
    d = Driver(gap_after=6)
    for _ in range(10):
        d.tick(typed=1)
        d.clock.advance(2.5)
    assert len(d.finish()) == 1


def test_input_counts_are_attributed_per_span() -> None:
    d = Driver()
    d.run(3, A, typed=2)
    d.run(3, B, typed=5)
    spans = d.finish()
    # The first tick has no previous count to diff against.
    assert [s.counts.keys for s in spans] == [4, 15]


def test_spans_are_cut_at_the_maximum_length() -> None:
    d = Driver()
    d.timeline.max_span = 100
    d.run(250, typed=1)
    spans = d.finish()
    assert [s.seconds for s in spans] == [100, 100, 49]
    assert spans[0].end == spans[1].start


def test_close_then_observe_starts_fresh() -> None:
    d = Driver()
    d.run(5, typed=1)
    closed = d.timeline.close(at(4))
    assert closed[0].end == at(4)
    assert d.timeline.open is None
    d.clock.advance(100)
    d.run(3, typed=1)
    assert d.timeline.open is not None and d.timeline.open.start == at(105)


def test_blind_ticks_record_nothing() -> None:
    d = Driver()
    d.run(5, typed=1)
    for _ in range(10):
        d.closed += d.timeline.observe(
            Observation(d.clock.now(), d.clock.monotonic(), None, None, None, None)
        )
        d.clock.advance(1)
    d.run(3, typed=1)
    spans = d.finish()
    assert [(s.start, s.end) for s in spans] == [(at(0), at(4)), (at(15), at(17))]


def test_no_window_is_recorded_without_app() -> None:
    d = Driver()
    d.run(3, None, typed=1)
    assert d.finish()[0].app is None
