"""Device-local settings: a TOML file under the XDG config dir, validated on load.

Errors name the file, the key and what is allowed. With no file at all, every default applies.
Paths: `--config` / `PRESENCE_CONFIG` override the settings file; `PRESENCE_DATA_DIR` overrides
where the database and the key file live.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from dataclasses import dataclass
from datetime import tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import platformdirs
import tomli_w
import tzlocal
from msgspec import Meta, field

from presence.duration import parse_duration
from presence.errors import ConfigError

APP = "presence"

DURATION = {"duration": True}
"""Meta(extra=DURATION) marks a duration: `90`, `90s`, `5m` or `1h30m` in the file."""


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One table of config.toml. Validation errors in `__post_init__` start with the key."""


class TitlePrivacy(StrEnum):
    FULL = "full"  # titles kept, but private-browsing and password-manager windows redacted
    REDACTED = "redacted"  # titles replaced by a keyed hash: distinct, never readable
    OFF = "off"  # no titles at all; spans split by application only


class SamplingSettings(_Section, frozen=True):
    """How often and how the desktop is read."""

    interval: Annotated[
        float, Meta(ge=0.2, le=60, description="seconds between two ticks", extra=DURATION)
    ] = 1.0
    idle_after: Annotated[
        float,
        Meta(
            ge=5,
            le=3600,
            description="no input for this long makes the time idle",
            extra=DURATION,
        ),
    ] = 120.0
    flush_every: Annotated[
        float,
        Meta(
            ge=1,
            le=10,
            description="the open span is written at least this often",
            extra=DURATION,
        ),
    ] = 10.0
    gap_after: Annotated[
        float,
        Meta(
            ge=2,
            le=600,
            description="a tick later than this (suspend, stopped process) ends the span",
            extra=DURATION,
        ),
    ] = 6.0

    def __post_init__(self) -> None:
        if self.gap_after < 2 * self.interval:
            raise ValueError(
                f"gap_after: {self.gap_after:g} s must be at least twice interval "
                f"({self.interval:g} s), or every tick would look like a suspend"
            )


class DatabaseSettings(_Section, frozen=True):
    """Where spans, rules and logs are stored."""

    url: Annotated[
        str,
        Meta(
            description="SQLAlchemy URL; empty means SQLite at $XDG_DATA_HOME/presence/presence.db"
        ),
    ] = ""

    def __post_init__(self) -> None:
        if self.url and not re.match(r"^(sqlite|postgresql)(\+\w+)?://", self.url):
            raise ValueError("url: use a sqlite:/// or postgresql:// URL, or leave it empty")


class PrivacySettings(_Section, frozen=True):
    """What is kept of window titles and which apps are not recorded by name."""

    titles: Annotated[TitlePrivacy, Meta(description="full, redacted or off")] = TitlePrivacy.FULL
    exclude_apps: Annotated[
        list[str],
        Meta(description="apps recorded as [excluded] with no title (matched case-insensitively)"),
    ] = field(default_factory=list)
    redact_titles: Annotated[
        list[str],
        Meta(description="extra regular expressions; a matching title is recorded as [redacted]"),
    ] = field(default_factory=list)

    def __post_init__(self) -> None:
        for pattern in self.redact_titles:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"redact_titles: {pattern!r} is not a regular expression: {exc}"
                ) from None


def _backend(description: str) -> Any:
    return Meta(pattern=r"^[a-z0-9_-]+$", description=description)


class BackendSettings(_Section, frozen=True):
    """Force a backend per capability by name (`presence doctor` lists them), or `none`."""

    window: Annotated[str, _backend("focused window: auto, x11 or none")] = "auto"
    idle: Annotated[str, _backend("idle time: auto, xscreensaver or none")] = "auto"
    input: Annotated[str, _backend("input counts: auto, pynput or none")] = "auto"
    lock: Annotated[str, _backend("lock state: auto, logind, screensaver or none")] = "auto"
    notify: Annotated[str, _backend("notifications: auto, dbus, plyer, log or none")] = "auto"
    locker: Annotated[str, _backend("locking the screen: auto, session or none")] = "auto"
    apps: Annotated[str, _backend("closing and pausing apps: auto, x11 or none")] = "auto"


