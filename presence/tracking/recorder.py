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

A daemon started while the server was away records under an offline run (a negative id the
spool gave it): its run is created on the server by the first replay (`open_run`, from the
composition root) and `run_id` becomes the server's id from then on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from presence.core.errors import StorageError
from presence.core.model import Span, SpanState
from presence.store import Store
from presence.store.spool import OpenRun, Spool

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
        open_run: OpenRun | None = None,
    ) -> None:
        """`run_id` is negative for an offline run (then `spool` and `open_run` are needed)."""
        self.store = store
        self.spool = spool
        self.open_run = open_run
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
        if not self._pending and not self._spooled and self.run_id >= 0:
            return True
        batch = list(self._pending.values())
        try:
            if (self._spooled or self.run_id < 0) and self.spool is not None:
                # older spans first; an offline run is created on the server first
                replayed = self.spool.replay(self.store.save_spans, self.open_run)
                self._spooled = False
                if self.run_id < 0 and self.run_id in self.spool.opened:
                    self.run_id = self.spool.opened[self.run_id]
                    log.warning("database reachable: this daemon's run is %d", self.run_id)
                log.warning("database reachable again; replayed %d spooled spans", replayed)
            if self.run_id < 0:  # not created: keep spooling under the offline run
                raise StorageError("this daemon's run is not on the database yet")
            self.store.save_spans(self.device_id, self.run_id, batch)
        except StorageError as exc:
            if not self._failing:
                where = "spooling spans on disk" if self.spool else "holding spans in memory"
                log.error("cannot write to the database, %s: %s", where, exc.message)
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

    def end_run(self, now: datetime, reason: str) -> None:
        """Close this daemon's run: on the database, or in the spool for an offline run (then
        it is created and closed on replay). Raises StorageError."""
        if self.run_id < 0 and self.spool is not None:
            self.spool.end_run(self.run_id, now, reason)
        else:
            self.store.end_run(self.run_id, now, reason)

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
