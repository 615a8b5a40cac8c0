"""What the daemon can enforce on this device (issue 10: say when nothing is watching).

The daemon writes `enforcement.json` in the runtime directory (0600, replaced atomically)
after its enforcer starts: per action, the backend that carries it out, or null when none
works here. The commands that make a rule bind (`rules add`, `snooze`, `override`, `focus`,
`pause`) and `presence status` read it to say whether a rule's action can be carried out.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from presence.store import RuleStore

log = logging.getLogger(__name__)

FILE_NAME = "enforcement.json"
DAY = timedelta(days=1)

ACTIONS = {
    "notify": "show notifications",
    "lock": "lock the screen",
    "apps": "close or pause apps",
}
"""The capabilities, and what each lets the daemon do."""


def enforcement_file(runtime_dir: Path) -> Path:
    return runtime_dir / FILE_NAME


def write(path: Path, backends: Mapping[str, str | None]) -> None:
    """Publish `backends` (capability -> backend name or None). Never raises: a failed write
    only leaves the commands without the answer."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(dict(backends), out)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("cannot write %s: %s", path, exc)


def read(path: Path) -> dict[str, str | None] | None:
    """What the running daemon published; None when nothing (or nothing readable) is there."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return {str(k): v if isinstance(v, str) else None for k, v in data.items()}


def remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("cannot remove %s: %s", path, exc)


@dataclass(frozen=True, slots=True)
class FailedAction:
    """An action the daemon could not carry out (an `error` event of the enforcement log)."""

    at: datetime
    rule: str
    action: str
    reason: str


def failed_actions(store: RuleStore, now: datetime, within: timedelta = DAY) -> list[FailedAction]:
    """The actions that failed in the `within` before `now`, oldest first (every device).
    Raises StorageError."""
    found = []
    for event in store.events_between(now - within, now + timedelta(seconds=1)):
        if event.event != "error":
            continue
        action, reason = event.detail.get("action"), event.detail.get("reason")
        found.append(FailedAction(event.ts, event.rule_name, str(action or "?"), str(reason or "")))
    return found


def describe(backends: Mapping[str, str | None]) -> str:
    """One line: what the daemon can do here, and with what."""
    parts = []
    for key, purpose in ACTIONS.items():
        backend = backends.get(key)
        missing = "its log only" if key == "notify" else "no"
        parts.append(f"{purpose}: {backend or missing}")
    return "; ".join(parts)
