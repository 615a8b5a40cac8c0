"""When scheduled rules apply: their occurrences as UTC instants, from local wall-clock times.

One rule decides every DST case: an occurrence starts (or ends) at the first instant at
which the local clock reads the rule's time or later.

- On a spring-forward day a time inside the skipped hour (02:30 in Europe/Berlin) never
  shows, so the window starts when the clocks jump (03:00 CEST): the window is shortened,
  never shifted later and never dropped.
- On a fall-back day a time inside the repeated hour (02:30) shows twice; the first one
  counts (fold=0, PEP 495).
- A window whose end is not after its start (22:00-06:00) crosses midnight: it ends the
  next day. Its day (for `--days`) is the day it starts.

Pure: no clock is read; every function takes the instants it works on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from presence.rules.model import SCHEDULED, Rule

WEEK = 7 * 86400


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One application of a rule, [start, end) in aware UTC. `end` None: not over yet and not
    known in advance (a break that has not been taken)."""

    rule: str
    start: datetime
    end: datetime | None

    @property
    def key(self) -> tuple[str, float]:
        """Identity across restarts and processes: (rule name, start as UTC epoch seconds)."""
        return (self.rule, occurrence_ts(self.start))

    def contains(self, now: datetime) -> bool:
        return self.start <= now and (self.end is None or now < self.end)


def occurrence_ts(when: datetime) -> float:
    """Epoch seconds as stored in enforcement_log.occurrence_start (millisecond precision)."""
    return round(when.timestamp(), 3)


@lru_cache(maxsize=8192)
def wall_to_utc(day: date, at: time, zone: tzinfo) -> datetime:
    """The first instant at which the clock in `zone` reads `day` `at` or later (aware UTC).

    An existing time maps to itself (the first of two on a fall-back day); a time skipped on a
    spring-forward day maps to the transition, when the clock jumps past it.
    """
    naive = datetime.combine(day, at)
    later = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(later, zone) == naive:
        return later
    # A skipped time: PEP 495 maps it with the offset before the gap (fold=0, too late) and
    # after it (fold=1, too early); the transition lies between. Transitions fall on whole
    # seconds, so bisecting whole seconds finds it exactly.
    lo = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo_s, hi_s = int(lo.timestamp()), int(later.timestamp())
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if _wall(datetime.fromtimestamp(mid, UTC), zone) >= naive:
            hi_s = mid
        else:
            lo_s = mid
    return datetime.fromtimestamp(hi_s, UTC)


def _wall(instant: datetime, zone: tzinfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def occurrence_on(rule: Rule, day: date, zone: tzinfo) -> Occurrence | None:
    """The rule's window starting on local `day`, or None (not one of its days, or a window
    that DST made empty: both ends inside the skipped hour)."""
    if rule.start is None or rule.end is None:
        return None
    if rule.on is not None:
        if day != rule.on:
            return None
    elif day.weekday() not in rule.days:
        return None
    start = wall_to_utc(day, rule.start, zone)
    end_day = day if rule.end > rule.start else day + timedelta(days=1)
    end = wall_to_utc(end_day, rule.end, zone)
    if end <= start:
        return None
    return Occurrence(rule.name, start, end)


def occurrences(rule: Rule, zone: tzinfo, lo: datetime, hi: datetime) -> list[Occurrence]:
    """The rule's occurrences overlapping [lo, hi), oldest first. Empty for limit and break
    rules, whose occurrences depend on use, not on the calendar."""
    if rule.kind not in SCHEDULED:
        return []
    if rule.at is not None and rule.until is not None:
        if rule.at < hi and rule.until > lo:
            return [Occurrence(rule.name, rule.at, rule.until)]
        return []
    found = []
    # A window starts on its local day and lasts under 24 h of wall time, but a DST day can
    # stretch it by an hour: starting one day early catches every window reaching into lo.
    day = lo.astimezone(zone).date() - timedelta(days=1)
    last = hi.astimezone(zone).date()
    if rule.on is not None:
        day, last = max(day, rule.on), min(last, rule.on)
    while day <= last:
        occ = occurrence_on(rule, day, zone)
        if occ is not None and occ.end is not None and occ.start < hi and occ.end > lo:
            found.append(occ)
        day += timedelta(days=1)
    return found


def upcoming(
    rule: Rule, zone: tzinfo, after: datetime, *, within: timedelta = timedelta(days=14)
) -> list[Occurrence]:
    """Occurrences not over by `after` (one in progress included), up to `within` ahead."""
    return occurrences(rule, zone, after, after + within)


def day_window(now: datetime, zone: tzinfo, day_start: time) -> tuple[datetime, datetime]:
    """The user's day containing `now`, cut at local `day_start`, as [start, end) in UTC."""
    day = now.astimezone(zone).date()
    start = wall_to_utc(day, day_start, zone)
    if start > now:
        day -= timedelta(days=1)
        start = wall_to_utc(day, day_start, zone)
    return start, wall_to_utc(day + timedelta(days=1), day_start, zone)


def week_coverage(rule: Rule) -> list[tuple[int, int]]:
    """The seconds of a week (Monday 00:00 = 0) a repeating window covers, as merged
    intervals, ignoring DST. Used to tell whether a change shortens a window."""
    if rule.start is None or rule.end is None or not rule.days:
        return []
    start = rule.start.hour * 3600 + rule.start.minute * 60 + rule.start.second
    end = rule.end.hour * 3600 + rule.end.minute * 60 + rule.end.second
    length = end - start if end > start else end + 86400 - start
    spans: list[tuple[int, int]] = []
    for day in sorted(rule.days):
        lo = day * 86400 + start
        hi = lo + length
        if hi > WEEK:  # Sunday night into Monday morning wraps around the week
            spans += [(lo, WEEK), (0, hi - WEEK)]
        else:
            spans.append((lo, hi))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def covers(outer: list[tuple[int, int]], inner: list[tuple[int, int]]) -> bool:
    """Whether every interval of `inner` lies inside the union `outer` (both merged)."""
    return all(any(o_lo <= lo and hi <= o_hi for o_lo, o_hi in outer) for lo, hi in inner)
