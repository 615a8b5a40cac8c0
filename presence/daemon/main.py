"""The composition root: builds backends, store and loop; handles signals; runs until told.

Tick loop (sampler thread = the main thread):
    pause in force?  -> close the open span at the pause start; record nothing
    otherwise        -> sample -> timeline -> recorder (flush on change, and every 10 s)
SIGTERM / SIGINT end the loop; the open span is flushed and the run is closed: exit 0.
SIGHUP reloads the settings file; an invalid file keeps the last good settings and says why.
Under systemd (Type=notify) the loop reports READY after the first tick, pings the watchdog
and keeps STATUS current; STOPPING is sent on shutdown.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from pathlib import Path
from types import FrameType
from typing import Any

import msgspec

from presence.core.clock import Clock, SystemClock
from presence.core.errors import BackendError, ConfigError, PresenceError
from presence.core.model import Observation
from presence.daemon import offline
from presence.daemon.glance import Glance
from presence.daemon.scheduling import RuleTimer
from presence.daemon.sd_notify import SystemdNotifier
from presence.daemon.session_lock import SessionLock
from presence.enforce import Enforcer
from presence.enforce.worker import EnforcementWorker
from presence.health import enforcement as published_enforcement
from presence.health import faults as published
from presence.health.enforcement import enforcement_file
from presence.health.snapshot import snapshot_file
from presence.platform.base import Session
from presence.platform.capability import Capability
from presence.platform.log_notify import LogNotifier
from presence.platform.screen_lock import SessionScreenLocker
from presence.platform.selection import CAPABILITY_PURPOSE, Choice, choose
from presence.rulebook import household
from presence.rulebook.policy import day_start_of, defaults_for, rule_policy
from presence.rules.engine import Policy
from presence.rules.values import parse_time
from presence.settings.files import Paths, database_url, ensure_private_dir, load_settings, zone_of
from presence.settings.schema import Settings
from presence.store import Device, Pause, RuleStore, Store
from presence.store.holder import Holder, RecorderLock
from presence.store.offline import RULES_FILE, OfflineRules
from presence.store.reporting import ReportQueries
from presence.store.watch import PauseWatch
from presence.tracking.categories import categorizer
from presence.tracking.privacy import Redactor
from presence.tracking.recorder import Recorder
from presence.tracking.sampler import Sampler
from presence.tracking.sites import BrowserReports
from presence.tracking.timeline import Timeline
from presence.tracking.title_key import title_key

log = logging.getLogger(__name__)
HOLD_EVERY = 20.0
"""Seconds between two refreshes of the recorder row (well inside holder.STALE_AFTER)."""


EVENT_SPACING = 0.05
"""Seconds between two samples caused by focus events: a burst of title changes (a terminal
printing) costs at most 20 samples a second, and a boundary lands at most this late."""


def _factory(
    capability: str,
    session: Session,
    configured: str,
    start: bool = False,
    wake: Callable[[], None] | None = None,
) -> Callable[[], Any]:
    """Build the capability's backend on demand; None (after explaining once) if none works.

    With `wake`, a backend that pushes changes (`FocusEvents.watch`) is told to call it."""
    explained = False

    def build() -> Any:
        nonlocal explained
        try:
            choice: Choice = choose(capability, session, configured)
        except BackendError as exc:
            # Raised only for a forced name that is no backend: retrying cannot mend the
            # settings, so it is fatal (presence.core.faults): the daemon stops and says why.
            raise ConfigError(exc.message, hint=exc.hint) from None
        if choice.backend is None:
            if not explained:
                explained = True
                _explain(choice)
            return None
        if start:
            choice.backend.start()
        if wake is not None and hasattr(choice.backend, "watch"):
            choice.backend.watch(wake)
        log.info("%s: using %s", CAPABILITY_PURPOSE[capability], choice.name)
        return choice.backend

    return build


def _explain(choice: Choice) -> None:
    reasons = "; ".join(
        f"{r.name}: {r.reason}" + (f" (fix: {r.hint})" if r.hint else "") for r in choice.rejected
    )
    log.warning(
        "%s unavailable, recording without it [%s]", CAPABILITY_PURPOSE[choice.capability], reasons
    )


@dataclass(slots=True)
class Daemon:
    """One recording session of this device. Built by `build()`; `run()` blocks until stopped."""

    settings: Settings
    clock: Clock
    store: Store
    sampler: Sampler
    timeline: Timeline
    recorder: Recorder
    device_id: int
    run_id: int
    paths: Paths | None = None
    notifier: SystemdNotifier = field(default_factory=SystemdNotifier)
    stop_event: threading.Event = field(default_factory=threading.Event)
    reload_event: threading.Event = field(default_factory=threading.Event)
    wake_event: threading.Event = field(default_factory=threading.Event)
    paused_reason: str | None = None
    _last_wall: datetime | None = None
    _heartbeat_at: float = float("-inf")
    _watchdog_at: float = float("-inf")
    _status: str = ""
    # what failed since the start (presence.core.faults), published for status and doctor
    fault_file: Path | None = None
    _faults_published: list[tuple[str, int, int]] = field(default_factory=list)
    # -- rules (issue 3): enforcement after recording; None when built without it ----------
    enforcer: Enforcer | None = None
    rule_timer: RuleTimer | None = None
    enforce_worker: EnforcementWorker | None = None  # the enforcer's own thread (issue 10)
    enforcement_file: Path | None = None  # what it can enforce here (health.enforcement)
    # one recorder per database (issue 11): the row this daemon holds, refreshed every tick
    # that is HOLD_EVERY after the last; None when built without it
    held: Holder | None = None
    _held_at: float = float("-inf")
    # the live state for status bars and D-Bus (issue 13); None when built without it
    glance: Glance | None = None
    pause: Pause | None = None
    pauses: PauseWatch | None = None  # the pause in force, re-read when the database changed
    bus_service: Any = None  # presence.daemon.bus_service.BusService, when a session bus is

    def tick(self) -> None:
        """One tick: honour a pause, else sample and record. Never raises for a hiccup."""
        now = self.clock.now()
        mono = self.clock.monotonic()
        self._hold(now, mono)
        pause = None
        try:
            if self.pauses is None:
                self.pauses = PauseWatch(self.store, self.device_id)
            pause = self.pauses.active(now, mono)  # queries only when the database changed
        except PresenceError as exc:
            log.debug("cannot read pauses: %s", exc.message)
        self.pause = pause
        if pause is not None:
            if self.paused_reason is None:
                log.info("paused (%s) until %s", pause.reason, pause.end_at() or "resumed")
                self.paused_reason = pause.reason
                closed = self.timeline.close(max(pause.start, self._last_wall or pause.start))
                self.recorder.record(closed, None, mono)
            self._beat(now, mono)
            # Pausing recording is not pausing rules (issue 10): the rules are judged from
            # what the platform still sees (focus, idle, lock); nothing is recorded.
            self._enforce(self.sampler.sample())
            return
        if self.paused_reason is not None:
            log.info("recording again")
            self.paused_reason = None
        obs = self.sampler.sample()
        self._last_wall = obs.wall
        closed = self.timeline.observe(obs)
        if self.recorder.record(closed, self.timeline.open, mono):
            self._beat(now, mono)
        self._enforce(obs)

    def _hold(self, now: datetime, mono: float) -> None:
        """Refresh this daemon's row in `recorders`; stop when another daemon has taken it
        (this one looked gone: e.g. a long suspend), so that only one records."""
        if self.held is None or mono - self._held_at < HOLD_EVERY:
            return
        self._held_at = mono
        try:
            kept = RecorderLock(self.store.engine).refresh(self.held, now)
        except PresenceError as exc:
            log.debug("cannot refresh the recorder row: %s", exc.message)
            return
        if not kept:
            log.error(
                "another daemon now records device %r in this database: stopping", self.held.device
            )
            self.held = None
            self.stop_event.set()

    def _enforce(self, obs: Observation | None) -> None:
        """Rules (issue 3): hand the tick to the enforcer, which raises only a fatal error.
        With a worker (issue 10) the evaluation runs on its thread: recording never waits
        for an action; a fatal error met there is raised here, on the next tick."""
        if self.enforce_worker is not None:
            self.enforce_worker.submit(obs, self.timeline.open)
        elif self.enforcer is not None:
            self.enforcer.on_tick(obs, self.timeline.open)

    def _beat(self, now: datetime, mono: float) -> None:
        if mono - self._heartbeat_at < self.settings.sampling.flush_every:
            return
        self._heartbeat_at = mono
        try:
            self.store.heartbeat(self.recorder.run_id, now)  # the server's id once known
        except PresenceError as exc:
            log.debug("heartbeat failed: %s", exc.message)

    def run(self) -> None:
        """Tick every `sampling.interval` until `stop_event` is set, then shut down cleanly."""
        deadline = self.clock.monotonic()
        log.info(
            "recording device %s every %g s",
            self.settings.device.name,
            self.settings.sampling.interval,
        )
        reason = "crashed"
        woken = False
        try:
            self.tick()
            last_tick = self.clock.monotonic()
            self.notifier.ready(self.describe())
            threading.Thread(target=self._verify_database, name="db-check", daemon=True).start()
            while not self.stop_event.is_set():
                if self.reload_event.is_set():
                    self.reload_event.clear()
                    self.reload()
                if not woken:
                    deadline += self.settings.sampling.interval
                delay = deadline - self.clock.monotonic()
                if delay < 0:
                    # Behind (a stall, a suspend): start afresh instead of ticking in a burst.
                    deadline = self.clock.monotonic()
                    delay = 0
                # A focus event (FocusEvents) wakes the loop early: sample now, keep the rhythm.
                woken = self.wake_event.wait(delay)
                if woken:
                    self.wake_event.clear()
                    spacing = EVENT_SPACING - (self.clock.monotonic() - last_tick)
                    if spacing > 0 and self.stop_event.wait(spacing):
                        break
                if self.stop_event.is_set():
                    break
                self.tick()
                last_tick = self.clock.monotonic()
                self._report()
            reason = "stopped"
        finally:
            self.shutdown(reason)

    def _verify_database(self) -> None:
        """Read every page once after READY (a full check before it would delay the start on a
        large file): damage the schema read at start could not see is reported here."""
        try:
            problems = self.store.quick_check()
        except PresenceError as exc:
            problems = [exc.message]
        if problems:
            log.error(
                "the database is damaged (%s); spans are still recorded where it can be "
                "written: stop presence and run `presence data check`, then `presence data repair`",
                "; ".join(problems[:3]),
            )

    def describe(self) -> str:
        """One line for systemd's STATUS (never a window title: `systemctl status` shows it)."""
        if self.paused_reason is not None:
            return f"paused: {self.paused_reason}"
        blind = self.sampler.missing()
        if self.recorder.pending:
            return f"database unavailable, holding {self.recorder.pending} spans in memory"
        if blind:
            return "recording without " + ", ".join(blind)
        return "recording"

    def publish_faults(self) -> None:
        """Write the failure counts for `presence status` and `doctor` when they changed."""
        if self.fault_file is None:
            return
        snaps = self.sampler.faults()
        if self.enforcer is not None:
            snaps += self.enforcer.faults()
        # retry_in counts down every tick: only a change of the counts is worth a write
        counts = [(f.name, f.failures, f.streak) for f in snaps]
        if counts != self._faults_published:
            self._faults_published = counts
            published.write(self.fault_file, snaps)

    def _report(self) -> None:
        self.publish_faults()
        self.publish_glance()
        mono = self.clock.monotonic()
        seconds = self.notifier.watchdog_seconds
        if seconds is not None and mono - self._watchdog_at >= seconds / 3:
            self._watchdog_at = mono
            self.notifier.watchdog()
        if self.notifier.enabled:
            status = self.describe()
            if status != self._status:
                self._status = status
                self.notifier.status(status)

    def publish_glance(self) -> None:
        """Keep the status snapshot (and the D-Bus properties) current (issue 13)."""
        if self.glance is None:
            return
        faults = self.sampler.faults() + (self.enforcer.faults() if self.enforcer else [])
        self.glance.update(
            self.clock.now(),
            self.clock.monotonic(),
            self.timeline.open,
            self.pause,
            self.enforcer.rules if self.enforcer is not None else [],
            self.recorder.pending > 0,
            faults,
        )

    def reload(self) -> None:
        """Re-read the settings file (SIGHUP). An invalid file keeps the settings in force."""
        if self.paths is None:
            return
        self.notifier.reloading()
        try:
            new = load_settings(self.paths.config_file)
        except ConfigError as exc:
            log.error("reload refused, keeping the last good settings: %s", exc.message)
            self.notifier.send(READY="1", STATUS=f"reload refused: {exc.message}"[:200])
            return
        old = self.settings
        for key in ("database", "device"):
            if getattr(new, key) != getattr(old, key):
                log.warning("[%s] changed: it takes effect at the next start", key)
        new = msgspec.structs.replace(new, database=old.database, device=old.device)
        sampling = new.sampling
        self.timeline.idle_after = sampling.idle_after
        self.timeline.gap_after = sampling.gap_after
        self.recorder.flush_every = sampling.flush_every
        if new.privacy != old.privacy:
            self.sampler.redactor = Redactor(new.privacy, title_key(self.paths.data_dir))
        if new.backends != old.backends:
            self.sampler.close()
            self.sampler.rebuild(_capabilities(new, Session.from_env(), self.wake_event))
        logging.getLogger().setLevel(new.logging.level)
        if new.reports != old.reports:
            self.sampler.zone = zone_of(new)  # the offset new spans are recorded with
        self.settings = new
        # Reload means reload (issue 10): the enforcer is built again from the new settings
        # ([rules], [reports], the backends) and the categories as the database holds them
        # now; it restores what was done from the log, as after a restart.
        self._rebuild_enforcement(new)
        log.info(
            "settings reloaded from %s (rules, reports, backends and categories applied; "
            "[database] and [device] need a restart)",
            self.paths.config_file,
        )
        self.notifier.send(READY="1", STATUS=self.describe())

    def _rebuild_enforcement(self, settings: Settings) -> None:
        """Stop the enforcer, its worker and timer, and build them again (SIGHUP). A forced
        backend that does not exist leaves the daemon without enforcement, said at ERROR."""
        if self.enforcer is None or self.paths is None:
            return
        if self.enforce_worker is not None:
            self.enforce_worker.stop()
        if self.rule_timer is not None:
            self.rule_timer.shutdown()
        self.enforcer.shutdown()
        self.enforcer = self.rule_timer = self.enforce_worker = None
        try:
            device = self.store.device(settings.device.name, socket.gethostname(), self.clock.now())
            self.enforcer, self.rule_timer = _enforcement(
                settings, self.paths, self.clock, Session.from_env(), self.store, device
            )
        except PresenceError as exc:
            log.error("rules are not enforced after the reload: %s", exc.message)
            return
        self.enforce_worker = EnforcementWorker(self.enforcer)
        self.enforce_worker.start()
        if self.enforcement_file is not None:
            published_enforcement.write(self.enforcement_file, self.enforcer.capabilities())

    def shutdown(self, reason: str) -> None:
        """Close the open span at the last tick, write everything, close the run."""
        self.notifier.stopping()
        mono = self.clock.monotonic()
        closed = self.timeline.close(self._last_wall or self.clock.now())
        self.recorder.record(closed, None, mono)
        if not self.recorder.flush(mono):
            log.error("%d spans could not be written before exit", self.recorder.pending)
        try:
            self.recorder.end_run(self.clock.now(), reason)  # in the spool while offline
        except PresenceError as exc:
            log.error("cannot record the end of this run: %s", exc.message)
        if self.held is not None:
            try:
                RecorderLock(self.store.engine).release(self.held)
            except PresenceError as exc:
                log.error("cannot release the recorder row: %s", exc.message)
        if self.enforce_worker is not None:  # the tick being evaluated ends first
            self.enforce_worker.stop()
        if self.enforcement_file is not None:
            published_enforcement.remove(self.enforcement_file)
        if self.rule_timer is not None:  # rules (issue 3): stop the timer, resume paused apps
            self.rule_timer.shutdown()
        if self.enforcer is not None:
            self.enforcer.shutdown()
        self.sampler.close()
        self.store.close()
        self.notifier.close()
        if self.fault_file is not None:
            published.remove(self.fault_file)
        if self.glance is not None:
            self.glance.close()
        if self.bus_service is not None:
            self.bus_service.close()


