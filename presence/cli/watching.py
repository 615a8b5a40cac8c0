"""Say when nothing is watching (issue 10): after `rules add`, `snooze`, `override`, `focus`
and `pause`, one line on whether a daemon runs for this device and whether it can carry out
the rule's action here (what it published in the runtime dir: `health.enforcement`)."""

from __future__ import annotations

import socket
from collections.abc import Iterable

from presence.cli.context import AppContext
from presence.cli.render import console
from presence.core.clock import SystemClock
from presence.core.errors import PresenceError
from presence.health.enforcement import ACTIONS, enforcement_file, read
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
