"""A deliberately simple reference for what the timeline must record, and a checker against it.

A `Script` is what happened at a desktop: focus changes, inputs, locks, suspends (the wall
clock moves, the monotonic clock does not), stopped-process stalls and wall-clock steps, at
millisecond times of real elapsed time, and the times the daemon ticked (regular ticks, the
wake after each focus change, and extra ones). `reference()` says, instant by instant, which
window and state should be recorded, following the documented rules and nothing else:

- A stretch is watched from one tick to the next unless the second tick is a gap: its wall
  clock went back, moved more than `gap_after`, or moved more than 2 s apart from the
  monotonic clock. Nothing between the ticks of a gap is recorded.
- Between two ticks, the window is the one the first tick saw (a focus change is placed at the
  tick that sees it); the screen is locked when the first tick saw it locked, and then no app.
- Idle is noticed by a tick that sees no input for `idle_after`, and covers from the last
  input that tick saw (never before the start of the unlocked part of the stretch: a lock or
  a gap cannot be revised) until the last input seen by the next tick that sees input again
  (or until the unlocked part ends). Everything else unlocked is active.

The reference is tick-aware (it knows which tick noticed what), so the timeline must agree with
it exactly, to the microsecond, not within a tick. Times are whole milliseconds, so every
boundary is exact in `datetime` arithmetic.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from hypothesis import strategies as st

from presence.core.model import InputCounts, Observation, Span, SpanState, WindowInfo
from presence.tracking.recorder import Recorder
from presence.tracking.timeline import Timeline

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOWS: tuple[WindowInfo | None, ...] = (
    WindowInfo("AppA", "one"),
    WindowInfo("AppA", "two"),
    WindowInfo("AppB", "one"),
    WindowInfo("AppC", None),
    None,
)
Key = tuple[str | None, str | None, SpanState]


@dataclass(frozen=True)
class Script:
    """What happened, in milliseconds of real elapsed time from 0 to `end`."""

    interval: int
    idle_after: int
    gap_after: int
    max_span: int
    flush_every: int
    end: int
    initial_idle: int  # the last input was this long before 0
    focus: tuple[tuple[int, int], ...] = ()  # (at, index into WINDOWS); WINDOWS[0] before
    inputs: tuple[int, ...] = ()
    locks: tuple[tuple[int, int], ...] = ()  # locked in [start, end)
    suspends: tuple[tuple[int, int], ...] = ()  # (start, length): no ticks, mono stands still
    stalls: tuple[tuple[int, int], ...] = ()  # (start, length): no ticks, both clocks move
    steps: tuple[tuple[int, int], ...] = ()  # (at, ms): the wall clock jumps
    extra_ticks: tuple[int, ...] = ()
    wake_latency: int = 20  # the daemon ticks this long after each focus change


@dataclass(frozen=True)
class Tick:
    real: int
    wall: int
    mono: int
    window: WindowInfo | None
    idle: int  # ms since the last input
    inputs: int  # inputs so far
    locked: bool

    def observation(self) -> Observation:
        return Observation(
            wall=T0 + timedelta(milliseconds=self.wall),
            mono=self.mono / 1000,
            window=self.window,
            idle_seconds=self.idle / 1000,
            counts=InputCounts(keys=self.inputs),
            locked=self.locked,
        )


@dataclass(frozen=True)
class Atom:
    """A piece of one stretch with one window and state: [start, end) in wall ms."""

    stretch: int
    start: int
    end: int
    key: Key


def ticks(script: Script) -> list[Tick]:
    """The ticks of the script, in order, with what each of them observes."""
    times = set(range(0, script.end + 1, script.interval)) | set(script.extra_ticks)
    times |= {at + script.wake_latency for at, _ in script.focus}
    blackouts = script.suspends + script.stalls
    times = {
        t for t in times if 0 <= t <= script.end and not any(s <= t < s + n for s, n in blackouts)
    }
    out = []
    for t in sorted(times):
        window = WINDOWS[0]
        for at, index in sorted(script.focus):
            if at <= t:
                window = WINDOWS[index]
        seen = [i for i in script.inputs if i <= t]
        out.append(
            Tick(
                real=t,
                wall=t + sum(ms for at, ms in script.steps if at <= t),
                mono=t - sum(max(0, min(t, s + n) - s) for s, n in script.suspends),
                window=window,
                idle=t - max(seen, default=-script.initial_idle),
                inputs=len(seen),
                locked=any(s <= t < e for s, e in script.locks),
            )
        )
    return out


def stretches(script: Script, tks: Sequence[Tick]) -> list[list[Tick]]:
    """Ticks grouped into watched stretches, split at every gap."""
    groups: list[list[Tick]] = []
    for prev, tick in zip([None, *tks], tks, strict=False):
        if prev is None or is_gap(script, prev, tick):
            groups.append([])
        groups[-1].append(tick)
    return groups


def is_gap(script: Script, prev: Tick, tick: Tick) -> bool:
    wall, mono = tick.wall - prev.wall, tick.mono - prev.mono
    return wall < 0 or wall > script.gap_after or abs(wall - mono) > 2000


def reference(script: Script, tks: Sequence[Tick]) -> list[Atom]:
    """What should be recorded over these ticks: pieces of one window and state."""
    atoms = []
    for number, stretch in enumerate(stretches(script, tks)):
        idle = idle_intervals(script, stretch)
        cuts = sorted({t.wall for t in stretch} | {x for pair in idle for x in pair})
        for start, end in itertools.pairwise(cuts):
            tick = [t for t in stretch if t.wall <= start][-1]
            if tick.locked:
                key: Key = (None, None, SpanState.LOCKED)
            else:
                state = SpanState.ACTIVE
                if any(a <= start < b for a, b in idle):
                    state = SpanState.IDLE
                window = tick.window
                key = (None, None, state) if window is None else (window.app, window.title, state)
            atoms.append(Atom(number, start, end, key))
    return atoms


def idle_intervals(script: Script, stretch: Sequence[Tick]) -> list[tuple[int, int]]:
    """[start, end) in wall ms of the idle time of one stretch."""
    out = []
    runs = itertools.groupby(enumerate(stretch), key=lambda pair: pair[1].locked)
    for locked, run in runs:
        if locked:
            continue
        indexed = list(run)
        first, last = indexed[0][0], indexed[-1][0]
        # The unlocked part ends at the tick that saw the lock, or at the stretch's last tick.
        end_of_part = stretch[last + 1].wall if last + 1 < len(stretch) else stretch[last].wall
        begin = stretch[first].wall
        seen_idle = [(i, t.idle >= script.idle_after) for i, t in indexed]
        for is_idle, group in itertools.groupby(seen_idle, key=lambda pair: pair[1]):
            if not is_idle:
                continue
            members = [i for i, _ in group]
            noticed = stretch[members[0]]
            start = max(noticed.wall - noticed.idle, begin)
            after = members[-1] + 1
            if after <= last:
                back = stretch[after]
                stop = back.wall - back.idle  # the last input the returning tick saw
            else:
                stop = end_of_part
            out.append((start, stop))
    return out


def totals(atoms: Sequence[Atom]) -> Counter[Key]:
    out: Counter[Key] = Counter()
    for atom in atoms:
        out[atom.key] += atom.end - atom.start
    return out


def span_totals(spans: Sequence[Span]) -> Counter[Key]:
    """Milliseconds per key; exact, as every boundary is a whole millisecond."""
    out: Counter[Key] = Counter()
    for span in spans:
        ms = (span.end - span.start) // timedelta(milliseconds=1)
        assert span.end - span.start == timedelta(milliseconds=ms), span
        if ms:
            out[span.key()] += ms
    return out


def wall_ms(at: datetime) -> int:
    return (at - T0) // timedelta(milliseconds=1)


class UpsertingStore:
    """An in-memory stand-in for the store's `save_spans`: insert or replace by uid."""

    def __init__(self) -> None:
        self.rows: dict[str, Span] = {}

    def save_spans(self, device_id: int, run_id: int | None, items: Sequence[Span]) -> None:
        for span in items:
            self.rows[span.uid] = span.copy()


