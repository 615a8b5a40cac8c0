"""`presence setup gnome` without GNOME: the format per shell version, the files written,
the settings lists merged, the probe's and doctor's messages, and both extension formats
checked as JavaScript by node (GNOME 45+ cannot run on these machines, which ship GNOME 43)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from presence.core.errors import BackendError
from presence.install import gnome
from presence.platform import gnome_shell
from presence.platform.base import Session
from presence.platform.gnome_shell import (
    EXTENSION_BUS_NAME,
    EXTENSION_INTERFACE,
    EXTENSION_PATH,
    EXTENSION_UUID,
    EXTENSION_VERSION,
    ExtensionState,
    ShellVersion,
    format_strv,
    parse_shell_version,
    parse_strv,
)
from presence.platform.gnome_window import window_info
from tests.integration.components import missing_component


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GNOME Shell 43.9\n", ShellVersion(43, 9)),
        ("GNOME Shell 45.beta", ShellVersion(45, None)),
        ("GNOME Shell 48.2", ShellVersion(48, 2)),
        ("bash: gnome-shell: not found", None),
    ],
)
def test_shell_version_parsing(text: str, expected: ShellVersion | None) -> None:
    assert parse_shell_version(text) == expected


@pytest.mark.parametrize(
    ("major", "fmt", "listed"),
    [
        (43, "legacy", ["43", "44"]),
        (44, "legacy", ["43", "44"]),
        (45, "esm", ["45", "46", "47", "48", "49"]),
        (48, "esm", ["45", "46", "47", "48", "49"]),
        (51, "esm", ["45", "46", "47", "48", "49", "51"]),  # a newer shell lists itself
    ],
)
def test_format_and_shell_versions_follow_the_shell(
    major: int, fmt: str, listed: list[str]
) -> None:
    shell = ShellVersion(major, 0)
    assert gnome.extension_format(shell) == fmt
    meta = json.loads(gnome.render(shell)["metadata.json"])
    assert meta["shell-version"] == listed
    assert meta["uuid"] == EXTENSION_UUID
    assert meta["version"] == EXTENSION_VERSION
    assert meta["session-modes"] == ["user", "unlock-dialog"]  # keeps working while locked


def test_a_shell_older_than_43_is_refused_with_a_hint() -> None:
    with pytest.raises(gnome.GnomeSetupError) as raised:
        gnome.extension_format(ShellVersion(42, 5))
    assert "older than 43" in raised.value.message and raised.value.hint


@pytest.mark.parametrize("major", [43, 46])
def test_the_script_carries_the_names_and_version_python_expects(major: int) -> None:
    script = gnome.render(ShellVersion(major, 0))["extension.js"]
    for name in (EXTENSION_BUS_NAME, EXTENSION_PATH, EXTENSION_INTERFACE):
        assert f"'{name}'" in script or f'"{name}"' in script
    assert f"const PRESENCE_VERSION = {EXTENSION_VERSION};" in script
    assert "@TRACKER@" not in script and "@VERSION@" not in script
    assert ("export default class" in script) == (major >= 45)
    assert ("function init()" in script) == (major < 45)


@pytest.mark.parametrize(("major", "suffix"), [(43, ".js"), (47, ".mjs")])
def test_both_formats_are_valid_javascript(major: int, suffix: str, tmp_path: Path) -> None:
    if shutil.which("node") is None:
        missing_component("node", "install the Debian package nodejs")
    path = tmp_path / f"extension{suffix}"  # .mjs: node checks it as an ES module
    path.write_text(gnome.render(ShellVersion(major, 0))["extension.js"])
    done = subprocess.run(
        ["node", "--check", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def test_files_are_written_once_and_left_alone_when_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "ext"
    files = gnome.render(ShellVersion(43, 9))
    assert gnome.write_files(target, files) is True
    assert (target / "metadata.json").stat().st_mode & 0o777 == 0o644
    assert gnome.write_files(target, files) is False
    (target / "extension.js").write_text("stale")
    assert gnome.write_files(target, files) is True
    assert (target / "extension.js").read_text() == files["extension.js"]


def test_an_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(gnome.GnomeSetupError) as raised:
        gnome.write_files(blocker / "ext", {"a": "b"})
    assert "cannot write the GNOME extension" in raised.value.message
    assert raised.value.hint


def test_the_extension_dir_follows_xdg_data_home() -> None:
    assert gnome_shell.extension_dir({"XDG_DATA_HOME": "/d", "HOME": "/h"}) == Path(
        "/d/gnome-shell/extensions", EXTENSION_UUID
    )
    assert gnome_shell.extension_dir({"HOME": "/h"}) == Path(
        "/h/.local/share/gnome-shell/extensions", EXTENSION_UUID
    )


@pytest.mark.parametrize(
    ("printed", "listed"),
    [
        ("@as []", []),
        ("['a@b.org']", ["a@b.org"]),
        ("['a@b.org', \"it's@x.org\"]", ["a@b.org", "it's@x.org"]),
    ],
)
def test_string_lists_round_trip(printed: str, listed: list[str]) -> None:
    assert parse_strv(printed) == listed
    assert parse_strv(format_strv(listed)) == listed


def test_a_malformed_list_is_an_error() -> None:
    with pytest.raises(BackendError):
        parse_strv("['unterminated")
    with pytest.raises(BackendError):
        parse_strv("[1, 2]")


def test_merging_keeps_the_others_in_order_and_adds_once() -> None:
    assert gnome.merged(["x@y", "z@w"]) == ["x@y", "z@w", EXTENSION_UUID]
    assert gnome.merged(["x@y", EXTENSION_UUID, "z@w"]) == ["x@y", EXTENSION_UUID, "z@w"]
    assert gnome.without([EXTENSION_UUID, "x@y"]) == ["x@y"]


def test_setup_without_gnome_shell_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gnome, "installed_shell_version", lambda: None)
    with pytest.raises(gnome.GnomeSetupError) as raised:
        gnome.setup({"HOME": "/nonexistent"})
    assert "GNOME Shell is not installed" in raised.value.message


# -- what the probe says ------------------------------------------------------------------

BUS = {"DBUS_SESSION_BUS_ADDRESS": "unix:abstract=presence-unit-test"}


@pytest.mark.parametrize(
    ("state", "reason", "hint"),
    [
        (None, "cannot reach the session D-Bus", "session D-Bus"),
        (ExtensionState(False, shell_running=False), "GNOME Shell is not running", "GNOME"),
        (
            ExtensionState(False, shell_running=True),
            "presence's GNOME extension is not installed/enabled/running",
            "presence setup gnome",
        ),
        (
            ExtensionState(True, version=EXTENSION_VERSION + 7, shell_running=True),
            f"runs at version {EXTENSION_VERSION + 7}, this presence needs version "
            f"{EXTENSION_VERSION}",
            "presence setup gnome",
        ),
    ],
)
def test_probe_reasons_and_fixes(
    monkeypatch: pytest.MonkeyPatch, state: ExtensionState | None, reason: str, hint: str
) -> None:
    monkeypatch.setattr(gnome_shell, "read_state", lambda session: state)
    probe = gnome_shell.probe_extension(Session.from_env(BUS), "the focused window")
    assert not probe.ok
    assert reason in probe.reason
    assert hint in probe.hint


def test_probe_passes_for_the_running_extension(monkeypatch: pytest.MonkeyPatch) -> None:
    state = ExtensionState(True, version=EXTENSION_VERSION, shell_running=True)
    monkeypatch.setattr(gnome_shell, "read_state", lambda session: state)
    assert gnome_shell.probe_extension(Session.from_env(BUS), "x").ok


def test_no_session_bus_is_rejected_without_connecting() -> None:
    probe = gnome_shell.probe_extension(Session.from_env({}), "x")
    assert not probe.ok and "session D-Bus" in probe.reason


def test_doctor_names_each_missing_step(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(gnome_shell, "read_state", lambda session: None)
    monkeypatch.setattr(gnome_shell, "installed_shell_version", lambda: ShellVersion(43, 9))
    monkeypatch.setattr(gnome_shell, "enabled_in_settings", lambda env: False)
    env = {"XDG_DATA_HOME": str(tmp_path), "XDG_CURRENT_DESKTOP": "GNOME"}
    note = gnome_shell.gnome_note(Session.from_env(env), env)
    assert note is not None
    assert "not installed, not enabled, not running" in note
    assert "presence setup gnome" in note and "log out and in" in note
    # an old copy, for another shell
    target = gnome_shell.extension_dir(env)
    target.mkdir(parents=True)
    (target / "metadata.json").write_text(json.dumps({"version": 0, "shell-version": ["42"]}))
    monkeypatch.setattr(gnome_shell, "enabled_in_settings", lambda env: True)
    note = gnome_shell.gnome_note(Session.from_env(env), env)
    assert note is not None and "version 0, this presence ships" in note


def test_doctor_is_silent_outside_gnome(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gnome_shell, "read_state", lambda session: None)
    assert gnome_shell.gnome_note(Session.from_env({"XDG_CURRENT_DESKTOP": "KDE"}), {}) is None


@pytest.mark.parametrize(
    ("reply", "app"),
    [
        (("gtk3-demo", "Demo", 42, "gtk3-demo.desktop"), "gtk3-demo"),
        (("", "Title", 7, "org.gnome.Terminal.desktop"), "org.gnome.Terminal"),
        (("", "", 0, ""), None),
    ],
)
def test_focus_replies_become_window_info(
    reply: tuple[str, str, int, str], app: str | None
) -> None:
    info = window_info(reply)
    assert (info.app if info else None) == app
    if info is not None:
        assert info.pid == reply[2] and info.title == reply[1]
