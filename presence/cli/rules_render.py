"""How `presence rules` shows rules, changes and occurrences: rich text and JSON shapes."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from presence.cli.render import console
from presence.core.duration import format_duration
from presence.rulebook.manage import Outcome, RuleView
from presence.rules.model import Rule, RuleKind
from presence.rules.schedule import Occurrence
from presence.rules.values import format_days, format_time


def describe_when(rule: Rule, zone: tzinfo) -> str:
    """When a rule applies, in words."""
    if rule.at is not None and rule.until is not None:
        fmt = "%Y-%m-%d %H:%M"
        start, end = rule.at.astimezone(zone), rule.until.astimezone(zone)
        return f"{start.strftime(fmt)} to {end.strftime(fmt)}"
    if rule.kind is RuleKind.LIMIT:
        return f"{format_duration(rule.per_day or 0)} a day"
    if rule.kind is RuleKind.BREAK:
        return f"after {format_duration(rule.after or 0)} of use"
    when = f"on {rule.on.isoformat()}" if rule.on else format_days(rule.days)
    if rule.start is not None and rule.end is not None:
        when += f" {format_time(rule.start)}-{format_time(rule.end)}"
    return when


def describe_action(rule: Rule) -> str:
    targets = ",".join([*rule.apps, *(f"[{c}]" for c in rule.categories), *rule.sites])
    text = rule.action.value + (f" {targets}" if targets else "")
    if rule.allow:
        text += f" (allow {','.join(rule.allow)})"
    return text + (" strict" if rule.strict else "")


def describe_targets(rule: Rule) -> str:
    """Who and where the rule binds: devices, zones (`zone:`) and people (`person:`)."""
    parts = list(rule.devices or ())
    parts += [f"zone:{z}" for z in rule.zones or ()]
    parts += [f"person:{p}" for p in rule.people or ()]
    return ",".join(parts) or "all"


def local_time(when: datetime, zone: tzinfo) -> str:
    return when.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")


def rule_state(item: RuleView, zone: tzinfo) -> str:
    state = "enabled" if item.rule.enabled else "disabled"
    if item.stored.pending_at is not None:
        state += f"; change at {local_time(item.stored.pending_at, zone)}"
    return state


def say(outcome: Outcome, zone: tzinfo, cooldown: float) -> None:
    out = console()
    if outcome.verb == "unchanged":
        out.print(f"Rule {outcome.name!r} is unchanged (any pending change was dropped).")
    elif outcome.change.immediate:
        out.print(f"Rule {outcome.name!r} {outcome.verb}; in force now.")
    else:
        out.print(
            f"Rule {outcome.name!r} will be {outcome.verb} at "
            f"{local_time(outcome.change.effective, zone)}: "
            f"this loosens it ({', '.join(outcome.change.reasons)}), which waits "
            f"the rule set's cooldown ({format_duration(outcome.cooldown or cooldown)}). "
            "Until then the rule stays as it is."
        )


def item_dict(item: RuleView, zone: tzinfo) -> dict[str, Any]:
    return {
        "name": item.rule.name,
        "kind": item.rule.kind.value,
        "enabled": item.rule.enabled,
        **item.rule.fields(),
        "pending": None
        if item.stored.pending_at is None
        else {
            "at": item.stored.pending_at.isoformat(),
            "remove": item.stored.pending_delete,
            "fields": None if item.pending is None else item.pending.fields(),
            "loosening": list(item.pending_reasons),
        },
    }


def occurrence_row(rule: Rule, occ: Occurrence, zone: tzinfo) -> list[str]:
    end = occ.end
    length = "" if end is None else format_duration((end - occ.start).total_seconds())
    offsets = (
        {occ.start.astimezone(zone).utcoffset(), end.astimezone(zone).utcoffset()} if end else set()
    )
    note = " (clock change)" if len(offsets) > 1 else ""
    return [
        rule.name,
        rule.kind.value,
        local_time(occ.start, zone),
        "" if end is None else local_time(end, zone),
        length + note,
    ]
