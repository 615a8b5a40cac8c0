"""The reads behind reports, each ONE portable SQL text and one conversion, and what reports
may read through (`ReportSource`, `ReportReads`).

Standard library only. Each function returns a `Read`: SQL that SQLite and PostgreSQL both
run as written (named `:params`; device ids rendered as integer literals, names expanded to
one parameter each), and how its rows become results (presence.store.rows). Two executors
run them: the full Store and ReportQueries through SQLAlchemy's `text()` (PostgreSQL streams
the spans through a server-side cursor), and presence.store.sqlite_reads through the standard
library's sqlite3, which `presence today` and `presence report` use without importing
SQLAlchemy (issue 13: "instant everyday commands"). The texts are written for the schema at
HEAD_REVISION; sqlite_reads reads only a database stamped with it.
"""

# ruff: noqa: S608 - the texts hold only our constants, int() literals and named parameters

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from presence.core.model import MAX_SPAN_SECONDS
from presence.store import rows
from presence.store.rows import (
    CategoryRow,
    Device,
    LogEvent,
    Pause,
    Row,
    Run,
    SpanRow,
    TitleUsage,
    ts,
)

HEAD_REVISION = "0008"
"""The newest migration. Checked against the migration scripts by a unit test, so the daemon
and the CLI can see an up-to-date schema without importing Alembic (about 11 MB and 0.1 s)."""

OUTCOMES = ("kept", "broken")
COUNTED = ("kept", "broken", "snooze", "override", "start", "warning", "action", "nudge")

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Read(Generic[R]):
    """One read: `sql` with its named `params`, and `collect`, which turns the rows into the
    result (a list, a dict, or an iterator the executor yields from while the transaction
    holds)."""

    sql: str
    params: dict[str, Any]
    collect: Callable[[Iterable[Row]], R]


def _listed(convert: Callable[[Row], R]) -> Callable[[Iterable[Row]], list[R]]:
    return lambda found: [convert(r) for r in found]


def _streamed(convert: Callable[[Row], R]) -> Callable[[Iterable[Row]], Iterator[R]]:
    return lambda found: map(convert, found)


def _as_they_come(found: Iterable[Row]) -> Iterator[SpanRow]:
    """Span rows as the driver gives them: activity.scan unpacks them (a year is millions of
    rows: no per-row conversion)."""
    return iter(found)  # type: ignore[arg-type]  # the columns of SpanRow, in its order


def _ids(device_ids: Sequence[int]) -> str:
    """`(1, 2)`: ids are ints (int() makes sure), so literals are safe; `(NULL)` for none,
    which matches nothing (as SQLAlchemy's empty IN)."""
    return "(" + ", ".join(str(int(i)) for i in device_ids) + ")" if device_ids else "(NULL)"


def _expand(prefix: str, values: Sequence[str], params: dict[str, Any]) -> str:
    """`(:prefix_0, :prefix_1)`, the values added to `params`; `(NULL)` for none."""
    names = []
    for i, value in enumerate(values):
        params[f"{prefix}_{i}"] = value
        names.append(f":{prefix}_{i}")
    return "(" + ", ".join(names) + ")" if names else "(NULL)"


# -- devices, runs, pauses (Store) -------------------------------------------------------------


def find_device(name: str) -> Read[Device | None]:
    def first(found: Iterable[Row]) -> Device | None:
        return next((rows.device(r) for r in found), None)

    return Read(
        f"SELECT {rows.DEVICE_COLUMNS} FROM devices WHERE name = :name", {"name": name}, first
    )


def devices() -> Read[list[Device]]:
    return Read(
        f"SELECT {rows.DEVICE_COLUMNS} FROM devices ORDER BY name", {}, _listed(rows.device)
    )


def runs_between(start: datetime, end: datetime, device_ids: Sequence[int]) -> Read[list[Run]]:
    """Runs that overlap [start, end), a crashed run counting until its last heartbeat."""
    return Read(
        f"SELECT {rows.RUN_COLUMNS} FROM daemon_runs WHERE device_id IN {_ids(device_ids)} "
        "AND started < :end AND COALESCE(ended, last_seen) > :start ORDER BY started",
        {"start": ts(start), "end": ts(end)},
        _listed(rows.run),
    )


