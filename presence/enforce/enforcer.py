"""The enforcer: runs the rule engine against what the screen is doing, carries out its
decisions through the platform backends, and writes every step to the enforcement log.

Driven from the daemon's tick (`on_tick`, sampler thread) and from the scheduling glue's
timer, which wakes it exactly when a warning or start is due between ticks (`on_timer`, the
timer's thread). A notification button calls `on_notification_action` from the notifier's
listener thread. One re-entrant lock serialises all three, so the backends are only ever
used by one thread at a time. None of these entry points raises: a failing backend or
database is logged (once) and the next call tries again.

Snoozes and overrides, from the CLI or from a notification button, are events in the
enforcement log; the enforcer reads new ones every evaluation and applies them to the
engine's state, so the daemon and the CLI need no other channel.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Protocol

from presence.core.clock import Clock
from presence.core.errors import BackendError, PresenceError
from presence.core.model import Observation, Span, SpanState
from presence.enforce import journal, messages
from presence.enforce.apps import AppActions, Categorize
from presence.enforce.notes import SNOOZE_KEY, Notes
from presence.enforce.ruleset import RuleSet
from presence.enforce.usage import UsageMeter, kept
from presence.platform.base import AppController, Notifier, ScreenLocker
from presence.platform.capability import Capability
from presence.rules.engine import (
    Context,
    Decision,
    EngineState,
    Policy,
    Step,
    evaluate,
    upcoming_instants,
)
from presence.rules.model import Action, Rule
from presence.rules.schedule import Occurrence
from presence.store import RuleStore
from presence.tracking.timeline import state_of

log = logging.getLogger(__name__)

RESTORE = timedelta(days=3)
"""How far back the log is read at start to know what was already done."""


class Timer(Protocol):
    """Wakes the enforcer at given instants (the scheduling glue). Any thread."""

    def plan(self, instants: Sequence[datetime]) -> None: ...


class Enforcer:
    """Enforces the rules on one device. Build it, `start()` it, feed it ticks, `shutdown()`."""

    def __init__(
        self,
        *,
        rules: RuleStore,
        clock: Clock,
        zone: tzinfo,
        device: str,
        device_id: int,
        policy: Policy,
        idle_after: float,
        snooze_seconds: float,
        close_timeout: float,
        notifier: Capability[Notifier],
        locker: Capability[ScreenLocker],
        apps: Capability[AppController],
        categorize: Categorize | None = None,
        paused_file: Path | None = None,
    ) -> None:
        self.timer: Timer | None = None
        self._store = rules
        self._clock = clock
        self._zone = zone
        self._device = device
        self._device_id = device_id
        self._policy = policy
        self._idle_after = idle_after
        self._snooze = snooze_seconds
        self._notifier = notifier
        self._notes = Notes(notifier, snooze_seconds, self.on_notification_action)
        self._locker = locker
        self._categorize: Categorize = categorize or (lambda app, title: None)
        self._apps_cap = apps
        self._apps = AppActions(apps, close_timeout, paused_file)
        self._usage = UsageMeter(rules, device_id, zone, policy.day_start, self._categorize)
        self._lock = threading.RLock()
        self._state = EngineState()
        self._ruleset = RuleSet(rules)
        self._last_event = 0
        self._context = Context(zone, device, observed=False)
        self._occurrences: dict[tuple[str, float], Occurrence] = {}
        self._planned: list[datetime] = []
        self._errors: set[tuple[str, float, str]] = set()
        self._fallback_nudged: dict[tuple[str, float], float] = {}
        self._complained: set[str] = set()
        self._closed = False

    # -- entry points ----------------------------------------------------------------------

    def start(self) -> None:
        """Load the rules and rebuild what was done from the log. Never raises."""
        with self._lock:
            now = self._clock.now()
            try:
                self._refresh_rules(now, force=True)
                self._restore(now)
            except PresenceError as exc:
                self._complain("start", f"cannot read the rules: {exc.message}")
            log.info("enforcing %d rules", len(self._rules))

    def on_tick(self, obs: Observation | None, open_span: Span | None) -> None:
        """One tick's observation (None: recording is paused). Sampler thread; never raises."""
        with self._lock:
            try:
                now = self._clock.now()
                self._usage.set_open(open_span)
                self._context = self._observe(obs, now)
                self._evaluate(now)
            except Exception:
                self._complain_exc("tick")

    def on_timer(self) -> None:
        """A planned instant came (timer thread): evaluate with the last tick's observation."""
        with self._lock:
            if self._closed:
                return  # a job that fired while the daemon was stopping
            try:
                self._evaluate(self._clock.now())
            except Exception:
                self._complain_exc("timer")

    def on_notification_action(self, notification_id: int, key: str) -> None:
        """A notification button was clicked (notifier's listener thread). Never raises."""
        with self._lock:
            if self._closed:
                return
            try:
                self._snooze_from_notification(notification_id, key)
            except Exception:
                self._complain_exc("notification action")

    def shutdown(self) -> None:
        """Resume every paused app and release the backends. Main thread; never raises."""
        with self._lock:
            self._closed = True
            mono = self._clock.monotonic()
            try:
                self._apps.release_all(mono)
            except Exception:
                log.exception("could not resume the paused apps")
            for cap in (self._notifier, self._locker, self._apps_cap):
                try:
                    cap.close()
                except Exception:
                    log.debug("closing %s raised", cap.name, exc_info=True)

    # -- one evaluation --------------------------------------------------------------------

    def _evaluate(self, now: datetime) -> None:
        self._refresh_rules(now)
        self._pick_up(now)
        mono = self._clock.monotonic()
        context = replace(self._context, usage=self._usage.limits(self._rules, now, mono))
        result = evaluate(self._rules, now, self._state, context, self._policy)
        for decision in result.decisions:
            self._do(decision, now, mono)
        in_force = [occ.key for _, occ in result.in_force]
        for app in self._apps.follow_up(in_force, mono):
            log.info("terminated %s", app)
        self._plan(now, context)

    def _observe(self, obs: Observation | None, now: datetime) -> Context:
        if obs is None or obs.blind:
            return Context(self._zone, self._device, observed=False)
        state = state_of(obs, self._idle_after)
        app = title = None
        if obs.window is not None and state is not SpanState.LOCKED:
            app, title = obs.window.app, obs.window.title
        category = self._categorize(app, title) if app is not None else None
        return Context(
            zone=self._zone,
            device=self._device,
            active=state is SpanState.ACTIVE,
            locked=obs.locked,
            idle_seconds=obs.idle_seconds,
            app=app,
            categories=frozenset({category}) if category else frozenset(),
        )

    def _plan(self, now: datetime, context: Context) -> None:
        if self.timer is None:
            return
        instants = upcoming_instants(self._rules, now, self._state, context, self._policy)
        if instants != self._planned:
            self._planned = instants
            self.timer.plan(instants)

    # -- rules and the log -----------------------------------------------------------------

    def _refresh_rules(self, now: datetime, force: bool = False) -> None:
        try:
            self._ruleset.refresh(now, force=force)
        except PresenceError as exc:
            self._complain("rules", f"cannot read the rules: {exc.message}")

    @property
    def _rules(self) -> list[Rule]:
        return self._ruleset.rules

    def _restore(self, now: datetime) -> None:
        """Rebuild the engine's record of what was done from the recent log."""
        events = self._store.events_between(now - RESTORE, now + timedelta(seconds=1))
        self._last_event = journal.restore(
            events, self._ruleset.by_name(), self._state, self._device_id
        )
        self._state.last_now = now
        with contextlib.suppress(PresenceError):
            self._last_event = max(self._last_event, self._store.last_event_id())

    def _pick_up(self, now: datetime) -> None:
        """Apply snoozes and overrides logged since the last look (by the CLI, or by us)."""
        try:
            events = self._store.events_after(self._last_event, ("snooze", "override"))
        except PresenceError as exc:
            self._complain("log", f"cannot read the enforcement log: {exc.message}")
            return
        for event in events:
            self._last_event = max(self._last_event, event.id)
            rule = self._ruleset.get(event.rule_name)
            if rule is not None and journal.relevant(event, self._device_id):
                journal.apply(event, rule, self._state)
                log.info("%s of %s (%s)", event.event, rule.name, event.detail.get("reason", ""))

    def _log(
        self,
        now: datetime,
        decision: Decision | None,
        event: str,
        detail: dict[str, Any] | None = None,
        *,
        rule: Rule | None = None,
        occ: Occurrence | None = None,
    ) -> None:
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
                rule_id=self._ruleset.ids.get(rule.name),
            )
        except PresenceError as exc:
            self._complain("log write", f"cannot write the enforcement log: {exc.message}")

    # -- carrying out decisions -------------------------------------------------------------

    def _do(self, decision: Decision, now: datetime, mono: float) -> None:
        rule, occ = decision.rule, decision.occurrence
        self._occurrences[occ.key] = occ
        if decision.step is Step.WARN:
            self._notify(decision, now, mono)
            self._log(
                now,
                decision,
                "warning",
                {"lead": decision.lead, "seconds_left": _r(decision.seconds_left)},
            )
        elif decision.step is Step.START:
            self._notify(decision, now, mono)
            self._log(now, decision, "start", {"action": rule.action.value})
        elif decision.step is Step.ACT:
            self._act(decision, now, mono)
        else:
            self._end(decision, now, mono)

    def _act(self, decision: Decision, now: datetime, mono: float) -> None:
        rule, occ = decision.rule, decision.occurrence
        again = not decision.first
        if rule.action is Action.NUDGE:
            self._notify(decision, now, mono)
            self._log(
                now,
                decision,
                "nudge" if again else "action",
                {"action": "nudge", "app": decision.app},
            )
            return
        if rule.action is Action.LOCK:
            locker = self._locker.get(mono)
            if locker is None:
                self._fail(
                    decision, now, mono, "no way to lock the screen here (see `presence doctor`)"
                )
                return
            confirmed = locker.lock()
            self._log(
                now, decision, "action", {"action": "lock", "confirmed": confirmed, "again": again}
            )
            if not confirmed:
                self._fail(decision, now, mono, "the screen lock could not be confirmed")
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
            self._log(
                now,
                decision,
                "action",
                {"action": rule.action.value, "apps": sorted(set(done)), "again": again},
            )
        if done:
            summary, body = messages.acted(decision, done, self._zone, now)
            self._notes.show(occ.key, summary, body, mono, snooze=not rule.strict)

    def _fail(self, decision: Decision, now: datetime, mono: float, why: str) -> None:
        """An action could not be carried out: log it once per occurrence, and nudge instead
        (at most once per `nudge_every`: a sweep fails every tick)."""
        occ = decision.occurrence
        marker = (occ.key[0], occ.key[1], why)
        if marker not in self._errors:
            self._errors.add(marker)
            log.warning("%s: %s", decision.rule.name, why)
            self._log(now, decision, "error", {"action": decision.rule.action.value, "reason": why})
        last = self._fallback_nudged.get(occ.key)
        if last is None or mono - last >= self._policy.nudge_every:
            self._fallback_nudged[occ.key] = mono
            summary, body = messages.nudge(decision, self._zone, now)
            self._notes.show(occ.key, summary, body, mono, snooze=not decision.rule.strict)

    def _end(self, decision: Decision, now: datetime, mono: float) -> None:
        rule, occ = decision.rule, decision.occurrence
        self._apps.release(occ.key, mono)
        end = occ.end or now
        detail: dict[str, Any] = {}
        if decision.skipped:
            detail["skipped"] = True
        if decision.cancelled:
            detail["cancelled"] = True
        self._log(now, decision, "end", detail)
        try:
            used = self._usage.used(rule, occ.start, end)
        except PresenceError as exc:
            self._complain("outcome", f"cannot measure the use inside {rule.name}: {exc.message}")
            return
        outcome = "kept" if kept(rule, used, (end - occ.start).total_seconds()) else "broken"
        self._log(now, decision, outcome, {"minutes_used": round(used / 60, 3)})
        log.info("%s %s: %s (%.1f min used)", rule.kind.value, rule.name, outcome, used / 60)
        self._notes.forget(occ.key)
        self._occurrences.pop(occ.key, None)
        self._fallback_nudged.pop(occ.key, None)

    # -- notifications ---------------------------------------------------------------------

    def _notify(self, decision: Decision, now: datetime, mono: float) -> None:
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

    def _snooze_from_notification(self, notification_id: int, action: str) -> None:
        key = self._notes.occurrence_of(notification_id)
        if action != SNOOZE_KEY or key is None:
            return
        rule = self._ruleset.get(key[0])
        occ = self._occurrences.get(key)
        track = self._state.tracks.get(key)
        if rule is None or occ is None:
            return
        now = self._clock.now()
        mono = self._clock.monotonic()
        if rule.strict:
            self._notes.show(
                key, *messages.refused(rule, "a strict rule cannot be snoozed."), mono, snooze=False
            )
            return
        if track is not None and track.snoozes >= 1:
            why = "snoozed once already; `presence snooze --reason TEXT` for another."
            self._notes.show(key, *messages.refused(rule, why), mono, snooze=False)
            return
        until = now + timedelta(seconds=self._snooze)
        self._log(
            now,
            None,
            "snooze",
            {"until": until.timestamp(), "minutes": self._snooze / 60, "source": "notification"},
            rule=rule,
            occ=occ,
        )
        self._pick_up(now)
        self._evaluate(now)  # resumes paused apps at once
        self._notes.show(key, *messages.snoozed(rule, until, self._zone, now), mono, snooze=False)

    # -- complaints --------------------------------------------------------------------------

    def _complain(self, what: str, message: str) -> None:
        """Log a problem once (per kind), at WARNING; repeats go to DEBUG."""
        if what in self._complained:
            log.debug("%s", message)
            return
        self._complained.add(what)
        log.warning("%s", message)

    def _complain_exc(self, where: str) -> None:
        if where in self._complained:
            log.debug("enforcement failed in %s", where, exc_info=True)
            return
        self._complained.add(where)
        log.exception("enforcement failed in %s (this is a bug; enforcement continues)", where)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
