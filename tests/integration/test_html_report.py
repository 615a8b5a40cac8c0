"""The HTML report renders in a real browser: headless Chromium screenshots the file written by
`presence report --html`, and the picture holds the charts (not a blank or broken page)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from presence.core.model import Span, SpanState
from presence.store import Store
from tests.integration.components import require

pytestmark = pytest.mark.integration

ACTIVE_GREEN = (0x16, 0xA3, 0x4A)  # presence.reports.html.ACTIVE: the per-day columns
CATEGORY_PURPLE = (0x7C, 0x3A, 0xED)  # the category bars


def week_of_history(db: Path) -> None:
    rng = random.Random(3)
    store = Store.open(f"sqlite:///{db}")
    device = store.device("laptop", "h", datetime.now(UTC))
    spans = []
    for day in range(14):
        at = datetime(2026, 6, 1, 7, tzinfo=UTC) + timedelta(days=day)
        run = store.start_run(device.id, 1, "t", at)
        for _ in range(60):
            app, title = rng.choice(
                [("firefox", "YouTube"), ("Code", "a.py"), ("Slack", "x"), ("steam", "game")]
            )
            length = timedelta(minutes=rng.randint(1, 20))
            state = SpanState.ACTIVE if rng.random() < 0.8 else SpanState.IDLE
            spans.append(Span(at, at + length, app, title, state))
            at += length
        store.end_run(run, at, "stopped")
    store.save_spans(device.id, None, spans)
    store.close()


def test_html_report_renders_in_chromium(tmp_path: Path) -> None:
    require("chromium")
    db = tmp_path / "presence.db"
    week_of_history(db)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[device]\nname = "laptop"\n'
        '[reports]\ntimezone = "Europe/Berlin"\n'
    )
    page = tmp_path / "report.html"
    env = {**os.environ, "PRESENCE_CONFIG": str(config), "PRESENCE_DATA_DIR": str(tmp_path)}
    subprocess.run(
        [sys.executable, "-m", "presence", "report", "--date", "2026-06-10", "--html", str(page)],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1200,1600",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.exists(), f"no screenshot: {result.stderr[-2000:]}"
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 1600)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None
    counts = {colour: count for count, colour in colours}
    background = max(counts.values())
    assert len(counts) > 50, "the screenshot is (nearly) one colour: a blank page"
    assert background < 0.9 * image.size[0] * image.size[1]
    # The SVG charts were drawn: solid areas in the chart colours.
    assert counts.get(ACTIVE_GREEN, 0) > 2000
    assert counts.get(CATEGORY_PURPLE, 0) > 1000
