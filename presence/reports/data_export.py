"""The services behind `presence export` and `presence data forget`: your data, out and gone.

Dates are the user's report days (cut at `reports.day_start` in the report zone), inclusive;
the rows are the store's (presence.store.export; schema in docs/export.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from presence.core.errors import InputError
from presence.reports.periods import FIRST_DAY
from presence.rules.schedule import wall_to_utc
from presence.store import Store
from presence.store.export import ExportQueries, Forgetting, Forgotten

SCHEMA = 1

__all__ = ["SCHEMA", "Export", "Forgotten", "export", "forget_app", "forget_before"]


@dataclass(frozen=True, slots=True)
class Export:
    """What `presence export` writes: the small sections as lists, the spans as a stream."""

    start: datetime
    end: datetime
    devices: list[str]
    runs: list[dict[str, Any]]
    pauses: list[dict[str, Any]]
    enforcement: list[dict[str, Any]]
    spans: Iterator[dict[str, Any]]


def bounds(
    first: date | None, last: date | None, zone: tzinfo, day_start: time, now: datetime
) -> tuple[datetime, datetime]:
    """[start, end) of the report days `first`..`last` (defaults: all of it, up to now)."""
    if first is not None and last is not None and last < first:
        raise InputError(f"--to {last} is before --from {first}", hint="swap the two dates")
    start = wall_to_utc(first or FIRST_DAY, day_start, zone)
    end = now if last is None else wall_to_utc(last + timedelta(days=1), day_start, zone)
    return start, end


def export(store: Store, start: datetime, end: datetime) -> Export:
    """Every span, run, pause and enforcement event of [start, end), every device.
    Raises StorageError."""
    queries = ExportQueries.of(store)
    return Export(
        start,
        end,
        sorted(queries.device_names().values()),
        queries.runs(start, end),
        queries.pauses(start, end),
        queries.enforcement(start, end),
        queries.spans(start, end),
    )


def forget_app(store: Store, app: str, *, dry_run: bool = False) -> Forgotten:
    """Delete every span of `app` (case-insensitive). Raises InputError, StorageError."""
    if not app.strip():
        raise InputError("--app is empty", hint="name the app as reports show it")
    return Forgetting.of(store).app(app.strip(), dry_run=dry_run)


def forget_before(
    store: Store, day: date, zone: tzinfo, day_start: time, *, dry_run: bool = False
) -> Forgotten:
    """Delete everything that ended before the report day `day` began. Raises StorageError."""
    return Forgetting.of(store).before(wall_to_utc(day, day_start, zone), dry_run=dry_run)