def build(
    settings: Settings,
    paths: Paths,
    clock: Clock | None = None,
    session: Session | None = None,
    wake: threading.Event | None = None,
) -> Daemon:
    """Open the store, register this run and choose the backends. Raises PresenceError.

    `wake` is the event a pushing window source sets (default: a new one, kept as the daemon's
    `wake_event`)."""
    wake = wake or threading.Event()
    clock = clock or SystemClock()
    session = session or Session.from_env()
    ensure_private_dir(paths.data_dir)
    now = clock.now()
    url = database_url(settings, paths)
    spool = offline.spool_of(url, paths.data_dir)  # issue 12: offline first
    # store, recorder row (issue 11), device, run; offline from the local state (issue 12)
    joined = offline.connect(url, settings.device.name, paths.data_dir, spool, now)
    store, device, run_id, held = joined.store, joined.device, joined.run_id, joined.held
    sampler = Sampler(
        clock,
        zone_of(settings),
        Redactor(settings.privacy, title_key(paths.data_dir)),
        *_capabilities(settings, session, wake),
        sites=BrowserReports(paths.data_dir, wake=wake.set),
    )
    timeline = Timeline(settings.sampling.idle_after, settings.sampling.gap_after)
    recorder = Recorder(
        store, device.id, run_id, settings.sampling.flush_every, spool, offline.run_opener(store)
    )
    daemon = Daemon(
        settings,
        clock,
        store,
        sampler,
        timeline,
        recorder,
        device.id,
        run_id,
        paths=paths,
        wake_event=wake,
        fault_file=published.fault_file(ensure_private_dir(paths.runtime_dir)),
    )
    daemon.held = held
    daemon.glance = Glance(
        snapshot_file(ensure_private_dir(paths.runtime_dir)),
        store,
        device.name,
        device.id,
        zone_of(settings),
        parse_time(settings.reports.day_start, "reports.day_start"),
        now,
    )
    daemon.bus_service = _bus_service(settings, session, daemon.glance, store, device, clock)
    daemon.enforcer, daemon.rule_timer = _enforcement(
        settings, paths, clock, session, store, device
    )
    daemon.enforce_worker = EnforcementWorker(daemon.enforcer)
    daemon.enforce_worker.start()
    # what it can carry out here, for the commands that make a rule bind (issue 10)
    daemon.enforcement_file = enforcement_file(ensure_private_dir(paths.runtime_dir))
    published_enforcement.write(daemon.enforcement_file, daemon.enforcer.capabilities())
    return daemon


