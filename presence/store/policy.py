"""Queries for the rule set's policy (issue 10): named numbers shared by every device, each
with an optional pending value (a loosening change waiting for the cooldown).

Names and meanings belong to `presence.rules.policy`; this layer only keeps the numbers.
Every method raises StorageError when the database fails. Thread contract: as `Store`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import insert, select, update

from presence.store.queries import Queries
from presence.store.schema import rule_policy
from presence.store.tracking import dt, ts


class PolicyRows(Queries):
    """The `rule_policy` table."""

    def apply_due(self, now: datetime) -> list[str]:
        """Carry out the pending values whose time has come; returns their names. Idempotent
        and safe to race (the daemon and the CLI may both call it)."""
        with self._begin() as c:
            due = c.execute(
                select(
                    rule_policy.c.name, rule_policy.c.pending_value, rule_policy.c.pending_text
                ).where(rule_policy.c.pending_at.is_not(None), rule_policy.c.pending_at <= ts(now))
            ).all()
            for name, value, text in due:
                c.execute(
                    update(rule_policy)
                    .where(rule_policy.c.name == name)
                    .values(
                        value=value,
                        text=text,
                        pending_value=None,
                        pending_text=None,
                        pending_at=None,
                        updated=ts(now),
                    )
                )
        return [name for name, _, _ in due]

    def values(self) -> dict[str, float]:
        """The values in force, by name (names never set are absent)."""
        with self._begin() as c:
            rows = c.execute(select(rule_policy.c.name, rule_policy.c.value)).all()
        return {name: float(value) for name, value in rows}

    def texts(self) -> dict[str, str]:
        """The names in force (values that are names: the rules' zone), by name."""
        with self._begin() as c:
            rows = c.execute(
                select(rule_policy.c.name, rule_policy.c.text).where(
                    rule_policy.c.text.is_not(None)
                )
            ).all()
        return {name: str(text) for name, text in rows}

    def pending_texts(self) -> dict[str, tuple[str, datetime]]:
        """The names waiting, with when they apply."""
        with self._begin() as c:
            rows = c.execute(
                select(
                    rule_policy.c.name, rule_policy.c.pending_text, rule_policy.c.pending_at
                ).where(rule_policy.c.pending_text.is_not(None))
            ).all()
        return {name: (str(text), dt(at)) for name, text, at in rows}

    def seed_text(self, name: str, text: str, now: datetime) -> None:
        """Insert the name-valued `name` unless it is set."""
        with self._begin() as c:
            if c.execute(select(rule_policy.c.name).where(rule_policy.c.name == name)).first():
                return
            c.execute(insert(rule_policy).values(name=name, value=0.0, text=text, updated=ts(now)))

    def set_text(self, name: str, text: str, now: datetime, *, at: datetime | None = None) -> None:
        """Set a name-valued entry now, or at `at` (pending)."""
        change = (
            {"text": text, "pending_text": None, "pending_value": None, "pending_at": None}
            if at is None
            else {"pending_text": text, "pending_value": 0.0, "pending_at": ts(at)}
        )
        with self._begin() as c:
            c.execute(
                update(rule_policy)
                .where(rule_policy.c.name == name)
                .values(updated=ts(now), **change)
            )

    def pending(self) -> dict[str, tuple[float, datetime]]:
        """The values waiting, by name, with when they apply."""
        with self._begin() as c:
            rows = c.execute(
                select(
                    rule_policy.c.name, rule_policy.c.pending_value, rule_policy.c.pending_at
                ).where(rule_policy.c.pending_at.is_not(None))
            ).all()
        return {name: (float(value), dt(at)) for name, value, at in rows}

    def seed(self, values: Mapping[str, float], now: datetime) -> None:
        """Insert the values of the names not set yet (the others are left as they are)."""
        with self._begin() as c:
            known = set(c.execute(select(rule_policy.c.name)).scalars())
            missing = [
                {"name": name, "value": value, "updated": ts(now)}
                for name, value in values.items()
                if name not in known
            ]
            if missing:
                c.execute(insert(rule_policy), missing)

    def set(
        self, values: Mapping[str, float], now: datetime, *, at: datetime | None = None
    ) -> None:
        """Set the values now (`at` None: any pending value dropped), or at `at` (pending)."""
        with self._begin() as c:
            for name, value in values.items():
                if at is None:
                    change = {"value": value, "pending_value": None, "pending_at": None}
                else:
                    change = {"pending_value": value, "pending_at": ts(at)}
                c.execute(
                    update(rule_policy)
                    .where(rule_policy.c.name == name)
                    .values(updated=ts(now), **change)
                )