class DeviceSettings(_Section, frozen=True):
    """This device's identity in a shared database."""

    name: Annotated[
        str,
        Meta(
            min_length=1, max_length=64, description="this device's name (default: the host name)"
        ),
    ] = field(default_factory=socket.gethostname)


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ReportSettings(_Section, frozen=True):
    """How days and weeks are cut, and what reports show."""

    day_start: Annotated[str, Meta(description="local time a day starts (HH:MM)")] = "04:00"
    week_start: Annotated[Weekday, Meta(description="first day of a week")] = "monday"
    timezone: Annotated[str, Meta(description="an IANA zone such as Europe/Berlin, or local")] = (
        "local"
    )
    session_break: Annotated[
        float,
        Meta(
            ge=30,
            le=7200,
            description="away this long (idle, locked, off) ends a session",
            extra=DURATION,
        ),
    ] = 300.0
    top: Annotated[int, Meta(ge=1, le=1000, description="apps and categories listed in tables")] = (
        10
    )

    def __post_init__(self) -> None:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", self.day_start)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError(f"day_start: {self.day_start!r}: use HH:MM between 00:00 and 23:59")
        if self.timezone != "local":
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"timezone: {self.timezone!r} is not an IANA time zone (e.g. Europe/Berlin)"
                ) from None


class LoggingSettings(_Section, frozen=True):
    """What the daemon logs (to stderr, which systemd sends to the journal)."""

    level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"],
        Meta(description="DEBUG also logs window titles"),
    ] = "INFO"


class RuleSettings(_Section, frozen=True):
    """How rules are enforced (the rules themselves live in the database: `presence rules`)."""

    cooldown: Annotated[
        float,
        Meta(
            ge=0,
            le=30 * 86400,
            description="a change that loosens a rule waits this long; 0 turns the wait off",
            extra=DURATION,
        ),
    ] = 86400.0
    nudge_every: Annotated[
        float,
        Meta(
            ge=30,
            le=3600,
            description="a nudge repeats this often while the screen is used",
            extra=DURATION,
        ),
    ] = 300.0
    close_timeout: Annotated[
        float,
        Meta(
            ge=1,
            le=300,
            description="an app asked to close is terminated after this long",
            extra=DURATION,
        ),
    ] = 10.0
    lock_command: Annotated[
        str, Meta(description="a command that locks the screen, tried after the built-in ways")
    ] = ""
    snooze: Annotated[
        float, Meta(ge=60, le=3600, description="how long a snooze lasts", extra=DURATION)
    ] = 300.0
    focus_apps: Annotated[
        list[str], Meta(description="apps `presence focus` keeps away when none are named")
    ] = field(default_factory=list)


class Settings(_Section, frozen=True):
    """Everything in config.toml. Each section is optional."""

    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    backends: BackendSettings = field(default_factory=BackendSettings)
    device: DeviceSettings = field(default_factory=DeviceSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    rules: RuleSettings = field(default_factory=RuleSettings)


SECTIONS: dict[str, type[_Section]] = {f.name: f.type for f in msgspec.structs.fields(Settings)}


def field_meta(section: type[_Section]) -> dict[str, Meta]:
    """Each field's Meta (bounds, description, extra), read from its annotation."""
    hints = get_type_hints(section, include_extras=True)
    found = {}
    for name, hint in hints.items():
        metas = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Meta)]
        if metas:
            found[name] = metas[0]
    return found


@dataclass(frozen=True, slots=True)
class Paths:
    """Where presence keeps its files. Directories are created 0700 on first use."""

    config_file: Path
    data_dir: Path
    runtime_dir: Path

    @property
    def default_database(self) -> Path:
        return self.data_dir / "presence.db"

    @property
    def lock_file(self) -> Path:
        return self.runtime_dir / "daemon.lock"

    @classmethod
    def resolve(cls, config_file: Path | None = None) -> Paths:
        env = os.environ
        if config_file is None and env.get("PRESENCE_CONFIG"):
            config_file = Path(env["PRESENCE_CONFIG"])
        if config_file is None:
            config_file = Path(platformdirs.user_config_dir(APP)) / "config.toml"
        data_dir = Path(env.get("PRESENCE_DATA_DIR") or platformdirs.user_data_dir(APP))
        runtime = env.get("XDG_RUNTIME_DIR")
        runtime_dir = Path(runtime) / APP if runtime else data_dir / "run"
        return cls(config_file.expanduser(), data_dir.expanduser(), runtime_dir)


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it 0700: presence's files are private."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


