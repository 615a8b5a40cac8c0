"""`presence setup browser` (issue 14): host manifests per browser, the pinned extension id,
and both extension manifests checked against what the browsers require."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from presence.install import browser
from presence.install.browser import (
    EXTENSION_SOURCE,
    FIREFOX_ID,
    HOST_NAME,
    BrowserSetupError,
    extension_id,
    host_installed,
    setup,
)
from presence.tracking.sites import BrowserReport, write_report
from tests.unit.test_cli import cli, home

__all__ = ["home"]


def fake_browser(bin_dir: Path, name: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / name
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "PATH": str(tmp_path / "bin"),
    }


def test_host_manifests_go_to_each_browser_found(tmp_path: Path, env: dict[str, str]) -> None:
    fake_browser(tmp_path / "bin", "chromium")
    fake_browser(tmp_path / "bin", "firefox-esr")
    (tmp_path / "cfg" / "BraveSoftware" / "Brave-Browser").mkdir(parents=True)  # a profile
    done = setup(tmp_path / "data", env)
    paths = {i.browser.name: i.manifest for i in done.installed}
    assert paths == {
        "chromium": tmp_path / f"cfg/chromium/NativeMessagingHosts/{HOST_NAME}.json",
        "brave": tmp_path
        / f"cfg/BraveSoftware/Brave-Browser/NativeMessagingHosts/{HOST_NAME}.json",
        "firefox": tmp_path / f"home/.mozilla/native-messaging-hosts/{HOST_NAME}.json",
    }
    chromium = json.loads(paths["chromium"].read_text())
    assert chromium["name"] == HOST_NAME and chromium["type"] == "stdio"
    assert chromium["allowed_origins"] == [f"chrome-extension://{extension_id()}/"]
    assert Path(chromium["path"]).is_absolute() and os.access(chromium["path"], os.X_OK)
    firefox = json.loads(paths["firefox"].read_text())
    assert firefox["allowed_extensions"] == [FIREFOX_ID] and "allowed_origins" not in firefox
    assert all(host_installed(i.browser, env) for i in done.installed)
    assert not host_installed(browser.BROWSERS[1], env)  # chrome: not found, not installed
    again = setup(tmp_path / "data", env)
    assert not any(i.changed for i in again.installed)  # running it again is harmless


def test_the_extension_is_copied_with_its_manifest_per_browser(
    tmp_path: Path, env: dict[str, str]
) -> None:
    fake_browser(tmp_path / "bin", "chromium")
    done = setup(tmp_path / "data", env)
    chromium = json.loads((done.chromium_extension / "manifest.json").read_text())
    firefox = json.loads((done.firefox_extension / "manifest.json").read_text())
    assert "key" in chromium and "browser_specific_settings" in firefox
    for folder in (done.chromium_extension, done.firefox_extension):
        for name in ("background.js", "blocked.html", "blocked.js", "blocked.css"):
            assert (folder / name).read_bytes() == (EXTENSION_SOURCE / name).read_bytes()


def test_no_browser_is_an_error_with_a_fix(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(BrowserSetupError) as raised:
        setup(tmp_path / "data", env)
    assert raised.value.hint


def test_the_extension_id_is_pinned_by_the_key() -> None:
    ident = extension_id()
    assert len(ident) == 32 and set(ident) <= set("abcdefghijklmnop")


def manifest(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXTENSION_SOURCE / name).read_text())
    return data


def test_the_chromium_manifest() -> None:
    data = manifest("manifest.json")
    assert data["manifest_version"] == 3
    assert data["background"] == {"service_worker": "background.js"}
    assert data["incognito"] == "not_allowed"  # never anything from incognito windows
    assert set(data["permissions"]) == {"nativeMessaging", "tabs", "storage"}
    assert "host_permissions" not in data  # no network


def test_the_firefox_manifest_variant() -> None:
    """Firefox is not driven in the integration tests (no firefox-esr in the test image): its
    manifest is checked here against what Firefox's MV3 loader requires."""
    chromium, firefox = manifest("manifest.json"), manifest("manifest.firefox.json")
    assert firefox["manifest_version"] == 3
    gecko = firefox["browser_specific_settings"]["gecko"]
    assert gecko["id"] == FIREFOX_ID
    assert firefox["background"] == {"scripts": ["background.js"]}  # no service workers
    assert "key" not in firefox  # Firefox refuses Chromium's key
    for key in ("name", "version", "description", "permissions", "incognito"):
        assert firefox[key] == chromium[key], key
    allowed = {
        "manifest_version",
        "name",
        "version",
        "description",
        "browser_specific_settings",
        "permissions",
        "incognito",
        "background",
    }
    assert set(firefox) <= allowed


def test_doctor_says_per_browser_whether_the_host_is_there_and_when_it_last_heard(
    tmp_path: Path, env: dict[str, str]
) -> None:
    fake_browser(tmp_path / "bin", "chromium")
    fake_browser(tmp_path / "bin", "firefox")
    data = tmp_path / "data"
    assert browser.doctor_notes(data, 1000.0, env) == [
        "browser chromium: the extension's host is not installed (run `presence setup "
        f"browser`); sites are not recorded, and {browser.FALLBACK}",
        "browser firefox: the extension's host is not installed (run `presence setup "
        f"browser`); sites are not recorded, and {browser.FALLBACK}",
    ]
    setup(data, env)
    write_report(data, BrowserReport("chromium", os.getpid(), 990.0, True, True, "a.test"))
    notes = browser.doctor_notes(data, 1000.0, env)
    assert notes[0] == (
        "browser chromium: host installed; the extension last reported 10 s ago (connected)"
    )
    assert notes[1].startswith("browser firefox: host installed; the extension has not reported")
    assert notes[1].endswith(browser.FALLBACK)  # no extension there: the title fallback


def test_setup_browser_and_a_site_rule_through_the_cli(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(home / "home"))
    monkeypatch.setenv("PATH", str(home / "bin"))
    fake_browser(home / "bin", "chromium")
    add = ["rules", "add", "focus", "deep-work", "--days", "weekdays", "--start", "09:00"]
    add += ["--end", "11:30", "--sites", "youtube.com,reddit.com"]
    code, out, _ = cli(capsys, monkeypatch, *add)
    assert code == 0 and "its host is not installed: run `presence setup browser`" in " ".join(
        out.split()
    )
    assert "fall back to window titles" in " ".join(out.split())
    code, out, _ = cli(capsys, monkeypatch, "setup", "browser")
    assert code == 0 and "Installed the native host for Chromium" in out
    assert "Load unpacked" in out and str(home / "data" / "presence" / "browser-extension") in out
    code, out, _ = cli(capsys, monkeypatch, "rules", "edit", "deep-work", "--sites", "x.com")
    assert code == 0
    code, out, _ = cli(capsys, monkeypatch, "rules", "show", "deep-work", "--json")
    assert code == 0 and '"x.com"' in out
    monkeypatch.setenv("PATH", str(home / "empty"))
    shutil.rmtree(home / "cfg" / "chromium")  # no browser on PATH and no profile left
    code, _, err = cli(capsys, monkeypatch, "setup", "browser")  # nothing found: an error
    assert code != 0 and "no supported browser found" in err and "Traceback" not in err
