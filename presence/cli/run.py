"""`presence run`: the daemon, in the foreground.

The daemon runs all day, so its start is kept lean: `daemon_main()` parses the global options
and `run` with argparse (the standard library) instead of building the Typer app. Typer (which
imports pydantic) and the other command modules would cost the daemon about 15 MB of memory
for nothing. The Typer command below is the same command for `presence --help` and the
generated docs; both call `start()`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from presence.cli.context import AppContext

if TYPE_CHECKING:
    import typer

HELP = "Run the daemon in the foreground until SIGTERM or Ctrl-C (exit 0)."


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Library chatter (alembic's migration notes, apscheduler's job lines) stays at WARNING.
    for noisy in ("alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def start(context: AppContext) -> None:
    """Load the settings, set up logging and serve until stopped. Raises PresenceError."""
    from presence.daemon import main as daemon  # noqa: PLC0415 - `presence --help` need not load the daemon

    settings = context.settings
    setup_logging("DEBUG" if context.debug else settings.logging.level)
    daemon.serve(settings, context.paths)


def parser() -> argparse.ArgumentParser:
    """`presence [--config FILE] [--debug] run`: the root options of presence.cli.root, mirrored
    (tests/unit/test_cli.py checks that the two agree)."""
    parse = argparse.ArgumentParser(prog="presence", description=HELP)
    parse.add_argument(
        "-c",
        "--config",
        type=Path,
        default=os.environ.get("PRESENCE_CONFIG") or None,
        help="Settings file (default: $XDG_CONFIG_HOME/presence/config.toml). "
        "[env var: PRESENCE_CONFIG]",
    )
    parse.add_argument(
        "--debug", action="store_true", help="Show tracebacks and DEBUG logs (titles included)."
    )
    parse.add_argument("command", choices=["run"], help=HELP)
    return parse


def daemon_main(argv: Sequence[str]) -> None:
    """Parse `argv` (global options and `run`) without Typer, then start the daemon."""
    args = parser().parse_args(argv)
    if args.debug:
        os.environ["PRESENCE_DEBUG"] = "1"
    start(AppContext(config_file=args.config, debug=args.debug))


def register(app: typer.Typer) -> None:
    """Add `run` to the full Typer app."""
    import typer  # noqa: PLC0415 - the daemon's own path never imports Typer

    def run(ctx: typer.Context) -> None:
        start(ctx.obj)

    # Typer resolves annotations in this module's globals, where Typer is deliberately absent.
    run.__annotations__ = {"ctx": typer.Context, "return": None}
    app.command("run", help=HELP)(run)
