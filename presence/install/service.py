"""Running presence with the user's session: a systemd user service, or an XDG autostart entry.

`presence service install|uninstall|status|logs` call these. Every call to `systemctl` or
`journalctl` goes through a `Runner`, so tests can check the calls without a user manager.
Failures become ServiceError with a hint; a missing user manager is not a failure: install
falls back to the autostart entry and says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from presence.core.errors import ServiceError
from presence.install.service_files import (
    DESKTOP_NAME,
    UNIT_NAME,
    desktop_text,
    systemd_exec,
    unit_text,
)

SYSTEMCTL_TIMEOUT_S = 120  # `enable --now` waits for READY; systemd's own start timeout is 90 s
FILE_MODE = 0o644  # what systemd and desktops expect of unit and autostart files
# What the daemon needs from the session, imported when the session sets them: the X11
# display, the Wayland display and what tells the session type and compositor apart (issue 9:
# without them a user service would probe X11 under Wayland, or miss the sway/Hyprland IPC).
SESSION_VARIABLES = (
    "DISPLAY",
    "XAUTHORITY",
    "WAYLAND_DISPLAY",
    "XDG_SESSION_TYPE",
    "XDG_CURRENT_DESKTOP",
    "SWAYSOCK",
    "I3SOCK",
    "HYPRLAND_INSTANCE_SIGNATURE",
)
DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY")
"""At least one of these must reach the service; DISPLAY is named when neither does."""


@dataclass(frozen=True, slots=True)
class Completed:
    """A finished command: exit status and (when captured) its output."""

    returncode: int
    stdout: str = ""
    stderr: str = ""


class Runner(Protocol):
    """Runs a command. capture=False passes the terminal through (for `journalctl -f`)."""

    def __call__(self, argv: Sequence[str], *, capture: bool = True) -> Completed: ...


def run_command(argv: Sequence[str], *, capture: bool = True) -> Completed:
    """The real Runner. A missing program is exit status 127, as in a shell; Ctrl-C while
    passing the terminal through ends the command and is exit status 130.

    Raises ServiceError when a captured command does not finish in SYSTEMCTL_TIMEOUT_S.
    """
    try:
        if not capture:
            return Completed(subprocess.run(argv, check=False).returncode)
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=SYSTEMCTL_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return Completed(127, stderr=f"{argv[0]}: command not found")
    except KeyboardInterrupt:
        return Completed(130)
    except subprocess.TimeoutExpired:
        raise ServiceError(
            f"`{' '.join(argv)}` did not finish within {SYSTEMCTL_TIMEOUT_S} s",
            hint="see `presence service logs` for what the daemon is doing",
        ) from None
    return Completed(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True, slots=True)
class ServiceFiles:
    """Where the unit and the autostart entry go."""

    unit: Path
    autostart: Path

    @classmethod
    def resolve(cls, env: Mapping[str, str] | None = None) -> ServiceFiles:
        """Under $XDG_CONFIG_HOME (ignored when relative, as the XDG spec says), else ~/.config."""
        env = os.environ if env is None else env
        configured = env.get("XDG_CONFIG_HOME", "")
        base = Path(configured) if os.path.isabs(configured) else Path.home() / ".config"
        return cls(base / "systemd" / "user" / UNIT_NAME, base / "autostart" / DESKTOP_NAME)


def presence_command(
    which: Callable[[str], str | None] = shutil.which, python: str = sys.executable
) -> list[str]:
    """The command line that runs this installation's daemon: the `presence` console script
    on PATH (not resolved: a pipx or ~/.local/bin link stays valid across upgrades), else
    this interpreter with `-m presence`."""
    found = which("presence")
    if found:
        return [os.path.abspath(found), "run"]
    return [python, "-m", "presence", "run"]


def _systemctl(runner: Runner, *args: str) -> Completed:
    return runner(["systemctl", "--user", *args])


def _first_line(done: Completed) -> str:
    text = (done.stderr or done.stdout).strip()
    return text.splitlines()[0] if text else f"exit status {done.returncode}"


def manager_environment(runner: Runner) -> tuple[dict[str, str] | None, str]:
    """The user manager's environment, or (None, why there is no user manager to use)."""
    done = _systemctl(runner, "show-environment")
    if done.returncode == 127:
        return None, "systemctl is not installed (this system does not use systemd)"
    if done.returncode != 0:
        return None, f"no systemd user manager answers: {_first_line(done)}"
    env = {}
    for line in done.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            env[key] = value
    return env, ""


def import_hint(variables: Sequence[str]) -> str:
    """What to add to the session's startup so the user manager gets `variables`."""
    names = " ".join(variables)
    return (
        f"add `systemctl --user import-environment {names}` (or `dbus-update-activation-"
        f"environment --systemd {names}`) to your session's startup, e.g. ~/.xprofile or your "
        "window manager's autostart, so the service sees your display at every login"
    )


@dataclass(slots=True)
class InstallReport:
    """What `install` did. `mechanism` is "systemd", or "autostart" for `fallback_reason`."""

    mechanism: str
    written: Path
    fallback_reason: str = ""
    removed: list[Path] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)  # copied into the manager just now
    missing: list[str] = field(default_factory=list)  # the manager lacked them (see the hint)


