"""Small sums the daemon keeps current for status bars (presence.daemon.glance)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select

from presence.core.model import MAX_SPAN_SECONDS
from presence.store.queries import Queries
from presence.store.schema import spans
from presence.store.tracking import Store, ts


class Totals(Queries):
    """Raises StorageError. Thread: as Store."""

    @classmethod
    def of(cls, store: Store) -> Totals:
        return cls(store.engine)

    def active_seconds(self, device_id: int, start: datetime, end: datetime) -> float:
        """Active seconds of the device's spans clipped to [start, end), summed in SQL."""
        lo, hi = ts(start), ts(end)
        s = spans.c
        clipped = case((s.end_ts > hi, hi), else_=s.end_ts) - case(
            (s.start_ts < lo, lo), else_=s.start_ts
        )
        query = select(func.sum(clipped)).where(
            s.device_id == device_id,
            s.state == "active",
            s.start_ts >= lo - MAX_SPAN_SECONDS,  # spans are at most this long: on the index
            s.start_ts < hi,
            s.end_ts > lo,
        )
        with self._begin() as c:
            return float(c.execute(query).scalar() or 0.0)