CRASHES_PER_SCRIPT = 8
"""Besides the drawn tick, a crash is also tried at up to this many ticks that revised spans
or changed the open span's state in place: the ticks where a lazy writer would be caught."""


def check(script: Script, crash_at: int | None = None) -> None:
    """Drive the real Timeline and Recorder tick by tick; raise AssertionError on a mismatch.

    Checks: spans tile every stretch (no gap, no overlap); every span's window and state are
    the reference's at every instant inside it; per window and state the recorded time equals
    the reference's exactly; after a crash at tick `crash_at` (and at the first ticks that
    revised spans), the store holds the reference up to that tick less under `flush_every` of
    the open span, and nothing more than happened.
    """
    tks = ticks(script)
    if not tks:
        return
    timeline = Timeline(script.idle_after / 1000, script.gap_after / 1000, script.max_span / 1000)
    store = UpsertingStore()
    recorder = Recorder(cast(Any, store), 1, 1, script.flush_every / 1000)
    spans: dict[str, Span] = {}
    stretch_of: dict[str, int] = {}
    number, crashes = 0, 0
    for index, tick in enumerate(tks):
        if index and is_gap(script, tks[index - 1], tick):
            number += 1
        obs = tick.observation()
        before = None if timeline.open is None else (timeline.open.uid, timeline.open.state)
        known = set(stretch_of)
        returned = timeline.observe(obs)
        recorder.record(returned, timeline.open, obs.mono)
        for span in [*returned, *([timeline.open] if timeline.open else [])]:
            spans[span.uid] = span.copy()
            stretch_of.setdefault(span.uid, number)
        now = None if timeline.open is None else (timeline.open.uid, timeline.open.state)
        # A closed span handed back again, or the open span changing state in place.
        revised = any(s.uid in known and (before is None or s.uid != before[0]) for s in returned)
        in_place = before is not None and now is not None and before[0] == now[0]
        in_place = in_place and before != now
        if index == crash_at or ((revised or in_place) and crashes < CRASHES_PER_SCRIPT):
            crashes += 1
            check_crash(script, tks[: index + 1], list(store.rows.values()))
    for span in timeline.close(tks[-1].observation().wall):
        spans[span.uid] = span
    check_spans(script, tks, list(spans.values()), stretch_of)


