"""The daemon under a service manager: sd_notify messages in order, SIGHUP reloads, runs kept."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from presence.store import Store
from tests.integration.daemon_process import DaemonProcess, without_bus

pytestmark = pytest.mark.integration


class NotifySocket:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[dict[str, str]] = []

    def receive_until(
        self, key: str, value: str | None = None, timeout: float = 20
    ) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                break
            message = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append(message)
            if key in message and (value is None or message[key] == value):
                return message
        raise AssertionError(f"no {key}={value} within {timeout} s; got {self.messages}")

    def close(self) -> None:
        self.sock.close()


def test_sd_notify_sequence_and_sighup(tmp_path: Path) -> None:
    env = without_bus(os.environ)
    env.pop("DISPLAY", None)
    notify = NotifySocket(tmp_path / "notify.sock")
    env["NOTIFY_SOCKET"] = str(notify.path)
    env["WATCHDOG_USEC"] = "3000000"
    daemon = DaemonProcess(tmp_path / "d", env, config="[sampling]\nidle_after = 60\n")
    try:
        daemon.start()
        ready = notify.receive_until("READY", "1")
        assert int(ready["MAINPID"]) == daemon.proc.pid  # type: ignore[union-attr]
        assert ready["STATUS"].startswith("recording")
        notify.receive_until("WATCHDOG", "1")

        config = daemon.root / "cfg" / "presence" / "config.toml"
        config.write_text("[sampling]\nidle_after = 'never'\n")
        daemon.proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
        notify.receive_until("RELOADING", "1")
        refused = notify.receive_until("READY", "1")
        assert "reload refused" in refused["STATUS"]
        daemon.wait_for_log("keeping the last good settings")
        assert "sampling.idle_after" in daemon.log()
        assert daemon.proc.poll() is None  # type: ignore[union-attr]

        config.write_text("[sampling]\nidle_after = 30\n")
        daemon.proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
        daemon.wait_for_log("settings reloaded")

        assert daemon.stop(signal.SIGTERM) == 0
        notify.receive_until("STOPPING", "1")
    finally:
        daemon.kill()
        notify.close()
    events = [next(iter(m)) for m in notify.messages if "WATCHDOG" not in m]
    assert events[0] == "READY" and events[-1] == "STOPPING"
    assert "Traceback" not in daemon.log()


def test_every_start_and_stop_is_recorded(tmp_path: Path) -> None:
    env = without_bus(os.environ)
    env.pop("DISPLAY", None)
    daemon = DaemonProcess(tmp_path, env)
    for _ in range(2):
        daemon.start()
        assert daemon.stop(signal.SIGTERM) == 0
    daemon.start()
    daemon.kill()  # SIGKILL: the run stays open, its last heartbeat says when it ended
    store = Store.open(f"sqlite:///{daemon.db_path}", migrate=False, create=False)
    device = store.devices()[0]
    runs = store.runs_between(
        store.latest_run(device.id).started.replace(year=2000),  # type: ignore[union-attr]
        store.latest_run(device.id).last_seen.replace(year=2100),  # type: ignore[union-attr]
        [device.id],
    )
    store.close()
    assert [r.end_reason for r in runs] == ["stopped", "stopped", None]
