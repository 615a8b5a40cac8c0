"""A read-only data directory (issue 11): every command says so with exit 4, `data check` still
finds a sound database sound, and no answer is an internal error.

A read-only mount of a small tmpfs, because root (CI) ignores permission bits: a chmod'ed
directory would not refuse its writes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.components import missing_component

pytestmark = pytest.mark.integration


@pytest.fixture
def read_only_home(tmp_path: Path) -> Iterator[dict[str, str]]:
    if os.geteuid() != 0:
        missing_component("root (to mount a tmpfs read-only)", "run the tests as root, as CI does")
    mount = tmp_path / "mnt"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], check=True)
    env = dict(os.environ)
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "cfg"),
        XDG_DATA_HOME=str(mount / "data"),
        XDG_RUNTIME_DIR=str(tmp_path / "run"),
        PYTHONUNBUFFERED="1",
    )
    env.pop("DISPLAY", None)
    for var in ("PRESENCE_CONFIG", "PRESENCE_DATA_DIR", "PRESENCE_DEBUG"):
        env.pop(var, None)
    try:
        assert presence(env, "pause", "1s").returncode == 0  # the database exists, sound
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield env
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def presence(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "presence", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_command_says_the_directory_is_read_only(read_only_home: dict[str, str]) -> None:
    env = read_only_home
    check = presence(env, "data", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert ": ok" in check.stdout and "damaged" not in check.stdout
    for args in (("run",), ("today",), ("report", "--day"), ("status",)):
        answer = presence(env, *args)
        assert answer.returncode == 4, (args, answer.stderr)
        assert "cannot open the database" in answer.stderr and "for writing" in answer.stderr
        assert "cannot create" not in answer.stderr and "internal error" not in answer.stderr
        assert "remount it read-write" in answer.stderr
    repair = presence(env, "data", "repair", "--force")
    assert repair.returncode == 4, repair.stderr
    assert "free some space" not in repair.stderr and "remount it read-write" in repair.stderr
