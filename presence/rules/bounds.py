"""The checks a rule being added or changed gets, beyond what every stored rule passes.

A rule already in the database loads as it was (`model.parse_rule`); a new or edited one must
also keep its daily limit and its use-before-a-break within a day, warn before its window and
not be dated in the past. Pure: `today` is the caller's.
"""

from __future__ import annotations

from datetime import date

from presence.core.errors import InputError
from presence.rules.model import DAY, DEFAULT_WARN, Label, Rule, RuleKind, cli_label
from presence.rules.values import format_seconds


def window_seconds(rule: Rule) -> float | None:
    """How long one occurrence of `rule` lasts by its definition (wall-clock, a window that
    crosses midnight included); for a limit its daily allowance, for a break the use before
    it. None when the rule lacks the fields."""
    if rule.at is not None and rule.until is not None:
        return (rule.until - rule.at).total_seconds()
    if rule.start is not None and rule.end is not None:
        start = rule.start.hour * 3600 + rule.start.minute * 60 + rule.start.second
        end = rule.end.hour * 3600 + rule.end.minute * 60 + rule.end.second
        return (end - start) % DAY
    if rule.kind is RuleKind.LIMIT:
        return rule.per_day
    if rule.kind is RuleKind.BREAK:
        return rule.after
    return None


def check_new(rule: Rule, today: date | None, label: Label = cli_label) -> None:
    """The checks only a rule being added or changed gets (a stored one loads as it was):
    a daily limit and the use before a break of at most 24 h, warnings (other than the
    default ones) shorter than the window they warn of, and a one-off date not before `today`
    (the user's local date; None skips that check).

    Raises InputError naming the field and the fix.
    """
    for key, example in (("per_day", "2h"), ("after", "50m")):
        value = getattr(rule, key)
        if value is not None and value > DAY:
            raise InputError(
                f"{label(key)} {format_seconds(value)} is longer than a day",
                hint=f"give at most 24h, e.g. {cli_label(key)} {example}",
            )
    length = window_seconds(rule)
    if length is not None and rule.warn not in ((), DEFAULT_WARN) and max(rule.warn) >= length:
        raise InputError(
            f"{label('warn')} {format_seconds(max(rule.warn))} is not shorter than the "
            f"{format_seconds(length)} it warns of",
            hint=f"give lead times under {format_seconds(length)}, e.g. 1m (or none)",
        )
    if today is not None and rule.on is not None and rule.on < today:
        raise InputError(
            f"{label('on')} {rule.on.isoformat()} is in the past (today is {today.isoformat()})",
            hint="give today's date or a later one",
        )
