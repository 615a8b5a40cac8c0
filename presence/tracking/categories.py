"""Categories: regular-expression rules over the app and the window title, built-in and the
user's own (`presence categories`). Every window gets the category of the most specific rule
that matches it, or OTHER.

Specificity, highest first (docs/reports.md, "Categories"):
1. what the rule looks at: app *and* title, then title only, then app only (a YouTube tab is
   media even though its app, firefox, is a browser);
2. the user's rules before the built-in ones;
3. more literal characters a match needs (`docs\\.google` beats `google`; for alternatives,
   the shortest one counts);
4. the rule added first.
Patterns are Python regular expressions searched case-insensitively (`re.search`); a rule with
both patterns needs both to match. A user rule named like a built-in category adds to it; added
with `replace`, the user's rules of that name replace the built-in ones (override by name).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from presence.core.errors import InputError
from presence.store.reads import ReportReads

if TYPE_CHECKING:  # the writes; reports read through ReportReads without SQLAlchemy
    from presence.store.reporting import ReportQueries

OTHER = "other"
NAME = re.compile(r"^[a-z0-9][a-z0-9 _.-]{0,63}$", re.IGNORECASE)

# (name, app pattern, title pattern). App names are X11 WM_CLASS classes, e.g. "firefox",
# "Google-chrome", "Code", "Slack", "org.gnome.Nautilus".
BUILTIN_RULES: tuple[tuple[str, str | None, str | None], ...] = (
    (
        "browsers",
        r"^(firefox|librewolf|waterfox|navigator|google-chrome|chromium|brave|vivaldi|opera"
        r"|microsoft-edge|epiphany|org\.gnome\.epiphany|midori|qutebrowser|falkon|konqueror)\b",
        None,
    ),
    (
        "communication",
        r"^(slack|discord|signal|telegram|telegramdesktop|element|teams|microsoft teams|zoom"
        r"|skype|mattermost|whatsapp|thunderbird|evolution|geary|mailspring|kmail|hexchat"
        r"|pidgin|org\.gnome\.fractal)\b",
        None,
    ),
    (
        "communication",
        None,
        r"\b(gmail|outlook|proton mail|slack|microsoft teams|zoom meeting|google meet|whatsapp"
        r"|messenger|web\.telegram|discord)",
    ),
    (
        "development",
        r"^(code|code-oss|vscodium|jetbrains-|pycharm|idea|clion|goland|emacs|gvim|vim|neovim"
        r"|nvim|sublime_text|kate|gnome-builder|xterm|uxterm|gnome-terminal|konsole|alacritty"
        r"|kitty|foot|footclient|terminator|tilix|wezterm|urxvt|xfce4-terminal|qterminal"
        r"|lxterminal|org\.gnome\.console|ghostty|dbeaver|postman|meld|gitk|git-gui)\b",
        None,
    ),
    (
        "development",
        None,
        r"\b(github|gitlab|codeberg|stack overflow|docs\.python\.org|readthedocs|localhost:"
        r"|crates\.io|pypi|mdn web docs)",
    ),
    (
        "office",
        r"^(libreoffice|soffice|onlyoffice|desktopeditors|abiword|gnumeric|calligra|evince"
        r"|okular|zathura|org\.pwmt\.zathura|atril|xreader|qpdfview|xournal|obsidian|joplin"
        r"|logseq|zotero|org\.gnome\.papers|simple-scan)\b",
        None,
    ),
    (
        "office",
        None,
        r"\b(google docs|google sheets|google slides|google drive|notion|confluence|jira|trello"
        r"|overleaf|office 365|microsoft word|microsoft excel|calendar)",
    ),
    (
        "media",
        r"^(spotify|vlc|mpv|totem|celluloid|rhythmbox|audacious|clementine|strawberry"
        r"|lollypop|elisa|kodi|smplayer|haruna|shortwave|io\.github\.celluloid|freetube)\b",
        None,
    ),
    (
        "media",
        None,
        r"\b(youtube|netflix|twitch|prime video|disney\+|hulu|spotify|soundcloud|vimeo|deezer"
        r"|bandcamp|plex|jellyfin)",
    ),
    (
        "social",
        r"^(tuba|tootle|whaler|cawbird)\b",
        None,
    ),
    (
        "social",
        None,
        r"\b(facebook|instagram|twitter|reddit|mastodon|linkedin|tiktok|bluesky|threads\.net"
        r"|pinterest|tumblr|hacker news)|/ x\b",
    ),
    (
        "games",
        r"^(steam|steam_app_\d+|lutris|heroic|minecraft|supertuxkart|0ad|wesnoth|retroarch"
        r"|sol|aisleriot|gnome-mines|gnome-chess|itch|dolphin-emu|pcsx2|openttd|factorio)\b",
        None,
    ),
    ("games", None, r"\b(chess\.com|lichess|steam store|itch\.io|poki|miniclip)"),
    (
        "system",
        r"^(nautilus|org\.gnome\.nautilus|thunar|dolphin|pcmanfm|nemo|caja|gnome-control-center"
        r"|systemsettings|xfce4-settings|pavucontrol|gnome-system-monitor|synaptic"
        r"|gnome-software|lxappearance|nm-connection-editor|gnome-disks|blueman|plasmashell"
        r"|xfce4-panel|gnome-shell|polkit|org\.gnome\.settings|org\.gnome\.software"
        r"|update-manager|baobab|file-roller|keepassxc|seahorse)\b",
        None,
    ),
)

_CLASS = re.compile(r"\[(?:\\.|[^\]])*\]")
_ESCAPE = re.compile(r"\\(.)")
_META = re.compile(r"[\^$.|?*+()\[\]{}]|\{\d*,?\d*\}")


def literal_length(pattern: str | None) -> int:
    """Roughly, how many literal characters any match of `pattern` needs.

    Character classes and escapes such as `\\d` count nothing; an escaped `\\.` counts one;
    with alternatives the shortest counts (`^(vim|emacs)$` needs 3).
    """
    if not pattern:
        return 0
    text = _CLASS.sub("", pattern)
    text = _ESCAPE.sub(lambda m: "" if m.group(1).isalnum() else "x", text)
    return min(len(_META.sub("", part)) for part in text.split("|"))


def compile_pattern(pattern: str, option: str) -> re.Pattern[str]:
    """Compile a user's pattern; raises InputError naming `option` when it is not valid."""
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise InputError(
            f"{option} {pattern!r} is not a regular expression: {exc}",
            hint="use Python syntax, e.g. '^firefox$' or 'youtube|netflix'",
        ) from None


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """One rule: `name` applies where every given pattern matches (searched, ignoring case)."""

    name: str
    app: str | None
    title: str | None
    builtin: bool
    order: int = 0
    app_re: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    title_re: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def make(
        cls, name: str, app: str | None, title: str | None, builtin: bool, order: int
    ) -> CategoryRule:
        return cls(
            name,
            app,
            title,
            builtin,
            order,
            None if app is None else compile_pattern(app, "--app"),
            None if title is None else compile_pattern(title, "--title"),
        )

    @property
    def looks_at(self) -> str:
        """app+title, title or app."""
        if self.app is not None and self.title is not None:
            return "app+title"
        return "title" if self.title is not None else "app"

    @property
    def specificity(self) -> tuple[int, int, int, int]:
        level = {"app+title": 2, "title": 1, "app": 0}[self.looks_at]
        literal = literal_length(self.app) + literal_length(self.title)
        return (level, 0 if self.builtin else 1, literal, -self.order)

    def matches(self, app: str, title: str) -> bool:
        if self.app_re is not None and self.app_re.search(app) is None:
            return False
        return self.title_re is None or self.title_re.search(title) is not None


