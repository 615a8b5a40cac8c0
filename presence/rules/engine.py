"""The rule engine: given the rules, the time and what the screen is doing, what to do now.

`evaluate(rules, now, state, context)` is pure: no I/O, no sleeps, no clock of its own. It
mutates only `state`, which records per occurrence what was already done (warnings sent,
start announced, first action taken, snoozes, override, end). Because of that record, calling
it at any instants, in any rhythm (every tick, from a timer between ticks, after a suspend,
after the clock stepped back) neither repeats nor skips a step:

- a warning is sent once per lead time; when several came due at once (a resume from
  suspend), only the nearest is sent and the others are marked done;
- the start is announced once; an occurrence that passed entirely unseen gets only its end
  (`skipped`), so the log still has its outcome;
- the first action comes once `grace` has passed; repeats (nudges, relocks, closing reopened
  apps) follow the rule's action and what the user is doing, not the calling rhythm;
- the end comes once, when the occurrence is over, also for one that began before a restart
  (the enforcer rebuilds `state` from the enforcement log).

Thread contract: none of its own; the caller serialises calls for one `EngineState`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from presence.rules.model import SCHEDULED, Action, Rule, RuleKind
from presence.rules.schedule import Occurrence, day_window, occurrence_ts, occurrences
from presence.rules.state import (
    KEEP_ENDED,
    Context,
    Decision,
    EngineState,
    Evaluation,
    Policy,
    Step,
    Track,
)

__all__ = [
    "Context",
    "Decision",
    "EngineState",
    "Evaluation",
    "Policy",
    "Step",
    "Track",
    "evaluate",
    "upcoming_instants",
]


def evaluate(
    rules: Iterable[Rule],
    now: datetime,
    state: EngineState,
    context: Context,
    policy: Policy | None = None,
) -> Evaluation:
    """Decide what to do at `now` (aware UTC); record it in `state`. Pure apart from `state`.

    `rules` are the rules in effect (disabled ones and those for other devices are skipped).
    Decisions come in time order per rule: ends, then warnings, starts and actions.
    """
    policy = policy or Policy()
    out = Evaluation()
    since = now if state.last_now is None else min(state.last_now, now)
    since = max(since, now - policy.catch_up)
    _follow_use(state, now, context, policy)
    live = {r.name: r for r in rules if r.enabled and context.binds(r)}
    seen: set[tuple[str, float]] = set()
    for rule in live.values():
        for occ in _candidates(rule, now, since, state, context, policy):
            if occ.key not in seen:
                seen.add(occ.key)
                _step(rule, occ, now, state, context, policy, out)
    for track in state.open_tracks():
        occ = track.occurrence
        if occ.key in seen:
            continue
        current = live.get(track.rule.name)
        over = occ.end is not None and occ.end <= now
        if (
            current is not None
            and current.kind is track.rule.kind
            and (over or current.kind is RuleKind.BREAK)
        ):
            # Over while nobody looked (the daemon was stopped), or a break was taken.
            _step(current, occ, now, state, context, policy, out)
            continue
        # The rule was removed, disabled or changed so that this occurrence is gone.
        if track.started:
            track.ended = True
            cut = Occurrence(occ.rule, occ.start, now)
            out.decisions.append(Decision(Step.END, track.rule, cut, cancelled=True))
        else:
            del state.tracks[occ.key]
    _prune(state, now)
    state.last_now = now
    return out


def _candidates(
    rule: Rule,
    now: datetime,
    since: datetime,
    state: EngineState,
    context: Context,
    policy: Policy,
) -> list[Occurrence]:
    if rule.kind in SCHEDULED:
        lead = timedelta(seconds=max(rule.warn, default=0.0) + 1)
        return occurrences(rule, context.zone, since, now + lead)
    if rule.kind is RuleKind.LIMIT:
        lo, hi = day_window(now, context.zone, policy.day_start)
        return [Occurrence(rule.name, lo, hi)]
    if state.use_since is None or rule.after is None:
        return []
    start = state.use_since + timedelta(seconds=rule.after)
    return [Occurrence(rule.name, start, None)]


def _step(
    rule: Rule,
    occ: Occurrence,
    now: datetime,
    state: EngineState,
    ctx: Context,
    policy: Policy,
    out: Evaluation,
) -> None:
    t = now.timestamp()
    done = state.tracks.get(occ.key)
    if done is not None and done.ended:
        return  # finished: a clock stepped back into it changes nothing
    if rule.kind is RuleKind.BREAK:
        _break_step(rule, occ, now, state, ctx, policy, out)
        return
    if occ.end is not None and occ.end <= now:
        track = state.track(rule, occ)
        track.ended = True
        out.decisions.append(Decision(Step.END, rule, occ, skipped=not track.started))
        return
    if rule.kind is RuleKind.LIMIT:
        _limit_step(rule, occ, t, state, ctx, policy, out)
        return
    if now < occ.start:
        _warn(rule, occ, (occ.start - now).total_seconds(), state, out)
        return
    track = state.track(rule, occ)
    _start_then_act(
        rule, occ, track, t, ctx, policy, out, left=_left(occ, now), since=occ.start.timestamp()
    )


def _warn(rule: Rule, occ: Occurrence, left: float, state: EngineState, out: Evaluation) -> None:
    track = state.tracks.get(occ.key)
    if track is not None and track.started:
        return  # a clock stepped back to before the start: too late to warn
    done = track.warned if track is not None else set()
    due = [lead for lead in rule.warn if left <= lead and lead not in done]
    if not due:
        return
    track = state.track(rule, occ)
    track.warned.update(due)
    if not track.overridden:
        out.decisions.append(
            Decision(Step.WARN, rule, occ, lead=min(due), seconds_left=max(left, 0.0))
        )


def _limit_step(
    rule: Rule,
    occ: Occurrence,
    t: float,
    state: EngineState,
    ctx: Context,
    policy: Policy,
    out: Evaluation,
) -> None:
    track = state.track(rule, occ)  # every day seen gets an end, and so an outcome
    used = ctx.usage.get(rule.name)
    if used is None or rule.per_day is None:
        return
    left = rule.per_day - used
    if left > 0:
        _warn(rule, occ, left, state, out)
        return
    # The grace period runs from the moment the allowance ran out (the start), not midnight.
    _start_then_act(rule, occ, track, t, ctx, policy, out, left=0.0, since=None)


def _break_step(
    rule: Rule,
    occ: Occurrence,
    now: datetime,
    state: EngineState,
    ctx: Context,
    policy: Policy,
    out: Evaluation,
) -> None:
    t = now.timestamp()
    current = state.use_since is not None and rule.after is not None
    if current and occ.key == _break_key(rule, state):
        if now < occ.start:
            _warn(rule, occ, (occ.start - now).total_seconds(), state, out)
            return
        track = state.track(rule, occ)
        _start_then_act(
            rule, occ, track, t, ctx, policy, out, left=None, since=occ.start.timestamp()
        )
        return
    # The stretch this occurrence belonged to is over: the break was taken.
    taken = state.tracks.get(occ.key)
    if taken is None or taken.ended:
        return
    taken.ended = True
    if not taken.started:
        return  # warned, but the user stopped before it began: nothing to close
    stopped = state.last_use or now
    ended = Occurrence(occ.rule, occ.start, max(occ.start, min(stopped, now)))
    taken.occurrence = ended
    out.decisions.append(Decision(Step.END, rule, ended))


def _break_key(rule: Rule, state: EngineState) -> tuple[str, float] | None:
    if state.use_since is None or rule.after is None:
        return None
    return (rule.name, occurrence_ts(state.use_since + timedelta(seconds=rule.after)))


def _start_then_act(
    rule: Rule,
    occ: Occurrence,
    track: Track,
    t: float,
    ctx: Context,
    policy: Policy,
    out: Evaluation,
    *,
    left: float | None,
    since: float | None,
) -> None:
    """The occurrence is in force at `t`: announce its start once (with `left` seconds to go;
    not when overridden), then act once `rule.grace` has passed since `since` (None: since the
    start was announced) unless a snooze or override lifts it."""
    if not track.started:
        track.started = True
        track.since = t
        if not track.overridden:
            out.decisions.append(Decision(Step.START, rule, occ, seconds_left=left))
    if since is None:
        since = track.since if track.since is not None else t
    if not track.lifted(t) and t >= since + rule.grace:
        _act(rule, occ, track, t, ctx, policy, out)


def _act(
    rule: Rule,
    occ: Occurrence,
    track: Track,
    t: float,
    ctx: Context,
    policy: Policy,
    out: Evaluation,
) -> None:
    out.in_force.append((rule, occ))
    first = not track.acted
    since_last = float("inf") if track.last_action is None else t - track.last_action
    app = None
    if rule.on_focus:
        # Focus and limit rules act when a targeted app has the focus (and the screen is not
        # locked); regaining the focus counts as new, so it is acted on at once.
        if ctx.app is None or ctx.locked or not ctx.aims(rule):
            track.acted_app = None
            return
        app = ctx.app
        regained = track.acted_app is None or track.acted_app.lower() != app.lower()
        if rule.action is Action.NUDGE:
            due = regained or (ctx.active and since_last >= policy.nudge_every)
        elif rule.action is Action.LOCK:
            due = regained or since_last >= policy.relock_every
        else:
            due = True  # close/pause: the enforcer acts on what is not handled yet
    elif rule.action is Action.NUDGE:
        due = first or (ctx.active and since_last >= policy.nudge_every)
    elif rule.action is Action.LOCK:
        # Locked again only when unlocked *and* used inside the window.
        due = first or (ctx.locked is False and ctx.active and since_last >= policy.relock_every)
    else:
        due = True  # close/pause sweep: reopened apps are handled again
    if not due:
        return
    track.acted = True
    track.acted_app = app
    if first or rule.action in (Action.NUDGE, Action.LOCK):
        track.last_action = t
    out.decisions.append(Decision(Step.ACT, rule, occ, first=first, app=app))


def _left(occ: Occurrence, now: datetime) -> float | None:
    return None if occ.end is None else (occ.end - now).total_seconds()


def _follow_use(state: EngineState, now: datetime, ctx: Context, policy: Policy) -> None:
    """Continuous use for break rules: a stretch lasts while inputs are less than
    `break_reset` apart; being idle or locked that long (or suspended) ends it."""
    if ctx.observed and not ctx.locked:
        last_input: datetime | None = None
        if ctx.idle_seconds is not None:
            if ctx.idle_seconds < policy.break_reset:
                last_input = now - timedelta(seconds=ctx.idle_seconds)
        elif ctx.active:
            last_input = now
        if last_input is not None:
            gap = None if state.last_use is None else (last_input - state.last_use).total_seconds()
            if state.use_since is None or gap is None or gap >= policy.break_reset:
                state.use_since = last_input
            if state.last_use is None or last_input > state.last_use:
                state.last_use = last_input
    if state.last_use is not None and (now - state.last_use).total_seconds() >= policy.break_reset:
        state.use_since = None


def _prune(state: EngineState, now: datetime) -> None:
    horizon = now - KEEP_ENDED
    for key in [
        k
        for k, t in state.tracks.items()
        if t.ended and (t.occurrence.end or t.occurrence.start) < horizon
    ]:
        del state.tracks[key]


def upcoming_instants(
    rules: Iterable[Rule],
    now: datetime,
    state: EngineState,
    context: Context,
    policy: Policy | None = None,
    horizon: timedelta = timedelta(hours=1),
) -> list[datetime]:
    """Instants within `horizon` at which `evaluate` would decide something new without any
    change in use: warnings, starts, ends of grace periods, ends. For a timer that wakes the
    enforcer exactly then; ticks remain the safety net. Pure."""
    policy = policy or Policy()
    found: set[datetime] = set()
    limit = now + horizon
    for rule in rules:
        if not rule.enabled or not context.binds(rule):
            continue
        lead = timedelta(seconds=max(rule.warn, default=0.0))
        if rule.kind in SCHEDULED:
            occs = occurrences(rule, context.zone, now, limit + lead)
        elif rule.kind is RuleKind.BREAK and state.use_since is not None and rule.after:
            occs = [Occurrence(rule.name, state.use_since + timedelta(seconds=rule.after), None)]
        elif rule.kind is RuleKind.LIMIT and rule.per_day is not None:
            used = context.usage.get(rule.name)
            if used is None or not context.aims(rule):
                continue
            # While a targeted app is used, the allowance runs out at a predictable instant.
            occs = [Occurrence(rule.name, now + timedelta(seconds=rule.per_day - used), None)]
        else:
            continue
        for occ in occs:
            track = state.tracks.get(occ.key)
            warned = track.warned if track is not None else set()
            found.update(occ.start - timedelta(seconds=w) for w in rule.warn if w not in warned)
            found.update({occ.start, occ.start + timedelta(seconds=rule.grace)})
            if occ.end is not None:
                found.add(occ.end)
    for track in state.open_tracks():
        if track.snoozed_until is not None and not track.overridden:
            # The action comes back when the snooze ends.
            found.add(datetime.fromtimestamp(track.snoozed_until, now.tzinfo))
    return sorted(i for i in found if now < i <= limit)