# -- rules (issue 3): the enforcer, its backends and its timer -------------------------------


def _enforcement(
    settings: Settings, paths: Paths, clock: Clock, session: Session, store: Store, device: Device
) -> tuple[Enforcer, RuleTimer]:
    """Build the enforcer (backends chosen on first use, like the sampler's) and start the
    timer that wakes it between ticks. Raises PresenceError only for a forced bad backend."""
    rules, backends = settings.rules, settings.backends

    def locker() -> Any:
        built = _factory("locker", session, backends.locker)()
        if built is None and rules.lock_command and backends.locker != "none":
            built = SessionScreenLocker(session)  # the configured command alone may do
        if built is not None and rules.lock_command:
            built.use_command(rules.lock_command)
        return built

    try:
        categories = categorizer(ReportQueries.of(store))
        categorize: Callable[[str | None, str | None], str | None] = categories.categorize
    except PresenceError as exc:
        log.warning("categories unavailable to rules: %s", exc.message)
        categorize = lambda _app, _title: None  # noqa: E731
    enforcer = Enforcer(
        rules=_rule_store(store, paths),
        clock=clock,
        zone=_rules_zone(store, clock, settings),
        device=device.name,
        device_id=device.id,
        policy=Policy(nudge_every=rules.nudge_every, day_start=_day_start(store, clock, settings)),
        idle_after=settings.sampling.idle_after,
        snooze_seconds=_snooze_length(store, clock, settings),  # the button's label
        close_timeout=rules.close_timeout,
        notifier=Capability("notifications", _factory("notify", session, backends.notify)),
        fallback=LogNotifier(),
        locker=Capability("the screen locker", locker),
        apps=Capability("the app controller", _factory("apps", session, backends.apps)),
        categorize=categorize,
        paused_file=ensure_private_dir(paths.runtime_dir) / "paused.json",
        # the settings file's values seed a rule set that has no policy yet (issue 10)
        policy_defaults=defaults_for(settings),
        person=household.this_person(),
        place_of=offline.remembered_place(store, device, paths.data_dir),
        # site rules fall back to window titles where no extension sees the browser (issue 14)
        extension_covers=BrowserReports(paths.data_dir).covers,
    )
    enforcer.start()
    timer = RuleTimer(enforcer.on_timer)
    timer.start()
    enforcer.timer = timer
    return enforcer, timer


