"""Durations as people write them: `90`, `90s`, `5m`, `1h30m`, `1.5h`, `2d`."""

from __future__ import annotations

import math
import re
from datetime import date, datetime

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])", re.IGNORECASE)
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[smhd]\s*)+$", re.IGNORECASE)
LONGEST = 366 * 86400.0
"""No duration presence reads is longer than a year: every use has its own, smaller bound
(docs/user-guide.md), and past this one `now + duration` overflows datetime's range."""


class TooLongError(ValueError):
    """A duration past `LONGEST` (or infinite)."""


def parse_duration(text: str | float) -> float:
    """Return the number of seconds in `text`.

    A bare number is seconds. Raises ValueError with a message naming the accepted forms, or
    saying the value is negative, not finite, or longer than a year (`LONGEST`).
    """
    if isinstance(text, int | float):
        return _checked(float(text), text)
    stripped = text.strip()
    try:
        seconds = float(stripped)
    except ValueError:
        pass
    else:
        return _checked(seconds, text)
    if not _WHOLE.match(stripped):
        raise ValueError(
            f"{text!r} is not a duration: use seconds (90) or units s, m, h, d (90s, 5m, 1h30m)"
        )
    return _checked(sum(float(n) * _UNITS[u.lower()] for n, u in _PART.findall(stripped)), text)


def _checked(seconds: float, text: str | float) -> float:
    if math.isnan(seconds):
        raise ValueError(f"{text!r} is not a duration: use seconds (90) or units (5m, 1h30m)")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative (got {text!r})")
    if seconds > LONGEST:
        raise TooLongError(f"{text!r} is longer than a year")
    return seconds


def format_duration(seconds: float) -> str:
    """`3725` -> `1h 02m`; `75` -> `1m 15s`; `9.6` -> `10s` (rounded to whole seconds)."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def format_until(moment: datetime, today: date, *, seconds: bool = False) -> str:
    """`moment` (already in the user's zone) as a clock time, with its ISO date in front when
    it is not on `today`: `21:30`, or `2026-11-30 02:38` for tomorrow."""
    clock = moment.strftime("%H:%M:%S" if seconds else "%H:%M")
    return clock if moment.date() == today else f"{moment.date().isoformat()} {clock}"
