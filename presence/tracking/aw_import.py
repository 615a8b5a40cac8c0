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
may still overlap the current window event held; spans are written in batches.
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

from presence.core.model import MAX_SPAN_SECONDS, Span, SpanState, WindowInfo
from presence.store import Store
from presence.store.activitywatch import AwBucket, AwEvent, AwSource, SpanWriter

__all__ = ["AwSource", "HostPlan", "default_database", "plan", "run_import", "spans_of"]
from presence.tracking.privacy import Redactor

BATCH = 5000
REDACTED_KEPT = 50_000
WINDOW, AFK = "currentwindow", "afkstatus"


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


def _uid(host: HostPlan, window: AwEvent, afk: AwEvent, piece: int) -> str:
    key = f"aw|{host.host}|{host.window.key}|{window.id}|{host.afk.key}|{afk.id}|{piece}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def spans_of(
    host: HostPlan,
    windows: Iterable[AwEvent],
    afks: Iterable[AwEvent],
    zone: tzinfo,
    redactor: Redactor,
    seen: Callable[[int], None] | None = None,
) -> Iterator[Span]:
    """The host's spans, oldest first. `seen(n)` is told of every n window events read."""
    afk_iter = iter(afks)
    pending: deque[AwEvent] = deque()
    exhausted = False
    count = 0
    # titles repeat: the privacy rules' regular expressions run once per distinct window
    redacted: dict[tuple[str, Any], WindowInfo | None] = {}
    for window in windows:
        count += 1
        if seen is not None and count % 1000 == 0:
            seen(1000)
        w_start, w_end = window.start, window.end
        if w_end <= w_start:
            continue
        while not exhausted and (not pending or pending[-1].start < w_end):
            nxt = next(afk_iter, None)
            if nxt is None:
                exhausted = True
            else:
                pending.append(nxt)
        while pending and pending[0].end <= w_start:
            pending.popleft()
        app = str(window.data.get("app") or "unknown")
        title = window.data.get("title")
        seen_key = (app, title)
        if seen_key in redacted:
            kept = redacted[seen_key]
        else:
            kept = redactor.apply(WindowInfo(app, None if title is None else str(title)))
            if len(redacted) >= REDACTED_KEPT:
                redacted.clear()  # a bounded cache: memory stays flat over any history
            redacted[seen_key] = kept
        if kept is None:
            continue
        for afk in pending:
            lo, hi = max(w_start, afk.start), min(w_end, afk.end)
            if hi <= lo:
                continue
            state = SpanState.IDLE if afk.data.get("status") == "afk" else SpanState.ACTIVE
            piece = 0
            while lo < hi:
                cut = min(hi, lo + timedelta(seconds=MAX_SPAN_SECONDS))
                offset = lo.astimezone(zone).utcoffset() or timedelta(0)
                yield Span(
                    lo,
                    cut,
                    kept.app,
                    kept.title,
                    state,
                    utc_offset=int(offset.total_seconds()),
                    uid=_uid(host, window, afk, piece),
                )
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
    Returns the hosts with their totals, and notes. Raises StorageError."""
    hosts, notes = plan(source)
    for host in hosts:
        device_id = None
        writer = None if store is None else SpanWriter(store)
        if store is not None:
            device_id = store.device(host.host, host.host or socket.gethostname(), now).id
        batch: list[Span] = []
        stream = spans_of(
            host,
            source.events(host.window.key),
            source.events(host.afk.key),
            zone,
            redactor,
            progress,
        )
        for span in stream:
            host.spans += 1
            seconds = span.seconds
            if span.state is SpanState.ACTIVE:
                host.active_seconds += seconds
                host.apps[span.app or ""] = host.apps.get(span.app or "", 0.0) + seconds
            else:
                host.idle_seconds += seconds
            if writer is not None and device_id is not None:
                batch.append(span)
                if len(batch) >= BATCH:
                    writer.save(device_id, batch)
                    batch = []
        if writer is not None and device_id is not None and batch:
            writer.save(device_id, batch)
    return hosts, notes
