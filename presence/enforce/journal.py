"""Reading the enforcement log back into the engine's state: at start, what was already done
(so a restart repeats nothing); every evaluation, the snoozes and overrides logged since
(by the CLI, or by a notification button). Pure apart from the state it fills.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from presence.rules.engine import EngineState
from presence.rules.model import Rule
from presence.rules.schedule import Occurrence
from presence.store import EnforcementEvent
from presence.store.tracking import dt


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
) -> int:
    """Replay `events` (oldest first) into `state`; returns the highest event id seen."""
    last = 0
    for event in events:
        last = max(last, event.id)
        rule = rules.get(event.rule_name)
        if rule is None or not relevant(event, device_id):
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
