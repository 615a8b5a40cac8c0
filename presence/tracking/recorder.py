"""Writing spans: closed spans at once, the open span on change and at least every flush period.

Spans are keyed by uid: the timeline may hand back a span it closed earlier with a new end or
state (idle noticed after focus moved on), and the store upserts by uid, so the row is
rewritten. The open span is written at once when it is new or changed state in place.

When the database refuses a write (disk full, locked too long, unreachable), the spans are
held in memory and retried on the next tick; nothing is dropped and the daemon keeps sampling.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from presence.core.errors import StorageError
from presence.core.model import Span, SpanState
from presence.store import Store

log = logging.getLogger(__name__)


class Recorder:
    """Owns what has been written. Sampler thread only."""

    def __init__(self, store: Store, device_id: int, run_id: int, flush_every: float) -> None:
        self.store = store
        self.device_id = device_id
        self.run_id = run_id
        self.flush_every = flush_every
        self._pending: dict[str, Span] = {}
        self._open_key: tuple[str, SpanState] | None = None
        self._flushed_at = float("-inf")
        self._failing = False

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
        if not self._pending:
            return True
        batch = list(self._pending.values())
        try:
            self.store.save_spans(self.device_id, self.run_id, batch)
        except StorageError as exc:
            if not self._failing:
                log.error("cannot write to the database, holding spans in memory: %s", exc.message)
                self._failing = True
            self._flushed_at = mono  # retry at the next flush period, not every tick
            return False
        if self._failing:
            log.warning("database writable again; wrote %d held spans", len(batch))
            self._failing = False
        for span in batch:
            if self._pending.get(span.uid) is span:
                del self._pending[span.uid]
        self._flushed_at = mono
        return True
