"""Issue 14 on real Chromium: the extension loaded unpacked, its host installed by `presence
setup browser` into a private profile, the real daemon on Xvfb + openbox recording the sites.

Pages come from a loopback HTTP server under several host names (Chromium's
`--host-resolver-rules` maps them to 127.0.0.1). Chromium is driven over the DevTools protocol
on `--remote-debugging-pipe` (fds 3 and 4, NUL-separated JSON): no port is opened.
Firefox is not driven here: Debian bookworm's firefox-esr is not installed in the test image
and the extension's Firefox manifest is validated by tests/unit/test_browser_extension.py.
"""

from __future__ import annotations

import functools
import http.server
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from presence.install.browser import extension_id
from tests.integration.components import require
from tests.integration.daemon_process import DaemonProcess, without_bus
from tests.integration.xserver import stop_process, wait_until

pytestmark = pytest.mark.integration

HOSTS = ("alpha.test", "gamma.test", "beta.test", "delta.test", "epsilon.test")
FLAGS = (
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--password-store=basic",
    "--remote-debugging-pipe",
)


class Pages(http.server.ThreadingHTTPServer):
    """Serves a tiny page whose title names the Host it was asked for."""

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host = self.headers.get("Host", "").split(":")[0]
                body = f"<title>{host} page</title><h1>{host}</h1>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, host: str) -> str:
        return f"http://{host}:{self.server_address[1]}/"


class DevTools:
    """The DevTools protocol over Chromium's --remote-debugging-pipe. Test thread only."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Chromium reads commands on fd 3 and writes answers on fd 4.
        high = [os.dup(fd) for fd in (to_chrome_r, from_chrome_w)]
        while min(high) <= 4:
            high = [os.dup(fd) for fd in high]

        def arrange() -> None:
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                args,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=arrange,
                pass_fds=(3, 4),
            )
        for fd in (to_chrome_r, from_chrome_w, *high):
            os.close(fd)
        self._ids = itertools.count(1)
        self._buffer = b""

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and return its result; events in between are dropped."""
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == ident:
                    if "error" in answer:
                        raise AssertionError(f"{method}: {answer['error']}")
                    return dict(answer.get("result", {}))
            chunk = os.read(self._from_chrome, 65536)
            if not chunk:
                raise AssertionError(f"Chromium closed the pipe during {method}")
            self._buffer += chunk
        raise AssertionError(f"no answer to {method}")

    def pages(self) -> dict[str, str]:
        infos = self.call("Target.getTargets")["targetInfos"]
        return {t["targetId"]: t["url"] for t in infos if t["type"] == "page"}

    def evaluate(self, target: str, expression: str) -> Any:
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        try:
            result = self.call("Runtime.evaluate", session, expression=expression)
            return result.get("result", {}).get("value")
        finally:
            self.call("Target.detachFromTarget", sessionId=session)

    def close(self) -> None:
        stop_process(self.proc)
        for fd in (self._to_chrome, self._from_chrome):
            os.close(fd)