def _rule_store(store: Store, paths: Paths) -> RuleStore:
    """The enforcer's rules; on a shared database with a copy on disk for offline (issue 12)."""
    if store.engine.dialect.name == "sqlite":
        return RuleStore(store)
    return OfflineRules(store, paths.data_dir / RULES_FILE)


def _rules_zone(store: Store, clock: Clock, settings: Settings) -> tzinfo:
    """The zone the rules' times are in: the rule set's (issue 10: not this device's settings
    file, which only seeds a rule set without one); "local" is the system's zone. The file's
    zone serves when the database cannot be read."""
    try:
        name = rule_policy(RuleStore(store), clock.now(), defaults_for(settings)).zone
    except PresenceError as exc:
        log.warning("cannot read the rule set's zone: %s", exc.message)
        return zone_of(settings)
    reports = msgspec.structs.replace(settings.reports, timezone=name)
    return zone_of(msgspec.structs.replace(settings, reports=reports))


def _snooze_length(store: Store, clock: Clock, settings: Settings) -> float:
    """The rule set's snooze length (issue 10); the settings file's when it cannot be read."""
    try:
        policy = rule_policy(RuleStore(store), clock.now(), defaults_for(settings))
    except PresenceError:
        return settings.rules.snooze
    return min(policy.snooze, policy.snooze_max)


