"""A real PostgreSQL server for the tests: Debian's `postgresql` on a temp dir and a free port.

One server per test session (`postgres_server`), started from the binaries of the newest
installed major version (/usr/lib/postgresql/N/bin; Debian keeps them off PATH). `initdb` runs
as the non-root test user from `desktop_user` when the tests run as root (PostgreSQL refuses
to run as root), the server listens on a free loopback port with its unix socket inside the
temp dir, and authentication is `trust` (the tests connect as several roles; nothing but this
machine's loopback reaches it). Each test gets its own empty database (`pg_url`).

A missing server skips the test with the package to install, or fails it under CI=true.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.components import missing_component
from tests.integration.desktop_user import DesktopUser, desktop_user

SUPERUSER = "presence"
START_TIMEOUT = 30.0


def server_bin() -> Path | None:
    """The bin directory of the newest installed PostgreSQL, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server: `url(db)` for SQLAlchemy, `stop()`/`start()` for outage tests."""

    bin: Path
    data: Path
    port: int
    user: DesktopUser
    process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres", role: str = SUPERUSER) -> str:
        return f"postgresql+psycopg://{role}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections (raises RuntimeError)."""
        log = open(self.data.parent / "server.log", "ab")  # noqa: SIM115 - the child keeps it
        self.process = self.user.popen(
            [
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.data.parent),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",  # a throwaway test cluster: durability across OS crashes moot
                "-c",
                "max_connections=300",
            ],
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {self.log_tail()}")
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"postgres did not accept connections: {self.log_tail()}")

    def stop(self) -> None:
        """Fast shutdown (SIGINT), as an outage would look to clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_tail(self) -> str:
        path = self.data.parent / "server.log"
        return path.read_text(errors="replace")[-800:] if path.exists() else ""

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser through the unix socket; returns stdout. Raises on error."""
        done = subprocess.run(
            [
                str(self.bin / "psql"),
                "-h",
                str(self.data.parent),
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atc",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.psql(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server(root: Path) -> PostgresServer:
    """initdb a cluster in `root` (a fresh dir) and start it. Skips or fails when missing."""
    bindir = server_bin()
    if bindir is None:
        missing_component(
            "PostgreSQL server (initdb)",
            "install with `sudo apt-get install postgresql` (or run `make test` as root)",
        )
        raise AssertionError("unreachable")  # missing_component skips or fails
    user = desktop_user()
    root.chmod(0o700)
    user.chown(root)
    data = root / "data"
    done = user.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        ],
        {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed: {done.stderr.strip()[-800:]}")
    server = PostgresServer(bindir, data, free_port(), user)
    server.start()
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (see the module docstring)."""
    # Not pytest's tmp_path: as root that lives under a 0700 dir the server's user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="presence-pg-"))
    server = start_server(root)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A SQLAlchemy URL of a new empty database on the session's server, dropped afterwards."""
    if postgres_server.process is None or postgres_server.process.poll() is not None:
        postgres_server.start()  # an outage test left it stopped
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)
