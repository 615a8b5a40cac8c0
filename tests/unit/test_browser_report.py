"""`presence report --by site` (issue 14): top sites with their change, categories matched on
domains with the usual precedence, the sites in JSON, CSV and the HTML file."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presence.core.model import Span, SpanState
from presence.settings.files import Paths, database_url
from presence.settings.schema import Settings
from presence.store import Store
from presence.tracking.categories import Categorizer, builtin_rules
from tests.unit.test_cli import cli, home

__all__ = ["home"]


def span(start: datetime, minutes: int, site: str | None, title: str = "a tab") -> Span:
    out = Span(start, start + timedelta(minutes=minutes), "Chromium", title, SpanState.ACTIVE)
    out.site = site
    return out


@pytest.fixture
def browsing(home: Path) -> Path:
    """June 9th 2026: 10 min youtube.com, 20 min github.com; June 10th: 30 min youtube.com,
    5 min github.com, 15 min of a page with no site (e.g. the new-tab page)."""
    config = home / "cfg" / "presence" / "config.toml"
    config.parent.mkdir()
    config.write_text('[reports]\ntimezone = "UTC"\n[device]\nname = "laptop"\n')
    store = Store.open(database_url(Settings(), Paths.resolve()))
    device = store.device("laptop", "h", datetime.now(UTC))
    day9 = datetime(2026, 6, 9, 10, tzinfo=UTC)
    day10 = day9 + timedelta(days=1)
    store.save_spans(
        device.id,
        None,
        [
            span(day9, 10, "youtube.com"),
            span(day9 + timedelta(minutes=10), 20, "github.com"),
            span(day10, 30, "youtube.com"),
            span(day10 + timedelta(minutes=30), 5, "github.com"),
            span(day10 + timedelta(minutes=35), 15, None, "New Tab"),
        ],
    )
    store.close()
    return config


def test_domains_get_categories_by_the_title_rules() -> None:
    categories = Categorizer(builtin_rules())
    assert categories.categorize("Chromium", "a tab", "youtube.com") == "media"
    assert categories.categorize("Chromium", None, "reddit.com") == "social"
    assert categories.categorize("Chromium", "a tab", "github.com") == "development"
    assert categories.categorize("Chromium", "a tab", "example.org") == "browsers"
    assert categories.categorize("Chromium", "a tab") == "browsers"


def test_report_by_site_as_json(
    browsing: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(
        capsys, monkeypatch, "report", "--day", "--date", "2026-06-10", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    sites = [
        (s["site"], s["category"], s["active_seconds"], s["change_seconds"]) for s in data["sites"]
    ]
    assert sites == [
        ("youtube.com", "media", 1800.0, 1200.0),
        ("github.com", "development", 300.0, -900.0),
    ]
    media = next(c for c in data["categories"] if c["category"] == "media")
    assert media["active_seconds"] == 1800.0  # the site made the tab media


def test_report_by_site_as_table_and_csv(
    browsing: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = cli(
        capsys, monkeypatch, "report", "--day", "--date", "2026-06-10", "--by", "site"
    )
    assert code == 0 and not err
    lines = [line for line in out.splitlines() if "youtube.com" in line or "github.com" in line]
    assert "youtube.com" in lines[0] and "media" in lines[0] and "30m" in lines[0]
    assert "github.com" in lines[1]
    args = ("report", "--day", "--date", "2026-06-10", "--by", "site", "--format", "csv")
    code, out, _ = cli(capsys, monkeypatch, *args)
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == [
        "period_start",
        "period_end",
        "site",
        "category",
        "active_seconds",
        "idle_seconds",
    ]
    assert [r[2:5] for r in rows[1:]] == [
        ["youtube.com", "media", "1800.000"],
        ["github.com", "development", "300.000"],
    ]


def test_the_html_report_has_a_sites_section(
    browsing: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    page = tmp_path / "r.html"
    code, _, _ = cli(
        capsys, monkeypatch, "report", "--day", "--date", "2026-06-10", "--html", str(page)
    )
    assert code == 0
    html = page.read_text()
    assert "<h2>Sites</h2>" in html and "youtube.com" in html
