"""Rule definitions and their validation: days, times, durations, actions, targets.

A rule is stored (and exported to TOML) as a flat mapping of human-readable fields, the same
words the CLI takes: `{"days": "weekdays", "start": "22:00", "end": "06:00", "action": "lock",
"warn": ["10m", "1m"], ...}`. `parse_rule()` turns such a mapping into a `Rule` and is the one
place rules are validated; every error is an `InputError` naming the field (as a CLI option,
or as a key of the file being imported) and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from presence.core.errors import InputError
from presence.rules.values import (
    format_days,
    format_seconds,
    format_time,
    parse_bool,
    parse_date,
    parse_days,
    parse_instant,
    parse_names,
    parse_seconds,
    parse_sites,
    parse_time,
    parse_warn,
)

DAY = 86400.0
DEFAULT_WARN = (600.0, 60.0)
DEFAULT_GRACE = 60.0
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class RuleKind(StrEnum):
    TECH_FREE = "tech-free"  # no screens on the user's devices (all, or the named ones)
    DEVICE_FREE = "device-free"  # this device (or the named ones) is not used at all
    FOCUS = "focus"  # the targeted apps are off limits inside the window
    LIMIT = "limit"  # at most so much active time per day in the targeted apps
    BREAK = "break"  # a break after so much continuous active use


class Action(StrEnum):
    NUDGE = "nudge"  # a notification, repeated while the screen is used
    PAUSE_APPS = "pause-apps"  # SIGSTOP the targeted apps; resumed at the end
    CLOSE_APPS = "close-apps"  # close the targeted apps politely, then terminate them
    LOCK = "lock"  # lock the screen, and again if it is unlocked and used

    @property
    def strength(self) -> int:
        """Order used to tell a weaker action (a loosening change) from a stronger one."""
        return list(Action).index(self)


SCHEDULED = frozenset({RuleKind.TECH_FREE, RuleKind.DEVICE_FREE, RuleKind.FOCUS})
"""Kinds whose occurrences are windows of local time (or an ad-hoc window)."""

ON_FOCUS = frozenset({RuleKind.FOCUS, RuleKind.LIMIT})
"""Kinds that act when a targeted app has focus; the others act on any use of the screen."""

_TARGETS = {"devices", "zones", "people"}
_COMMON = _TARGETS | {"apps", "allow", "action", "warn", "grace", "strict", "enabled"}
_WINDOW = {"days", "on", "start", "end"}
ALLOWED_FIELDS: dict[RuleKind, frozenset[str]] = {
    RuleKind.TECH_FREE: frozenset(_COMMON | _WINDOW | {"sites"}),
    RuleKind.DEVICE_FREE: frozenset(_COMMON | _WINDOW),
    RuleKind.FOCUS: frozenset(_COMMON | _WINDOW | {"categories", "sites", "at", "until"}),
    RuleKind.LIMIT: frozenset(_COMMON | {"categories", "sites", "per_day"}),
    RuleKind.BREAK: frozenset(_COMMON | {"after"}),
}

Label = Callable[[str], str]
"""How a field is named in an error: `--per-day` on the command line, `per_day` in a file."""


def cli_label(key: str) -> str:
    singular = {"devices": "--device", "zones": "--zone", "people": "--person"}
    return singular.get(key) or "--" + key.replace("_", "-")


def file_label(source: str, rule: str) -> Label:
    return lambda key: f"{source}: rule {rule!r}: {key}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule, validated. Times are local wall-clock times; `at`/`until` are aware UTC.

    `days` is a set of weekdays (Monday = 0), empty when `on` (a one-off date) or `at`/`until`
    (an ad-hoc focus block) say when instead. `devices` None means every device.
    Targets (issue 12): `devices`, `zones` (places in the home: every device in them, including
    one added later) and `people` (whoever uses the device) widen each other; a rule with none
    of them applies to everyone on every device.
    """

    name: str
    kind: RuleKind
    days: frozenset[int] = frozenset()
    on: date | None = None
    start: time | None = None
    end: time | None = None
    at: datetime | None = None
    until: datetime | None = None
    devices: tuple[str, ...] | None = None
    zones: tuple[str, ...] | None = None
    people: tuple[str, ...] | None = None
    apps: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()  # registrable domains, blocked by the browser extension
    action: Action = Action.NUDGE
    warn: tuple[float, ...] = DEFAULT_WARN
    grace: float = DEFAULT_GRACE
    strict: bool = False
    per_day: float | None = None
    after: float | None = None
    enabled: bool = True

    @property
    def on_focus(self) -> bool:
        return self.kind in ON_FOCUS

    def applies_to(self, device: str, place: str | None = None, person: str | None = None) -> bool:
        """Whether the rule binds `device`, standing in the zone `place`, used by `person`."""
        if self.devices is None and self.zones is None and self.people is None:
            return True
        for names, value in ((self.devices, device), (self.zones, place), (self.people, person)):
            if names and value and value.lower() in {n.lower() for n in names}:
                return True
        return False

    def targets(self, app: str | None, categories: Iterable[str] = ()) -> bool:
        """Whether the app (with its categories) is one the rule's action is aimed at.

        Named apps and categories target those; without them every app but the allowed ones
        is targeted. Names compare case-insensitively (`firefox` matches WM_CLASS `Firefox`).
        """
        if app is None:
            return False
        name = app.lower()
        if name in {a.lower() for a in self.allow}:
            return False
        if not self.apps and not self.categories:
            # A focus or limit rule on sites alone targets no app (the extension blocks the
            # sites; closing the browser would lose the other tabs); a tech-free one, all.
            return not (self.sites and self.on_focus)
        cats = {c.lower() for c in categories}
        return name in {a.lower() for a in self.apps} or bool(
            cats & {c.lower() for c in self.categories}
        )

    def fields(self) -> dict[str, Any]:
        """The rule as stored and exported: human-readable values, only the kind's fields."""
        out: dict[str, Any] = {}
        if self.at is not None and self.until is not None:
            out["at"] = self.at.isoformat()
            out["until"] = self.until.isoformat()
        elif self.on is not None:
            out["on"] = self.on.isoformat()
        elif self.days:
            out["days"] = format_days(self.days)
        if self.start is not None and self.end is not None:
            out["start"] = format_time(self.start)
            out["end"] = format_time(self.end)
        if self.per_day is not None:
            out["per_day"] = format_seconds(self.per_day)
        if self.after is not None:
            out["after"] = format_seconds(self.after)
        for key in ("devices", "zones", "people"):
            targets = getattr(self, key)
            if targets is not None:
                out[key] = list(targets)
        for key in ("apps", "categories", "allow", "sites"):
            value = getattr(self, key)
            if value:
                out[key] = list(value)
        out["action"] = self.action.value
        out["warn"] = [format_seconds(w) for w in self.warn]
        out["grace"] = format_seconds(self.grace)
        out["strict"] = self.strict
        out["enabled"] = self.enabled
        return out


