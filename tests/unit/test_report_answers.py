"""Issue 11: odd report output put right (apps with no active time keep their category)."""

from __future__ import annotations

from presence.reports.overview import group
from presence.store.reporting import TitleUsage
from presence.tracking.categories import Categorizer, builtin_rules


def test_an_app_with_no_active_time_still_has_its_category() -> None:
    categories = Categorizer(builtin_rules())
    grouped = group(
        [
            TitleUsage("some-odd-tool", None, "idle", 30.0),
            TitleUsage("another-tool", None, "active", 0.0),
            TitleUsage("firefox", "Docs", "active", 60.0),
        ],
        categories,
    )
    expected = categories.categorize("some-odd-tool", None)
    assert grouped.apps["some-odd-tool"].category == expected == "other"
    assert grouped.apps["another-tool"].category == categories.categorize("another-tool", None)
    assert grouped.apps["firefox"].category == categories.categorize("firefox", "Docs")
