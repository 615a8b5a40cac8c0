"""`presence import activitywatch`: ActivityWatch's history as presence spans.

Per host, the window watcher's bucket (`currentwindow`: app and title) and the AFK watcher's
(`afkstatus`: `afk` / `not-afk`) are intersected, the way ActivityWatch's own Activity view
does (window events within not-afk time): each piece of a window event that an AFK event
covers becomes a span of that app and title, `active` under `not-afk` and `idle` under `afk`.
Window time no AFK event covers is not imported (ActivityWatch does not count it either), nor
AFK time without a window event. Spans longer than an hour are cut, as the recorder cuts them.

One presence device per host (named after it). A span's uid is derived from the host, the
two events' ids and the piece, so importing again writes the same rows (the store upserts by
uid): nothing is counted twice. Titles go through `[privacy]` like recorded ones.

Memory: the two buckets are read as streams sorted by time, with only the AFK events that
may still overlap the current window event held; spans are written as they are made, in
chunks (store/activitywatch.py). Speed (issue 13: a year, about 700k events, in well under a
minute): instants are integer microseconds, privacy runs once per distinct window data, and a
span is a plain tuple until it is written.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from presence.core.model import MAX_SPAN_SECONDS, SpanState, WindowInfo
from presence.store import Store
from presence.store.activitywatch import (
    EPOCH,
    AwBucket,
    AwEvent,
    AwSource,
    ImportedSpan,
    SpanWriter,
)
from presence.tracking.privacy import Redactor

__all__ = ["AwSource", "HostPlan", "default_database", "plan", "run_import", "spans_of"]

REDACTED_KEPT = 20_000
WINDOW, AFK = "currentwindow", "afkstatus"
MAX_SPAN_US = round(MAX_SPAN_SECONDS * 1_000_000)
HOUR_US = 3_600_000_000
ACTIVE, IDLE = SpanState.ACTIVE.value, SpanState.IDLE.value


@dataclass(slots=True)
class HostPlan:
    """What one host's buckets hold, and (after a run) what was made of them."""

    host: str
    window: AwBucket
    afk: AwBucket
    spans: int = 0
    active_seconds: float = 0.0
    idle_seconds: float = 0.0
    apps: dict[str, float] = field(default_factory=dict)


def plan(source: AwSource) -> tuple[list[HostPlan], list[str]]:
    """The hosts with both a window and an AFK bucket, and a note for every host lacking one."""
    by_host: dict[str, dict[str, AwBucket]] = {}
    for bucket in source.buckets():
        if bucket.type in (WINDOW, AFK):
            kept = by_host.setdefault(bucket.hostname, {})
            # several buckets of a type on one host (a renamed watcher): the biggest wins
            if bucket.type not in kept or bucket.events > kept[bucket.type].events:
                kept[bucket.type] = bucket
    hosts, notes = [], []
    for host, kinds in sorted(by_host.items()):
        if WINDOW in kinds and AFK in kinds:
            hosts.append(HostPlan(host, kinds[WINDOW], kinds[AFK]))
        else:
            missing = "AFK" if WINDOW in kinds else "window"
            notes.append(f"{host}: no {missing} bucket, nothing imported for it")
    return hosts, notes


def default_database() -> Path:
    """aw-server's database: under $XDG_DATA_HOME, else ~/.local/share."""
    data = os.environ.get("XDG_DATA_HOME") or str(Path("~/.local/share").expanduser())
    return Path(data) / "activitywatch" / "aw-server" / "peewee-sqlite.v2.db"


class ZoneOffsets:
    """The zone's UTC offset (seconds) at an instant, worked out once per hour of UTC time:
    when the offsets at an hour's first and last microsecond agree, no transition lies
    between them (tzdata has no two within an hour), so the whole hour has that offset."""

    def __init__(self, zone: tzinfo) -> None:
        self._zone = zone
        self._hour = -1
        self._offset: int | None = None

    def _exact(self, us: int) -> int:
        when = (EPOCH + timedelta(microseconds=us)).astimezone(self._zone)
        return int((when.utcoffset() or timedelta(0)).total_seconds())

    def at(self, us: int) -> int:
        hour = us // HOUR_US
        if hour != self._hour:
            first = self._exact(hour * HOUR_US)
            last = self._exact((hour + 1) * HOUR_US - 1)
            self._hour, self._offset = hour, first if first == last else None
        return self._exact(us) if self._offset is None else self._offset


