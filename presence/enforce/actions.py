"""Carrying out the engine's decisions: warnings and starts as notifications, the rule's
action (nudge, lock, close or pause apps) with a nudge as the fallback when it cannot be done,
and at an occurrence's end its outcome (kept or broken, measured from the active time). Every
step is written to the enforcement log.

Thread contract: the enforcer's lock is held for every call.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from typing import Any

from presence.core.errors import BackendError, PresenceError
from presence.core.faults import FaultBook, describe
from presence.enforce import messages
from presence.enforce.apps import AppActions, Categorize
from presence.enforce.journal import Journal
from presence.enforce.notes import Notes
from presence.enforce.usage import UsageMeter, kept
from presence.platform.base import ScreenLocker
from presence.platform.capability import Capability
from presence.rules.engine import Decision, EngineState, Policy, Step
from presence.rules.model import Action
from presence.rules.schedule import Occurrence

log = logging.getLogger(__name__)

OccurrenceKey = tuple[str, float]


class Actions:
    """Does what the decisions say, through the notes, the locker and the app actions."""

    def __init__(
        self,
        *,
        journal: Journal,
        notes: Notes,
        locker: Capability[ScreenLocker],
        apps: AppActions,
        usage: UsageMeter,
        state: EngineState,
        policy: Policy,
        zone: tzinfo,
        categorize: Categorize,
        faults: FaultBook,
    ) -> None:
        self._journal = journal
        self._notes = notes
        self._locker = locker
        self._apps = apps
        self._usage = usage
        self._state = state
        self._policy = policy
        self._zone = zone
        self._categorize = categorize
        self._faults = faults
        self.occurrences: dict[OccurrenceKey, Occurrence] = {}  # those decided on, not ended
        self._errors: set[tuple[str, float, str]] = set()
        self._fallback_nudged: dict[OccurrenceKey, float] = {}

    def do(self, decision: Decision, now: datetime, mono: float) -> None:
        """Carry out one decision and log it. Raises only a fatal error."""
        rule, occ = decision.rule, decision.occurrence
        self.occurrences[occ.key] = occ
        if decision.step is Step.WARN:
            self.notify(decision, now, mono)
            self._journal.write(
                now,
                decision,
                "warning",
                {"lead": decision.lead, "seconds_left": _r(decision.seconds_left)},
            )
        elif decision.step is Step.START:
            self.notify(decision, now, mono)
            self._journal.write(now, decision, "start", {"action": rule.action.value})
        elif decision.step is Step.ACT:
            self._act(decision, now, mono)
        else:
            self._end(decision, now, mono)

    def notify(self, decision: Decision, now: datetime, mono: float) -> None:
        """The decision's notification, with a Snooze button where one is allowed."""
        text = messages.text_for(decision, self._zone, now)
        if text is None:
            return
        track = self._state.tracks.get(decision.occurrence.key)
        snooze = (
            not decision.rule.strict
            and decision.step is not Step.WARN
            and (track is None or track.snoozes == 0)
        )
        self._notes.show(decision.occurrence.key, *text, mono, snooze=snooze)

    def _act(self, decision: Decision, now: datetime, mono: float) -> None:
        rule, occ = decision.rule, decision.occurrence
        again = not decision.first
        if rule.action is Action.NUDGE:
            self.notify(decision, now, mono)
            self._journal.write(
                now,
                decision,
                "nudge" if again else "action",
                {"action": "nudge", "app": decision.app},
            )
            return
        if rule.action is Action.LOCK:
            self._lock(decision, now, mono, again)
            return
        try:
            if rule.action is Action.CLOSE_APPS:
                done = self._apps.close(occ.key, rule, decision.app, self._categorize, mono)
            else:
                done = self._apps.pause(occ.key, rule, decision.app, self._categorize, mono)
        except BackendError as exc:
            self._fail(decision, now, mono, exc.message)
            return
        if done or decision.first:
            self._journal.write(
                now,
                decision,
                "action",
                {"action": rule.action.value, "apps": sorted(set(done)), "again": again},
            )
        if done:
            summary, body = messages.acted(decision, done, self._zone, now)
            self._notes.show(occ.key, summary, body, mono, snooze=not rule.strict)

    def _lock(self, decision: Decision, now: datetime, mono: float, again: bool) -> None:
        locker = self._locker.get(mono)
        if locker is None:
            self._fail(
                decision, now, mono, "no way to lock the screen here (see `presence doctor`)"
            )
            return
        try:
            confirmed = locker.lock()
        except Exception as exc:
            self._locker.failed(exc, mono, wall=now)  # raises a fatal error again
            self._fail(decision, now, mono, f"the screen locker failed: {describe(exc)}")
            return
        self._locker.worked()
        self._journal.write(
            now, decision, "action", {"action": "lock", "confirmed": confirmed, "again": again}
        )
        if not confirmed:
            self._fail(decision, now, mono, "the screen lock could not be confirmed")

    def _fail(self, decision: Decision, now: datetime, mono: float, why: str) -> None:
        """An action could not be carried out: log it once per occurrence, and nudge instead
        (at most once per `nudge_every`: a sweep fails every tick)."""
        occ = decision.occurrence
        marker = (occ.key[0], occ.key[1], why)
        if marker not in self._errors:
            self._errors.add(marker)
            log.warning("%s: %s", decision.rule.name, why)
            self._journal.write(
                now, decision, "error", {"action": decision.rule.action.value, "reason": why}
            )
        last = self._fallback_nudged.get(occ.key)
        if last is None or mono - last >= self._policy.nudge_every:
            self._fallback_nudged[occ.key] = mono
            summary, body = messages.nudge(decision, self._zone, now)
            self._notes.show(occ.key, summary, body, mono, snooze=not decision.rule.strict)

    def _end(self, decision: Decision, now: datetime, mono: float) -> None:
        """The occurrence is over: resume its apps, log its end and its outcome."""
        rule, occ = decision.rule, decision.occurrence
        self._apps.release(occ.key, mono)
        end = occ.end or now
        detail: dict[str, Any] = {}
        if decision.skipped:
            detail["skipped"] = True
        if decision.cancelled:
            detail["cancelled"] = True
        self._journal.write(now, decision, "end", detail)
        try:
            used = self._usage.used(rule, occ.start, end)
        except PresenceError as exc:
            self._faults.part("measuring outcomes").failed(exc, mono, wall=now)
            return
        self._faults.worked("measuring outcomes")
        outcome = "kept" if kept(rule, used, (end - occ.start).total_seconds()) else "broken"
        self._journal.write(now, decision, outcome, {"minutes_used": round(used / 60, 3)})
        log.info("%s %s: %s (%.1f min used)", rule.kind.value, rule.name, outcome, used / 60)
        self._notes.forget(occ.key)
        self.occurrences.pop(occ.key, None)
        self._fallback_nudged.pop(occ.key, None)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
