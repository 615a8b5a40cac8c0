"""Categories: the built-in set, specificity (most specific match wins), the user's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from presence.core.errors import InputError
from presence.store import Store
from presence.store.reporting import ReportQueries
from presence.tracking.categories import (
    OTHER,
    Categorizer,
    CategoryRule,
    add_category,
    builtin_rules,
    categorizer,
    explain,
    listing,
    literal_length,
    remove_category,
)

NOW = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.fixture
def queries(tmp_path: Path) -> ReportQueries:
    return ReportQueries.of(Store.open(f"sqlite:///{tmp_path / 'p.db'}"))


@pytest.mark.parametrize(
    ("app", "title", "category"),
    [
        ("firefox", "Example Domain - Mozilla Firefox", "browsers"),
        ("firefox-esr", "news", "browsers"),
        ("Google-chrome", "Inbox (3) - Gmail - Google Chrome", "communication"),
        ("firefox", "Rick Astley - YouTube - Mozilla Firefox", "media"),
        ("firefox", "presence/issues - GitHub - Mozilla Firefox", "development"),
        ("firefox", "r/linux - Reddit - Mozilla Firefox", "social"),
        ("firefox", "Home / X - Mozilla Firefox", "social"),
        ("firefox", "Complex numbers - Wikipedia", "browsers"),  # "plex" inside a word: no
        ("Code", "reports.py - presence - Visual Studio Code", "development"),
        ("jetbrains-pycharm", "presence", "development"),
        ("XTerm", "user@laptop: ~", "development"),
        ("Slack", "general | Slack", "communication"),
        ("thunderbird", "Inbox", "communication"),
        ("libreoffice-calc", "budget.ods", "office"),
        ("Evince", "paper.pdf", "office"),
        ("Spotify", "Song - Artist", "media"),
        ("steam", "Steam", "games"),
        ("steam_app_570", "Dota 2", "games"),
        ("org.gnome.Nautilus", "Downloads", "system"),
        ("Solaar", "Logitech", OTHER),  # `sol` (solitaire) must not catch it
        ("unknown-app", "whatever", OTHER),
        (None, None, OTHER),
    ],
)
def test_builtin_categories(app: str | None, title: str | None, category: str) -> None:
    assert Categorizer(builtin_rules()).categorize(app, title) == category


@pytest.mark.parametrize(
    ("pattern", "length"),
    [
        ("firefox", 7),
        ("^firefox$", 7),
        (r"docs\.google", 11),
        ("^(vim|emacs)$", 3),
        (r"\bslack\b", 5),
        ("[a-z]+book", 4),
        (None, 0),
    ],
)
def test_literal_length(pattern: str | None, length: int) -> None:
    assert literal_length(pattern) == length


def rule(name: str, app: str | None, title: str | None, builtin: bool, order: int) -> CategoryRule:
    return CategoryRule.make(name, app, title, builtin, order)


def test_most_specific_match_wins() -> None:
    rules = [
        rule("browsers", "firefox", None, True, 0),
        rule("work", "fire", None, False, 1),  # user, app only: beats built-in app-only
        rule("media", None, "youtube", True, 2),  # title beats app-only, even a user's
        rule("learning", "firefox", "youtube", True, 3),  # app+title beats title-only
        rule("google", None, "google", False, 4),
        rule("docs", None, r"docs\.google", False, 5),  # longer literal beats shorter
        rule("early", None, "same", False, 6),
        rule("late", None, "same", False, 7),  # same everything: the first added wins
    ]
    categories = Categorizer(rules)
    assert categories.categorize("firefox", "news") == "work"
    assert categories.categorize("chromium", "YouTube") == "media"
    assert categories.categorize("firefox", "YouTube") == "learning"
    assert categories.categorize("chromium", "docs.google.com") == "docs"
    assert categories.categorize("chromium", "google.com") == "google"
    assert categories.categorize("x", "same") == "early"
    assert [r.name for r in categories.candidates("firefox", "YouTube")] == [
        "learning",
        "media",
        "work",
        "browsers",
    ]


def test_user_rules_add_replace_and_remove(queries: ReportQueries) -> None:
    add_category(queries, "reading", None, r"arxiv|wikipedia", False, NOW)
    assert categorizer(queries).categorize("firefox", "Physics - Wikipedia") == "reading"
    # Adding to a built-in category's name keeps the built-in rules.
    add_category(queries, "games", "^minecraft-launcher$", None, False, NOW)
    categories = categorizer(queries)
    assert categories.categorize("minecraft-launcher", "") == "games"
    assert categories.categorize("steam", "") == "games"
    # --replace: the user's rules of that name are the only ones.
    add_category(queries, "media", "^mpv$", None, True, NOW)
    categories = categorizer(queries)
    assert categories.categorize("mpv", "film.mkv") == "media"
    assert categories.categorize("Spotify", "song") == OTHER
    assert categories.categorize("firefox", "YouTube") == "browsers"
    assert listing(queries).replaced == ["media"]
    assert explain(queries, "mpv", None)[0].name == "media"
    assert remove_category(queries, "media") == 1
    assert categorizer(queries).categorize("Spotify", "song") == "media"
    assert remove_category(queries, "games", "^minecraft-launcher$") == 1


@pytest.mark.parametrize(
    ("name", "app", "title", "words"),
    [
        ("reading", "([a-z", None, ["--app", "regular expression"]),
        ("reading", None, "(?P<x>a)(?P<x>b)", ["--title"]),
        ("reading", None, None, ["--app", "--title"]),
        ("bad/name", "x", None, ["NAME"]),
    ],
)
def test_bad_input_is_an_input_error(
    queries: ReportQueries, name: str, app: str | None, title: str | None, words: list[str]
) -> None:
    with pytest.raises(InputError) as raised:
        add_category(queries, name, app, title, False, NOW)
    for word in words:
        assert word in raised.value.message
    assert raised.value.hint
    assert queries.user_categories() == []


def test_removing_what_is_not_there(queries: ReportQueries) -> None:
    with pytest.raises(InputError, match="built-in"):
        remove_category(queries, "games")
    with pytest.raises(InputError, match="no category rule"):
        remove_category(queries, "nothing")
