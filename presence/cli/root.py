"""The root of the `presence` command: its global options and the Typer app they live on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from presence import __version__
from presence.cli.context import AppContext
from presence.core.errors import ExitCode


def _exit_codes() -> str:
    meaning = {
        ExitCode.OK: "success",
        ExitCode.ERROR: "unexpected internal error (please report it)",
        ExitCode.USAGE: "bad command-line usage",
        ExitCode.CONFIG: "the settings file is invalid",
        ExitCode.STORAGE: "the database cannot be opened, migrated, read or written",
        ExitCode.BACKEND: "a platform capability is unavailable",
        ExitCode.INPUT: "a value given on the command line is invalid",
        ExitCode.ALREADY_RUNNING: "another daemon already records this session",
        ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
    }
    return "Exit statuses: " + "; ".join(f"{int(c)} {meaning[c]}" for c in ExitCode) + "."


def _version(value: bool) -> None:
    if value:
        typer.echo(f"presence {__version__}")
        raise typer.Exit()


def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            envvar="PRESENCE_CONFIG",
            help="Settings file (default: $XDG_CONFIG_HOME/presence/config.toml).",
            show_envvar=True,
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and DEBUG logs (titles included).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    if debug:
        os.environ["PRESENCE_DEBUG"] = "1"
    ctx.obj = AppContext(config_file=config, debug=debug)


def new_app() -> typer.Typer:
    """A Typer app with the global options and no commands yet."""
    app = typer.Typer(
        name="presence",
        epilog=_exit_codes(),
        help="A local-first screen-time monitor: record what the screen is used for, "
        "keep your rules.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    app.callback()(_root)
    return app
