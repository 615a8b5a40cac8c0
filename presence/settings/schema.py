"""Device-local settings: the sections of the TOML file, their types, bounds and defaults.

Sampling, backends, database URL, privacy, reports and rule defaults. Each field carries its
description and bounds in its annotation; `reference.py` renders docs/configuration.md from them.
"""

from __future__ import annotations

import re
import shlex
import socket
from enum import StrEnum
from typing import Annotated, Any, Literal, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta, field

APP = "presence"

DURATION = {"duration": True}
"""Meta(extra=DURATION) marks a duration: `90`, `90s`, `5m` or `1h30m` in the file."""


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One table of config.toml. Validation errors in `__post_init__` start with the key."""


class TitlePrivacy(StrEnum):
    FULL = "full"  # titles kept, but private-browsing and password-manager windows redacted
    REDACTED = "redacted"  # titles replaced by a keyed hash: distinct, never readable
    OFF = "off"  # no titles at all; spans split by application only


class SitePrivacy(StrEnum):
    DOMAIN = "domain"  # the registrable domain of the focused tab (youtube.com)
    URL = "url"  # the browser's report keeps the full address too
    OFF = "off"  # the browser extension reports no sites (blocking still works in the browser)


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
    sites: Annotated[
        SitePrivacy,
        Meta(description="what the browser extension reports: domain, url or off"),
    ] = SitePrivacy.DOMAIN

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

    def __post_init__(self) -> None:
        if self.lock_command:
            try:
                words = shlex.split(self.lock_command)
            except ValueError as exc:
                raise ValueError(
                    f"lock_command: {self.lock_command!r} cannot be split into words ({exc}): "
                    "close the quote, or escape it with a backslash"
                ) from None
            if not words:
                raise ValueError("lock_command: holds no command: give one, or leave it empty")


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