def _write(path: Path, text: str) -> None:
    """Write atomically (a temporary file renamed over the target), mode 0644."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text)
        partial.chmod(FILE_MODE)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ServiceError(
            f"cannot write {path}: {exc.strerror}", hint=f"check the permissions of {path.parent}"
        ) from None


def _remove(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ServiceError(f"cannot remove {path}: {exc.strerror}") from None
    return True


def install(
    files: ServiceFiles,
    command: Sequence[str],
    runner: Runner,
    session_env: Mapping[str, str],
    home: Path | None = None,
) -> InstallReport:
    """Install and start the service for `command`, or the autostart entry without systemd.

    With a user manager: makes sure it has the session's display (DISPLAY or WAYLAND_DISPLAY)
    and the variables naming the session type and compositor (importing them from
    `session_env` when that has them), writes the unit (paths under `home`, default the
    user's, relative to %h), removes our autostart entry (two
    starters would race for the session lock), then `daemon-reload` and `enable --now`.
    Raises ServiceError when systemctl fails; the unit file then stays for inspection.
    """
    manager, why_not = manager_environment(runner)
    if manager is None:
        _write(files.autostart, desktop_text(command))
        return InstallReport("autostart", files.autostart, fallback_reason=why_not)
    report = InstallReport("systemd", files.unit)
    wanted = [v for v in SESSION_VARIABLES if session_env.get(v)]
    if not any(session_env.get(v) or manager.get(v) for v in DISPLAY_VARIABLES):
        wanted.insert(0, "DISPLAY")
    missing = [v for v in wanted if not manager.get(v)]
    available = [v for v in missing if session_env.get(v)]
    if available and _systemctl(runner, "import-environment", *available).returncode == 0:
        report.imported = available
    report.missing = missing
    _write(files.unit, unit_text(systemd_exec(command, home or Path.home())))
    if _remove(files.autostart):
        report.removed.append(files.autostart)
    done = _systemctl(runner, "daemon-reload")
    if done.returncode != 0:
        raise ServiceError(
            f"systemctl --user daemon-reload failed: {_first_line(done)}",
            hint=f"the unit is at {files.unit}; check it with `systemd-analyze --user verify`",
        )
    done = _systemctl(runner, "enable", "--now", UNIT_NAME)
    if done.returncode != 0:
        raise ServiceError(
            f"{UNIT_NAME} did not start: {_first_line(done)}",
            hint="`presence service logs` shows why; fix it, then `presence service install`",
        )
    return report


@dataclass(slots=True)
class UninstallReport:
    removed: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def uninstall(files: ServiceFiles, runner: Runner, daemon_pid: int | None) -> UninstallReport:
    """Stop and disable the service, and remove the unit and the autostart entry.

    Raises ServiceError (removing nothing) when systemctl cannot disable an installed unit.
    `daemon_pid` is the session lock's holder, named when a daemon keeps running.
    """
    report = UninstallReport()
    manager, why_not = manager_environment(runner)
    if files.unit.exists():
        if manager is None:
            report.notes.append(f"could not stop the service: {why_not}")
        else:
            done = _systemctl(runner, "disable", "--now", UNIT_NAME)
            if done.returncode != 0:
                raise ServiceError(
                    f"systemctl --user disable --now {UNIT_NAME} failed: {_first_line(done)}",
                    hint="see `systemctl --user status presence`",
                )
            daemon_pid = None  # it was the service's daemon, now stopped
    for path in (files.unit, files.autostart):
        if _remove(path):
            report.removed.append(path)
    if files.unit in report.removed and manager is not None:
        _systemctl(runner, "daemon-reload")  # forget the unit; failing here changes nothing
    if daemon_pid is not None:
        report.notes.append(
            f"a presence daemon (pid {daemon_pid}) is still running: it stops when your "
            f"session ends, or now with `kill {daemon_pid}`"
        )
    return report


STATUS_PROPERTIES = (
    "LoadState",
    "UnitFileState",
    "ActiveState",
    "SubState",
    "MainPID",
    "NRestarts",
    "StatusText",
    "Result",
)


@dataclass(slots=True)
class ServiceStatus:
    """The installed files, the manager's view of the unit, and the session lock's holder.

    `unit` holds STATUS_PROPERTIES from `systemctl --user show` (empty without a manager,
    whose absence `manager` explains)."""

    unit_file: Path | None
    autostart_file: Path | None
    manager: str
    unit: dict[str, str]
    daemon_pid: int | None


def status(files: ServiceFiles, runner: Runner, daemon_pid: int | None) -> ServiceStatus:
    """How presence runs as a service now. Never raises for a missing user manager."""
    manager, why_not = manager_environment(runner)
    unit: dict[str, str] = {}
    if manager is not None:
        done = _systemctl(runner, "show", UNIT_NAME, "--property=" + ",".join(STATUS_PROPERTIES))
        if done.returncode == 0:
            for line in done.stdout.splitlines():
                key, _, value = line.partition("=")
                unit[key] = value
    return ServiceStatus(
        files.unit if files.unit.exists() else None,
        files.autostart if files.autostart.exists() else None,
        why_not,
        unit,
        daemon_pid,
    )


def logs(runner: Runner, lines: int, follow: bool) -> None:
    """Pass `journalctl --user -u presence.service` through to the terminal.

    Raises ServiceError when there is no journalctl or it fails (Ctrl-C on -f is no failure).
    """
    argv = ["journalctl", "--user", "-u", UNIT_NAME, "-n", str(lines)]
    done = runner([*argv, "-f"] if follow else argv, capture=False)
    if done.returncode == 127:
        raise ServiceError(
            "journalctl is not installed (this system does not use systemd)",
            hint="started from the autostart entry, presence logs to your session's log, "
            "often ~/.xsession-errors; or run `presence run` in a terminal",
        )
    if done.returncode not in (0, 130):
        raise ServiceError(
            f"journalctl exited with status {done.returncode}",
            hint="is the user journal available? try `journalctl --user -n 5`",
        )
