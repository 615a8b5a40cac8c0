"""One recorder per database (issue 11): the database itself holds which daemon records each
device, so a second daemon is refused whatever its runtime directory, data directory or host.

The row (`schema.recorders`) is keyed by device name and taken atomically: an INSERT, which
the primary key refuses when the row exists, or else an UPDATE conditioned on the token read,
so of two daemons taking over one stale row only one succeeds. A row is stale when its
heartbeat is older than `STALE_AFTER`, or at once when its holder ran on this host and its
pid is gone (a `kill -9` must not make the restarted daemon wait).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from presence.core.errors import AlreadyRunningError
from presence.store import database
from presence.store.queries import Queries
from presence.store.schema import recorders

STALE_AFTER = 90.0
"""Seconds without a heartbeat after which another daemon may take the device over. The
holder refreshes every `sampling.flush_every` (at most 60 s)."""


@dataclass(frozen=True, slots=True)
class Holder:
    """The daemon recording a device: its pid on `hostname`, since when, its last heartbeat."""

    device: str
    pid: int
    hostname: str
    since: datetime
    heartbeat: datetime
    token: str

    def describe(self) -> str:
        """`pid 123 on host, since 2026-11-29 20:13:05 UTC`."""
        return f"pid {self.pid} on {self.hostname}, since {self.since:%Y-%m-%d %H:%M:%S} UTC"

    def stale(self, now: datetime, hostname: str) -> bool:
        """True when the holder is gone: no heartbeat for STALE_AFTER, or a dead pid here."""
        if (now - self.heartbeat).total_seconds() > STALE_AFTER:
            return True
        return hostname == self.hostname and not _alive(self.pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def _at(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


class RecorderLock(Queries):
    """Take, refresh, release and read the recorder rows. Any thread; raises StorageError."""

    def holder(self, device: str) -> Holder | None:
        """The row of `device` (None: nobody holds it). A stale row is returned too."""
        with self._begin() as c:
            row = c.execute(select(recorders).where(recorders.c.device_name == device)).first()
        if row is None:
            return None
        return Holder(
            row.device_name, row.pid, row.hostname, _at(row.since), _at(row.heartbeat), row.token
        )

    def take(self, device: str, pid: int, hostname: str, now: datetime) -> Holder:
        """Record `device` from now on as `pid` on `hostname`; returns the row taken.

        Raises AlreadyRunningError naming the holder's pid, host and start when a live daemon
        holds it (a row of this very process, left by an earlier build, is taken over);
        StorageError when the database fails.
        """
        token = secrets.token_hex(16)
        stamp = now.timestamp()
        values = {"token": token, "pid": pid, "hostname": hostname, "since": stamp}
        try:
            # not _begin(): the primary key's refusal is an answer here, not a failure
            with self.engine.begin() as c:
                c.execute(insert(recorders).values(device_name=device, heartbeat=stamp, **values))
            return Holder(device, pid, hostname, now, now, token)
        except IntegrityError:
            pass  # the row exists: taken over below only if its holder is gone
        except DBAPIError as exc:
            raise database.storage_error(exc, self.engine) from None
        current = self.holder(device)
        ours = current is not None and (current.pid, current.hostname) == (pid, hostname)
        if current is not None and not ours and not current.stale(now, hostname):
            raise AlreadyRunningError(
                f"another presence daemon records device {device!r} in this database: "
                f"{current.describe()}",
                hint=f"stop it first (on {current.hostname}: kill {current.pid}), or give this "
                "device another name (device.name in the settings file)",
            )
        with self._begin() as c:
            taken = c.execute(
                update(recorders)
                .where(recorders.c.device_name == device)
                .where(recorders.c.token == (current.token if current else ""))
                .values(heartbeat=stamp, **values)
            ).rowcount
        if taken != 1:  # another daemon took it (or released it) between our read and write
            return self.take(device, pid, hostname, now) if current is None else self._lost(device)
        return Holder(device, pid, hostname, now, now, token)

    def _lost(self, device: str) -> Holder:
        current = self.holder(device)
        raise AlreadyRunningError(
            f"another presence daemon took device {device!r} in this database just now"
            + (f": {current.describe()}" if current else ""),
            hint="stop it first, or check `presence status`",
        )

    def refresh(self, held: Holder, now: datetime) -> bool:
        """Move the heartbeat of the row `held`; False when another daemon has taken it."""
        with self._begin() as c:
            count = c.execute(
                update(recorders)
                .where(recorders.c.device_name == held.device)
                .where(recorders.c.token == held.token)
                .values(heartbeat=now.timestamp())
            ).rowcount
        return bool(count == 1)

    def release(self, held: Holder) -> None:
        """Give the device up (only the row `held`: never another daemon's)."""
        with self._begin() as c:
            c.execute(
                delete(recorders)
                .where(recorders.c.device_name == held.device)
                .where(recorders.c.token == held.token)
            )
