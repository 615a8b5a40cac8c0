"""The rule engine's data: its settings (`Policy`), what the screen is doing (`Context`),
what it decides (`Decision`, `Evaluation`) and what it remembers per occurrence (`Track`,
`EngineState`). Plain data; the logic is in `presence.rules.engine`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum

from presence.rules.model import Rule
from presence.rules.schedule import Occurrence

KEEP_ENDED = timedelta(days=2)
"""How long a finished occurrence's record is kept: a clock stepped back by less than this
never repeats anything."""


class Step(StrEnum):
    """What a decision asks for; the values are the enforcement log's event names."""

    WARN = "warning"
    START = "start"
    ACT = "action"
    END = "end"


@dataclass(frozen=True, slots=True)
class Policy:
    """The engine's settings (from `[rules]` and `[reports]` in config.toml)."""

    nudge_every: float = 300.0  # seconds between two nudges while the screen is used
    relock_every: float = 10.0  # at least this long between two lock requests
    break_reset: float = 300.0  # this long away (idle or locked) ends continuous use
    day_start: time = time(4)  # where a limit's day begins
    catch_up: timedelta = timedelta(days=7)  # how far back a long jump is caught up


@dataclass(frozen=True, slots=True)
class Context:
    """What the screen is doing, as the last tick saw it. `observed` False: nothing was
    sampled (recording paused): activity is unknown, so only time-driven steps happen."""

    zone: tzinfo
    device: str
    active: bool = False  # input within `sampling.idle_after`, screen not locked
    locked: bool | None = None
    idle_seconds: float | None = None
    app: str | None = None  # the focused application
    categories: frozenset[str] = frozenset()  # its categories
    usage: Mapping[str, float] = field(default_factory=dict)  # limit rule -> seconds today
    observed: bool = True
    place: str | None = None  # the device's zone in the home (issue 12), None: none set
    person: str | None = None  # who uses the device (issue 12)
    # Sites the focused browser window's title shows while no extension sees that window
    # (issue 14's fallback, computed by the enforcer); empty when the extension reports.
    title_sites: frozenset[str] = frozenset()

    def binds(self, rule: Rule) -> bool:
        """Whether `rule` targets this device, its zone or its person."""
        return rule.applies_to(self.device, self.place, self.person)

    def aims(self, rule: Rule) -> bool:
        """Whether the rule's action is aimed at the focused app: one of its apps or
        categories, or (without the browser extension) a browser showing one of its sites."""
        if rule.targets(self.app, self.categories):
            return True
        if self.app is None or not rule.sites or not self.title_sites:
            return False
        allowed = {a.lower() for a in rule.allow}
        return self.app.lower() not in allowed and bool(
            self.title_sites & {s.lower() for s in rule.sites}
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """One thing to do now.

    WARN: `lead` is the warning's lead time, `seconds_left` the time until the start (for a
    limit: the allowance left). ACT: `first` marks the occurrence's first action (later ones
    are repeats); `app` is the focused targeted app for focus and limit rules. END: `skipped`
    when the occurrence passed without being seen in force; `cancelled` when its rule was
    removed or disabled while it was open.
    """

    step: Step
    rule: Rule
    occurrence: Occurrence
    lead: float | None = None
    seconds_left: float | None = None
    first: bool = False
    app: str | None = None
    skipped: bool = False
    cancelled: bool = False


@dataclass(slots=True)
class Track:
    """What was done for one occurrence."""

    rule: Rule
    occurrence: Occurrence
    warned: set[float] = field(default_factory=set)
    started: bool = False
    since: float | None = None  # when it came in force (limits: when the allowance ran out)
    acted: bool = False
    last_action: float | None = None
    acted_app: str | None = None  # focus/limit: the targeted app acted on while focused
    snoozed_until: float | None = None
    snoozes: int = 0
    overridden: bool = False
    ended: bool = False

    def lifted(self, t: float) -> bool:
        return self.overridden or (self.snoozed_until is not None and t < self.snoozed_until)


@dataclass(slots=True)
class EngineState:
    """Everything the engine remembers between calls."""

    tracks: dict[tuple[str, float], Track] = field(default_factory=dict)
    last_now: datetime | None = None
    use_since: datetime | None = None  # start of the current stretch of continuous use
    last_use: datetime | None = None  # the last input seen

    def track(self, rule: Rule, occ: Occurrence) -> Track:
        found = self.tracks.get(occ.key)
        if found is None:
            found = self.tracks[occ.key] = Track(rule, occ)
        else:
            found.rule = rule
            if occ.end is not None:
                found.occurrence = occ
        return found

    def open_tracks(self) -> list[Track]:
        return [t for t in self.tracks.values() if not t.ended]

    def snooze(self, rule: Rule, occ: Occurrence, until: float) -> None:
        """Lift the occurrence's action until `until` (epoch seconds)."""
        track = self.track(rule, occ)
        track.snoozes += 1
        track.snoozed_until = max(until, track.snoozed_until or until)

    def override(self, rule: Rule, occ: Occurrence) -> None:
        """Skip the occurrence: no more warnings, announcements or actions."""
        self.track(rule, occ).overridden = True


@dataclass(slots=True)
class Evaluation:
    """The decisions of one call, and the occurrences whose action is in force now (their
    apps stay paused; apps paused for any other occurrence are resumed)."""

    decisions: list[Decision] = field(default_factory=list)
    in_force: list[tuple[Rule, Occurrence]] = field(default_factory=list)
