"""`presence setup browser`: the native host's manifests for each browser found, and the
extension copied where the user can load it (issue 14).

Browsers find a native messaging host through a small JSON manifest in a per-user folder
(Chromium: ~/.config/chromium/NativeMessagingHosts; Chrome, Brave likewise; Firefox:
~/.mozilla/native-messaging-hosts). It names the host's executable and the extensions allowed
to start it: the Chromium-family id, pinned by the `key` in the extension's manifest, or the
Firefox add-on id. The extension itself is copied out of the package into the data directory
(one folder per manifest flavour), so a `pip install --upgrade` does not move it from under
the browser; the user loads it once (chrome://extensions "Load unpacked", or Firefox's
about:debugging).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from presence.core.errors import PresenceError
from presence.tracking.sites import BrowserReport, all_reports

HOST_NAME = "io.github.presence_desktop.presence"
FIREFOX_ID = "presence@presence-desktop.github.io"
EXTENSION_SOURCE = Path(__file__).with_name("browser_extension")
_FILES = ("background.js", "blocked.html", "blocked.js", "blocked.css")


class BrowserSetupError(PresenceError):
    """The host or the extension could not be installed."""


@dataclass(frozen=True, slots=True)
class Browser:
    """One browser: where its per-user manifests go, and how to tell it is installed."""

    name: str
    label: str
    family: str  # "chromium" (allowed_origins) or "firefox" (allowed_extensions)
    profile: tuple[str, ...]  # the profile folder, under XDG_CONFIG_HOME or (firefox) HOME
    commands: tuple[str, ...]

    def profile_dir(self, env: dict[str, str]) -> Path:
        home = Path(env.get("HOME") or Path.home())
        if self.family == "firefox":
            return home.joinpath(*self.profile)
        config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        return config.joinpath(*self.profile)

    def hosts_dir(self, env: dict[str, str]) -> Path:
        sub = "native-messaging-hosts" if self.family == "firefox" else "NativeMessagingHosts"
        return self.profile_dir(env) / sub

    def manifest_path(self, env: dict[str, str]) -> Path:
        return self.hosts_dir(env) / f"{HOST_NAME}.json"

    def found(self, env: dict[str, str]) -> bool:
        path = env.get("PATH", os.defpath)
        return self.profile_dir(env).is_dir() or any(
            shutil.which(c, path=path) for c in self.commands
        )


BROWSERS = (
    Browser("chromium", "Chromium", "chromium", ("chromium",), ("chromium", "chromium-browser")),
    Browser(
        "chrome",
        "Google Chrome",
        "chromium",
        ("google-chrome",),
        ("google-chrome", "google-chrome-stable"),
    ),
    Browser(
        "brave",
        "Brave",
        "chromium",
        ("BraveSoftware", "Brave-Browser"),
        ("brave-browser", "brave"),
    ),
    Browser("firefox", "Firefox", "firefox", (".mozilla",), ("firefox", "firefox-esr")),
)


def extension_id(manifest: Path = EXTENSION_SOURCE / "manifest.json") -> str:
    """The Chromium extension id the manifest's `key` pins: the first 128 bits of the SHA-256
    of the public key, written with the letters a-p."""
    key = base64.b64decode(json.loads(manifest.read_text())["key"])
    digest = hashlib.sha256(key).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def host_command() -> Path:
    """The absolute path of `presence-browser-host` beside this Python (a venv's bin, or
    ~/.local/bin), else on PATH. Raises BrowserSetupError."""
    beside = Path(sys.executable).parent / "presence-browser-host"
    if beside.is_file():
        return beside
    found = shutil.which("presence-browser-host")
    if found:
        return Path(found).resolve()
    raise BrowserSetupError(
        "presence-browser-host is not installed beside presence",
        hint="reinstall presence (pip install --force-reinstall presence) for its entry points",
    )


def host_manifest(browser: Browser, command: Path) -> dict[str, object]:
    manifest: dict[str, object] = {
        "name": HOST_NAME,
        "description": "presence: sites and focus time from the browser extension",
        "path": str(command),
        "type": "stdio",
    }
    if browser.family == "firefox":
        manifest["allowed_extensions"] = [FIREFOX_ID]
    else:
        manifest["allowed_origins"] = [f"chrome-extension://{extension_id()}/"]
    return manifest


@dataclass(frozen=True, slots=True)
class Installed:
    browser: Browser
    manifest: Path
    changed: bool


@dataclass(frozen=True, slots=True)
class Setup:
    installed: list[Installed]
    chromium_extension: Path
    firefox_extension: Path


def copy_extension(data_dir: Path) -> tuple[Path, Path]:
    """Copy the extension to `data_dir/browser-extension/{chromium,firefox}` (each with its
    manifest.json). Returns both folders. Raises OSError."""
    out = []
    for flavour, manifest in (("chromium", "manifest.json"), ("firefox", "manifest.firefox.json")):
        target = data_dir / "browser-extension" / flavour
        target.mkdir(parents=True, exist_ok=True)
        for name in _FILES:
            shutil.copyfile(EXTENSION_SOURCE / name, target / name)
        shutil.copyfile(EXTENSION_SOURCE / manifest, target / "manifest.json")
        out.append(target)
    return out[0], out[1]


def setup(data_dir: Path, env: dict[str, str] | None = None) -> Setup:
    """Install the host manifest for every browser found, and copy the extension out.

    Raises BrowserSetupError (no browser found, a folder that cannot be written)."""
    env = dict(os.environ if env is None else env)
    browsers = [b for b in BROWSERS if b.found(env)]
    if not browsers:
        raise BrowserSetupError(
            "no supported browser found (Chromium, Chrome, Brave, Firefox)",
            hint="install one, or start it once so its profile folder exists, then run this again",
        )
    command = host_command()
    installed = []
    try:
        for browser in browsers:
            path = browser.manifest_path(env)
            text = json.dumps(host_manifest(browser, command), indent=2) + "\n"
            changed = not path.exists() or path.read_text() != text
            if changed:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            installed.append(Installed(browser, path, changed))
        chromium, firefox = copy_extension(data_dir)
    except OSError as exc:
        raise BrowserSetupError(
            f"cannot install the browser host: {exc}", hint="check the folder's permissions"
        ) from None
    return Setup(installed, chromium, firefox)


def host_installed(browser: Browser, env: dict[str, str] | None = None) -> bool:
    """Whether the host's manifest for `browser` exists and names an existing executable."""
    path = browser.manifest_path(dict(os.environ if env is None else env))
    try:
        command = Path(json.loads(path.read_text())["path"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return command.is_file()


FALLBACK = (
    "site rules fall back to window titles there: a browser window whose title names the site "
    '("YouTube" for youtube.com) gets the rule\'s desktop action on the whole browser'
)
"""What site rules do where the extension does not report (issue 14)."""


HEARD_SECONDS = 86400.0
"""A browser's extension counts as present when its host runs now or reported this recently
(the browser may just be closed)."""


def heard_lately(report: BrowserReport, now: float) -> bool:
    """Whether `report` shows the extension present at `now` (UTC epoch seconds)."""
    return report.alive or now - report.ts < HEARD_SECONDS


def reporting(data_dir: Path, now: float) -> list[str]:
    """The browsers whose extension is present (`heard_lately`)."""
    return [r.browser for r in all_reports(data_dir) if heard_lately(r, now)]


def sites_note(
    env: dict[str, str] | None = None, data_dir: Path | None = None, now: float | None = None
) -> str:
    """What a site rule does on this computer, for `rules add`: blocked in the browser where
    the host is installed and its extension reported recently (`data_dir`, `now`: the host's
    reports; None: not asked); otherwise the title fallback, said plainly."""
    found = [b.label for b in BROWSERS if host_installed(b, env)]
    if not found:
        return (
            "Note: sites are kept away by presence's browser extension, and its host is not "
            "installed: run `presence setup browser`. Until then " + FALLBACK + "."
        )
    text = (
        f"Sites are kept away by presence's browser extension ({', '.join(found)}): "
        "the tab shows a calm page while the rule is in force."
    )
    if data_dir is not None and now is not None and not reporting(data_dir, now):
        text += (
            " Note: no browser's extension has reported recently (`presence doctor`): "
            "until one does, " + FALLBACK + "."
        )
    return text


def doctor_notes(data_dir: Path, now: float, env: dict[str, str] | None = None) -> list[str]:
    """One line per browser found or set up: is the host installed, and when did its extension
    last report (from the host's report file; `now` is UTC epoch seconds); where it is not
    reporting, that site rules fall back to window titles."""
    env = dict(os.environ if env is None else env)
    reports = {r.browser: r for r in all_reports(data_dir)}
    lines = []
    for item in BROWSERS:
        installed = host_installed(item, env)
        if not installed and not item.found(env):
            continue
        if not installed:
            lines.append(
                f"browser {item.name}: the extension's host is not installed "
                f"(run `presence setup browser`); sites are not recorded, and {FALLBACK}"
            )
            continue
        report = reports.get(item.name)
        if report is None:
            heard = "the extension has not reported yet (add it: `presence setup browser` says how)"
        else:
            ago = format_ago(now - report.ts)
            state = "connected" if report.alive else "not running"
            heard = f"the extension last reported {ago} ago ({state})"
        if report is None or not heard_lately(report, now):
            heard += f"; {FALLBACK}"
        lines.append(f"browser {item.name}: host installed; {heard}")
    return lines


def format_ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
