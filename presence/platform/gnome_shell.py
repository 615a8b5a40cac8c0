"""presence's GNOME Shell extension as seen from outside: its names, whether it is installed,
enabled and running, at which version, for which shell.

GNOME offers nothing public for the focused window: `org.gnome.Shell.Eval` is refused since
GNOME 41 and `org.gnome.Shell.Introspect.GetWindows` answers AccessDenied to ordinary
clients. presence therefore ships a small shell extension (presence/install/gnome_extension/,
installed by `presence setup gnome`) that owns EXTENSION_BUS_NAME on the session bus and
exports EXTENSION_INTERFACE at EXTENSION_PATH:

- `GetVersion() -> u`: EXTENSION_VERSION of the running copy;
- `GetFocus() -> (s wm_class, s title, u pid, s app_id)`: empty strings and 0 when nothing
  has focus;
- `ListWindows() -> a(tsssu)`: (id, wm_class, title, app_id, pid) of application windows;
- `CloseWindow(t id) -> b`, `Activate(t id) -> b`: whether the window was found;
- `GetIndicatorText() -> s`: for tests, the text of its top bar indicator (the daemon's
  bar text, docs/status-bars.md), "" while hidden;
- signal `FocusChanged(s, s, u, s)`: on every focus change and title change of the focused
  window, emitted by the shell as it happens.

GNOME reads extensions only when the shell starts (at login; on X11 also Alt+F2 r), so an
extension can be installed and enabled yet not running: `doctor` tells these apart.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from presence.core.errors import BackendError
from presence.platform.base import Probe, Session
from presence.platform.dbus import (
    CONNECT_TIMEOUT,
    NOT_IMPLEMENTED,
    BusConnection,
    DBusCallError,
    RemoteObject,
    connect,
    probe_bus,
)

log = logging.getLogger(__name__)

# Under the project's prefix io.github.presence_desktop.Presence (docs/architecture.md); the
# interface name carries its version.
EXTENSION_UUID = "presence@presence-desktop.github.io"
EXTENSION_BUS_NAME = "io.github.presence_desktop.Presence.GnomeShell"
EXTENSION_PATH = "/io/github/presence_desktop/Presence/GnomeShell"
EXTENSION_INTERFACE = "io.github.presence_desktop.Presence.GnomeShell1"
EXTENSION_VERSION = 2  # bump with any change to the extension; setup and doctor compare it
EXTENSION = RemoteObject(EXTENSION_BUS_NAME, EXTENSION_PATH, EXTENSION_INTERFACE)
GNOME_SHELL_BUS_NAME = "org.gnome.Shell"
SHELL_SCHEMA = "org.gnome.shell"
COMMAND_TIMEOUT = 10.0

SETUP_HINT = "run `presence setup gnome`, then log out and in (GNOME finds extensions at login)"
NO_SESSION_BUS_HINT = "run inside the GNOME session, whose session D-Bus must be reachable"


@dataclass(frozen=True, slots=True)
class ExtensionState:
    """What the session bus says: whether the extension runs, its version, whether the shell
    runs at all."""

    running: bool
    version: int | None = None
    shell_running: bool = False


def extension_state(bus: BusConnection) -> ExtensionState:
    """Ask the bus whether the extension runs and which version it is. Raises BackendError
    when the bus itself fails; an absent or older extension is a state, not an error."""
    shell = bus.name_has_owner(GNOME_SHELL_BUS_NAME, timeout=CONNECT_TIMEOUT)
    if not bus.name_has_owner(EXTENSION_BUS_NAME, timeout=CONNECT_TIMEOUT):
        return ExtensionState(False, shell_running=shell)
    try:
        (version,) = bus.call(EXTENSION, "GetVersion", timeout=CONNECT_TIMEOUT)
    except DBusCallError as exc:
        if exc.error_name in NOT_IMPLEMENTED:
            return ExtensionState(True, version=0, shell_running=shell)
        raise
    return ExtensionState(True, version=int(version), shell_running=shell)


def read_state(session: Session) -> ExtensionState | None:
    """`extension_state` on a short-lived connection; None when the session bus cannot be
    reached. Any thread; blocks up to a few seconds."""
    if not session.session_bus or not probe_bus(session.session_bus, bus="-", hint="").ok:
        return None
    try:
        with connect(session.session_bus, bus="session D-Bus") as bus:
            return extension_state(bus)
    except BackendError as exc:
        log.debug("cannot ask the session bus about the GNOME extension: %s", exc.message)
        return None


def probe_extension(session: Session, what: str) -> Probe:
    """Whether presence's GNOME extension answers, at the version this presence speaks.

    `what` names what the extension gives, for the reason. Asks the bus (NameHasOwner) and
    the extension (GetVersion): side-effect free. Any thread.
    """
    bus_probe = probe_bus(session.session_bus, bus="session D-Bus", hint=NO_SESSION_BUS_HINT)
    if not bus_probe.ok:
        return bus_probe
    state = read_state(session)
    if state is None:
        return Probe.no("cannot reach the session D-Bus", hint=NO_SESSION_BUS_HINT)
    if not state.shell_running:
        return Probe.no(
            "GNOME Shell is not running (not a GNOME session)",
            hint="this backend works in GNOME sessions",
        )
    if not state.running:
        return Probe.no(
            "presence's GNOME extension is not installed/enabled/running; "
            f"it gives {what} on GNOME",
            hint=SETUP_HINT,
        )
    if state.version != EXTENSION_VERSION:
        return Probe.no(
            f"presence's GNOME extension runs at version {state.version}, "
            f"this presence needs version {EXTENSION_VERSION}",
            hint=SETUP_HINT,
        )
    return Probe.yes()


# -- the installed copy and the settings --------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShellVersion:
    major: int
    minor: int | None = None

    def __str__(self) -> str:
        return f"{self.major}" if self.minor is None else f"{self.major}.{self.minor}"


def parse_shell_version(text: str) -> ShellVersion | None:
    """`gnome-shell --version`'s "GNOME Shell 43.9" (or "45.beta", "46.rc"); None otherwise."""
    found = re.search(r"GNOME Shell\s+(\d+)(?:\.(\d+))?", text)
    if found is None:
        return None
    minor = found.group(2)
    return ShellVersion(int(found.group(1)), int(minor) if minor is not None else None)


