"""The daemon's parts, built from the settings: backends chosen per capability, the enforcer
with its backends and timer, the rule set's zone, day start and snooze length, the D-Bus
interface. Used by `main.build()` at start and by the loop when SIGHUP rebuilds them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import time, tzinfo
from typing import Any

import msgspec

from presence.core.clock import Clock
from presence.core.errors import BackendError, ConfigError, PresenceError
from presence.daemon import offline
from presence.daemon.glance import Glance
from presence.daemon.scheduling import RuleTimer
from presence.enforce import Enforcer
from presence.platform.base import Session
from presence.platform.capability import Capability
from presence.platform.log_notify import LogNotifier
from presence.platform.screen_lock import SessionScreenLocker
from presence.platform.selection import CAPABILITY_PURPOSE, Choice, choose
from presence.rulebook import household
from presence.rulebook.policy import day_start_of, defaults_for, rule_policy
from presence.rules.engine import Policy
from presence.rules.values import parse_time
from presence.settings.files import Paths, ensure_private_dir, zone_of
from presence.settings.schema import Settings
from presence.store import Device, RuleStore, Store
from presence.store.offline import RULES_FILE, OfflineRules
from presence.store.reporting import ReportQueries
from presence.tracking.categories import categorizer
from presence.tracking.sites import BrowserReports

log = logging.getLogger(__name__)


def factory(
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
                explain(choice)
            return None
        if start:
            choice.backend.start()
        if wake is not None and hasattr(choice.backend, "watch"):
            choice.backend.watch(wake)
        log.info("%s: using %s", CAPABILITY_PURPOSE[capability], choice.name)
        return choice.backend

    return build


def explain(choice: Choice) -> None:
    reasons = "; ".join(
        f"{r.name}: {r.reason}" + (f" (fix: {r.hint})" if r.hint else "") for r in choice.rejected
    )
    log.warning(
        "%s unavailable, recording without it [%s]", CAPABILITY_PURPOSE[choice.capability], reasons
    )


# -- rules (issue 3): the enforcer, its backends and its timer -------------------------------


def enforcement(
    settings: Settings, paths: Paths, clock: Clock, session: Session, store: Store, device: Device
) -> tuple[Enforcer, RuleTimer]:
    """Build the enforcer (backends chosen on first use, like the sampler's) and start the
    timer that wakes it between ticks. Raises PresenceError only for a forced bad backend."""
    rules, backends = settings.rules, settings.backends

    def locker() -> Any:
        built = factory("locker", session, backends.locker)()
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
        rules=rule_store(store, paths),
        clock=clock,
        zone=rules_zone(store, clock, settings),
        device=device.name,
        device_id=device.id,
        policy=Policy(nudge_every=rules.nudge_every, day_start=day_start(store, clock, settings)),
        idle_after=settings.sampling.idle_after,
        snooze_seconds=snooze_length(store, clock, settings),  # the button's label
        close_timeout=rules.close_timeout,
        notifier=Capability("notifications", factory("notify", session, backends.notify)),
        fallback=LogNotifier(),
        locker=Capability("the screen locker", locker),
        apps=Capability("the app controller", factory("apps", session, backends.apps)),
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


def rule_store(store: Store, paths: Paths) -> RuleStore:
    """The enforcer's rules; on a shared database with a copy on disk for offline (issue 12)."""
    if store.engine.dialect.name == "sqlite":
        return RuleStore(store)
    return OfflineRules(store, paths.data_dir / RULES_FILE)


def rules_zone(store: Store, clock: Clock, settings: Settings) -> tzinfo:
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


def snooze_length(store: Store, clock: Clock, settings: Settings) -> float:
    """The rule set's snooze length (issue 10); the settings file's when it cannot be read."""
    try:
        policy = rule_policy(RuleStore(store), clock.now(), defaults_for(settings))
    except PresenceError:
        return settings.rules.snooze
    return min(policy.snooze, policy.snooze_max)


def day_start(store: Store, clock: Clock, settings: Settings) -> time:
    """Where the rules' day is cut: the rule set's (issue 10), not this device's settings
    file, which only seeds a rule set without one (and serves when the database fails)."""
    try:
        return day_start_of(rule_policy(RuleStore(store), clock.now(), defaults_for(settings)))
    except PresenceError as exc:
        log.warning("cannot read the rule set's day start: %s", exc.message)
        return parse_time(settings.reports.day_start, "reports.day_start")


def bus_service(
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


def capabilities(
    settings: Settings, session: Session, wake: threading.Event | None = None
) -> tuple[Capability[Any], ...]:
    backends = settings.backends
    pushed = None if wake is None else wake.set
    return (
        Capability("the focused window", factory("window", session, backends.window, wake=pushed)),
        Capability("idle time", factory("idle", session, backends.idle)),
        Capability("input counts", factory("input", session, backends.input, start=True)),
        Capability("the lock state", factory("lock", session, backends.lock, wake=pushed)),
    )
