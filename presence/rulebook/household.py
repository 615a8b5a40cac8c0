"""The services behind `presence devices ...` and `presence zones list` (issue 12), and the
daemon's side of it: registering its device and person, and reading its zone.

A zone name follows the rule-name pattern (letters, digits, `-`, `_`, `.`), compared without
regard to case by the rules; it is stored as given.
"""

from __future__ import annotations

import getpass
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from presence.core.errors import InputError
from presence.rules.model import NAME_PATTERN
from presence.store import Store, roles
from presence.store.household import DeviceInfo, HouseholdStore, ZoneInfo

__all__ = [
    "DeviceInfo",
    "DeviceLogin",
    "ZoneInfo",
    "add_device_login",
    "add_owner",
    "devices_in_zone",
    "forget_device",
    "init_household",
    "known_people",
    "list_devices",
    "list_zones",
    "place_reader",
    "register",
    "rename_device",
    "set_zone",
    "this_person",
    "this_platform",
]


def _name(text: str, what: str) -> str:
    if not NAME_PATTERN.fullmatch(text or ""):
        raise InputError(
            f"{what} {text!r} is not a valid name",
            hint="use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit",
        )
    return text


def list_devices(store: Store) -> list[DeviceInfo]:
    """Every device on the database. Raises StorageError."""
    return HouseholdStore(store.engine).devices()


def list_zones(store: Store) -> list[ZoneInfo]:
    """Every zone with its devices. Raises StorageError."""
    return HouseholdStore(store.engine).zones()


def devices_in_zone(store: Store, zone: str, among: Sequence[str]) -> list[str]:
    """The devices of `among` that stand in `zone` (compared without regard to case).

    Raises InputError naming the known zones when no device is in `zone`.
    """
    zones = HouseholdStore(store.engine).zones()
    found = next((z for z in zones if z.name.lower() == zone.lower()), None)
    if found is None:
        known = ", ".join(z.name for z in zones) or "none yet"
        raise InputError(
            f"--zone {zone!r}: no device is in that zone (zones: {known})",
            hint="`presence devices set-zone DEVICE ZONE` puts a device in a zone",
        )
    return [name for name in among if name in found.devices]


def known_people(store: Store, option: str) -> list[str]:
    """The people named in `option` (comma-separated), each of whom ran a daemon here.

    Raises InputError naming the known people for a name never seen.
    """
    seen = {p for d in HouseholdStore(store.engine).devices() for p in d.people}
    wanted = [p.strip() for p in option.split(",") if p.strip()]
    unknown = [p for p in wanted if p not in seen]
    if unknown or not wanted:
        known = ", ".join(sorted(seen)) or "none yet"
        raise InputError(
            f"--person {option!r}: nobody of that name used a device here (people: {known})",
            hint="a person is the OS user who ran presence on a device (`presence devices list`)",
        )
    return wanted


def rename_device(store: Store, old: str, new: str) -> None:
    """Rename a device. Raises InputError (unknown, taken, bad name), StorageError."""
    HouseholdStore(store.engine).rename(old, _name(new, "NEW"))


def set_zone(store: Store, device: str, zone: str | None) -> None:
    """Put `device` in `zone` (None or "": in none). Raises InputError, StorageError."""
    HouseholdStore(store.engine).set_zone(device, _name(zone, "ZONE") if zone else None)


def forget_device(store: Store, device: str, now: datetime) -> int:
    """Delete a device and its records; returns the spans deleted. Raises InputError when it
    is unknown or recording now, StorageError."""
    return HouseholdStore(store.engine).forget(device, now)


def this_platform() -> str:
    """What this device runs, e.g. `Linux 6.1 x86_64`."""
    return f"{platform.system()} {platform.release().split('-')[0]} {platform.machine()}".strip()


def this_person(configured: str = "") -> str:
    """Who uses this device: the configured name, else the OS user."""
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def register(store: Store, device_id: int, run_id: int | None, person: str, now: datetime) -> None:
    """The daemon's start: record this device's platform, contact time and person."""
    HouseholdStore(store.engine).register(device_id, this_platform(), run_id, person, now)


def place_reader(store: Store, device_id: int) -> Callable[[], str | None]:
    """A function returning the device's current zone (for the enforcer). It raises
    StorageError when the database fails."""
    household = HouseholdStore(store.engine)
    return lambda: household.zone_of(device_id)


@dataclass(frozen=True, slots=True)
class DeviceLogin:
    """What a device needs to join: its role, the URL for its config, its ~/.pgpass line."""

    role: str
    url: str
    pgpass: str


def init_household(store: Store) -> None:
    """Create the roles, grants and row policies on the (migrated) PostgreSQL database.
    Raises InputError (not PostgreSQL), StorageError (not the owner)."""
    roles.init(store.engine)


def add_device_login(store: Store, device: str) -> DeviceLogin:
    """Create or reset `device`'s login role; the password appears only in the answer."""
    password = roles.add_device(store.engine, _name(device, "DEVICE"))
    url, pgpass = roles.device_login(store.engine, device, password)
    return DeviceLogin(roles.role_of(device), url, pgpass)


def add_owner(store: Store, role: str) -> None:
    """Make the login role `role` a household owner. Raises StorageError."""
    roles.add_owner(store.engine, _name(role, "ROLE"))
