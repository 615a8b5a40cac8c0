"""What is kept of a window: the user's privacy settings applied before anything is recorded."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from presence.core.model import EXCLUDED_APP, REDACTED_TITLE, WindowInfo
from presence.settings.schema import PrivacySettings, TitlePrivacy

# Built-in redaction under `titles = "full"`: private-browsing windows (the browsers' own
# markers) and password managers. Matched against the title, case-insensitively.
PRIVATE_TITLES = (
    r"private browsing",
    r"\(private\)",
    r"\bincognito\b",
    r"\binprivate\b",
    r"\btor browser\b",
    r"\bkeepass(xc)?\b",
    r"\bbitwarden\b",
    r"\b1password\b",
    r"\blastpass\b",
    r"\benpass\b",
    r"\bpasswords and keys\b",
    r"\bgnome-keyring\b",
)
# Apps whose every title is private (matched against the app name, case-insensitively).
PRIVATE_APPS = (
    "keepassxc",
    "keepass2",
    "bitwarden",
    "1password",
    "enpass",
    "seahorse",
    "qtpass",
    "gopass",
    "torbrowser",
    "tor browser",
)


class Redactor:
    """Applies `[privacy]` to a window before it is kept anywhere. Pure; thread-safe."""

    def __init__(self, settings: PrivacySettings, key: bytes = b"") -> None:
        self._mode = settings.titles
        self._excluded = {app.casefold() for app in settings.exclude_apps}
        patterns: Iterable[str] = (*PRIVATE_TITLES, *settings.redact_titles)
        self._private = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
        self._key = key

    def apply(self, window: WindowInfo | None) -> WindowInfo | None:
        """The window as it may be recorded: app excluded, title redacted, hashed or dropped."""
        if window is None:
            return None
        if window.app.casefold() in self._excluded:
            return WindowInfo(EXCLUDED_APP, None, window.pid)
        return WindowInfo(window.app, self.title(window.app, window.title), window.pid)

    def title(self, app: str, title: str | None) -> str | None:
        if title is None or self._mode is TitlePrivacy.OFF:
            return None
        if app.casefold() in PRIVATE_APPS or self._private.search(title):
            return REDACTED_TITLE
        if self._mode is TitlePrivacy.REDACTED:
            digest = hmac.new(self._key, title.encode("utf-8"), hashlib.sha256).hexdigest()
            return f"title:{digest[:12]}"
        return title
