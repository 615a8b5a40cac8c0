"""Loosening versus tightening: a change that makes a rule easier to break waits.

Issue 3: "Loosening a rule (remove, disable, shorten, weaker action) takes effect after
`rules.cooldown` (default 24 h; 0 turns it off); tightening is immediate." A change that
loosens in any respect waits as a whole: a longer window with a weaker action still waits.
Changing only the warnings neither loosens nor tightens, and applies at once.

Pure: the caller passes the time and the cooldown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from presence.rules.model import ON_FOCUS, Action, Rule
from presence.rules.schedule import covers, week_coverage


@dataclass(frozen=True, slots=True)
class Change:
    """When a change takes effect, and why it waits (empty `reasons`: at once)."""

    reasons: tuple[str, ...]
    effective: datetime

    @property
    def immediate(self) -> bool:
        return not self.reasons


def plan_change(old: Rule | None, new: Rule | None, now: datetime, cooldown: float) -> Change:
    """When the change from `old` to `new` (None: absent) takes effect under `cooldown` s."""
    reasons = tuple(loosening(old, new))
    if not reasons or cooldown <= 0:
        return Change((), now)
    return Change(reasons, now + timedelta(seconds=cooldown))


def loosening(old: Rule | None, new: Rule | None) -> list[str]:
    """In which respects `new` is easier to break than `old`; [] when it is not."""
    if old is None or not old.enabled:
        return []  # adding a rule, or changing a disabled one, never loosens anything
    if new is None:
        return ["removed"]
    if not new.enabled:
        return ["disabled"]
    reasons: list[str] = []
    if new.kind is not old.kind:
        reasons.append(f"kind changed from {old.kind.value} to {new.kind.value}")
    reasons += _narrower(old, new)
    if not _window_covers(old, new):
        reasons.append("shorter window")
    if new.action.strength < old.action.strength:
        reasons.append(f"weaker action ({old.action.value} -> {new.action.value})")
    if new.grace > old.grace:
        reasons.append("longer grace period")
    if old.strict and not new.strict:
        reasons.append("no longer strict")
    if _fewer_targets(old, new):
        reasons.append("fewer apps targeted")
    if _fewer_sites(old, new):
        reasons.append("fewer sites blocked")
    if not _subset(new.allow, old.allow):
        reasons.append("more apps allowed")
    if old.per_day is not None and (new.per_day is None or new.per_day > old.per_day):
        reasons.append("higher daily limit")
    if old.after is not None and (new.after is None or new.after > old.after):
        reasons.append("longer use before a break")
    return reasons


_TARGETS = (("devices", "fewer devices"), ("zones", "fewer zones"), ("people", "fewer people"))


def _narrower(old: Rule, new: Rule) -> list[str]:
    """In which targets (issue 12: devices, zones, people, which widen each other) `new` binds
    less than `old`. Naming none binds everyone everywhere. A name dropped from one target is
    a loosening even when another target might still cover it (a device moved into a named
    zone): whether it does can change later, so the cooldown applies."""
    if new.devices is None and new.zones is None and new.people is None:
        return []  # everyone on every device now: wider
    if old.devices is None and old.zones is None and old.people is None:
        return ["fewer devices"]  # was everyone: now only the named ones
    reasons = []
    for key, reason in _TARGETS:
        before, after = getattr(old, key), getattr(new, key)
        if before and not {n.lower() for n in before} <= {n.lower() for n in after or ()}:
            reasons.append(reason)
    return reasons


def _subset(small: tuple[str, ...] | None, large: tuple[str, ...] | None) -> bool:
    if small is None:
        return large is None
    if large is None:
        return True
    return {s.lower() for s in small} <= {s.lower() for s in large}


def _fewer_targets(old: Rule, new: Rule) -> bool:
    """Whether `new` spares apps `old` acted on. Naming no apps targets every app."""
    if old.kind not in ON_FOCUS and old.action not in (Action.CLOSE_APPS, Action.PAUSE_APPS):
        return False  # a nudge or a lock over the whole screen has no app targets
    if not new.apps and not new.categories:
        # A focus or limit rule on sites alone targets no app (Rule.targets); else naming
        # none targets all (a tech-free window with sites too).
        sites_only = bool(new.sites) and new.kind in ON_FOCUS
        return sites_only and not (old.sites and not old.apps and not old.categories)
    if not old.apps and not old.categories:
        return not (old.sites and old.kind in ON_FOCUS)
    return not (_subset(old.apps, new.apps) and _subset(old.categories, new.categories))


def _fewer_sites(old: Rule, new: Rule) -> bool:
    """Whether `new` blocks fewer sites: one of `old`'s is neither in `new` nor under one of it."""
    return any(not any(s == n or s.endswith("." + n) for n in new.sites) for s in old.sites)


def _window_covers(old: Rule, new: Rule) -> bool:
    """Whether every moment `old` covers, `new` covers too."""
    if old.at is not None and old.until is not None:
        if new.at is not None and new.until is not None:
            return new.at <= old.at and new.until >= old.until
        return False
    if old.start is None or old.end is None:
        return True  # limits and breaks have no window
    if new.start is None or new.end is None or new.at is not None:
        return False
    if old.on is not None:
        if new.on is not None and new.on != old.on:
            return False
        day = frozenset({old.on.weekday()})
        if new.on is None and not day <= new.days:
            return False
        return covers(week_coverage(_with_days(new, day)), week_coverage(_with_days(old, day)))
    if new.on is not None:
        return False  # a one-off date instead of a repeating schedule
    return covers(week_coverage(new), week_coverage(old))


def _with_days(rule: Rule, days: frozenset[int]) -> Rule:
    return replace(rule, days=days, on=None)
