"""Issue 14's fallback on the real daemon: without the browser extension, a focus rule on a
site acts on a browser window whose title shows the site. An xterm of WM_CLASS `chromium`
titled "YouTube - video" stands in for a Chromium window without the extension (no report
in the data directory), on Xvfb with openbox."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.components import require
from tests.integration.daemon_process import DaemonProcess, window_now
from tests.integration.test_enforcement import (
    CONFIG,
    NO_SYSTEM_BUS,
    log_events,
    presence,
    wait_for_event,
)
from tests.integration.xserver import XSession

pytestmark = pytest.mark.integration


def test_a_site_rule_closes_a_browser_whose_title_shows_the_site(
    x_session: XSession, tmp_path: Path
) -> None:
    require("xterm")
    require("xdotool")
    browser, browser_wid = x_session.spawn_xterm("chromium", "YouTube - video")
    other, other_wid = x_session.spawn_xterm("Other", "youtube notes, not a browser")
    x_session.focus(other_wid)
    env = {**x_session.env, "DBUS_SYSTEM_BUS_ADDRESS": NO_SYSTEM_BUS}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    daemon = DaemonProcess(tmp_path / "d", env, CONFIG)
    span = window_now()
    said = presence(daemon.env, "rules", "add", "focus", "deep", *span, "--sites",
                    "youtube.com", "--action", "close-apps", "--grace", "0s")  # fmt: skip
    assert "fall back to window titles" in " ".join(said.split())
    daemon.start()
    try:
        wait_for_event(daemon, "deep", "start")
        time.sleep(1.5)  # a few ticks with the other window focused: nothing is done
        assert browser.poll() is None and other.poll() is None
        focused = time.monotonic()
        # Not x_session.focus(): it waits to see the window active, and it is closed at once.
        subprocess.run(
            ["xdotool", "windowactivate", str(browser_wid)], env=x_session.env, timeout=20,
            check=True, capture_output=True,
        )  # fmt: skip
        browser.wait(timeout=20)  # closed politely through the window manager
        assert time.monotonic() - focused < 10
        assert other.poll() is None  # a title naming the site outside a browser: left alone
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
    assert "Traceback" not in daemon.log()
    events = log_events(daemon, "deep")
    assert [e for e, _, _ in events][:2] == ["start", "action"]
    assert "chromium" in (events[1][1] or "")
