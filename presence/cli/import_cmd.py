"""`presence import activitywatch [PATH]`: bring ActivityWatch's history along."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from presence.cli.context import AppContext
from presence.cli.render import console
from presence.core.clock import SystemClock
from presence.core.duration import format_duration
from presence.settings.files import zone_of
from presence.tracking import aw_import
from presence.tracking.privacy import Redactor
from presence.tracking.title_key import title_key

app = typer.Typer(no_args_is_help=True)
"""The `import` group."""

PROGRESS_FROM = 20_000
"""Events from which a progress bar is shown (a small import is over before it would draw)."""


@app.command("activitywatch")
def activitywatch(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            help="ActivityWatch's peewee-sqlite.v2.db, or an export JSON "
            "(default: ~/.local/share/activitywatch/aw-server/peewee-sqlite.v2.db)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be imported; write nothing.")
    ] = False,
) -> None:
    """Import ActivityWatch's window and AFK history as spans (one device per host).
    Importing again adds nothing twice."""
    context: AppContext = ctx.obj
    settings = context.settings
    source = aw_import.AwSource((path or aw_import.default_database()).expanduser())
    out = console()
    try:
        hosts, notes = aw_import.plan(source)
        total = sum(h.window.events for h in hosts)
        store = None if dry_run else context.store()
        # a dry run shows no titles: it needs (and creates) no title key
        key = b"" if dry_run else title_key(context.paths.data_dir)
        redactor = Redactor(settings.privacy, key)
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=out,
            transient=True,
            disable=total < PROGRESS_FROM or not out.is_terminal,
        ) as bar:
            task = bar.add_task("events", total=total)
            hosts, notes = aw_import.run_import(
                source,
                store,
                zone_of(settings),
                redactor,
                SystemClock().now(),
                progress=lambda n: bar.advance(task, n),
            )
    finally:
        source.close()
    for note in notes:
        out.print(note, markup=False)
    if not hosts:
        out.print("no host with both a window and an AFK bucket: nothing to import")
        return
    verb = "would import" if dry_run else "imported"
    for host in hosts:
        out.print(
            f"{host.host}: {verb} {host.spans} spans from {host.window.events} window and "
            f"{host.afk.events} AFK events: {format_duration(host.active_seconds)} active, "
            f"{format_duration(host.idle_seconds)} idle (device {host.host!r})",
            markup=False,
        )
        if dry_run:
            top = sorted(host.apps.items(), key=lambda kv: -kv[1])[:5]
            for app_name, seconds in top:
                out.print(f"  {app_name}: {format_duration(seconds)} active", markup=False)
