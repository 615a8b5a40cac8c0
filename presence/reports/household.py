"""The household section of a report (issue 12): totals per device, person and zone, and the
adherence to the shared rules per person.

Shown when a report covers more than one device or `--person all` is given (`wanted`); built
by `build_household` from one grouped query (store.household_totals: seconds per device, person
and state, summed in SQL) and one adherence pass per person. Spans are cut as the report cuts
them (on the clock they were lived, issue 10), so the devices' totals add up to the report's.
A person is whoever ran the daemon that recorded a span (`daemon_runs.person`); spans of no
known person count for their device and zone, and under `(unknown)` among the people.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from presence.reports.adherence import Adherence, adherence
from presence.reports.overview import Totals
from presence.reports.periods import Period, lived_day_edges
from presence.settings.schema import ReportSettings
from presence.store import Store
from presence.store.household_totals import Clip, HouseholdTotals, PersonSeconds
from presence.store.reporting import ReportQueries

UNKNOWN = "(unknown)"
"""How the table and HTML name the time of no known person (JSON: `person` null)."""


def wanted(device_names: Sequence[str], person: str | None) -> bool:
    """Whether a report gets the household section: several devices, or `--person all`."""
    return len(device_names) > 1 or person == "all"


@dataclass(slots=True)
class DeviceTotals:
    """One device: its zone, who used it in the period, its seconds."""

    name: str
    zone: str | None
    people: list[str] = field(default_factory=list)
    seconds: Totals = field(default_factory=Totals)


@dataclass(slots=True)
class PersonTotals:
    """One person (None: no known person) and the devices they used in the period."""

    name: str | None
    devices: list[str] = field(default_factory=list)
    seconds: Totals = field(default_factory=Totals)

    @property
    def label(self) -> str:
        return self.name if self.name is not None else UNKNOWN


@dataclass(slots=True)
class ZoneTotals:
    """One zone (None: the devices in no zone) and the sum of its devices."""

    name: str | None
    devices: list[str] = field(default_factory=list)
    seconds: Totals = field(default_factory=Totals)


@dataclass(slots=True)
class PersonAdherence:
    person: str
    adherence: Adherence


@dataclass(slots=True)
class Household:
    """The household section. Lists are ordered most active first (unknowns last)."""

    devices: list[DeviceTotals] = field(default_factory=list)
    people: list[PersonTotals] = field(default_factory=list)
    zones: list[ZoneTotals] = field(default_factory=list)
    adherence: list[PersonAdherence] = field(default_factory=list)

    @property
    def active_seconds(self) -> float:
        return sum(d.seconds.active_seconds for d in self.devices)

    def share(self, seconds: Totals) -> float:
        """`seconds`' part of the household's active time (0 to 1)."""
        total = self.active_seconds
        return seconds.active_seconds / total if total > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (docs/reports.md, `household`)."""

        def entry(key: str, name: str | None, seconds: Totals) -> dict[str, Any]:
            return {key: name, **seconds.to_dict(), "share": round(self.share(seconds), 4)}

        return {
            "devices": [
                {**entry("device", d.name, d.seconds), "zone": d.zone, "people": d.people}
                for d in self.devices
            ],
            "people": [
                {**entry("person", p.name, p.seconds), "devices": p.devices} for p in self.people
            ],
            "zones": [
                {**entry("zone", z.name, z.seconds), "devices": z.devices} for z in self.zones
            ],
            "adherence": [{"person": a.person, **a.adherence.to_dict()} for a in self.adherence],
        }


def _order(seconds: Totals, name: str | None) -> tuple[bool, float, float, str]:
    return (name is None, -seconds.active_seconds, -seconds.recorded_seconds, name or "")


def fold(
    rows: Iterable[PersonSeconds],
    names: Mapping[int, str],
    zones: Mapping[int, str | None],
) -> Household:
    """Totals per device (every device in `names`, also one without time), person and zone
    from the grouped rows (pure)."""
    by_device = {i: DeviceTotals(name, zones.get(i)) for i, name in names.items()}
    by_person: dict[str | None, PersonTotals] = {}
    for row in rows:
        device = by_device.get(row.device_id)
        if device is None:
            continue
        device.seconds.add(row.state, row.seconds)
        person = by_person.setdefault(row.person, PersonTotals(row.person))
        person.seconds.add(row.state, row.seconds)
        if row.person is not None and row.person not in device.people:
            device.people.append(row.person)
        if device.name not in person.devices:
            person.devices.append(device.name)
    by_zone: dict[str | None, ZoneTotals] = {}
    for device in by_device.values():
        device.people.sort()
        zone = by_zone.setdefault(device.zone, ZoneTotals(device.zone))
        zone.devices.append(device.name)
        for state in ("active", "idle", "locked"):
            zone.seconds.add(state, getattr(device.seconds, f"{state}_seconds"))
    for zone in by_zone.values():
        zone.devices.sort()
    for person in by_person.values():
        person.devices.sort()
    return Household(
        devices=sorted(by_device.values(), key=lambda d: _order(d.seconds, d.name)),
        people=sorted(by_person.values(), key=lambda p: _order(p.seconds, p.name)),
        zones=sorted(by_zone.values(), key=lambda z: _order(z.seconds, z.name)),
    )


def build_household(
    store: Store,
    period: Period,
    device_names: Sequence[str],
    settings: ReportSettings,
    people: Sequence[str] | None = None,
) -> Household:
    """The household section of `period` on the named devices (unknown names left out); with
    `people`, only their time and their adherence. Raises StorageError."""
    found = [d for d in (store.find_device(n) for n in device_names) if d is not None]
    ids = [d.id for d in found]
    totals = HouseholdTotals.of(store)
    lived = lived_day_edges(period, settings)
    clip = Clip(period.start, period.end, lived[0], lived[-1])
    result = fold(
        totals.seconds(clip, ids, people), {d.id: d.name for d in found}, totals.places(ids)
    )
    seen = {p.name for p in result.people if p.name is not None}
    seen.update(totals.runners(period.start, period.end, ids))
    if people is not None:
        seen &= set(people)
    for person in sorted(seen):
        # events without a device (shared rules) count for everyone, as in the report's own
        found_for = adherence(ReportQueries.of(store, [person]), period.start, period.end, ids)
        if found_for.rules:
            result.adherence.append(PersonAdherence(person, found_for))
    return result
