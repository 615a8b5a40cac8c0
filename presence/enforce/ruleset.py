"""The rules the enforcer works with: read from the database when they change (one cheap
fingerprint query a tick), after carrying out the loosening changes whose cooldown is over.
A row that does not validate is skipped with one warning. Enforcer's lock held.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from presence.core.errors import PresenceError, StorageError
from presence.rules.model import Rule, file_label, parse_rule
from presence.store import RuleStore
from presence.store.watch import Changes

log = logging.getLogger(__name__)


class RuleSet:
    """The current rules (all of them; the engine skips disabled ones and other devices')."""

    def __init__(self, store: RuleStore) -> None:
        self._store = store
        self._fingerprint: tuple[Any, ...] | None = None
        self._warned: set[str] = set()
        self.rules: list[Rule] = []
        self.ids: dict[str, int] = {}
        self._changes = Changes(store.engine)

    def refresh(self, now: datetime, *, force: bool = False) -> None:
        """Reload when the table changed. Raises StorageError when it cannot be read.

        Reads nothing when nothing was committed since the last look and no pending change
        falls due (store.watch): the daemon asks every tick (issue 9)."""
        pending = None if self._fingerprint is None else self._fingerprint[3]
        due = pending is not None and pending <= now.timestamp()
        changed = self._changes.stale(time.monotonic())  # read first: it marks this look
        if not (force or due or changed):
            return
        try:
            self._refresh(now, force=force)
        except BaseException:
            self._changes.again()
            raise

    def _refresh(self, now: datetime, *, force: bool) -> None:
        try:
            self._store.apply_due(now)
        except StorageError as exc:
            if "refused this change" not in exc.message:  # not a permission: an outage
                raise
            # issue 12: a device's role on a household database may not carry out a pending
            # change; the owner's CLI or daemon does. The rules in force are still read.
            if "apply_due" not in self._warned:
                self._warned.add("apply_due")
                log.warning("pending rule changes wait for the owner: %s", exc.message)
        fingerprint = self._store.fingerprint()
        if not force and fingerprint == self._fingerprint:
            return
        rows = self._store.rules()
        self._fingerprint = fingerprint
        loaded, ids = [], {}
        for row in rows:
            try:
                rule = parse_rule(row.name, row.kind, row.fields, file_label("database", row.name))
            except PresenceError as exc:
                if row.name not in self._warned:
                    self._warned.add(row.name)
                    log.warning("rule %r is invalid, skipped: %s", row.name, exc.message)
                continue
            loaded.append(replace(rule, enabled=row.enabled))
            ids[row.name] = row.id
        if loaded != self.rules:
            log.info("rules in force: %s", ", ".join(r.name for r in loaded if r.enabled) or "none")
        self.rules, self.ids = loaded, ids

    def get(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

    def by_name(self) -> dict[str, Rule]:
        return {r.name: r for r in self.rules}
