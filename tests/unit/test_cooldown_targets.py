"""Narrowing whom a rule binds (issue 12: devices, zones, people) is a loosening that waits for
the cooldown; widening it, or naming no one (everyone), takes effect at once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from presence.rules.cooldown import loosening
from presence.rules.model import Rule, RuleKind, parse_rule

BEDROOM = {"start": "22:00", "end": "07:00", "days": "daily", "action": "lock", "zones": "bedroom"}


def bedroom(**changes: Any) -> Rule:
    return replace(parse_rule("b", RuleKind.DEVICE_FREE, BEDROOM), **changes)


@pytest.mark.parametrize(
    ("old", "new", "reasons"),
    [
        # narrowing: waits
        (bedroom(zones=("bedroom", "kids")), bedroom(), ["fewer zones"]),
        (bedroom(people=("ana", "ben")), bedroom(people=("ana",)), ["fewer people"]),
        (bedroom(), bedroom(zones=None, devices=("tablet",)), ["fewer zones"]),
        (bedroom(devices=("tablet",)), bedroom(), ["fewer devices"]),
        (bedroom(zones=None, people=("ana",)), bedroom(zones=("office",)), ["fewer people"]),
        (bedroom(zones=None), bedroom(), ["fewer devices"]),  # everyone -> one zone
        # widening or the same: at once
        (bedroom(), bedroom(zones=("bedroom", "kids")), []),
        (bedroom(), bedroom(zones=("BEDROOM",)), []),  # names compare without case
        (bedroom(), bedroom(zones=None), []),  # everyone now
        (bedroom(), bedroom(people=("ana",)), []),  # a person added: binds more
        (bedroom(people=("ana",)), bedroom(people=("ana", "ben"), devices=("pc",)), []),
    ],
)
def test_narrowing_targets_is_loosening(old: Rule, new: Rule, reasons: list[str]) -> None:
    assert loosening(old, new) == reasons
