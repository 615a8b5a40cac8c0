"""Rules that target devices, zones (places in the home) and people (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from presence.core.errors import InputError
from presence.rules.engine import Context, EngineState, Step, evaluate
from presence.rules.model import RuleKind, cli_label, parse_rule

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_zone_rule_binds_every_device_in_the_zone_and_no_other() -> None:
    rule = parse_rule(
        "bedroom-nights",
        RuleKind.DEVICE_FREE,
        {"zones": "bedroom", "days": "daily", "start": "22:00", "end": "07:00"},
    )
    assert rule.zones == ("bedroom",) and rule.devices is None
    assert rule.applies_to("tablet", "Bedroom", "ana")
    assert rule.applies_to("new-laptop", "bedroom", None)  # a device added later
    assert not rule.applies_to("family-pc", "living-room", "ana")
    assert not rule.applies_to("family-pc", None, "ana")
    assert rule.fields()["zones"] == ["bedroom"]


def test_people_devices_and_zones_widen_each_other() -> None:
    rule = parse_rule(
        "dinner",
        "tech-free",
        {"people": "ana,ben", "devices": "tv", "days": "daily", "start": "18:00", "end": "19:00"},
    )
    assert rule.applies_to("family-pc", "office", "ben")
    assert rule.applies_to("tv", None, "carl")
    assert not rule.applies_to("family-pc", "office", "carl")
    everyone = parse_rule("all", "tech-free", {"days": "daily", "start": "18:00", "end": "19:00"})
    assert everyone.applies_to("anything", None, None)


def test_a_device_free_rule_needs_devices_or_a_zone() -> None:
    with pytest.raises(InputError) as caught:
        parse_rule("x", "device-free", {"days": "daily", "start": "22:00", "end": "07:00"})
    assert "--zone" in caught.value.message and caught.value.hint
    assert cli_label("zones") == "--zone" and cli_label("people") == "--person"


def test_the_engine_acts_on_a_device_in_the_zone_only() -> None:
    rule = parse_rule(
        "bedroom-nights",
        "device-free",
        {"zones": "bedroom", "days": "daily", "start": "22:00", "end": "07:00", "grace": "0s"},
    )
    now = datetime(2026, 6, 1, 21, 30, tzinfo=UTC)  # 23:30 in Berlin
    inside = Context(BERLIN, "tablet", active=True, place="bedroom", person="ana")
    outside = Context(BERLIN, "desk", active=True, place="office", person="ana")
    acted = evaluate([rule], now, EngineState(), inside).decisions
    assert any(d.step is Step.ACT for d in acted)
    assert evaluate([rule], now, EngineState(), outside).decisions == []
