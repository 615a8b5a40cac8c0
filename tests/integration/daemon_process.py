"""Running the real `presence run` as a subprocess, with its own config, data and logs."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from presence.core.model import Span
from presence.store import Store
from presence.store.schema import devices, spans


class DaemonProcess:
    """One `python -m presence run` with private XDG dirs under `root`."""

    def __init__(self, root: Path, env: Mapping[str, str], config: str = "") -> None:
        self.root = root
        for sub in ("cfg/presence", "data", "run"):
            (root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        (root / "cfg/presence/config.toml").write_text(config)
        self.env = dict(env)
        self.env.update(
            XDG_CONFIG_HOME=str(root / "cfg"),
            XDG_DATA_HOME=str(root / "data"),
            XDG_RUNTIME_DIR=str(root / "run"),
            PYTHONUNBUFFERED="1",
        )
        for var in ("PRESENCE_CONFIG", "PRESENCE_DATA_DIR", "PRESENCE_DEBUG"):
            self.env.pop(var, None)
        self.log_path = root / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def db_path(self) -> Path:
        return self.root / "data" / "presence" / "presence.db"

    def start(self, *args: str, wait_for: str = "recording device", timeout: float = 30) -> None:
        self._log_offset = len(self.log())
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "presence", *args, "run"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        self.wait_for_log(wait_for, timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        """Wait until `text` is logged by the process started last."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log()[self._log_offset :]:
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}):\n{self.log()}")
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not logged within {timeout} s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def spans(self) -> list[Span]:
        store = Store.open(f"sqlite:///{self.db_path}", migrate=False, create=False)
        try:
            far = datetime.now(UTC) + timedelta(days=1)
            return store.spans_between(far - timedelta(days=30), far)
        finally:
            store.close()

    def integrity(self) -> str:
        with sqlite3.connect(self.db_path) as db:
            return str(db.execute("PRAGMA integrity_check").fetchone()[0])

    def data_bytes(self) -> bytes:
        """Every byte presence keeps on disk: database, WAL, key file, logs."""
        blobs = []
        for base in (self.root / "data", self.root / "run"):
            for path in base.rglob("*"):
                if path.is_file():
                    blobs.append(path.read_bytes())
        blobs.append(self.log_path.read_bytes() if self.log_path.exists() else b"")
        return b"\n".join(blobs)


def without_bus(env: Mapping[str, str]) -> dict[str, str]:
    """An environment in which nothing can reach, or autolaunch, a D-Bus session bus."""
    clean = dict(env)
    clean.pop("DBUS_SESSION_BUS_ADDRESS", None)
    clean["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=/nonexistent/presence-test-bus"
    return clean


def file_mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


def hms(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%H:%M:%S")


def window(start: datetime, end: datetime) -> list[str]:
    """`rules add`'s --on/--start/--end for a one-off window from `start` to `end` (UTC; one
    that crosses midnight ends the next day)."""
    return [
        "--on",
        start.astimezone(UTC).date().isoformat(),
        "--start",
        hms(start),
        "--end",
        hms(end),
    ]


def window_now(minutes: float = 30) -> list[str]:
    """A window from a minute ago for `minutes`: in force as soon as a daemon starts."""
    now = datetime.now(UTC)
    return window(now - timedelta(minutes=1), now + timedelta(minutes=minutes))


def spans_by_device(url: str) -> dict[str, list[Any]]:
    """Every stored span row (device name, uid, start_ts, end_ts, app, state) of the database
    at `url`, by device name."""
    store = Store.open(url, migrate=False)
    try:
        with store.engine.connect() as c:
            rows = c.execute(
                select(devices.c.name, spans.c.uid, spans.c.start_ts, spans.c.end_ts)
                .add_columns(spans.c.app, spans.c.state)
                .join(devices, devices.c.id == spans.c.device_id)
            ).all()
    finally:
        store.close()
    found: dict[str, list[Any]] = {}
    for row in rows:
        found.setdefault(row.name, []).append(row)
    return found
