"""`presence report`, `trends` and `categories` through the real entry point: periods, --by,
formats, the HTML file, and errors that name the option."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presence.core.errors import ExitCode
from presence.core.model import Span, SpanState
from presence.settings.files import Paths, database_url
from presence.settings.schema import Settings
from presence.store import Store
from tests.unit.test_cli import cli, home

__all__ = ["home"]  # the fixture, shared with test_cli

DAILY_ACTIVE = 50 * 60


@pytest.fixture
def history(home: Path) -> Path:
    """June 1st to 14th 2026 (Monday to Sunday, twice): each day at 12:00 in Berlin, 30 min of
    YouTube in firefox, 20 min of Code, then 10 min idle."""
    config = home / "cfg" / "presence" / "config.toml"
    config.parent.mkdir()
    config.write_text('[reports]\ntimezone = "Europe/Berlin"\n[device]\nname = "laptop"\n')
    store = Store.open(database_url(Settings(), Paths.resolve()))
    device = store.device("laptop", "h", datetime.now(UTC))
    spans = []
    for n in range(14):
        noon = datetime(2026, 6, 1, 10, tzinfo=UTC) + timedelta(days=n)

        def at(minutes: int, base: datetime = noon) -> datetime:
            return base + timedelta(minutes=minutes)

        spans += [
            Span(at(0), at(30), "firefox", "YouTube", SpanState.ACTIVE),
            Span(at(30), at(50), "Code", "a.py", SpanState.ACTIVE),
            Span(at(50), at(60), "Code", "a.py", SpanState.IDLE),
        ]
    store.save_spans(device.id, None, spans)
    store.close()
    return config


Run = tuple[int, str, str]


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> Run:
    return cli(capsys, monkeypatch, *args)


def test_week_json_is_complete(
    history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, "report", "--date", "2026-06-10", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["period"]["kind"] == "week" and data["period"]["days"] == 7
    assert data["period"]["timezone"] == "Europe/Berlin"
    assert data["totals"]["active_seconds"] == 7 * DAILY_ACTIVE
    assert data["previous"]["totals"]["active_seconds"] == 7 * DAILY_ACTIVE
    assert data["change"] == {
        "active_seconds": 0,
        "active_ratio": 0.0,
        "idle_seconds": 0,
        "locked_seconds": 0,
    }
    assert [c["category"] for c in data["categories"]] == ["media", "development"]
    assert [d["active_seconds"] for d in data["days"]] == [DAILY_ACTIVE] * 7
    assert data["heatmap"]["weekdays"][0] == "monday"
    assert data["heatmap"]["active_seconds"][2][12] == DAILY_ACTIVE  # Wednesday, 12:00
    assert data["hourly_active_seconds"][12] == 7 * DAILY_ACTIVE
    assert data["sessions"]["count"] == 7
    assert data["switches"]["count"] == 7
    assert set(data) >= {"adherence", "not_recording", "apps_detail"}


def test_month_and_range(
    history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(
        capsys, monkeypatch, "report", "--month", "--date", "2026-06-10", "-f", "json"
    )
    data = json.loads(out)
    assert code == 0 and data["period"]["kind"] == "month" and len(data["days"]) == 30
    assert data["totals"]["active_seconds"] == 14 * DAILY_ACTIVE
    assert data["previous"]["period"]["label"].startswith("2026-05")
    code, out, _ = run(
        capsys,
        monkeypatch,
        *("report", "--from", "2026-06-05", "--to", "2026-06-06", "--by", "day", "-f", "csv"),
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0
    assert rows[0] == ["date", "start", "end", "active_seconds", "idle_seconds", "locked_seconds"]
    assert [r[0] for r in rows[1:]] == ["2026-06-05", "2026-06-06"]
    assert rows[1][1] == "2026-06-05T04:00:00+02:00"
    assert float(rows[1][3]) == DAILY_ACTIVE


@pytest.mark.parametrize(
    ("by", "header", "rows"),
    [
        ("app", ["period_start", "period_end", "app", "active_seconds", "idle_seconds"], 2),
        (
            "category",
            ["period_start", "period_end", "category", "active_seconds", "idle_seconds"],
            2,
        ),
        ("hour", ["period_start", "period_end", "weekday", "hour", "active_seconds"], 168),
    ],
)
def test_csv_by(
    history: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    by: str,
    header: list[str],
    rows: int,
) -> None:
    code, out, _ = run(
        capsys, monkeypatch, "report", "--date", "2026-06-10", "--by", by, "--format", "csv"
    )
    found = list(csv.reader(io.StringIO(out)))
    assert code == 0 and found[0] == header and len(found) == rows + 1


@pytest.mark.parametrize("by", ["", "app", "category", "day", "hour"])
def test_tables(
    history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    args = ["report", "--date", "2026-06-10"] + (["--by", by] if by else [])
    code, out, err = run(capsys, monkeypatch, *args)
    assert code == 0 and not err
    assert "week of 2026-06-08" in out and "active 5h 50m" in out
    expected = {"": "Categories", "app": "firefox", "category": "media", "day": "Wed 06-10"}
    assert expected.get(by, "Wed") in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--day", "--week"], ["--day and --week"]),
        (["--month", "--from", "2026-06-01"], ["--month", "--from"]),
        (["--to", "2026-06-01"], ["--to needs --from"]),
        (["--from", "2026-06-10", "--to", "2026-06-01"], ["before --from"]),
        (["--from", "2026-06-01", "--date", "2026-06-02"], ["--date and --from"]),
        (["--from", "June"], ["--from", "YYYY-MM-DD"]),
    ],
)
def test_bad_periods_are_input_errors(
    home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    words: list[str],
) -> None:
    code, out, err = run(capsys, monkeypatch, "report", *args)
    assert code == ExitCode.INPUT, err
    for word in words:
        assert word in err
    assert "hint:" in err and "Traceback" not in err + out


def test_html_file(
    history: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "week.html"
    code, out, err = run(
        capsys, monkeypatch, "report", "--date", "2026-06-10", "--html", str(target)
    )
    assert code == 0 and out == "" and str(target) in err
    page = target.read_text()
    assert page.startswith("<!doctype html>") and page.count("<svg") == 4
    assert "<script" not in page and "http://" not in page.replace(
        '"http://www.w3.org/2000/svg"', ""
    )
    code, _, err = run(
        capsys, monkeypatch, "report", "--html", str(tmp_path / "missing" / "x.html")
    )
    assert code == ExitCode.INPUT and "--html" in err


def test_trends(
    history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(
        capsys, monkeypatch, "trends", "--weeks", "3", "--date", "2026-06-14", "-f", "json"
    )
    data = json.loads(out)
    assert code == 0
    assert [w["active_seconds"] for w in data["weeks"]] == [0, 7 * DAILY_ACTIVE, 7 * DAILY_ACTIVE]
    assert data["weeks"][1]["change_ratio"] is None and data["weeks"][2]["change_ratio"] == 0
    assert data["categories"] == ["media", "development"]
    assert data["weeks"][2]["categories"] == {"media": 7 * 1800, "development": 7 * 1200}
    code, out, _ = run(capsys, monkeypatch, "trends", "--weeks", "3", "--date", "2026-06-14")
    assert code == 0 and "2026-06-08" in out and "media" in out
    code, out, _ = run(
        capsys, monkeypatch, "trends", "-n", "2", "--date", "2026-06-14", "-f", "csv"
    )
    assert out.splitlines()[0].endswith("category:media,category:development")
    assert len(out.splitlines()) == 3


def test_categories_commands(
    history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, "categories", "add", "fun", "--title", "youtube")
    assert code == 0 and "fun" in out
    code, out, _ = run(capsys, monkeypatch, "categories", "test", "firefox", "YouTube - Mozilla")
    assert code == 0 and out.splitlines()[0] == "fun"
    assert "media" in out  # the built-in rule, listed after the winner
    code, out, _ = run(capsys, monkeypatch, "categories", "list", "--json")
    assert json.loads(out)["rules"][0] == {
        "name": "fun",
        "app": None,
        "title": "youtube",
        "looks_at": "title",
        "source": "user",
    }
    code, out, _ = run(capsys, monkeypatch, "report", "--date", "2026-06-10", "-f", "json")
    assert json.loads(out)["categories"][0]["category"] == "fun"
    code, out, _ = run(capsys, monkeypatch, "categories", "remove", "fun")
    assert code == 0 and "Removed 1 rule" in out
    code, _, err = run(capsys, monkeypatch, "categories", "add", "x", "--app", "(")
    assert code == ExitCode.INPUT and "--app" in err
    code, out, _ = run(capsys, monkeypatch, "categories", "list")
    assert code == 0 and "browsers" in out


def test_today_is_the_day_report(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, "today")
    assert code == 0 and "No activity recorded" in out
    code, out, _ = run(capsys, monkeypatch, "today", "--format", "json")
    assert json.loads(out)["period"]["kind"] == "day"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["report", "--device", "phone"], ["--device 'phone'", "laptop"]),
        (["trends", "--weeks", "1"], ["--weeks 1"]),
    ],
)
def test_bad_device_and_weeks(
    history: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    words: list[str],
) -> None:
    code, _, err = run(capsys, monkeypatch, *args)
    assert code == ExitCode.INPUT
    for word in words:
        assert word in err


def test_all_devices(
    history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(
        capsys, monkeypatch, "report", "--device", "all", "--date", "2026-06-10", "-f", "json"
    )
    assert code == 0 and json.loads(out)["devices"] == ["laptop"]
