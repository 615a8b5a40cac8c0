"""The daemon's live state as a small JSON file, for `presence status` and status bars.

The daemon writes `status.json` in the runtime directory (0600, replaced atomically) when
what it says changes, at most once a second, and removes it when it stops
(presence.daemon.glance builds it). Readers need no database and no SQLAlchemy: a status bar
polling it costs a file read.

Nothing in the file grows with time: it says when things started (the current span, today's
active time before the current span) and readers add the time since. So an unchanged file is
never stale, and the daemon writes nothing while the same app stays in focus.

Schema (version 1), every instant an ISO 8601 string with its UTC offset:
    version: 1
    device, pid, run_started, zone (the IANA name of the user's zone, or null)
    current: {app, state, since} | null       state: active | idle | locked
    day: {start, end}                         the user's day (reports.day_start)
    active_before_s: active seconds today before `current.since` (the open span's part is
                     added by the reader while `current.state` is active)
    paused: {reason, until | null} | null
    rule: {name, kind, ends | null} | null    a scheduled window in force now
    next: {name, kind, starts, warn_s} | null the next scheduled window (warn_s: its first
                                              warning's lead, seconds)
    limit_s: the smallest daily limit of the rules, seconds | null
    offline: bool                             spans held in memory: the database is away
    faults: [{part, failing, failures, last_error}]
    failed_actions: [{at, rule, action, reason}]  rule actions that failed in the last day
This module imports only the standard library: it runs in `presence status`'s fast path.
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

FILE_NAME = "status.json"
VERSION = 1


def snapshot_file(runtime_dir: Path) -> Path:
    """Where the daemon of this session publishes its live state."""
    return runtime_dir / FILE_NAME


def write(path: Path, data: dict[str, Any]) -> bool:
    """Replace `path` with `data` as JSON (0600, atomically: a reader sees the old file or the
    new one). Returns False (and writes nothing) on an OSError: a status bar is not worth
    failing a tick for. Daemon's main thread."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, separators=(",", ":"), ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        return False
    return True


def read(path: Path) -> dict[str, Any] | None:
    """The snapshot at `path`, or None when there is none (or it is not one of ours)."""
    try:
        text = path.read_bytes()
    except OSError:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return None
    return data


def remove(path: Path) -> None:
    """The daemon stops: its live state goes with it. Never raises."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def instant(text: str | None) -> datetime | None:
    """An instant of the snapshot, or None."""
    return None if text is None else datetime.fromisoformat(text)


def active_today(data: dict[str, Any], now: datetime) -> float:
    """Active seconds today as of `now`: the part before the current span, plus the current
    span's part while it is active (clipped to the day; 0 once the day the daemon last
    described is over, plus the current span's part in the new day)."""
    day = data.get("day") or {}
    start, end = instant(day.get("start")), instant(day.get("end"))
    before = float(data.get("active_before_s") or 0.0)
    if end is not None and now >= end:
        before, start = 0.0, end
    current = data.get("current")
    if current and current.get("state") == "active" and current.get("since"):
        since = datetime.fromisoformat(current["since"])
        if start is not None:
            since = max(since, start)
        before += max(0.0, (now - since).total_seconds())
    return before
