"""Screen lock state on sway, Hyprland and other wlroots compositors: a screen locker running.

These compositors have no lock interface a client can ask (sway's IPC has none; swaylock and
hyprlock do not set logind's LockedHint), but a locker that holds the screen is a process of
this user: swaylock, hyprlock, gtklock, waylock (the ext-session-lock-v1 lockers). The session
counts as locked while one of them runs.

The process table is read straight from /proc: only directories owned by this user are
opened (their owner is the process's real uid), and only their `stat` (name and state). psutil's
`process_iter(["name", "uids"])` costs about 6 ms a tick on a machine with 100 processes
(it parses /proc/PID/status for every process), this about 0.4 ms, which matters at one read
per second against a 0.3 %-of-a-core budget.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from presence.platform.base import Probe, Session

log = logging.getLogger(__name__)

LOCKERS = frozenset({"swaylock", "hyprlock", "gtklock", "waylock"})
"""Process names (the kernel's 15-character `comm`) of screen lockers that hold the screen."""

PROC = Path("/proc")


class ProcessLockState:
    """Locked while one of this user's processes is a screen locker (LOCKERS).

    Thread contract: `locked()` on the sampler thread only; nothing is kept open.
    """

    name = "locker-process"

    @classmethod
    def probe(cls, session: Session, proc: Path = PROC) -> Probe:
        """Wayland sessions of compositors without a lock interface (not GNOME or KDE, whose
        ScreenSaver interface says it), with a readable /proc. Side-effect free."""
        if not session.is_wayland:
            return Probe.no(
                "not a Wayland session: lockers there report through logind or the ScreenSaver",
                hint="the logind and screensaver backends serve X11 sessions",
            )
        if session.compositor in ("kwin", "gnome"):
            return Probe.no(
                f"{session.compositor} reports its own lock state (ScreenSaver interface)",
                hint="the screensaver backend serves this session",
            )
        if not (proc / "self" / "comm").exists():
            return Probe.no(f"no process table at {proc}", hint="mount /proc (procfs)")
        return Probe.yes(f"watching for {', '.join(sorted(LOCKERS))}")

    def __init__(self, session: Session, proc: Path = PROC, uid: int | None = None) -> None:
        """Nothing to connect: the process table is read at each call."""
        self._proc = proc
        self._uid = os.getuid() if uid is None else uid
        self._last: int | None = None  # the locker's pid seen last: checked first

    def locked(self) -> bool | None:
        """Whether a screen locker of this user runs now. Never None: /proc always answers."""
        if self._last is not None and self._is_locker(self._last):
            return True
        self._last = self._find()
        return self._last is not None

    def _find(self) -> int | None:
        try:
            entries = os.scandir(self._proc)
        except OSError as exc:
            log.debug("cannot list %s: %s", self._proc, exc)
            return None
        with entries:
            for entry in entries:
                if not entry.name.isdigit():
                    continue
                try:
                    if entry.stat().st_uid != self._uid:
                        continue
                except OSError:
                    continue  # exited while we looked
                if self._is_locker(int(entry.name)):
                    return int(entry.name)
        return None

    def _is_locker(self, pid: int) -> bool:
        try:
            stat = (self._proc / str(pid) / "stat").read_bytes()
            if (self._proc / str(pid)).stat().st_uid != self._uid:
                return False  # the pid was reused by another user's process
        except OSError:
            return False
        # proc(5): "pid (comm) state ..."; comm may itself hold ")" and spaces.
        head, _, tail = stat.rpartition(b")")
        comm = head.partition(b"(")[2].decode("utf-8", "replace")
        state = tail.split(maxsplit=1)[:1]
        # A zombie has exited: the locker is gone, only its parent has not reaped it yet.
        return comm in LOCKERS and state not in ([b"Z"], [b"X"])

    def close(self) -> None:
        """Nothing to release."""