class Categorizer:
    """Chooses the category of (app, title). Results are memoised (bounded), so categorising
    the distinct (app, title) pairs of a year of history stays fast.
    """

    MEMO_LIMIT = 100_000

    def __init__(self, rules: Iterable[CategoryRule]) -> None:
        ordered = sorted(rules, key=lambda r: r.specificity, reverse=True)
        self.rules: tuple[CategoryRule, ...] = tuple(ordered)
        self._app_rules = tuple(r for r in ordered if r.looks_at == "app")
        self._title_rules = tuple(r for r in ordered if r.looks_at != "app")
        self._any_title = self._union([r.title for r in self._title_rules if r.title])
        self._by_app: dict[str, CategoryRule | None] = {}
        self._memo: dict[tuple[str, str], str] = {}

    @staticmethod
    def _union(patterns: Sequence[str]) -> re.Pattern[str] | None:
        """One pattern matching where any of `patterns` does: most titles match no title rule,
        and one search tells. None when they cannot be combined (e.g. repeated group names)."""
        try:
            return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
        except re.error:
            return None

    def best(self, app: str | None, title: str | None) -> CategoryRule | None:
        """The winning rule for (app, title), or None when no rule matches."""
        app_text, title_text = app or "", title or ""
        if self._title_rules and (
            self._any_title is None or self._any_title.search(title_text) is not None
        ):
            for rule in self._title_rules:
                if rule.matches(app_text, title_text):
                    return rule
        if app_text not in self._by_app:
            self._by_app[app_text] = next(
                (r for r in self._app_rules if r.matches(app_text, title_text)), None
            )
        return self._by_app[app_text]

    def categorize(self, app: str | None, title: str | None, site: str | None = None) -> str:
        """The category of a window; a browser tab's `site` (issue 14) counts as part of its
        title, so `youtube.com` is media by the title rules, with the usual precedence."""
        if site:
            title = f"{title} — {site}" if title else site
        key = (app or "", title or "")
        name = self._memo.get(key)
        if name is None:
            rule = self.best(app, title)
            name = OTHER if rule is None else rule.name
            if len(self._memo) >= self.MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = name
        return name

    def candidates(self, app: str | None, title: str | None) -> list[CategoryRule]:
        """Every matching rule, most specific first (what `categories test` shows)."""
        return [r for r in self.rules if r.matches(app or "", title or "")]