def _window_decoder(
    redactor: Redactor,
) -> Callable[[dict[str, Any]], tuple[str, str | None] | None]:
    """A window event's data as it is kept: (app, title) after `[privacy]`, or None when the
    window is not to be imported. Titles repeat: the privacy rules run once per distinct one."""
    redacted: dict[tuple[str, Any], tuple[str, str | None] | None] = {}

    def decode(data: dict[str, Any]) -> tuple[str, str | None] | None:
        app = str(data.get("app") or "unknown")
        title = data.get("title")
        key = (app, title)
        if key not in redacted:
            window = redactor.apply(WindowInfo(app, None if title is None else str(title)))
            if len(redacted) >= REDACTED_KEPT:
                redacted.clear()  # a bounded cache: memory stays flat over any history
            redacted[key] = None if window is None else (window.app, window.title)
        return redacted[key]

    return decode


def _afk_state(data: dict[str, Any]) -> str:
    return IDLE if data.get("status") == "afk" else ACTIVE


def host_events(
    source: AwSource, host: HostPlan, redactor: Redactor
) -> tuple[Iterator[AwEvent], Iterator[AwEvent]]:
    """The host's window events (data: what `[privacy]` keeps of app and title, or None) and
    AFK events (data: the state of the spans they cover), each oldest first."""
    return (
        source.events(host.window.key, _window_decoder(redactor)),
        source.events(host.afk.key, _afk_state),
    )


def spans_of(
    host: HostPlan,
    windows: Iterable[AwEvent],
    afks: Iterable[AwEvent],
    zone: tzinfo,
    seen: Callable[[int], None] | None = None,
) -> Iterator[ImportedSpan]:
    """The host's spans, oldest first, from `host_events`' two streams, each added to the
    host's totals as it is made. `seen(n)` is told of every n window events read.

    The uid of a piece is sha256("aw|host|window bucket|window id|AFK bucket|AFK id|piece"),
    its first 32 hex digits: what every earlier import wrote, so nothing is counted twice."""
    afk_iter = iter(afks)
    pending: deque[AwEvent] = deque()
    exhausted = False
    count = 0
    offsets = ZoneOffsets(zone)
    prefix = f"aw|{host.host}|{host.window.key}|"
    middle = f"|{host.afk.key}|"
    sha256 = hashlib.sha256
    apps = host.apps
    for window_id, w_start, w_end, kept in windows:
        count += 1
        if count % 1000 == 0 and seen is not None:
            seen(1000)
        if w_end <= w_start:
            continue
        while not exhausted and (not pending or pending[-1][1] < w_end):
            nxt = next(afk_iter, None)
            if nxt is None:
                exhausted = True
            else:
                pending.append(nxt)
        while pending and pending[0][2] <= w_start:
            pending.popleft()
        if kept is None:
            continue
        app, title = kept
        for afk_id, a_start, a_end, state in pending:
            lo = w_start if w_start > a_start else a_start
            hi = w_end if w_end < a_end else a_end
            piece = 0
            while lo < hi:
                cut = min(lo + MAX_SPAN_US, hi)
                key = f"{prefix}{window_id}{middle}{afk_id}|{piece}"
                uid = sha256(key.encode()).hexdigest()[:32]
                seconds = (cut - lo) / 1_000_000  # as (end - start).total_seconds()
                host.spans += 1
                if state == ACTIVE:
                    host.active_seconds += seconds
                    apps[app] = apps.get(app, 0.0) + seconds
                else:
                    host.idle_seconds += seconds
                yield uid, lo, cut, offsets.at(lo), app, title, state
                lo, piece = cut, piece + 1
    if seen is not None:
        seen(count % 1000)


def run_import(
    source: AwSource,
    store: Store | None,
    zone: tzinfo,
    redactor: Redactor,
    now: datetime,
    *,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[HostPlan], list[str]]:
    """Import every host of `source` into `store` (None: a dry run, nothing written).
    Returns the hosts with their totals, and notes. Raises StorageError, InputError."""
    hosts, notes = plan(source)
    for host in hosts:
        windows, afks = host_events(source, host, redactor)
        spans = spans_of(host, windows, afks, zone, progress)
        if store is None:
            deque(spans, maxlen=0)  # made and counted, not kept
            continue
        device_id = store.device(host.host, host.host or socket.gethostname(), now).id
        SpanWriter(store).save(device_id, spans)
    return hosts, notes
