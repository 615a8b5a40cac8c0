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
        """Every span in the order first seen; a span handed back revised counts once, latest.

        Not sorted by start: a wall-clock step back makes later spans start earlier.
        """
        last = self.clock.now() - timedelta(seconds=1)
        latest = {s.uid: s for s in self.closed + self.timeline.close(last)}
        return list(latest.values())


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


def observe_script(idle_after: float, script: list[tuple[float, WindowInfo, bool]]) -> list[Span]:
    """Observations at the given seconds: (time, focused window, input at that instant)."""
    timeline = Timeline(idle_after, gap_after=1e9)
    spans: dict[str, Span] = {}
    last_input = 0.0
    for t, window, typed in script:
        last_input = t if typed else last_input
        obs = Observation(at(t), t, window, t - last_input, InputCounts(), False)
        spans.update((s.uid, s) for s in timeline.observe(obs))
    spans.update((s.uid, s) for s in timeline.close(at(script[-1][0])))
    return sorted(spans.values(), key=lambda s: s.start)


def test_idle_after_a_focus_change_without_input_keeps_every_app() -> None:
    """The issue's case: idle back-dated across focus changes splits spans, never relabels."""
    C = WindowInfo("AppGamma", "gamma")
    script = [(0, A, True), (10, A, True), (20, B, False), (200, C, False)]
    spans = observe_script(120, [*script, (210, C, True), (230, C, False)])
    assert [(s.start, s.end, s.app, s.state) for s in spans] == [
        (at(0), at(10), "AppAlpha", SpanState.ACTIVE),
        (at(10), at(20), "AppAlpha", SpanState.IDLE),
        (at(20), at(200), "AppBeta", SpanState.IDLE),
        (at(200), at(210), "AppGamma", SpanState.IDLE),
        (at(210), at(230), "AppGamma", SpanState.ACTIVE),
    ]


def test_a_revised_span_is_handed_back_with_its_id() -> None:
    timeline = Timeline(120, gap_after=1e9)
    first = timeline.observe(Observation(at(0), 0, A, 0, None, False))
    assert first == []
    closed = timeline.observe(Observation(at(20), 20, B, 10, None, False))
    assert [(s.app, s.state, s.end) for s in closed] == [("AppAlpha", SpanState.ACTIVE, at(20))]
    revised = timeline.observe(Observation(at(200), 200, B, 190, None, False))
    assert [(s.uid == closed[0].uid, s.state, s.start, s.end) for s in revised] == [
        (True, SpanState.ACTIVE, at(0), at(10)),
        (False, SpanState.IDLE, at(10), at(20)),
    ]
    assert closed[0].end == at(20)  # what was handed out is a copy: never changed afterwards
    open_span = timeline.open
    assert open_span is not None
    assert (open_span.app, open_span.state, open_span.start) == ("AppBeta", SpanState.IDLE, at(20))


def test_idle_is_not_back_dated_across_a_lock() -> None:
    timeline = Timeline(120, gap_after=1e9)
    spans: dict[str, Span] = {}
    for t, window, idle, locked in [
        (0, A, 0, False),
        (50, A, 50, True),
        (100, B, 100, False),  # unlocked without input
        (130, B, 130, False),  # idle noticed: back-dated to t=0, but no further than t=100
    ]:
        obs = Observation(at(t), t, window, idle, None, locked)
        spans.update((s.uid, s) for s in timeline.observe(obs))
    spans.update((s.uid, s) for s in timeline.close(at(130)))
    assert [(s.start, s.app, s.state) for s in sorted(spans.values(), key=lambda s: s.start)] == [
        (at(0), "AppAlpha", SpanState.ACTIVE),
        (at(50), None, SpanState.LOCKED),
        (at(100), "AppBeta", SpanState.IDLE),
    ]
