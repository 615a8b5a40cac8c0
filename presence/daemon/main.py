"""The composition root: `build()` opens the store, chooses the backends and assembles the
loop (`loop.Daemon`); `serve()` is `presence run`: signals, the session lock, run until told.

SIGTERM / SIGINT end the loop; the open span is flushed and the run is closed: exit 0.
SIGHUP reloads the settings file; an invalid file keeps the last good settings and says why.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from presence.core.clock import Clock, SystemClock
from presence.daemon import offline, parts
from presence.daemon.glance import Glance
from presence.daemon.loop import Daemon
from presence.daemon.session_lock import SessionLock
from presence.enforce.worker import EnforcementWorker
from presence.health import enforcement as published_enforcement
from presence.health import faults as published
from presence.health.enforcement import enforcement_file
from presence.health.snapshot import snapshot_file
from presence.platform.base import Session
from presence.rules.values import parse_time
from presence.settings.files import Paths, database_url, ensure_private_dir, zone_of
from presence.settings.schema import Settings
from presence.tracking.privacy import Redactor
from presence.tracking.recorder import Recorder
from presence.tracking.sampler import Sampler
from presence.tracking.sites import BrowserReports
from presence.tracking.timeline import Timeline
from presence.tracking.title_key import title_key

log = logging.getLogger(__name__)


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
        *parts.capabilities(settings, session, wake),
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
    daemon.bus_service = parts.bus_service(settings, session, daemon.glance, store, device, clock)
    daemon.enforcer, daemon.rule_timer = parts.enforcement(
        settings, paths, clock, session, store, device
    )
    daemon.enforce_worker = EnforcementWorker(daemon.enforcer)
    daemon.enforce_worker.start()
    # what it can carry out here, for the commands that make a rule bind (issue 10)
    daemon.enforcement_file = enforcement_file(ensure_private_dir(paths.runtime_dir))
    published_enforcement.write(daemon.enforcement_file, daemon.enforcer.capabilities())
    return daemon


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
