"""The values rules are made of, as people write them and as they are stored: days, times of
day, dates, instants, durations, warning lead times and lists of names. Each parser raises
InputError naming the field (`label`) and the accepted forms."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from presence.core.duration import LONGEST, TooLongError, parse_duration
from presence.core.errors import InputError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {name: i for i, name in enumerate(DAY_NAMES)} | {
    full: i
    for i, full in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
DAILY = frozenset(range(7))
WEEKDAYS = frozenset(range(5))
WEEKENDS = frozenset({5, 6})
REASON_LENGTH = 255
"""The longest reason kept for a pause, snooze or override (the width of pauses.reason)."""
DAY_SECONDS = 86400.0
LONGEST_BLOCK = 7 * DAY_SECONDS
"""The longest pause or focus block one command starts (a week)."""
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_days(text: str | Iterable[str], label: str = "--days") -> frozenset[int]:
    """`daily`, `weekdays`, `weekends`, or days such as `mon,wed` (also `mon-fri`)."""
    parts = _split(text)
    if len(parts) == 1 and parts[0] in ("daily", "weekdays", "weekends"):
        return {"daily": DAILY, "weekdays": WEEKDAYS, "weekends": WEEKENDS}[parts[0]]
    days: set[int] = set()
    for part in parts:
        first, dash, last = part.partition("-")
        if first not in _DAY_ALIASES or (dash and last not in _DAY_ALIASES):
            raise InputError(
                f"{label} {part!r} is not a day",
                hint="use daily, weekdays, weekends, or days such as mon,tue,sat (or mon-fri)",
            )
        lo = _DAY_ALIASES[first]
        hi = _DAY_ALIASES[last] if dash else lo
        days.update(range(lo, hi + 1) if lo <= hi else [*range(lo, 7), *range(hi + 1)])
    if not days:
        raise InputError(f"{label} is empty", hint="use daily, weekdays, weekends or mon,tue,...")
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    for word, value in (("daily", DAILY), ("weekdays", WEEKDAYS), ("weekends", WEEKENDS)):
        if days == value:
            return word
    return ",".join(DAY_NAMES[d] for d in sorted(days))


def parse_time(text: str, label: str = "--start") -> time:
    match = _TIME.fullmatch(str(text).strip())
    if not match:
        raise InputError(
            f"{label} {text!r} is not a time", hint="use HH:MM or HH:MM:SS, e.g. 22:00"
        )
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise InputError(
            f"{label} {text!r} is not a time of day", hint="use 00:00 to 23:59:59 (24-hour clock)"
        )
    return time(hour, minute, second)


def format_time(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def parse_date(text: str, label: str = "--on") -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise InputError(f"{label} {text!r} is not a date", hint="use YYYY-MM-DD") from None


def parse_instant(text: str, label: str) -> datetime:
    try:
        value = datetime.fromisoformat(str(text).strip())
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InputError(
            f"{label} {text!r} is not a date and time with a UTC offset",
            hint="use ISO 8601 with an offset, e.g. 2026-11-22T09:00:00+01:00",
        )
    return value.astimezone(UTC)


def parse_seconds(
    text: str | float,
    label: str,
    *,
    minimum: float = 0.0,
    maximum: float = LONGEST,
    example: str = "10m",
) -> float:
    """`text` as seconds, `minimum` to `maximum` (both included). Raises InputError naming
    `label`, the bound and an example."""
    try:
        seconds = parse_duration(text)
    except TooLongError:
        seconds = math.inf
    except ValueError as exc:
        raise InputError(f"{label}: {exc}", hint=f"e.g. {label} {example}") from None
    if seconds < minimum:
        raise InputError(
            f"{label} must be at least {format_seconds(minimum)} (got {text!r})",
            hint=f"e.g. {label} {example}",
        )
    if seconds > maximum:
        raise InputError(
            f"{label} must be at most {format_seconds(maximum)} (got {text!r})",
            hint=f"e.g. {label} {example}",
        )
    return seconds


def parse_reason(text: str, label: str = "--reason") -> str:
    """A reason as kept: stripped, non-empty, at most `REASON_LENGTH` characters, no control
    characters but tabs. Raises InputError naming `label`."""
    reason = " ".join(str(text).split("\t")).strip()
    if not reason:
        raise InputError(f"{label} is empty", hint="say why in a few words")
    if len(reason) > REASON_LENGTH:
        raise InputError(
            f"{label} is {len(reason)} characters long; at most {REASON_LENGTH} are kept",
            hint="say why in a sentence or two",
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in reason):
        raise InputError(
            f"{label} holds control characters (such as a line break)",
            hint="write the reason on one line",
        )
    return reason


def format_seconds(seconds: float) -> str:
    """A duration in the compact form `parse_duration` reads back: `1h30m`, `45s`, `0s`."""
    whole = int(seconds)
    if whole != seconds:
        return f"{seconds:g}s"
    parts = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def parse_warn(text: str | Iterable[str | float], label: str = "--warn") -> tuple[float, ...]:
    """Lead times before a window, e.g. `10m,1m`; `none` for no warnings. Longest first."""
    parts = _split(text) if not isinstance(text, int | float) else [str(text)]
    if parts in ([], ["none"], ["0"]):
        return ()
    leads = {parse_seconds(p, label, minimum=1, example="10m,1m") for p in parts}
    return tuple(sorted(leads, reverse=True))


def parse_names(text: str | Iterable[str], label: str) -> tuple[str, ...]:
    """A comma-separated (or listed) set of app, category or device names, in order."""
    names: list[str] = []
    for part in _split(text, lower=False):
        if part.lower() not in {n.lower() for n in names}:
            names.append(part)
    return tuple(names)


_SITE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def parse_sites(text: str | Iterable[str], label: str) -> tuple[str, ...]:
    """A comma-separated (or listed) set of sites: host names such as `youtube.com`, lower-cased;
    `https://www.youtube.com/feed` is taken as `youtube.com`. A site covers its subdomains."""
    sites: list[str] = []
    for part in _split(text):
        host = part.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].rstrip(".")
        host = host.removeprefix("www.")
        if not _SITE.match(host):
            raise InputError(
                f"{label} {part!r} is not a site",
                hint="name sites by their domain, e.g. youtube.com,reddit.com",
            )
        if host not in sites:
            sites.append(host)
    return tuple(sites)


def _split(text: str | Iterable[Any], lower: bool = True) -> list[str]:
    items = text.split(",") if isinstance(text, str) else [str(t) for t in text]
    out = [item.strip() for item in items if item.strip()]
    return [o.lower() for o in out] if lower else out


def parse_bool(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InputError(f"{label} {value!r} is not true or false", hint="use true or false")
