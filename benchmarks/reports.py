"""Report speed and memory on a year of synthetic heavy use, through the real CLI.

The history: every day about 14.5 hours at the screen (later and shorter at weekends), a span
every ~25 s on average (window and tab switches among 16 apps, browser titles from a long tail
of pages), idle stretches, a locked lunch, the daemon stopped at night, a pause now and then,
and a daily tech-free rule in the enforcement log. It is written straight into a real SQLite
file (schema from the migrations, rows with executemany) and cached in benchmarks/out/ by
generator version and length, so reruns only time the reports.

Each report runs as `python -m presence report ...` in a subprocess (wall time: median of 5;
peak RSS of the child from wait4), at 1 month and at 1 year of history.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.timing import timed
from presence.store import Store

VERSION = 2
ZONE = ZoneInfo("Europe/Berlin")
LAST_DAY = date(2026, 11, 22)  # a Sunday: the last week is whole
OUT = Path(__file__).parent / "out"
RUNS = 5

# (app, title pattern, distinct titles, weight)
APPS = [
    ("firefox", "{} - Mozilla Firefox", 40000, 30),
    ("firefox", "YouTube - {} - Mozilla Firefox", 3000, 5),
    ("firefox", "reddit: {} - Mozilla Firefox", 2000, 3),
    ("firefox", "GitHub - presence/{} - Mozilla Firefox", 800, 4),
    ("Google-chrome", "{} - Google Chrome", 5000, 6),
    ("Code", "{}.py - presence - Visual Studio Code", 600, 15),
    ("XTerm", "user@laptop: ~/src/{}", 200, 8),
    ("Slack", "{} | Slack", 60, 8),
    ("thunderbird", "Inbox - {} - Mozilla Thunderbird", 300, 5),
    ("libreoffice-calc", "{}.ods - LibreOffice Calc", 50, 3),
    ("Evince", "{}.pdf", 400, 2),
    ("Spotify", "{} - Spotify", 900, 2),
    ("discord", "#{} | Discord", 40, 3),
    ("gimp", "[{}] (imported)-1.0 (RGB color 8-bit gamma integer) - GIMP", 30, 1),
    ("org.gnome.Nautilus", "{}", 200, 2),
    ("steam", "Steam - {}", 20, 1),
]
WEIGHTS = [a[3] for a in APPS]


Row = tuple[str, int, int, float, float, int, str | None, str | None, str, int, int, int, int]
INSERT_SPAN = (
    "INSERT INTO spans (uid, device_id, run_id, start_ts, end_ts, utc_offset, app, title, state,"
    " keys, clicks, scrolls, moves) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _day(
    rng: random.Random, day: date, device: int, run: int, uid: int
) -> tuple[list[Row], float, float]:
    """The spans of one day, and when the daemon started and stopped."""
    weekend = day.weekday() >= 5
    begin = datetime(day.year, day.month, day.day, 9 if weekend else 7, tzinfo=ZONE)
    begin += timedelta(minutes=rng.randint(0, 90))
    length = (11.5 if weekend else 14.5) * 3600 + rng.randint(-1800, 1800)
    at = begin.astimezone(UTC).timestamp()
    end = at + length
    offset = int(begin.utcoffset().total_seconds())  # type: ignore[union-attr]
    lunch = at + 5 * 3600 + rng.randint(0, 3600)
    rows: list[Row] = []

    def add(until: float, app: str | None, title: str | None, state: str, keys: int) -> None:
        uid_hex = f"{uid + len(rows):032x}"
        counts = (keys, keys // 4, keys // 8, keys * 3)
        rows.append((uid_hex, device, run, at, until, offset, app, title, state, *counts))

    while at < end:
        if lunch <= at < lunch + 1800:
            span_end = min(lunch + rng.randint(1500, 2700), at + 3600)
            add(span_end, None, None, "locked", 0)
            at = span_end
            continue
        app, pattern, variety, _ = rng.choices(APPS, WEIGHTS)[0]
        title = pattern.format(f"page {int(rng.paretovariate(0.8)) % variety}")
        dwell = min(600.0, max(1.0, rng.expovariate(1 / 18)))
        add(at + dwell, app, title, "active", int(dwell * rng.uniform(0.2, 3)))
        at += dwell
        if rng.random() < 0.01:  # walked away: idle on the same window
            away = rng.uniform(120, 900)
            add(at + away, app, title, "idle", 0)
            at += away
    return rows, begin.astimezone(UTC).timestamp() - 5, at + 5


def generate(db: Path, days: int, seed: int = 11) -> int:
    """Write `days` days of history ending LAST_DAY into a new database `db`; returns spans."""
    if db.exists():
        db.unlink()
    Store.open(f"sqlite:///{db}").close()
    rng = random.Random(seed)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO devices (name, hostname, created) VALUES ('bench', 'bench', 0)")
    device = 1
    conn.execute(
        "INSERT INTO rules (name, kind, spec, devices, enabled, created, updated, pending_delete)"
        " VALUES ('evenings', 'tech-free', '{}', NULL, 1, 0, 0, 0)"
    )
    total = 0
    first = LAST_DAY - timedelta(days=days - 1)
    for n in range(days):
        day = first + timedelta(days=n)
        run_id = n + 1
        rows, started, stopped = _day(rng, day, device, run_id, total)
        conn.execute(
            "INSERT INTO daemon_runs (id, device_id, started, last_seen, ended, end_reason, pid,"
            " version) VALUES (?, ?, ?, ?, ?, 'stopped', 1, 'bench')",
            (run_id, device, started, stopped, stopped),
        )
        conn.executemany(INSERT_SPAN, rows)
        total += len(rows)
        if rng.random() < 0.1:
            at = rows[len(rows) // 2][3]
            conn.execute(
                "INSERT INTO pauses (device_id, start_ts, until_ts, reason)"
                " VALUES (?, ?, ?, 'call')",
                (device, at, at + 1800),
            )
        window = datetime(day.year, day.month, day.day, 21, tzinfo=ZONE).timestamp()
        outcome = "broken" if rng.random() < 0.3 else "kept"
        used = rng.uniform(0, 30) if outcome == "broken" else 0.0
        events: list[tuple[str, str | None]] = [("start", None)]
        events += [("snooze", None)] * (rng.random() < 0.2)
        events.append((outcome, json.dumps({"minutes_used": used})))
        conn.executemany(
            "INSERT INTO enforcement_log (ts, device_id, rule_id, rule_name, occurrence_start,"
            " occurrence_end, event, detail) VALUES (?, ?, 1, 'evenings', ?, ?, ?, ?)",
            [(window, device, window, window + 3 * 3600, e, d) for e, d in events],
        )
    conn.commit()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return total


def history(days: int) -> tuple[Path, int]:
    """The cached database of `days` days (generated on first use)."""
    OUT.mkdir(exist_ok=True)
    db = OUT / f"reports-v{VERSION}-{days}d.db"
    marker = db.with_suffix(".spans")
    if not (db.exists() and marker.exists()):
        started = time.monotonic()
        spans = generate(db, days)
        marker.write_text(str(spans))
        print(f"   generated {days} days: {spans} spans in {time.monotonic() - started:.0f} s")
    return db, int(marker.read_text())


def _time(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one CLI run."""
    return timed([sys.executable, "-m", "presence", *args], env)


