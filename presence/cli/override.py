"""`presence snooze [DURATION]`, `presence override RULE --reason TEXT` and
`presence focus DURATION`: loosen a rule for now (at a cost), or start a focus block."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from presence.cli.context import AppContext
from presence.cli.render import console
from presence.cli.watching import say_watching
from presence.core.clock import SystemClock
from presence.core.duration import format_duration, format_until
from presence.core.errors import InputError
from presence.rulebook import overrides
from presence.rulebook.policy import defaults_for
from presence.rules.model import parse_action
from presence.rules.values import (
    LONGEST_BLOCK,
    parse_names,
    parse_reason,
    parse_seconds,
    parse_time,
)
from presence.settings.files import zone_of

if TYPE_CHECKING:
    from presence.store import RuleStore


SNOOZE_LONGEST = 3600.0
"""The longest snooze: the bound of `rules.snooze` in the settings (an hour)."""

app = typer.Typer()
"""Top-level commands: added to the root app without a group name (cli/app.py)."""


def _setup(ctx: typer.Context) -> tuple[AppContext, RuleStore, int]:
    context: AppContext = ctx.obj
    rules, device_id = overrides.for_device(
        context.store(), context.settings.device.name, SystemClock().now()
    )
    return context, rules, device_id


@app.command("snooze")
def snooze(
    ctx: typer.Context,
    duration: Annotated[
        str | None,
        typer.Argument(help="How long, e.g. 5m, at most 1h (default: rules.snooze, 5 min)."),
    ] = None,
    rule: Annotated[
        str | None, typer.Option("--rule", help="Only this rule (default: all in force).")
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option("--reason", "-r", help="Why; needed for a second snooze of one window."),
    ] = None,
) -> None:
    """Lift the action of the rules in force for a while (once per occurrence for free)."""
    context: AppContext = ctx.obj
    seconds = (
        None  # the rule set's snooze length (`presence rules policy`)
        if duration is None
        else parse_seconds(duration, "DURATION", minimum=1, maximum=SNOOZE_LONGEST, example="5m")
    )
    given = None if reason is None or not reason.strip() else parse_reason(reason)
    zone = zone_of(context.settings)
    _, store, device_id = _setup(ctx)
    defaults = defaults_for(context.settings)
    now = SystemClock().now()
    try:
        done = overrides.snooze(
            store, device_id, now, seconds, rule_name=rule, reason=given, defaults=defaults
        )
    except overrides.WaitFirst as wait:
        # The third snooze costs a wait the user sits through; Ctrl-C or closing the
        # terminal leaves it untaken.
        waited = _countdown(wait)
        now = SystemClock().now()
        done = overrides.snooze(
            store, device_id, now, seconds, rule_name=rule, reason=given, waited=waited,
            defaults=defaults,
        )  # fmt: skip
    today = now.astimezone(zone).date()
    for item in done:
        until = format_until(item.until.astimezone(zone), today, seconds=True)
        length = format_duration((item.until - now).total_seconds())
        console().print(f"Snoozed {item.rule.name!r} for {length}, until {until}.")
    say_watching(context)


def _countdown(wait: overrides.WaitFirst, sleep: Callable[[float], None] = time.sleep) -> float:
    """Show the wait counting down on one line; returns the seconds waited. Raises
    InputError when the user cancels (Ctrl-C)."""
    out = console()

    def show(remaining: float) -> None:
        out.print(f"\r  {format_duration(remaining)} ", end="", highlight=False)

    try:
        out.print(f"{wait.message}. Ctrl-C cancels.")
        overrides.sit_out(wait.seconds, sleep, show)
    except KeyboardInterrupt:
        out.print()
        raise InputError("snooze cancelled", hint="nothing was snoozed") from None
    out.print()
    return wait.seconds


@app.command("override")
def override(
    ctx: typer.Context,
    rule: Annotated[str, typer.Argument(help="The rule whose occurrence to skip.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (required).")],
) -> None:
    """Skip the rule's current occurrence (or else its next one), on every device."""
    context: AppContext = ctx.obj
    zone = zone_of(context.settings)
    day_start = parse_time(context.settings.reports.day_start, "reports.day_start")
    reason = parse_reason(reason)
    _, store, device_id = _setup(ctx)
    defaults = defaults_for(context.settings)
    occ = overrides.override(
        store, device_id, zone, SystemClock().now(), rule, reason, day_start, defaults=defaults
    )
    start = occ.start.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")
    end = "" if occ.end is None else " to " + occ.end.astimezone(zone).strftime("%a %H:%M")
    console().print(f"Overridden: {rule!r} {start}{end} is skipped.")
    say_watching(context)


@app.command("focus")
def focus(
    ctx: typer.Context,
    duration: Annotated[str, typer.Argument(help="How long, e.g. 25m or 1h30m (1m to 7d).")],
    apps: Annotated[
        str | None,
        typer.Option("--apps", help="Apps to keep away (default: rules.focus_apps)."),
    ] = None,
    categories: Annotated[
        str | None, typer.Option("--categories", help="Categories to keep away.")
    ] = None,
    allow: Annotated[
        str | None, typer.Option("--allow", help="Keep away every app but these.")
    ] = None,
    action: Annotated[
        str, typer.Option("--action", help="nudge, lock, close-apps or pause-apps.")
    ] = "nudge",
    name: Annotated[str | None, typer.Option("--name", help="The block's rule name.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="No snoozes, no overrides.")] = False,
) -> None:
    """Start a focus block now: the apps named are off limits until it ends."""
    context: AppContext = ctx.obj
    zone = zone_of(context.settings)
    seconds = parse_seconds(duration, "DURATION", minimum=60, maximum=LONGEST_BLOCK, example="25m")
    chosen = parse_names(apps, "--apps") if apps else ()
    if not (chosen or categories or allow):
        chosen = tuple(context.settings.rules.focus_apps)
    kind = parse_action(action)
    _, store, _ = _setup(ctx)
    rule = overrides.focus_block(
        store,
        SystemClock().now(),
        seconds,
        apps=chosen,
        categories=parse_names(categories or "", "--categories"),
        allow=parse_names(allow or "", "--allow"),
        action=kind,
        name=name,
        strict=strict,
    )
    today = SystemClock().now().astimezone(zone).date()
    until = format_until(rule.until.astimezone(zone), today) if rule.until else "?"
    targets = ", ".join([*rule.apps, *rule.categories]) or "all but " + ", ".join(rule.allow)
    console().print(
        f"Focus until {until} ({rule.name}): {targets} off limits ({rule.action.value})."
    )
    say_watching(context, [rule.action])
