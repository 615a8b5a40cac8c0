"""Starting a daemon on a shared database, also while its server is away (issue 12).

Online: open (and migrate) the database, take this device's recorder row, register the device,
start the run and save the local state (presence.store.offline) for the next offline start.

Offline (the server cannot be reached, and a local state for this server and device name was
saved when it last was): the store is opened without touching the server, the device id comes
from the local state, the run is an offline run in the spool (created on the server by the first
replay, with this daemon's start time and person) and the recorder row is not taken (no server
to take it on). Without a local state the daemon cannot know its device id and does not start.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from presence import __version__
from presence.core.errors import PresenceError, StorageError
from presence.rulebook import household
from presence.store import Device, Store
from presence.store.holder import Holder, RecorderLock
from presence.store.offline import LocalState, server_of
from presence.store.spool import OfflineRun, Spool, spool_for

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Connection:
    """What the daemon starts with. `run_id` is negative for an offline run."""

    store: Store
    device: Device
    run_id: int
    held: Holder | None
    online: bool


def spool_of(url: str, data_dir: Path) -> Spool | None:
    """The offline spool of a daemon writing to `url`: none for SQLite (a local file)."""
    return spool_for("sqlite" if url.startswith("sqlite") else "shared", data_dir)


def connect(
    url: str, device_name: str, data_dir: Path, spool: Spool | None, now: datetime
) -> Connection:
    """Open the database at `url` as `device_name`; offline when its server cannot be reached
    and a spool and a local state allow it. Raises PresenceError (StorageError: cannot start)."""
    person = household.this_person()
    try:
        store = Store.open(url)
    except StorageError as exc:
        offline = _offline(url, device_name, data_dir, spool, person, now, exc)
        if offline is None:
            raise
        return offline
    try:  # one recorder per database (issue 11), before anything is written
        held = RecorderLock(store.engine).take(device_name, os.getpid(), socket.gethostname(), now)
    except PresenceError:
        store.close()
        raise
    device = store.device(device_name, socket.gethostname(), now)
    run_id = store.start_run(device.id, os.getpid(), __version__, now)
    household.register(store, device.id, run_id, person, now)  # issue 12
    if spool is not None:
        zone = _zone(store, device.id)
        LocalState(server_of(store), device.name, device.id, zone, now.timestamp()).save(data_dir)
    return Connection(store, device, run_id, held, online=True)


def _zone(store: Store, device_id: int) -> str | None:
    try:
        return household.place_reader(store, device_id)()
    except StorageError:
        return None


def _offline(
    url: str,
    device_name: str,
    data_dir: Path,
    spool: Spool | None,
    person: str,
    now: datetime,
    exc: StorageError,
) -> Connection | None:
    """The offline start, or None when this database cannot have one (SQLite, never reached)."""
    if spool is None:
        return None
    store = Store.open(url, migrate=False)  # the engine only: nothing is sent to the server
    state = LocalState.load(data_dir, server_of(store), device_name)
    if state is None:
        store.close()
        log.error(
            "the database cannot be reached and this device never reached it: no offline start"
        )
        return None
    run_id = spool.begin_run(state.device_id, os.getpid(), __version__, person, now)
    log.warning(
        "the database cannot be reached (%s): starting offline as device %s (id %d, server last "
        "reached %s); spans are spooled on disk and the last copy of the rules is enforced",
        exc.message,
        device_name,
        state.device_id,
        state.contacted.isoformat(timespec="seconds"),
    )
    return Connection(
        store, Device(state.device_id, device_name, socket.gethostname()), run_id, None, False
    )


def run_opener(store: Store) -> Callable[[OfflineRun], int]:
    """What the recorder's replay calls to create an offline run on the server (and close it
    when it ended), with its person. Raises StorageError."""

    def open_run(run: OfflineRun) -> int:
        run_id = store.start_run(run.device_id, run.pid, run.version, run.started)
        household.register(store, run.device_id, run_id, run.person, run.started)
        if run.ended is not None:
            store.end_run(run_id, run.ended, run.reason or "stopped")
        log.info("created the run begun offline at %s as %d", run.started, run_id)
        return run_id

    return open_run


def remembered_place(store: Store, device: Device, data_dir: Path) -> Callable[[], str | None]:
    """The enforcer's zone reader: the server's answer, kept in the local state when it
    changes; the local state's zone while the server is away. Raises StorageError when
    neither is known."""
    read = household.place_reader(store, device.id)
    server = server_of(store)
    kept: list[str | None] = []

    def place() -> str | None:
        try:
            zone = read()
        except StorageError:
            state = LocalState.load(data_dir, server, device.name)
            if state is None or state.device_id != device.id:
                raise
            return state.zone
        if kept != [zone]:
            kept[:] = [zone]
            state = LocalState.load(data_dir, server, device.name)
            if state is not None and state.device_id == device.id and state.zone != zone:
                state.with_zone(zone, datetime.now(state.contacted.tzinfo)).save(data_dir)
        return zone

    return place
