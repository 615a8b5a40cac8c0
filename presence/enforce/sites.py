"""Site rules without the browser extension (issue 14): the focused browser window's title.

When the extension sees the focused browser window, it blocks a rule's sites itself and the
desktop leaves the browser alone. When it does not (not installed in that browser or profile,
its host not running, a private window it may not read), a site rule falls back to the
window's title: browsers show the page's title there, which usually names the site
("YouTube - video"), so `presence.tracking.sites.title_shows` matches the site's name in it.
The rule's desktop action (nudge, close, pause, lock) then applies to the browser window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from presence.rules.model import Rule
from presence.tracking.sites import browser_of, title_shows

Covers = Callable[[str | None, float], bool]
"""Whether the extension of browser `app` sees its focused window at `now` (epoch seconds)."""


def title_sites(
    app: str | None,
    title: str | None,
    rules: Iterable[Rule],
    covers: Covers | None,
    now: float,
) -> frozenset[str]:
    """The rules' sites (lowercase) that the focused window's title shows, when `app` is a
    browser whose extension does not see it (`covers` None: no extension anywhere); else
    empty. Pure apart from `covers`."""
    if app is None or not title or browser_of(app) is None:
        return frozenset()
    sites = {s.lower() for rule in rules if rule.enabled for s in rule.sites}
    if not sites or (covers is not None and covers(app, now)):
        return frozenset()
    return frozenset(s for s in sites if title_shows(title, s))
