"""Devices, zones and people on a shared database (issue 12).

A device registers itself at daemon start (platform, `last_seen`); its last contact shown is
the later of that and its daemons' heartbeats (`daemon_runs.last_seen`); a zone is a name on
the device (`bedroom`), so a rule naming a zone binds every device put in it, also one added
later; a person is who ran a daemon (`daemon_runs.person`), so a shared family PC reports each
person apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, func, select, update

from presence.core.errors import InputError
from presence.store.queries import Queries
from presence.store.schema import (
    daemon_runs,
    devices,
    enforcement_log,
    pauses,
    recorders,
    spans,
)

LIVE_HOLDER = 120.0  # seconds: a recorder row refreshed this recently belongs to a live daemon


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One device as `presence devices list` shows it."""

    name: str
    hostname: str
    platform: str | None
    zone: str | None
    last_seen: datetime | None
    people: tuple[str, ...]
    spans: int


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    """One zone and the devices in it."""

    name: str
    devices: tuple[str, ...]


def _at(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class HouseholdStore(Queries):
    """Devices, zones and people. Any thread; every method raises StorageError on failure."""

    def register(
        self, device_id: int, platform: str, run_id: int | None, person: str, now: datetime
    ) -> None:
        """Record the device's platform and contact time, and who runs `run_id`."""
        with self._begin() as c:
            c.execute(
                update(devices)
                .where(devices.c.id == device_id)
                .values(platform=platform[:64], last_seen=now.timestamp())
            )
            if run_id is not None:
                c.execute(
                    update(daemon_runs).where(daemon_runs.c.id == run_id).values(person=person[:64])
                )

    def seen(self, device_id: int, now: datetime) -> None:
        """Move the device's last contact to `now` (the daemon's heartbeat)."""
        with self._begin() as c:
            c.execute(
                update(devices).where(devices.c.id == device_id).values(last_seen=now.timestamp())
            )

    def zone_of(self, device_id: int) -> str | None:
        """The device's zone, None when it has none."""
        with self._begin() as c:
            value = c.execute(select(devices.c.zone).where(devices.c.id == device_id)).scalar()
        return None if value is None else str(value)

    def devices(self) -> list[DeviceInfo]:
        """Every device, by name, with the people who ran its daemons and its span count."""
        with self._begin() as c:
            rows = c.execute(select(devices).order_by(devices.c.name)).all()
            people: dict[int, list[str]] = {}
            for device_id, person in c.execute(
                select(daemon_runs.c.device_id, daemon_runs.c.person)
                .where(daemon_runs.c.person.is_not(None))
                .distinct()
                .order_by(daemon_runs.c.person)
            ):
                people.setdefault(device_id, []).append(person)
            beats = dict(
                c.execute(
                    select(daemon_runs.c.device_id, func.max(daemon_runs.c.last_seen)).group_by(
                        daemon_runs.c.device_id
                    )
                ).all()
            )
            counts: dict[int, int] = dict(
                c.execute(select(spans.c.device_id, func.count()).group_by(spans.c.device_id)).all()
            )
        return [
            DeviceInfo(
                name=r.name,
                hostname=r.hostname,
                platform=r.platform,
                zone=r.zone,
                last_seen=_at(max((v for v in (r.last_seen, beats.get(r.id)) if v), default=None)),
                people=tuple(people.get(r.id, ())),
                spans=int(counts.get(r.id, 0)),
            )
            for r in rows
        ]

    def _id(self, c: Connection, name: str) -> int:
        found = c.execute(select(devices.c.id).where(devices.c.name == name)).scalar()
        if found is None:
            raise InputError(
                f"no device called {name!r}",
                hint="`presence devices list` shows the devices of this database",
            )
        return int(found)

    def rename(self, old: str, new: str) -> None:
        """Give the device `old` the name `new` (its recorder row follows).

        Raises InputError when `old` is unknown or `new` is taken.
        """
        with self._begin() as c:
            device_id = self._id(c, old)
            taken = c.execute(select(devices.c.id).where(devices.c.name == new)).scalar()
            if taken is not None:
                raise InputError(
                    f"a device called {new!r} exists already",
                    hint="choose another name, or `presence devices forget` the other one first",
                )
            c.execute(update(devices).where(devices.c.id == device_id).values(name=new))
            c.execute(
                update(recorders).where(recorders.c.device_name == old).values(device_name=new)
            )

    def set_zone(self, name: str, zone: str | None) -> None:
        """Put the device in `zone` (None: in no zone). Raises InputError for an unknown one."""
        with self._begin() as c:
            device_id = self._id(c, name)
            c.execute(update(devices).where(devices.c.id == device_id).values(zone=zone))

    def forget(self, name: str, now: datetime) -> int:
        """Delete the device and everything recorded on it; returns the spans deleted.

        Raises InputError when it is unknown or a live daemon records it (stop that first).
        """
        with self._begin() as c:
            device_id = self._id(c, name)
            beat = c.execute(
                select(recorders.c.heartbeat).where(recorders.c.device_name == name)
            ).scalar()
            if beat is not None and now.timestamp() - float(beat) < LIVE_HOLDER:
                raise InputError(
                    f"the device {name!r} is recording right now",
                    hint=f"stop presence on {name} first (`systemctl --user stop presence`)",
                )
            gone = c.execute(delete(spans).where(spans.c.device_id == device_id)).rowcount
            c.execute(delete(pauses).where(pauses.c.device_id == device_id))
            c.execute(delete(enforcement_log).where(enforcement_log.c.device_id == device_id))
            c.execute(delete(daemon_runs).where(daemon_runs.c.device_id == device_id))
            c.execute(delete(recorders).where(recorders.c.device_name == name))
            c.execute(delete(devices).where(devices.c.id == device_id))
        return int(gone or 0)

    def zones(self) -> list[ZoneInfo]:
        """Every zone some device is in, by name, with its devices."""
        with self._begin() as c:
            rows = c.execute(
                select(devices.c.zone, devices.c.name)
                .where(devices.c.zone.is_not(None))
                .order_by(devices.c.zone, devices.c.name)
            ).all()
        found: dict[str, list[str]] = {}
        for zone, name in rows:
            found.setdefault(zone, []).append(name)
        return [ZoneInfo(zone, tuple(names)) for zone, names in found.items()]
