"""Plain data shared by every layer: what was observed, and the spans it becomes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum


class SpanState(StrEnum):
    """What the screen was doing during a span."""

    ACTIVE = "active"  # input seen within `sampling.idle_after`
    IDLE = "idle"  # no input for `sampling.idle_after`; back-dated to the last input
    LOCKED = "locked"  # the session's screen was locked


EXCLUDED_APP = "[excluded]"
"""The app name recorded for apps listed in `privacy.exclude_apps`."""

MAX_SPAN_SECONDS = 3600.0
"""A span is cut (and continued) after this long, so range queries can bound `start` below by
the range start minus this and stay on the index."""

REDACTED_TITLE = "[redacted]"
"""The title recorded for private-browsing and password-manager windows."""


@dataclass(frozen=True, slots=True)
class WindowInfo:
    """The focused window as a backend read it.

    `app` is the application's name (WM_CLASS class on X11, else the process name);
    `title` may be None when it cannot be read; `pid` may be None when unknown. `site` is the
    focused tab's site (`youtube.com`) when the window is a browser whose extension reports it.
    """

    app: str
    title: str | None
    pid: int | None = None
    site: str | None = None


@dataclass(frozen=True, slots=True)
class InputCounts:
    """Counts of input events. Counts only: which key or button is never kept."""

    keys: int = 0
    clicks: int = 0
    scrolls: int = 0
    moves: int = 0

    def __add__(self, other: InputCounts) -> InputCounts:
        return InputCounts(
            self.keys + other.keys,
            self.clicks + other.clicks,
            self.scrolls + other.scrolls,
            self.moves + other.moves,
        )

    def __sub__(self, other: InputCounts) -> InputCounts:
        return InputCounts(
            self.keys - other.keys,
            self.clicks - other.clicks,
            self.scrolls - other.scrolls,
            self.moves - other.moves,
        )

    @property
    def total(self) -> int:
        return self.keys + self.clicks + self.scrolls + self.moves


@dataclass(frozen=True, slots=True)
class Observation:
    """One tick's reading of the desktop, after privacy settings were applied.

    `wall` is aware UTC; `mono` is the monotonic clock in seconds. `idle_seconds` is None when no
    idle source is available; `counts` are cumulative since the counter started (None: no
    counter); `locked` is None when the lock state cannot be read.
    """

    wall: datetime
    mono: float
    window: WindowInfo | None
    idle_seconds: float | None
    counts: InputCounts | None
    locked: bool | None
    utc_offset: int = 0  # seconds east of UTC at `wall`, in the user's zone

    @property
    def blind(self) -> bool:
        """Nothing could be read: no window, idle, input or lock source answered."""
        return (
            self.window is None
            and self.idle_seconds is None
            and self.counts is None
            and self.locked is None
        )


def new_uid() -> str:
    """A fresh span id: random, so replaying a spool into a shared database is idempotent."""
    return uuid.uuid4().hex


@dataclass(slots=True)
class Span:
    """A continuous stretch of one app, title and state. `start` <= `end`, both aware UTC."""

    start: datetime
    end: datetime
    app: str | None
    title: str | None
    state: SpanState
    utc_offset: int = 0
    counts: InputCounts = field(default_factory=InputCounts)
    uid: str = field(default_factory=new_uid)
    site: str | None = None  # the browser tab's site, when the browser extension reports it

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def copy(self) -> Span:
        return replace(self)

    def key(self) -> tuple[str | None, str | None, SpanState]:
        """What must stay the same for two ticks to belong to one span (and its `site`)."""
        return (self.app, self.title, self.state)
