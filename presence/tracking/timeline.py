"""Turning ticks into spans: a pure state machine, driven by observations, with no I/O.

    (no span) --tick--> open span --same app/title/state--> extended to this tick
                           |--change--> closed at the boundary; a new span opens there
                           |--gap (suspend, stop, clock step)--> closed at the last good tick
                           |--blind tick (no capability answered)--> closed at the last tick
                           '--close(at) (pause, shutdown)--> closed; (no span)

Two timelines multiply into the spans: which window had focus, and what state the screen was
in (active, idle, locked). A span's app and title are always the window that had focus in it;
idle changes the state of the spans it covers, never their app.

Boundaries. A focus change is placed at the observation that sees it. A state change that
involves `locked` is placed at the observation too. Idle is back-dated to the user's last
input (`wall - idle_seconds`), and a return from idle starts at the input that ended it. On
one observation the state boundary comes first, applied to the window that had focus before
the observation; the focus change follows, at the observation, in the new state.

Because idle is back-dated, noticing it may reach into spans already closed: focus moved from
A to B without input, and the user had stopped at A. So the timeline keeps the recently closed
active spans that end after the last input, and on going idle it splits them at the boundary
(the part before keeps its id and stays active; the part after becomes a new idle span of the
same window) or turns them idle in place when they start after it. Such revised spans are
returned again, with the same id, so a store that upserts by id rewrites them. The boundary is
never moved before the start of the current run of active spans: what was not watched (a gap,
a locked screen) cannot be revised.

Consecutive spans share their boundary, so spans tile time with no polling gaps. A span longer
than `max_span` is cut and continued with the same key.
"""