def check_spans(
    script: Script, tks: Sequence[Tick], spans: Sequence[Span], stretch_of: dict[str, int]
) -> None:
    atoms = reference(script, tks)
    for number, stretch in enumerate(stretches(script, tks)):
        mine = sorted(
            (s for s in spans if stretch_of[s.uid] == number), key=lambda s: (s.start, s.end)
        )
        edge = stretch[0].wall
        for span in mine:
            start, end = wall_ms(span.start), wall_ms(span.end)
            assert start == edge, f"stretch {number}: gap or overlap at {edge} ms: {span}"
            assert end >= start, span
            edge = end
            for atom in atoms:
                if atom.stretch == number and atom.start < end and start < atom.end:
                    assert atom.key == span.key(), f"{span} covers {atom}"
        assert edge == stretch[-1].wall, f"stretch {number} ends at {edge}, not {stretch[-1]}"
    want, got = totals(atoms), span_totals(spans)
    assert got == want, f"recorded {dict(got)} != reference {dict(want)}"


def check_crash(script: Script, tks: Sequence[Tick], stored: Sequence[Span]) -> None:
    want, got = totals(reference(script, tks)), span_totals(stored)
    for key in want.keys() | got.keys():
        assert got[key] <= want[key], f"stored more {key} than happened: {got} > {want}"
    lost = sum(want.values()) - sum(got.values())
    assert lost < script.flush_every, f"a crash lost {lost} ms > flush_every: {got} vs {want}"


@st.composite
def scripts(draw: st.DrawFn, max_seconds: int = 240) -> Script:
    """Random scripts: a few windows, bursts of input, locks, suspends, stalls and steps."""
    interval = draw(st.sampled_from([500, 1000, 1000, 1500]))
    gap_after = draw(st.integers(2 * interval, 8000))
    end = draw(st.integers(0, max_seconds * 1000))
    at = st.integers(0, end)
    lengths = st.integers(3000, 120_000)
    return Script(
        interval=interval,
        idle_after=draw(st.sampled_from([5000, 7500, 10_000, 30_000])),
        gap_after=gap_after,
        max_span=draw(st.sampled_from([3_600_000, 20_000, 45_500])),
        flush_every=draw(st.integers(1000, 10_000)),
        end=end,
        initial_idle=draw(st.integers(0, 60_000)),
        focus=tuple(draw(st.lists(st.tuples(at, st.integers(0, len(WINDOWS) - 1)), max_size=30))),
        inputs=tuple(draw(st.lists(at, max_size=60))),
        locks=tuple((s, s + n) for s, n in draw(st.lists(st.tuples(at, lengths), max_size=2))),
        suspends=tuple(draw(st.lists(st.tuples(at, lengths), max_size=2))),
        stalls=tuple(draw(st.lists(st.tuples(at, st.integers(gap_after + 1, 60_000)), max_size=1))),
        steps=tuple(
            draw(st.lists(st.tuples(at, st.one_of(lengths, lengths.map(lambda n: -n))), max_size=2))
        ),
        extra_ticks=tuple(draw(st.lists(at, max_size=20))),
        wake_latency=draw(st.integers(0, 60)),
    )
