"""The household section of a report (issue 12): totals per device, person and zone that add up
to the report's own, a shared PC's people apart, adherence per person, and the section in the
JSON, the table and the HTML file through the real entry point."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from presence.core.model import Span, SpanState
from presence.reports import Period, build_report, week_period
from presence.reports.household import Household, build_household, wanted
from presence.rulebook import household
from presence.settings.files import Paths, database_url
from presence.settings.schema import ReportSettings, Settings
from presence.store import RuleStore, Store
from tests.unit.test_cli import cli, home

__all__ = ["home"]  # the fixture, shared with test_cli

BERLIN = ZoneInfo("Europe/Berlin")
SETTINGS = ReportSettings(timezone="Europe/Berlin")
WEEK = week_period(date(2026, 6, 3), BERLIN, SETTINGS)  # Mon 06-01 02:00 UTC to 06-08 02:00
DEVICES = ["laptop", "family-pc", "tablet"]
SUMMER, NEW_YORK = 7200, -4 * 3600
MINUTE = 60.0


def at(day: int, hour: float) -> datetime:
    return datetime(2026, 6, 1, tzinfo=UTC) + timedelta(days=day, hours=hour)


def span(start: datetime, minutes: float, state: SpanState, offset: int = SUMMER) -> Span:
    return Span(start, start + timedelta(minutes=minutes), "firefox", None, state, offset)


def run(store: Store, device: int, person: str, first: int, last: int) -> int:
    """A run of `person` on `device` from day `first` to day `last` (00:00 UTC)."""
    run_id = store.start_run(device, 1, "t", at(first, 0))
    household.register(store, device, run_id, person, at(first, 0))
    store.end_run(run_id, at(last, 0), "stopped")
    return run_id


def fill(store: Store) -> None:
    """Three devices and two people in the week of 2026-06-01 (Berlin):

    laptop (ana, no zone): 30 min active + 10 idle a day; 30 min of a span across the week's
    start; a last hour lived in New York on Sunday evening (after the week's end in UTC);
    family-pc (living-room): ana 40 min on Monday, ben 25 min + 5 locked on Tuesday, 10 min idle
    of no known run; tablet (bedroom, ben): 20 min a day and 30 min of a span across the end,
    recorded without an offset. A shared rule on the family PC: ana keeps it, ben breaks it.
    """
    laptop = store.device("laptop", "h", at(-1, 0)).id
    pc = store.device("family-pc", "h", at(-1, 0)).id
    tablet = store.device("tablet", "h", at(-1, 0)).id
    household.set_zone(store, "family-pc", "living-room")
    household.set_zone(store, "tablet", "bedroom")
    days = range(7)
    store.save_spans(
        laptop,
        run(store, laptop, "ana", -1, 8),
        [span(at(n, 10), 30, SpanState.ACTIVE) for n in days]
        + [span(at(n, 10.5), 10, SpanState.IDLE) for n in days]
        + [span(at(0, 1.5), 60, SpanState.ACTIVE), span(at(7, 3), 60, SpanState.ACTIVE, NEW_YORK)],
    )
    store.save_spans(pc, run(store, pc, "ana", 0, 1), [span(at(0, 12), 40, SpanState.ACTIVE)])
    ben = run(store, pc, "ben", 1, 2)
    store.save_spans(
        pc, ben, [span(at(1, 12), 25, SpanState.ACTIVE), span(at(1, 13), 5, SpanState.LOCKED)]
    )
    store.save_spans(pc, None, [span(at(2, 12), 10, SpanState.IDLE)])
    store.save_spans(
        tablet,
        run(store, tablet, "ben", -1, 8),
        [span(at(n, 18), 20, SpanState.ACTIVE, 0) for n in days]
        + [span(at(7, 1.5), 60, SpanState.ACTIVE, 0)],
    )
    rules = RuleStore(store)
    for day, outcome in ((0, "kept"), (1, "broken")):
        occurrence = (at(day, 18), at(day, 20))
        if outcome == "broken":
            rules.log(at(day, 19), "evenings", "snooze", occurrence=occurrence, device_id=pc)
        detail = {"minutes_used": 12} if outcome == "broken" else None
        rules.log(
            at(day, 20), "evenings", outcome, occurrence=occurrence, device_id=pc, detail=detail
        )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    fill(opened)
    try:
        yield opened
    finally:
        opened.close()


def active(found: Household) -> dict[str | None, float]:
    return {d.name: d.seconds.active_seconds / MINUTE for d in found.devices}


def check_totals(store: Store, period: Period = WEEK) -> Household:
    """The section of the filled store, checked against the report's own totals; returned."""
    found = build_household(store, period, DEVICES, SETTINGS)
    merged = build_report(store, period, DEVICES, at(30, 0), SETTINGS).usage
    for state in ("active", "idle", "locked"):
        for part in (found.devices, found.people, found.zones):
            total = sum(getattr(p.seconds, f"{state}_seconds") for p in part)
            assert total == pytest.approx(getattr(merged, f"{state}_seconds"))
    for device in found.devices:
        alone = build_report(store, period, [device.name], at(30, 0), SETTINGS).usage
        assert device.seconds.recorded_seconds == pytest.approx(alone.recorded_seconds)
    assert active(found) == pytest.approx({"laptop": 300, "tablet": 170, "family-pc": 65})
    return found


def test_totals_per_device_person_and_zone_add_up_to_the_report(store: Store) -> None:
    found = check_totals(store)
    (pc,) = [d for d in found.devices if d.name == "family-pc"]
    assert (pc.zone, pc.people) == ("living-room", ["ana", "ben"])
    assert (pc.seconds.idle_seconds, pc.seconds.locked_seconds) == (10 * MINUTE, 5 * MINUTE)
    people = {p.name: (p.seconds.active_seconds / MINUTE, p.devices) for p in found.people}
    assert people == {
        "ana": (340, ["family-pc", "laptop"]),
        "ben": (195, ["family-pc", "tablet"]),
        None: (0, ["family-pc"]),  # the idle span of no known run
    }
    zones = {z.name: (z.seconds.active_seconds / MINUTE, z.devices) for z in found.zones}
    assert zones == {
        "bedroom": (170, ["tablet"]),
        "living-room": (65, ["family-pc"]),
        None: (300, ["laptop"]),  # the devices in no zone
    }
    assert found.share(found.devices[0].seconds) == pytest.approx(300 / 535)


def test_a_person_filter_keeps_only_their_time_and_adherence(store: Store) -> None:
    found = build_household(store, WEEK, DEVICES, SETTINGS, ["ben"])
    merged = build_report(store, WEEK, DEVICES, at(30, 0), SETTINGS, ["ben"]).usage
    assert sum(d.seconds.recorded_seconds for d in found.devices) == pytest.approx(
        merged.recorded_seconds
    )
    assert [p.name for p in found.people] == ["ben"]
    assert active(found) == pytest.approx({"laptop": 0, "tablet": 170, "family-pc": 25})
    assert [a.person for a in found.adherence] == ["ben"]


def test_adherence_of_a_shared_rule_per_person(store: Store) -> None:
    found = build_household(store, WEEK, DEVICES, SETTINGS)
    rows = {
        a.person: [(r.rule, r.kept, r.broken, r.pending, r.minutes_used) for r in a.adherence.rules]
        for a in found.adherence
    }
    assert rows == {"ana": [("evenings", 1, 0, 0, 0)], "ben": [("evenings", 0, 1, 0, 12)]}
    snoozes = {a.person: a.adherence.total("snoozes") for a in found.adherence}
    assert snoozes == {"ana": 0, "ben": 1}


def test_the_section_is_wanted_for_several_devices_or_everyone() -> None:
    assert wanted(["a", "b"], None) and wanted(["a"], "all")
    assert not wanted(["a"], None) and not wanted(["a"], "ana")


@pytest.fixture
def cli_home(home: Path) -> Path:
    config = home / "cfg" / "presence" / "config.toml"
    config.parent.mkdir()
    config.write_text('[reports]\ntimezone = "Europe/Berlin"\n[device]\nname = "laptop"\n')
    filled = Store.open(database_url(Settings(), Paths.resolve()))
    fill(filled)
    filled.close()
    return home


class Cards(HTMLParser):
    """The names (the <b> texts) of the per-device cards of an HTML report."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self._card = self._name = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "div":
            self._card = dict(attrs).get("class") == "card device"
        self._name = self._card and tag == "b"

    def handle_data(self, data: str) -> None:
        if self._name:
            self.names.append(data)
            self._name = False


def test_the_household_through_the_cli(
    cli_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    week = ("report", "--week", "--date", "2026-06-03")
    code, out, err = cli(capsys, monkeypatch, *week, "--device", "all", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    section = data["household"]
    assert [d["device"] for d in section["devices"]] == ["laptop", "tablet", "family-pc"]
    devices = sum(d["active_seconds"] for d in section["devices"])
    assert devices == data["totals"]["active_seconds"] == 535 * MINUTE
    assert section["devices"][2]["zone"] == "living-room"
    assert section["devices"][2]["people"] == ["ana", "ben"]
    assert [p["person"] for p in section["people"]] == ["ana", "ben", None]
    assert section["zones"][-1] == {  # the devices in no zone, last
        "zone": None,
        "active_seconds": 300 * MINUTE,
        "idle_seconds": 70 * MINUTE,
        "locked_seconds": 0.0,
        "recorded_seconds": 370 * MINUTE,
        "share": round(300 / 535, 4),
        "devices": ["laptop"],
    }
    assert section["adherence"][1]["person"] == "ben"
    assert section["adherence"][1]["totals"]["broken"] == 1
    code, out, _ = cli(capsys, monkeypatch, *week, "--format", "json")  # this device only
    assert code == 0 and json.loads(out)["household"] is None
    code, out, _ = cli(capsys, monkeypatch, *week, "--device", "family-pc", "--person", "all")
    assert code == 0 and "Household" in out and "(unknown)" in out

    code, out, err = cli(capsys, monkeypatch, *week, "--device", "all")
    assert code == 0, err
    block = out[out.index("Household") :]
    assert "living-room" in block and "Adherence per person" in block
    assert "ana" in block and "ben" in block and "(no zone)" in block
    page = cli_home / "week.html"
    code, _, err = cli(capsys, monkeypatch, *week, "--device", "all", "--html", str(page))
    assert code == 0, err
    text = page.read_text()
    cards = Cards()
    cards.feed(text)
    assert cards.names == ["laptop", "tablet", "family-pc"]
    assert "Adherence per person" in text and "living-room" in text
