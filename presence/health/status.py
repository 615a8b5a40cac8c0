"""`presence status`: is the daemon recording, and what is the screen being used for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from presence.core.faults import FaultSnapshot
from presence.core.model import Span
from presence.health import faults as published
from presence.platform.process import pid_exists
from presence.store import Pause, Run, Store
from presence.store.holder import RecorderLock
from presence.store.spool import FILE_NAME, Spool, SpoolState

STALE_AFTER = timedelta(seconds=30)
"""A run whose last heartbeat is older than this is not recording (three missed flushes)."""


@dataclass(frozen=True, slots=True)
class Status:
    device: str
    running: bool
    run: Run | None
    pid: int | None
    current: Span | None  # the latest span written (at most one flush period old)
    pause: Pause | None
    # what failed since the daemon started (presence.core.faults), as it published it
    faults: list[FaultSnapshot] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        current = self.current
        return {
            "device": self.device,
            "running": self.running,
            "pid": self.pid,
            "since": self.run.started.isoformat() if self.run and self.running else None,
            "paused": None
            if self.pause is None
            else {
                "reason": self.pause.reason,
                "until": None if self.pause.end_at() is None else self.pause.end_at().isoformat(),  # type: ignore[union-attr]
            },
            "current": None
            if current is None
            else {
                "app": current.app,
                "state": current.state.value,
                "since": current.start.isoformat(),
                "last_seen": current.end.isoformat(),
            },
            "faults": [published.to_dict(f) for f in self.faults],
        }


def daemon_status(
    store: Store,
    device_name: str,
    lock_holder: int | None,
    now: datetime,
    fault_file: Path | None = None,
) -> Status:
    """What the database and the session lock say about this device's daemon, and (from
    `fault_file`, when it runs) what failed in it."""
    device = store.find_device(device_name)
    if device is None:
        running = lock_holder is not None
        faults = published.read(fault_file) if running and fault_file is not None else []
        return Status(device_name, running, None, lock_holder, None, None, faults)
    run = store.latest_run(device.id)
    fresh = run is not None and run.ended is None and now - run.last_seen <= STALE_AFTER
    alive = run is not None and pid_exists(run.pid)
    running = lock_holder is not None or (fresh and alive)
    current = store.latest_span(device.id) if running else None
    if current is not None and run is not None and current.end < run.started:
        current = None  # the previous run's last span (a kill -9): not what this run sees
    pause = store.active_pause(device.id, now)
    pid = lock_holder if lock_holder is not None else (run.pid if running and run else None)
    faults = published.read(fault_file) if running and fault_file is not None else []
    return Status(device_name, running, run, pid, current, pause, faults)


def recording_pid(store: Store, device_name: str, now: datetime, hostname: str) -> int | None:
    """The pid of the live daemon the database names as recording `device_name` (issue 11):
    not the session lock's holder, which may record another database. None when the row is
    missing or stale. Raises StorageError."""
    holder = RecorderLock(store.engine).holder(device_name)
    return None if holder is None or holder.stale(now, hostname) else holder.pid


def offline_state(data_dir: Path) -> SpoolState:
    """The offline spool of this device (issue 12): spans waiting for the shared database and
    since when it is away. Raises StorageError when the spool file cannot be read."""
    return Spool(data_dir / FILE_NAME).state()
