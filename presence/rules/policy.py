"""The rule set's policy (issue 10): how long a loosening change waits, and what a snooze or
an override costs. It lives with the rules in the database, shared by every device; a
device's settings file only gives the values a new rule set starts with.

The snooze ladder, per occurrence of a rule:

1. the first snooze is free;
2. the second needs a reason;
3. the third and later (up to `snoozes` in all) need a reason and take effect only after
   the user has sat through `snooze_wait` seconds;

and none beyond `snoozes`. A snooze lasts `snooze` seconds unless asked otherwise, never more
than `snooze_max`. An override always needs a reason, and only `overrides_per_week` are
allowed in any 7 days (all rules together). A strict rule allows neither.

Pure: no I/O; the caller passes the counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace

from presence.core.duration import format_duration
from presence.core.errors import InputError
from presence.rules.model import Rule


@dataclass(frozen=True, slots=True)
class RulePolicy:
    """The policy's values (the defaults are the built-in ones)."""

    cooldown: float = 86400.0
    snooze: float = 300.0
    snooze_max: float = 900.0
    snoozes: int = 3
    snooze_wait: float = 60.0
    overrides_per_week: int = 2
    day_start: float = 4 * 3600.0  # seconds after local midnight: where the rules' day is cut
    # the zone the rules' times are in: an IANA name, or "local" (each device's system zone)
    zone: str = "local"

    def values(self) -> dict[str, float]:
        """The numbers (every value but `zone`)."""
        return {k: float(v) for k, v in asdict(self).items() if k != "zone"}


BUILT_IN = RulePolicy()
NAMES = tuple(f.name for f in fields(RulePolicy) if f.name != "zone")
"""The numbers of the policy; `zone` is the one name (`store.policy.PolicyRows.texts`)."""
COUNTS = frozenset({"snoozes", "overrides_per_week"})

# (lowest, highest) of each value
BOUNDS: dict[str, tuple[float, float]] = {
    "cooldown": (0, 30 * 86400),
    "snooze": (60, 3600),
    "snooze_max": (60, 3600),
    "snoozes": (0, 10),
    "snooze_wait": (0, 600),
    "overrides_per_week": (0, 14),
    "day_start": (0, 86399),
}

# +1: a higher value is looser (more snoozes); -1: a lower value is looser (a shorter wait)
LOOSER = {
    "cooldown": -1,
    "snooze": +1,
    "snooze_max": +1,
    "snoozes": +1,
    "snooze_wait": -1,
    "overrides_per_week": +1,
    "day_start": 0,  # any move: a day cut sooner gives a limit a fresh allowance sooner
}

DESCRIPTIONS = {
    "cooldown": "a change that loosens a rule (or this policy) waits this long",
    "snooze": "how long a snooze lasts when no length is asked for",
    "snooze_max": "the longest snooze",
    "snoozes": "snoozes allowed per occurrence (the 2nd needs a reason, the 3rd a wait)",
    "snooze_wait": "how long the 3rd and later snooze of an occurrence makes the user wait",
    "overrides_per_week": "overrides allowed in any 7 days, all rules together",
    "day_start": "where the rules' day is cut (limits start afresh), local time",
}


def from_values(values: Mapping[str, float], defaults: RulePolicy = BUILT_IN) -> RulePolicy:
    """The policy of stored `values`, `defaults` for the names missing (unknown names and
    out-of-range values are ignored: a newer presence may have written them)."""
    known: dict[str, float | int] = {}
    for name in NAMES:
        value = values.get(name)
        if value is None:
            continue
        lo, hi = BOUNDS[name]
        if lo <= value <= hi:
            known[name] = int(value) if name in COUNTS else float(value)
    return replace(defaults, **known)  # type: ignore[arg-type]


def with_values(policy: RulePolicy, values: Mapping[str, float]) -> RulePolicy:
    """`policy` with `values` (known names only), not checked: see `check`."""
    typed = {
        name: int(value) if name in COUNTS else float(value)
        for name, value in values.items()
        if name in NAMES
    }
    return replace(policy, **typed)  # type: ignore[arg-type]


