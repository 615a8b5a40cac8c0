"""The services behind `presence snooze`, `presence override` and `presence focus`.

Snoozes and overrides are written to the enforcement log, where the daemon picks them up
within one tick and the reports count them. Which occurrences are in force comes from the
log too (a `start` without an `end`), so this works for every kind of rule, also those whose
occurrences depend on use (limits, breaks).

Costs (issue 10, `presence.rules.policy`, the rule set's policy in the database): the first
snooze of an occurrence is free, the second needs a reason, the third and later (up to the
allowance) need a reason and a wait the user sits through (`WaitFirst`, `sit_out`); a snooze
is never longer than the policy's `snooze_max`. An override skips one occurrence, always
needs a reason, and only so many are allowed a week. A strict rule allows neither. The
daemon judges every logged snooze and override again before applying it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, tzinfo

from presence.core.duration import format_duration
from presence.core.errors import InputError
from presence.rulebook.manage import add_rule, list_rules, to_rule
from presence.rulebook.policy import day_start_of, rule_policy, zone_of_policy
from presence.rules.model import Action, Rule, RuleKind, cli_label, parse_rule
from presence.rules.policy import BUILT_IN, RulePolicy, snooze_cost
from presence.rules.schedule import Occurrence, day_window, occurrence_ts, upcoming
from presence.store import EnforcementEvent, RuleStore, Store
from presence.store.tracking import dt

LOOKBACK = timedelta(days=3)
WEEK = timedelta(days=7)


class WaitFirst(InputError):
    """This snooze takes effect only after the user has sat through `seconds` (`sit_out`)."""

    def __init__(self, seconds: float, rule_name: str, step: int) -> None:
        super().__init__(
            f"snooze #{step} of {rule_name!r} in this occurrence waits "
            f"{format_duration(seconds)} first",
            hint="run it in a terminal and wait for the countdown (Ctrl-C cancels)",
        )
        self.seconds = seconds


def refused_ids(events: Iterable[EnforcementEvent]) -> set[int]:
    """The ids of the snoozes and overrides the daemon refused (its `refused` events)."""
    found = set()
    for event in events:
        target = event.detail.get("event_id")
        if event.event == "refused" and isinstance(target, int):
            found.add(target)
    return found


def count_taken(events: Sequence[EnforcementEvent], kind: str) -> int:
    """How many `kind` events (snooze, override) stand: not refused by the daemon."""
    refused = refused_ids(events)
    return sum(1 for e in events if e.event == kind and e.id not in refused)


def overrides_this_week(store: RuleStore, now: datetime) -> int:
    """The overrides that stand in the 7 days before `now`, all rules together."""
    return count_taken(store.events_between(now - WEEK, now), "override")


def sit_out(seconds: float, sleep: Callable[[float], None], show: Callable[[float], None]) -> None:
    """Wait `seconds`, calling `show(remaining)` every second (the CLI's countdown).
    A KeyboardInterrupt from `sleep` (Ctrl-C) propagates: the caller takes nothing."""
    remaining = float(seconds)
    while remaining > 0:
        show(remaining)
        step = min(1.0, remaining)
        sleep(step)
        remaining -= step
    show(0.0)


@dataclass(frozen=True, slots=True)
class Snoozed:
    rule: Rule
    occurrence: Occurrence
    until: datetime


def for_device(store: Store, device_name: str, now: datetime) -> tuple[RuleStore, int]:
    """What snooze, override and focus work on: the rules and enforcement log on `store`, and
    the id of the device called `device_name` (created on first use, with this host's name).

    Raises StorageError.
    """
    device = store.device(device_name, socket.gethostname(), now)
    return RuleStore(store), device.id


def in_force(
    store: RuleStore, device_id: int, now: datetime
) -> list[tuple[str, Occurrence, list[EnforcementEvent]]]:
    """Occurrences started on this device (by its daemon) and not ended, with their events."""
    events = store.events_between(now - LOOKBACK, now + timedelta(seconds=1))
    by_key: dict[tuple[str, float], list[EnforcementEvent]] = {}
    for event in events:
        if event.occurrence_start is not None and event.device_id in (None, device_id):
            by_key.setdefault((event.rule_name, event.occurrence_start), []).append(event)
    found = []
    for (name, start), items in by_key.items():
        kinds = {e.event for e in items}
        if "start" not in kinds or "end" in kinds:
            continue
        end = next((e.occurrence_end for e in items if e.occurrence_end is not None), None)
        if end is not None and end <= now.timestamp():
            continue  # over; the daemon logs its end when it next runs
        found.append((name, Occurrence(name, dt(start), None if end is None else dt(end)), items))
    return sorted(found, key=lambda f: f[1].start)


def snooze(
    store: RuleStore,
    device_id: int,
    now: datetime,
    seconds: float | None,
    *,
    rule_name: str | None = None,
    reason: str | None = None,
    waited: float = 0.0,
    defaults: RulePolicy = BUILT_IN,
) -> list[Snoozed]:
    """Snooze every non-strict occurrence in force on this device (or the named rule's) for
    `seconds` (None: the rule set's snooze length). `waited`: how long the user sat through
    a countdown before (the third snooze's cost). `defaults` seed a rule set without policy.

    Raises InputError when nothing is in force, the rule is strict, the snooze is longer
    than the policy allows, an occurrence used up its snoozes, or needs a reason none was
    given for; WaitFirst (an InputError) when the snooze needs a wait longer than `waited`.
    Nothing is written unless every occurrence snoozed can be.
    """
    policy = rule_policy(store, now, defaults)
    if seconds is None:
        seconds = policy.snooze
    if seconds > policy.snooze_max:
        raise InputError(
            f"a snooze lasts at most {format_duration(policy.snooze_max)}",
            hint="ask for less; the rule set's policy (`presence rules policy`) sets the bound",
        )
    rules = {v.rule.name: v.rule for v in list_rules(store, now)}
    current = [c for c in in_force(store, device_id, now) if c[0] in rules]
    if rule_name is not None:
        if rule_name not in rules:
            raise InputError(f"no rule named {rule_name!r}", hint="`presence rules list`")
        current = [c for c in current if c[0] == rule_name]
    if not current:
        raise InputError(
            "no rule is in force on this device now" + (f" for {rule_name!r}" if rule_name else ""),
            hint="`presence rules next` shows what comes next (the daemon must be running)",
        )
    strict = [name for name, _, _ in current if rules[name].strict]
    if strict and len(strict) == len(current):
        raise InputError(
            f"{', '.join(strict)} {'is' if len(strict) == 1 else 'are'} strict: no snoozing",
            hint="strict rules allow no snooze and no override",
        )
    until = now + timedelta(seconds=seconds)
    planned = []
    for name, occ, events in current:
        rule = rules[name]
        if rule.strict:
            continue
        earlier = count_taken(events, "snooze")
        cost = snooze_cost(rule, policy, earlier)
        if cost.refused is not None:
            raise InputError(cost.refused, hint="`presence rules policy` shows the allowance")
        if cost.needs_reason and not reason:
            raise InputError(
                f"{name!r} was snoozed {earlier} time{'s' if earlier > 1 else ''} already "
                "in this occurrence",
                hint="another snooze costs a reason: add --reason TEXT",
            )
        if cost.wait > waited:
            raise WaitFirst(cost.wait, name, earlier + 1)
        planned.append((rule, occ, earlier + 1))
    done = []
    for rule, occ, step in planned:
        detail: dict[str, object] = {
            "until": until.timestamp(),
            "minutes": round(seconds / 60, 3),
            "source": "cli",
            "step": step,
        }
        if waited:
            detail["waited"] = round(waited, 1)
        if reason:
            detail["reason"] = reason
        store.log(
            now,
            rule.name,
            "snooze",
            occurrence=(occ.start, occ.end),
            detail=detail,
            device_id=device_id,
        )
        done.append(Snoozed(rule, occ, until))
    return done


def override(
    store: RuleStore,
    device_id: int,
    zone: tzinfo,
    now: datetime,
    rule_name: str,
    reason: str,
    day_start: time,
    *,
    defaults: RulePolicy = BUILT_IN,
    source: str = "cli",
) -> Occurrence:
    """Skip the rule's occurrence in force, or else its next one, on every device. `source`
    says where it was asked (`cli`, `browser`: the block page), kept in the log's detail.

    Raises InputError for an unknown or strict rule, a missing reason, an occurrence already
    overridden, the week's overrides used up (the rule set's policy), or a rule with nothing
    to skip.
    """
    if not reason.strip():
        raise InputError("--reason is empty", hint="an override costs a reason: say why")
    views = {v.rule.name: v.rule for v in list_rules(store, now)}
    rule = views.get(rule_name)
    if rule is None:
        raise InputError(f"no rule named {rule_name!r}", hint="`presence rules list`")
    if rule.strict:
        raise InputError(
            f"{rule_name!r} is strict: it cannot be overridden",
            hint="a strict rule can only be loosened by editing it (which waits for the cooldown)",
        )
    cut = float(day_start.hour * 3600 + day_start.minute * 60 + day_start.second)
    policy = rule_policy(store, now, replace(defaults, day_start=cut))
    taken = overrides_this_week(store, now)
    if taken >= policy.overrides_per_week:
        raise InputError(
            f"{taken} override{'s' if taken != 1 else ''} in the last 7 days: the rule set "
            f"allows {policy.overrides_per_week} a week",
            hint="`presence rules policy` shows the allowance (raising it waits the cooldown)",
        )
    # a limit's day and the rules' zone are the rule set's (issue 10), as the daemon's:
    # `zone` and `day_start` only seed a rule set without them
    occ = _target(store, device_id, zone_of_policy(policy), now, rule, day_start_of(policy))
    if any(
        e.event == "override" for e in store.occurrence_events(rule.name, occurrence_ts(occ.start))
    ):
        raise InputError(
            f"this occurrence of {rule_name!r} is overridden already",
            hint="`presence rules next` shows the occurrences after it",
        )
    store.log(
        now,
        rule.name,
        "override",
        occurrence=(occ.start, occ.end),
        detail={"reason": reason.strip(), "source": source},
        device_id=None,  # an override skips the occurrence on every device
    )
    return occ


def _target(
    store: RuleStore, device_id: int, zone: tzinfo, now: datetime, rule: Rule, day_start: time
) -> Occurrence:
    for name, occ, _ in in_force(store, device_id, now):
        if name == rule.name:
            return occ
    if rule.kind is RuleKind.LIMIT:
        lo, hi = day_window(now, zone, day_start)
        return Occurrence(rule.name, lo, hi)
    if rule.kind is RuleKind.BREAK:
        raise InputError(
            f"{rule.name!r} is not in force now",
            hint="a break rule can be overridden only while it asks for a break",
        )
    for occ in upcoming(rule, zone, now, within=timedelta(days=400)):
        return occ
    raise InputError(f"{rule.name!r} has no coming occurrence", hint="it may be a past one-off")


def focus_block(
    store: RuleStore,
    now: datetime,
    seconds: float,
    *,
    apps: Sequence[str] = (),
    categories: Sequence[str] = (),
    allow: Sequence[str] = (),
    action: Action = Action.NUDGE,
    name: str | None = None,
    strict: bool = False,
) -> Rule:
    """Start an ad-hoc focus block now, for `seconds`. Ad-hoc blocks that ended more than a
    day ago are removed (they can no longer have any effect). Raises InputError."""
    if not (apps or categories or allow):
        raise InputError(
            "name the apps to keep away",
            hint="e.g. `presence focus 25m --apps firefox,slack`, or set rules.focus_apps",
        )
    until = now + timedelta(seconds=seconds)
    name = name or f"focus-{now.astimezone().strftime('%Y%m%d-%H%M%S')}"
    rule = parse_rule(
        name,
        RuleKind.FOCUS,
        {
            "at": now.isoformat(),
            "until": until.isoformat(),
            "apps": list(apps),
            "categories": list(categories),
            "allow": list(allow),
            "action": action.value,
            "warn": [],
            "grace": 0,
            "strict": strict,
        },
        cli_label,
    )
    for stored in store.rules():
        try:
            old = to_rule(stored)
        except InputError:
            continue
        if old.until is not None and old.until < now - timedelta(days=1):
            store.delete_rule(stored.name)
    add_rule(store, rule, now)
    return rule
