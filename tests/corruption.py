"""Real SQLite databases written by presence.store.Store, then damaged on purpose.

Three kinds of damage, as disks and crashes do it: garbage over one page in the middle,
a file cut short, and garbage over the 100-byte header.
"""

from __future__ import annotations

import os
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from presence.core.model import InputCounts, Span, SpanState
from presence.store import Store

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
TABLE_LEAF = 0x0D  # SQLite b-tree page type: a table's leaf page (rows live there)


def make_database(path: Path, count: int, device: str = "laptop") -> list[Span]:
    """A database of `count` spans of one device and run; returns them in rowid order.

    The store is closed, so the WAL is checkpointed into the file and removed: damage to
    the file is then damage to all the data.
    """
    store = Store.open(f"sqlite:///{path}")
    try:
        dev = store.device(device, "host", T0)
        run = store.start_run(dev.id, 4242, "test", T0)
        spans = [
            Span(
                start=T0 + timedelta(seconds=10 * i),
                end=T0 + timedelta(seconds=10 * i + 10),
                app=f"app{i % 7}",
                title=f"window number {i} of the test",
                state=SpanState.ACTIVE if i % 5 else SpanState.IDLE,
                utc_offset=7200,
                counts=InputCounts(i, i % 3, 0, 2 * i),
            )
            for i in range(count)
        ]
        for first in range(0, count, 500):
            store.save_spans(dev.id, run, spans[first : first + 500])
    finally:
        store.close()
    assert not Path(f"{path}-wal").exists()
    return spans


def page_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    conn.close()
    return size


def garble_span_page(path: Path, spans: list[Span]) -> int:
    """Overwrite one leaf page of the spans table, past the middle of the file, with random
    bytes. Returns the page number. The page is recognised by the span uids it holds."""
    data = path.read_bytes()
    size = page_size(path)
    uids = [s.uid.encode() for s in spans]
    for number in range(len(data) // size // 2, len(data) // size):
        page = data[number * size : (number + 1) * size]
        if page[0] == TABLE_LEAF and any(uid in page for uid in uids):
            with path.open("r+b") as f:
                f.seek(number * size)
                f.write(random.Random(number).randbytes(size))
            return number
    raise AssertionError("no leaf page of spans found past the middle of the file")


def truncate_half(path: Path) -> None:
    """Cut the file at a page boundary near its middle, as a crash mid-copy would."""
    size = page_size(path)
    os.truncate(path, path.stat().st_size // size // 2 * size)


def garble_header(path: Path) -> None:
    """Overwrite the 100-byte file header (magic string, page size, counters) with garbage."""
    with path.open("r+b") as f:
        f.write(random.Random(7).randbytes(100))
