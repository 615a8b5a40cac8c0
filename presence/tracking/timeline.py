"""Turning ticks into spans: a pure state machine, driven by observations, with no I/O.

    (no span) --tick--> open span --same app/title/state--> extended to this tick
                           |--change--> closed at the boundary; a new span opens there
                           |--gap (suspend, stop, clock step)--> closed at the last good tick
                           |--blind tick (no capability answered)--> closed at the last tick
                           '--close(at) (pause, shutdown)--> closed; (no span)

Boundaries: a change seen at a tick is placed at that tick, except idle changes, which are
placed at the user's last input (`wall - idle_seconds`): idle is back-dated to the last input,
and a return from idle starts at the input that ended it. Consecutive spans share their
boundary, so spans tile time with no polling gaps. A span longer than MAX_SPAN_SECONDS is cut
and continued with the same key.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from presence.core.model import MAX_SPAN_SECONDS, InputCounts, Observation, Span, SpanState

CLOCK_STEP_TOLERANCE = 2.0
"""Seconds the wall clock may drift from the monotonic clock between two ticks."""


def state_of(obs: Observation, idle_after: float) -> SpanState:
    if obs.locked:
        return SpanState.LOCKED
    if obs.idle_seconds is not None and obs.idle_seconds >= idle_after:
        return SpanState.IDLE
    return SpanState.ACTIVE


class Timeline:
    """Merges observations into spans. Not thread-safe: the sampler thread owns it."""

    def __init__(
        self, idle_after: float, gap_after: float, max_span: float = MAX_SPAN_SECONDS
    ) -> None:
        self.idle_after = idle_after
        self.gap_after = gap_after
        self.max_span = max_span
        self.open: Span | None = None
        self._last: Observation | None = None
        self._counts: InputCounts | None = None

    def is_gap(self, prev: Observation, obs: Observation) -> bool:
        """True when time between two ticks cannot have been watched.

        Suspend moves the wall clock but not CLOCK_MONOTONIC; a stopped or starved process moves
        both by much more than a tick; a clock step moves the wall clock alone, either way.
        """
        wall = (obs.wall - prev.wall).total_seconds()
        mono = obs.mono - prev.mono
        return wall < 0 or wall > self.gap_after or abs(wall - mono) > CLOCK_STEP_TOLERANCE

    def observe(self, obs: Observation) -> list[Span]:
        """Take one tick; return the spans this tick closed (oldest first)."""
        closed: list[Span] = []
        if self._last is not None and self.is_gap(self._last, obs):
            closed += self.close(self._last.wall)
        if obs.blind:
            # Seeing nothing is not use: such time stays unrecorded rather than "active".
            if self._last is not None:
                closed += self.close(self._last.wall)
            return closed
        delta = self._delta(obs.counts)
        self._last = obs
        state = state_of(obs, self.idle_after)
        if state is SpanState.LOCKED or obs.window is None:
            app, title = None, None
        else:
            app, title = obs.window.app, obs.window.title
        span = self.open
        if span is None:
            self.open = Span(obs.wall, obs.wall, app, title, state, obs.utc_offset, delta)
            return closed
        if span.key() == (app, title, state):
            if (obs.wall - span.start).total_seconds() >= self.max_span:
                # Cap span length so range queries can use the start index (store.schema).
                span.end = obs.wall
                closed.append(span)
                self.open = Span(obs.wall, obs.wall, app, title, state, obs.utc_offset, delta)
                return closed
            span.end = obs.wall
            span.counts = span.counts + delta
            return closed
        boundary = self._boundary(span, obs, state)
        if boundary <= span.start:
            # The whole open span happened after the last input: it was idle all along (or the
            # return from idle came right at its start). Relabel it rather than leave a
            # zero-length span behind; it keeps its id, so a flushed row is updated in place.
            self.open = replace(
                span, app=app, title=title, state=state, end=obs.wall, counts=span.counts + delta
            )
            return closed
        span.end = boundary
        closed.append(span)
        self.open = Span(boundary, obs.wall, app, title, state, obs.utc_offset, delta)
        return closed

    def close(self, at: datetime) -> list[Span]:
        """End the open span at `at` (clamped into the span) and forget the last tick."""
        span, self.open, self._last = self.open, None, None
        if span is None:
            return []
        span.end = min(max(at, span.start), max(span.end, span.start))
        return [span]

    def _boundary(self, span: Span, obs: Observation, state: SpanState) -> datetime:
        idle_change = SpanState.IDLE in (span.state, state) and SpanState.LOCKED not in (
            span.state,
            state,
        )
        if idle_change and obs.idle_seconds is not None:
            back = obs.wall - timedelta(seconds=obs.idle_seconds)
            return max(back, span.start)
        return obs.wall

    def _delta(self, counts: InputCounts | None) -> InputCounts:
        previous, self._counts = self._counts, counts
        if counts is None or previous is None:
            return InputCounts()
        delta = counts - previous
        if min(delta.keys, delta.clicks, delta.scrolls, delta.moves) < 0:
            return InputCounts()  # the counter restarted: no events can be attributed
        return delta
