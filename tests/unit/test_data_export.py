"""`presence export` (JSON and CSV, parsed back) and `presence data forget` through the real
entry point, on a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presence.core.errors import ExitCode
from presence.core.model import Span, SpanState
from presence.settings.files import Paths, database_url
from presence.settings.schema import Settings
from presence.store import RuleStore, Store
from tests.unit.entry_point import run_presence

DAY1 = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
DAY2 = datetime(2026, 6, 12, 10, 0, tzinfo=UTC)


cli = run_presence


@pytest.fixture
def store(private_home: Path) -> Store:
    settings = Settings()
    store = Store.open(database_url(settings, Paths.resolve()))
    device = store.device(settings.device.name, "h", DAY1)
    run = store.start_run(device.id, 42, "0.1.0", DAY1)
    spans = [
        Span(DAY1, DAY1 + timedelta(minutes=30), "Firefox", "a page", SpanState.ACTIVE),
        Span(DAY1 + timedelta(minutes=30), DAY1 + timedelta(hours=1), "foot", "", SpanState.IDLE),
        Span(DAY2, DAY2 + timedelta(minutes=10), "firefox", "b page", SpanState.ACTIVE),
    ]  # fmt: skip
    store.save_spans(device.id, run, spans[:2])
    store.save_spans(device.id, None, spans[2:])
    store.end_run(run, DAY1 + timedelta(hours=1), "stopped")
    store.add_pause(device.id, DAY1 + timedelta(hours=2), DAY1 + timedelta(hours=3), "lunch")
    RuleStore(store).log(
        DAY1 + timedelta(minutes=5), "evening", "snooze", detail={"reason": "call"},
        device_id=device.id,
    )  # fmt: skip
    return store


def test_export_json_has_every_record(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(capsys, monkeypatch, "export", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["schema"] == 1 and data["devices"] == [Settings().device.name]
    assert [s["app"] for s in data["spans"]] == ["Firefox", "foot", "firefox"]
    assert data["spans"][0]["start"] == DAY1.isoformat() and data["spans"][0]["state"] == "active"
    assert data["runs"][0]["end_reason"] == "stopped" and data["runs"][0]["pid"] == 42
    assert data["pauses"][0]["reason"] == "lunch"
    assert data["enforcement"][0]["detail"] == {"reason": "call"}
    # --from/--to are report days (cut at 04:00 local, UTC here): only the 12th
    code, out, _ = cli(capsys, monkeypatch, "export", "--from", "2026-06-12", "--to", "2026-06-12")
    data = json.loads(out)
    assert [s["app"] for s in data["spans"]] == ["firefox"] and data["runs"] == []


def test_export_csv_rows(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(capsys, monkeypatch, "export", "-f", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted({r["record"] for r in rows}) == ["enforcement", "pause", "run", "span"]
    spans = [r for r in rows if r["record"] == "span"]
    assert [(s["app"], s["state"]) for s in spans] == [
        ("Firefox", "active"), ("foot", "idle"), ("firefox", "active"),
    ]  # fmt: skip
    event = next(r for r in rows if r["record"] == "enforcement")
    assert event["rule"] == "evening" and json.loads(event["detail"]) == {"reason": "call"}


def test_export_bad_dates_are_input_errors(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = cli(capsys, monkeypatch, "export", "--from", "2026-06-12", "--to", "2026-06-10")
    assert code == ExitCode.INPUT and "before --from" in err


def test_forget_an_app_asks_first(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, out, _ = cli(capsys, monkeypatch, "data", "forget", "--app", "FIREFOX")
    assert code == 0 and "2 spans" in out and "Nothing deleted." in out
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no answer at all
    code, _, err = cli(capsys, monkeypatch, "data", "forget", "--app", "FIREFOX")
    assert code == ExitCode.INPUT and "not confirmed" in err and "--yes" in err
    code, out, _ = cli(capsys, monkeypatch, "data", "forget", "--app", "FIREFOX", "--yes")
    assert code == 0 and "Removed 2 spans." in out
    code, out, _ = cli(capsys, monkeypatch, "export")
    assert [s["app"] for s in json.loads(out)["spans"]] == ["foot"]


def test_forget_before_a_day(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(capsys, monkeypatch, "data", "forget", "--before", "2026-06-11", "--yes")
    assert code == 0
    assert out.strip() == "Removed 2 spans, 1 daemon runs, 1 pauses, 1 enforcement events."
    data = json.loads(cli(capsys, monkeypatch, "export")[1])
    assert [s["app"] for s in data["spans"]] == ["firefox"]
    assert data["runs"] == data["pauses"] == data["enforcement"] == []
    code, _, err = cli(capsys, monkeypatch, "data", "forget")
    assert code == ExitCode.INPUT and "--app NAME or --before DATE" in err
