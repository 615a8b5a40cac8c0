"""Privacy settings applied to windows before anything is recorded."""

from __future__ import annotations

from presence.core.model import EXCLUDED_APP, REDACTED_TITLE, WindowInfo
from presence.settings.schema import PrivacySettings, TitlePrivacy
from presence.tracking.privacy import Redactor


def test_full_keeps_titles_but_redacts_private_windows() -> None:
    r = Redactor(PrivacySettings())
    assert r.apply(WindowInfo("firefox", "News — Mozilla Firefox")) == WindowInfo(
        "firefox", "News — Mozilla Firefox"
    )
    for title in (
        "Bank — Mozilla Firefox Private Browsing",
        "New Incognito tab - Chromium",
        "InPrivate - Microsoft Edge",
    ):
        assert r.apply(WindowInfo("browser", title)) == WindowInfo("browser", REDACTED_TITLE)
    assert r.apply(WindowInfo("KeePassXC", "vault.kdbx")).title == REDACTED_TITLE  # type: ignore[union-attr]


def test_user_patterns_redact_too() -> None:
    r = Redactor(PrivacySettings(redact_titles=[r"payroll"]))
    assert r.apply(WindowInfo("calc", "Payroll 2026.ods")).title == REDACTED_TITLE  # type: ignore[union-attr]


def test_off_drops_titles() -> None:
    r = Redactor(PrivacySettings(titles=TitlePrivacy.OFF))
    assert r.apply(WindowInfo("xterm", "secret")) == WindowInfo("xterm", None)


def test_redacted_hashes_titles_with_the_key() -> None:
    r = Redactor(PrivacySettings(titles=TitlePrivacy.REDACTED), key=b"k1")
    first = r.apply(WindowInfo("xterm", "secret plan"))
    again = r.apply(WindowInfo("xterm", "secret plan"))
    other = r.apply(WindowInfo("xterm", "other"))
    assert first is not None and first.title is not None
    assert "secret" not in first.title and first.title.startswith("title:")
    assert first == again and first != other
    r2 = Redactor(PrivacySettings(titles=TitlePrivacy.REDACTED), key=b"k2")
    assert r2.apply(WindowInfo("xterm", "secret plan")) != first


def test_excluded_apps_lose_name_and_title() -> None:
    r = Redactor(PrivacySettings(exclude_apps=["Signal"]))
    assert r.apply(WindowInfo("signal", "Chat with Bob", 42)) == WindowInfo(EXCLUDED_APP, None, 42)
    assert r.apply(None) is None
