"""`presence zones list`: the places in the home and their devices (issue 12)."""

from __future__ import annotations

from typing import Annotated

import typer

from presence.cli.context import AppContext
from presence.cli.render import print_json
from presence.rulebook.household import list_zones

app = typer.Typer(
    help="Zones: places in the home (set with `presence devices set-zone`).",
    no_args_is_help=True,
)


@app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every zone with its devices."""
    context: AppContext = ctx.obj
    found = list_zones(context.store())
    if as_json:
        print_json([{"name": z.name, "devices": list(z.devices)} for z in found])
        return
    if not found:
        typer.echo("no zones yet: `presence devices set-zone DEVICE ZONE` makes one")
    for zone in found:
        typer.echo(f"{zone.name}: {', '.join(zone.devices)}")
