"""Private D-Bus buses for integration tests, a bus recorder, and the fake services' launcher.

A pytest plugin (registered in tests/conftest.py). Fixtures:

- `session_bus`: a private bus standing in for the session bus; `.env` has
  DBUS_SESSION_BUS_ADDRESS pointing at it.
- `system_like_bus`: a second private bus standing in for the system bus; `.env` has
  DBUS_SYSTEM_BUS_ADDRESS pointing at it.
- `fake_screensaver` / `fake_logind`: the services of tests/integration/fake_services.py
  running on those buses.

Nothing here touches the user's own buses: every bus is a fresh `dbus-daemon` with its own
configuration (no service directories, so nothing is ever bus-activated), listening in its
own directory, and every client is given its address explicitly.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests.integration.components import require

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0  # seconds; generous, the machine is small and shared
STOP_TIMEOUT = 10.0

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={directory}</listen>
  <auth>EXTERNAL</auth>{servicedir}
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _read_line(process: subprocess.Popen[bytes], timeout: float, what: str) -> str:
    """The first line `process` writes on stdout, waiting up to `timeout` seconds."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{what} printed nothing within {timeout:g} s")
            if selector.select(left):
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise RuntimeError(f"{what} exited ({process.wait()}) before it was ready")
                data += chunk
    return data.split(b"\n", 1)[0].decode()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


class PrivateBus:
    """A running private `dbus-daemon`. `address` is what clients connect to."""

    def __init__(self, env_var: str, servicedir: Path | None = None) -> None:
        """Start a bus; clients find it through `env_var` in `.env`.

        With `servicedir`, the bus activates the services described there (and only those).
        Raises RuntimeError when the bus does not start within START_TIMEOUT.
        """
        # unix socket paths are limited to 107 bytes, which pytest's tmp_path can exceed:
        # the socket lives in a short directory of its own under /tmp.
        self.directory = Path(tempfile.mkdtemp(prefix="presence-bus-", dir="/tmp"))
        config = self.directory / "bus.conf"
        activation = f"\n  <servicedir>{escape(str(servicedir))}</servicedir>" if servicedir else ""
        config.write_text(
            _CONFIG.format(directory=escape(str(self.directory)), servicedir=activation)
        )
        self.log = self.directory / "dbus-daemon.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    "dbus-daemon",
                    f"--config-file={config}",
                    "--print-address=1",
                    "--nofork",
                    "--nopidfile",
                ],
                stdout=subprocess.PIPE,
                stderr=log,
            )
        try:
            self.address = _read_line(self.process, START_TIMEOUT, "dbus-daemon")
        except (TimeoutError, RuntimeError) as exc:
            self.stop()
            raise RuntimeError(f"{exc}; its log: {self.log.read_text()!r}") from exc
        self.env = dict(os.environ)
        self.env[env_var] = self.address

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """Stop the bus (idempotent): every client connection is closed by it."""
        _stop(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def session_bus() -> Iterator[PrivateBus]:
    """A private bus standing in for the session bus; stopped at teardown."""
    require("dbus-daemon", "dbus-monitor")
    bus = PrivateBus("DBUS_SESSION_BUS_ADDRESS")
    try:
        yield bus
    finally:
        bus.stop()


@pytest.fixture
def system_like_bus() -> Iterator[PrivateBus]:
    """A second private bus standing in for the system bus; stopped at teardown."""
    require("dbus-daemon", "dbus-monitor")
    bus = PrivateBus("DBUS_SYSTEM_BUS_ADDRESS")
    try:
        yield bus
    finally:
        bus.stop()


class BusRecorder:
    """Everything on a private bus as `dbus-monitor --monitor` prints it, captured to a file.

    `--monitor` uses BecomeMonitor (D-Bus specification, "Monitoring Interface"), which a bus
    grants to a connection of the bus owner's uid; eavesdropping match rules are not needed.
    Use as a context manager: it returns once the monitor is attached.
    """

    def __init__(self, address: str, path: Path) -> None:
        self.address = address
        self.path = path
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BusRecorder:
        require("dbus-monitor")
        with self.path.open("wb") as out:
            self._process = subprocess.Popen(
                ["dbus-monitor", "--address", self.address, "--monitor"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        # Becoming a monitor makes the bus take every name from the connection, so the first
        # NameLost in the output marks the moment recording starts.
        self.wait_for("member=NameLost")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            _stop(self._process)

    def text(self) -> str:
        """What was recorded so far."""
        return self.path.read_text(errors="replace")

    def wait_for(self, needle: str, timeout: float = START_TIMEOUT) -> str:
        """Poll the recording until `needle` appears; return the recording. Fails on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if needle in text:
                return text
            if self._process is not None and self._process.poll() is not None:
                pytest.fail(f"dbus-monitor exited ({self._process.returncode}): {text[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"{needle!r} not seen on the bus within {timeout:g} s: {text[-2000:]}")
            time.sleep(0.02)


class FakeService:
    """One of fake_services.py's services running on a private bus, as a subprocess."""

    def __init__(self, bus: PrivateBus, service: str, *options: str) -> None:
        self.bus = bus
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.fake_services",
                service,
                "--address",
                bus.address,
                *options,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            self.unique_name = _read_line(self.process, START_TIMEOUT, service).split()[1]
        except (TimeoutError, RuntimeError) as exc:
            self.stop()
            raise RuntimeError(f"fake {service} did not start: {exc}") from exc

    @property
    def pid(self) -> int:
        return self.process.pid

    def call(self, dest: str, path: str, method: str, *args: str) -> str:
        """Call `method` (interface.Member) with dbus-send typed `args`; return its output."""
        require("dbus-send")
        result = subprocess.run(
            [
                "dbus-send",
                f"--bus={self.bus.address}",
                "--print-reply",
                "--reply-timeout=10000",
                f"--dest={dest}",
                path,
                method,
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"dbus-send {method} failed: {result.stderr.strip()}")
        return result.stdout

    def stop(self) -> None:
        """Stop the service (idempotent); its bus name is released with its connection."""
        _stop(self.process)


def screensaver_active(service: FakeService, value: bool) -> None:
    """Set the fake org.freedesktop.ScreenSaver's active state (returns once it is set)."""
    service.call(
        "org.freedesktop.ScreenSaver",
        "/org/freedesktop/ScreenSaver",
        "org.freedesktop.ScreenSaver.SetActive",
        f"boolean:{str(value).lower()}",
    )


def logind_locked_hint(service: FakeService, value: bool) -> None:
    """Set the fake logind session's LockedHint (returns once it is set)."""
    service.call(
        "org.freedesktop.login1",
        "/org/freedesktop/login1/session/auto",
        "org.freedesktop.login1.Session.SetLockedHint",
        f"boolean:{str(value).lower()}",
    )


@pytest.fixture
def fake_screensaver(session_bus: PrivateBus) -> Iterator[FakeService]:
    """A fake org.freedesktop.ScreenSaver on `session_bus`, initially not active."""
    service = FakeService(session_bus, "screensaver")
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def fake_logind(system_like_bus: PrivateBus) -> Iterator[FakeService]:
    """A fake logind on `system_like_bus` whose session/auto has LockedHint false."""
    service = FakeService(system_like_bus, "logind")
    try:
        yield service
    finally:
        service.stop()
