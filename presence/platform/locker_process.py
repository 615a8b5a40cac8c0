"""Screen lock state on sway, Hyprland and other wlroots compositors: a screen locker running.

These compositors have no lock interface a client can ask (sway's IPC has none; swaylock and
hyprlock do not set logind's LockedHint), but a locker that holds the screen is a process of
this user: swaylock, hyprlock, gtklock, waylock (the ext-session-lock-v1 lockers). The session
counts as locked while one of them runs.

The process table is read straight from /proc, each process once when it first appears
(its `stat`: name and state); later calls cost one directory listing. psutil's
`process_iter(["name", "uids"])` costs about 6 ms a call on a machine with 100 processes (it
parses every /proc/PID/status), a fresh scan of every process of the user about 1 ms, this
about 0.1 ms: at one read per second against a 0.3 %-of-a-core budget, that matters.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from presence.platform.base import Probe, Session

log = logging.getLogger(__name__)

LOCKERS = frozenset({"swaylock", "hyprlock", "gtklock", "waylock"})
"""Process names (the kernel's 15-character `comm`) of screen lockers that hold the screen."""

PROC = Path("/proc")

RECHECK_SECONDS = 10.0
"""How long a process read once is trusted not to have exec'd into a locker."""


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
        self._others: set[int] = set()  # pids known not to be lockers
        self._recheck_at = 0.0

    def locked(self) -> bool | None:
        """Whether a screen locker of this user runs now. Never None: /proc always answers.

        Each process is read once, when it first appears; the rest of the time a call costs
        one directory listing. A process that turns into a locker by exec() keeps its pid, so
        the pids known not to be lockers are forgotten every RECHECK_SECONDS: a locker exec'd
        by a process that was read in the microseconds between its fork and its exec is seen
        that much later.
        """
        if self._last is not None and self._is_locker(self._last):
            return True
        self._last = None
        try:
            names = os.listdir(self._proc)
        except OSError as exc:
            log.debug("cannot list %s: %s", self._proc, exc)
            return False
        now = time.monotonic()
        if now >= self._recheck_at:
            self._others.clear()
            self._recheck_at = now + RECHECK_SECONDS
        present = set()
        for name in names:
            if not name.isdigit():
                continue
            pid = int(name)
            present.add(pid)
            if pid in self._others:
                continue
            if self._is_locker(pid):
                self._last = pid
                return True
            self._others.add(pid)
        self._others &= present  # forget exited pids: a reused pid is read afresh
        return False

    def _is_locker(self, pid: int) -> bool:
        try:
            stat = (self._proc / str(pid) / "stat").read_bytes()
        except OSError:
            return False  # exited while we looked
        # proc(5): "pid (comm) state ..."; comm may itself hold ")" and spaces.
        head, _, tail = stat.rpartition(b")")
        comm = head.partition(b"(")[2].decode("utf-8", "replace")
        state = tail.split(maxsplit=1)[:1]
        # A zombie has exited: the locker is gone, only its parent has not reaped it yet.
        if comm not in LOCKERS or state in ([b"Z"], [b"X"]):
            return False
        try:
            # The directory's owner is the process's real uid: another user's locker (a
            # second seat, a fast user switch) does not lock this session.
            return (self._proc / str(pid)).stat().st_uid == self._uid
        except OSError:
            return False

    def close(self) -> None:
        """Nothing to release."""
