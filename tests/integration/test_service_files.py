"""The unit and the autostart entry pass systemd's and freedesktop's own validators.

`systemd-analyze --user verify` loads the unit the way a user manager would, without one:
it only needs a private $XDG_RUNTIME_DIR (there is none as root, or outside a login), and
%h is taken from $HOME, so a temporary home holding `.local/bin/presence` lets it check the
very file in the source tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from presence.install.service_files import (
    DESKTOP_NAME,
    UNIT_NAME,
    desktop_text,
    systemd_exec,
    unit_text,
)
from tests.integration.components import require

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PRESENCE = Path(sys.executable).with_name("presence")  # this venv's console script


def verify(unit: Path, home: Path) -> subprocess.CompletedProcess[str]:
    require("systemd-analyze")
    runtime = home / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = dict(os.environ, HOME=str(home), XDG_RUNTIME_DIR=str(runtime))
    return subprocess.run(
        ["systemd-analyze", "--user", "verify", str(unit)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home whose ~/.local/bin/presence is this venv's, as after `pip install --user`."""
    assert PRESENCE.exists(), "install presence into the venv (make test does)"
    (tmp_path / ".local" / "bin").mkdir(parents=True)
    (tmp_path / ".local" / "bin" / "presence").symlink_to(PRESENCE)
    return tmp_path


def test_the_source_tree_unit_verifies_without_a_word(home: Path) -> None:
    done = verify(REPO / "systemd" / UNIT_NAME, home)
    assert (done.returncode, done.stderr) == (0, "")


def test_an_installed_unit_verifies_without_a_word(home: Path, tmp_path: Path) -> None:
    unit = tmp_path / "units" / UNIT_NAME
    unit.parent.mkdir()
    unit.write_text(unit_text(systemd_exec([str(PRESENCE), "run"], Path.home())))
    done = verify(unit, home)
    assert (done.returncode, done.stderr) == (0, "")


def test_verify_does_catch_mistakes(home: Path, tmp_path: Path) -> None:
    # The check above means something only if systemd-analyze complains about a bad unit.
    unit = tmp_path / UNIT_NAME
    unit.write_text((REPO / "systemd" / UNIT_NAME).read_text().replace("Watchdog", "Watchdgo"))
    done = verify(unit, home)
    assert "Unknown key" in done.stderr and "WatchdgoSec" in done.stderr


def desktop_validate(path: Path) -> subprocess.CompletedProcess[str]:
    require("desktop-file-validate")
    return subprocess.run(
        ["desktop-file-validate", str(path)], capture_output=True, text=True, timeout=60
    )


def test_the_autostart_entries_are_valid_desktop_files(tmp_path: Path) -> None:
    done = desktop_validate(REPO / "systemd" / DESKTOP_NAME)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    odd = tmp_path / DESKTOP_NAME
    odd.write_text(desktop_text(["/opt/my apps/pre$ence%1", "run"]))
    done = desktop_validate(odd)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