def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    last = LAST_DAY.isoformat()
    reports = {
        "week": ["report", "--week", "--date", last],
        "month": ["report", "--month", "--date", last],
        "year": ["report", "--from", (LAST_DAY - timedelta(days=364)).isoformat(), "--to", last],
    }
    for label, days in (("1 month", 31), ("1 year", 365)):
        db, spans = history(days)
        config = OUT / "reports-config.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{db}"\n[device]\nname = "bench"\n'
            '[reports]\ntimezone = "Europe/Berlin"\n'
        )
        env = {**os.environ, "PRESENCE_CONFIG": str(config)}
        key = label.replace(" ", "")
        figures[f"{key}_spans"] = spans
        for name, args in reports.items():
            for fmt in ("table", "json"):
                runs = [_time([*args, "--format", fmt], env) for _ in range(RUNS)]
                wall = statistics.median(w for w, _ in runs)
                rss = max(r for _, r in runs)
                figures[f"{key}_{name}_{fmt}_s"] = wall
                figures[f"{key}_{name}_{fmt}_rss_mb"] = rss
                print(
                    f"reports ({label} of history, {spans} spans): presence {' '.join(args)} "
                    f"--format {fmt}: {wall:.2f} s (median of {RUNS}), peak RSS {rss:.0f} MB"
                )
    return figures


if __name__ == "__main__":
    run()
