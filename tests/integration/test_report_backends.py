"""The same spans give the same report on SQLite and on a real PostgreSQL (issue 12): the
report's pass reads PostgreSQL through the driver's own server-side cursor (presence.store.
reporting), SQLite through SQLAlchemy and through sqlite3 (presence.store.sqlite_reads); the JSON
reports must be equal."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from presence.core.model import Span, SpanState
from presence.reports import build_report, week_period
from presence.settings.schema import ReportSettings
from presence.store import Store
from presence.store.sqlite_reads import SqliteReads

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")


def household_spans(start: datetime, end: datetime, seed: int) -> list[Span]:
    """Spans of 1-50 minutes with gaps and a mix of recorded offsets (a trip to Tokyo)."""
    rng = random.Random(seed)
    at, spans = start - timedelta(hours=3), []
    while at < end + timedelta(hours=3):
        length = timedelta(seconds=rng.randint(60, 3000))
        state = rng.choice((SpanState.ACTIVE, SpanState.ACTIVE, SpanState.IDLE, SpanState.LOCKED))
        app = None if state is SpanState.LOCKED else rng.choice(["firefox", "Code", "Slack"])
        offset = rng.choice((3600, 3600, 0, 32400))
        site = "example.org" if app == "firefox" else None
        spans.append(Span(at, at + length, app, f"t{rng.randint(0, 4)}", state, offset, site=site))
        at += length + timedelta(seconds=rng.choice([0, 0, 30, 400, 5000]))
    return spans


def test_a_week_reports_the_same_on_sqlite_and_postgresql(pg_url: str, tmp_path: Path) -> None:
    settings = ReportSettings(timezone="Europe/Berlin")
    period = week_period(date(2026, 3, 25), BERLIN, settings)  # spring forward on the 29th
    reports = []
    for url in (f"sqlite:///{tmp_path / 'p.db'}", pg_url):
        store = Store.open(url)
        try:
            for n, name in enumerate(("laptop", "desk")):
                device = store.device(name, "h", datetime.now(UTC))
                store.save_spans(device.id, None, household_spans(period.start, period.end, n))
            report = build_report(
                store, period, ["laptop", "desk"], period.end + timedelta(days=1), settings
            )
            reports.append(report.to_dict())
        finally:
            store.close()
    # the same file read through sqlite3 without SQLAlchemy (`presence today`, issue 13)
    reader = SqliteReads.open(f"sqlite:///{tmp_path / 'p.db'}")
    assert reader is not None
    try:
        found = build_report(
            reader, period, ["laptop", "desk"], period.end + timedelta(days=1), settings
        )
    finally:
        reader.close()
    sqlite, postgresql = reports
    assert sqlite["totals"]["active_seconds"] > 0
    assert postgresql == sqlite
    assert found.to_dict() == sqlite