def first_runs(device_ids: Sequence[int]) -> Read[dict[int, datetime]]:
    """When each device's first run started (devices that never ran are left out)."""
    return Read(
        "SELECT device_id, MIN(started) FROM daemon_runs "
        f"WHERE device_id IN {_ids(device_ids)} GROUP BY device_id",
        {},
        lambda found: {int(device): rows.dt(float(first)) for device, first in found},
    )


def pauses_between(start: datetime, end: datetime, device_ids: Sequence[int]) -> Read[list[Pause]]:
    """Pauses that overlap [start, end), oldest first."""

    def overlapping(found: Iterable[Row]) -> list[Pause]:
        every = [rows.pause(r) for r in found]
        return [p for p in every if (until := p.end_at()) is None or until > start]

    return Read(
        f"SELECT {rows.PAUSE_COLUMNS} FROM pauses WHERE device_id IN {_ids(device_ids)} "
        "AND start_ts < :end ORDER BY start_ts",
        {"end": ts(end)},
        overlapping,
    )


# -- spans (ReportQueries) -----------------------------------------------------------------


def _overlapping(
    start: datetime,
    end: datetime,
    device_ids: Sequence[int],
    people: Sequence[str] | None,
    params: dict[str, Any],
) -> str:
    # Spans never exceed MAX_SPAN_SECONDS: the lower bound on start_ts keeps this indexed.
    lo, hi = ts(start), ts(end)
    params.update(lo=lo, hi=hi, reach=lo - MAX_SPAN_SECONDS)
    where = (
        f"device_id IN {_ids(device_ids)} AND start_ts >= :reach AND start_ts < :hi "
        "AND end_ts > :lo"
    )
    if people is not None:
        where += (
            " AND run_id IN (SELECT id FROM daemon_runs "
            f"WHERE person IN {_expand('person', people, params)})"
        )
    return where


def title_usage(
    start: datetime, end: datetime, device_ids: Sequence[int], people: Sequence[str] | None
) -> Read[Iterator[TitleUsage]]:
    """Seconds per (app, title, state, site) in [start, end), clipped and summed in SQL."""
    params: dict[str, Any] = {}
    where = _overlapping(start, end, device_ids, people, params)
    return Read(
        "SELECT app, title, state, site, SUM("
        "CASE WHEN end_ts > :hi THEN :hi ELSE end_ts END"
        " - CASE WHEN start_ts < :lo THEN :lo ELSE start_ts END) "
        f"FROM spans WHERE {where} GROUP BY app, title, state, site",
        params,
        _streamed(rows.title_usage),
    )


def span_rows(
    start: datetime, end: datetime, device_ids: Sequence[int], people: Sequence[str] | None
) -> Read[Iterator[SpanRow]]:
    """Every span overlapping [start, end), oldest first, as plain tuples (not clipped)."""
    params: dict[str, Any] = {}
    where = _overlapping(start, end, device_ids, people, params)
    return Read(
        "SELECT start_ts, end_ts, device_id, app, title, state, site, utc_offset "
        f"FROM spans WHERE {where} ORDER BY start_ts",
        params,
        _as_they_come,
    )


# -- the enforcement log and categories (ReportQueries) --------------------------------------


def _log_filters(
    device_ids: Sequence[int] | None, people: Sequence[str] | None, params: dict[str, Any]
) -> str:
    where = ""
    if device_ids is not None:
        # Events without a device (rules shared by all devices) count for every device.
        where += f" AND (device_id IN {_ids(device_ids)} OR device_id IS NULL)"
    if people is not None:
        # Issue 12 (adherence per person): only events logged while one of them ran the
        # daemon of the event's device; events without a device count for all.
        where += (
            " AND (enforcement_log.device_id IS NULL OR EXISTS (SELECT daemon_runs.id "
            "FROM daemon_runs WHERE daemon_runs.device_id = enforcement_log.device_id "
            f"AND daemon_runs.person IN {_expand('person', people, params)} "
            "AND daemon_runs.started <= enforcement_log.ts AND (daemon_runs.ended IS NULL "
            "OR daemon_runs.ended >= enforcement_log.ts)))"
        )
    return where