# -- parsing the pieces ----------------------------------------------------------------------


def parse_name(text: str, label: str = "NAME") -> str:
    if not NAME_PATTERN.fullmatch(text or ""):
        raise InputError(
            f"{label} {text!r} is not a valid rule name",
            hint="use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit",
        )
    return text


def parse_kind(text: str, label: str = "KIND") -> RuleKind:
    try:
        return RuleKind(text.strip().lower())
    except ValueError:
        raise InputError(
            f"{label} {text!r} is not a kind of rule",
            hint="use one of: " + ", ".join(k.value for k in RuleKind),
        ) from None


def parse_action(text: str, label: str = "--action") -> Action:
    try:
        return Action(str(text).strip().lower())
    except ValueError:
        raise InputError(
            f"{label} {text!r} is not an action",
            hint="use one of: " + ", ".join(a.value for a in Action),
        ) from None


# -- the whole rule ---------------------------------------------------------------------------


def parse_rule(
    name: str,
    kind: RuleKind | str,
    fields: Mapping[str, Any],
    label: Label = cli_label,
    *,
    device: str = "laptop",
) -> Rule:
    """Validate `fields` (see the module docstring) into a Rule of `kind`.

    Raises InputError naming the field (through `label`) and how to fix it: an unknown field,
    a field the kind does not take, a malformed value, or a missing or contradictory one.
    Hints name fields as `label` does (options, or a file's keys) and `device` as the example.
    """
    name = parse_name(name)
    kind = parse_kind(kind) if isinstance(kind, str) else kind
    allowed = ALLOWED_FIELDS[kind]
    named = cli_label if label is cli_label else str
    for key in fields:
        if key not in allowed:
            raise InputError(
                f"{label(key)} does not apply to a {kind.value} rule",
                hint="it takes: " + ", ".join(named(k) for k in sorted(allowed - {"enabled"})),
            )
    get = {k: v for k, v in fields.items() if v is not None}
    values: dict[str, Any] = {}
    if "days" in get:
        values["days"] = parse_days(get["days"], label("days"))
    if "on" in get:
        values["on"] = parse_date(get["on"], label("on"))
    for key in ("start", "end"):
        if key in get:
            values[key] = parse_time(get[key], label(key))
    for key in ("at", "until"):
        if key in get:
            values[key] = parse_instant(get[key], label(key))
    for key in ("devices", "zones", "people"):
        if key in get:
            values[key] = parse_names(get[key], label(key)) or None
    for key in ("apps", "categories", "allow"):
        if key in get:
            values[key] = parse_names(get[key], label(key))
    if "sites" in get:
        values["sites"] = parse_sites(get["sites"], label("sites"))
    if "action" in get:
        values["action"] = parse_action(get["action"], label("action"))
    if "warn" in get:
        values["warn"] = parse_warn(get["warn"], label("warn"))
    if "grace" in get:
        values["grace"] = parse_seconds(get["grace"], label("grace"), example="60s")
    if "per_day" in get:
        values["per_day"] = parse_seconds(
            get["per_day"], label("per_day"), minimum=60, example="2h"
        )
    if "after" in get:
        values["after"] = parse_seconds(get["after"], label("after"), minimum=60, example="50m")
    for key in ("strict", "enabled"):
        if key in get:
            values[key] = parse_bool(get[key], label(key))
    rule = Rule(name=name, kind=kind, **values)
    _check_whole(rule, label, device)
    return rule


