"""The words of every notification the enforcer shows. Pure: decisions and times in, text out."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo

from presence.rules.engine import Decision, Step
from presence.rules.model import Action, Rule, RuleKind

TITLES = {
    RuleKind.TECH_FREE: "Tech-free time",
    RuleKind.DEVICE_FREE: "Device-free time",
    RuleKind.FOCUS: "Focus time",
    RuleKind.LIMIT: "Daily limit",
    RuleKind.BREAK: "Break",
}


def minutes(seconds: float) -> str:
    """`600` -> `10 min`; `59` -> `59 s`; `5400` -> `1 h 30 min`. Rounded up to the minute
    above a minute, so a warning never promises more time than is left."""
    if seconds < 60:
        return f"{max(0, math.ceil(seconds))} s"
    total = math.ceil(seconds / 60 - 1e-9)
    hours, mins = divmod(total, 60)
    if hours and mins:
        return f"{hours} h {mins} min"
    return f"{hours} h" if hours else f"{mins} min"


def clock(when: datetime, zone: tzinfo, now: datetime) -> str:
    """Local time of day, with the weekday when it is not within the next 20 hours."""
    local = when.astimezone(zone)
    fmt = "%H:%M:%S" if local.second else "%H:%M"
    if abs(when - now) > timedelta(hours=20):
        return local.strftime("%a " + fmt)
    return local.strftime(fmt)


def targets(rule: Rule) -> str:
    """What the rule's action is aimed at, in words."""
    named = [*rule.apps, *(f"{c} apps" for c in rule.categories), *rule.sites]
    text = ", ".join(named) if named else "all apps"
    if rule.allow:
        text += " except " + ", ".join(rule.allow)
    return text


def action_words(rule: Rule) -> str:
    return {
        Action.NUDGE: "reminders while the screen is used",
        Action.LOCK: "the screen locks",
        Action.CLOSE_APPS: f"{targets(rule)} close",
        Action.PAUSE_APPS: f"{targets(rule)} pause",
    }[rule.action]


def _then(rule: Rule) -> str:
    if rule.grace >= 1:
        return f"After {minutes(rule.grace)}: {action_words(rule)}."
    return f"Now: {action_words(rule)}."


def _window(decision: Decision, zone: tzinfo, now: datetime) -> str:
    occ = decision.occurrence
    start = clock(occ.start, zone, now)
    if occ.end is None:
        return f"from {start}"
    return f"{start} to {clock(occ.end, zone, now)}"


def warning(decision: Decision, zone: tzinfo, now: datetime) -> tuple[str, str]:
    rule = decision.rule
    left = minutes(decision.seconds_left or 0.0)
    if rule.kind is RuleKind.LIMIT:
        return (
            f"{left} left of today's limit",
            f"“{rule.name}”: {minutes(rule.per_day or 0)} a day of {targets(rule)}. "
            f"Then: {action_words(rule)}.",
        )
    if rule.kind is RuleKind.BREAK:
        return (
            f"Break in {left}",
            f"“{rule.name}”: a break after {minutes(rule.after or 0)} of continuous use.",
        )
    return (
        f"{TITLES[rule.kind]} in {left}",
        f"“{rule.name}” {_window(decision, zone, now)}. {_then(rule)}",
    )


def start(decision: Decision, zone: tzinfo, now: datetime) -> tuple[str, str]:
    rule = decision.rule
    if rule.kind is RuleKind.LIMIT:
        return (
            "Daily limit reached",
            f"“{rule.name}”: {minutes(rule.per_day or 0)} of {targets(rule)} today. {_then(rule)}",
        )
    if rule.kind is RuleKind.BREAK:
        return (
            "Time for a break",
            f"“{rule.name}”: {minutes(rule.after or 0)} of continuous use. "
            f"Step away for 5 min. {_then(rule)}",
        )
    end = decision.occurrence.end
    until = f" until {clock(end, zone, now)}" if end is not None else ""
    left = f" ({minutes((end - now).total_seconds())} left)" if end is not None else ""
    return (f"{TITLES[rule.kind]} has started", f"“{rule.name}”{until}{left}. {_then(rule)}")


def nudge(decision: Decision, zone: tzinfo, now: datetime) -> tuple[str, str]:
    rule = decision.rule
    end = decision.occurrence.end
    until = "" if end is None else f" until {clock(end, zone, now)}"
    if rule.kind is RuleKind.FOCUS and decision.app:
        return (f"{decision.app} is off limits{until}", f"“{rule.name}”: focus time.")
    if rule.kind is RuleKind.LIMIT:
        what = decision.app or targets(rule)
        return (
            f"Today's limit for {what} is used up",
            f"“{rule.name}”: {minutes(rule.per_day or 0)} a day.",
        )
    if rule.kind is RuleKind.BREAK:
        return ("Time for a break", f"“{rule.name}”: step away from the screen for 5 min.")
    left = "" if end is None else f" ({minutes((end - now).total_seconds())} left)"
    return (f"{TITLES[rule.kind]}{until}", f"“{rule.name}”: time to put the screen away{left}.")


def acted(decision: Decision, apps: list[str], zone: tzinfo, now: datetime) -> tuple[str, str]:
    """After closing or pausing `apps` (names, at least one)."""
    rule = decision.rule
    names = ", ".join(sorted(set(apps)))
    end = decision.occurrence.end
    until = "" if end is None else f" until {clock(end, zone, now)}"
    if rule.action is Action.PAUSE_APPS:
        return (
            f"Paused {names}",
            f"“{rule.name}”: {TITLES[rule.kind].lower()}{until}; "
            f"{'they resume' if len(set(apps)) > 1 else 'it resumes'} at the end.",
        )
    return (f"Closing {names}", f"“{rule.name}”: {TITLES[rule.kind].lower()}{until}.")


def snoozed(rule: Rule, until: datetime, zone: tzinfo, now: datetime) -> tuple[str, str]:
    return (f"Snoozed until {clock(until, zone, now)}", f"“{rule.name}” waits until then.")


def refused(rule: Rule, why: str) -> tuple[str, str]:
    return ("Snooze refused", f"“{rule.name}”: {why}")


def text_for(decision: Decision, zone: tzinfo, now: datetime) -> tuple[str, str] | None:
    """The notification for a WARN, START or nudge ACT decision; None for the others."""
    if decision.step is Step.WARN:
        return warning(decision, zone, now)
    if decision.step is Step.START:
        return start(decision, zone, now)
    if decision.step is Step.ACT and decision.rule.action is Action.NUDGE:
        return nudge(decision, zone, now)
    return None
