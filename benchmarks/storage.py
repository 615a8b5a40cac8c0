"""Storage per day of heavy use: the real timeline, recorder and SQLite file, a synthetic day.

The day: 14 hours at the screen, switching windows every 5-90 s among 12 apps whose titles
change often (browser tabs, editor files, chats), with idle stretches and a locked lunch. Every
tick goes through the same Timeline and Recorder as the daemon (flush on change and every 10 s).
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from presence.core.clock import FakeClock
from presence.core.model import InputCounts, Observation, WindowInfo
from presence.store import Store
from presence.tracking.recorder import Recorder
from presence.tracking.timeline import Timeline

APPS = [
    ("firefox", "{} - Mozilla Firefox", 400),
    ("code", "{}.py - presence - Visual Studio Code", 120),
    ("xterm", "user@laptop: ~/src/{}", 60),
    ("Slack", "{} | Slack", 40),
    ("thunderbird", "Inbox - {} - Mozilla Thunderbird", 80),
    ("libreoffice", "{}.ods - LibreOffice Calc", 20),
    ("evince", "{}.pdf", 15),
    ("Spotify", "{} - Spotify", 30),
    ("discord", "#{} | Discord", 25),
    ("gimp", "[{}] (imported)-1.0 (RGB color 8-bit gamma integer) - GIMP", 10),
    ("nautilus", "{}", 30),
    ("signal", "Signal ({})", 15),
]


def heavy_day(db: Path, seed: int = 7, stay: tuple[int, int] = (5, 90)) -> tuple[int, int]:
    """Record one synthetic heavy day into `db`; returns (spans, ticks)."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
    clock = FakeClock(start)
    store = Store.open(f"sqlite:///{db}")
    device = store.device("bench", "bench", start)
    run = store.start_run(device.id, 1, "bench", start)
    timeline = Timeline(idle_after=120, gap_after=6)
    recorder = Recorder(store, device.id, run, flush_every=10)
    keys = 0
    last_input = clock.monotonic()
    ticks = 0
    end = start + timedelta(hours=14)
    while clock.now() < end:
        app, pattern, variety = rng.choice(APPS)
        title = pattern.format(f"item {rng.randrange(variety)}")
        dwell = rng.randint(*stay)
        away = rng.random() < 0.03  # now and then the user walks away for a while
        locked = 12 <= (clock.now().hour) < 13 and rng.random() < 0.8
        for _ in range(dwell if not away else rng.randint(150, 900)):
            typing = not away and not locked and rng.random() < 0.7
            if typing:
                keys += rng.randint(1, 6)
                last_input = clock.monotonic()
            obs = Observation(
                wall=clock.now(),
                mono=clock.monotonic(),
                window=WindowInfo(app, title, 1000),
                idle_seconds=clock.monotonic() - last_input,
                counts=InputCounts(keys=keys, moves=keys * 3),
                locked=locked,
                utc_offset=3600,
            )
            recorder.record(timeline.observe(obs), timeline.open, clock.monotonic())
            clock.advance(1)
            ticks += 1
    recorder.record(timeline.close(clock.now()), None, clock.monotonic())
    recorder.flush(clock.monotonic())
    spans = len(store.spans_between(start, end + timedelta(hours=1)))
    store.close()
    return spans, ticks


def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, stay in (("heavy", (5, 90)), ("frantic", (2, 15))):
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "presence.db"
            empty = Path(tmp) / "empty.db"
            Store.open(f"sqlite:///{empty}").close()
            spans, ticks = heavy_day(db, stay=stay)
            with sqlite3.connect(db) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size = db.stat().st_size - empty.stat().st_size
        figures[f"{name}_spans"] = spans
        figures[f"{name}_mb_per_day"] = size / 1e6
        print(
            f"storage ({name}: a window switch every {stay[0]}-{stay[1]} s for 14 h): "
            f"{spans} spans from {ticks} ticks, {size / 1e6:.3f} MB per day (target <= 1 MB)"
        )
    return figures


if __name__ == "__main__":
    run()
