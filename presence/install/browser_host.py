"""The native messaging host the browser starts for presence's extension (issue 14).

`presence-browser-host` speaks the browsers' native messaging framing on stdin/stdout (each
message a 4-byte native-endian length, then that many bytes of UTF-8 JSON); stderr goes to
the browser's log. One host runs per browser, as long as the extension keeps its port open.

Messages from the extension:
    {"type": "hello", "version": "0.1.0"}
    {"type": "focus", "focused": true, "site": "youtube.com", "url": null}
    {"type": "snooze", "id": 3, "rule": "deep-work", "reason": null}
    {"type": "override", "id": 4, "rule": "deep-work", "reason": "a call with a client"}
Messages to the extension:
    {"type": "settings", "sites": "domain"}          privacy.sites: domain, url or off
    {"type": "blocked", "rules": [{"rule", "sites", "until", "strict"}]}
    {"type": "snooze-result", "id": 3, "ok": true, "message": "..."}   (also for an override)

Focus reports go to `browser/<browser>.json` in the data directory, where the daemon's sampler
picks them up (presence.tracking.sites): the daemon stays the one writer of spans. Which sites
are blocked is read from the database (presence.install.browser_rules) once a second on a
thread of its own, so the host answers focus reports without loading SQLAlchemy first.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from presence.core.clock import Clock
from presence.core.errors import PresenceError
from presence.settings.files import Paths, load_settings
from presence.settings.schema import Settings
from presence.tracking.sites import BrowserReport, browser_of, site_of, write_report

log = logging.getLogger("presence.browser_host")

MAX_TO_BROWSER = 1024 * 1024  # Chromium refuses larger messages from a host
MAX_FROM_BROWSER = 4 * 1024 * 1024  # ours are tiny; a larger length is a broken stream
REFRESH_SECONDS = 1.0
SNOOZE_SECONDS = 300.0


class FramingError(Exception):
    """The stream is not native messaging framing."""


def read_message(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message, or None at the end of the stream. Raises FramingError."""
    head = stream.read(4)
    if not head:
        return None
    if len(head) < 4:
        raise FramingError("the stream ended inside a length")
    (length,) = struct.unpack("=I", head)
    if length > MAX_FROM_BROWSER:
        raise FramingError(f"a message of {length} bytes is too long")
    body = stream.read(length)
    if len(body) < length:
        raise FramingError("the stream ended inside a message")
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FramingError(f"a message is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise FramingError("a message is not a JSON object")
    return message


def encode_message(message: dict[str, Any]) -> bytes:
    """`message` framed for the browser. Raises FramingError when it is too long."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_TO_BROWSER:
        raise FramingError(f"a message of {len(body)} bytes is too long for the browser")
    return struct.pack("=I", len(body)) + body


def parent_browser() -> str:
    """The browser that started this host, from the parent process's name (`browser` when it
    cannot be told)."""
    try:
        name = Path(f"/proc/{os.getppid()}/comm").read_text().strip()
    except OSError:
        name = ""
    return browser_of(name) or "browser"


class Host:
    """One connection with the extension. `handle` runs on the reading thread; the rules
    thread and the reading thread both write, under one lock."""

    def __init__(
        self,
        out: IO[bytes],
        browser: str,
        paths: Paths,
        settings: Settings,
        clock: Clock | None = None,
    ) -> None:
        """`clock` tells the rules' time (None: the system's)."""
        self._out = out
        self._clock = clock
        self._lock = threading.Lock()
        self.browser = browser
        self.paths = paths
        self.settings = settings
        self.mode = settings.privacy.sites.value
        self._stop = threading.Event()
        self._blocked: list[dict[str, Any]] | None = None
        self._rules: Any = None  # presence.install.browser_rules.SiteRules, loaded on its thread
        self._rules_lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        data = encode_message(message)
        with self._lock:
            self._out.write(data)
            self._out.flush()

    def start(self) -> None:
        self.send({"type": "settings", "sites": self.mode})
        threading.Thread(target=self._follow_rules, name="site-rules", daemon=True).start()

    def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "focus":
            self._report(message)
        elif kind in ("snooze", "override"):
            self._lift(message)
        elif kind != "hello":
            log.warning("ignored a message of type %r", kind)

    def stop(self) -> None:
        """The browser closed the port: say the browser is no longer reporting."""
        self._stop.set()
        self._write(connected=False, focused=False, site=None, url=None)

    # -- focus reports --------------------------------------------------------------------

    def _report(self, message: dict[str, Any]) -> None:
        focused = bool(message.get("focused"))
        url = message.get("url") if isinstance(message.get("url"), str) else None
        site = message.get("site") if isinstance(message.get("site"), str) else None
        # The host applies privacy.sites too: the extension may not know the setting yet.
        if self.mode == "off" or not focused:
            site = url = None
        elif url is not None:
            site = site_of(url) or site
            if self.mode != "url":
                url = None
        self._write(connected=True, focused=focused, site=site, url=url)

    def _write(self, *, connected: bool, focused: bool, site: str | None, url: str | None) -> None:
        report = BrowserReport(
            self.browser, os.getpid(), time.time(), connected, focused, site, url
        )
        try:
            write_report(self.paths.data_dir, report)
        except OSError as exc:
            log.warning("cannot keep the browser's report in %s: %s", self.paths.data_dir, exc)

    # -- site rules -----------------------------------------------------------------------

    def _site_rules(self) -> Any:
        if self._rules is None:
            from presence.install.browser_rules import SiteRules  # noqa: PLC0415 - SQLAlchemy off the hot path

            self._rules = SiteRules(self.paths, self.settings, self._clock)
        return self._rules

    def _follow_rules(self) -> None:
        while not self._stop.is_set():
            self._push_blocked()
            self._stop.wait(REFRESH_SECONDS)

    def _push_blocked(self) -> None:
        with self._rules_lock:
            try:
                blocked = self._site_rules().blocked()
            except PresenceError as exc:
                log.warning("cannot read the rules: %s", exc)
                return
            if blocked != self._blocked:
                self._blocked = blocked
                self.send({"type": "blocked", "rules": blocked})

    def _lift(self, message: dict[str, Any]) -> None:
        """A snooze or an override asked on the block page, at the CLI's cost (reading
        thread); the answer goes back as `snooze-result`."""
        rule = message.get("rule")
        reason = message.get("reason")
        said = reason if isinstance(reason, str) else None
        ok, text = False, "the request named no rule"
        if isinstance(rule, str):
            try:
                with self._rules_lock:
                    rules = self._site_rules()
                    if message.get("type") == "override":
                        text = rules.override(rule, said)
                    else:
                        text = rules.snooze(rule, SNOOZE_SECONDS, said)
                ok = True
            except PresenceError as exc:
                text = str(exc) + (f" ({exc.hint})" if exc.hint else "")
        if ok:
            self._push_blocked()  # the page returns to the site only after this arrives
        self.send({"type": "snooze-result", "id": message.get("id"), "ok": ok, "message": text})


def main(argv: list[str] | None = None) -> int:
    """Entry point of `presence-browser-host`: serve one extension until it disconnects."""
    logging.basicConfig(level=logging.WARNING, format="presence-browser-host: %(message)s")
    paths = Paths.resolve()
    try:
        settings = load_settings(paths.config_file)
    except PresenceError as exc:
        log.error("%s", exc)
        return 1
    host = Host(sys.stdout.buffer, parent_browser(), paths, settings)
    host.start()
    try:
        while (message := read_message(sys.stdin.buffer)) is not None:
            host.handle(message)
    except FramingError as exc:
        log.error("%s", exc)
        return 1
    finally:
        host.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
