"""The real daemon against storage faults: a read-only data directory, and a disk that fills up
while it records (it must hold spans in memory, keep sampling, and write them once it can).

Both use a small tmpfs as the data directory, which needs root (`make test` runs as root in
CI); elsewhere they are skipped with that reason, and under CI=true they fail instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.components import missing_component
from tests.integration.daemon_process import DaemonProcess, without_bus

pytestmark = pytest.mark.integration


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A `size` tmpfs mounted at `path` for the block; skips the test (fails it under CI=true,
    which runs as root) when it cannot mount."""
    if os.geteuid() != 0:
        missing_component("root", "mounting a small tmpfs as the data directory needs root")
    path.mkdir(parents=True, exist_ok=True)
    done = _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))
    if done.returncode != 0:
        missing_component(
            "a tmpfs mount", f"{done.stderr.strip()} (run as root with CAP_SYS_ADMIN)"
        )
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(path: Path) -> None:
    """Write zeros to `path` until the file system is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        chunk = bytes(64 * 1024)
        while True:
            try:
                os.write(fd, chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if len(chunk) == 1:
                    return
                chunk = chunk[: len(chunk) // 2]
    finally:
        os.close(fd)


def no_display_env() -> dict[str, str]:
    env = without_bus(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def test_a_read_only_data_directory_is_a_clear_error(tmp_path: Path) -> None:
    daemon = DaemonProcess(tmp_path, no_display_env())
    with tmpfs(tmp_path / "data", "1m") as data:
        (data / "presence").mkdir(mode=0o700)
        done = _mount("-o", "remount,ro", str(data))
        assert done.returncode == 0, done.stderr
        daemon.start(wait_for="presence: error")
        try:
            assert daemon.proc is not None and daemon.proc.wait(30) == 4
        finally:
            daemon.kill()
    log = daemon.log()
    assert f"{daemon.db_path}: Read-only file system" in log
    assert "hint:" in log and "Traceback" not in log


def test_a_full_disk_holds_spans_in_memory_until_space_returns(
    x_display: Any, tmp_path: Path
) -> None:
    # An X display, so the daemon records spans (idle time is enough: no window is needed).
    daemon = DaemonProcess(tmp_path, without_bus(x_display.env), "[sampling]\nflush_every = 1\n")
    with tmpfs(tmp_path / "data", "2m") as data:
        daemon.start()
        try:
            daemon.wait_for_log("seconds since the last input: using")
            deadline = time.monotonic() + 20
            while not daemon.spans() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert daemon.spans(), "nothing was recorded before the disk filled"
            fill(data / "filler")
            daemon.wait_for_log("holding spans in memory", timeout=20)
            time.sleep(3)  # several ticks and flush attempts on a full disk
            assert daemon.proc is not None and daemon.proc.poll() is None
            assert daemon.log().count("holding spans in memory") == 1  # said once, not per tick
            (data / "filler").unlink()
            daemon.wait_for_log("database writable again", timeout=20)
            assert daemon.stop(signal.SIGTERM) == 0
        finally:
            daemon.kill()
        assert daemon.integrity() == "ok"
        spans = daemon.spans()
    log = daemon.log()
    assert "is full" in log and "Traceback" not in log
    assert spans and spans[-1].end.timestamp() >= time.time() - 10  # the held spans were written
