"""Tech-free adherence from the enforcement log: windows kept and broken, minutes used inside
them, snoozes and overrides, and each rule's current streak.

An occurrence is identified by (rule_name, occurrence_start). It belongs to the period its
start falls in. Its outcome is its `kept` or `broken` event (broken on any device: broken);
one without either is still open (`pending`). Minutes used come from the outcome events'
`detail.minutes_used` (summed over devices). Snoozes and overrides are counted events. The
streak is the number of consecutive most recent kept occurrences, as of the period's end.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from presence.store.reads import ReportReads
from presence.store.rows import LogEvent

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RuleAdherence:
    rule: str
    occurrences: int = 0
    kept: int = 0
    broken: int = 0
    minutes_used: float = 0.0
    snoozes: int = 0
    overrides: int = 0
    streak: int = 0

    @property
    def pending(self) -> int:
        return self.occurrences - self.kept - self.broken

    def cells(self, duration: Callable[[float], str]) -> list[str]:
        """Kept, broken, pending, time used (`duration` of seconds), snoozes and overrides:
        the columns every adherence table shows (terminal and HTML, per person too)."""
        return [
            str(self.kept),
            str(self.broken),
            str(self.pending),
            duration(self.minutes_used * 60),
            str(self.snoozes),
            str(self.overrides),
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "occurrences": self.occurrences,
            "kept": self.kept,
            "broken": self.broken,
            "pending": self.pending,
            "minutes_used": round(self.minutes_used, 3),
            "snoozes": self.snoozes,
            "overrides": self.overrides,
            "streak": self.streak,
        }


@dataclass(slots=True)
class Adherence:
    rules: list[RuleAdherence] = field(default_factory=list)

    def total(self, name: str) -> float:
        return float(sum(getattr(r, name) for r in self.rules))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": [r.to_dict() for r in self.rules],
            "totals": {
                "occurrences": int(self.total("occurrences")),
                "kept": int(self.total("kept")),
                "broken": int(self.total("broken")),
                "pending": sum(r.pending for r in self.rules),
                "minutes_used": round(self.total("minutes_used"), 3),
                "snoozes": int(self.total("snoozes")),
                "overrides": int(self.total("overrides")),
            },
        }


def _minutes_used(event: LogEvent) -> float:
    if not event.detail:
        return 0.0
    try:
        detail = json.loads(event.detail)
    except ValueError:
        log.debug("enforcement_log detail is not JSON: %r", event.detail)
        return 0.0
    value = detail.get("minutes_used") if isinstance(detail, dict) else None
    return float(value) if isinstance(value, int | float) else 0.0


def _detail(event: LogEvent) -> dict[str, object]:
    try:
        detail = json.loads(event.detail or "{}")
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


def summarize(events: Sequence[LogEvent]) -> dict[str, RuleAdherence]:
    """Per-rule figures from the log events of a period (pure; streaks left at 0)."""
    rules: dict[str, RuleAdherence] = {}
    outcomes: dict[tuple[str, float | None], set[str]] = {}
    for event in events:
        entry = rules.setdefault(event.rule_name, RuleAdherence(event.rule_name))
        if event.event == "snooze":
            entry.snoozes += 1
        elif event.event == "override":
            entry.overrides += 1
        elif event.event == "refused":
            # the daemon refused a snooze or override (issue 10): it was not taken
            of = _detail(event).get("of")
            if of == "snooze":
                entry.snoozes = max(0, entry.snoozes - 1)
            elif of == "override":
                entry.overrides = max(0, entry.overrides - 1)
        # An occurrence exists once it started or was decided (warnings and nudges alone,
        # e.g. of one about to start, do not make one).
        if event.occurrence_start is None or event.event not in ("start", "kept", "broken"):
            continue
        seen = outcomes.setdefault((event.rule_name, event.occurrence_start), set())
        seen.add(event.event)
        if event.event != "start":
            entry.minutes_used += _minutes_used(event)
    for (name, _), seen in outcomes.items():
        entry = rules[name]
        entry.occurrences += 1
        if "broken" in seen:
            entry.broken += 1
        elif "kept" in seen:
            entry.kept += 1
    return rules


def adherence(
    queries: ReportReads,
    start: datetime,
    end: datetime,
    device_ids: Sequence[int] | None,
) -> Adherence:
    """Adherence per rule for occurrences starting in [start, end), with current streaks."""
    rules = summarize(queries.log_events(start, end, device_ids))
    if rules:
        stopped: set[str] = set()
        for name, _, broken in queries.outcomes_before(end, sorted(rules), device_ids):
            if name in stopped:
                continue
            if broken:
                stopped.add(name)
            else:
                rules[name].streak += 1
    return Adherence(sorted(rules.values(), key=lambda r: r.rule))
