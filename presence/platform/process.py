"""Questions about processes on this machine, answered with psutil (kept behind platform/)."""

from __future__ import annotations

import psutil


def pid_exists(pid: int) -> bool:
    """True when a process with this pid exists now (it may belong to another user)."""
    return bool(psutil.pid_exists(pid))