_ERROR = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]*)`$")
_KEYED = re.compile(r"^(?P<key>[a-z_]+): (?P<message>.*)$", re.DOTALL)


def _lookup(data: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _describe(error: str, data: dict[str, Any]) -> tuple[str, bool]:
    """msgspec's message as `'section.key': what is wrong (got ...)`; True for unknown keys."""
    parsed = _ERROR.match(error)
    message = parsed["message"] if parsed else error
    path = (parsed["path"] or "").lstrip(".") if parsed else ""
    unknown = _UNKNOWN.match(message)
    if unknown:
        return f"unknown key {'.'.join(p for p in (path, unknown['key']) if p)!r}", True
    keyed = _KEYED.match(message)
    if keyed:  # a __post_init__ check names its key first
        path, message = f"{path}.{keyed['key']}", keyed["message"]
    got = _lookup(data, path)
    message = message.replace("`", "")
    if message.startswith("Invalid enum value"):
        message += f"; use one of: {', '.join(_allowed(path))}"
    elif got is not None and "got" not in message and repr(got) not in message:
        message += f" (got {got!r})"
    return f"{path!r}: {message}", False


def _allowed(path: str) -> list[str]:
    """The values an enum or Literal setting at `section.key` takes."""
    section, _, key = path.partition(".")
    if section not in SECTIONS:
        return []
    hint = get_type_hints(SECTIONS[section], include_extras=False).get(key)
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return [member.value for member in hint]
    return [str(value) for value in get_args(hint)]


def _known_keys() -> str:
    return "; ".join(
        f"[{name}] " + ", ".join(f.name for f in msgspec.structs.fields(section))
        for name, section in SECTIONS.items()
    )


def _parse_durations(data: dict[str, Any], source: str) -> dict[str, Any]:
    """A copy of `data` with duration strings (`5m`) turned into seconds."""
    fixed = dict(data)
    for name, section in SECTIONS.items():
        table = data.get(name)
        if not isinstance(table, dict):
            continue
        table = dict(table)
        for key, meta in field_meta(section).items():
            value = table.get(key)
            if meta.extra == DURATION and isinstance(value, str):
                try:
                    table[key] = parse_duration(value)
                except ValueError as exc:
                    raise ConfigError(
                        f"{source}: '{name}.{key}': {exc}", hint="see docs/configuration.md"
                    ) from None
        fixed[name] = table
    return fixed


def parse_settings(data: dict[str, Any], source: str) -> Settings:
    """Validate `data` (a parsed TOML document). Raises ConfigError naming `source` and keys."""
    try:
        return msgspec.convert(_parse_durations(data, source), Settings)
    except msgspec.ValidationError as exc:
        problem, unknown = _describe(str(exc), data)
        hint = f"known keys: {_known_keys()}" if unknown else "see docs/configuration.md"
        raise ConfigError(f"{source}: {problem}", hint=hint) from None


def load_settings(path: Path) -> Settings:
    """Read and validate the settings file; a missing file means all defaults.

    Raises ConfigError naming the file (and line, for TOML syntax errors) and the key.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text", hint="save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid TOML: {exc}", hint="see https://toml.io for the syntax"
        ) from None
    return parse_settings(data, str(path))


def database_url(settings: Settings, paths: Paths) -> str:
    """The configured URL, or the SQLite default under the data dir."""
    if settings.database.url:
        return settings.database.url
    return f"sqlite:///{paths.default_database}"


def zone_of(settings: Settings) -> tzinfo:
    """The zone days and weeks are cut in: the configured one, or the system's."""
    if settings.reports.timezone != "local":
        return ZoneInfo(settings.reports.timezone)
    return tzlocal.get_localzone()


def settings_toml(settings: Settings) -> str:
    """The settings as a TOML document (what `presence config show` prints)."""
    return tomli_w.dumps(settings_dict(settings))


def settings_dict(settings: Settings) -> dict[str, Any]:
    """The settings as plain data (strings, numbers, lists), e.g. for JSON."""
    data: dict[str, Any] = msgspec.to_builtins(settings)
    return data
