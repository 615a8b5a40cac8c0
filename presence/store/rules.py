"""Queries for rules and the enforcement log: rule rows with their pending (loosening) changes,
log writes and reads, snoozes and overrides (which are log events), and the active time the
limits and outcomes are measured with.

Rules are returned as `StoredRule` (fields as stored, validated by `presence.rules`), so this
layer stays free of rule logic. Every method raises StorageError when the database fails.
Thread contract: as `Store`: any thread, also several at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, select, update

from presence.core.model import MAX_SPAN_SECONDS, SpanState
from presence.store.queries import Queries
from presence.store.schema import devices, enforcement_log, rules, spans
from presence.store.tracking import Store, dt, ts


@dataclass(frozen=True, slots=True)
class StoredRule:
    """A row of `rules`. `fields` is the rule's definition (see presence.rules.model); a
    pending change (a loosening waiting for the cooldown) applies at `pending_at`."""

    id: int
    name: str
    kind: str
    fields: dict[str, Any]
    enabled: bool
    created: datetime
    updated: datetime
    pending_fields: dict[str, Any] | None = None
    pending_enabled: bool | None = None
    pending_delete: bool = False
    pending_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.pending_at is not None


@dataclass(frozen=True, slots=True)
class EnforcementEvent:
    """A row of `enforcement_log`; `occurrence_start`/`occurrence_end` are UTC epoch seconds."""

    id: int
    ts: datetime
    device_id: int | None
    rule_id: int | None
    rule_name: str
    occurrence_start: float | None
    occurrence_end: float | None
    event: str
    detail: dict[str, Any]


def _stored(row: Any) -> StoredRule:
    return StoredRule(
        id=row.id,
        name=row.name,
        kind=row.kind,
        fields=json.loads(row.spec),
        enabled=bool(row.enabled),
        created=dt(row.created),
        updated=dt(row.updated),
        pending_fields=None if row.pending_spec is None else json.loads(row.pending_spec),
        pending_enabled=None if row.pending_enabled is None else bool(row.pending_enabled),
        pending_delete=bool(row.pending_delete),
        pending_at=None if row.pending_at is None else dt(row.pending_at),
    )


def _event(row: Any) -> EnforcementEvent:
    try:
        detail = json.loads(row.detail) if row.detail else {}
    except ValueError:
        detail = {"text": row.detail}
    return EnforcementEvent(
        id=row.id,
        ts=dt(row.ts),
        device_id=row.device_id,
        rule_id=row.rule_id,
        rule_name=row.rule_name,
        occurrence_start=row.occurrence_start,
        occurrence_end=row.occurrence_end,
        event=row.event,
        detail=detail if isinstance(detail, dict) else {"value": detail},
    )


def _devices_json(fields: dict[str, Any]) -> str | None:
    devices = fields.get("devices")
    return None if devices is None else json.dumps(devices)


class RuleStore(Queries):
    """Rules and the enforcement log, on the same database (and engine) as `store`."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.engine)

    # rules ---------------------------------------------------------------------------------

    def rules(self) -> list[StoredRule]:
        """Every rule, by name."""
        with self._begin() as c:
            return [_stored(r) for r in c.execute(select(rules).order_by(rules.c.name))]

    def rule(self, name: str) -> StoredRule | None:
        with self._begin() as c:
            row = c.execute(select(rules).where(rules.c.name == name)).first()
        return None if row is None else _stored(row)

    def add_rule(
        self, name: str, kind: str, fields: dict[str, Any], enabled: bool, now: datetime
    ) -> StoredRule:
        """Insert a rule (the caller checked the name is free)."""
        with self._begin() as c:
            c.execute(
                insert(rules).values(
                    name=name,
                    kind=kind,
                    spec=json.dumps(fields, sort_keys=True),
                    devices=_devices_json(fields),
                    enabled=int(enabled),
                    created=ts(now),
                    updated=ts(now),
                    pending_delete=0,
                )
            )
            row = c.execute(select(rules).where(rules.c.name == name)).one()
        return _stored(row)

    def replace_rule(self, name: str, fields: dict[str, Any], enabled: bool, now: datetime) -> None:
        """Change a rule now, dropping any pending change."""
        with self._begin() as c:
            c.execute(
                update(rules)
                .where(rules.c.name == name)
                .values(
                    spec=json.dumps(fields, sort_keys=True),
                    devices=_devices_json(fields),
                    enabled=int(enabled),
                    updated=ts(now),
                    **_no_pending(),
                )
            )

    def set_pending(
        self,
        name: str,
        *,
        fields: dict[str, Any] | None,
        enabled: bool | None,
        remove: bool,
        at: datetime,
        now: datetime,
    ) -> None:
        """Record a change that takes effect at `at` (replacing an earlier pending one)."""
        with self._begin() as c:
            c.execute(
                update(rules)
                .where(rules.c.name == name)
                .values(
                    pending_spec=None if fields is None else json.dumps(fields, sort_keys=True),
                    pending_enabled=None if enabled is None else int(enabled),
                    pending_delete=int(remove),
                    pending_at=ts(at),
                    updated=ts(now),
                )
            )

    def cancel_pending(self, name: str, now: datetime) -> bool:
        """Drop the rule's pending change; returns whether there was one."""
        with self._begin() as c:
            result = c.execute(
                update(rules)
                .where(rules.c.name == name, rules.c.pending_at.is_not(None))
                .values(updated=ts(now), **_no_pending())
            )
            return bool(result.rowcount)

    def delete_rule(self, name: str) -> bool:
        with self._begin() as c:
            return bool(c.execute(delete(rules).where(rules.c.name == name)).rowcount)

    def apply_due(self, now: datetime) -> list[str]:
        """Carry out the pending changes whose time has come; returns the rules changed.

        Idempotent and safe to race: the daemon and the CLI may both call it.
        """
        changed = []
        with self._begin() as c:
            due = c.execute(
                select(rules).where(rules.c.pending_at.is_not(None), rules.c.pending_at <= ts(now))
            ).all()
            for row in due:
                changed.append(row.name)
                if row.pending_delete:
                    c.execute(delete(rules).where(rules.c.id == row.id))
                    continue
                values: dict[str, Any] = {"updated": ts(now), **_no_pending()}
                if row.pending_spec is not None:
                    values["spec"] = row.pending_spec
                    values["devices"] = _devices_json(json.loads(row.pending_spec))
                if row.pending_enabled is not None:
                    values["enabled"] = row.pending_enabled
                c.execute(update(rules).where(rules.c.id == row.id).values(**values))
        return changed

    def fingerprint(self) -> tuple[Any, ...]:
        """Changes whenever a rule is added, changed or removed: one cheap query a tick."""
        with self._begin() as c:
            row = c.execute(
                select(
                    func.count(rules.c.id),
                    func.max(rules.c.updated),
                    func.sum(rules.c.id),
                    func.min(rules.c.pending_at),
                )
            ).one()
        return tuple(row)

    # enforcement log -----------------------------------------------------------------------

    def log(
        self,
        now: datetime,
        rule_name: str,
        event: str,
        *,
        occurrence: tuple[datetime, datetime | None] | None = None,
        detail: dict[str, Any] | None = None,
        device_id: int | None = None,
        rule_id: int | None = None,
    ) -> int:
        """Append one event; returns its id."""
        start, end = occurrence if occurrence is not None else (None, None)
        with self._begin() as c:
            result = c.execute(
                insert(enforcement_log).values(
                    ts=ts(now),
                    device_id=device_id,
                    rule_id=rule_id,
                    rule_name=rule_name,
                    occurrence_start=None if start is None else round(ts(start), 3),
                    occurrence_end=None if end is None else round(ts(end), 3),
                    event=event,
                    detail=json.dumps(detail, sort_keys=True) if detail else None,
                )
            )
            key = result.inserted_primary_key
            assert key is not None  # an INSERT into a table with a primary key returns it
            return int(key[0])

    def last_event_id(self) -> int:
        with self._begin() as c:
            return int(c.execute(select(func.coalesce(func.max(enforcement_log.c.id), 0))).one()[0])

    def events_after(self, after_id: int, kinds: Sequence[str]) -> list[EnforcementEvent]:
        """Events of `kinds` with an id above `after_id` (newer ones), oldest first."""
        with self._begin() as c:
            rows = c.execute(
                select(enforcement_log)
                .where(enforcement_log.c.id > after_id, enforcement_log.c.event.in_(kinds))
                .order_by(enforcement_log.c.id)
            ).all()
        return [_event(r) for r in rows]

    def events_between(
        self, start: datetime, end: datetime, rule_name: str | None = None
    ) -> list[EnforcementEvent]:
        """Events logged in [start, end) (of one rule, when named), oldest first."""
        log = enforcement_log.c
        query = select(enforcement_log).where(log.ts >= ts(start), log.ts < ts(end))
        if rule_name is not None:
            query = query.where(log.rule_name == rule_name)
        with self._begin() as c:
            return [_event(r) for r in c.execute(query.order_by(log.ts, log.id))]

    def occurrence_events(self, rule_name: str, occurrence_start: float) -> list[EnforcementEvent]:
        """Every event of one occurrence, oldest first (on the rule/occurrence index)."""
        log = enforcement_log.c
        with self._begin() as c:
            rows = c.execute(
                select(enforcement_log)
                .where(log.rule_name == rule_name, log.occurrence_start == occurrence_start)
                .order_by(log.id)
            ).all()
        return [_event(r) for r in rows]

    # active time ---------------------------------------------------------------------------

    def device_ids(self, names: Sequence[str]) -> list[int]:
        """Ids of the named devices that have recorded anything (names match ignoring case)."""
        wanted = [n.lower() for n in names]
        with self._begin() as c:
            rows = c.execute(select(devices.c.id).where(func.lower(devices.c.name).in_(wanted)))
            return [int(r[0]) for r in rows]

    def active_seconds_by_app(
        self,
        start: datetime,
        end: datetime,
        device_ids: Sequence[int] | None,
        exclude_uid: str | None = None,
    ) -> dict[str | None, float]:
        """Active seconds per app inside [start, end), spans clipped to it, in SQL.

        `exclude_uid` leaves out one span (the daemon's open span, which it adds from memory:
        the stored copy lags behind by up to one flush).
        """
        by_window = self.active_seconds_by_window(start, end, device_ids, exclude_uid)
        by_app: dict[str | None, float] = {}
        for (app, _, _), seconds in by_window.items():
            by_app[app] = by_app.get(app, 0.0) + seconds
        return by_app

    def active_seconds_by_window(
        self,
        start: datetime,
        end: datetime,
        device_ids: Sequence[int] | None,
        exclude_uid: str | None = None,
    ) -> dict[tuple[str | None, str | None, str | None], float]:
        """Active seconds per (app, title, site) inside [start, end), as `active_seconds_by_app`:
        what a category matched by title or site needs (issue 10: limits count what reports
        count)."""
        lo, hi = ts(start), ts(end)
        clipped = case((spans.c.end_ts > hi, hi), else_=spans.c.end_ts) - case(
            (spans.c.start_ts < lo, lo), else_=spans.c.start_ts
        )
        query = (
            select(spans.c.app, spans.c.title, spans.c.site, func.sum(clipped))
            .where(
                # Spans never exceed MAX_SPAN_SECONDS: the lower bound keeps this on the index.
                and_(
                    spans.c.start_ts >= lo - MAX_SPAN_SECONDS,
                    spans.c.start_ts < hi,
                    spans.c.end_ts > lo,
                ),
                spans.c.state == SpanState.ACTIVE.value,
            )
            .group_by(spans.c.app, spans.c.title, spans.c.site)
        )
        if device_ids is not None:
            query = query.where(spans.c.device_id.in_(device_ids))
        if exclude_uid is not None:
            query = query.where(spans.c.uid != exclude_uid)
        with self._begin() as c:
            return {(row[0], row[1], row[2]): float(row[3] or 0.0) for row in c.execute(query)}


def _no_pending() -> dict[str, Any]:
    return {"pending_spec": None, "pending_enabled": None, "pending_delete": 0, "pending_at": None}