def installed_shell_version() -> ShellVersion | None:
    """The installed GNOME Shell's version, from `gnome-shell --version`; None when there is
    no gnome-shell or it does not say. Blocks up to COMMAND_TIMEOUT s."""
    if shutil.which("gnome-shell") is None:
        return None
    try:
        done = subprocess.run(
            ["gnome-shell", "--version"],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("gnome-shell --version: %s", exc)
        return None
    return parse_shell_version(done.stdout)


def extension_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where GNOME Shell looks for this user's copy: $XDG_DATA_HOME (default ~/.local/share)
    /gnome-shell/extensions/UUID."""
    env = os.environ if env is None else env
    data = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home(), ".local/share"))
    return Path(data, "gnome-shell", "extensions", EXTENSION_UUID)


@dataclass(frozen=True, slots=True)
class InstalledCopy:
    path: Path
    version: int | None
    shell_versions: tuple[str, ...]

    def supports(self, shell: ShellVersion) -> bool:
        return str(shell.major) in self.shell_versions


def installed_copy(env: Mapping[str, str] | None = None) -> InstalledCopy | None:
    """The user's installed copy as its metadata.json describes it; None when absent or
    unreadable."""
    path = extension_dir(env)
    try:
        meta = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict):
        return None
    version = meta.get("version")
    shells = meta.get("shell-version")
    return InstalledCopy(
        path,
        version if isinstance(version, int) else None,
        tuple(str(s) for s in shells) if isinstance(shells, list) else (),
    )


def parse_strv(text: str) -> list[str]:
    """A GVariant string array as `gsettings get` prints it (`['a', 'b']`, `@as []`)."""
    text = text.strip()
    if text.startswith("@as"):
        text = text[3:].strip()
    try:
        value = ast.literal_eval(text) if text else []
    except (ValueError, SyntaxError) as exc:
        raise BackendError(f"cannot read the string list {text!r}") from exc
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BackendError(f"{text!r} is not a string list")
    return value


def format_strv(values: list[str]) -> str:
    """A GVariant string array `gsettings set` accepts."""
    quoted = ("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)
    return "[" + ", ".join(quoted) + "]"


def gsettings(
    verb: str, key: str, *values: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`gsettings VERB org.gnome.shell KEY VALUES...`, its output captured, no stdin. Blocks up
    to COMMAND_TIMEOUT s. Raises OSError or subprocess.TimeoutExpired."""
    return subprocess.run(
        ["gsettings", verb, SHELL_SCHEMA, key, *values],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
        env=None if env is None else dict(env),
        stdin=subprocess.DEVNULL,
    )


def gsettings_get(key: str, env: Mapping[str, str] | None = None) -> str | None:
    """`gsettings get org.gnome.shell KEY`'s output, or None when gsettings or the schema is
    missing. Blocks up to COMMAND_TIMEOUT s."""
    if shutil.which("gsettings") is None:
        return None
    try:
        done = gsettings("get", key, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("gsettings get %s: %s", key, exc)
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def enabled_in_settings(env: Mapping[str, str] | None = None) -> bool | None:
    """Whether the extension is in org.gnome.shell enabled-extensions (and user extensions
    are not switched off as a whole); None when the settings cannot be read."""
    enabled = gsettings_get("enabled-extensions", env)
    if enabled is None:
        return None
    try:
        listed = EXTENSION_UUID in parse_strv(enabled)
    except BackendError:
        return None
    return listed and gsettings_get("disable-user-extensions", env) != "true"


def gnome_note(session: Session, env: Mapping[str, str] | None = None) -> str | None:
    """For `presence doctor` in a GNOME session: whether presence's extension is installed,
    enabled, running and of the right version, with the fix. None outside GNOME."""
    state = read_state(session)
    if session.compositor != "gnome" and not (state and state.shell_running):
        return None
    copy = installed_copy(env)
    shell = installed_shell_version()
    enabled = enabled_in_settings(env)
    facts = [
        f"installed at {copy.path} (version {copy.version})" if copy else "not installed",
        {True: "enabled", False: "not enabled", None: "enabled: unknown (no gsettings)"}[enabled],
        (
            "running"
            if state and state.running and state.version == EXTENSION_VERSION
            else f"running at version {state.version}, this presence needs {EXTENSION_VERSION}"
            if state and state.running
            else "not running"
        ),
    ]
    problems = []
    if copy is None or enabled is False:
        problems.append("run `presence setup gnome`")
    elif copy.version != EXTENSION_VERSION:
        problems.append(
            f"the installed copy is version {copy.version}, this presence ships "
            f"{EXTENSION_VERSION}: run `presence setup gnome`"
        )
    elif shell is not None and not copy.supports(shell):
        problems.append(
            f"the installed copy is not for GNOME Shell {shell} "
            f"(it lists {', '.join(copy.shell_versions)}): run `presence setup gnome`"
        )
    if not (state and state.running and state.version == EXTENSION_VERSION):
        problems.append("then log out and in: GNOME finds new extensions only at login")
    text = "GNOME: presence's extension is " + ", ".join(facts)
    if shell is not None:
        text += f" (GNOME Shell {shell})"
    return text + ("; fix: " + "; ".join(problems) if problems else "")
