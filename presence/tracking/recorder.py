"""Writing spans: closed spans at once, the open span on change and at least every flush period.

Spans are keyed by uid: the timeline may hand back a span it closed earlier with a new end or
state (idle noticed after focus moved on), and the store upserts by uid, so the row is
rewritten. The open span is written at once when it is new or changed state in place.

When the database refuses a write (disk full, locked too long, unreachable), the spans are
held in memory and retried on the next tick; nothing is dropped and the daemon keeps sampling.
With a spool (issue 12: a shared server that may be away) a refused batch goes to the spool
file on local disk instead, so a daemon stopped or killed during the outage loses nothing it
had flushed; the spool is replayed, in order and before anything newer, once the database
takes writes again (also by the next daemon, when this one stopped first).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from presence.core.errors import StorageError
from presence.core.model import Span, SpanState
from presence.store import Store
from presence.store.spool import Spool

log = logging.getLogger(__name__)


class Recorder:
    """Owns what has been written. Sampler thread only."""

    def __init__(
        self,
        store: Store,
        device_id: int,
        run_id: int,
        flush_every: float,
        spool: Spool | None = None,
    ) -> None:
        self.store = store
        self.spool = spool
        self.device_id = device_id
        self.run_id = run_id
        self.flush_every = flush_every
        self._pending: dict[str, Span] = {}
        self._open_key: tuple[str, SpanState] | None = None
        self._flushed_at = float("-inf")
        self._failing = False
        self._spooled = False
        if spool is not None:
            try:
                self._spooled = spool.state().waiting > 0  # left by a daemon stopped offline
            except StorageError as exc:
                log.error("%s", exc.message)

    @property
    def pending(self) -> int:
        """Spans waiting to be written (non-zero only while the database refuses writes)."""
        return len(self._pending)

    def record(self, closed: Sequence[Span], open_span: Span | None, mono: float) -> bool:
        """Queue this tick's closed or revised spans and write when due. True when it wrote.

        A span already pending is replaced by the newer copy (same uid): the latest wins.
        """
        for span in closed:
            self._pending[span.uid] = span.copy()
        due = bool(closed) or mono - self._flushed_at >= self.flush_every
        if open_span is not None:
            key = (open_span.uid, open_span.state)
            if key != self._open_key or due:
                self._pending[open_span.uid] = open_span.copy()
                self._open_key = key
                due = True
        if not due or not self._pending:
            return False
        return self.flush(mono)

    def flush(self, mono: float) -> bool:
        """Write everything pending; on failure keep it for the next try. Returns success."""
        if not self._pending and not self._spooled:
            return True
        batch = list(self._pending.values())
        try:
            if self._spooled and self.spool is not None:
                replayed = self.spool.replay(self.store.save_spans)  # older spans first
                self._spooled = False
                log.warning("database reachable again; replayed %d spooled spans", replayed)
            self.store.save_spans(self.device_id, self.run_id, batch)
        except StorageError as exc:
            if not self._failing:
                where = "spooling them on disk" if self.spool else "holding them in memory"
                log.error("cannot write spans to the database, %s: %s", where, exc.message)
                self._failing = True
            self._flushed_at = mono  # retry at the next flush period, not every tick
            self._to_spool(batch)
            return False
        if self._failing:
            log.warning("database writable again; wrote %d held spans", len(batch))
            self._failing = False
        self._written(batch)
        self._flushed_at = mono
        return True

    def _written(self, batch: Sequence[Span]) -> None:
        for span in batch:
            if self._pending.get(span.uid) is span:
                del self._pending[span.uid]

    def _to_spool(self, batch: Sequence[Span]) -> None:
        """Move a refused batch from memory to the spool; kept in memory if that fails too."""
        if self.spool is None or not batch:
            return
        try:
            self.spool.put(self.device_id, self.run_id, batch, max(s.end for s in batch))
        except StorageError as exc:
            log.error("%s; holding the spans in memory", exc.message)
            return
        self._spooled = True
        self._written(batch)
