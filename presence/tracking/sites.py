"""Sites: the registrable domain of an address, and what the browser extension last reported.

The browser extension (presence/install/browser_extension) reports the focused tab's site to
presence's native host (presence/install/browser_host.py), which keeps the latest report of its
browser in a small JSON file under the data directory (`browser/<browser>.json`). The daemon,
the one writer of spans, reads those files on the sampler thread: when the focused window is
that browser, the observation carries the site (issue 14).

Registrable domains come from a compact part of the Public Suffix List (`SUFFIXES`, the same
list as the extension's): a name under a suffix not listed gives its owner's domain instead
(`a.example.uk` under an unlisted `example.uk` suffix gives `example.uk`). Pure apart from
`BrowserReports`, which reads files.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import re
import select
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

FRESH_SECONDS = 5.0
"""How long a browser's report vouches for the extension after it last spoke, while the browser
has focus (the extension reports only changes, and focus reaches it after the window manager)."""

SUFFIXES = frozenset(
    [
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "me.uk",
        "ltd.uk",
        "plc.uk",
        "net.uk",
        "sch.uk",
        "com.au",
        "net.au",
        "org.au",
        "edu.au",
        "gov.au",
        "co.nz",
        "org.nz",
        "net.nz",
        "co.jp",
        "ne.jp",
        "or.jp",
        "ac.jp",
        "go.jp",
        "co.kr",
        "or.kr",
        "com.br",
        "net.br",
        "org.br",
        "com.cn",
        "net.cn",
        "org.cn",
        "gov.cn",
        "com.hk",
        "com.tw",
        "com.sg",
        "com.mx",
        "com.ar",
        "com.tr",
        "com.pl",
        "co.in",
        "net.in",
        "org.in",
        "co.za",
        "org.za",
        "co.il",
        "com.ua",
        "com.ru",
        "co.id",
        "com.my",
        "com.ph",
        "com.vn",
        "com.eg",
        "com.sa",
        "github.io",
        "gitlab.io",
        "pages.dev",
        "workers.dev",
        "netlify.app",
        "vercel.app",
        "herokuapp.com",
        "blogspot.com",
        "appspot.com",
        "web.app",
        "firebaseapp.com",
        "azurewebsites.net",
        "cloudfront.net",
        "s3.amazonaws.com",
        "fly.dev",
        "onrender.com",
        "readthedocs.io",
        "substack.com",
        "tumblr.com",
        "wordpress.com",
        "neocities.org",
    ]
)
"""Suffixes under which names are registered one label deeper (kept equal to background.js)."""

SITE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
"""A site as rules name it: a lower-case host name with at least one dot (`youtube.com`)."""

_IPV4 = re.compile(r"^\d+(\.\d+){3}$")

# Browser families, matched against a window's app name (WM_CLASS class, app id) or a process
# name, in this order: `google-chrome` is chrome, `chromium-browser` is chromium.
_BROWSERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chromium", ("chromium",)),
    ("chrome", ("chrome",)),
    ("brave", ("brave",)),
    ("edge", ("msedge", "microsoft-edge")),
    ("vivaldi", ("vivaldi",)),
    ("firefox", ("firefox", "navigator", "librewolf")),
)


def registrable_domain(host: str) -> str:
    """`www.bbc.co.uk` -> `bbc.co.uk`; IP addresses and one-label names are returned as is."""
    host = host.lower().rstrip(".")
    if not host or ":" in host or _IPV4.match(host):
        return host
    labels = host.split(".")
    if len(labels) <= 2:
        return host
    for i in range(1, len(labels) - 1):
        if ".".join(labels[i:]) in SUFFIXES:
            return ".".join(labels[i - 1 :])
    return ".".join(labels[-2:])


def site_of(url: str) -> str | None:
    """The registrable domain of an http(s) address, or None for anything else."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return registrable_domain(parts.hostname)


def title_shows(title: str | None, site: str) -> bool:
    """Whether a browser window's title shows `site`: the fallback when no extension reports
    (issue 14). Browsers put the page's title in the window title, not its address, so this is
    a heuristic: the site's name (`youtube` for youtube.com, `bbc` for bbc.co.uk) or the domain
    itself appears in the title, case-insensitively, at a word start ("YouTube - video" shows
    youtube.com; "MyYouTubeNotes" does not)."""
    if not title:
        return False
    domain = registrable_domain(site)
    name = domain.split(".")[0]
    text = title.lower()
    return any(
        re.search(r"(?<![a-z0-9])" + re.escape(word), text) for word in {domain, name} if word
    )


def matches(host: str, site: str) -> bool:
    """Whether `host` is `site` or a name under it (`m.youtube.com` is youtube.com)."""
    host, site = host.lower(), site.lower()
    return host == site or host.endswith("." + site)


def browser_of(name: str | None) -> str | None:
    """The browser family of an app or process name (`Google-chrome` -> `chrome`), or None."""
    if not name:
        return None
    lowered = name.lower()
    for family, words in _BROWSERS:
        if any(word in lowered for word in words):
            return family
    return None


