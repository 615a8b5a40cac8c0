"""The enforcement log: writing each step (`Journal`), and reading it back into the engine's
state: at start, what was already done (so a restart repeats nothing); every evaluation, the
snoozes and overrides logged since (by the CLI, or by a notification button). The readers are
pure apart from the state they fill.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from presence.core.errors import PresenceError
from presence.core.faults import FaultBook
from presence.rules.engine import Decision, EngineState
from presence.rules.model import Rule
from presence.rules.schedule import Occurrence
from presence.store import EnforcementEvent, RuleStore
from presence.store.tracking import dt


class Journal:
    """Writes the enforcement log for one device. A failed write is counted in `faults`
    ("writing the log") and dropped: enforcement goes on. Enforcer's lock held."""

    def __init__(
        self,
        store: RuleStore,
        device_id: int,
        rule_ids: Callable[[], Mapping[str, int]],
        faults: FaultBook,
        mono: Callable[[], float],
    ) -> None:
        self._store = store
        self._device_id = device_id
        self._rule_ids = rule_ids
        self._faults = faults
        self._mono = mono

    def write(
        self,
        now: datetime,
        decision: Decision | None,
        event: str,
        detail: dict[str, Any] | None = None,
        *,
        rule: Rule | None = None,
        occ: Occurrence | None = None,
    ) -> None:
        """Log `event` of `decision` (or of `rule` and `occ`); nothing without a rule."""
        rule = rule or (decision.rule if decision else None)
        occ = occ or (decision.occurrence if decision else None)
        if rule is None:
            return
        try:
            self._store.log(
                now,
                rule.name,
                event,
                occurrence=None if occ is None else (occ.start, occ.end),
                detail=detail,
                device_id=self._device_id,
                rule_id=self._rule_ids().get(rule.name),
            )
        except PresenceError as exc:
            self._faults.part("writing the log").failed(exc, self._mono(), wall=now)
        else:
            self._faults.worked("writing the log")


def occurrence(event: EnforcementEvent) -> Occurrence:
    """The occurrence an event belongs to (the caller checked it has one)."""
    assert event.occurrence_start is not None  # callers skip events without an occurrence
    end = None if event.occurrence_end is None else dt(event.occurrence_end)
    return Occurrence(event.rule_name, dt(event.occurrence_start), end)


def relevant(event: EnforcementEvent, device_id: int) -> bool:
    """Events of this device, or of every device (overrides), that belong to an occurrence."""
    return event.device_id in (None, device_id) and event.occurrence_start is not None


def restore(
    events: Iterable[EnforcementEvent],
    rules: Mapping[str, Rule],
    state: EngineState,
    device_id: int,
    judge: Callable[[EnforcementEvent, Rule], str | None] | None = None,
    refusals: list[tuple[EnforcementEvent, Rule, str]] | None = None,
) -> int:
    """Replay `events` (oldest first) into `state`; returns the highest event id seen.
    Snoozes and overrides the daemon refused (issue 10) are left out, and so are those
    `judge` refuses now (called in order, with `state` as it stood then): each of those is
    added to `refusals` with why, for the caller to log."""
    events = list(events)
    refused = {
        e.detail["event_id"]
        for e in events
        if e.event == "refused" and isinstance(e.detail.get("event_id"), int)
    }
    last = 0
    for event in events:
        last = max(last, event.id)
        rule = rules.get(event.rule_name)
        if rule is None or not relevant(event, device_id) or event.id in refused:
            continue
        occ = occurrence(event)
        track = state.track(rule, occ)
        ts = event.ts.timestamp()
        if event.event == "warning" and isinstance(event.detail.get("lead"), int | float):
            track.warned.add(float(event.detail["lead"]))
        elif event.event == "start":
            track.started, track.since = True, ts
        elif event.event in ("action", "nudge"):
            track.acted, track.last_action = True, ts
        elif event.event == "end":
            track.ended = True
        if judge is not None and event.event in ("snooze", "override"):
            why = judge(event, rule)
            if why is not None:
                if refusals is not None:
                    refusals.append((event, rule, why))
                continue
        apply(event, rule, state)
    return last


def apply(event: EnforcementEvent, rule: Rule, state: EngineState) -> bool:
    """Apply a snooze or an override to `state`; returns whether it was one."""
    if event.event == "snooze":
        until = event.detail.get("until")
        if isinstance(until, int | float):
            state.snooze(rule, occurrence(event), float(until))
            return True
    elif event.event == "override":
        state.override(rule, occurrence(event))
        return True
    return False