def _check_whole(rule: Rule, label: Label, device: str) -> None:
    kind = rule.kind.value
    if rule.kind in SCHEDULED:
        adhoc = rule.at is not None or rule.until is not None
        if adhoc:
            if rule.at is None or rule.until is None or rule.until <= rule.at:
                raise InputError(
                    f"{label('until')} must come after {label('at')}",
                    hint="an ad-hoc focus block needs both, the end after the start",
                )
            if rule.days or rule.on or rule.start or rule.end:
                raise InputError(
                    f"{label('at')} cannot be combined with days, on, start or end",
                    hint="give either an ad-hoc window or a schedule",
                )
        else:
            if rule.days and rule.on:
                raise InputError(
                    f"{label('on')} and {label('days')} exclude each other",
                    hint="--on is for a one-off date; --days for a repeating schedule",
                )
            if not rule.days and rule.on is None:
                raise InputError(
                    f"a {kind} rule needs {label('days')} or {label('on')}",
                    hint="e.g. --days weekdays, or --on 2026-12-24 for one date",
                )
            for key in ("start", "end"):
                if getattr(rule, key) is None:
                    raise InputError(
                        f"a {kind} rule needs {label(key)}", hint=f"e.g. {cli_label(key)} 22:00"
                    )
            if rule.start == rule.end:
                raise InputError(
                    f"{label('end')} equals {label('start')}: the window would be empty",
                    hint="a window that crosses midnight is fine: --start 22:00 --end 06:00",
                )
    if rule.kind is RuleKind.DEVICE_FREE and not (rule.devices or rule.zones):
        raise InputError(
            f"{label('devices')} is missing: a device-free rule names the devices (or "
            f"{label('zones')}) it frees",
            hint=f"name the device: --device {device} (or a place: --zone bedroom)"
            if label is cli_label
            else f'name the device: devices = ["{device}"] (or a place: zones = ["bedroom"])',
        )
    if rule.kind is RuleKind.FOCUS and not (
        rule.apps or rule.categories or rule.allow or rule.sites
    ):
        raise InputError(
            f"a focus rule needs {label('apps')}, {label('categories')} or {label('sites')}",
            hint="name what is off limits, e.g. --apps firefox,slack or --sites youtube.com",
        )
    if rule.kind is RuleKind.LIMIT:
        if not (rule.apps or rule.categories or rule.sites):
            raise InputError(
                f"a limit rule needs {label('apps')}, {label('categories')} or {label('sites')}",
                hint="e.g. --apps firefox --per-day 2h, or --sites youtube.com --per-day 30m",
            )
        if rule.per_day is None:
            raise InputError(f"a limit rule needs {label('per_day')}", hint="e.g. --per-day 2h")
    if rule.kind is RuleKind.BREAK and rule.after is None:
        raise InputError(f"a break rule needs {label('after')}", hint="e.g. --after 50m")
    overlap = {a.lower() for a in rule.apps} & {a.lower() for a in rule.allow}
    if overlap:
        raise InputError(
            f"{label('allow')} and {label('apps')} both name {', '.join(sorted(overlap))}",
            hint="an app is either targeted or spared",
        )
