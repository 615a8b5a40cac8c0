"""`presence devices list|rename|set-zone|forget`: the devices sharing this database (issue 12)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from presence.cli.context import AppContext
from presence.cli.render import console, print_json
from presence.core.clock import SystemClock
from presence.rulebook.household import forget_device, list_devices, rename_device, set_zone
from presence.settings.files import zone_of

app = typer.Typer(
    help="The devices recording into this database: names, zones, people.",
    no_args_is_help=True,
)


@app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every device: platform, zone, who used it, when its daemon last wrote."""
    context: AppContext = ctx.obj
    found = list_devices(context.store())
    if as_json:
        print_json(
            [
                {
                    "name": d.name,
                    "hostname": d.hostname,
                    "platform": d.platform,
                    "zone": d.zone,
                    "people": list(d.people),
                    "last_seen": None if d.last_seen is None else d.last_seen.isoformat(),
                    "spans": d.spans,
                }
                for d in found
            ]
        )
        return
    if not found:
        typer.echo("no devices yet: start the daemon (`presence run`) on each device")
        return
    zone = zone_of(context.settings)
    table = Table(show_edge=False, pad_edge=False, box=None)
    for column in ("device", "zone", "people", "platform", "last seen", "spans"):
        table.add_column(column, no_wrap=column != "platform")
    for d in found:
        seen = "never" if d.last_seen is None else f"{d.last_seen.astimezone(zone):%Y-%m-%d %H:%M}"
        table.add_row(
            d.name, d.zone or "-", ", ".join(d.people) or "-", d.platform or "-", seen, str(d.spans)
        )
    console().print(table)


@app.command("rename")
def rename_command(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="The device's name now.")],
    new: Annotated[str, typer.Argument(help="Its new name.")],
) -> None:
    """Rename a device; then set `device.name` in that device's config.toml to match."""
    context: AppContext = ctx.obj
    rename_device(context.store(), old, new)
    typer.echo(f'renamed {old} to {new}: on that device set [device] name = "{new}"')


@app.command("set-zone")
def set_zone_command(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="The device.")],
    zone: Annotated[str, typer.Argument(help='The zone (e.g. bedroom); "" for none.')],
) -> None:
    """Put a device in a zone: the zone's rules bind it within a minute."""
    context: AppContext = ctx.obj
    set_zone(context.store(), device, zone or None)
    typer.echo(f"{device} is in zone {zone}" if zone else f"{device} is in no zone")


@app.command("forget")
def forget_command(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="The device to delete.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a device and everything recorded on it (its daemon must be stopped)."""
    context: AppContext = ctx.obj
    if not yes:
        typer.confirm(f"delete {device} and everything recorded on it?", abort=True)
    gone = forget_device(context.store(), device, SystemClock().now())
    typer.echo(f"forgot {device} ({gone} spans deleted)")