def _quoted(words: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{w}'" for w in words) + ")"  # our own constants


def log_events(
    start: datetime,
    end: datetime,
    device_ids: Sequence[int] | None,
    people: Sequence[str] | None,
) -> Read[list[LogEvent]]:
    """Events of occurrences that start in [start, end) (events without an occurrence: by
    their own time), for the outcomes and counted events, oldest first."""
    params: dict[str, Any] = {"lo": ts(start), "hi": ts(end)}
    return Read(
        f"SELECT {rows.LOG_COLUMNS} FROM enforcement_log "
        "WHERE ((occurrence_start >= :lo AND occurrence_start < :hi) "
        "OR (occurrence_start IS NULL AND ts >= :lo AND ts < :hi)) "
        f"AND event IN {_quoted(COUNTED)}{_log_filters(device_ids, people, params)} "
        "ORDER BY rule_name, occurrence_start, ts",
        params,
        _listed(rows.log_event),
    )


def outcomes_before(
    until: datetime,
    rule_names: Sequence[str],
    device_ids: Sequence[int] | None,
    people: Sequence[str] | None,
) -> Read[Iterator[tuple[str, float, bool]]]:
    """(rule, occurrence start, broken) of every decided occurrence starting before `until`,
    newest first per rule. An occurrence broken on any device is broken."""
    params: dict[str, Any] = {"until": ts(until)}
    names = _expand("rule", rule_names, params)
    return Read(
        "SELECT rule_name, occurrence_start, MAX(CASE WHEN event = 'broken' THEN 1 ELSE 0 END) "
        f"FROM enforcement_log WHERE rule_name IN {names} AND event IN {_quoted(OUTCOMES)} "
        "AND occurrence_start IS NOT NULL AND occurrence_start < :until"
        f"{_log_filters(device_ids, people, params)} "
        "GROUP BY rule_name, occurrence_start ORDER BY rule_name, occurrence_start DESC",
        params,
        _streamed(rows.outcome),
    )


def user_categories() -> Read[list[CategoryRow]]:
    return Read(
        f"SELECT {rows.CATEGORY_COLUMNS} FROM categories ORDER BY name, id",
        {},
        _listed(rows.category),
    )


# -- what reports read through -----------------------------------------------------------------


class ReportReads(Protocol):
    """The report queries (presence.store.reporting.ReportQueries, or the sqlite3 reader),
    for one set of people. Iterators hold their connection until exhausted or closed."""

    def span_rows(
        self, start: datetime, end: datetime, device_ids: Sequence[int]
    ) -> Iterator[SpanRow]: ...

    def title_usage(
        self, start: datetime, end: datetime, device_ids: Sequence[int]
    ) -> Iterator[TitleUsage]: ...

    def log_events(
        self, start: datetime, end: datetime, device_ids: Sequence[int] | None
    ) -> list[LogEvent]: ...

    def outcomes_before(
        self, until: datetime, rule_names: Sequence[str], device_ids: Sequence[int] | None
    ) -> Iterator[tuple[str, float, bool]]: ...

    def user_categories(self) -> list[CategoryRow]: ...


class ReportSource(Protocol):
    """What a report reads: the full Store (SQLAlchemy; SQLite or PostgreSQL), or
    presence.store.sqlite_reads.SqliteReads (a SQLite file at head, standard library only).

    Raises StorageError (never a driver exception) from the full Store; the sqlite3 reader
    raises sqlite3.Error, and its caller falls back to the full path.
    """

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        ...

    def find_device(self, name: str) -> Device | None: ...

    def devices(self) -> list[Device]: ...

    def runs_between(
        self, start: datetime, end: datetime, device_ids: Sequence[int]
    ) -> list[Run]: ...

    def pauses_between(
        self, start: datetime, end: datetime, device_ids: Sequence[int]
    ) -> list[Pause]: ...

    def first_runs(self, device_ids: Sequence[int]) -> dict[int, datetime]: ...

    def report_queries(self, people: Sequence[str] | None = None) -> ReportReads:
        """The report queries on the same database, only the time of `people` (None: all)."""
        ...
