"""The D-Bus interface's description and its properties from a status snapshot."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from presence.daemon.bus_service import INTERFACE, INTROSPECTION, properties

DOCS = Path(__file__).resolve().parents[2] / "docs" / "dbus-interface.xml"


def test_the_docs_hold_the_served_xml() -> None:
    assert DOCS.read_text() == INTROSPECTION


def test_every_property_is_described_with_its_type() -> None:
    root = ET.fromstring(INTROSPECTION.split("\n", 2)[2])  # past the DOCTYPE
    ours = next(i for i in root.iter("interface") if i.get("name") == INTERFACE)
    described = {p.get("name"): p.get("type") for p in ours.iter("property")}
    served = {name: sig for name, (sig, _) in properties(None, datetime.now(UTC)).items()}
    assert described == served
    assert {m.get("name") for m in ours.iter("method")} == {"Snooze", "Override"}


def test_properties_from_a_snapshot() -> None:
    now = datetime(2026, 11, 27, 19, 30, tzinfo=UTC)
    data = {
        "version": 1,
        "device": "laptop",
        "current": {"app": "Firefox", "state": "active", "since": "2026-11-27T20:00:00+01:00"},
        "day": {"start": "2026-11-27T04:00:00+01:00", "end": "2026-11-28T04:00:00+01:00"},
        "active_before_s": 60.0,
        "paused": None,
        "rule": {"name": "evening", "kind": "tech-free", "ends": "2026-11-27T23:00:00+01:00"},
        "next": None,
        "limit_s": 7200,
        "offline": True,
    }
    props = properties(data, now)
    assert props["App"] == ("s", "Firefox") and props["State"] == ("s", "active")
    assert props["Since"] == ("x", int(datetime(2026, 11, 27, 19, tzinfo=UTC).timestamp()))
    assert props["TodayActiveSeconds"] == ("d", 60.0 + 1800)
    assert props["Rule"] == ("s", "evening") and props["NextStarts"] == ("x", 0)
    assert props["DailyLimitSeconds"] == ("d", 7200.0) and props["Offline"] == ("b", True)
    assert props["Paused"] == ("b", False) and props["PauseReason"] == ("s", "")
