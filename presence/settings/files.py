"""Reading the settings file: where presence keeps its files, and validation with clear errors.

Errors name the file, the key and what is allowed. With no file at all, every default applies.
Paths: `--config` / `PRESENCE_CONFIG` override the settings file; `PRESENCE_DATA_DIR` overrides
where the database and the key file live.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any, get_args, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import platformdirs
import tomli_w
import tzlocal

from presence.core.duration import parse_duration
from presence.core.errors import ConfigError, StorageError
from presence.settings.schema import APP, DURATION, SECTIONS, Settings, field_meta


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
    """Create `path` (and parents) if needed and make it 0700: presence's files are private.

    Raises StorageError (exit 4) when that fails, e.g. on a read-only mount.
    """
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise StorageError(
            f"cannot prepare the directory {path}: {exc.strerror}",
            hint="presence keeps its files there: make it writable (e.g. remount it "
            "read-write), or choose another with PRESENCE_DATA_DIR or XDG_DATA_HOME",
        ) from None
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
    try:
        return tzlocal.get_localzone()
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # tzlocal reads $TZ first: a misspelt one must not end in an internal error.
        where = f"TZ={os.environ['TZ']!r}" if "TZ" in os.environ else "the system time zone"
        raise ConfigError(
            f"{where} is not a time zone presence knows",
            hint="set TZ to an IANA zone such as Europe/Berlin (or unset it), "
            "or set reports.timezone in the settings file",
        ) from None


def settings_toml(settings: Settings) -> str:
    """The settings as a TOML document (what `presence config show` prints)."""
    return tomli_w.dumps(settings_dict(settings))


def settings_dict(settings: Settings) -> dict[str, Any]:
    """The settings as plain data (strings, numbers, lists), e.g. for JSON."""
    data: dict[str, Any] = msgspec.to_builtins(settings)
    return data
