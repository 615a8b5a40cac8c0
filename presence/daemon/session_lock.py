"""One daemon per user session: an flock()ed file in the runtime directory.

The kernel drops the lock when the process dies, however it dies, so a stale file never
blocks a restart after a crash or `kill -9`.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from presence.core.errors import AlreadyRunningError, StorageError


class SessionLock:
    """Held for the daemon's lifetime. The file holds the holder's pid, for the message."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Raises AlreadyRunningError naming the holder when another daemon has the lock."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StorageError(
                f"cannot create the lock file {self.path}: {exc.strerror}",
                hint="check that $XDG_RUNTIME_DIR is writable",
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunningError(
                f"another presence daemon (pid {holder}) is already recording this session",
                hint=f"stop it first (kill {holder}), or check `presence status`",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def holder(self) -> int | None:
        """The pid of the daemon holding the lock, or None when nobody holds it."""
        return lock_holder(self.path)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def lock_holder(path: Path) -> int | None:
    """The pid of the daemon holding the lock file `path`, or None when nobody holds it (or
    the file is missing or unreadable). Takes the lock shared for a moment when it is free;
    never blocks."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode(errors="replace").strip()
            return int(text) if text.isdigit() else None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
