"""The daemon with no display and no bus: keeps running, says once what it cannot see."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.integration.daemon_process import DaemonProcess, file_mode, without_bus

pytestmark = pytest.mark.integration


def test_no_display_degrades_and_exits_cleanly(tmp_path: Path) -> None:
    env = without_bus(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    daemon = DaemonProcess(tmp_path, env)
    daemon.start(wait_for="recording device")
    try:
        daemon.wait_for_log("focused application and window title unavailable", timeout=20)
        time.sleep(4)  # several ticks: the warning must not repeat every tick
        assert daemon.proc is not None and daemon.proc.poll() is None
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
    log = daemon.log()
    assert "Traceback" not in log
    warning = "focused application and window title unavailable"
    assert log.count(warning) == 1
    assert "set DISPLAY" in log  # the fix is named
    assert daemon.spans() == []  # seeing nothing is not recorded as use
    assert daemon.integrity() == "ok"
    assert file_mode(daemon.db_path) == 0o600
    assert file_mode(daemon.db_path.parent) == 0o700


def test_second_daemon_is_refused(tmp_path: Path) -> None:
    env = without_bus(os.environ)
    env.pop("DISPLAY", None)
    first = DaemonProcess(tmp_path, env)
    first.start()
    try:
        second = DaemonProcess(tmp_path, env)
        second.log_path = tmp_path / "second.log"
        second.start(wait_for="already recording")
        assert second.proc is not None and second.proc.wait(20) == 8
        assert f"pid {first.proc.pid}" in second.log()  # type: ignore[union-attr]
        assert "Traceback" not in second.log()
    finally:
        first.kill()