def check(policy: RulePolicy) -> None:
    """Raises InputError naming a value out of its bounds."""
    for name in NAMES:
        value = float(getattr(policy, name))
        lo, hi = BOUNDS[name]
        if not lo <= value <= hi:
            shown = (lambda v: str(int(v))) if name in COUNTS else format_duration
            raise InputError(
                f"{name} = {shown(value)} is out of bounds",
                hint=f"{name} is between {shown(lo)} and {shown(hi)}",
            )
    if policy.snooze > policy.snooze_max:
        raise InputError(
            f"snooze ({format_duration(policy.snooze)}) is longer than snooze_max "
            f"({format_duration(policy.snooze_max)})",
            hint="raise snooze_max too, or choose a shorter snooze",
        )


def loosening(old: RulePolicy, new: RulePolicy) -> list[str]:
    """In which respects `new` makes the rules easier to break than `old`."""
    reasons = []
    for name in NAMES:
        before, after = float(getattr(old, name)), float(getattr(new, name))
        if LOOSER[name] == 0 and after != before:
            reasons.append(f"{name} moved")
        elif (after - before) * LOOSER[name] > 0:
            reasons.append(f"{name} {'raised' if after > before else 'lowered'}")
    if new.zone != old.zone:
        reasons.append("zone changed")  # moves every window: a late evening into the day
    return reasons


@dataclass(frozen=True, slots=True)
class SnoozeCost:
    """What the next snooze of an occurrence costs; `refused` says why there is none."""

    refused: str | None = None
    needs_reason: bool = False
    wait: float = 0.0


def snooze_cost(rule: Rule, policy: RulePolicy, earlier: int) -> SnoozeCost:
    """The cost of a snooze of `rule` after `earlier` ones in the same occurrence."""
    if rule.strict:
        return SnoozeCost(refused=f"{rule.name!r} is strict: no snoozing")
    if earlier >= policy.snoozes:
        allowed = "no snooze" if policy.snoozes == 0 else f"{policy.snoozes} snoozes"
        return SnoozeCost(refused=f"{rule.name!r}: the rule set allows {allowed} per occurrence")
    if earlier == 0:
        return SnoozeCost()
    if earlier == 1:
        return SnoozeCost(needs_reason=True)
    return SnoozeCost(needs_reason=True, wait=policy.snooze_wait)


def judge_snooze(
    rule: Rule,
    policy: RulePolicy,
    earlier: int,
    *,
    reason: str | None,
    seconds: float,
    waited: float,
) -> str | None:
    """Why a logged snooze must not be applied (None: it stands). `seconds` is how long it
    asks for; `waited` how long the user sat through before it was taken."""
    cost = snooze_cost(rule, policy, earlier)
    if cost.refused is not None:
        return cost.refused
    if cost.needs_reason and not (reason or "").strip():
        return f"snooze #{earlier + 1} of an occurrence needs a reason"
    if waited + 0.5 < cost.wait:
        return f"snooze #{earlier + 1} of an occurrence waits {format_duration(cost.wait)} first"
    if seconds > policy.snooze_max + 1:
        return f"a snooze lasts at most {format_duration(policy.snooze_max)}"
    return None


def judge_override(
    rule: Rule, policy: RulePolicy, this_week: int, *, reason: str | None
) -> str | None:
    """Why a logged override must not be applied (None: it stands). `this_week` counts the
    overrides applied in the 7 days before it."""
    if rule.strict:
        return f"{rule.name!r} is strict: it cannot be overridden"
    if not (reason or "").strip():
        return "an override needs a reason"
    if this_week >= policy.overrides_per_week:
        allowed = policy.overrides_per_week
        return f"the rule set allows {allowed} override{'s' if allowed != 1 else ''} a week"
    return None
