"""What the GNOME and KWin harnesses (wayland_gnome.py, wayland_kwin.py) do the same way for a
desktop session run as the desktop test user: its private `dbus-daemon`s, and stopping it and
removing its directories.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from tests.integration.desktop_user import DesktopUser
from tests.integration.sessionbus import _read_line, _stop


class UserSession(Protocol):
    """A running session: its runtime dir and work dir, and `stop()` (clients first)."""

    @property
    def runtime(self) -> Path: ...

    @property
    def work(self) -> Path: ...

    def stop(self) -> None: ...


def user_bus(
    user: DesktopUser, runtime: Path, config: Path, text: str, what: str, timeout: float
) -> tuple[subprocess.Popen[bytes], str]:
    """A `dbus-daemon` of `user` on the configuration `text` (written to `config`, readable by
    the user): the process and its address. Raises TimeoutError or RuntimeError (the daemon
    stopped) when it prints no address within `timeout` seconds."""
    config.write_text(text)
    config.chmod(0o644)
    process = user.popen(
        ["dbus-daemon", f"--config-file={config}", "--print-address=1", "--nofork", "--nopidfile"],
        user.base_env(runtime),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        return process, _read_line(process, timeout, what)
    except (TimeoutError, RuntimeError):
        _stop(process)
        raise


def stop_processes(processes: Sequence[subprocess.Popen[Any]]) -> None:
    """Stop `processes` last started first (clients before the compositor before its bus)."""
    for process in reversed(processes):
        _stop(process)


def abandon(processes: Sequence[subprocess.Popen[Any]], runtime: Path, work: Path) -> None:
    """A start that failed half-way: stop what it started and remove its directories."""
    stop_processes(processes)
    shutil.rmtree(runtime, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)


def discard(session: UserSession) -> None:
    """Stop `session` and remove its runtime and work directories."""
    session.stop()
    shutil.rmtree(session.runtime, ignore_errors=True)
    shutil.rmtree(session.work, ignore_errors=True)
