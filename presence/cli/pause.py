"""`presence pause [DURATION]` and `presence resume`: a gap in the record, with its reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from presence.cli.context import AppContext
from presence.cli.render import console
from presence.cli.watching import say_watching
from presence.core.clock import SystemClock
from presence.core.duration import format_duration, format_until
from presence.rules.values import LONGEST_BLOCK, parse_reason, parse_seconds
from presence.settings.files import zone_of
from presence.tracking import pauses

app = typer.Typer()
"""Top-level commands: added to the root app without a group name (cli/app.py)."""


@app.command("pause")
def pause(
    ctx: typer.Context,
    duration: Annotated[
        str | None,
        typer.Argument(help="How long, e.g. 30m or 1h, at most 7d (default: until resumed)."),
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why (kept with the gap; up to 255 characters).")
    ] = "paused by user",
) -> None:
    """Stop recording for a while; the daemon notices within one tick."""
    context: AppContext = ctx.obj
    seconds = None
    if duration is not None:
        seconds = parse_seconds(
            duration, "DURATION", minimum=1, maximum=LONGEST_BLOCK, example="30m"
        )
    reason = parse_reason(reason)
    zone = zone_of(context.settings)
    now = SystemClock().now()
    until = None if seconds is None else now + timedelta(seconds=seconds)
    pauses.pause(context.store(), context.settings.device.name, now, until, reason)
    if until is None:
        console().print("Paused until `presence resume`.")
    else:
        local = format_until(until.astimezone(zone), now.astimezone(zone).date(), seconds=True)
        console().print(f"Paused for {format_duration(seconds or 0)}, until {local}.")
    # issue 10: a pause stops recording, not the rules
    console().print("Rules stay in force while recording is paused.")
    say_watching(context)


@app.command("resume")
def resume(ctx: typer.Context) -> None:
    """End a pause now."""
    context: AppContext = ctx.obj
    ended = pauses.resume(context.store(), context.settings.device.name, SystemClock().now())
    console().print("Recording resumed." if ended else "Not paused: nothing to resume.")
