"""Say when nothing is watching (issue 10): after `rules add`, `snooze`, `override`, `focus`
and `pause`, one line on whether a daemon runs for this device and whether it can carry out
the rule's action here (what it published in the runtime dir: `health.enforcement`)."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from presence.cli.context import AppContext
from presence.cli.render import console
from presence.core.clock import SystemClock
from presence.core.errors import PresenceError
from presence.health.enforcement import (
    ACTIONS,
    describe,
    enforcement_file,
    failed_actions,
    read,
)
from presence.health.status import recording_pid
from presence.rules.model import Action

CAPABILITY_OF = {
    Action.NUDGE: "notify",
    Action.LOCK: "lock",
    Action.CLOSE_APPS: "apps",
    Action.PAUSE_APPS: "apps",
}


def watching(context: AppContext, actions: Iterable[Action] = ()) -> str | None:
    """The line to say (None when the database cannot be asked)."""
    device = context.settings.device.name
    try:
        pid = recording_pid(context.store(), device, SystemClock().now(), socket.gethostname())
    except PresenceError:
        return None
    if pid is None:
        return (
            f"Note: no presence daemon is running for device {device!r}: nothing records or "
            "enforces rules here until one does (`presence run`, or `presence install` for a "
            "service that starts with the session)."
        )
    published = read(enforcement_file(context.paths.runtime_dir))
    if published is None:
        return f"The daemon (pid {pid}) records and enforces on {device!r}."
    missing = sorted({CAPABILITY_OF[a] for a in actions if published.get(CAPABILITY_OF[a]) is None})
    if not missing:
        return f"The daemon (pid {pid}) enforces this on {device!r}."
    cannot = " or ".join(ACTIONS[key] for key in missing)
    extra = " (notifications go to its log only)" if "notify" in missing else ""
    return (
        f"Warning: the daemon (pid {pid}) cannot {cannot} on {device!r}{extra}: the rule is "
        "logged but not carried out; `presence doctor` says what is missing."
    )


def say_watching(context: AppContext, actions: Iterable[Action] = ()) -> None:
    """Print `watching()`'s line, if any. Never raises."""
    line = watching(context, actions)
    if line is not None:
        console().print(line, highlight=False)


def enforcement_status(context: AppContext, now: datetime, here: bool) -> dict[str, Any]:
    """For `presence status` (issue 10): what this session's daemon can enforce (when it is
    the one recording this device: `here`), and the actions that failed in the last day."""
    published = read(enforcement_file(context.paths.runtime_dir)) if here else None
    try:
        failed = failed_actions(context.rule_store(), now)
    except PresenceError:
        failed = []
    return {
        "capabilities": published,
        "failed_actions": [
            {"at": f.at.isoformat(), "rule": f.rule, "action": f.action, "reason": f.reason}
            for f in failed
        ],
    }


def say_enforcement(context: AppContext, data: dict[str, Any], zone: Any) -> None:
    """The text form of `enforcement_status`."""
    out = console()
    if data["capabilities"] is not None:
        out.print(f"enforcement: {describe(data['capabilities'])}", markup=False)
    for item in data["failed_actions"]:
        at = datetime.fromisoformat(item["at"]).astimezone(zone).strftime("%a %H:%M")
        out.print(f"failed {at}: {item['rule']} ({item['action']}): {item['reason']}", markup=False)
