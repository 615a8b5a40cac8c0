"""The enforcer: runs the rule engine against what the screen is doing, and has its decisions
carried out (`actions`) through the platform backends and written to the enforcement log.

Driven from the daemon's tick (`on_tick`, sampler thread) and from the scheduling glue's
timer, which wakes it exactly when a warning or start is due between ticks (`on_timer`, the
timer's thread). A notification button calls `on_notification_action` from the notifier's
listener thread. One re-entrant lock serialises all three, so the backends and the engine's
state are only ever used by one thread at a time (a backend is built lazily, under that lock,
on whichever of these threads first needs it).

Errors follow `presence.core.faults`: none of the entry points raises but for a fatal error.
A failing backend is backed off by its `Capability`; a failing database read or write is
counted and the evaluation goes on with what it has (the next tick reads again); an
unexpected exception in an evaluation (a bug) is counted and evaluations are backed off
(30 s doubling to 10 min). `faults()` returns the counts for `presence status` and `doctor`.

Snoozes and overrides, from the CLI or from a notification button, are events in the
enforcement log; the enforcer reads new ones every evaluation (`presence.enforce.pickup`) and
applies them to the engine's state, so the daemon and the CLI need no other channel. The
daemon is the judge (issue 10): each one is checked against the rule (strict) and the rule
set's policy (`presence.rules.policy`: allowance, reason, wait, length, overrides a week)
before it is applied, and one that fails is logged as `refused` (detail: event_id, of, why)
instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Protocol

from presence.core.clock import Clock
from presence.core.errors import PresenceError
from presence.core.faults import FaultBook, FaultSnapshot, describe
from presence.core.model import Observation, Span, SpanState
from presence.enforce import messages
from presence.enforce.actions import Actions
from presence.enforce.apps import AppActions, Categorize
from presence.enforce.journal import Journal
from presence.enforce.notes import SNOOZE_KEY, Notes
from presence.enforce.pickup import LogFollower
from presence.enforce.ruleset import RuleSet
from presence.enforce.sites import Covers, title_sites
from presence.enforce.usage import UsageMeter, with_site
from presence.platform.base import AppController, Notifier, ScreenLocker
from presence.platform.capability import Capability
from presence.rulebook.policy import rule_policy
from presence.rules.engine import Context, EngineState, Policy, evaluate, upcoming_instants
from presence.rules.model import Rule
from presence.rules.policy import BUILT_IN, RulePolicy
from presence.store import RuleStore
from presence.tracking.timeline import state_of

log = logging.getLogger(__name__)

PLACE_EVERY = 15.0
"""Seconds between two reads of the device's zone (issue 12)."""

