"""The `presence` command. Commands parse, call one service function and render the result.

Errors: every PresenceError becomes a message, its hint and its exit status here, in main();
`PRESENCE_DEBUG=1` (or `--debug`) shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from presence import __version__
from presence.cli import (
    categories,
    config_cmd,
    data,
    doctor,
    override,
    pause,
    report,
    rules,
    run,
    service,
    status,
)
from presence.cli.context import AppContext
from presence.cli.render import error_console
from presence.errors import ExitCode, PresenceError


def _exit_codes() -> str:
    meaning = {
        ExitCode.OK: "success",
        ExitCode.ERROR: "unexpected internal error (please report it)",
        ExitCode.USAGE: "bad command-line usage",
        ExitCode.CONFIG: "the settings file is invalid",
        ExitCode.STORAGE: "the database cannot be opened, migrated, read or written",
        ExitCode.BACKEND: "a platform capability is unavailable",
        ExitCode.NOT_RUNNING: "the command needs a running daemon",
        ExitCode.INPUT: "a value given on the command line is invalid",
        ExitCode.ALREADY_RUNNING: "another daemon already records this session",
        ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
    }
    return "Exit statuses: " + "; ".join(f"{int(c)} {meaning[c]}" for c in ExitCode) + "."


app = typer.Typer(
    name="presence",
    epilog=_exit_codes(),
    help="A local-first screen-time monitor: record what the screen is used for, keep your rules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"presence {__version__}")
        raise typer.Exit()


@app.callback()
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


run.register(app)
status.register(app)
report.register(app)
pause.register(app)
doctor.register(app)
app.add_typer(config_cmd.app, name="config")
app.add_typer(categories.app, name="categories")
app.add_typer(service.app, name="service")
app.add_typer(data.app, name="data")
app.add_typer(rules.app, name="rules")
override.register(app)


def main() -> None:
    """Entry point of the `presence` console script."""
    os.umask(0o077)  # everything presence creates is private to the user
    try:
        # Standalone mode: Typer reports usage errors itself (exit 2) and exits via SystemExit.
        app()
    except PresenceError as exc:
        if os.environ.get("PRESENCE_DEBUG") == "1":
            raise
        console = error_console()
        console.print(f"presence: error: {exc.message}", markup=False, highlight=False)
        if exc.hint:
            console.print(f"  hint: {exc.hint}", markup=False, highlight=False)
        sys.exit(int(exc.exit_code))
    except Exception as exc:
        if os.environ.get("PRESENCE_DEBUG") == "1":
            raise
        error_console().print(
            f"presence: internal error: {type(exc).__name__}: {exc}\n"
            "  hint: run again with PRESENCE_DEBUG=1 for the traceback, and please report it",
            markup=False,
            highlight=False,
        )
        sys.exit(int(ExitCode.ERROR))
