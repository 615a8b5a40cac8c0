"""Snoozes and overrides from the enforcement log (issue 10): what the enforcer reads back.

The CLI, a notification button, the browser's block page and D-Bus all write snoozes and
overrides into the log; the enforcer reads new ones every evaluation (`pick_up`, only when
something was committed since the last look: store.watch) and, at start, rebuilds what was
done from the recent log (`restore`). Each one is judged (`presence.enforce.judge`) before it
is applied to the engine's state; one that fails is logged as `refused` (detail: event_id, of,
why) instead.

Thread contract: the enforcer's lock is held for every call.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from presence.core.errors import PresenceError
from presence.core.faults import FaultBook
from presence.enforce import journal
from presence.enforce.journal import Journal
from presence.enforce.judge import judge, unseen
from presence.enforce.ruleset import RuleSet
from presence.rulebook.policy import rule_policy
from presence.rules.engine import EngineState
from presence.rules.model import Rule
from presence.rules.policy import RulePolicy
from presence.store import EnforcementEvent, RuleStore
from presence.store.watch import Changes

log = logging.getLogger("presence.enforce.enforcer")  # the enforcer's words, as before

RESTORE = timedelta(days=3)
"""How far back the log is read at start to know what was already done."""

Failed = Callable[[str, BaseException, datetime], None]
"""Counts a failure of a part (the enforcer's fault book); raises a fatal error again."""


class LogFollower:
    """Reads, judges and applies the log's snoozes and overrides for one device."""

    def __init__(
        self,
        *,
        store: RuleStore,
        device_id: int,
        state: EngineState,
        ruleset: RuleSet,
        journal: Journal,
        monotonic: Callable[[], float],
        policy_defaults: RulePolicy,
        faults: FaultBook,
        failed: Failed,
    ) -> None:
        self._store = store
        self._device_id = device_id
        self._state = state
        self._ruleset = ruleset
        self._journal = journal
        self._monotonic = monotonic
        self._policy_defaults = policy_defaults
        self._faults = faults
        self._failed = failed
        self._changes = Changes(store.engine)  # snoozes, overrides: read when logged
        self._last_event = 0

    def restore(self, now: datetime) -> None:
        """Rebuild the engine's record of what was done from the recent log. Raises
        StorageError when the log cannot be read."""
        events = self._store.events_between(now - RESTORE, now + timedelta(seconds=1))
        # Snoozes and overrides logged while no daemon of this device ran were judged by
        # none (issue 10): judge them now, in order.
        unjudged = unseen(self._store, self._device_id, events, now - RESTORE, now)
        policy = rule_policy(self._store, now, self._policy_defaults) if unjudged else None
        refusals: list[tuple[EnforcementEvent, Rule, str]] = []

        def judged(event: EnforcementEvent, rule: Rule) -> str | None:
            if policy is None or event.id not in unjudged:
                return None
            return judge(self._store, self._state, event, rule, policy)

        self._last_event = journal.restore(
            events, self._ruleset.by_name(), self._state, self._device_id, judged, refusals
        )
        for event, rule, why in refusals:
            self._refuse(now, event, rule, why)
        self._state.last_now = now
        with contextlib.suppress(PresenceError):
            self._last_event = max(self._last_event, self._store.last_event_id())

    def pick_up(self, now: datetime) -> None:
        """Apply snoozes and overrides logged since the last look (by the CLI, or by us).
        A failing read is counted and retried at the next call; never raises but a fatal
        error."""
        if not self._changes.stale(self._monotonic()):
            return  # nothing committed since the last look (store.watch, issue 9)
        try:
            events = self._store.events_after(self._last_event, ("snooze", "override"))
        except PresenceError as exc:
            self._changes.again()
            self._failed("reading the log", exc, now)
            return
        self._faults.worked("reading the log")
        policy: RulePolicy | None = None
        for event in events:
            self._last_event = max(self._last_event, event.id)
            rule = self._ruleset.get(event.rule_name)
            if rule is None or not journal.relevant(event, self._device_id):
                continue
            if policy is None:
                try:
                    policy = rule_policy(self._store, now, self._policy_defaults)
                except PresenceError as exc:  # the events are read again next time
                    self._last_event = event.id - 1
                    self._changes.again()
                    self._failed("reading the rule policy", exc, now)
                    return
            why = judge(self._store, self._state, event, rule, policy)
            if why is not None:
                self._refuse(now, event, rule, why)
                continue
            journal.apply(event, rule, self._state)
            said = event.detail.get("reason")
            log.info("%s of %s%s", event.event, rule.name, f" ({said})" if said else "")

    def _refuse(self, now: datetime, event: EnforcementEvent, rule: Rule, why: str) -> None:
        log.warning("%s of %s refused: %s", event.event, rule.name, why)
        detail = {"event_id": event.id, "of": event.event, "why": why}
        occ = journal.occurrence(event)
        self._journal.write(now, None, "refused", detail, rule=rule, occ=occ)