def builtin_rules() -> list[CategoryRule]:
    return [
        CategoryRule.make(name, app, title, True, index)
        for index, (name, app, title) in enumerate(BUILTIN_RULES)
    ]


def builtin_names() -> list[str]:
    return sorted({name for name, _, _ in BUILTIN_RULES})


@dataclass(frozen=True, slots=True)
class CategoryListing:
    """The rules in force, and the built-in categories a user's rules replace."""

    rules: list[CategoryRule]
    replaced: list[str]


def listing(queries: ReportReads) -> CategoryListing:
    """The rules in force: the user's, and every built-in one not replaced by name."""
    rows = queries.user_categories()
    replaced = sorted({r.name for r in rows if r.replaces_builtin})
    user = [
        CategoryRule.make(r.name, r.app_pattern, r.title_pattern, False, r.id)
        for r in rows
        if r.app_pattern is not None or r.title_pattern is not None
    ]
    builtin = [r for r in builtin_rules() if r.name not in replaced]
    return CategoryListing(user + builtin, replaced)


def categorizer(queries: ReportReads) -> Categorizer:
    return Categorizer(listing(queries).rules)


def add_category(
    queries: ReportQueries,
    name: str,
    app: str | None,
    title: str | None,
    replace: bool,
    now: datetime,
) -> CategoryRule:
    """Add a user rule. Raises InputError for a bad name, no pattern or a bad pattern."""
    if not NAME.match(name):
        raise InputError(
            f"NAME {name!r} is not a category name",
            hint="use letters, digits, space, '_', '.' or '-' (at most 64), e.g. 'reading'",
        )
    if app is None and title is None:
        raise InputError(
            "give --app, --title or both",
            hint="e.g. presence categories add reading --title 'arxiv|wikipedia'",
        )
    CategoryRule.make(name, app, title, False, 0)  # validates the patterns first
    rule_id = queries.add_category(name, app, title, replace, now)
    return CategoryRule.make(name, app, title, False, rule_id)


def remove_category(
    queries: ReportQueries, name: str, app: str | None = None, title: str | None = None
) -> int:
    """Remove the user's rules of `name` (only the one with these patterns, when given).

    Raises InputError when there is nothing to remove, with a hint for built-in categories.
    """
    removed = queries.remove_categories(name, app, title)
    if removed:
        return removed
    if name in builtin_names():
        raise InputError(
            f"{name!r} is a built-in category and has no rules of yours to remove",
            hint="built-in rules are always present; add a more specific rule to override "
            "them, or `presence categories add NAME --replace ...` to redefine the category",
        )
    raise InputError(
        f"no category rule {name!r}" + (" with those patterns" if app or title else ""),
        hint="`presence categories list` shows the rules",
    )


def explain(queries: ReportReads, app: str, title: str | None) -> list[CategoryRule]:
    """Every rule in force matching (app, title), the winner first (`categories test`)."""
    return categorizer(queries).candidates(app, title)
