"""Sites (issue 14): registrable domains, the host's report files as the sampler reads them,
spans split by site, rules that name sites."""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presence.core.errors import InputError
from presence.core.model import InputCounts, Observation, Span, SpanState, WindowInfo
from presence.install.browser import EXTENSION_SOURCE
from presence.rules.cooldown import loosening
from presence.rules.model import parse_rule
from presence.store import Store
from presence.tracking.sites import (
    SUFFIXES,
    BrowserReport,
    BrowserReports,
    browser_of,
    matches,
    registrable_domain,
    site_of,
    write_report,
)
from presence.tracking.timeline import Timeline

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.youtube.com", "youtube.com"),
        ("youtube.com", "youtube.com"),
        ("m.youtube.com.", "youtube.com"),
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("bbc.co.uk", "bbc.co.uk"),
        ("someone.github.io", "someone.github.io"),
        ("docs.someone.github.io", "someone.github.io"),
        ("a.b.example.org", "example.org"),
        ("localhost", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
        ("WWW.Reddit.COM", "reddit.com"),
    ],
)
def test_registrable_domain(host: str, domain: str) -> None:
    assert registrable_domain(host) == domain


def test_site_of_takes_web_addresses_only() -> None:
    assert site_of("https://www.youtube.com/watch?v=x") == "youtube.com"
    assert site_of("http://alpha.test:8080/") == "alpha.test"
    assert site_of("chrome://extensions") is None
    assert site_of("file:///etc/passwd") is None
    assert site_of("not a url") is None


def test_a_site_covers_its_subdomains_only() -> None:
    assert matches("m.youtube.com", "youtube.com")
    assert matches("youtube.com", "youtube.com")
    assert not matches("notyoutube.com", "youtube.com")


def test_the_extension_uses_the_same_suffixes() -> None:
    script = (EXTENSION_SOURCE / "background.js").read_text()
    block = script.split("const SUFFIXES = new Set([", 1)[1].split("]);", 1)[0]
    assert set(re.findall(r'"([a-z0-9.]+)"', block)) == SUFFIXES


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("Chromium", "chromium"),
        ("chromium-browser", "chromium"),
        ("Google-chrome", "chrome"),
        ("chrome", "chrome"),
        ("Brave-browser", "brave"),
        ("firefox-esr", "firefox"),
        ("Navigator", "firefox"),
        ("xterm", None),
        (None, None),
    ],
)
def test_browser_of(name: str | None, family: str | None) -> None:
    assert browser_of(name) == family


def report(site: str | None, *, focused: bool = True, pid: int | None = None) -> BrowserReport:
    return BrowserReport("chromium", pid or os.getpid(), 1.0, True, focused, site)


def test_the_sampler_takes_the_site_of_the_focused_browser(tmp_path: Path) -> None:
    reports = BrowserReports(tmp_path)
    assert reports.site("Chromium") is None  # nothing reported yet
    write_report(tmp_path, report("alpha.test"))
    assert reports.site("Chromium") == "alpha.test"
    assert reports.site("xterm") is None  # not a browser
    assert reports.site("firefox") is None  # another browser's extension did not report
    write_report(tmp_path, report("beta.test"))
    assert reports.site("Chromium") == "beta.test"
    write_report(tmp_path, report("beta.test", focused=False))  # e.g. a private window
    assert reports.site("Chromium") is None


def test_a_report_of_a_host_that_is_gone_is_not_believed(tmp_path: Path) -> None:
    gone = 2**22 + 12345  # above the usual pid_max, so no such process
    write_report(tmp_path, report("alpha.test", pid=gone))
    assert BrowserReports(tmp_path).site("Chromium") is None


def drive(windows: list[WindowInfo]) -> list[Span]:
    timeline = Timeline(idle_after=600, gap_after=6)
    spans: dict[str, Span] = {}
    for i, window in enumerate(windows):
        at = T0 + timedelta(seconds=i)
        obs = Observation(at, float(i), window, 0.0, InputCounts(), False)
        spans.update((s.uid, s) for s in timeline.observe(obs))
    spans.update((s.uid, s) for s in timeline.close(T0 + timedelta(seconds=len(windows))))
    return sorted(spans.values(), key=lambda s: s.start)


def test_a_site_change_splits_the_span_even_with_the_same_title() -> None:
    a = WindowInfo("Chromium", None, site="alpha.test")  # titles off: only the site differs
    b = WindowInfo("Chromium", None, site="beta.test")
    spans = drive([a, a, b, b, b, a])
    assert [(s.site, s.seconds) for s in spans] == [
        ("alpha.test", 2.0),
        ("beta.test", 3.0),
        ("alpha.test", 0.0),
    ]


def test_the_store_keeps_the_site(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        device = store.device("laptop", "host", T0)
        span = Span(T0, T0 + timedelta(seconds=5), "Chromium", "t", SpanState.ACTIVE)
        span.site = "youtube.com"
        store.save_spans(device.id, None, [span])
        span.site = "reddit.com"  # rewritten by uid, as the timeline's revisions are
        store.save_spans(device.id, None, [span])
        found = store.spans_between(T0, T0 + timedelta(hours=1), [device.id])
        assert [s.site for s in found] == ["reddit.com"]
    finally:
        store.close()


def test_focus_rules_take_sites() -> None:
    fields = {"days": "daily", "start": "09:00", "end": "11:30"}
    rule = parse_rule(
        "deep-work", "focus", {**fields, "sites": "YouTube.com,https://www.reddit.com/r/x"}
    )
    assert rule.sites == ("youtube.com", "reddit.com")
    assert rule.fields()["sites"] == ["youtube.com", "reddit.com"]
    assert parse_rule("deep-work", "focus", rule.fields()) == rule  # stored and read back
    # A rule on sites alone aims at no app: the extension blocks the sites, not the browser.
    assert not rule.targets("Chromium")
    with pytest.raises(InputError, match="--sites 'not a site' is not a site"):
        parse_rule("x", "focus", {**fields, "sites": "not a site"})
    with pytest.raises(InputError, match="does not apply"):
        parse_rule("x", "break", {"after": "50m", "sites": "youtube.com"})


def test_a_report_written_wakes_the_sampler(tmp_path: Path) -> None:
    woken = threading.Event()
    reports = BrowserReports(tmp_path, wake=woken.set)
    try:
        assert not woken.wait(0.2)
        write_report(tmp_path, report("alpha.test"))
        assert woken.wait(5)
        woken.clear()
        reports.close()
        reports.watch()  # as after the daemon rebuilt its backends
        write_report(tmp_path, report("beta.test"))
        assert woken.wait(5)
    finally:
        reports.close()


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ({"sites": "youtube.com,reddit.com"}, {"sites": "youtube.com"}, "fewer sites blocked"),
        ({"sites": "m.youtube.com"}, {"sites": "youtube.com"}, None),  # covers it still
        ({"sites": "youtube.com"}, {"sites": "youtube.com,x.com"}, None),
        ({"apps": "slack"}, {"sites": "youtube.com"}, "fewer apps targeted"),
        ({"sites": "youtube.com"}, {"sites": "youtube.com", "apps": "slack"}, None),
    ],
)
def test_blocking_fewer_sites_waits_for_the_cooldown(
    old: dict[str, str], new: dict[str, str], reason: str | None
) -> None:
    fields = {"days": "daily", "start": "09:00", "end": "11:30"}
    before = parse_rule("r", "focus", {**fields, **old})
    after = parse_rule("r", "focus", {**fields, **new})
    reasons = loosening(before, after)
    assert reasons == ([reason] if reason else []), reasons
