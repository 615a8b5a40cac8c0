"""`presence config show|path|check`."""

from __future__ import annotations

from typing import Annotated

import typer

from presence.cli.context import AppContext
from presence.cli.render import console, print_json
from presence.settings.files import settings_dict, settings_toml

app = typer.Typer(help="Show, locate and check the settings file.", no_args_is_help=True)


@app.command("path")
def path(ctx: typer.Context) -> None:
    """Print the settings file's path (it need not exist)."""
    context: AppContext = ctx.obj
    typer.echo(str(context.paths.config_file))


@app.command("show")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the settings in force (the file merged over the defaults)."""
    context: AppContext = ctx.obj
    settings = context.settings
    if as_json:
        print_json(settings_dict(settings))
    else:
        typer.echo(settings_toml(settings), nl=False)


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate the settings file: exit 0 when valid, 3 with the problem otherwise."""
    context: AppContext = ctx.obj
    _ = context.settings
    where = context.paths.config_file
    state = "is valid" if where.exists() else "does not exist: the defaults apply"
    console().print(f"{where} {state}.", markup=False)