def _day_start(store: Store, clock: Clock, settings: Settings) -> time:
    """Where the rules' day is cut: the rule set's (issue 10), not this device's settings
    file, which only seeds a rule set without one (and serves when the database fails)."""
    try:
        return day_start_of(rule_policy(RuleStore(store), clock.now(), defaults_for(settings)))
    except PresenceError as exc:
        log.warning("cannot read the rule set's day start: %s", exc.message)
        return parse_time(settings.reports.day_start, "reports.day_start")


def _bus_service(
    settings: Settings, session: Session, glance: Glance, store: Store, device: Device, clock: Clock
) -> Any:
    """The live D-Bus interface (issue 13) on the session bus, or None without one (or when
    another daemon serves it: said once, recording goes on)."""
    if not session.session_bus:
        return None
    from presence.daemon.bus_service import BusService  # noqa: PLC0415 - only with a bus

    try:
        service = BusService(
            session.session_bus,
            glance,
            store,
            device.name,
            zone_of(settings),
            parse_time(settings.reports.day_start, "reports.day_start"),
            defaults_for(settings),
            clock,
        )
    except BackendError as exc:
        log.warning("no D-Bus interface for status bars: %s", exc.message)
        return None
    log.info("serving %s on the session D-Bus", service.name)
    return service


def _capabilities(
    settings: Settings, session: Session, wake: threading.Event | None = None
) -> tuple[Capability[Any], ...]:
    backends = settings.backends
    pushed = None if wake is None else wake.set
    return (
        Capability("the focused window", _factory("window", session, backends.window, wake=pushed)),
        Capability("idle time", _factory("idle", session, backends.idle)),
        Capability("input counts", _factory("input", session, backends.input, start=True)),
        Capability("the lock state", _factory("lock", session, backends.lock, wake=pushed)),
    )


def serve(settings: Settings, paths: Paths) -> None:
    """`presence run`: hold the session lock, record until SIGTERM/SIGINT, exit cleanly."""
    stop_event = threading.Event()
    reload_requested = threading.Event()
    wake = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop_event.set()
        wake.set()

    def reload(_signum: int, _frame: FrameType | None) -> None:
        reload_requested.set()
        wake.set()

    # Handlers first: a SIGTERM while the database opens still ends in a clean stop.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
    lock = SessionLock(paths.lock_file)
    lock.acquire()
    try:
        daemon = build(settings, paths, wake=wake)
        daemon.stop_event = stop_event
        daemon.reload_event = reload_requested
        daemon.run()
    finally:
        lock.release()
