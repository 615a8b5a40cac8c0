"""`presence setup gnome`: install and enable presence's GNOME Shell extension for this user.

The extension is shipped in presence/install/gnome_extension/ as one shared part
(tracker.js) and one head per format: legacy.js for GNOME 43-44 (`imports.gi`, `init()`),
esm.js for GNOME 45 and later (ES modules, `export default class ... extends Extension`).
The installer writes extension.js (the format's head with the shared part in place of its
`@TRACKER@` line) and metadata.json into $XDG_DATA_HOME/gnome-shell/extensions/UUID/, then
adds the UUID to org.gnome.shell enabled-extensions, keeping the others. GNOME Shell reads
extensions only when it starts: the new copy runs from the next login (on X11 also after
Alt+F2 r).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from presence.core.errors import ExitCode, PresenceError
from presence.platform.gnome_shell import (
    EXTENSION_UUID,
    EXTENSION_VERSION,
    SHELL_SCHEMA,
    ShellVersion,
    extension_dir,
    format_strv,
    gsettings,
    gsettings_get,
    installed_shell_version,
    parse_strv,
)

OLDEST_SHELL = 43  # the legacy format is written and tested against GNOME Shell 43
FIRST_ESM_SHELL = 45  # GNOME 45 loads extensions as ES modules only
LEGACY_SHELLS = ("43", "44")
ESM_SHELLS = ("45", "46", "47", "48", "49")
FILE_MODE = 0o644


class GnomeSetupError(PresenceError):
    """The GNOME extension could not be installed or enabled."""

    exit_code = ExitCode.BACKEND


def extension_format(shell: ShellVersion) -> str:
    """ "legacy" (GNOME 43-44) or "esm" (45 and later). Raises GnomeSetupError before 43."""
    if shell.major < OLDEST_SHELL:
        raise GnomeSetupError(
            f"GNOME Shell {shell} is older than {OLDEST_SHELL}, which presence's extension needs",
            hint="upgrade GNOME, or use presence in an X11 session (its x11 backends)",
        )
    return "esm" if shell.major >= FIRST_ESM_SHELL else "legacy"


def shell_versions(shell: ShellVersion) -> list[str]:
    """metadata.json's shell-version for `shell`'s format. A newer shell than presence knows
    is listed too: the extension uses nothing that GNOME changed after 45 (shell, display and
    window signals, D-Bus), and GNOME refuses an extension whose list lacks its version."""
    known = LEGACY_SHELLS if extension_format(shell) == "legacy" else ESM_SHELLS
    versions = list(known)
    if str(shell.major) not in versions:
        versions.append(str(shell.major))
    return versions


def render(shell: ShellVersion) -> dict[str, str]:
    """The files of the extension for `shell`: name -> text. Pure (reads package data)."""
    fmt = extension_format(shell)
    package = resources.files("presence.install").joinpath("gnome_extension")
    tracker = package.joinpath("tracker.js").read_text(encoding="utf-8")
    head = package.joinpath(f"{fmt}.js").read_text(encoding="utf-8")
    tracker = tracker.replace("@VERSION@", str(EXTENSION_VERSION))
    script = head.replace("// @TRACKER@\n", tracker)
    metadata = {
        "uuid": EXTENSION_UUID,
        "name": "presence",
        "description": "Tells presence (a screen-time monitor running as you) which window has "
        "focus, and closes windows for its close-apps rules. Exports a D-Bus interface on "
        "your session bus only.",
        "shell-version": shell_versions(shell),
        "session-modes": ["user", "unlock-dialog"],  # keep reporting while the screen is locked
        "version": EXTENSION_VERSION,
    }
    return {"extension.js": script, "metadata.json": json.dumps(metadata, indent=2) + "\n"}


def write_files(target: Path, files: Mapping[str, str]) -> bool:
    """Write `files` into `target` atomically, each file replaced only when it differs.
    Returns whether anything changed. Raises GnomeSetupError when `target` is not writable."""
    changed = False
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            path = target / name
            if path.is_file() and path.read_text(encoding="utf-8") == text:
                continue
            fd, tmp = tempfile.mkstemp(dir=target, prefix=f".{name}.")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, path)
            changed = True
    except OSError as exc:
        raise GnomeSetupError(
            f"cannot write the GNOME extension into {target}: {exc.strerror or exc}",
            hint=f"make {target.parent} writable by you (it is in your home directory)",
        ) from exc
    return changed


def merged(listed: list[str], uuid: str = EXTENSION_UUID) -> list[str]:
    """`listed` with `uuid` added at the end, once; the others kept in their order."""
    return listed if uuid in listed else [*listed, uuid]


def without(listed: list[str], uuid: str = EXTENSION_UUID) -> list[str]:
    return [item for item in listed if item != uuid]


def _gsettings_set(key: str, value: str, env: Mapping[str, str] | None) -> None:
    try:
        done = gsettings("set", key, value, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GnomeSetupError(f"gsettings set {SHELL_SCHEMA} {key} failed: {exc}") from exc
    if done.returncode != 0:
        raise GnomeSetupError(
            f"gsettings set {SHELL_SCHEMA} {key} failed: {done.stderr.strip()}",
            hint="check that your settings (dconf) are writable",
        )


@dataclass(frozen=True, slots=True)
class EnableResult:
    newly_enabled: bool
    user_extensions_disabled: bool


def enable(env: Mapping[str, str] | None = None) -> EnableResult:
    """Add the extension to org.gnome.shell enabled-extensions (the others kept) and take it
    out of disabled-extensions. Raises GnomeSetupError without gsettings or the schema."""
    if shutil.which("gsettings") is None:
        raise GnomeSetupError(
            "gsettings is not installed, so the extension cannot be enabled",
            hint="install gsettings (Debian/Ubuntu: libglib2.0-bin), or enable the extension "
            f"in GNOME's Extensions app: {EXTENSION_UUID}",
        )
    enabled_text = gsettings_get("enabled-extensions", env)
    if enabled_text is None:
        raise GnomeSetupError(
            f"cannot read {SHELL_SCHEMA} enabled-extensions (is GNOME Shell installed?)",
            hint="install GNOME Shell, or run this inside your GNOME session",
        )
    enabled = parse_strv(enabled_text)
    if merged(enabled) != enabled:
        _gsettings_set("enabled-extensions", format_strv(merged(enabled)), env)
    disabled_text = gsettings_get("disabled-extensions", env)
    if disabled_text is not None:
        disabled = parse_strv(disabled_text)
        if without(disabled) != disabled:
            _gsettings_set("disabled-extensions", format_strv(without(disabled)), env)
    return EnableResult(
        newly_enabled=EXTENSION_UUID not in enabled,
        user_extensions_disabled=gsettings_get("disable-user-extensions", env) == "true",
    )


@dataclass(frozen=True, slots=True)
class SetupReport:
    shell: ShellVersion
    format: str
    path: Path
    files_changed: bool
    enabled: EnableResult


def setup(env: Mapping[str, str] | None = None, shell: ShellVersion | None = None) -> SetupReport:
    """Install the right format for the installed GNOME Shell and enable it. Idempotent.

    `shell` overrides `gnome-shell --version` (tests). Raises GnomeSetupError when GNOME Shell
    is missing or too old, the directory is not writable, or the settings cannot be changed.
    """
    shell = shell or installed_shell_version()
    if shell is None:
        raise GnomeSetupError(
            "GNOME Shell is not installed here (`gnome-shell --version` gave no version)",
            hint="`presence setup gnome` is for GNOME desktops; other desktops need no setup",
        )
    files = render(shell)
    target = extension_dir(env)
    changed = write_files(target, files)
    return SetupReport(shell, extension_format(shell), target, changed, enable(env))
