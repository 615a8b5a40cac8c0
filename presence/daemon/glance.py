"""The daemon's live state for status bars and the D-Bus interface (presence.health.snapshot).

`Glance.update()` runs after each tick on the sampler thread: it builds the snapshot from
what the daemon already holds (the open span, the pause, the rules, the failure counts) and
writes the file when it changed, at most once a second. Today's active time before the open
span is read from the store only when the open span changes (a new span, or the same one
turned idle): closed spans change only then, so the figure is exact without a query a tick.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from presence.core.errors import PresenceError
from presence.core.faults import FaultSnapshot
from presence.core.model import Span
from presence.health import snapshot
from presence.health.enforcement import failed_actions
from presence.rules.model import Rule, RuleKind
from presence.rules.schedule import day_window, occurrences
from presence.store import Pause, RuleStore, Store
from presence.store.totals import Totals
from presence.store.watch import Changes

log = logging.getLogger(__name__)

MIN_SPACING = 1.0
"""Seconds between two writes (and two D-Bus change signals): a burst of title changes
costs one write a second."""

FAILED_EVERY = 60.0
"""Seconds between two reads of the failed actions when the log has not grown (so that one
older than a day drops out)."""

LOOKAHEAD = timedelta(days=8)
"""How far ahead the next window is looked for (a weekly rule always has one in 8 days)."""


def _iso(when: datetime | None, zone: tzinfo) -> str | None:
    """In the user's zone: readers show local times without loading the settings."""
    return None if when is None else when.astimezone(zone).isoformat()