from __future__ import annotations

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
        # Closed active spans of the current active run that end after the last input: the
        # only closed spans a back-dated idle boundary can still reach.
        self._recent: list[Span] = []
        # Where the current run of active spans began (None: the open span is not active).
        self._active_since: datetime | None = None

    def is_gap(self, prev: Observation, obs: Observation) -> bool:
        """True when time between two ticks cannot have been watched.

        Suspend moves the wall clock but not CLOCK_MONOTONIC; a stopped or starved process moves
        both by much more than a tick; a clock step moves the wall clock alone, either way.
        """
        wall = (obs.wall - prev.wall).total_seconds()
        mono = obs.mono - prev.mono
        return wall < 0 or wall > self.gap_after or abs(wall - mono) > CLOCK_STEP_TOLERANCE

    def observe(self, obs: Observation) -> list[Span]:
        """Take one tick; return the spans it closed or revised, oldest first.

        Returned spans are copies and are no longer open. A span returned before may come back
        with the same `uid` and a new end or state (idle noticed after focus moved on); the
        latest copy is the truth. The open span (`self.open`) is never in the list, though its
        start may have moved or its state changed in place.
        """
        out: dict[str, Span] = {}
        if self._last is not None and self.is_gap(self._last, obs):
            out.update((s.uid, s) for s in self.close(self._last.wall))
        if obs.blind:
            # Seeing nothing is not use: such time stays unrecorded rather than "active".
            if self._last is not None:
                out.update((s.uid, s) for s in self.close(self._last.wall))
            return _snapshot(out)
        delta = self._delta(obs.counts)
        self._last = obs
        state = state_of(obs, self.idle_after)
        if state is SpanState.LOCKED or obs.window is None:
            app, title, site = None, None, None
        else:
            app, title, site = obs.window.app, obs.window.title, obs.window.site
        if self.open is None:
            self._start(obs.wall, obs.wall, app, title, state, obs.utc_offset, site).counts = delta
            return _snapshot(out)
        self._forget_before_input(obs)
        if state is not self.open.state:
            at = self._state_boundary(self.open, obs, state)
            if at < obs.wall:
                self._change_state(at, state, obs, out)
        span = self.open
        if (
            span.key() != (app, title, state)
            or span.site != site
            or (
                # Cap span length so range queries can use the start index (store.schema).
                (obs.wall - span.start).total_seconds() >= self.max_span
            )
        ):
            self._close_open(obs.wall, out)
            span = self._start(obs.wall, obs.wall, app, title, state, obs.utc_offset, site)
        span.end = obs.wall
        span.counts = span.counts + delta
        return _snapshot(out)

    def close(self, at: datetime) -> list[Span]:
        """End the open span at `at` (clamped into the span) and forget the last tick."""
        span, self.open, self._last = self.open, None, None
        self._recent.clear()
        self._active_since = None
        if span is None:
            return []
        span.end = min(max(at, span.start), max(span.end, span.start))
        return [span]

    # -- the two timelines ---------------------------------------------------------------

    def _state_boundary(self, span: Span, obs: Observation, state: SpanState) -> datetime:
        """When the state seen at `obs` began: at `obs`, or back-dated to the last input."""
        if SpanState.LOCKED in (span.state, state) or obs.idle_seconds is None:
            return obs.wall
        back = obs.wall - timedelta(seconds=obs.idle_seconds)
        floor = span.start
        if span.state is SpanState.ACTIVE and self._active_since is not None:
            floor = self._active_since
        return min(max(back, floor), obs.wall)

    def _change_state(
        self, at: datetime, state: SpanState, obs: Observation, out: dict[str, Span]
    ) -> None:
        """Apply a state change that began at `at` (before `obs`) to the spans after `at`.

        The windows keep their focus: only states change. Leaves an open span of the window
        focused before `obs`, in the new state, ending at `obs`.
        """
        span = self.open
        assert span is not None
        if span.state is SpanState.ACTIVE and state is SpanState.IDLE:
            for recent in self._recent:
                if recent.end <= at:
                    continue
                if recent.start >= at:
                    recent.state = SpanState.IDLE
                    out[recent.uid] = recent
                else:
                    rest = Span(at, recent.end, recent.app, recent.title, state, recent.utc_offset)
                    rest.site = recent.site
                    recent.end = at
                    out[recent.uid] = recent
                    out[rest.uid] = rest
        if at <= span.start:
            # The whole open span lies after the boundary: it changes state in place and keeps
            # its id, so a flushed row is updated rather than left behind.
            span.state = state
            span.end = obs.wall
            if state is SpanState.ACTIVE:
                self._active_since = span.start
            else:
                self._leave_active()
            return
        self._close_open(at, out)
        self._start(at, obs.wall, span.app, span.title, state, span.utc_offset, span.site)

    def _start(
        self,
        start: datetime,
        end: datetime,
        app: str | None,
        title: str | None,
        state: SpanState,
        utc_offset: int,
        site: str | None = None,
    ) -> Span:
        self.open = span = Span(start, end, app, title, state, utc_offset, site=site)
        if state is not SpanState.ACTIVE:
            self._leave_active()
        elif self._active_since is None:
            self._active_since = start
        return span

    def _close_open(self, at: datetime, out: dict[str, Span]) -> None:
        span = self.open
        assert span is not None
        span.end = at
        out[span.uid] = span
        if span.state is SpanState.ACTIVE:
            self._recent.append(span)

    def _leave_active(self) -> None:
        self._recent.clear()
        self._active_since = None

    def _forget_before_input(self, obs: Observation) -> None:
        """Drop closed spans that ended before the last input: no idle can reach them now."""
        if obs.idle_seconds is None:
            self._recent.clear()  # no idle source: idle is never back-dated
            return
        last_input = obs.wall - timedelta(seconds=obs.idle_seconds)
        self._recent = [s for s in self._recent if s.end > last_input]

    def _delta(self, counts: InputCounts | None) -> InputCounts:
        previous, self._counts = self._counts, counts
        if counts is None or previous is None:
            return InputCounts()
        delta = counts - previous
        if min(delta.keys, delta.clicks, delta.scrolls, delta.moves) < 0:
            return InputCounts()  # the counter restarted: no events can be attributed
        return delta


def _snapshot(spans: dict[str, Span]) -> list[Span]:
    """Copies, oldest first: the timeline may still revise its own objects."""
    return [s.copy() for s in sorted(spans.values(), key=lambda s: s.start)]
