"""The ActivityWatch import's fast paths (issue 13) against the plain datetime arithmetic they
replace: microseconds, instants, UTC offsets, and whole imports of a small peewee-shaped
database (random events across a DST change) compared span by span with a reference merge."""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from presence.core.errors import InputError
from presence.core.model import WindowInfo
from presence.settings.schema import PrivacySettings
from presence.store import Store
from presence.store.activitywatch import AwSource, SpanWriter, instant, micros
from presence.tracking.aw_import import ZoneOffsets, run_import
from presence.tracking.privacy import Redactor

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # Berlin springs forward at 01:00 UTC on the 29th
ONE_US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOST, WINDOW_KEY, AFK_KEY = "laptop", "aw-watcher-window_laptop", "aw-watcher-afk_laptop"

Event = tuple[datetime, float, dict[str, str]]
Row = tuple[str, float, float, int, str, str | None, str]


def test_micros_is_timedeltas_rounding() -> None:
    rng = random.Random(13)
    values = [0.0, 1e-6, 5e-7, 1.5e-6, 2.5e-6, 0.1234565, 3600.0, 17.132603, 86399.9999995]
    values += [rng.uniform(0, 10) for _ in range(2000)]
    values += [rng.uniform(0, 1e6) for _ in range(2000)]
    values += [round(rng.uniform(0, 100), 7) for _ in range(2000)]  # many exact halves
    for seconds in values:
        assert micros(seconds) == timedelta(seconds=seconds) // ONE_US, seconds


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-15 08:57:10.821000+00:00",
        "2026-11-15 08:57:00+00:00",
        "2026-11-15T08:57:10.821Z",
        "2026-11-15T09:57:10.821+01:00",
        "2026-11-15T08:57:10.821",
    ],
)
def test_instant_is_microseconds_since_the_epoch(text: str) -> None:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    assert instant(text) == (when - EPOCH) // ONE_US
    assert instant(text) / 1_000_000 == when.timestamp()


