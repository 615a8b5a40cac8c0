"""`presence run`: the daemon, in the foreground."""

from __future__ import annotations

import logging
import sys

import typer

from presence.cli.context import AppContext


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Library chatter (alembic's migration notes, apscheduler's job lines) stays at WARNING.
    for noisy in ("alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(ctx: typer.Context) -> None:
        """Run the daemon in the foreground until SIGTERM or Ctrl-C (exit 0)."""
        from presence import daemon  # noqa: PLC0415 - `presence --help` need not load it

        context: AppContext = ctx.obj
        settings = context.settings
        setup_logging("DEBUG" if context.debug else settings.logging.level)
        daemon.serve(settings, context.paths)
