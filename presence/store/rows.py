"""What the store's reads return, as plain dataclasses, and each row's one conversion.

Standard library only (no SQLAlchemy): the Typer-free `presence today` / `presence report`
(presence.cli.report_fast) reads through presence.store.sqlite_reads, and the full Store
through SQLAlchemy; both turn a row (a tuple, columns in the order presence.store.reads
selects them) into these objects with the same functions. Re-exported from
presence.store.tracking and presence.store.reporting, where they lived before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Row = Sequence[Any]
"""One result row: a tuple (sqlite3, psycopg) or a SQLAlchemy Row."""


def ts(when: datetime) -> float:
    return when.timestamp()


def dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True, slots=True)
class Device:
    id: int
    name: str
    hostname: str


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    device_id: int
    started: datetime
    last_seen: datetime
    ended: datetime | None
    end_reason: str | None
    pid: int
    version: str


@dataclass(frozen=True, slots=True)
class Pause:
    id: int
    device_id: int
    start: datetime
    until: datetime | None
    ended: datetime | None
    reason: str

    def end_at(self) -> datetime | None:
        """When the pause ends (or ended); None: until resumed."""
        if self.ended is not None:
            return self.ended if self.until is None else min(self.ended, self.until)
        return self.until

    def active(self, now: datetime) -> bool:
        end = self.end_at()
        return self.start <= now and (end is None or now < end)


SpanRow = tuple[float, float, int, str | None, str | None, str, str | None, int]
"""(start_ts, end_ts, device_id, app, title, state, site, utc_offset) of one span, not
clipped; `utc_offset` is the offset (seconds) of the zone it was recorded in."""


@dataclass(frozen=True, slots=True)
class TitleUsage:
    """Seconds of one (app, title, state, site) inside a period, spans clipped to it."""

    app: str | None
    title: str | None
    state: str
    seconds: float
    site: str | None = None  # the browser tab's site (issue 14)


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One row of the enforcement log."""

    rule_name: str
    occurrence_start: float | None
    ts: float
    event: str
    detail: str | None
    device_id: int | None


@dataclass(frozen=True, slots=True)
class CategoryRow:
    """A user's category rule as stored."""

    id: int
    name: str
    app_pattern: str | None
    title_pattern: str | None
    replaces_builtin: bool
    created: float


# -- one row -> one object (columns as presence.store.reads selects them) --------------------

DEVICE_COLUMNS = "id, name, hostname"
RUN_COLUMNS = "id, device_id, started, last_seen, ended, end_reason, pid, version"
PAUSE_COLUMNS = "id, device_id, start_ts, until_ts, ended_ts, reason"
CATEGORY_COLUMNS = "id, name, app_pattern, title_pattern, replaces_builtin, created"
LOG_COLUMNS = "rule_name, occurrence_start, ts, event, detail, device_id"


def device(row: Row) -> Device:
    return Device(row[0], row[1], row[2])


def run(row: Row) -> Run:
    return Run(
        id=row[0],
        device_id=row[1],
        started=dt(row[2]),
        last_seen=dt(row[3]),
        ended=None if row[4] is None else dt(row[4]),
        end_reason=row[5],
        pid=row[6],
        version=row[7],
    )


def pause(row: Row) -> Pause:
    return Pause(
        id=row[0],
        device_id=row[1],
        start=dt(row[2]),
        until=None if row[3] is None else dt(row[3]),
        ended=None if row[4] is None else dt(row[4]),
        reason=row[5],
    )


def title_usage(row: Row) -> TitleUsage:
    app, title, state, site, seconds = row
    return TitleUsage(app, title, state, float(seconds or 0.0), site)


def log_event(row: Row) -> LogEvent:
    return LogEvent(*row)


def category(row: Row) -> CategoryRow:
    return CategoryRow(row[0], row[1], row[2], row[3], bool(row[4]), row[5])


def outcome(row: Row) -> tuple[str, float, bool]:
    name, occurrence, broken = row
    return name, float(occurrence), bool(broken)
