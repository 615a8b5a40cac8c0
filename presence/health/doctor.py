"""What `presence doctor` checks: every capability's backends, the settings, the database."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from presence.core.errors import PresenceError
from presence.core.faults import FaultSnapshot
from presence.health import faults as published
from presence.platform.base import Session
from presence.platform.gnome_shell import gnome_note
from presence.platform.selection import CANDIDATES, Choice, choose
from presence.settings.files import Paths, database_url
from presence.settings.schema import Settings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DoctorReport:
    capabilities: list[Choice]
    session: Session
    notes: list[str] = field(default_factory=list)
    # what failed in the running daemon since it started (presence.core.faults)
    faults: list[FaultSnapshot] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "session": {
                "display": self.session.x11_display,
                "wayland_display": self.session.wayland_display,
                "session_type": self.session.session_type,
                "session_bus": self.session.session_bus,
            },
            "capabilities": [
                {
                    "capability": c.capability,
                    "backend": c.name,
                    "forced_by": c.forced_by,
                    "rejected": [
                        {"backend": r.name, "reason": r.reason, "fix": r.hint} for r in c.rejected
                    ],
                }
                for c in self.capabilities
            ],
            "notes": self.notes,
            "faults": [published.to_dict(f) for f in self.faults],
        }


def diagnose(
    settings: Settings,
    paths: Paths,
    session: Session | None = None,
    fault_file: Path | None = None,
) -> DoctorReport:
    """Build each capability's backend as the daemon would, then close it again; with
    `fault_file` (pass it while the daemon runs) also what failed in the daemon."""
    session = session or Session.from_env()
    choices = []
    for capability in CANDIDATES:
        configured = getattr(settings.backends, capability)
        try:
            choice = choose(capability, session, configured)
        except PresenceError as exc:
            choice = Choice(capability)
            choice.forced_by = exc.message
        if choice.backend is not None:
            try:
                choice.backend.close()
            except Exception:
                log.debug("closing %s raised", choice.name, exc_info=True)
        choices.append(choice)
    report = DoctorReport(choices, session)
    if fault_file is not None:
        report.faults = published.read(fault_file)
    report.notes.append(
        f"settings: {paths.config_file}"
        + ("" if paths.config_file.exists() else " (absent: defaults)")
    )
    report.notes.append(f"database: {database_url(settings, paths)}")
    if session.is_wayland:
        report.notes.append(wayland_note(session))
    gnome = gnome_note(session)
    if gnome is not None:
        report.notes.append(gnome)
    if session.session_bus is None:
        report.notes.append(
            "no session D-Bus: lock state from the screensaver is unavailable "
            "(a bus is never autolaunched; export DBUS_SESSION_BUS_ADDRESS)"
        )
    return report


def wayland_note(session: Session) -> str:
    """Why the X11 backends are passed over in a Wayland session, and what works instead."""
    found = session.compositor
    where = f"a Wayland session ({found})" if found else "a Wayland session"
    instead = f"the {found} backends record it" if found else "a Wayland backend must record it"
    return (
        f"{where}: the X11 backends (x11, xscreensaver, pynput) are not chosen automatically, "
        f"since through Xwayland they see only X11 windows and their input; {instead}. "
        "Forcing one by name (PRESENCE_BACKEND_WINDOW=x11) still works."
    )
