"""`presence status`: is the daemon running, what is in focus, since when."""

from __future__ import annotations

import socket
import sys
from datetime import datetime
from typing import Annotated

import typer

from presence.cli import status_fast
from presence.cli.context import AppContext
from presence.cli.render import console, print_json, status_text
from presence.cli.watching import enforcement_status, say_enforcement
from presence.core.clock import SystemClock
from presence.core.errors import InputError
from presence.daemon.session_lock import SessionLock
from presence.health import faults
from presence.health.status import daemon_status, offline_state, recording_pid
from presence.settings.files import zone_of

app = typer.Typer()
"""Top-level command: added to the root app without a group name (cli/app.py)."""


def _echo(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _local(when: datetime, context: AppContext) -> str:
    return when.astimezone(zone_of(context.settings)).strftime("%Y-%m-%d %H:%M")


def now_utc() -> datetime:
    return SystemClock().now()


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="text, json, or a status bar's: waybar, i3blocks, polybar (docs/status-bars.md).",
        ),
    ] = "text",
    follow: Annotated[
        bool, typer.Option("--follow", help="Print a line whenever it changes, until stopped.")
    ] = False,
) -> None:
    """Show whether presence is recording, and the current app and state."""
    context: AppContext = ctx.obj
    if fmt not in status_fast.FORMATS:
        raise InputError(
            f"unknown --format {fmt!r}", hint="use one of " + ", ".join(status_fast.FORMATS)
        )
    as_json = as_json or fmt == "json"
    if follow or fmt in status_fast.BARS:  # from the daemon's snapshot (issue 13)
        run_dir = context.paths.runtime_dir
        if follow:
            status_fast.follow("json" if as_json else fmt, run_dir, _echo)
        else:
            _echo(status_fast.render(fmt, status_fast.live(run_dir), now_utc()) + "\n")
        return
    now = SystemClock().now()
    offline = offline_state(context.paths.data_dir)  # said even when the server is away
    if offline.waiting and not as_json:
        since = "?" if offline.offline_since is None else _local(offline.offline_since, context)
        console().print(f"offline since {since}, {offline.waiting} spans waiting", markup=False)
    store = context.store()
    # The database names the daemon recording this device (issue 11); the session lock only
    # says some daemon runs in this session, perhaps on another database.
    holder = recording_pid(store, context.settings.device.name, now, socket.gethostname())
    # The failure counts live in this session's runtime dir: they are shown when the daemon
    # holding this session's lock is the one recording this device.
    here = holder is not None and SessionLock(context.paths.lock_file).holder() == holder
    result = daemon_status(
        store,
        context.settings.device.name,
        holder,
        now,
        faults.fault_file(context.paths.runtime_dir) if here else None,
    )
    if as_json:
        data = result.to_dict()
        data["spans_waiting"] = offline.waiting
        data["offline_since"] = offline.offline_since and offline.offline_since.isoformat()
        data["enforcement"] = enforcement_status(context, now, here)
        print_json(data)
        return
    status_text(result, zone_of(context.settings), now)
    for snap in result.faults:
        console().print(
            f"{'problem' if snap.failing else 'recovered'}: {faults.describe(snap)}", markup=False
        )
    # what the daemon can enforce here, and what failed in the last day (issue 10)
    say_enforcement(context, enforcement_status(context, now, here), zone_of(context.settings))
