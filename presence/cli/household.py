"""`presence household init|add-device|add-owner`: one PostgreSQL database for the household,
with an owner who may change rules and device roles that may only record (issue 12)."""

from __future__ import annotations

from typing import Annotated

import typer

from presence.cli.context import AppContext
from presence.rulebook.household import add_device_login, add_owner, init_household

app = typer.Typer(
    help="Set up a household database: roles for the owner and for each device.",
    no_args_is_help=True,
)


@app.command("init")
def init_command(ctx: typer.Context) -> None:
    """Create the schema, the owner and device roles, their grants and row security.

    Run it once as the database's owner (your database.url), and again after upgrading
    presence. Then `presence household add-device NAME` for each device.
    """
    context: AppContext = ctx.obj
    init_household(context.store())
    typer.echo(
        "household ready: roles presence_owner (changes rules and zones) and presence_device "
        "(records, reads rules)\nnext: `presence household add-device NAME` for each device"
    )


@app.command("add-device")
def add_device_command(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="The device's name (its [device] name).")],
) -> None:
    """Create the device's database role (or give it a new password) and say how to use it."""
    context: AppContext = ctx.obj
    login = add_device_login(context.store(), device)
    typer.echo(
        f"role {login.role} created; on {device}:\n"
        f"1. add this line to ~/.pgpass and `chmod 600 ~/.pgpass` (libpq ignores it otherwise):\n"
        f"   {login.pgpass}\n"
        f'2. in config.toml: [device] name = "{device}" and [database] url = "{login.url}"\n'
        "The password is shown only now; run add-device again for a new one."
    )


@app.command("add-owner")
def add_owner_command(
    ctx: typer.Context,
    role: Annotated[str, typer.Argument(help="An existing PostgreSQL login role.")],
) -> None:
    """Let an existing login role change rules, zones and devices."""
    context: AppContext = ctx.obj
    add_owner(context.store(), role)
    typer.echo(f"{role} is a household owner")