def presence(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "presence", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def rows(db: Path, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db, timeout=5) as c:
        return list(c.execute(query, args))


@pytest.fixture
def pages() -> Iterator[Pages]:
    server = Pages()
    yield server
    server.shutdown()
    server.server_close()


def test_sites_are_recorded_blocked_and_snoozed_in_chromium(
    x_session: Any, tmp_path: Path, pages: Pages
) -> None:
    require("chromium")
    env = without_bus(x_session.env)
    env.update(HOME=str(tmp_path / "home"), TZ="UTC")
    daemon = DaemonProcess(tmp_path, env, "[sampling]\nidle_after = 600\n")
    env = daemon.env  # the daemon's private XDG dirs: the host must write where it reads
    out = presence(env, "setup", "browser")
    profile = tmp_path / "cfg" / "chromium"
    manifest = profile / "NativeMessagingHosts" / "io.github.presence_desktop.presence.json"
    assert manifest.is_file(), out
    extension = tmp_path / "data" / "presence" / "browser-extension" / "chromium"
    assert str(extension) in out

    # A focus rule on beta.test, in force from a minute ago for half an hour.
    now = datetime.now(UTC)
    start = (now - timedelta(minutes=1)).strftime("%H:%M")
    end = (now + timedelta(minutes=30)).strftime("%H:%M")
    rule = f"rules add focus deep-work --days daily --start {start} --end {end} --sites beta.test"
    said = presence(env, *rule.split(), "--warn", "none")
    assert "browser extension (Chromium)" in said
    rule = f"rules add focus calm --days daily --start {start} --end {end} --sites epsilon.test"
    presence(env, *rule.split(), "--warn", "none")

    daemon.start()
    ext = extension_id()
    block_page = f"chrome-extension://{ext}/blocked.html"
    rules = ",".join(f"MAP {h} 127.0.0.1" for h in HOSTS)
    chrome = DevTools(
        [
            "chromium",
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--load-extension={extension}",
            f"--disable-extensions-except={extension}",
            f"--host-resolver-rules={rules}",
            pages.url("alpha.test"),
        ],
        env,
        tmp_path / "chromium.log",
    )
    db = daemon.db_path
    try:
        daemon.wait_for_log("using x11")

        def site_since(site: str, since: float) -> bool:
            found = rows(
                db, "SELECT count(*) FROM spans WHERE site = ? AND end_ts >= ?", site, since
            )
            return bool(found[0][0])

        wait_until(lambda: db.exists() and site_since("alpha.test", 0), "alpha.test recorded")
        alpha = next(t for t, u in chrome.pages().items() if "alpha.test" in u)

        # Tab switches reach the record within a second.
        delays = []
        gamma = chrome.call("Target.createTarget", url=pages.url("gamma.test"))["targetId"]
        for target, site in ((alpha, "alpha.test"), (gamma, "gamma.test"), (alpha, "alpha.test")):
            time.sleep(1.5)
            switched = time.time()
            chrome.call("Target.activateTarget", targetId=target)
            wait_until(functools.partial(site_since, site, switched), f"{site} recorded", 10)
            delays.append(time.time() - switched)
        assert max(delays) < 2.0, delays  # the 1 s, with margin for a loaded machine

        # A blocked site is replaced by the extension's page, keeping its address.
        opened = time.time()
        beta = chrome.call("Target.createTarget", url=pages.url("beta.test"))["targetId"]
        wait_until(lambda: chrome.pages()[beta].startswith(block_page), "the block page", 10)
        blocked_after = time.time() - opened
        assert blocked_after < 2.0, blocked_after
        assert "beta.test" in chrome.pages()[beta]  # the address is kept in the page's URL
        assert chrome.pages()[alpha].startswith(pages.url("alpha.test"))  # others work
        said_on_page = "document.body.innerText.includes('deep-work') && document.body.innerText"
        text = wait_until(lambda: chrome.evaluate(beta, said_on_page), "the block page's text")
        assert "min left" in text and "beta.test" in text, text

        # Snoozing from the page pays the CLI's cost: a snooze in the enforcement log.
        chrome.evaluate(beta, "document.getElementById('snooze-button').click()")
        wait_until(
            lambda: rows(
                db,
                "SELECT 1 FROM enforcement_log WHERE rule_name = ? AND event = 'snooze'",
                "deep-work",
            ),
            "the snooze in the enforcement log",
        )
        wait_until(
            lambda: chrome.pages()[beta].startswith(pages.url("beta.test")), "back to beta.test"
        )

        # Overriding from the page costs what `presence override` costs: a reason it asks for.
        eps = chrome.call("Target.createTarget", url=pages.url("epsilon.test"))["targetId"]
        wait_until(lambda: chrome.pages()[eps].startswith(block_page), "epsilon's block page", 10)
        wait_until(lambda: chrome.evaluate(eps, said_on_page.replace("deep-work", "calm")), "text")
        press = "document.getElementById('override-button').click()"
        chrome.evaluate(eps, press)  # no reason given: refused on the page, nothing logged
        message = "document.getElementById('message').textContent"
        assert "costs a reason" in wait_until(lambda: chrome.evaluate(eps, message), "refusal")
        chrome.evaluate(eps, "document.getElementById('override-reason').value = 'a demo'")
        chrome.evaluate(eps, press)
        logged = "SELECT detail FROM enforcement_log WHERE rule_name = ? AND event = 'override'"
        detail = wait_until(lambda: rows(db, logged, "calm"), "the override in the log")
        assert json.loads(detail[0][0]) == {"reason": "a demo", "source": "browser"}
        wait_until(
            lambda: chrome.pages()[eps].startswith(pages.url("epsilon.test")), "back to epsilon"
        )

        # An incognito window reports nothing.
        context = chrome.call("Target.createBrowserContext")["browserContextId"]
        private = chrome.call(
            "Target.createTarget",
            url=pages.url("delta.test"),
            browserContextId=context,
            newWindow=True,
        )["targetId"]
        wait_until(lambda: "delta.test" in chrome.pages().get(private, ""), "the private page")

        def active_window() -> str:
            return subprocess.run(
                ["xdotool", "getactivewindow", "getwindowname"],
                env=env,
                capture_output=True,
                text=True,
            ).stdout

        wait_until(lambda: "delta.test" in active_window(), "the private window focused", 10)
        reports = tmp_path / "data/presence/browser/chromium.json"

        def unfocused() -> dict[str, Any] | None:
            report: dict[str, Any] = json.loads(reports.read_text())
            return None if report["focused"] else report

        # The extension may not see private windows at all ("incognito": "not_allowed"): with
        # one focused, it reports no focused window and no site.
        report = wait_until(unfocused, "the browser reported as not focused", 10)
        assert report["site"] is None, report
        time.sleep(1.5)  # a tick or two with the private window focused
        assert not rows(db, "SELECT 1 FROM spans WHERE site = 'delta.test'")
        private_spans = rows(
            db, "SELECT site, end_ts - start_ts FROM spans WHERE title LIKE 'delta.test page%'"
        )
        assert any(site is None for site, _ in private_spans), private_spans
        # Chromium does not always tell the extension that the focus left for a window it may
        # not see; it notices within its 250 ms check, so the previous tab's site may stay that
        # long on the private window's time (never the private window's own site).
        misattributed = sum(seconds for site, seconds in private_spans if site is not None)
        assert misattributed < 1.0, private_spans

        notes = json.loads(presence(env, "doctor", "--json"))["notes"]
        said = next(n for n in notes if n.startswith("browser chromium:"))
        assert "host installed; the extension last reported" in said and "(connected)" in said
    finally:
        chrome.close()
        daemon.kill()
    sites = {r[0] for r in rows(db, "SELECT DISTINCT site FROM spans WHERE app = 'Chromium'")}
    assert {"alpha.test", "gamma.test"} <= sites, sites
    print(
        f"tab switch to record: {max(delays):.2f} s; blocked after {blocked_after:.2f} s; "
        f"previous site kept on the private window for {misattributed:.2f} s"
    )
