"""Rule validation: every error names the field and the fix; fields round-trip; cooldown
tells loosening from tightening."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from presence.core.duration import parse_duration
from presence.core.errors import InputError
from presence.rules.cooldown import loosening, plan_change
from presence.rules.model import Action, Rule, RuleKind, file_label, parse_rule
from presence.rules.values import format_seconds, parse_days, parse_time, parse_warn


@pytest.mark.parametrize(
    ("spec", "days"),
    [
        ("daily", set(range(7))),
        ("weekdays", {0, 1, 2, 3, 4}),
        ("weekends", {5, 6}),
        ("mon,wed", {0, 2}),
        ("Monday, FRI", {0, 4}),
        ("mon-wed", {0, 1, 2}),
        ("fri-mon", {4, 5, 6, 0}),
    ],
)
def test_days(spec: str, days: set[int]) -> None:
    assert parse_days(spec) == days


@pytest.mark.parametrize(
    ("text", "leads"),
    [("10m,1m", (600.0, 60.0)), ("1m,10m,1m", (600.0, 60.0)), ("none", ()), ("90", (90.0,))],
)
def test_warn(text: str, leads: tuple[float, ...]) -> None:
    assert parse_warn(text) == leads


@pytest.mark.parametrize("seconds", [0, 45, 60, 90, 3600, 5400, 86400, 2.5])
def test_format_seconds_round_trips(seconds: float) -> None:
    assert parse_duration(format_seconds(seconds)) == seconds


NIGHT = {"days": "daily", "start": "22:00", "end": "06:00"}


@pytest.mark.parametrize(
    ("kind", "fields", "field", "fix"),
    [
        ("tech-free", {**NIGHT, "days": "mon,funday"}, "--days", "mon,tue"),
        ("tech-free", {**NIGHT, "start": "24:00"}, "--start", "00:00 to 23:59:59"),
        ("tech-free", {**NIGHT, "end": "6pm"}, "--end", "HH:MM"),
        ("tech-free", {**NIGHT, "end": "22:00"}, "--end", "crosses midnight"),
        ("tech-free", {"start": "22:00", "end": "06:00"}, "--days", "--days weekdays"),
        ("tech-free", {**NIGHT, "on": "2026-12-24"}, "--on", "one-off"),
        ("tech-free", {"on": "2026-13-01", "start": "1:00", "end": "2:00"}, "--on", "YYYY-MM-DD"),
        ("tech-free", {**NIGHT, "action": "shutdown"}, "--action", "close-apps"),
        ("tech-free", {**NIGHT, "warn": "10 minutes"}, "--warn", "10m,1m"),
        ("tech-free", {**NIGHT, "grace": "-5"}, "--grace", "--grace 60s"),
        ("tech-free", {**NIGHT, "per_day": "2h"}, "--per-day", "it takes"),
        ("tech-free", {**NIGHT, "apps": "a", "allow": "A"}, "--allow", "targeted or spared"),
        ("device-free", NIGHT, "--device", "--device laptop"),
        ("focus", NIGHT, "--apps", "--apps firefox"),
        ("limit", {"apps": "firefox"}, "--per-day", "--per-day 2h"),
        ("limit", {"per_day": "2h"}, "--apps", "--per-day 2h"),
        ("limit", {"apps": "x", "per_day": "10s"}, "--per-day", "at least 1m"),
        ("break", {}, "--after", "--after 50m"),
    ],
)
def test_invalid_input_names_the_field_and_the_fix(
    kind: str, fields: dict[str, Any], field: str, fix: str
) -> None:
    with pytest.raises(InputError) as raised:
        parse_rule("r", kind, fields)
    text = raised.value.message + " " + (raised.value.hint or "")
    assert field in raised.value.message
    assert fix in text


def test_file_errors_name_the_file_rule_and_key() -> None:
    with pytest.raises(InputError) as raised:
        parse_rule("night", "tech-free", {**NIGHT, "start": "9"}, file_label("rules.toml", "night"))
    assert raised.value.message.startswith("rules.toml: rule 'night': start")


@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 65, "ünï"])
def test_bad_names(name: str) -> None:
    with pytest.raises(InputError, match="not a valid rule name"):
        parse_rule(name, "break", {"after": "50m"})


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("tech-free", {**NIGHT, "action": "lock", "warn": "5m", "grace": "0s", "strict": True}),
        ("device-free", {"on": "2026-12-24", "start": "18:00", "end": "23:00", "devices": "a,b"}),
        ("focus", {**NIGHT, "apps": "firefox", "categories": "social", "allow": "code"}),
        ("focus", {"at": "2026-11-22T10:00:00+01:00", "until": "2026-11-22T11:00:00+01:00",
                   "apps": "x"}),
        ("limit", {"apps": "firefox", "per_day": "1h30m", "action": "pause-apps"}),
        ("break", {"after": "50m", "warn": "none"}),
    ],
)  # fmt: skip
def test_fields_round_trip(kind: str, fields: dict[str, Any]) -> None:
    rule = parse_rule("r", kind, fields)
    assert parse_rule("r", kind, rule.fields()) == rule


def night(**changes: Any) -> Rule:
    base = parse_rule("n", RuleKind.TECH_FREE, {**NIGHT, "action": "close-apps", "apps": "a,b"})
    return replace(base, **changes)


def hhmm(text: str) -> time:
    return parse_time(text)


@pytest.mark.parametrize(
    ("new", "reasons"),
    [
        (None, ["removed"]),
        (night(enabled=False), ["disabled"]),
        (night(end=hhmm("05:00")), ["shorter window"]),
        (night(start=hhmm("22:30")), ["shorter window"]),
        (night(days=frozenset({0, 1, 2, 3, 4})), ["shorter window"]),
        (night(action=Action.NUDGE), ["weaker action (close-apps -> nudge)"]),
        (night(action=Action.PAUSE_APPS), ["weaker action (close-apps -> pause-apps)"]),
        (night(grace=600.0), ["longer grace period"]),
        (night(apps=("a",)), ["fewer apps targeted"]),
        (night(allow=("c",)), ["more apps allowed"]),
        (night(devices=("laptop",)), ["fewer devices"]),
        (night(end=hhmm("07:00"), action=Action.NUDGE), ["weaker action (close-apps -> nudge)"]),
        (night(start=hhmm("21:00"), end=hhmm("21:30")), ["shorter window"]),
        # tightening or neutral: at once
        (night(end=hhmm("07:00")), []),
        (night(action=Action.LOCK), []),
        (night(apps=()), []),  # no apps named: every app is targeted
        (night(apps=("a", "b", "c")), []),
        (night(warn=(60.0,)), []),
        (night(strict=True), []),
        (night(grace=0.0), []),
    ],
)
def test_loosening(new: Rule | None, reasons: list[str]) -> None:
    assert loosening(night(), new) == reasons


def test_strict_and_limits_and_breaks() -> None:
    strict = night(strict=True)
    assert loosening(strict, night()) == ["no longer strict"]
    limit = parse_rule("l", "limit", {"apps": "x", "per_day": "1h"})
    assert loosening(limit, replace(limit, per_day=7200.0)) == ["higher daily limit"]
    assert loosening(limit, replace(limit, per_day=1800.0)) == []
    brk = parse_rule("b", "break", {"after": "50m"})
    assert loosening(brk, replace(brk, after=3600.0)) == ["longer use before a break"]
    one_off = parse_rule("o", "tech-free", {"on": "2026-12-24", "start": "18:00", "end": "23:00"})
    assert loosening(one_off, replace(one_off, on=None, days=frozenset({3}))) == []  # a Thursday
    assert loosening(one_off, replace(one_off, on=None, days=frozenset({4}))) == ["shorter window"]


def test_cooldown_timing() -> None:
    now = datetime(2026, 11, 22, 9, tzinfo=UTC)
    waits = plan_change(night(), None, now, 86400)
    assert not waits.immediate and waits.effective == now + timedelta(days=1)
    assert plan_change(night(), None, now, 0).immediate  # cooldown 0 turns it off
    assert plan_change(None, night(), now, 86400).immediate  # adding tightens
    assert plan_change(night(enabled=False), night(), now, 86400).immediate  # enabling too
