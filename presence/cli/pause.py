"""`presence pause [DURATION]` and `presence resume`: a gap in the record, with its reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from presence.cli.context import AppContext
from presence.cli.render import console
from presence.core.clock import SystemClock
from presence.core.duration import format_duration, parse_duration
from presence.core.errors import InputError
from presence.settings.files import zone_of
from presence.tracking import pauses

app = typer.Typer()
"""Top-level commands: added to the root app without a group name (cli/app.py)."""


@app.command("pause")
def pause(
    ctx: typer.Context,
    duration: Annotated[
        str | None,
        typer.Argument(help="How long, e.g. 30m or 1h; default: until `presence resume`."),
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why (kept with the gap).")
    ] = "paused by user",
) -> None:
    """Stop recording for a while; the daemon notices within one tick."""
    context: AppContext = ctx.obj
    seconds = None
    if duration is not None:
        try:
            seconds = parse_duration(duration)
        except ValueError as exc:
            raise InputError(f"DURATION: {exc}", hint="e.g. `presence pause 30m`") from None
        if seconds <= 0:
            raise InputError("DURATION must be longer than 0", hint="e.g. 30m")
    if not reason.strip():
        raise InputError("--reason is empty", hint="say why, or leave the option out")
    now = SystemClock().now()
    until = None if seconds is None else now + timedelta(seconds=seconds)
    pauses.pause(context.store(), context.settings.device.name, now, until, reason)
    if until is None:
        console().print("Paused until `presence resume`.")
    else:
        local = until.astimezone(zone_of(context.settings)).strftime("%H:%M:%S")
        console().print(f"Paused for {format_duration(seconds or 0)}, until {local}.")


@app.command("resume")
def resume(ctx: typer.Context) -> None:
    """End a pause now."""
    context: AppContext = ctx.obj
    ended = pauses.resume(context.store(), context.settings.device.name, SystemClock().now())
    console().print("Recording resumed." if ended else "Not paused: nothing to resume.")
