"""The daemon is the judge (issue 10): a snooze or an override found in the enforcement log
is checked against its rule and the rule set's policy before it is applied, whoever wrote it
(the CLI, a notification button, the browser's block page, D-Bus or a hand-edited database).

Enforcer's lock held; reads the log for the overrides of the week before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from presence.enforce import journal
from presence.rulebook.overrides import WEEK, count_taken
from presence.rules.engine import EngineState
from presence.rules.model import Rule
from presence.rules.policy import RulePolicy, judge_override, judge_snooze
from presence.store import EnforcementEvent, RuleStore, Store


def judge(
    store: RuleStore, state: EngineState, event: EnforcementEvent, rule: Rule, policy: RulePolicy
) -> str | None:
    """Why the logged snooze or override `event` must not be applied (None: it stands).
    Snoozes are counted from `state` (the ones applied to the occurrence so far); overrides
    from the log (those of the 7 days before that were not refused). Raises StorageError."""
    reason = event.detail.get("reason")
    reason = reason if isinstance(reason, str) else None
    if event.event == "override":
        earlier = store.events_between(event.ts - WEEK, event.ts + timedelta(seconds=1))
        taken = count_taken([e for e in earlier if e.id < event.id], "override")
        return judge_override(rule, policy, taken, reason=reason)
    until, waited = event.detail.get("until"), event.detail.get("waited", 0.0)
    if not isinstance(until, int | float) or not isinstance(waited, int | float):
        return "the snooze is malformed"
    track = state.tracks.get(journal.occurrence(event).key)
    return judge_snooze(
        rule,
        policy,
        0 if track is None else track.snoozes,
        reason=reason,
        seconds=float(until) - event.ts.timestamp(),
        waited=float(waited),
    )


SEEN_MARGIN = timedelta(seconds=30)
"""A daemon run is taken to have seen the log until this long after its last heartbeat."""


def unseen(
    store: RuleStore,
    device_id: int,
    events: Sequence[EnforcementEvent],
    start: datetime,
    end: datetime,
) -> set[int]:
    """The ids of the snoozes and overrides among `events` logged while no daemon of this
    device ran (between `start` and `end`): no daemon judged them. Raises StorageError."""
    asked = [e for e in events if e.event in ("snooze", "override")]
    if not asked:
        return set()
    runs = Store(store.engine).runs_between(start, end, [device_id])
    spans = [(r.started, (r.ended or r.last_seen) + SEEN_MARGIN) for r in runs]
    return {e.id for e in asked if not any(lo <= e.ts <= hi for lo, hi in spans)}
