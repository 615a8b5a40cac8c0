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
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
import tomli_w
import tzlocal
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from presence.duration import parse_duration
from presence.errors import ConfigError

APP = "presence"


def _seconds(value: Any) -> Any:
    """Accept `90`, `90s`, `5m`... for duration settings; leave other types to pydantic."""
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
    return value


Seconds = Annotated[float, BeforeValidator(_seconds)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TitlePrivacy(StrEnum):
    FULL = "full"  # titles kept, but private-browsing and password-manager windows redacted
    REDACTED = "redacted"  # titles replaced by a keyed hash: distinct, never readable
    OFF = "off"  # no titles at all; spans split by application only


class SamplingSettings(_Section):
    """How often and how the desktop is read."""

    interval: Seconds = Field(1.0, ge=0.2, le=60, description="seconds between two ticks")
    idle_after: Seconds = Field(
        120.0, ge=5, le=3600, description="no input for this long makes the time idle"
    )
    flush_every: Seconds = Field(
        10.0, ge=1, le=10, description="the open span is written at least this often"
    )
    gap_after: Seconds = Field(
        6.0,
        ge=2,
        le=600,
        description="a tick later than this (suspend, stopped process) ends the span",
    )

    @model_validator(mode="after")
    def _gap_longer_than_tick(self) -> SamplingSettings:
        if self.gap_after < 2 * self.interval:
            raise ValueError(
                f"gap_after ({self.gap_after:g} s) must be at least twice interval "
                f"({self.interval:g} s), or every tick would look like a suspend"
            )
        return self


class DatabaseSettings(_Section):
    """Where spans, rules and logs are stored."""

    url: str = Field(
        "",
        description="SQLAlchemy URL; empty means SQLite at $XDG_DATA_HOME/presence/presence.db",
    )

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError("use a sqlite:/// or postgresql:// URL, or leave it empty")
        return value


class PrivacySettings(_Section):
    """What is kept of window titles and which apps are not recorded by name."""

    titles: TitlePrivacy = Field(TitlePrivacy.FULL, description="full, redacted or off")
    exclude_apps: list[str] = Field(
        default_factory=list,
        description="apps recorded as [excluded] with no title (matched case-insensitively)",
    )
    redact_titles: list[str] = Field(
        default_factory=list,
        description="extra regular expressions; a matching title is recorded as [redacted]",
    )

    @field_validator("redact_titles")
    @classmethod
    def _valid_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return patterns


BackendName = Annotated[str, Field(pattern=r"^[a-z0-9_-]+$")]


class BackendSettings(_Section):
    """Force a backend per capability by name (`presence doctor` lists them), or `none`."""

    window: BackendName = Field("auto", description="focused window: auto, x11 or none")
    idle: BackendName = Field("auto", description="idle time: auto, xscreensaver or none")
    input: BackendName = Field("auto", description="input counts: auto, pynput or none")
    lock: BackendName = Field("auto", description="lock state: auto, logind, screensaver or none")
    notify: BackendName = Field("auto", description="notifications: auto, dbus, plyer, log or none")
    locker: BackendName = Field("auto", description="locking the screen: auto, session or none")
    apps: BackendName = Field("auto", description="closing and pausing apps: auto, x11 or none")


class DeviceSettings(_Section):
    """This device's identity in a shared database."""

    name: str = Field(
        default_factory=socket.gethostname,
        min_length=1,
        max_length=64,
        description="this device's name (default: the host name)",
    )


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ReportSettings(_Section):
    """How days and weeks are cut, and what reports show."""

    day_start: str = Field("04:00", description="local time a day starts (HH:MM)")
    week_start: Weekday = Field("monday", description="first day of a week")
    timezone: str = Field("local", description="an IANA zone such as Europe/Berlin, or local")
    session_break: Seconds = Field(
        300.0, ge=30, le=7200, description="away this long (idle, locked, off) ends a session"
    )
    top: int = Field(10, ge=1, le=1000, description="apps and categories listed in tables")

    @field_validator("day_start")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError("use HH:MM between 00:00 and 23:59")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value != "local":
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)"
                ) from None
        return value


class LoggingSettings(_Section):
    """What the daemon logs (to stderr, which systemd sends to the journal)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="DEBUG also logs window titles"
    )


class RuleSettings(_Section):
    """How rules are enforced (the rules themselves live in the database: `presence rules`)."""

    cooldown: Seconds = Field(
        86400.0,
        ge=0,
        le=30 * 86400,
        description="a change that loosens a rule waits this long; 0 turns the wait off",
    )
    nudge_every: Seconds = Field(
        300.0, ge=30, le=3600, description="a nudge repeats this often while the screen is used"
    )
    close_timeout: Seconds = Field(
        10.0, ge=1, le=300, description="an app asked to close is terminated after this long"
    )
    lock_command: str = Field(
        "", description="a command that locks the screen, tried after the built-in ways"
    )
    snooze: Seconds = Field(300.0, ge=60, le=3600, description="how long a snooze lasts")
    focus_apps: list[str] = Field(
        default_factory=list, description="apps `presence focus` keeps away when none are named"
    )


class Settings(_Section):
    """Everything in config.toml. Each section is optional."""

    sampling: SamplingSettings = Field(default_factory=SamplingSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    backends: BackendSettings = Field(default_factory=BackendSettings)
    device: DeviceSettings = Field(default_factory=DeviceSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    rules: RuleSettings = Field(default_factory=RuleSettings)


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


def _describe(error: ErrorDetails) -> str:
    key = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key {key!r}"
    if kind == "missing":
        return f"{key!r} is required"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key!r}: {message} (got {error.get('input')!r})"


def _known_keys() -> str:
    sections = []
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            sections.append(f"[{name}] " + ", ".join(annotation.model_fields))
    return "; ".join(sections)


def parse_settings(data: dict[str, Any], source: str) -> Settings:
    """Validate `data` (a parsed TOML document). Raises ConfigError naming `source` and keys."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
        unknown = any(e["type"] == "extra_forbidden" for e in exc.errors())
        hint = f"known keys: {_known_keys()}" if unknown else "see docs/configuration.md"
        raise ConfigError(f"{source}: " + "; ".join(problems), hint=hint) from None


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
    return tomli_w.dumps(settings.model_dump(mode="json"))
