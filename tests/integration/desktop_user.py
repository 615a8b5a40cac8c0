"""A non-root desktop user for the Wayland integration tests, and running things as that user.

Compositors (sway, KWin, GNOME Shell) are run as an ordinary user with a private
`XDG_RUNTIME_DIR` (0700), as on a real desktop: GNOME Shell and KWin refuse or misbehave as
root, and a Wayland or D-Bus socket is private to its user. When the tests run as root (CI),
the harness creates the user `presence-test` once (`useradd`) and runs the compositor, its
clients and the presence daemon under test as that user; as a normal user, the tests run
everything as that user itself.

The daemon under test runs from this checkout's virtual environment, so the test user must be
able to read it: when a parent directory lacks the traverse bit for others (a clone under
/root, say), the harness adds `o+x` to it (traverse only, not listing) and says so.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.components import missing_component

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
TEST_USER = "presence-test"


@dataclass(frozen=True, slots=True)
class DesktopUser:
    """Who runs the compositor, its clients and the daemon; `root_caller` when we switch."""

    name: str
    uid: int
    gid: int
    home: Path
    root_caller: bool

    def base_env(self, runtime_dir: Path) -> dict[str, str]:
        """A clean login-like environment for this user (no DISPLAY, no bus of ours)."""
        env = {
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "XDG_RUNTIME_DIR": str(runtime_dir),
            "XDG_CONFIG_HOME": str(runtime_dir / "config"),
            "XDG_DATA_HOME": str(runtime_dir / "data"),
            "XDG_CACHE_HOME": str(runtime_dir / "cache"),
        }
        for key in ("CI", "PRESENCE_DEBUG", "TZ"):
            if key in os.environ:
                env[key] = os.environ[key]
        return env

    def popen(
        self, argv: Sequence[str], env: Mapping[str, str], **kwargs: Any
    ) -> subprocess.Popen[Any]:
        """Start `argv` as this user (dropping root when we are root)."""
        if self.root_caller:
            kwargs.setdefault("user", self.uid)
            kwargs.setdefault("group", self.gid)
            kwargs.setdefault("extra_groups", [])
        return subprocess.Popen(list(argv), env=dict(env), **kwargs)

    def run(
        self, argv: Sequence[str], env: Mapping[str, str], timeout: float = 30.0, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run `argv` as this user to completion, capturing text output."""
        if self.root_caller:
            kwargs.setdefault("user", self.uid)
            kwargs.setdefault("group", self.gid)
            kwargs.setdefault("extra_groups", [])
        return subprocess.run(
            list(argv),
            env=dict(env),
            timeout=timeout,
            capture_output=True,
            text=True,
            check=False,
            **kwargs,
        )

    def chown(self, path: Path) -> None:
        """Hand a file or directory the harness made (as root) to this user."""
        if self.root_caller:
            os.chown(path, self.uid, self.gid)

    def private_dir(self, prefix: str) -> Path:
        """A new 0700 directory owned by this user (e.g. its XDG_RUNTIME_DIR)."""
        path = Path(tempfile.mkdtemp(prefix=prefix))
        path.chmod(0o700)
        self.chown(path)
        for sub in ("config", "data", "cache"):
            (path / sub).mkdir(mode=0o700)
            self.chown(path / sub)
        return path


def _ensure_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        missing_component("useradd", "install the Debian package passwd")
    subprocess.run(
        [
            "useradd",
            "--create-home",
            "--shell",
            "/bin/sh",
            "--comment",
            "presence tests",
            TEST_USER,
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return pwd.getpwnam(TEST_USER)


def _open_path_for(user: DesktopUser, target: Path) -> None:
    """Let `user` reach `target` (the checkout and its venv): add o+x to parents lacking it."""
    for parent in reversed(target.parents):
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            log.warning("giving others traverse (o+x) on %s so %s can run presence", parent, user)
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def desktop_user() -> DesktopUser:
    """The user the Wayland tests run as: `presence-test` when we are root, else ourselves."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return DesktopUser(me.pw_name, me.pw_uid, me.pw_gid, Path(me.pw_dir), root_caller=False)
    entry = _ensure_user()
    user = DesktopUser(
        entry.pw_name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir), root_caller=True
    )
    # The venv's python is often a symlink into a Python under /root (pyenv): open that too.
    for needed in (Path(sys.executable), Path(sys.executable).resolve(), Path(sys.base_prefix)):
        _open_path_for(user, needed)
    _open_path_for(user, REPO)
    return user


@pytest.fixture(scope="session")
def wayland_user() -> Iterator[DesktopUser]:
    """The desktop user, checked once: it can start this checkout's Python and import presence."""
    user = desktop_user()
    runtime = user.private_dir("presence-user-")
    try:
        check = user.run(
            [sys.executable, "-c", "import presence.cli"], user.base_env(runtime), cwd=str(REPO)
        )
        if check.returncode != 0:
            pytest.fail(
                f"the test user {user.name} cannot import presence from {REPO}: "
                f"{check.stderr.strip()[-400:]}",
                pytrace=False,
            )
        yield user
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
