"""The services behind the rule set's policy (issue 10): reading it (seeding a new rule set
with the settings file's values) and changing it (a loosening change waits for the cooldown
in force, like a loosening change of a rule).

Design: the policy lives in the database with the rules, shared by every device. A device's
settings file (`rules.cooldown`, `rules.snooze`) only gives the values a rule set starts with:
they are copied in when the first rule is added (or the policy is first read), and ignored
after that, so no device can loosen the shared rules by editing its own file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from presence.core.errors import InputError, StorageError
from presence.rules.cooldown import Change
from presence.rules.policy import (
    BUILT_IN,
    NAMES,
    RulePolicy,
    check,
    from_values,
    loosening,
    with_values,
)
from presence.rules.values import parse_time
from presence.settings.files import zone_of
from presence.settings.schema import Settings
from presence.store import RuleStore
from presence.store.policy import PolicyRows


def defaults_from(
    cooldown: float | None = None,
    snooze: float | None = None,
    day_start: time | None = None,
    zone: str | None = None,
) -> RulePolicy:
    """The policy a new rule set starts with: the built-in one with a settings file's
    `rules.cooldown`, `rules.snooze` (a longer snooze raises `snooze_max` with it),
    `reports.day_start` and `reports.timezone`."""
    policy = BUILT_IN if zone is None else replace(BUILT_IN, zone=zone)
    if day_start is not None:
        seconds = day_start.hour * 3600 + day_start.minute * 60 + day_start.second
        policy = replace(policy, day_start=float(seconds))
    if cooldown is not None:
        policy = replace(policy, cooldown=cooldown)
    if snooze is not None:
        policy = replace(policy, snooze=snooze, snooze_max=max(policy.snooze_max, snooze))
    return policy


def defaults_for(settings: Settings) -> RulePolicy:
    """`defaults_from` a settings file (`rules.cooldown`, `rules.snooze`,
    `reports.day_start`). Raises ConfigError for a bad `reports.day_start`."""
    return defaults_from(
        settings.rules.cooldown,
        settings.rules.snooze,
        parse_time(settings.reports.day_start, "reports.day_start"),
        settings.reports.timezone,
    )


def rule_policy(store: RuleStore, now: datetime, defaults: RulePolicy = BUILT_IN) -> RulePolicy:
    """The policy in force (after carrying out the pending changes that are due). Names the
    database does not hold yet are written with `defaults` first. A role that may only read
    the policy (a household device, issue 12) gets the same answer without writing: due
    changes are applied in memory, missing names taken from `defaults`. Raises StorageError
    when the policy cannot be read."""
    rows = PolicyRows(store.engine)
    with contextlib.suppress(StorageError):  # read only here: the owner carries it out
        rows.apply_due(now)
    values = rows.values()
    for name, (value, at) in rows.pending().items():
        if at <= now:
            values[name] = value
    if any(name not in values for name in NAMES):
        try:
            rows.seed(defaults.values(), now)
        except StorageError:
            pass  # read only: `from_values` takes the defaults for what is missing
        else:
            values = {**values, **{k: v for k, v in rows.values().items() if k not in values}}
    return replace(from_values(values, defaults), zone=_zone(rows, now, defaults))


def _zone(rows: PolicyRows, now: datetime, defaults: RulePolicy) -> str:
    """The rules' zone as the database holds it (seeded with the defaults' when missing)."""
    texts = rows.texts()
    for name, (text, at) in rows.pending_texts().items():
        if at <= now:
            texts[name] = text
    if "zone" not in texts:
        with contextlib.suppress(StorageError):  # read only: the defaults' zone serves
            rows.seed_text("zone", defaults.zone, now)
        return rows.texts().get("zone", defaults.zone)
    return texts["zone"]


def zone_of_policy(policy: RulePolicy) -> tzinfo:
    """The zone the rules' times are in: the policy's, "local" being this system's. Raises
    ConfigError when the system's zone is not one presence knows."""
    if policy.zone == "local":
        return zone_of(Settings())  # the default reports.timezone is "local": the system's
    return ZoneInfo(policy.zone)


def change_zone(
    store: RuleStore, zone: str, now: datetime, defaults: RulePolicy = BUILT_IN
) -> Change:
    """Move the rules' times to `zone` (an IANA name, or "local": each device's own). Any
    move is a loosening change (it can put a late evening's window into the day), which
    waits for the cooldown in force. Raises InputError for an unknown zone."""
    if zone != "local":
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(
                f"{zone!r} is not a time zone presence knows",
                hint="an IANA zone such as Europe/Berlin, or local",
            ) from None
    old = rule_policy(store, now, defaults)
    if zone == old.zone:
        return Change((), now)
    rows = PolicyRows(store.engine)
    if old.cooldown <= 0:
        rows.set_text("zone", zone, now)
        return Change((), now)
    effective = now + timedelta(seconds=old.cooldown)
    rows.set_text("zone", zone, now, at=effective)
    return Change(("zone changed",), effective)


def day_start_of(policy: RulePolicy) -> time:
    """The policy's day start as a local time of day."""
    seconds = int(policy.day_start)
    return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)


@dataclass(frozen=True, slots=True)
class PolicyView:
    """The policy in force and the values waiting for the cooldown (name: value, when)."""

    policy: RulePolicy
    pending: dict[str, tuple[float, datetime]]


def show_policy(store: RuleStore, now: datetime, defaults: RulePolicy = BUILT_IN) -> PolicyView:
    policy = rule_policy(store, now, defaults)
    return PolicyView(policy, PolicyRows(store.engine).pending())


def change_policy(
    store: RuleStore,
    changes: Mapping[str, float],
    now: datetime,
    defaults: RulePolicy = BUILT_IN,
) -> Change:
    """Change some of the policy's values. A change that loosens in any respect waits, as a
    whole, for the cooldown in force; anything else applies at once (dropping what waited).
    Raises InputError for an unknown name or a value out of bounds."""
    old = rule_policy(store, now, defaults)
    unknown = sorted(set(changes) - set(NAMES))
    if unknown:
        raise InputError(
            f"no policy value named {', '.join(unknown)}", hint=f"one of {', '.join(NAMES)}"
        )
    new = with_values(old, changes)
    check(new)
    reasons = tuple(loosening(old, new))
    rows = PolicyRows(store.engine)
    values = {name: float(getattr(new, name)) for name in changes}
    if not reasons or old.cooldown <= 0:
        rows.set(values, now)
        return Change((), now)
    effective = now + timedelta(seconds=old.cooldown)
    rows.set(values, now, at=effective)
    return Change(reasons, effective)
