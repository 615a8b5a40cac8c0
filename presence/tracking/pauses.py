"""The services behind `presence pause` and `presence resume`: a gap in the record, with its
reason.

A pause is a row in the store; the daemon reads the pause in force on every tick (so it stops
recording within one tick, without being told), and reports show paused time apart from time
presence was not running. Neither function needs the daemon to be running.
"""

from __future__ import annotations

import socket
from datetime import datetime

from presence.store import Pause, Store

REASON_LENGTH = 255  # the column's width


def pause(
    store: Store, device_name: str, now: datetime, until: datetime | None, reason: str
) -> Pause:
    """Pause recording on the device called `device_name` (created on first use) from `now`
    until `until` (None: until `resume`). `reason` is kept stripped and cut to 255 characters.

    Raises StorageError when the database cannot be written.
    """
    device = store.device(device_name, socket.gethostname(), now)
    return store.add_pause(device.id, now, until, reason.strip()[:REASON_LENGTH])


def resume(store: Store, device_name: str, now: datetime) -> int:
    """End every pause of the device called `device_name` in force at `now`; returns how many
    (0: it was not paused, or never recorded). Raises StorageError."""
    device = store.find_device(device_name)
    return 0 if device is None else store.end_pauses(device.id, now)
