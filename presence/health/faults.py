"""The daemon's failure counts, published for `presence status` and `presence doctor`.

The daemon writes `faults.json` in the runtime directory (0600, replaced atomically) whenever
its counts change, and removes it when it stops; the commands read it while the daemon runs.
A file rather than the database: the counts must stay visible when the database is what fails.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from presence.core.faults import FaultSnapshot

log = logging.getLogger(__name__)

FILE_NAME = "faults.json"


def fault_file(runtime_dir: Path) -> Path:
    """Where the daemon of this session publishes its failure counts."""
    return runtime_dir / FILE_NAME


def to_dict(snap: FaultSnapshot) -> dict[str, Any]:
    return {
        "part": snap.name,
        "failing": snap.failing,
        "failures": snap.failures,
        "in_a_row": snap.streak,
        "last_error": snap.last_error,
        "last_at": snap.last_at.isoformat(),
        "retry_in_s": round(snap.retry_in, 1),
    }


def write(path: Path, snapshots: Sequence[FaultSnapshot]) -> None:
    """Replace `path` with `snapshots` (0600). Never raises: a failure is logged at DEBUG (the
    counts are in the daemon's log anyway). Daemon's main thread."""
    data = json.dumps({"faults": [to_dict(s) for s in snapshots]}, indent=1)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("cannot publish the failure counts in %s: %s", path, exc)


def remove(path: Path) -> None:
    """The daemon stops: its counts go with it. Never raises."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("cannot remove %s: %s", path, exc)


def read(path: Path) -> list[FaultSnapshot]:
    """The counts the running daemon published ([] when none, or unreadable). Any thread."""
    try:
        items = json.loads(path.read_text()).get("faults", [])
        return [
            FaultSnapshot(
                name=str(item["part"]),
                failures=int(item["failures"]),
                streak=int(item["in_a_row"]),
                last_error=str(item["last_error"]),
                last_at=datetime.fromisoformat(item["last_at"]),
                retry_in=float(item["retry_in_s"]),
            )
            for item in items
        ]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.debug("cannot read %s: %s", path, exc)
        return []


def describe(snap: FaultSnapshot) -> str:
    """One line for `presence status` and `doctor`."""
    if snap.failing:
        state = f"failing ({snap.streak} in a row, next try in {snap.retry_in:.0f} s)"
    else:
        state = "working again"
    return f"{snap.name}: {state}; {snap.failures} failures, last: {snap.last_error}"
