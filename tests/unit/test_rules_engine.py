"""The pure rule engine, driven through tables of times with a fake clock: DST nights in
Europe/Berlin and America/New_York, windows across midnight, suspends and clock steps that must
neither skip nor repeat a step, overlapping rules, focus, limits, breaks, snoozes, overrides."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from presence.core.clock import FakeClock
from presence.rules.engine import (
    Context,
    Decision,
    EngineState,
    Policy,
    Step,
    evaluate,
    upcoming_instants,
)
from presence.rules.model import Rule, RuleKind, parse_rule

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def rule(kind: str, name: str = "r", **fields: Any) -> Rule:
    return parse_rule(name, RuleKind(kind), fields)


class Sim:
    """The engine with a fake clock, local times in, (step, rule, detail) out."""

    def __init__(self, rules: list[Rule], zone: ZoneInfo, start: str, **ctx: Any) -> None:
        self.rules = rules
        self.zone = zone
        self.clock = FakeClock(self.local(start))
        self.state = EngineState()
        self.ctx: dict[str, Any] = {"active": True, "locked": False, **ctx}
        self.log: list[Decision] = []
        self.in_force: list[str] = []

    def local(self, text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=self.zone).astimezone(UTC)

    def eval(self, **ctx: Any) -> list[Decision]:
        self.ctx.update(ctx)
        context = Context(self.zone, "laptop", **self.ctx)
        result = evaluate(self.rules, self.clock.now(), self.state, context)
        self.log += result.decisions
        self.in_force = [r.name for r, _ in result.in_force]
        return result.decisions

    def at(self, text: str, **ctx: Any) -> list[tuple[str, str]]:
        """Jump (a suspend, or a clock step either way) to local `text` and evaluate."""
        self.clock.set_wall(self.local(text))
        return [(d.step.value, d.rule.name) for d in self.eval(**ctx)]

    def run(self, until: str, every: float, **ctx: Any) -> None:
        """Tick every `every` seconds up to local `until`."""
        end = self.local(until)
        while self.clock.now() < end:
            self.clock.advance(every)
            self.eval(**ctx)

    def counts(self) -> Counter[tuple[str, str]]:
        return Counter((d.step.value, d.rule.name) for d in self.log)


NIGHT = {"days": "daily", "start": "22:00", "end": "06:00", "warn": "10m,1m", "grace": "60s"}


@pytest.mark.parametrize(
    ("zone", "evening", "hours"),
    [
        (BERLIN, "2026-01-15", 8),
        (BERLIN, "2026-03-28", 7),  # spring forward during the night
        (BERLIN, "2026-10-24", 9),  # fall back during the night
        (NEW_YORK, "2026-03-07", 7),
        (NEW_YORK, "2026-10-31", 9),
    ],
)
@pytest.mark.parametrize("every", [1.0, 7.0, 45.0])
def test_a_night_ticked_through_gives_each_step_once(
    zone: ZoneInfo, evening: str, hours: int, every: float
) -> None:
    sim = Sim([rule("tech-free", "night", **NIGHT)], zone, f"{evening} 21:00")
    sim.run(f"{evening} 23:59", every)
    next_day = (datetime.fromisoformat(evening) + timedelta(days=1)).date()
    sim.run(f"{next_day} 08:00", every, active=False)  # asleep: no nudges, but the end comes
    counts = sim.counts()
    assert counts[("warning", "night")] == 2
    assert counts[("start", "night")] == 1
    assert counts[("end", "night")] == 1
    warns = [d for d in sim.log if d.step is Step.WARN]
    assert [w.lead for w in warns] == [600.0, 60.0]
    start = next(d for d in sim.log if d.step is Step.START).occurrence
    assert start.end is not None and start.end - start.start == timedelta(hours=hours)
    acts = [d for d in sim.log if d.step is Step.ACT]
    assert acts[0].first and not any(a.first for a in acts[1:])
    # nudges every 5 min while used (22:01 to 23:59), none while asleep
    assert 23 <= len(acts) <= 25


@pytest.mark.parametrize(
    ("jumps", "expected"),
    [
        # suspended past both warnings: only the nearest is sent
        (["21:40", "21:59:30"], [("warning", "night")]),
        (["21:40", "21:51", "21:59:30"], [("warning", "night"), ("warning", "night")]),
        # resumed inside the window, grace over: start and the action at once, no warnings
        (["21:40", "23:00"], [("start", "night"), ("action", "night")]),
        # resumed inside the grace period: the action waits for it
        (["21:40", "22:00:30"], [("start", "night")]),
        # the whole night suspended: only its end, marked as skipped
        (["21:40", "+1 07:00"], [("end", "night")]),
        # the clock stepped back into a finished night: nothing again
        (["21:40", "23:00", "+1 07:00", "+1 05:00"],
         [("start", "night"), ("action", "night"), ("end", "night")]),
        # the clock stepped back to before the start: no late warnings, no second start
        (["21:40", "22:30", "21:55", "22:30"], [("start", "night"), ("action", "night")]),
    ],
)  # fmt: skip
def test_jumps_neither_skip_nor_repeat(jumps: list[str], expected: list[tuple[str, str]]) -> None:
    sim = Sim([rule("tech-free", "night", **NIGHT)], BERLIN, "2026-01-15 21:00", active=False)
    seen: list[tuple[str, str]] = []
    for jump in jumps:
        day = "2026-01-16" if jump.startswith("+1 ") else "2026-01-15"
        seen += sim.at(f"{day} {jump.removeprefix('+1 ')}")
    assert seen == expected
    if ("end", "night") in seen:
        end = next(d for d in sim.log if d.step is Step.END)
        assert end.skipped == (("start", "night") not in seen)


def test_lock_locks_again_only_when_unlocked_and_used() -> None:
    sim = Sim([rule("tech-free", "night", **NIGHT, action="lock")], BERLIN, "2026-01-15 22:00:59")
    assert sim.at("2026-01-15 22:00:59") == [("start", "night")]
    assert sim.at("2026-01-15 22:01:00") == [("action", "night")]
    assert sim.at("2026-01-15 22:01:20", locked=True, active=False) == []
    assert sim.at("2026-01-15 22:05:00", locked=False, active=False) == []  # unlocked, unused
    assert sim.at("2026-01-15 22:05:30", locked=False, active=True) == [("action", "night")]
    assert sim.at("2026-01-15 22:05:35", locked=False, active=True) == []  # relock_every
    assert sim.at("2026-01-15 22:05:45", locked=False, active=True) == [("action", "night")]


def test_close_and_pause_sweep_every_evaluation_while_in_force() -> None:
    sim = Sim(
        [rule("tech-free", "night", **NIGHT, action="close-apps")], BERLIN, "2026-01-15 22:01"
    )
    sim.eval()
    sim.run("2026-01-15 22:01:05", 1.0, active=False)
    acts = [d for d in sim.log if d.step is Step.ACT]
    assert len(acts) == 6 and acts[0].first and sim.in_force == ["night"]


def test_overlapping_rules_act_independently() -> None:
    rules = [
        rule("tech-free", "night", **NIGHT, action="lock"),
        rule("tech-free", "late", days="daily", start="23:00", end="23:30", warn="none"),
        rule("focus", "calm", days="daily", start="22:30", end="23:45", apps="firefox", grace=0),
        rule("tech-free", "once", on="2026-01-15", start="23:10", end="23:20", action="lock"),
        rule("tech-free", "other-day", on="2026-01-16", start="23:10", end="23:20"),
    ]
    sim = Sim(rules, BERLIN, "2026-01-15 21:00", app="xterm")
    sim.run("2026-01-16 00:00", 30.0)
    counts = sim.counts()
    assert [counts[("start", n)] for n in ("night", "late", "calm", "once")] == [1, 1, 1, 1]
    assert [counts[("end", n)] for n in ("late", "calm", "once")] == [1, 1, 1]
    assert counts[("warning", "other-day")] == counts[("start", "other-day")] == 0
    assert counts[("warning", "late")] == 0
    assert counts[("action", "calm")] == 0  # firefox never had focus


def test_focus_acts_when_a_targeted_app_gains_focus() -> None:
    focus = rule("focus", "deep", days="daily", start="09:00", end="11:00", apps="Firefox,slack")
    sim = Sim([focus], BERLIN, "2026-01-15 09:00", app="code")
    assert sim.at("2026-01-15 09:00:30") == [("start", "deep")]
    assert sim.at("2026-01-15 09:05", app="code") == []
    assert sim.at("2026-01-15 09:06", app="firefox") == [("action", "deep")]
    assert sim.at("2026-01-15 09:06:01", app="firefox") == []  # same focus: nudged already
    assert sim.at("2026-01-15 09:07", app="Slack") == [("action", "deep")]  # names ignore case
    assert sim.at("2026-01-15 09:08", app="code") == []
    assert sim.at("2026-01-15 09:08:01", app="slack") == [("action", "deep")]  # regained
    assert sim.at("2026-01-15 09:09", app="slack", locked=True) == []


def test_focus_by_category_and_allow_list() -> None:
    window = {"days": "daily", "start": "09:00", "end": "11:00", "grace": 0}
    social = rule("focus", "s", **window, categories="social")
    only = rule("focus", "o", **window, allow="code,xterm")
    sim = Sim([social, only], BERLIN, "2026-01-15 09:05")
    assert sim.at("2026-01-15 09:10", app="xterm", categories=frozenset()) == [
        ("start", "s"),
        ("start", "o"),
    ]
    assert sim.at("2026-01-15 09:11", app="Mastodon", categories=frozenset({"social"})) == [
        ("action", "s"),
        ("action", "o"),
    ]


def test_snooze_and_override_lift_the_action() -> None:
    night = rule("tech-free", "night", **NIGHT)
    sim = Sim([night], BERLIN, "2026-01-15 22:01")
    sim.eval()
    occ = sim.log[0].occurrence
    sim.state.snooze(night, occ, sim.local("2026-01-15 22:10").timestamp())
    assert sim.at("2026-01-15 22:09") == []
    assert sim.in_force == []
    assert sim.at("2026-01-15 22:10") == [("action", "night")]  # nudged once the snooze ends
    sim.state.override(night, occ)
    assert sim.at("2026-01-15 23:00") == []
    assert sim.at("2026-01-16 06:00") == [("end", "night")]
    # overriding the next night before it begins: no warnings, no start, still an end
    assert occ.end is not None
    nxt = replace(occ, start=occ.start + timedelta(days=1), end=occ.end + timedelta(days=1))
    sim.state.override(night, nxt)
    assert sim.at("2026-01-16 21:55") == []
    assert sim.at("2026-01-16 23:00") == []
    assert sim.at("2026-01-17 07:00") == [("end", "night")]


def test_a_removed_rule_ends_its_open_occurrence_once() -> None:
    night = rule("tech-free", "night", **NIGHT)
    sim = Sim([night], BERLIN, "2026-01-15 23:00")
    sim.eval()
    sim.rules = []
    assert sim.at("2026-01-15 23:01") == [("end", "night")]
    assert sim.log[-1].cancelled
    assert sim.at("2026-01-15 23:02") == []


def test_a_changed_window_forgets_warnings_of_the_old_one() -> None:
    night = rule("tech-free", "night", **NIGHT)
    sim = Sim([night], BERLIN, "2026-01-15 21:55")
    assert sim.at("2026-01-15 21:55") == [("warning", "night")]
    sim.rules = [replace(night, start=night.end, end=night.start)]  # 06:00-22:00 instead
    sim.at("2026-01-15 21:56")
    assert not [k for k in sim.state.tracks if k[1] == sim.log[0].occurrence.key[1]]


def test_rules_of_other_devices_and_disabled_rules_are_ignored() -> None:
    rules = [
        rule("device-free", "desk", **NIGHT, devices="desktop"),
        replace(rule("tech-free", "off", **NIGHT), enabled=False),
    ]
    sim = Sim(rules, BERLIN, "2026-01-15 21:00")
    sim.run("2026-01-16 07:00", 60.0)
    assert sim.log == []


LIMIT = {"apps": "firefox", "per_day": "1h", "warn": "10m,1m", "grace": "0s"}


def test_limit_warns_starts_and_acts_on_the_targeted_app() -> None:
    sim = Sim([rule("limit", "web", **LIMIT)], BERLIN, "2026-01-15 10:00", app="firefox")
    assert sim.at("2026-01-15 10:00", usage={"web": 45 * 60}) == []
    assert sim.at("2026-01-15 10:16", usage={"web": 51 * 60}) == [("warning", "web")]
    assert sim.at("2026-01-15 10:24", usage={"web": 59.5 * 60}) == [("warning", "web")]
    assert sim.at("2026-01-15 10:25", usage={"web": 3600}) == [("start", "web"), ("action", "web")]
    assert sim.at("2026-01-15 10:26", app="code", usage={"web": 3600}) == []
    assert sim.at("2026-01-15 10:27", app="firefox", usage={"web": 3610}) == [("action", "web")]
    # the user's day ends at 04:00: the occurrence ends, a new day begins
    assert sim.at("2026-01-16 04:00:01", app="code", usage={"web": 0}) == [("end", "web")]
    assert sim.at("2026-01-16 09:00", app="firefox", usage={"web": 600}) == []


def test_a_limit_day_without_reaching_it_still_ends() -> None:
    sim = Sim([rule("limit", "web", **LIMIT)], BERLIN, "2026-01-15 10:00", app="code")
    sim.at("2026-01-15 10:00", usage={"web": 60})
    assert sim.at("2026-01-16 05:00", usage={"web": 0}) == [("end", "web")]
    assert sim.log[-1].skipped  # never reached: kept


BREAK = {"after": "50m", "warn": "5m", "grace": "2m"}


def test_break_after_continuous_use_and_reset_by_time_away() -> None:
    sim = Sim([rule("break", "eyes", **BREAK)], BERLIN, "2026-01-15 09:00", idle_seconds=0.0)
    sim.eval()
    sim.run("2026-01-15 09:30", 10.0)
    sim.run("2026-01-15 09:34", 10.0, idle_seconds=None, active=False)  # 4 min away: no reset
    sim.run("2026-01-15 09:50", 10.0, idle_seconds=0.0, active=True)
    assert [d.step for d in sim.log] == [Step.WARN, Step.START]
    assert sim.log[1].occurrence.start == sim.local("2026-01-15 09:50")
    sim.run("2026-01-15 09:53", 10.0)
    act = sim.log[-1]
    assert act.step is Step.ACT and act.first
    # five minutes locked: the break is taken
    sim.run("2026-01-15 09:59", 10.0, locked=True, active=False, idle_seconds=None)
    end = sim.log[-1]
    assert end.step is Step.END and end.occurrence.end == sim.local("2026-01-15 09:53")
    # a new stretch starts with the next input
    sim.run("2026-01-15 10:45", 10.0, locked=False, active=True, idle_seconds=0.0)
    assert [d.step for d in sim.log[-1:]] == [Step.WARN]


def test_break_reset_by_a_suspend() -> None:
    sim = Sim([rule("break", "eyes", **BREAK)], BERLIN, "2026-01-15 09:00", idle_seconds=0.0)
    sim.run("2026-01-15 09:40", 30.0)
    assert sim.at("2026-01-15 11:00") == []  # suspended 80 min: a new stretch, nothing due
    assert sim.state.use_since == sim.local("2026-01-15 11:00")


def test_upcoming_instants_for_a_timer() -> None:
    night = rule("tech-free", "night", **NIGHT)
    sim = Sim([night], BERLIN, "2026-01-15 21:30")
    context = Context(BERLIN, "laptop")
    instants = upcoming_instants([night], sim.clock.now(), sim.state, context, Policy())
    assert [i.astimezone(BERLIN).strftime("%H:%M") for i in instants] == [
        "21:50",
        "21:59",
        "22:00",
        "22:01",
    ]
    sim.at("2026-01-15 21:51")
    later = upcoming_instants([night], sim.clock.now(), sim.state, context, Policy())
    assert [i.astimezone(BERLIN).strftime("%H:%M") for i in later] == [
        "21:59",
        "22:00",
        "22:01",
    ]
