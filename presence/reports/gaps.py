"""When presence was not recording: not running (no daemon run covers the time) or paused
(a run was there, but a pause was in force). Intervals are listed as they were, per device.

A run counts from `started` to `ended`, or to its last heartbeat when it crashed. A run that
has not ended and whose heartbeat is recent is still recording: it counts up to now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from presence.store.rows import Pause, Run

# The daemon writes a heartbeat every flush (10 s); as presence.health.status, three missed flushes
# mean it stopped.
STALE_AFTER = timedelta(seconds=30)

Interval = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Gap:
    device: str
    kind: str  # not running | paused
    start: datetime
    end: datetime
    reason: str | None = None  # a pause's reason

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(slots=True)
class Gaps:
    not_running_seconds: float = 0.0
    paused_seconds: float = 0.0
    intervals: list[Gap] = field(default_factory=list)

    def to_dict(self, zone: Any) -> dict[str, Any]:
        return {
            "not_running_seconds": round(self.not_running_seconds, 3),
            "paused_seconds": round(self.paused_seconds, 3),
            "intervals": [
                {
                    "device": g.device,
                    "kind": g.kind,
                    "start": g.start.astimezone(zone).isoformat(),
                    "end": g.end.astimezone(zone).isoformat(),
                    "seconds": round(g.seconds, 3),
                    "reason": g.reason,
                }
                for g in self.intervals
            ],
        }

    def add(self, gap: Gap) -> None:
        if gap.seconds <= 0:
            return
        if gap.kind == "paused":
            self.paused_seconds += gap.seconds
        else:
            self.not_running_seconds += gap.seconds
        self.intervals.append(gap)


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping cover of `intervals` (empty ones dropped)."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def complement(covered: Sequence[Interval], lo: float, hi: float) -> list[Interval]:
    """The parts of [lo, hi) that `covered` (sorted, disjoint) does not cover."""
    holes: list[Interval] = []
    at = lo
    for start, end in covered:
        if start > at:
            holes.append((at, min(start, hi)))
        at = max(at, end)
        if at >= hi:
            break
    if at < hi:
        holes.append((at, hi))
    return [h for h in holes if h[1] > h[0]]


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The intersection of two sorted, disjoint interval lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if end > start:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _run_end(run: Run, now: datetime) -> float:
    if run.ended is not None:
        return run.ended.timestamp()
    if now - run.last_seen <= STALE_AFTER:
        return now.timestamp()
    return run.last_seen.timestamp()


def _pause_end(pause: Pause, until: float) -> float:
    end = pause.end_at()
    return until if end is None else min(end.timestamp(), until)


def _at(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def find_gaps(
    devices: dict[int, str],
    runs: Sequence[Run],
    pauses: Sequence[Pause],
    start: datetime,
    until: datetime,
    now: datetime,
    first_runs: dict[int, datetime] | None = None,
) -> Gaps:
    """Not-running and paused intervals inside [start, until) for each device in `devices`.

    With `first_runs` (each device's first run ever), the time before a device's first run is
    no gap (presence was not installed yet), and a device that never ran has none (issue 11).
    """
    gaps = Gaps()
    if until <= start:
        return gaps
    hi = until.timestamp()
    for device_id, name in sorted(devices.items(), key=lambda d: d[1]):
        lo = start.timestamp()
        if first_runs is not None:
            first = first_runs.get(device_id)
            lo = hi if first is None else max(lo, first.timestamp())
        running = union(
            (r.started.timestamp(), _run_end(r, now)) for r in runs if r.device_id == device_id
        )
        paused_cover = union(
            (p.start.timestamp(), _pause_end(p, hi)) for p in pauses if p.device_id == device_id
        )
        found: list[Gap] = []
        for a, b in complement(running, lo, hi):
            gaps.not_running_seconds += b - a
            found.append(Gap(name, "not running", _at(a), _at(b)))
        inside = intersect(intersect(running, paused_cover), [(lo, hi)])
        for a, b in inside:
            gaps.paused_seconds += b - a
            reason = next(
                (
                    p.reason
                    for p in pauses
                    if p.device_id == device_id and p.start.timestamp() <= a < _pause_end(p, hi)
                ),
                None,
            )
            found.append(Gap(name, "paused", _at(a), _at(b), reason))
        gaps.intervals.extend(sorted(found, key=lambda g: g.start))
    return gaps
