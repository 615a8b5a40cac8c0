"""Category changes that loosen rules (issue 10). Limit and focus rules (and close or pause
rules) may target categories; a change of the categories that takes windows out of a
targeted category makes those rules easier to break, so, like a loosening change of a rule,
it must not take effect before the cooldown. Categories have no pending changes: such a
change is refused (with the way that does wait: loosen the rule itself first) unless the
rule set's cooldown is 0.

What a change takes out is judged on what was recorded: the windows (app, title, site) used
in the last LOOKBACK days whose category would change away from a targeted one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from presence.core.errors import InputError
from presence.rulebook.manage import list_rules
from presence.rulebook.policy import rule_policy
from presence.rules.model import Action, RuleKind
from presence.rules.policy import BUILT_IN, RulePolicy
from presence.store import RuleStore
from presence.store.reporting import ReportQueries
from presence.tracking.categories import Categorizer, CategoryRule, builtin_rules, listing

LOOKBACK = timedelta(days=28)


@dataclass(frozen=True, slots=True)
class CategoryChange:
    """An `add` (with `app`/`title` and `replace`) or a `remove` of category rules."""

    verb: str  # add | remove
    name: str
    app: str | None = None
    title: str | None = None
    replace: bool = False


def targeted(store: RuleStore, now: datetime) -> dict[str, list[str]]:
    """Category -> the enabled rules that target it (by name)."""
    found: dict[str, list[str]] = {}
    for item in list_rules(store, now):
        rule = item.rule
        acts_on_apps = rule.action in (Action.CLOSE_APPS, Action.PAUSE_APPS)
        if not rule.enabled or not (rule.kind in (RuleKind.FOCUS, RuleKind.LIMIT) or acts_on_apps):
            continue
        for category in rule.categories:
            found.setdefault(category.lower(), []).append(rule.name)
    return found


def _after(queries: ReportQueries, change: CategoryChange) -> list[CategoryRule]:
    """The category rules in force after `change` (as `tracking.categories.listing`)."""
    rows = queries.user_categories()
    if change.verb == "remove":
        rows = [
            r
            for r in rows
            if not (
                r.name == change.name
                and (change.app is None or r.app_pattern == change.app)
                and (change.title is None or r.title_pattern == change.title)
            )
        ]
    replaced = {r.name for r in rows if r.replaces_builtin}
    if change.verb == "add" and change.replace:
        replaced.add(change.name)
    user = [
        CategoryRule.make(r.name, r.app_pattern, r.title_pattern, False, r.id)
        for r in rows
        if r.app_pattern is not None or r.title_pattern is not None
    ]
    if change.verb == "add":
        last = max((r.id for r in rows), default=0)
        user.append(CategoryRule.make(change.name, change.app, change.title, False, last + 1))
    return user + [r for r in builtin_rules() if r.name not in replaced]


def check_change(
    store: RuleStore,
    queries: ReportQueries,
    change: CategoryChange,
    now: datetime,
    defaults: RulePolicy = BUILT_IN,
) -> None:
    """Raises InputError when `change` would take recorded windows out of a category that an
    enabled rule targets, and the rule set's cooldown is not 0. Raises StorageError."""
    guarded = targeted(store, now)
    if not guarded or rule_policy(store, now, defaults).cooldown <= 0:
        return
    before = Categorizer(listing(queries).rules)
    after = Categorizer(_after(queries, change))
    moved: dict[str, int] = {}
    windows = store.active_seconds_by_window(now - LOOKBACK, now, None)
    for app, title, site in windows:
        old = before.categorize(app, title, site)
        if old.lower() in guarded and after.categorize(app, title, site) != old:
            moved[old] = moved.get(old, 0) + 1
    if moved:
        what = ", ".join(
            f"{count} window{'s' if count != 1 else ''} out of {name!r} "
            f"(targeted by {', '.join(_names(guarded[name.lower()]))})"
            for name, count in sorted(moved.items())
        )
        raise InputError(
            f"this would take {what}: a loosening change, refused before the cooldown",
            hint="loosen the rule itself first (`presence rules edit|disable`, which waits for "
            "the cooldown), then change the category",
        )


def _names(rules: Sequence[str]) -> list[str]:
    return [repr(name) for name in rules]