def windows(
    rules: Sequence[Rule], device: str, zone: tzinfo, now: datetime
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The scheduled window in force now (the one ending last) and the next one to start,
    among the enabled rules for `device`, as snapshot entries."""
    in_force: tuple[datetime, Rule] | None = None
    upcoming: tuple[datetime, Rule] | None = None
    for rule in rules:
        if not rule.enabled or not rule.applies_to(device):
            continue
        for occ in occurrences(rule, zone, now, now + LOOKAHEAD):
            end = occ.end or now + LOOKAHEAD
            if occ.contains(now):
                if in_force is None or end > in_force[0]:
                    in_force = (end, rule)
            elif occ.start > now and (upcoming is None or occ.start < upcoming[0]):
                upcoming = (occ.start, rule)
    rule_entry = next_entry = None
    if in_force is not None:
        end, rule = in_force
        rule_entry = {"name": rule.name, "kind": rule.kind.value, "ends": _iso(end, zone)}
    if upcoming is not None:
        start, rule = upcoming
        next_entry = {
            "name": rule.name,
            "kind": rule.kind.value,
            "starts": _iso(start, zone),
            "warn_s": max(rule.warn, default=0.0),
        }
    return rule_entry, next_entry


def smallest_limit(rules: Sequence[Rule], device: str) -> float | None:
    """The smallest daily limit among the enabled limit rules for `device`, in seconds."""
    limits = [
        r.per_day
        for r in rules
        if r.enabled and r.kind is RuleKind.LIMIT and r.per_day and r.applies_to(device)
    ]
    return min(limits) if limits else None


class Glance:
    """Keeps the snapshot file (and any listener, e.g. the D-Bus service) current."""

    def __init__(
        self,
        path: Path,
        store: Store,
        device: str,
        device_id: int,
        zone: tzinfo,
        day_start: time,
        run_started: datetime,
    ) -> None:
        self.path = path
        self._store = store
        self._device = device
        self._device_id = device_id
        self._zone = zone
        self._day_start = day_start
        self._base: dict[str, Any] = {
            "version": snapshot.VERSION,
            "device": device,
            "pid": os.getpid(),
            "run_started": _iso(run_started, zone),
            "zone": getattr(zone, "key", None),
        }
        self._written: dict[str, Any] | None = None
        self._written_at = float("-inf")
        self._before_key: tuple[Any, ...] | None = None
        self._before = 0.0
        self._since: tuple[str | None, str, datetime, datetime] | None = None
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self._log = RuleStore(store)
        self._log_seen: tuple[int, float] | None = None
        self._log_changes = Changes(store.engine)  # the log is read only when it can have grown
        self._failed: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None

    def update(
        self,
        now: datetime,
        mono: float,
        open_span: Span | None,
        pause: Pause | None,
        rules: Sequence[Rule],
        offline: bool,
        faults: Sequence[FaultSnapshot],
    ) -> bool:
        """Build the snapshot; write it (and tell the listeners) when it changed and the last
        write is MIN_SPACING old. Returns whether it was written. Never raises for I/O."""
        data = self.build(now, open_span, pause, rules, offline, faults)
        data["failed_actions"] = self._failed_actions(now, mono)
        if data == self._written or mono - self._written_at < MIN_SPACING:
            return False
        if not snapshot.write(self.path, data):
            log.debug("cannot write the status snapshot %s", self.path)
        self._written, self._written_at = data, mono
        self.current = data
        for listener in self.listeners:
            listener(data)
        return True

    def build(
        self,
        now: datetime,
        open_span: Span | None,
        pause: Pause | None,
        rules: Sequence[Rule],
        offline: bool,
        faults: Sequence[FaultSnapshot],
    ) -> dict[str, Any]:
        """The snapshot as of `now` (see presence.health.snapshot for its schema)."""
        lo, hi = day_window(now, self._zone, self._day_start)
        current = None if pause is not None else self._current(open_span)
        since = None if current is None else snapshot.instant(current["since"])
        rule, upcoming = windows(rules, self._device, self._zone, now)
        end_of_pause = None if pause is None else pause.end_at()
        return {
            **self._base,
            "current": current,
            "day": {"start": _iso(lo, self._zone), "end": _iso(hi, self._zone)},
            "active_before_s": round(self._active_before(open_span, since, lo, hi), 3),
            "paused": None
            if pause is None
            else {"reason": pause.reason, "until": _iso(end_of_pause, self._zone)},
            "rule": rule,
            "next": upcoming,
            "limit_s": smallest_limit(rules, self._device),
            "offline": offline,
            "faults": [
                {
                    "part": f.name,
                    "failing": f.failing,
                    "failures": f.failures,
                    "last_error": f.last_error,
                }
                for f in faults
            ],
        }

    def _current(self, span: Span | None) -> dict[str, Any] | None:
        """The open span as app, state and since; a span cut at MAX_SPAN_SECONDS and continued
        with the same app and state keeps its first start."""
        if span is None:
            self._since = None
            return None
        since = span.start
        kept = self._since
        # the continuation of the span we knew (same key, starting where it ended)
        if kept is not None and kept[:2] == (span.app, span.state.value) and kept[3] >= span.start:
            since = kept[2]
        self._since = (span.app, span.state.value, since, span.end)
        return {"app": span.app, "state": span.state.value, "since": _iso(since, self._zone)}

    def _active_before(
        self, span: Span | None, since: datetime | None, lo: datetime, hi: datetime
    ) -> float:
        """Active seconds today before the current stretch: re-read when the open span (or
        its state, or the day) changed, since only then did closed spans change."""
        key = (None, None, lo) if span is None else (span.uid, span.state, lo, since)
        if key == self._before_key:
            return self._before
        cut = hi if since is None else max(lo, min(since, hi))
        # Spans before `since` (also the first part of a span cut and continued): readers add
        # only the time from `since` on. The open span starts at `since`: not counted here.
        try:
            self._before = Totals.of(self._store).active_seconds(self._device_id, lo, cut)
        except PresenceError as exc:
            log.debug("cannot read today's active time for the status: %s", exc.message)
            return self._before
        self._before_key = key
        return self._before

    def _failed_actions(self, now: datetime, mono: float) -> list[dict[str, Any]]:
        """The actions that failed in the last day (every device), as `presence status` says
        them (issue 10): re-read when the enforcement log grew, or FAILED_EVERY later."""
        seen = self._log_seen
        due = seen is None or mono - seen[1] >= FAILED_EVERY
        if not due and not self._log_changes.stale(mono):
            return self._failed  # nothing committed since the last look (issue 9)
        try:
            last = self._log.last_event_id()
            if due or seen is None or seen[0] != last:
                self._failed = [
                    {"at": _iso(f.at, self._zone), "rule": f.rule, "action": f.action,
                     "reason": f.reason}
                    for f in failed_actions(self._log, now)
                ]  # fmt: skip
                self._log_seen = (last, mono)
        except PresenceError as exc:
            self._log_changes.again()
            log.debug("cannot read the failed actions for the status: %s", exc.message)
        return self._failed

    def close(self) -> None:
        """The daemon stops: remove the file."""
        snapshot.remove(self.path)
