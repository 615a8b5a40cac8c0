"""Seconds per state and per app in a period: the core of every report (filled by
`overview.build_report`), and which devices a report covers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from presence.core.errors import InputError
from presence.reports.periods import Period
from presence.store.reads import ReportSource

NO_WINDOW = "(no window)"


def device_names(store: ReportSource, option: str | None, this_device: str) -> list[str]:
    """The devices a report covers: `all`, a named one, or (None) this device.

    Raises InputError when a named device never recorded into this database.
    """
    if option == "all":
        return [d.name for d in store.devices()]
    if option is None:
        return [this_device]
    if store.find_device(option) is None:
        known = ", ".join(d.name for d in store.devices()) or "none yet"
        raise InputError(
            f"--device {option!r}: no such device in this database (known: {known})",
            hint="give one of those names, or `--device all`",
        )
    return [option]


@dataclass(slots=True)
class AppUsage:
    app: str
    active_seconds: float = 0.0
    idle_seconds: float = 0.0


@dataclass(slots=True)
class UsageReport:
    """Seconds per state and per app in a period, and how much of it was not recorded."""

    period: Period
    devices: list[str]
    active_seconds: float = 0.0
    idle_seconds: float = 0.0
    locked_seconds: float = 0.0
    paused_seconds: float = 0.0
    elapsed_seconds: float = 0.0  # the part of the period that has happened
    apps: list[AppUsage] = field(default_factory=list)

    @property
    def recorded_seconds(self) -> float:
        return self.active_seconds + self.idle_seconds + self.locked_seconds

    @property
    def unrecorded_seconds(self) -> float:
        """Time presence was not watching: not running, suspended, or paused."""
        return max(0.0, self.elapsed_seconds - self.recorded_seconds)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (docs/reports.md): seconds as numbers, instants ISO 8601."""
        return {
            "period": {
                "start": self.period.local(self.period.start).isoformat(),
                "end": self.period.local(self.period.end).isoformat(),
                "label": self.period.label,
                "hours": round(self.period.hours, 3),
            },
            "devices": self.devices,
            "totals": {
                "active_seconds": round(self.active_seconds, 3),
                "idle_seconds": round(self.idle_seconds, 3),
                "locked_seconds": round(self.locked_seconds, 3),
                "recorded_seconds": round(self.recorded_seconds, 3),
                "paused_seconds": round(self.paused_seconds, 3),
                "unrecorded_seconds": round(self.unrecorded_seconds, 3),
            },
            "apps": [
                {
                    "app": a.app,
                    "active_seconds": round(a.active_seconds, 3),
                    "idle_seconds": round(a.idle_seconds, 3),
                }
                for a in self.apps
            ],
        }