@dataclass(frozen=True, slots=True)
class BrowserReport:
    """The latest word of one browser's extension, as its native host keeps it.

    `ts` is UTC epoch seconds of the report; `site` is None when the focused tab is no web page,
    a private window, or `privacy.sites = "off"`; `url` is set only under `privacy.sites = "url"`.
    `pid` is the host's process: a report of a host that is gone is not believed.
    """

    browser: str
    pid: int
    ts: float
    connected: bool
    focused: bool
    site: str | None = None
    url: str | None = None

    @property
    def alive(self) -> bool:
        return self.connected and Path(f"/proc/{self.pid}").exists()


def reports_dir(data_dir: Path) -> Path:
    return data_dir / "browser"


def write_report(data_dir: Path, report: BrowserReport) -> None:
    """Replace `browser/<browser>.json` atomically (readers never see half a file).

    Raises OSError.
    """
    folder = reports_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{report.browser}.", dir=folder)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(report), out)
        os.replace(tmp, folder / f"{report.browser}.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_report(path: Path) -> BrowserReport | None:
    """The report in `path`, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text())
        return BrowserReport(
            browser=str(data["browser"]),
            pid=int(data["pid"]),
            ts=float(data["ts"]),
            connected=bool(data["connected"]),
            focused=bool(data["focused"]),
            site=None if data.get("site") is None else str(data["site"]),
            url=None if data.get("url") is None else str(data["url"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def all_reports(data_dir: Path) -> Iterator[BrowserReport]:
    """Every browser's latest report (for `presence doctor`)."""
    folder = reports_dir(data_dir)
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.json")):
        report = read_report(path)
        if report is not None:
            yield report


class BrowserReports:
    """The site of the focused browser window, for the sampler. `site` on the sampler thread.

    A file is read again only when its modification time changed, so a tick costs a `stat`.
    With `wake`, a watcher thread (inotify) calls it whenever a host writes a report, so a tab
    switch is sampled at once rather than at the next tick: a title change alone may arrive
    before the report, and would leave the old site on the new title until then.
    """

    def __init__(self, data_dir: Path, wake: Callable[[], None] | None = None) -> None:
        self._folder = reports_dir(data_dir)
        self._cache: dict[str, tuple[int, BrowserReport | None]] = {}
        self._wake = wake
        self._watcher: ReportWatcher | None = None
        self.watch()

    def watch(self) -> None:
        """Start the watcher (again, after `close`), if there is a `wake` to call."""
        if self._wake is None or self._watcher is not None:
            return
        try:
            self._watcher = ReportWatcher(self._folder, self._wake)
        except OSError as exc:
            log.warning("browser reports are read at each tick only: %s", exc)

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    def site(self, app: str | None) -> str | None:
        """The site the extension of browser `app` reported as focused, else None."""
        family = browser_of(app)
        if family is None:
            return None
        path = self._folder / f"{family}.json"
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            self._cache.pop(family, None)
            return None
        cached = self._cache.get(family)
        if cached is None or cached[0] != mtime:
            cached = (mtime, read_report(path))
            self._cache[family] = cached
        report = cached[1]
        if report is None or not report.focused or not report.alive:
            return None
        return report.site

    def covers(self, app: str | None, now: float) -> bool:
        """Whether the extension of browser `app` is seeing its focused window: its host is
        running and it reports that window focused, or reported within FRESH_SECONDS (its
        report may trail the window manager's focus). False for a browser without the
        extension, or a window it may not see (a private one): site rules then fall back to
        the window's title (`title_shows`). `now` is UTC epoch seconds; sampler thread or one
        instance per thread."""
        family = browser_of(app)
        if family is None:
            return False
        self.site(app)  # refreshes the cached report
        cached = self._cache.get(family)
        report = None if cached is None else cached[1]
        if report is None or not report.alive:
            return False
        return report.focused or now - report.ts < FRESH_SECONDS


_IN_CLOSE_WRITE = 0x00000008
_IN_MOVED_TO = 0x00000080
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000


class ReportWatcher:
    """Calls `wake` from its own thread after each report written into `folder` (created if
    missing). Linux inotify through libc; raises OSError where it is unavailable."""

    def __init__(self, folder: Path, wake: Callable[[], None]) -> None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        mask = _IN_CLOSE_WRITE | _IN_MOVED_TO
        if libc.inotify_add_watch(fd, os.fsencode(folder), mask) < 0:
            errno = ctypes.get_errno()
            os.close(fd)
            raise OSError(errno, f"cannot watch {folder}")
        self._fd = fd
        self._wake = wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="browser-reports", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], 0.5)
            if not ready:
                continue
            try:
                os.read(self._fd, 65536)  # the events themselves do not matter: a report landed
            except BlockingIOError:
                continue
            except OSError:
                return
            self._wake()

    def close(self) -> None:
        """Stop the thread and release the inotify descriptor. Any thread but the watcher's."""
        self._stop.set()
        self._thread.join(2)
        os.close(self._fd)
