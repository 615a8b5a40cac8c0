"""Site rules without the browser extension (issue 14): the focused browser window's title
stands in for the site, and the rule's desktop action applies to the browser."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presence.enforce.sites import title_sites
from presence.install import browser
from presence.rules.engine import Context, EngineState, Step, evaluate
from presence.rules.model import parse_rule
from presence.tracking.sites import BrowserReport, BrowserReports, title_shows, write_report

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday, inside 09:00-11:30 UTC
FOCUS = {"days": "daily", "start": "09:00", "end": "11:30", "grace": "0s", "warn": ""}


@pytest.mark.parametrize(
    ("title", "site", "shown"),
    [
        ("YouTube - video - Chromium", "youtube.com", True),
        ("cats | youtube", "youtube.com", True),
        ("Reading youtube.com/watch", "youtube.com", True),
        ("BBC News - Home", "bbc.co.uk", True),
        ("MyYouTubeNotes - Chromium", "youtube.com", False),  # not at a word start
        ("Reddit - front page", "youtube.com", False),
        (None, "youtube.com", False),
        ("", "youtube.com", False),
    ],
)
def test_a_title_shows_a_site_by_its_name(title: str | None, site: str, shown: bool) -> None:
    assert title_shows(title, site) is shown


def test_the_extension_covers_a_browser_only_while_its_host_runs_and_it_reports(
    tmp_path: Path,
) -> None:
    reports = BrowserReports(tmp_path)
    now = time.time()
    assert not reports.covers("chromium", now)  # never reported: no extension
    assert not reports.covers("xterm", now)  # not a browser
    write_report(tmp_path, BrowserReport("chromium", os.getpid(), now - 60, True, True, "a.test"))
    assert reports.covers("Chromium", now)  # it reports the focused window
    write_report(tmp_path, BrowserReport("chromium", os.getpid(), now - 1, True, False))
    assert reports.covers("chromium", now)  # just spoke: its focus report may trail the WM's
    write_report(tmp_path, BrowserReport("chromium", os.getpid(), now - 60, True, False))
    assert not reports.covers("chromium", now)  # a window it does not see (a private one)
    write_report(tmp_path, BrowserReport("chromium", 2**22 + 7, now, True, True, "a.test"))
    assert not reports.covers("chromium", now)  # its host is gone
    (tmp_path / "browser" / "chromium.json").unlink()
    assert not reports.covers("chromium", now)


def test_title_sites_only_where_the_extension_does_not_see_the_browser() -> None:
    rules = [
        parse_rule("deep", "focus", {**FOCUS, "sites": "youtube.com,reddit.com"}),
        parse_rule("other", "focus", {**FOCUS, "apps": "slack"}),
    ]
    title = "YouTube - cats - Chromium"
    assert title_sites("chromium", title, rules, None, 0.0) == {"youtube.com"}
    assert title_sites("chromium", title, rules, lambda app, now: False, 0.0) == {"youtube.com"}
    assert title_sites("chromium", title, rules, lambda app, now: True, 0.0) == frozenset()
    assert title_sites("xterm", title, rules, None, 0.0) == frozenset()  # not a browser
    assert title_sites("chromium", None, rules, None, 0.0) == frozenset()


def _acts(context: Context, rule_fields: dict[str, str]) -> list[str | None]:
    rule = parse_rule("deep", "focus", {**FOCUS, **rule_fields})
    out = evaluate([rule], T0, EngineState(), context)
    return [d.app for d in out.decisions if d.step is Step.ACT]


def test_a_site_rule_acts_on_a_browser_whose_title_shows_the_site() -> None:
    base = Context(UTC, "pc", active=True, locked=False, app="chromium")
    fallback = replace(base, title_sites=frozenset({"youtube.com"}))
    site_rule = {"sites": "youtube.com", "action": "close-apps"}
    assert _acts(fallback, site_rule) == ["chromium"]  # the desktop action on the browser
    assert _acts(base, site_rule) == []  # the extension sees it: it blocks the tab instead
    assert _acts(fallback, {**site_rule, "allow": "chromium"}) == []
    assert _acts(fallback, {"sites": "reddit.com"}) == []  # another site


def test_rules_add_and_doctor_say_the_fallback_is_in_use(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "home"), "PATH": str(tmp_path / "empty")}
    note = " ".join(browser.sites_note(env, tmp_path, 1000.0).split())
    assert "host is not installed" in note and "fall back to window titles" in note
    now = time.time()
    assert browser.reporting(tmp_path, now) == []
    write_report(tmp_path, BrowserReport("chromium", os.getpid(), now - 5, True, True, "a.test"))
    assert browser.reporting(tmp_path, now) == ["chromium"]
    later = now + timedelta(days=2).total_seconds()
    write_report(tmp_path, BrowserReport("chromium", 2**22 + 7, now, False, False))
    assert browser.reporting(tmp_path, later) == []  # closed two days ago
