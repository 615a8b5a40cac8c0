"""`presence rules policy`: the rule set's cooldown and the costs of snoozes and overrides
(issue 10). Shared by every device on the database; a loosening change waits."""

from __future__ import annotations

from typing import Annotated

import typer

from presence.cli import rules_render
from presence.cli.context import AppContext
from presence.cli.render import console, print_json
from presence.core.clock import SystemClock
from presence.core.duration import format_duration, parse_duration
from presence.core.errors import InputError
from presence.rulebook.policy import change_policy, change_zone, defaults_for, show_policy
from presence.rules.policy import COUNTS, DESCRIPTIONS, NAMES
from presence.rules.values import parse_time
from presence.settings.files import zone_of


def policy_command(
    ctx: typer.Context,
    cooldown: Annotated[
        str | None, typer.Option("--cooldown", help="How long a loosening change waits.")
    ] = None,
    snooze: Annotated[
        str | None, typer.Option("--snooze", help="A snooze's length when none is asked.")
    ] = None,
    snooze_max: Annotated[str | None, typer.Option("--snooze-max", help="Longest snooze.")] = None,
    snoozes: Annotated[
        int | None, typer.Option("--snoozes", min=0, max=10, help="Snoozes per occurrence.")
    ] = None,
    snooze_wait: Annotated[
        str | None, typer.Option("--snooze-wait", help="The wait before a 3rd snooze.")
    ] = None,
    overrides: Annotated[
        int | None, typer.Option("--overrides-per-week", min=0, max=14, help="Overrides a week.")
    ] = None,
    day_start: Annotated[
        str | None, typer.Option("--day-start", help="Where the rules' day is cut, HH:MM.")
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="The zone of the rules' times (IANA name, or local)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show or change the rule set's policy. Loosening it waits for the cooldown in force."""
    context: AppContext = ctx.obj
    store, now, zone = context.rule_store(), SystemClock().now(), zone_of(context.settings)
    defaults = defaults_for(context.settings)
    changes: dict[str, float] = {}
    for name, text in (
        ("cooldown", cooldown),
        ("snooze", snooze),
        ("snooze_max", snooze_max),
        ("snooze_wait", snooze_wait),
    ):
        if text is not None:
            try:
                changes[name] = parse_duration(text)
            except ValueError as exc:
                raise InputError(f"--{name.replace('_', '-')}: {exc}", hint="e.g. 15m") from None
    if snoozes is not None:
        changes["snoozes"] = snoozes
    if overrides is not None:
        changes["overrides_per_week"] = overrides
    if day_start is not None:
        cut = parse_time(day_start, "--day-start")
        changes["day_start"] = cut.hour * 3600 + cut.minute * 60 + cut.second
    out = console()
    if timezone is not None:
        moved = change_zone(store, timezone.strip(), now, defaults)
        if moved.immediate:
            out.print("The rules' zone changed; in force now (the daemon applies it on restart "
                      "or `systemctl --user reload presence`).")  # fmt: skip
        else:
            when = rules_render.local_time(moved.effective, zone)
            out.print(f"The rules' zone will change at {when}: a loosening change, it waits.")
    if changes:
        change = change_policy(store, changes, now, defaults)
        if change.immediate:
            out.print("Rule policy changed; in force now.")
        else:
            out.print(
                f"Rule policy will change at {rules_render.local_time(change.effective, zone)}: "
                f"this loosens it ({', '.join(change.reasons)}), which waits for the cooldown."
            )
    view = show_policy(store, now, defaults)
    if as_json:
        print_json(
            {
                **view.policy.values(),
                "zone": view.policy.zone,
                "pending": {k: {"value": v, "at": at.isoformat()} for k, (v, at) in
                            view.pending.items()},
            }
        )  # fmt: skip
        return
    for name in NAMES:
        value = float(getattr(view.policy, name))
        shown = _shown(name, value)
        line = f"{name:<20} {shown:<8} {DESCRIPTIONS[name]}"
        if name in view.pending:
            new, at = view.pending[name]
            later = _shown(name, new)
            line += f" (-> {later} at {rules_render.local_time(at, zone)})"
        out.print(line, highlight=False)
    out.print(f"{'zone':<20} {view.policy.zone:<8} the zone of the rules' times", highlight=False)


def _shown(name: str, value: float) -> str:
    if name in COUNTS:
        return str(int(value))
    if name == "day_start":
        seconds = int(value)
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return format_duration(value)