EVALUATION = "evaluation"
"""The fault-book part of a whole evaluation failing unexpectedly (a bug)."""


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
        fallback: Notifier,
        locker: Capability[ScreenLocker],
        apps: Capability[AppController],
        categorize: Categorize | None = None,
        paused_file: Path | None = None,
        person: str | None = None,
        place_of: Callable[[], str | None] | None = None,
        policy_defaults: RulePolicy = BUILT_IN,
        extension_covers: Covers | None = None,
    ) -> None:
        """`fallback` shows a notification when `notifier` has no working backend (the
        composition root passes the log's). `person` uses this device; `place_of` reads its
        zone in the home (issue 12), asked again every PLACE_EVERY seconds, so a device moved
        to another zone anywhere is bound by that zone's rules within a minute.
        `policy_defaults` seed a rule set without a policy (the settings file's values).
        `extension_covers` tells whether a browser's extension sees its focused window (None:
        never): where it does not, site rules match the window's title (enforce.sites)."""
        self._covers = extension_covers
        self._policy_defaults = policy_defaults
        self.timer: Timer | None = None
        self._store = rules
        self._clock = clock
        self._zone = zone
        self._device = device
        self._device_id = device_id
        self._policy = policy
        self._idle_after = idle_after
        self._caps: tuple[Capability[Any], ...] = (notifier, locker, apps)
        self._faults = FaultBook("enforcement: ")
        self._faults_seen: list[FaultSnapshot] = []
        self._notes = Notes(notifier, fallback, snooze_seconds, self.on_notification_action)
        self._categorize: Categorize = categorize or (lambda app, title: None)
        self._apps = AppActions(apps, close_timeout, paused_file)
        self._usage = UsageMeter(rules, device_id, zone, policy.day_start, self._categorize)
        self._lock = threading.RLock()
        self._state = EngineState()
        self._ruleset = RuleSet(rules)
        self._journal = Journal(
            rules, device_id, lambda: self._ruleset.ids, self._faults, clock.monotonic
        )
        self._actions = Actions(
            journal=self._journal,
            notes=self._notes,
            locker=locker,
            apps=self._apps,
            usage=self._usage,
            state=self._state,
            policy=policy,
            zone=zone,
            categorize=self._categorize,
            faults=self._faults,
        )
        self._follower = LogFollower(
            store=rules,
            device_id=device_id,
            state=self._state,
            ruleset=self._ruleset,
            journal=self._journal,
            monotonic=clock.monotonic,
            policy_defaults=policy_defaults,
            faults=self._faults,
            failed=self._failed,
        )
        self._person = person
        self._place_of = place_of
        self._place: str | None = None
        self._place_read = -PLACE_EVERY
        self._context = Context(zone, device, observed=False, person=person)
        self._planned: list[datetime] = []
        self._closed = False
        self._fatal: BaseException | None = None  # met off the sampler thread, raised on it

    # -- entry points ----------------------------------------------------------------------

    def start(self) -> None:
        """Load the rules and rebuild what was done from the log. Never raises."""
        with self._lock:
            now = self._clock.now()
            try:
                self._refresh_rules(now, force=True)
                self._follower.restore(now)
            except PresenceError as exc:
                self._failed("reading the rules", exc, now)
            log.info("enforcing %d rules", len(self._rules))

    def on_tick(self, obs: Observation | None, open_span: Span | None) -> None:
        """One tick's observation (None: recording is paused). Sampler thread; raises only a
        fatal error."""
        with self._lock:
            if self._fatal is not None:
                raise self._fatal  # met on another thread: the daemon stops here
            self._guarded(self._clock.now(), (obs, open_span))

    def on_timer(self) -> None:
        """A planned instant came (timer thread): evaluate with the last tick's observation.
        Never raises: a fatal error is kept for the next `on_tick` to raise."""
        with self._lock:
            if self._closed:
                return  # a job that fired while the daemon was stopping
            try:
                self._guarded(self._clock.now())  # the last tick's observation
            except BaseException as exc:
                # A fatal error cannot stop the daemon from the timer's thread: the next
                # tick raises it on the sampler thread.
                log.error("enforcement stops: %s", describe(exc))
                self._fatal = exc

    def on_notification_action(self, notification_id: int, key: str) -> None:
        """A notification button was clicked (notifier's listener thread). Never raises."""
        with self._lock:
            if self._closed:
                return
            try:
                self._snooze_from_notification(notification_id, key)
            except Exception as exc:
                try:
                    self._failed("a notification button", exc, self._clock.now())
                except BaseException as fatal:
                    log.error("enforcement stops: %s", describe(fatal))
                    self._fatal = fatal  # raised by the next tick (see on_timer)

    def shutdown(self) -> None:
        """Resume every paused app and release the backends. Main thread; never raises."""
        with self._lock:
            self._closed = True
            mono = self._clock.monotonic()
            try:
                self._apps.release_all(mono)
            except Exception:
                log.exception("could not resume the paused apps")
            for cap in self._caps:
                try:
                    cap.close()
                except Exception:
                    log.debug("closing %s raised", cap.name, exc_info=True)

    def capabilities(self) -> dict[str, str | None]:
        """Per capability (notify, lock, apps), the backend that carries it out here, or
        None when none works (issue 10: say when nothing can act). Builds the backends that
        were not built yet. Main thread, after `start()`; never raises but a fatal error."""
        with self._lock:
            mono = self._clock.monotonic()
            found: dict[str, str | None] = {}
            for key, cap in zip(("notify", "lock", "apps"), self._caps, strict=True):
                backend = cap.get(mono)
                found[key] = None if backend is None else str(getattr(backend, "name", key))
            return found

    @property
    def rules(self) -> list[Rule]:
        """The rules as last read (replaced whole on a change, never mutated). Any thread."""
        return self._ruleset.rules

    def faults(self) -> list[FaultSnapshot]:
        """What failed since the start (backends and steps), for `status` and `doctor`.
        Any thread; never waits long for a running evaluation (a slow action): then the
        counts of the last call are returned."""
        if not self._lock.acquire(timeout=0.05):
            return self._faults_seen
        try:
            caps = [snap for cap in self._caps if (snap := cap.snapshot()) is not None]
            self._faults_seen = caps + self._faults.snapshots()
            return self._faults_seen
        finally:
            self._lock.release()

    # -- one evaluation --------------------------------------------------------------------

    def _guarded(
        self, now: datetime, tick: tuple[Observation | None, Span | None] | None = None
    ) -> None:
        """Take in a tick's observation and open span (when given) and evaluate, unless a
        failing evaluation is being backed off; a failure is counted."""
        mono = self._clock.monotonic()
        if not self._faults.part(EVALUATION).ready(mono):
            return
        try:
            if tick is not None:
                obs, open_span = tick
                self._usage.set_open(open_span)
                self._context = self._observe(obs, now)
            self._evaluate(now)
        except Exception as exc:
            self._failed(EVALUATION, exc, now)
        else:
            self._faults.worked(EVALUATION)

    def _failed(self, part: str, exc: BaseException, now: datetime) -> None:
        """Count a failure of `part`; raises `exc` again when it is fatal."""
        self._faults.part(part).failed(exc, self._clock.monotonic(), wall=now)

    def _evaluate(self, now: datetime) -> None:
        self._refresh_rules(now)
        self._follower.pick_up(now)
        mono = self._clock.monotonic()
        context = replace(self._context, usage=self._usage.limits(self._rules, now, mono))
        result = evaluate(self._rules, now, self._state, context, self._policy)
        for decision in result.decisions:
            self._actions.do(decision, now, mono)
        in_force = [occ.key for _, occ in result.in_force]
        for app in self._apps.follow_up(in_force, mono):
            log.info("terminated %s", app)
        self._plan(now, context)

    def _observe(self, obs: Observation | None, now: datetime) -> Context:
        if obs is None or obs.blind:
            return Context(
                self._zone, self._device, observed=False, place=self._place, person=self._person
            )
        state = state_of(obs, self._idle_after)
        app = title = None
        if obs.window is not None and state is not SpanState.LOCKED:
            app, title = obs.window.app, obs.window.title
        site = obs.window.site if obs.window is not None else None
        # the reports' categoriser with the title and the tab's site (issue 10)
        category = self._categorize(app, with_site(title, site)) if app is not None else None
        return Context(
            zone=self._zone,
            device=self._device,
            active=state is SpanState.ACTIVE,
            locked=obs.locked,
            idle_seconds=obs.idle_seconds,
            app=app,
            categories=frozenset({category}) if category else frozenset(),
            place=self._place,
            person=self._person,
            title_sites=title_sites(
                app, None if site else title, self._rules, self._covers, now.timestamp()
            ),
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
            self._refresh_place(force)
            self._ruleset.refresh(now, force=force)
        except PresenceError as exc:
            self._failed("reading the rules", exc, now)
        else:
            self._faults.worked("reading the rules")

    def _refresh_place(self, force: bool) -> None:
        """Read the device's zone again when PLACE_EVERY has passed. Raises StorageError."""
        mono = self._clock.monotonic()
        if self._place_of is None or (not force and mono - self._place_read < PLACE_EVERY):
            return
        self._place_read = mono
        place = self._place_of()
        if place != self._place:
            log.info("this device is in zone %s", place or "(none)")
            self._place = place
            self._context = replace(self._context, place=place)

    @property
    def _rules(self) -> list[Rule]:
        return self._ruleset.rules

    # -- a notification's Snooze button ----------------------------------------------------

    def _snooze_from_notification(self, notification_id: int, action: str) -> None:
        key = self._notes.occurrence_of(notification_id)
        if action != SNOOZE_KEY or key is None:
            return
        rule = self._ruleset.get(key[0])
        occ = self._actions.occurrences.get(key)
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
        policy = rule_policy(self._store, now, self._policy_defaults)  # issue 10
        if policy.snoozes < 1:
            why = "the rule set allows no snooze."
            self._notes.show(key, *messages.refused(rule, why), mono, snooze=False)
            return
        length = min(policy.snooze, policy.snooze_max)
        until = now + timedelta(seconds=length)
        self._journal.write(
            now,
            None,
            "snooze",
            {"until": until.timestamp(), "minutes": length / 60, "source": "notification"},
            rule=rule,
            occ=occ,
        )
        self._follower.pick_up(now)
        self._evaluate(now)  # resumes paused apps at once
        self._notes.show(key, *messages.snoozed(rule, until, self._zone, now), mono, snooze=False)
