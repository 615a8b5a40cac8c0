"""The native host (issue 14): framing, privacy of reports, and the real entry point."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from presence.install.browser_host import (
    MAX_TO_BROWSER,
    FramingError,
    Host,
    encode_message,
    read_message,
)
from presence.settings.files import Paths
from presence.settings.schema import PrivacySettings, Settings, SitePrivacy
from presence.tracking.sites import read_report


def framed(*messages: dict[str, object]) -> io.BytesIO:
    return io.BytesIO(b"".join(encode_message(m) for m in messages))


def test_messages_round_trip() -> None:
    stream = framed({"type": "hello"}, {"type": "focus", "site": "é.test"})
    assert read_message(stream) == {"type": "hello"}
    assert read_message(stream) == {"type": "focus", "site": "é.test"}
    assert read_message(stream) is None


def test_the_length_is_native_endian() -> None:
    data = encode_message({"a": 1})
    assert struct.unpack("=I", data[:4])[0] == len(data) - 4


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"\x05\x00", "inside a length"),
        (struct.pack("=I", 10) + b"{}", "inside a message"),
        (struct.pack("=I", 3) + b"abc", "not JSON"),
        (struct.pack("=I", 2) + b"[]", "not a JSON object"),
        (struct.pack("=I", 2**31), "too long"),
    ],
)
def test_broken_streams_are_refused(raw: bytes, error: str) -> None:
    with pytest.raises(FramingError, match=error):
        read_message(io.BytesIO(raw))


def test_messages_too_long_for_the_browser_are_refused() -> None:
    with pytest.raises(FramingError, match="too long"):
        encode_message({"x": "a" * MAX_TO_BROWSER})


def host(tmp_path: Path, mode: SitePrivacy) -> tuple[Host, io.BytesIO]:
    out = io.BytesIO()
    paths = Paths(tmp_path / "config.toml", tmp_path / "data", tmp_path / "run")
    settings = Settings(privacy=PrivacySettings(sites=mode))
    return Host(out, "chromium", paths, settings), out


@pytest.mark.parametrize(
    ("mode", "site", "url"),
    [
        (SitePrivacy.DOMAIN, "youtube.com", None),
        (SitePrivacy.URL, "youtube.com", "https://www.youtube.com/watch?v=1"),
        (SitePrivacy.OFF, None, None),
    ],
)
def test_reports_keep_what_privacy_sites_allows(
    tmp_path: Path, mode: SitePrivacy, site: str | None, url: str | None
) -> None:
    served, _ = host(tmp_path, mode)
    # Whatever the extension sends, the host keeps only what the setting allows.
    served.handle(
        {
            "type": "focus",
            "focused": True,
            "site": "youtube.com",
            "url": "https://www.youtube.com/watch?v=1",
        }
    )
    report = read_report(tmp_path / "data" / "browser" / "chromium.json")
    assert report is not None
    assert (report.site, report.url, report.focused, report.pid) == (site, url, True, os.getpid())


def test_an_unfocused_browser_reports_no_site_and_a_closed_port_says_so(tmp_path: Path) -> None:
    served, _ = host(tmp_path, SitePrivacy.DOMAIN)
    served.handle({"type": "focus", "focused": False, "site": "youtube.com", "url": None})
    path = tmp_path / "data" / "browser" / "chromium.json"
    report = read_report(path)
    assert report is not None and report.site is None and not report.focused
    served.stop()
    report = read_report(path)
    assert report is not None and not report.connected


def test_the_entry_point_answers_with_the_settings_at_once(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        XDG_CONFIG_HOME=str(tmp_path / "cfg"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_RUNTIME_DIR=str(tmp_path / "run"),
    )
    env.pop("PRESENCE_CONFIG", None)
    env.pop("PRESENCE_DATA_DIR", None)
    (tmp_path / "cfg" / "presence").mkdir(parents=True)
    (tmp_path / "cfg" / "presence" / "config.toml").write_text('[privacy]\nsites = "off"\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "presence.install.browser_host"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(encode_message({"type": "hello"}))
        proc.stdin.write(encode_message({"type": "focus", "focused": True, "site": "a.test"}))
        proc.stdin.flush()
        assert read_message(proc.stdout) == {"type": "settings", "sites": "off"}
        assert read_message(proc.stdout) == {"type": "blocked", "rules": []}
        path = tmp_path / "data" / "presence" / "browser" / "browser.json"
        deadline = time.monotonic() + 10
        while read_report(path) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        report = read_report(path)
        assert report is not None and report.focused and report.site is None  # sites = "off"
    finally:
        proc.stdin.close()
        assert proc.wait(10) == 0
    report = read_report(path)
    assert report is not None and not report.connected
    assert json.loads(path.read_text())["browser"] == "browser"  # not started by a browser
