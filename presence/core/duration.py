"""Durations as people write them: `90`, `90s`, `5m`, `1h30m`, `1.5h`, `2d`."""

from __future__ import annotations

import re

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])", re.IGNORECASE)
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[smhd]\s*)+$", re.IGNORECASE)


def parse_duration(text: str | float) -> float:
    """Return the number of seconds in `text`.

    A bare number is seconds. Raises ValueError with a message naming the accepted forms.
    """
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"a duration cannot be negative (got {text})")
        return float(text)
    stripped = text.strip()
    try:
        seconds = float(stripped)
    except ValueError:
        pass
    else:
        if seconds < 0:
            raise ValueError(f"a duration cannot be negative (got {text!r})")
        return seconds
    if not _WHOLE.match(stripped):
        raise ValueError(
            f"{text!r} is not a duration: use seconds (90) or units s, m, h, d (90s, 5m, 1h30m)"
        )
    return sum(float(n) * _UNITS[u.lower()] for n, u in _PART.findall(stripped))


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
