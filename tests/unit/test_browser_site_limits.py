"""Limit and tech-free rules on sites (issue 14): a limit counts the time on its sites, and
once it is reached (or a tech-free window is in force) the extension's host blocks the sites
instead of the browser being closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from presence.core.clock import FakeClock
from presence.core.errors import InputError
from presence.core.model import Span, SpanState, WindowInfo
from presence.enforce.usage import counted
from presence.install.browser_rules import SiteRules
from presence.platform.base import AppWindow
from presence.rules.cooldown import loosening
from presence.rules.model import parse_rule
from presence.settings.files import Paths
from presence.settings.schema import DatabaseSettings, DeviceSettings, Settings
from tests.unit.test_enforcer import Rig, local


def test_limit_and_tech_free_rules_take_sites() -> None:
    limit = parse_rule("tube", "limit", {"per_day": "30m", "sites": "www.youtube.com"})
    assert limit.sites == ("youtube.com",)
    assert parse_rule("tube", "limit", limit.fields()) == limit
    night = {"days": "daily", "start": "22:00", "end": "06:00", "sites": "reddit.com"}
    tech_free = parse_rule("night", "tech-free", night)
    assert tech_free.sites == ("reddit.com",)
    # A tech-free window still aims at every app; its sites are blocked in the browser too.
    assert tech_free.targets("xterm") and tech_free.targets("chromium")
    assert not limit.targets("chromium")  # a limit on sites alone: not the whole browser
    with pytest.raises(InputError, match="needs --apps, --categories or --sites"):
        parse_rule("x", "limit", {"per_day": "1h"})


def test_a_limit_counts_its_sites_and_titles_that_show_them_without_the_extension() -> None:
    limit = parse_rule("tube", "limit", {"per_day": "30m", "sites": "youtube.com"})
    assert counted(limit, "chromium", None, "m.youtube.com", "Cats")
    assert not counted(limit, "chromium", None, "reddit.com", "a YouTube thread")
    assert counted(limit, "chromium", None, None, "YouTube - cats")  # no extension: the title
    assert not counted(limit, "xterm", None, None, "youtube-dl")  # not a browser
    spared = parse_rule("tube", "limit", {"per_day": "30m", "sites": "youtube.com",
                                          "allow": "firefox"})  # fmt: skip
    assert not counted(spared, "firefox", None, "youtube.com", "Cats")


def _site_rules(rig: Rig, tmp_path: Path) -> SiteRules:
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{rig.path}"),
        device=DeviceSettings(name="laptop"),
    )
    paths = Paths(tmp_path / "config.toml", tmp_path / "data", tmp_path / "run")
    return SiteRules(paths, settings, FakeClock(rig.clock.now()))


def test_a_reached_site_limit_blocks_the_site_and_leaves_the_browser(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 10:00")
    rig.add("limit", "tube", sites="youtube.com", per_day="10m", grace="0s", warn="none",
            action="close-apps")  # fmt: skip
    rig.store.save_spans(
        rig.device.id, None,
        [Span(local("2026-01-15 09:00"), local("2026-01-15 09:20"), "chromium", "Cats",
              SpanState.ACTIVE, site="youtube.com")],
    )  # fmt: skip
    rig.apps.open = [AppWindow(1, "chromium", "chromium", 100)]
    sites = _site_rules(rig, tmp_path)
    assert sites.blocked() == []
    rig.window = WindowInfo("chromium", "Cats", 5, site="youtube.com")  # the extension reports
    rig.run("2026-01-15 10:00:05")
    assert rig.kinds("tube")[:1] == ["start"]
    assert rig.apps.asked == [] and rig.apps.terminated == []  # the browser stays
    sites = _site_rules(rig, tmp_path)
    (blocked,) = sites.blocked()
    assert blocked["rule"] == "tube" and blocked["sites"] == ["youtube.com"]
    assert blocked["kind"] == "limit"
    sites.close()


def test_a_tech_free_window_blocks_its_sites(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 21:59")
    rig.add("tech-free", "night", days="daily", start="22:00", end="23:00", warn="none",
            grace="10m", sites="reddit.com")  # fmt: skip
    rig.run("2026-01-15 22:00:03")
    assert rig.kinds("night")[:1] == ["start"]
    sites = _site_rules(rig, tmp_path)
    (blocked,) = sites.blocked()
    assert (blocked["rule"], blocked["sites"], blocked["kind"]) == (
        "night",
        ["reddit.com"],
        "tech-free",
    )
    sites.close()


def test_sites_on_a_tech_free_window_tighten_it_and_fewer_wait_for_the_cooldown() -> None:
    night = {"days": "daily", "start": "22:00", "end": "06:00", "action": "close-apps"}
    old = parse_rule("night", "tech-free", night)
    with_sites = parse_rule("night", "tech-free", {**night, "sites": "reddit.com"})
    assert loosening(old, with_sites) == []  # it still closes every app, and blocks a site
    assert loosening(with_sites, old) == ["fewer sites blocked"]
    limit = parse_rule("tube", "limit", {"per_day": "30m", "sites": "youtube.com"})
    wider = parse_rule("tube", "limit", {"per_day": "30m", "sites": "youtube.com,x.com"})
    assert loosening(limit, wider) == [] and loosening(wider, limit) == ["fewer sites blocked"]
