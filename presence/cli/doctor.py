"""`presence doctor`: per capability, the backend chosen and the ones rejected, with the fix."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from presence.cli.context import AppContext
from presence.cli.render import console, print_json
from presence.daemon.session_lock import SessionLock
from presence.health import faults
from presence.health.doctor import diagnose
from presence.install import browser

app = typer.Typer()
"""Top-level command: added to the root app without a group name (cli/app.py)."""


@app.command("doctor")
def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check each capability, the settings file and the database."""
    context: AppContext = ctx.obj
    running = SessionLock(context.paths.lock_file).holder() is not None
    published = faults.fault_file(context.paths.runtime_dir) if running else None
    report = diagnose(context.settings, context.paths, fault_file=published)
    # The browser extension's host (issue 14): install/ is beside health/, so it is asked here.
    report.notes += browser.doctor_notes(context.paths.data_dir, time.time())
    if as_json:
        print_json(report.to_dict())
        return
    out = console()
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("capability")
    table.add_column("backend")
    table.add_column("rejected (reason → fix)")
    for cap in report.capabilities:
        rejected = "\n".join(
            f"{r.name}: {r.reason}" + (f" → {r.hint}" if r.hint else "") for r in cap.rejected
        )
        chosen = cap.name or "[red]unavailable[/red]"
        if cap.forced_by:
            chosen += f" (forced by {cap.forced_by})"
        table.add_row(cap.capability, chosen, rejected or "-")
    out.print(table)
    for line in report.notes:
        out.print(line, markup=False)
    for snap in report.faults:
        out.print(f"daemon: {faults.describe(snap)}", markup=False)