@pytest.mark.parametrize(
    ("zone", "around"),
    [
        (BERLIN, datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        (BERLIN, datetime(2026, 10, 25, 1, 0, tzinfo=UTC)),
        # a change of 30 minutes, at 15:00 and (inside an hour of UTC) at 15:30 UTC
        (ZoneInfo("Australia/Lord_Howe"), datetime(2026, 4, 4, 15, 0, tzinfo=UTC)),
        (ZoneInfo("Australia/Lord_Howe"), datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),
        (UTC, datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    ],
)
def test_offsets_match_astimezone_across_a_change(zone: tzinfo, around: datetime) -> None:
    offsets = ZoneOffsets(zone)
    for step in range(-180, 180):
        when = around + timedelta(minutes=step, microseconds=step % 7)
        exact = when.astimezone(zone).utcoffset() or timedelta(0)
        assert offsets.at((when - EPOCH) // ONE_US) == int(exact.total_seconds()), when


def _history(rng: random.Random) -> tuple[list[Event], list[Event]]:
    """Window and AFK events over seven hours across the DST change, as a watcher leaves them:
    gaps, overlaps, empty and negative events, a window of more than an hour."""
    windows: list[Event] = []
    afks: list[Event] = []
    t = T0
    for i in range(300):
        seconds = rng.choice([0.0, -1.0, 4000.5, *(rng.uniform(0.2, 90) for _ in range(8))])
        app = rng.choice(["firefox", "Code", "KeePassXC", "Slack"])
        title = rng.choice(["a", "Private Browsing", f"doc {i % 7}", "page 3"])
        windows.append((t, seconds, {"app": app, "title": title}))
        t += timedelta(seconds=max(seconds, 0) + rng.choice([0, 0, 0.5, -2.0]))
    t = T0 - timedelta(minutes=5)
    while t < windows[-1][0] + timedelta(hours=2):
        seconds = rng.choice([rng.uniform(30, 1500), rng.uniform(30, 1500), 5000.25])
        afks.append((t, seconds, {"status": rng.choice(["afk", "not-afk", "not-afk"])}))
        t += timedelta(seconds=seconds + rng.choice([0, 0, 20.0, -10.0]))
    return windows, afks


def _aw_database(path: Path, windows: list[Event], afks: list[Event]) -> Path:
    """A file shaped like aw-server's peewee-sqlite.v2.db (the columns the import reads)."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE bucketmodel (key INTEGER PRIMARY KEY, id TEXT, type TEXT, "
               "hostname TEXT)")  # fmt: skip
    db.execute("CREATE TABLE eventmodel (id INTEGER PRIMARY KEY, bucket_id INTEGER, "
               "timestamp TEXT, duration REAL, datastr TEXT)")  # fmt: skip
    db.execute("INSERT INTO bucketmodel VALUES (1, ?, 'currentwindow', ?)", (WINDOW_KEY, HOST))
    db.execute("INSERT INTO bucketmodel VALUES (2, ?, 'afkstatus', ?)", (AFK_KEY, HOST))
    for bucket, events in ((1, windows), (2, afks)):
        db.executemany(
            "INSERT INTO eventmodel (bucket_id, timestamp, duration, datastr) VALUES (?,?,?,?)",
            [(bucket, str(when), seconds, json.dumps(data)) for when, seconds, data in events],
        )
    db.commit()
    db.close()
    return path


def _reference(windows: list[Event], afks: list[Event], redactor: Redactor) -> set[Row]:
    """The import as it was first written, with datetimes throughout (ids: insertion order)."""
    rows: set[Row] = set()
    w_events = sorted(((i + 1, *w) for i, w in enumerate(windows)), key=lambda e: e[1])
    a_events = [(len(windows) + i + 1, *a) for i, a in enumerate(afks)]
    for wid, w_start, w_seconds, data in w_events:
        w_end = w_start + timedelta(seconds=max(0.0, w_seconds))
        kept = redactor.apply(WindowInfo(data["app"], data["title"]))
        assert kept is not None
        for aid, a_start, a_seconds, a_data in a_events:
            a_end = a_start + timedelta(seconds=max(0.0, a_seconds))
            lo, hi = max(w_start, a_start), min(w_end, a_end)
            piece = 0
            while lo < hi:
                cut = min(hi, lo + timedelta(hours=1))
                key = f"aw|{HOST}|{WINDOW_KEY}|{wid}|{AFK_KEY}|{aid}|{piece}"
                uid = hashlib.sha256(key.encode()).hexdigest()[:32]
                offset = int((lo.astimezone(BERLIN).utcoffset() or timedelta(0)).total_seconds())
                state = "idle" if a_data["status"] == "afk" else "active"
                rows.add(
                    (uid, lo.timestamp(), cut.timestamp(), offset, kept.app, kept.title, state)
                )
                lo, piece = cut, piece + 1
    return rows


def _imported(store: Store) -> set[Row]:
    with sqlite3.connect(store.engine.url.database or "") as db:
        return set(
            db.execute("SELECT uid, start_ts, end_ts, utc_offset, app, title, state FROM spans")
        )


def test_import_equals_the_reference_merge_and_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    windows, afks = _history(random.Random(7))
    source = AwSource(_aw_database(tmp_path / "aw.db", windows, afks))
    redactor = Redactor(PrivacySettings(exclude_apps=["slack"], redact_titles=["page 3"]), b"k")
    store = Store.open(f"sqlite:///{tmp_path / 'presence.db'}")
    monkeypatch.setattr(SpanWriter, "CHUNK", 7)  # many chunks,
    monkeypatch.setattr(SpanWriter, "COMMIT_ROWS", 50)  # and several transactions
    now = datetime(2026, 4, 1, tzinfo=UTC)
    expected = _reference(windows, afks, redactor)
    assert any(r[4] == "[excluded]" for r in expected)
    assert any(r[2] - r[1] == 3600 for r in expected)  # a window cut at the hour
    assert {r[3] for r in expected} == {3600, 7200}  # both sides of the change

    hosts, notes = run_import(source, store, BERLIN, redactor, now)
    assert notes == [] and hosts[0].spans == len(expected)
    assert _imported(store) == expected
    active = sum(r[2] - r[1] for r in expected if r[6] == "active")
    assert hosts[0].active_seconds == pytest.approx(active)

    again, _ = run_import(source, store, BERLIN, redactor, now)
    assert again[0].spans == len(expected) and _imported(store) == expected
    dry, _ = run_import(source, None, BERLIN, redactor, now)
    assert (dry[0].spans, dry[0].active_seconds) == (hosts[0].spans, hosts[0].active_seconds)
    source.close()
    store.close()


def test_damaged_event_data_is_a_clear_error(tmp_path: Path) -> None:
    when = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    path = _aw_database(tmp_path / "aw.db", [(when, 5.0, {"app": "x"})], [])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE eventmodel SET datastr = '{\"app\": ' WHERE bucket_id = 1")
    source = AwSource(path)
    redactor = Redactor(PrivacySettings())
    with pytest.raises(InputError, match=r"event 1 of bucket aw-watcher-window_laptop is damaged"):
        run_import(source, None, UTC, redactor, when)
    source.close()

    export = tmp_path / "export.json"
    bucket = {"type": "currentwindow", "hostname": HOST, "events": [{"duration": 5.0}]}
    afk = {"type": "afkstatus", "hostname": HOST, "events": []}
    export.write_text(json.dumps({"buckets": {WINDOW_KEY: bucket, AFK_KEY: afk}}))
    with pytest.raises(InputError, match=r"event 1 of bucket .* is damaged \(no 'timestamp'\)"):
        run_import(AwSource(export), None, UTC, redactor, when)
