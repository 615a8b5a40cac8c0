"""Active time as the rules count it: a limit's allowance used today, and the minutes used
inside an occurrence (its outcome). Stored spans come from the database; the open span, which
the database holds only up to its last flush, comes from the daemon's memory.

Thread contract: the enforcer's lock is held for every call; the open span is copied when it is
handed over (`set_open`), so no reading of it races the sampler thread that updates it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, time, tzinfo

from presence.core.errors import PresenceError
from presence.core.model import Span, SpanState
from presence.rules.model import Rule, RuleKind
from presence.rules.schedule import day_window
from presence.store import RuleStore
from presence.tracking.sites import browser_of, matches, title_shows

log = logging.getLogger(__name__)

REFRESH_SECONDS = 60.0
"""Stored usage is read again at least this often (and whenever a span closes)."""

KEPT_TOLERANCE = 60.0
"""Seconds of use past the grace period that still count as keeping a rule: a glance at the
clock is not breaking a tech-free evening."""

Categorize = Callable[[str | None, str | None], str | None]
"""(app, title) -> category: the reports' categoriser (`tracking.categories`), so limits count
what reports count (issue 10). A tab's site is passed as part of the title (`with_site`)."""

Window = tuple[str | None, str | None, str | None]
"""(app, title, site): what active time is counted by, as the categoriser needs it."""


def with_site(title: str | None, site: str | None) -> str | None:
    """The title a categoriser sees for a browser tab: its site counts as part of its title,
    as in `Categorizer.categorize` (so `youtube.com` is media by the title rules)."""
    if site:
        return f"{title} — {site}" if title else site
    return title


def counted(
    rule: Rule,
    app: str | None,
    category: str | None,
    site: str | None = None,
    title: str | None = None,
) -> bool:
    """Whether active time in `app` (titled `title`, on the browser tab's `site`) counts
    against `rule`: any app but the allowed ones for rules about the screen as a whole; for
    focus and limit rules the targeted apps and categories, and the rule's sites (issue 14: a
    limit on youtube.com counts the time its tabs had the focus; without the extension's
    site, a browser window whose title shows it, as `enforce.sites` matches)."""
    if rule.kind in (RuleKind.FOCUS, RuleKind.LIMIT):
        if rule.sites and (app is None or app.lower() not in {a.lower() for a in rule.allow}):
            if site is not None:
                if any(matches(site, s) for s in rule.sites):
                    return True
            elif browser_of(app) is not None and any(title_shows(title, s) for s in rule.sites):
                return True
        return rule.targets(app, [category] if category else [])
    return app is None or app.lower() not in {a.lower() for a in rule.allow}


def kept(rule: Rule, used_seconds: float, occurrence_seconds: float) -> bool:
    """The outcome of an occurrence: kept when the use inside it stayed within the grace
    period (limits: within the allowance; breaks: taken within the grace period)."""
    if rule.kind is RuleKind.LIMIT:
        return used_seconds <= (rule.per_day or 0.0) + KEPT_TOLERANCE
    if rule.kind is RuleKind.BREAK:
        return occurrence_seconds <= rule.grace + KEPT_TOLERANCE
    return used_seconds <= rule.grace + KEPT_TOLERANCE


class UsageMeter:
    """Measures active time per app for the rules of one device."""

    def __init__(
        self,
        store: RuleStore,
        device_id: int,
        zone: tzinfo,
        day_start: time,
        categorize: Categorize,
    ) -> None:
        self._store = store
        self._device_id = device_id
        self._zone = zone
        self._day_start = day_start
        self._categorize = categorize
        self._open: Span | None = None
        # device set -> (day start, open span uid, monotonic read time, seconds per window)
        self._cache: dict[
            tuple[int, ...] | None, tuple[datetime, str | None, float, dict[Window, float]]
        ] = {}

    def set_open(self, span: Span | None) -> None:
        """The daemon's open span this tick. Sampler thread, which owns `span`: a copy is
        kept, because the timeline changes its open span in place on the sampler thread
        while the timer thread's evaluations read this one."""
        self._open = None if span is None else span.copy()

    def _devices(self, rule: Rule) -> tuple[int, ...] | None:
        if rule.devices is None:
            return None
        return tuple(sorted(self._store.device_ids(rule.devices)))

    def _with_open(
        self, by_window: dict[Window, float], start: datetime, end: datetime, mine: bool
    ) -> dict[Window, float]:
        span = self._open
        if not mine or span is None or span.state is not SpanState.ACTIVE:
            return by_window
        lo, hi = max(span.start, start), min(span.end, end)
        if hi <= lo:
            return by_window
        total = dict(by_window)
        key = (span.app, span.title, span.site)
        total[key] = total.get(key, 0.0) + (hi - lo).total_seconds()
        return total

    def _counted_seconds(self, rule: Rule, by_window: dict[Window, float]) -> float:
        return sum(
            seconds
            for (app, title, site), seconds in by_window.items()
            if counted(rule, app, self._categorize(app, with_site(title, site)), site, title)
        )

    def _includes_me(self, devices: tuple[int, ...] | None) -> bool:
        return devices is None or self._device_id in devices

    def limits(self, rules: Iterable[Rule], now: datetime, mono: float) -> dict[str, float]:
        """Seconds each limit rule's targets were used today (rule name -> seconds).
        Rules whose usage cannot be read this time are left out."""
        out: dict[str, float] = {}
        day, _ = day_window(now, self._zone, self._day_start)
        uid = self._open.uid if self._open is not None else None
        for rule in rules:
            if rule.kind is not RuleKind.LIMIT or not rule.enabled:
                continue
            try:
                devices = self._devices(rule)
                cached = self._cache.get(devices)
                if (
                    cached is None
                    or cached[0] != day
                    or cached[1] != uid
                    or mono - cached[2] >= REFRESH_SECONDS
                ):
                    ids = None if devices is None else list(devices)
                    stored = self._store.active_seconds_by_window(day, now, ids, exclude_uid=uid)
                    cached = (day, uid, mono, stored)
                    self._cache[devices] = cached
            except PresenceError as exc:
                log.debug("cannot read today's use for %s: %s", rule.name, exc.message)
                continue
            by_window = self._with_open(cached[3], day, now, self._includes_me(devices))
            out[rule.name] = self._counted_seconds(rule, by_window)
        return out

    def used(self, rule: Rule, start: datetime, end: datetime) -> float:
        """Active seconds inside [start, end) that count against `rule`. Raises StorageError.

        Limits count on every device they apply to; the other rules on this device, whose
        daemon logs their outcome.
        """
        devices = self._devices(rule) if rule.kind is RuleKind.LIMIT else (self._device_id,)
        uid = self._open.uid if self._open is not None else None
        ids = None if devices is None else list(devices)
        stored = self._store.active_seconds_by_window(start, end, ids, exclude_uid=uid)
        by_window = self._with_open(stored, start, end, self._includes_me(devices))
        return self._counted_seconds(rule, by_window)
