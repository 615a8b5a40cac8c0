"""The daemon's loop: one recording session of this device, ticking until told to stop.

Tick loop (sampler thread = the main thread):
    pause in force?  -> close the open span at the pause start; record nothing; rules still
                        judged from what the platform sees (issue 10)
    otherwise        -> sample -> timeline -> recorder (flush on change, and every 10 s)
    then             -> the enforcer's worker gets the tick (recording never waits for it)
A pushing backend (FocusEvents) wakes the loop early, so boundaries land at the event.
SIGHUP (via `reload_event`) re-reads the settings; an invalid file keeps the last good ones.
Under systemd (Type=notify) the loop reports READY after the first tick, pings the watchdog
and keeps STATUS current; STOPPING is sent on shutdown.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from presence.core.clock import Clock
from presence.core.errors import ConfigError, PresenceError
from presence.core.model import Observation
from presence.daemon import parts
from presence.daemon.glance import Glance
from presence.daemon.scheduling import RuleTimer
from presence.daemon.sd_notify import SystemdNotifier
from presence.enforce import Enforcer
from presence.enforce.worker import EnforcementWorker
from presence.health import enforcement as published_enforcement
from presence.health import faults as published
from presence.platform.base import Session
from presence.settings.files import Paths, load_settings, zone_of
from presence.settings.schema import Settings
from presence.store import Pause, Store
from presence.store.holder import Holder, RecorderLock
from presence.store.watch import PauseWatch
from presence.tracking.privacy import Redactor
from presence.tracking.recorder import Recorder
from presence.tracking.sampler import Sampler
from presence.tracking.timeline import Timeline
from presence.tracking.title_key import title_key

log = logging.getLogger(__name__)
HOLD_EVERY = 20.0
"""Seconds between two refreshes of the recorder row (well inside holder.STALE_AFTER)."""


EVENT_SPACING = 0.05
"""Seconds between two samples caused by focus events: a burst of title changes (a terminal
printing) costs at most 20 samples a second, and a boundary lands at most this late."""


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
            self.sampler.rebuild(parts.capabilities(new, Session.from_env(), self.wake_event))
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
            self.enforcer, self.rule_timer = parts.enforcement(
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
